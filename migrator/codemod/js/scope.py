"""Where a name is read: the uses of a declared name in the block that declares it.

Plain lexical scope, as the codemod needs it: the block (or the program) holding the declaration,
from the declaration on. A name shadowed in a nested function counts as a use: the site is then
left, never rewritten wrongly.
"""

from __future__ import annotations

from tree_sitter import Node

from .values import text_of


def same(a: Node | None, b: Node) -> bool:
    return a is not None and a.start_byte == b.start_byte and a.end_byte == b.end_byte and a.type == b.type



def uses_of(name: str, declaration: Node) -> list[Node]:
    scope = declaration
    while scope.parent is not None and scope.type not in ("statement_block", "program"):
        scope = scope.parent
    out: list[Node] = []
    stack = [scope]
    while stack:
        current = stack.pop()
        if current.type in ("identifier", "shorthand_property_identifier") and text_of(current) == name \
                and current.start_byte > declaration.end_byte:
            out.append(current)
        stack.extend(current.children)
    return sorted(out, key=lambda n: n.start_byte)


def declaration_of(name: Node) -> tuple[Node, bool] | None:
    """The ``variable_declarator`` that binds the identifier ``name`` in an enclosing block, before
    it, and whether it is a ``const`` (a value that cannot be bound again)."""
    wanted = text_of(name)
    scope = name.parent
    while scope is not None:
        if scope.type in ("statement_block", "program"):
            for statement in scope.children:
                if statement.type not in ("lexical_declaration", "variable_declaration") or statement.end_byte > name.start_byte:
                    continue
                for declarator in statement.children:
                    bound = declarator.child_by_field_name("name")
                    if declarator.type == "variable_declarator" and bound is not None and text_of(bound) == wanted:
                        return declarator, statement.children[0].type == "const"
        scope = scope.parent
    return None
