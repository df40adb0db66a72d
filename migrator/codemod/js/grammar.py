"""The tree-sitter parsers, built once per process and per grammar.

tree-sitter keeps every byte of the source in the tree's ranges, so the codemod edits by splicing
byte ranges: whatever it does not rewrite stays as it was written (quotes, commas, comments).
"""

from __future__ import annotations

from functools import cache
from typing import Literal

from tree_sitter import Language, Node, Parser, Query, QueryCursor, Tree

Grammar = Literal["javascript", "typescript", "tsx"]


SITES = ("call_expression", "new_expression", "import_statement", "variable_declarator")
"""The node kinds the codemod starts from (found by one native query, not a walk in Python)."""
TYPED = ("required_parameter", "optional_parameter", "public_field_definition")
"""TypeScript's typed parameters and class fields (``client: OpenAI``)."""


@cache
def language(grammar: Grammar) -> Language:
    if grammar == "javascript":
        import tree_sitter_javascript

        return Language(tree_sitter_javascript.language())
    import tree_sitter_typescript

    return Language(tree_sitter_typescript.language_tsx() if grammar == "tsx" else tree_sitter_typescript.language_typescript())


@cache
def parser(grammar: Grammar) -> Parser:
    return Parser(language(grammar))


@cache
def _query(grammar: Grammar) -> Query:
    kinds = SITES + (TYPED if grammar != "javascript" else ())
    made: Query = Query(language(grammar), " ".join(f"({kind}) @{kind}" for kind in kinds))
    return made


def index(root: Node, grammar: Grammar) -> dict[str, list[Node]]:
    """Every node of the kinds in ``SITES`` (and ``TYPED``), by kind, in source order."""
    found = QueryCursor(_query(grammar)).captures(root)
    return {kind: sorted(nodes, key=lambda n: n.start_byte) for kind, nodes in found.items()}


def parse(data: bytes, grammar: Grammar) -> Tree:
    return parser(grammar).parse(data)


def first_error(node: Node) -> Node | None:
    """The first ERROR or MISSING node, depth first (None when the tree is clean)."""
    if not node.has_error:
        return None
    if node.is_error or node.is_missing:
        return node
    for child in node.children:
        found = first_error(child)
        if found is not None:
            return found
    return node


def check(text: str, grammar: Grammar) -> tuple[int, int, str] | None:
    """``(line, column, message)`` of the first place ``text`` does not parse as ``grammar``."""
    data = text.encode("utf-8")
    bad = first_error(parse(data, grammar).root_node)
    if bad is None:
        return None
    row, column = bad.start_point
    if bad.is_missing:
        return row + 1, column, f"expected `{bad.type}`"
    snippet = data[bad.start_byte:bad.end_byte][:20].decode("utf-8", "replace")
    return row + 1, column, f"unexpected `{snippet}`" if snippet else "unexpected end of input"
