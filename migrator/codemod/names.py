"""Which ``Name`` nodes are reads of a variable: not an attribute's name, a keyword or an ``as`` binding.

``self.messages`` holds a ``Name("messages")`` and ``create(stream=True)`` a ``Name("stream")``:
every visitor that follows a variable must pass them over, so they share this base.
"""

from __future__ import annotations

import libcst as cst

from .walk import Visitor, walk


class UseVisitor(Visitor):
    def __init__(self) -> None:
        self.not_uses: set[cst.CSTNode] = set()

    def visit_Attribute_attr(self, node: cst.Attribute) -> None:
        self.not_uses.add(node.attr)

    def visit_Arg_keyword(self, node: cst.Arg) -> None:
        if node.keyword is not None:
            self.not_uses.add(node.keyword)

    def visit_ImportAlias_name(self, node: cst.ImportAlias) -> None:
        self.not_uses.add(node.name)

    def visit_AsName(self, node: cst.AsName) -> None:
        self.not_uses.add(node.name)  # ``with … as r``, ``import … as r``, ``except … as r``: bindings

    def is_use(self, node: cst.Name) -> bool:
        return node not in self.not_uses


def visit_body(function: cst.CSTNode, visitor: Visitor) -> None:
    """Run ``visitor`` over the statements of a function (or of the module): its own scope's code,
    not its signature, decorators or name."""
    body = function.body if isinstance(function, cst.FunctionDef) else function
    for statement in getattr(body, "body", ()):
        walk(statement, visitor)


def dotted(node: cst.BaseExpression) -> str | None:
    """``openai.OpenAI`` → ``"openai.OpenAI"``; None for anything but names and attributes."""
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        head = dotted(node.value)
        return None if head is None else f"{head}.{node.attr.value}"
    return None
