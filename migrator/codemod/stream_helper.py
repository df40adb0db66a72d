"""The SDK's streaming helper: ``with client.chat.completions.stream(…) as stream:`` → ``responses.stream(…)``.

Both helpers yield typed events, but with other names: each chat event type the loop tests has a
Responses one, and the attributes read under that test are renamed with it (the pinned SDK's
``lib/streaming/chat/_events.py`` and ``lib/streaming/responses/_events.py``; a test checks every
pair below against those models). ``get_final_completion()`` becomes ``get_final_response()``,
whose result is read like any completion. An event read outside an ``if event.type == "…":`` test,
or of a type with no counterpart (``chunk``, log probabilities), leaves the site for a person.
"""

from __future__ import annotations

import libcst as cst

from .finish_tests import compared
from .literals import string_value
from .names import UseVisitor, visit_body
from .reads import ReadPlan, chain_of
from .walk import Visitor, walk

EVENTS: dict[str, tuple[str, dict[str, str]]] = {
    "content.delta": ("response.output_text.delta", {"delta": "delta", "snapshot": "snapshot"}),
    "content.done": ("response.output_text.done", {"content": "text", "parsed": "parsed"}),
    "refusal.delta": ("response.refusal.delta", {"delta": "delta"}),
    "refusal.done": ("response.refusal.done", {"refusal": "refusal"}),
    "tool_calls.function.arguments.delta": ("response.function_call_arguments.delta",
                                            {"arguments_delta": "delta", "arguments": "snapshot"}),
    "tool_calls.function.arguments.done": ("response.function_call_arguments.done", {"arguments": "arguments"}),
}
"""Chat helper event type → (Responses helper event type, attribute renames)."""
FINAL = {"get_final_completion": "get_final_response", "until_done": "until_done"}


class _Events(UseVisitor):
    def __init__(self, var: str) -> None:
        super().__init__()
        self.var = var
        self.replacements: dict[cst.CSTNode, cst.CSTNode] = {}
        self.blockers: list[str] = []
        self._types: list[str | None] = []
        self._kind: dict[cst.If, str | None] = {}

    def visit_If(self, node: cst.If) -> None:
        condition = node.test
        while isinstance(condition, cst.BooleanOperation) and isinstance(condition.operator, cst.And):
            condition = condition.left  # ``event.type == "content.delta" and event.delta``: the type test leads
        test = compared(condition) if isinstance(condition, cst.Comparison) else None
        kind: str | None = None
        if test is not None and cst.Module([]).code_for_node(test[0]) == f"{self.var}.type" and not test[2]:
            kind = test[1]
            target = EVENTS.get(kind)
            if target is None:
                self.blockers.append(f"the `{kind}` event has no counterpart among the Responses helper's events")
            else:
                literal = condition.comparisons[0].comparator if isinstance(condition, cst.Comparison) else None
                if literal is not None and string_value(literal) == kind:
                    self.replacements[literal] = cst.SimpleString(f'"{target[0]}"')
                else:
                    self.blockers.append("the event type is tested in a form the codemod cannot rewrite")
        self._kind[node] = kind

    def visit_If_test(self, node: cst.If) -> None:
        self._types.append(self._kind.get(node))  # known in the rest of the condition and in the body,

    def leave_If_test(self, node: cst.If) -> None:
        self._types.pop()

    def visit_If_body(self, node: cst.If) -> None:
        self._types.append(self._kind.get(node))  # not in the else branch

    def leave_If_body(self, node: cst.If) -> None:
        self._types.pop()

    def visit_Attribute(self, node: cst.Attribute) -> bool:
        found = chain_of(node)
        if found is None or not (isinstance(found[0], cst.Name) and found[0].value == self.var) or not found[1]:
            return True
        head = found[1][0]
        if head == "type":
            return False
        kind = next((k for k in reversed(self._types) if k is not None), None)
        renames = EVENTS[kind][1] if kind in EVENTS else None
        if renames is None or not isinstance(head, str) or head not in renames:
            self.blockers.append(f"`{self.var}.{head}` is read where the event's type is not known")
            return False
        self.replacements[_first(node, self.var)] = cst.Attribute(value=cst.Name(self.var), attr=cst.Name(renames[head]))
        return False

    def visit_Name(self, node: cst.Name) -> None:
        if self.is_use(node) and node.value == self.var:
            self.blockers.append(f"the event `{self.var}` is used whole")


def _first(node: cst.BaseExpression, var: str) -> cst.BaseExpression:
    """``event.delta.strip`` → the ``event.delta`` node inside it."""
    current = node
    while isinstance(current, cst.Attribute) and not (isinstance(current.value, cst.Name) and current.value.value == var):
        current = current.value
    return current


class _StreamUses(UseVisitor):
    def __init__(self, name: str) -> None:
        super().__init__()
        self.name = name
        self.loops: list[cst.For] = []
        self.finals: list[tuple[cst.Attribute, str]] = []
        self.blockers: list[str] = []
        self._ok: set[cst.CSTNode] = set()

    def visit_For(self, node: cst.For) -> None:
        if isinstance(node.iter, cst.Name) and node.iter.value == self.name and isinstance(node.target, cst.Name):
            self.loops.append(node)
            self._ok.add(node.iter)

    def visit_Attribute(self, node: cst.Attribute) -> None:
        if isinstance(node.value, cst.Name) and node.value.value == self.name:
            if node.attr.value in FINAL:
                self.finals.append((node, FINAL[node.attr.value]))
                self._ok.add(node.value)
            else:
                self.blockers.append(f"`{self.name}.{node.attr.value}` has no counterpart on the Responses stream helper")

    def visit_Name(self, node: cst.Name) -> None:
        if self.is_use(node) and node.value == self.name and node not in self._ok:
            self.blockers.append(f"the stream `{self.name}` is used whole")


def plan_helper_stream(name: str, function: cst.CSTNode) -> tuple[ReadPlan, list[str]]:
    """The events loop's rewrites, and the names bound to the final completion (read as completions)."""
    plan = ReadPlan()
    uses = _StreamUses(name)
    visit_body(function, uses)
    plan.blockers.extend(uses.blockers)
    for loop in uses.loops:
        assert isinstance(loop.target, cst.Name)
        events = _Events(loop.target.value)
        walk(loop.body, events)
        plan.blockers.extend(events.blockers)
        plan.replacements.update(events.replacements)
    for node, new in uses.finals:
        plan.replacements[node] = node.with_changes(attr=cst.Name(new))
    finals = _bound_to_finals(name, function)
    if len(finals) < sum(1 for _, new in uses.finals if new == FINAL["get_final_completion"]):
        plan.blockers.append("the final completion is read where the codemod cannot follow it; bind it to a name")
    if not uses.loops and not finals:
        plan.blockers.append(f"the stream `{name}` is neither looped over nor finished")
    return plan, finals


def _bound_to_finals(name: str, function: cst.CSTNode) -> list[str]:
    """``final = stream.get_final_completion()`` → ``["final"]``."""
    finals = _Finals(name)
    visit_body(function, finals)
    return finals.names


class _Finals(Visitor):
    def __init__(self, stream: str) -> None:
        self.stream = stream
        self.names: list[str] = []

    def visit_Assign(self, node: cst.Assign) -> None:
        value = node.value
        if isinstance(value, cst.Call) and isinstance(value.func, cst.Attribute) and value.func.attr.value == "get_final_completion" \
                and isinstance(value.func.value, cst.Name) and value.func.value.value == self.stream \
                and len(node.targets) == 1 and isinstance(node.targets[0].target, cst.Name):
            self.names.append(node.targets[0].target.value)
