"""A ``messages`` list built in the same function: what it becomes when it goes to ``input=``.

Responses takes role/content text messages unchanged, so ``messages=history`` becomes
``input=history`` once every message the function puts in the list is accounted for:
- a literal message is translated by the engine, alone; when its shape changes (a tool result
  becomes a ``function_call_output`` item) the literal is rewritten in place;
- the answer's own message appended back (``messages.append(r.choices[0].message)``, or through a
  name bound to it), the tool loop's step, becomes ``messages.extend(r.output)``: the Responses
  way of keeping the turn, function calls included. ``r`` must be a call of the same function
  that is migrated too (the caller makes sure of it).
Its length may be read (``len(history)``) while every dict in it stays the one the code wrote
(history.py). A list from a parameter, passed elsewhere, or receiving anything else is left for a person.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import libcst as cst

from ..errors import MappingError
from ..mapping import translate
from .finish_tests import OUTPUT
from .history import SIZE_CHANGES, own_name, size_read, taken_as_is
from .literals import Holes, NotLiteral, quote_of, rewrite, to_value
from .names import UseVisitor, visit_body
from .reads import chain_of
from .walk import Visitor, walk

_GROWERS = frozenset({"append", "extend", "insert"})
MESSAGE_OF_ANSWER = ["choices", 0, "message"]


@dataclass
class MessagesPlan:
    reason: str | None = None
    replacements: dict[cst.CSTNode, cst.CSTNode] = field(default_factory=dict)
    consumed: set[cst.CSTNode] = field(default_factory=set)
    """Reads of an answer that the list takes whole (the reads planner must not count them)."""
    answers: set[str] = field(default_factory=set)
    """The names of the answers whose message the list takes: their calls must be migrated too."""


class _Uses(UseVisitor):
    def __init__(self, name: str, calls: set[cst.Call]) -> None:
        super().__init__()
        self.name, self.calls = name, calls
        self.appended: list[tuple[cst.Call, cst.BaseExpression]] = []  # (the append call, the message)
        self.lists: list[cst.BaseExpression] = []  # each a list of messages
        self.problems: list[str] = []
        self.sized = False  # ``len(name)`` read somewhere
        self._nested: list[cst.CSTNode] = []  # the nested functions and classes being walked that share the name
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
                if func.attr.value == "extend":
                    self.lists.append(value)
                else:
                    self.appended.append((node, value))
        read = size_read(node, self.name)
        if read is not None:
            self._allowed.add(read)
            self.sized = True
        if node in self.calls:
            for arg in node.args:
                if arg.keyword is not None and arg.keyword.value == "messages" and isinstance(arg.value, cst.Name):
                    self._allowed.add(arg.value)

    def visit_Name(self, node: cst.Name) -> None:
        if not self.is_use(node):
            return
        if node.value == self.name and self._nested:
            self.problems.append(f"`{self.name}` is also used in the body of another function or class, where the codemod does not follow it")
        elif node.value == self.name and node not in self._allowed:
            self.problems.append(f"`{self.name}` is used where the codemod cannot follow it")

    def visit_Param(self, node: cst.Param) -> None:
        if node.name.value == self.name:
            self._allowed.add(node.name)
            self.problems.append(f"`{self.name}` comes from the caller")

    def _enter(self, node: cst.FunctionDef | cst.ClassDef) -> bool:
        if own_name(node, self.name):
            return False
        self._nested.append(node)
        return True

    def _leave(self, node: cst.FunctionDef | cst.ClassDef) -> None:
        if self._nested and self._nested[-1] is node:
            self._nested.pop()

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        return self._enter(node)

    def leave_FunctionDef(self, node: cst.FunctionDef) -> None:
        self._leave(node)

    def visit_ClassDef(self, node: cst.ClassDef) -> bool:
        return self._enter(node)

    def leave_ClassDef(self, node: cst.ClassDef) -> None:
        self._leave(node)


class _Aliases(Visitor):
    """Names bound to an answer's message: ``message = r.choices[0].message``."""

    def __init__(self, answers: set[str]) -> None:
        self.answers = answers
        self.of: dict[str, str] = {}

    def visit_Assign(self, node: cst.Assign) -> None:
        found = chain_of(node.value)
        if found is None or len(node.targets) != 1 or not isinstance(node.targets[0].target, cst.Name):
            return
        base, segments = found
        if isinstance(base, cst.Name) and base.value in self.answers and segments == MESSAGE_OF_ANSWER:
            self.of[node.targets[0].target.value] = base.value

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        return False


def _items(message: Any) -> list[Any] | None:
    try:
        out = translate({"model": "m", "messages": [message]}, to="responses").body
    except MappingError:
        return None
    items = out.get("input")
    return items if isinstance(items, list) else None


def _answer_of(expr: cst.BaseExpression, answers: set[str], aliases: dict[str, str]) -> str | None:
    if isinstance(expr, cst.Name) and expr.value in aliases:
        return aliases[expr.value]
    found = chain_of(expr)
    if found is not None and isinstance(found[0], cst.Name) and found[0].value in answers and found[1] == MESSAGE_OF_ANSWER:
        return found[0].value
    return None


def plan_messages(name: str, function: cst.CSTNode, calls: set[cst.Call], answers: set[str]) -> MessagesPlan:
    """``answers``: the names the function binds to the results of its chat calls."""
    plan = MessagesPlan()
    uses = _Uses(name, calls)
    aliases = _Aliases(answers)
    params = function.params if isinstance(function, cst.FunctionDef) else None
    if params is not None:
        walk(params, uses)
    visit_body(function, uses)
    visit_body(function, aliases)
    if uses.problems:
        return MessagesPlan(uses.problems[0])
    if not uses.lists:
        return MessagesPlan(f"`{name}` is not built in this function")
    literals: list[cst.BaseExpression] = []
    for value in uses.lists:
        if not isinstance(value, cst.List | cst.Tuple):
            return MessagesPlan(f"`{name}` is extended with a list built elsewhere")
        literals.extend(element.value for element in value.elements)
    for call, message in uses.appended:
        answer = _answer_of(message, answers, aliases.of)
        if answer is None:
            literals.append(message)
            continue
        func = call.func
        assert isinstance(func, cst.Attribute)
        base = message if isinstance(message, cst.Name) else cst.Name(answer)
        plan.replacements[call] = call.with_changes(
            func=func.with_changes(attr=cst.Name("extend")),
            args=[call.args[-1].with_changes(value=cst.Attribute(value=base, attr=cst.Name(OUTPUT)))])
        plan.consumed.add(message)
        plan.answers.add(answer)
    if uses.sized and plan.answers:
        return MessagesPlan(SIZE_CHANGES.format(name=name))
    for message in literals:
        holes = Holes(quote=quote_of([message]))
        try:
            value = to_value(message, holes)
        except NotLiteral:
            return MessagesPlan(f"`{name}` receives a message that is not a literal")
        items = _items(value)
        if not isinstance(value, dict) or items is None:
            return MessagesPlan(f"`{name}` receives a message that is not a chat message literal")
        if taken_as_is(items, value):
            continue
        if len(items) != 1:
            return MessagesPlan(f"`{name}` receives a message that becomes several Responses items")
        try:
            plan.replacements[message] = rewrite(items[0], value, message, holes, None)
        except NotLiteral as exc:
            return MessagesPlan(str(exc))
    return plan
