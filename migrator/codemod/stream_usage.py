"""A stream loop that also takes the usage chunk (``stream_options={"include_usage": True}``).

With ``include_usage``, Chat sends the usage on one last chunk and ``chunk.usage`` is None on every
other; Responses reports it on the terminal event, ``response.completed`` (or ``response.incomplete``
when the answer was cut), as ``event.response.usage``. The loop keeps its output when each of its
statements either takes the usage only when there is one (``if chunk.usage: …``) or reads the text
delta: the usage statements go under a test for the terminal events with ``chunk.usage`` read as
``chunk.response.usage`` (fields renamed by the ``chat.usage`` table), the text statements under the
text-delta test. A name the usage is kept in is followed through the function, its reads renamed by
the same table. A ``chunk.choices and …`` guard before the delta read goes: every text-delta event
has its text.
"""

from __future__ import annotations

import libcst as cst

from .literals import string_value
from .names import visit_body
from .reads import NameChains, ReadPlan, Segment, Uses, chain_of, plan_reads, rebuild, rewrite_segments, spelled
from .stream_parts import DELTA_CONTENT
from .walk import Visitor, walk

TERMINAL = ("response.completed", "response.incomplete")
"""The events that carry the finished Response, and with it the usage."""
_USAGE: list[Segment] = ["usage"]


def asks_usage(call: cst.Call) -> bool:
    """``stream_options={"include_usage": True}``, as a literal: without it Chat's ``chunk.usage`` is
    always None, and a loop that reads the usage Responses always sends would do what it never did."""
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value == "stream_options" and isinstance(arg.value, cst.Dict):
            return any(isinstance(e, cst.DictElement) and string_value(e.key) == "include_usage"
                       and isinstance(e.value, cst.Name) and e.value.value == "True" for e in arg.value.elements)
    return False


def _statements(block: cst.BaseSuite) -> list[cst.BaseStatement]:
    if isinstance(block, cst.IndentedBlock):
        return list(block.body)
    assert isinstance(block, cst.SimpleStatementSuite)
    return [cst.SimpleStatementLine(list(block.body))]


def _is_usage(node: cst.BaseExpression, var: str) -> bool:
    found = chain_of(node)
    return found is not None and isinstance(found[0], cst.Name) and found[0].value == var and found[1] == _USAGE


def _usage_test(statement: cst.BaseStatement, var: str) -> bool:
    """``if chunk.usage:`` / ``if chunk.usage is not None:`` with no ``else``: runs on the usage chunk only."""
    if not isinstance(statement, cst.If) or statement.orelse is not None:
        return False
    test = statement.test
    if isinstance(test, cst.Comparison) and len(test.comparisons) == 1:
        target = test.comparisons[0]
        if not (isinstance(target.operator, cst.IsNot) and isinstance(target.comparator, cst.Name)
                and target.comparator.value == "None"):
            return False
        test = test.left
    return _is_usage(test, var)


def _without_choices_guard(test: cst.BaseExpression, var: str) -> cst.BaseExpression:
    """``chunk.choices and <rest>`` → ``<rest>``: a text-delta event always has its text."""
    if isinstance(test, cst.BooleanOperation) and isinstance(test.operator, cst.And):
        left = chain_of(test.left)
        if left is not None and isinstance(left[0], cst.Name) and left[0].value == var and left[1] == ["choices"]:
            return test.right
    return test


def plan_usage_loop(loop: cst.For, var: str, function: cst.CSTNode, text_delta: str, include_usage: bool) -> ReadPlan | None:
    """None when the loop does not read ``<var>.usage`` (the plain stream loop rule decides it);
    ``include_usage``: the call asks for the usage chunk (``asks_usage``)."""
    statements = _statements(loop.body)
    reads = NameChains(var)
    walk(loop.body, reads)
    if not any(segments[:1] == _USAGE for _, segments in reads.chains):
        return None
    plan = ReadPlan()
    if not include_usage:
        plan.blockers.append(f"the stream's loop reads `{var}.usage`, which is always None without "
                             "stream_options={\"include_usage\": True}; Responses always sends it, on the terminal event")
        return plan
    usage_part: list[cst.BaseStatement] = []
    text_part: list[cst.BaseStatement] = []
    kept_in: list[str] = []
    guards: set[cst.CSTNode] = set()  # ``chunk.choices and …`` tests, each left as its right operand
    replacements: dict[cst.CSTNode, cst.CSTNode] = {}
    for statement in statements:
        chains = NameChains(var)
        walk(statement, chains)
        if chains.bare:
            plan.blockers.append(f"the stream's loop uses the chunk `{var}` whole")
        elif _usage_test(statement, var) and all(segments[:1] == _USAGE for _, segments in chains.chains):
            assert isinstance(statement, cst.If)
            names, whole = _whole_usage(statement, var)
            for node, segments in chains.chains:
                new = _USAGE if node in whole else rewrite_segments(segments)
                if isinstance(new, str):
                    plan.blockers.append(new)
                else:
                    replacements[node] = rebuild(cst.Name(var), ["response", *new])
            kept_in += names
            usage_part.append(statement)
        elif chains.chains and all(segments == DELTA_CONTENT or (segments == ["choices"] and node in _guards(statement, var).values())
                                   for node, segments in chains.chains):
            for node, segments in chains.chains:
                if segments == DELTA_CONTENT:
                    replacements[node] = cst.Attribute(value=cst.Name(var), attr=cst.Name("delta"))
            guards.update(_guards(statement, var))
            text_part.append(statement)
        elif any(segments[:1] == _USAGE for _, segments in chains.chains):
            plan.blockers.append(f"`{var}.usage` is read outside an `if {var}.usage:` test (Chat sends None on every chunk "
                                 "but the last, Responses sends no such chunk)")
        else:
            others = [spelled(segments) for _, segments in chains.chains if segments != DELTA_CONTENT]
            what = f"reads `{var}.{others[0]}`" if others else "does work for every chunk"
            plan.blockers.append(f"besides the usage and the text delta, the stream's loop {what}, which has no counterpart "
                                 "on the events that carry them")
        if plan.blockers:
            return plan
    for name in kept_in:
        plan.merge(_kept_usage(name, var, function))
    if plan.blockers:
        return plan
    replacer = _Replace({**replacements, **plan.replacements}, guards)  # a kept usage read inside the loop too
    branches = [(_type_test(var, TERMINAL), usage_part), (_type_test(var, (text_delta,)), text_part)]
    built: cst.If | cst.Else | None = None
    for test, body in reversed([branch for branch in branches if branch[1]]):
        block = cst.IndentedBlock(body=[_replaced(statement, replacer) for statement in body])
        built = cst.If(test=test, body=block, orelse=built)
    assert isinstance(built, cst.If)
    new_body = loop.body.with_changes(body=[built]) if isinstance(loop.body, cst.IndentedBlock) else cst.IndentedBlock(body=[built])
    plan.replacements[loop] = loop.with_changes(body=new_body)
    return plan


