"""What each install needs: the engine runs on the standard library alone, and every
third-party import of the package is declared where it is needed (run time, or the test extra)."""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# httpx2 is the openai SDK's own client; the adapters import it only when it is there.
OPTIONAL = {"httpx2"}


def _declared() -> tuple[set[str], set[str]]:
    """Top-level names of pyproject's run-time dependencies and of its test extra."""
    tomllib = pytest.importorskip("tomllib")
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]

    def names(reqs: list[str]) -> set[str]:
        return {re.split(r"[<>=!~;\[ ]", r, maxsplit=1)[0].strip().lower().replace("-", "_") for r in reqs}

    return names(project["dependencies"]), names(project["optional-dependencies"]["test"])


def _third_party_imports() -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for path in (ROOT / "migrator").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                tops = [a.name.split(".")[0] for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                tops = [node.module.split(".")[0]]
            else:
                continue
            for top in tops:
                if top not in sys.stdlib_module_names and top != "migrator":
                    found.setdefault(top, set()).add(str(path.relative_to(ROOT)))
    return found


def test_every_third_party_import_is_a_declared_runtime_dependency() -> None:
    runtime, _ = _declared()
    imports = _third_party_imports()
    undeclared = {name: files for name, files in imports.items() if name not in runtime | OPTIONAL}
    assert undeclared == {}
    assert "pydantic" in imports and "starlette" in imports  # the scan sees the server stack


def test_jsonschema_is_a_runtime_dependency_of_replay_only() -> None:
    """``migrator replay`` checks structured output and tool arguments against the requested schemas;
    nothing else imports jsonschema (the engine reads mappings/ without it)."""
    runtime, _ = _declared()
    assert "jsonschema" in runtime
    assert _third_party_imports()["jsonschema"] == {"migrator/replay/normalize.py"}


@pytest.mark.slow
def test_the_engine_loads_only_the_standard_library() -> None:
    """A gateway that embeds the engine (translate both ways, a stream) pays for no third-party module."""
    code = (
        "import sys\n"
        "before = set(sys.modules)\n"
        "import migrator, migrator.streams\n"
        "migrator.translate({'model': 'm', 'input': [{'role': 'user', 'content': [{'type': 'input_text', 'text': 'hi'},"
        " {'type': 'input_image', 'image_url': 'https://x/y.png'}]}]}, to='chat')\n"
        "migrator.translate({'model': 'm', 'messages': [{'role': 'user', 'content': 'hi'}]}, to='responses')\n"
        "chunks = [{'id': 'c', 'object': 'chat.completion.chunk', 'created': 1, 'model': 'm',"
        " 'choices': [{'index': 0, 'delta': {'role': 'assistant', 'content': 'hi'}, 'finish_reason': 'stop'}]}]\n"
        "list(migrator.translate_stream(chunks, to='responses'))\n"
        "new = {m.split('.')[0] for m in set(sys.modules) - before}\n"
        "print(sorted(n for n in new if n not in sys.stdlib_module_names and n != 'migrator'))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout.replace("'", '"')) == []
