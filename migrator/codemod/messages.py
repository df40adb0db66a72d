"""A ``messages`` list built in the same function: can it go to ``input=`` as it is?

Responses takes role/content messages with text content unchanged, so ``messages=history`` may
become ``input=history`` when every message the function puts in that list is one the engine
carries unchanged. That is proved here from the list's literal, its ``append``/``extend``/``+=``
literals and nothing else: a list that comes from a parameter, is passed elsewhere or receives a
non-literal message is left for a person (tool results and assistant tool calls change shape).
"""

from __future__ import annotations

from typing import Any

import libcst as cst

from ..errors import MappingError
from ..mapping import translate
from .literals import Holes, NotLiteral, to_value

_GROWERS = frozenset({"append", "extend", "insert"})


class _Uses(cst.CSTVisitor):
    def __init__(self, name: str, call: cst.Call) -> None:
        self.name, self.call = name, call
        self.messages: list[cst.BaseExpression] = []  # each a message expression
        self.lists: list[cst.BaseExpression] = []  # each a list of messages
        self.problems: list[str] = []
        self._allowed: set[cst.CSTNode] = set()

    def visit_Assign(self, node: cst.Assign) -> None:
        for target in node.targets:
            if isinstance(target.target, cst.Name) and target.target.value == self.name:
                self._allowed.add(target.target)
                self.lists.append(node.value)

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        if isinstance(node.target, cst.Name) and node.target.value == self.name:
            self._allowed.add(node.target)
            self.lists.append(node.value)

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if isinstance(func, cst.Attribute) and isinstance(func.value, cst.Name) and func.value.value == self.name:
            if func.attr.value in _GROWERS and node.args:
                self._allowed.add(func.value)
                value = node.args[-1].value
                (self.lists if func.attr.value == "extend" else self.messages).append(value)
        if node is self.call:
            for arg in node.args:
                if arg.keyword is not None and arg.keyword.value == "messages" and isinstance(arg.value, cst.Name):
                    self._allowed.add(arg.value)

    def visit_Arg(self, node: cst.Arg) -> None:
        if node.keyword is not None:
            self._allowed.add(node.keyword)  # ``messages=``: a keyword, not a use

    def visit_Name(self, node: cst.Name) -> None:
        if node.value == self.name and node not in self._allowed:
            self.problems.append(f"`{self.name}` is used where the codemod cannot follow it")

    def visit_Param(self, node: cst.Param) -> None:
        if node.name.value == self.name:
            self._allowed.add(node.name)
            self.problems.append(f"`{self.name}` comes from the caller")

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        return False

    def visit_ClassDef(self, node: cst.ClassDef) -> bool:
        return False


def _unchanged(message: Any) -> bool:
    try:
        out = translate({"model": "m", "messages": [message]}, to="responses").body
    except MappingError:
        return False
    return bool(out.get("input") == [message])


def why_not_plain(name: str, function: cst.CSTNode, call: cst.Call) -> str | None:
    """None when ``name`` holds only messages Responses takes unchanged; else the reason."""
    uses = _Uses(name, call)
    body = function.body if isinstance(function, cst.FunctionDef) else function
    params = function.params if isinstance(function, cst.FunctionDef) else None
    if params is not None:
        params.visit(uses)
    for statement in getattr(body, "body", ()):
        statement.visit(uses)
    if uses.problems:
        return uses.problems[0]
    if not uses.lists:
        return f"`{name}` is not built in this function"
    messages: list[cst.BaseExpression] = list(uses.messages)
    for value in uses.lists:
        if not isinstance(value, cst.List | cst.Tuple):
            return f"`{name}` is extended with a list built elsewhere"
        messages.extend(element.value for element in value.elements)
    for message in messages:
        try:
            value = to_value(message, Holes())
        except NotLiteral:
            return f"`{name}` receives a message that is not a literal"
        if not isinstance(value, dict):
            return f"`{name}` receives a message that is not a literal"
        if not _unchanged(value):
            return f"`{name}` receives a message whose shape changes"
    return None
