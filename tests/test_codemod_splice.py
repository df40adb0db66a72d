"""The rewritten module's code printed by splicing the changed statements equals printing it whole."""

from __future__ import annotations

import libcst as cst
import pytest

from migrator.codemod.splice import spliced


class _Rename(cst.CSTTransformer):
    """Renames ``target``, entering only the nodes that hold it (as the codemod's transformer does:
    every other node is kept, not rebuilt)."""

    def __init__(self, module: cst.Module) -> None:
        super().__init__()
        self.module = module

    def on_visit(self, node: cst.CSTNode) -> bool:
        return "target" in self.module.code_for_node(node)

    def leave_Name(self, original_node: cst.Name, updated_node: cst.Name) -> cst.Name:
        return updated_node.with_changes(value="renamed") if original_node.value == "target" else updated_node


def _both(code: str) -> tuple[str | None, str]:
    module = cst.parse_module(code)
    new = module.visit(_Rename(module))
    return spliced(code, module, new), new.code


NESTED = (
    "import os\n\n\n"
    "class Box:\n"
    "    # a comment\n"
    "    def get(self):\n"
    "        if os.environ:\n"
    "            return target  # read\n"
    "        return None\n\n"
    "    def put(self):\n"
    "        return 1\n\n\n"
    "x = target\n"
)


@pytest.mark.parametrize("code", [
    NESTED,
    NESTED.replace("\n", "\r\n"),
    NESTED.replace("    ", "\t"),
    "def f():\n    a = 1\n    b = target\n\n\ndef g():\n    a = 1\n    b = other\n",
    "@decorator(target)\ndef f():\n    pass\n",
    "if True:\n    y = 1\nelse:\n    y = target\n",
    "def f(): return target\n",
])
def test_splice_prints_what_the_whole_module_prints(code: str) -> None:
    text, whole = _both(code)
    assert whole != code
    assert text == whole


def test_a_statement_found_twice_is_placed_by_its_enclosing_statement() -> None:
    code = "def f():\n    x = target\n\n\ndef g():\n    x = target\n    y = 2\n"
    text, whole = _both(code)
    assert text == whole


def test_a_top_level_statement_found_twice_leaves_the_printing_to_the_caller() -> None:
    code = "x = target\nx = target\n"
    assert _both(code)[0] is None


def test_a_module_without_its_trailing_newline_is_printed_whole() -> None:
    text, whole = _both("x = target")
    assert text is None and whole == "x = renamed"


def test_a_module_with_a_header_comment_is_spliced() -> None:
    code = "# header\n\nimport os\n\n\ndef f():\n    return target\n\n\ndef g():\n    return os\n"
    module = cst.parse_module(code)
    new = module.visit(_Rename(module))
    assert module.header and new.header is not module.header  # the transformer rebuilt the tuple
    assert spliced(code, module, new) == new.code
