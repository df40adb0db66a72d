"""A streamed result's loop: chunks with ``.choices[0].delta.content`` → events with ``.delta``.

A Responses stream yields typed events, not chunks, and only ``response.output_text.delta`` events
carry text. The shape rewritten is the one the study found in most files: ``for chunk in stream:``
(or ``async for``) whose body reads the text delta and nothing else of the chunk. The body is put
under ``if chunk.type == "response.output_text.delta":`` and each read becomes ``chunk.delta``. A
body that also does other work (counting chunks, reading ``finish_reason`` or usage) would run less
often under that guard: that fix is unsafe. A loop that skips the chunks without a choice first, or
reads the text through a name, is read by stream_parts.py. Anything else in the loop leaves the site
for a person.
"""

from __future__ import annotations

import libcst as cst

from .names import UseVisitor, visit_body
from .reads import NameChains, ReadPlan, spelled
from .stream_parts import DELTA_CONTENT, loop_parts
from .stream_usage import plan_usage_loop
from .walk import walk

TEXT_DELTA = "response.output_text.delta"
"""The type of the event that carries output text (``ResponseTextDeltaEvent`` in the SDK)."""


class _Loops(UseVisitor):
    def __init__(self, name: str) -> None:
        super().__init__()
        self.name = name
        self.loops: list[cst.For] = []
        self.other_uses = 0
        self._iters: set[cst.CSTNode] = set()
        self._targets: set[cst.CSTNode] = set()

    def visit_For(self, node: cst.For) -> None:
        if isinstance(node.iter, cst.Name) and node.iter.value == self.name:
            self._iters.add(node.iter)
            self.loops.append(node)

    def visit_AssignTarget(self, node: cst.AssignTarget) -> None:
        self._targets.add(node.target)

    def visit_Name(self, node: cst.Name) -> None:
        if not self.is_use(node):
            return
        if node.value == self.name and node not in self._iters and node not in self._targets:
            self.other_uses += 1

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        return False


def plan_stream(name: str, function: cst.CSTNode, include_usage: bool = False) -> ReadPlan:
    plan = ReadPlan()
    loops = _Loops(name)
    visit_body(function, loops)
    if loops.other_uses or len(loops.loops) != 1:
        plan.blockers.append(f"the stream `{name}` is used other than by one `for` loop over its chunks")
        return plan
    loop = loops.loops[0]
    if not isinstance(loop.target, cst.Name):
        plan.blockers.append("the stream's loop unpacks its chunks")
        return plan
    var = loop.target.value
    with_usage = plan_usage_loop(loop, var, function, TEXT_DELTA, include_usage)
    if with_usage is not None:
        return with_usage
    statements = list(loop.body.body) if isinstance(loop.body, cst.IndentedBlock) else [loop.body]
    parts = loop_parts(var, statements, function)
    if isinstance(parts, str):
        plan.blockers.append(parts)
        return plan
    every_statement_reads = True
    delta_reads: list[cst.BaseExpression] = []
    for statement in statements:
        if statement is parts.guard:
            continue
        reads = NameChains(var)
        walk(statement, reads)
        reads.chains = [(node, segments) for node, segments in reads.chains if node not in parts.replacements]
        others = [spelled(segments) for _, segments in reads.chains if segments != DELTA_CONTENT]
        if others or reads.bare:
            what = f"`{var}.{others[0]}`" if others else f"the chunk `{var}` whole"
            plan.blockers.append(f"the stream's loop reads {what}, which has no counterpart on a text-delta event")
            return plan
        delta_reads += [node for node, _ in reads.chains]
        every_statement_reads &= bool(reads.chains) or statement in parts.reading
    if not delta_reads and not parts.reading:
        plan.blockers.append("the stream's loop does not read the text delta")
        return plan
    if not every_statement_reads:
        plan.applicability = "unsafe"
        plan.notes.append(f"the loop's body now runs for text-delta events only (`{TEXT_DELTA}`), not for every chunk")
    delta: dict[cst.CSTNode, cst.CSTNode] = {read: cst.Attribute(value=cst.Name(var), attr=cst.Name("delta")) for read in delta_reads}
    delta.update(parts.replacements)
    if parts.guard is not None:  # it skips what is not text already
        delta[parts.guard.test] = _is_text(var, cst.NotEqual())
        plan.replacements[loop] = loop.with_changes(body=loop.body.visit(_Replace(delta)))
        return plan
    new_body = loop.body.visit(_Replace(delta))
    assert isinstance(new_body, cst.IndentedBlock | cst.SimpleStatementSuite)
    test = _is_text(var, cst.Equal())
    inner = list(new_body.body) if isinstance(new_body, cst.IndentedBlock) else [cst.SimpleStatementLine(list(new_body.body))]
    guarded = cst.If(test=test, body=cst.IndentedBlock(body=inner))
    outer = loop.body.with_changes(body=[guarded]) if isinstance(loop.body, cst.IndentedBlock) else cst.IndentedBlock(body=[guarded])
    plan.replacements[loop] = loop.with_changes(body=outer)
    return plan


def _is_text(var: str, operator: cst.Equal | cst.NotEqual) -> cst.Comparison:
    return cst.Comparison(cst.Attribute(value=cst.Name(var), attr=cst.Name("type")),
                          [cst.ComparisonTarget(operator, cst.SimpleString(f'"{TEXT_DELTA}"'))])


class _Replace(cst.CSTTransformer):
    def __init__(self, nodes: dict[cst.CSTNode, cst.CSTNode]) -> None:
        self.nodes = nodes

    def on_leave(self, original_node: cst.CSTNode, updated_node: cst.CSTNode) -> cst.CSTNode:  # type: ignore[override]
        return self.nodes.get(original_node, updated_node)