def _guards(statement: cst.BaseStatement, var: str) -> dict[cst.CSTNode, cst.CSTNode]:
    """An ``if``'s ``chunk.choices and …`` test → its ``chunk.choices``, the one read of ``choices`` that goes."""
    if isinstance(statement, cst.If) and statement.orelse is None and isinstance(statement.test, cst.BooleanOperation) \
            and _without_choices_guard(statement.test, var) is not statement.test:
        return {statement.test: statement.test.left}
    return {}


def _type_test(var: str, types: tuple[str, ...]) -> cst.BaseExpression:
    event_type = cst.Attribute(value=cst.Name(var), attr=cst.Name("type"))
    if len(types) == 1:
        return cst.Comparison(event_type, [cst.ComparisonTarget(cst.Equal(), cst.SimpleString(f'"{types[0]}"'))])
    values = cst.Tuple([cst.Element(cst.SimpleString(f'"{t}"')) for t in types])
    return cst.Comparison(event_type, [cst.ComparisonTarget(cst.In(), values)])


class _UsageAssigns(Visitor):
    def __init__(self, var: str) -> None:
        self.var = var
        self.names: list[str] = []
        self.values: set[cst.CSTNode] = set()

    def visit_Assign(self, node: cst.Assign) -> None:
        if _is_usage(node.value, self.var) and all(isinstance(t.target, cst.Name) for t in node.targets):
            self.names.extend(t.target.value for t in node.targets if isinstance(t.target, cst.Name))
            self.values.add(node.value)


def _whole_usage(statement: cst.If, var: str) -> tuple[list[str], set[cst.CSTNode]]:
    """The names a usage statement keeps ``chunk.usage`` in (``usage = chunk.usage``), and the reads of
    the whole usage that may stay whole: those assignments' values and the statement's test."""
    assigns = _UsageAssigns(var)
    walk(statement, assigns)
    test = statement.test.left if isinstance(statement.test, cst.Comparison) else statement.test
    return assigns.names, assigns.values | {test}


def _kept_usage(name: str, var: str, function: cst.CSTNode) -> ReadPlan:
    """``usage`` holds Chat's usage or None: every read of it is renamed by the usage table."""
    uses = Uses(name, list(_USAGE))
    visit_body(function, uses)
    plan = ReadPlan()
    if not all((isinstance(value, cst.Name) and value.value == "None") or _is_usage(value, var) for value in uses.assigned_values):
        plan.blockers.append(f"`{name}` holds the usage and is also assigned something else")
    if uses.bare:
        plan.blockers.append(f"`{name}` holds the usage and is used whole (its field names differ)")
    plan.merge(plan_reads(uses.chains, held=list(_USAGE)))
    return plan


def _replaced(statement: cst.BaseStatement, replacer: _Replace) -> cst.BaseStatement:
    new = statement.visit(replacer)
    assert isinstance(new, cst.BaseStatement)
    return new


class _Replace(cst.CSTTransformer):
    def __init__(self, nodes: dict[cst.CSTNode, cst.CSTNode], guards: set[cst.CSTNode]) -> None:
        self.nodes, self.guards = nodes, guards

    def on_leave(self, original_node: cst.CSTNode, updated_node: cst.CSTNode) -> cst.CSTNode:  # type: ignore[override]
        if original_node in self.guards and isinstance(updated_node, cst.BooleanOperation):
            return updated_node.right  # ``chunk.choices and <test>`` → ``<test>``, its reads already renamed
        return self.nodes.get(original_node, updated_node)
