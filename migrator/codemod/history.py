"""A conversation kept by hand in a list (``history.append({"role": "assistant", "content": reply})``).

The engine writes an earlier assistant text turn as ``{"type": "message", "role": "assistant",
"content": …}``, because strict servers (llama.cpp) refuse it untagged. The Responses API itself
takes the untagged dict (the SDK's ``EasyInputMessageParam`` makes ``type`` optional), so a literal
that the engine changes by that tag alone goes to ``input`` as it is written: the list then holds
the very dicts it held under Chat, and the code that appends them needs no edit.

Because those dicts do not change, the list's length means what it meant, and ``len(history)`` is
a use the codemod can follow. It stops meaning that once an answer's own message appended to the
list becomes ``extend(r.output)``: a turn is then one item or several (reasoning, function calls).
"""

from __future__ import annotations

from typing import Any

import libcst as cst

from .walk import Visitor, walk

_TAG, _MESSAGE = "type", "message"
"""The tag the engine spells out on an assistant turn and ``EasyInputMessageParam`` leaves optional."""


def taken_as_is(items: list[Any], message: Any) -> bool:
    """Whether the engine's ``items`` for one chat ``message`` literal are that literal, to Responses."""
    if items == [message]:
        return True
    if len(items) != 1 or type(items[0]) is not dict or type(message) is not dict or _TAG in message:
        return False
    item = items[0]
    return item.get(_TAG) == _MESSAGE and len(item) == len(message) + 1 and all(
        key == _TAG or (key in message and message[key] == value) for key, value in item.items())


def size_read(call: cst.Call, name: str) -> cst.Name | None:
    """The ``name`` read by ``len(name)``; None for any other call."""
    func, args = call.func, call.args
    if not (isinstance(func, cst.Name) and func.value == "len" and len(args) == 1 and args[0].keyword is None
            and not args[0].star and isinstance(args[0].value, cst.Name) and args[0].value.value == name):
        return None
    return args[0].value


SIZE_CHANGES = "`len({name})` is read, and the answer appended to it would go in as its output items, which changes the count"
"""Why a list whose length is read stays left once an answer's message goes in as ``r.output``."""


class _Bindings(Visitor):
    """The names a function or class body binds for itself, and those it declares global or nonlocal."""

    def __init__(self, top: cst.CSTNode) -> None:
        self.top = top
        self.bound: set[str] = set()
        self.declared: set[str] = set()

    def _target(self, target: cst.BaseExpression) -> None:
        if isinstance(target, cst.Name):
            self.bound.add(target.value)
        elif isinstance(target, cst.Tuple | cst.List):
            for element in target.elements:
                self._target(element.value)
        elif isinstance(target, cst.StarredElement):
            self._target(target.value)

    def visit_Param(self, node: cst.Param) -> None:
        self.bound.add(node.name.value)

    def visit_AssignTarget(self, node: cst.AssignTarget) -> None:
        self._target(node.target)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        self._target(node.target)

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        self._target(node.target)

    def visit_For(self, node: cst.For) -> None:
        self._target(node.target)

    def visit_AsName(self, node: cst.AsName) -> None:
        self._target(node.name)

    def visit_NamedExpr(self, node: cst.NamedExpr) -> None:
        self._target(node.target)

    def visit_Global(self, node: cst.Global) -> None:
        self.declared.update(item.name.value for item in node.names)

    def visit_Nonlocal(self, node: cst.Nonlocal) -> None:
        self.declared.update(item.name.value for item in node.names)

    def _scope(self, node: cst.FunctionDef | cst.ClassDef | cst.Lambda) -> bool:
        if node is self.top:
            return True
        if not isinstance(node, cst.Lambda):
            self.bound.add(node.name.value)  # ``def history(): …`` binds the name here; its body is its own
        return False

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        return self._scope(node)

    def visit_ClassDef(self, node: cst.ClassDef) -> bool:
        return self._scope(node)

    def visit_Lambda(self, node: cst.Lambda) -> bool:
        return self._scope(node)


def own_name(scope: cst.FunctionDef | cst.ClassDef, name: str) -> bool:
    """Whether ``name`` in ``scope``'s body is a variable of its own, not the enclosing code's.

    Python makes a name local to a function that binds it anywhere (a parameter, an assignment, a
    loop or ``with`` target) unless the function declares it ``global`` or ``nonlocal``; a nested
    function that binds ``history`` never touches the enclosing list, one that only calls
    ``history.append(…)`` does."""
    bindings = _Bindings(scope)
    walk(scope, bindings)
    return name in bindings.bound and name not in bindings.declared
