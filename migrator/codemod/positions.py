"""Where each site stands in the source: line and column, without libcst's position metadata.

``PositionProvider`` regenerates the whole module with bookkeeping on every node: more than the
rest of the codemod's analysis put together. A site's own code, printed by itself, stands in the
source exactly as printed (libcst round-trips byte for byte), and the finder meets the sites in
source order, so each is found by a forward search from the previous one, passing over copies in
comments (old code commented out above the new is common).
"""

from __future__ import annotations

import libcst as cst


class Located:
    __slots__ = ("column", "indent", "line")

    def __init__(self, line: int, column: int, indent: str) -> None:
        self.line, self.column, self.indent = line, column, indent


def locate(code: str, module: cst.Module, nodes: list[cst.CSTNode]) -> dict[cst.CSTNode, Located]:
    """1-based line, 0-based column and the indentation of the line, for each node (in source order)."""
    found: dict[cst.CSTNode, Located] = {}
    cursor = 0
    for node in nodes:
        # Only the first line: printed alone, a node's continuation lines lose the indentation of
        # the block around it (libcst stores it relative), so they would not match the source.
        text = module.code_for_node(node).split("\n", 1)[0]
        at = _in_code(code, text, cursor)
        if at < 0:
            at = max(_in_code(code, text, 0), code.find(text), 0)
        start = code.rfind("\n", 0, at) + 1
        line_text = code[start:at]
        indent = line_text[: len(line_text) - len(line_text.lstrip(" \t"))]
        found[node] = Located(code.count("\n", 0, at) + 1, at - start, indent)
        cursor = at + 1
    return found


def _in_code(code: str, text: str, start: int) -> int:
    """The first occurrence of ``text`` from ``start`` that is not in a comment; -1 if none."""
    at = code.find(text, start)
    while at >= 0 and "#" in code[code.rfind("\n", 0, at) + 1: at]:
        at = code.find(text, at + 1)
    return at
