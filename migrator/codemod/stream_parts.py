"""Two things a stream loop does besides reading ``chunk.choices[0].delta.content``: it skips the chunks
that carry no choice, and it names part of a chunk to read the text through.

Chat sends chunks with no choice (the usage chunk of ``stream_options.include_usage``, Azure's
content-filter results before the first token), so loops start with ``if not chunk.choices:
continue``. A Responses loop skips what is not text the same way, by the event's type: that guard's
test becomes ``chunk.type != "response.output_text.delta"`` and the rest of the body needs no other
guard. A name given ``chunk.choices[0].delta`` (or ``chunk.choices[0]``) and read in the loop only
for the text holds the text itself afterwards: ``delta = chunk.delta``, ``delta.content`` → ``delta``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import libcst as cst

from .names import UseVisitor, visit_body
from .reads import NameChains, Segment, chain_of, spelled
from .walk import walk

DELTA_CONTENT: list[Segment] = ["choices", 0, "delta", "content"]
_PARTS = (DELTA_CONTENT[:2], DELTA_CONTENT[:3])  # what a name may hold: the choice, or its delta


@dataclass
class LoopParts:
    guard: cst.If | None = None  # ``if not chunk.choices: continue``, the loop's first statement
    replacements: dict[cst.CSTNode, cst.CSTNode] = field(default_factory=dict)
    reading: set[cst.CSTNode] = field(default_factory=set)  # statements that read the text through a name


def loop_parts(var: str, statements: Sequence[cst.CSTNode], function: cst.CSTNode) -> LoopParts | str:
    """The guard and the names of the loop over chunks named ``var``, or why a name cannot be followed."""
    parts = LoopParts()
    if statements and _skips_no_choice(var, statements[0]):
        assert isinstance(statements[0], cst.If)
        parts.guard = statements[0]
    for index, statement in enumerate(statements):
        held = _held(var, statement)
        if held is None:
            continue
        alias, value, segments = held
        rest = DELTA_CONTENT[len(segments):]
        reads = NameChains(alias)
        for later in statements[index + 1:]:
            before = len(reads.chains)
            walk(later, reads)
            if len(reads.chains) > before:
                parts.reading.add(later)
        wrong = [chain for _, chain in reads.chains if chain != rest]
        uses = _Uses(alias)
        visit_body(function, uses)
        if wrong or reads.bare or uses.count != 1 + len(reads.chains):
            what = f"`.{spelled(wrong[0])}`" if wrong else "whole, or outside the loop"
            return f"`{alias}` holds `{var}.{spelled(segments)}` and is read {what}: a text-delta event has only the text"
        parts.replacements[value] = cst.Attribute(value=cst.Name(var), attr=cst.Name("delta"))
        parts.replacements.update((node, cst.Name(alias)) for node, _ in reads.chains)
        parts.reading.add(statement)
    return parts


def _skips_no_choice(var: str, statement: cst.CSTNode) -> bool:
    """``if not <var>.choices: continue`` (one line or two, no ``else``)."""
    if not isinstance(statement, cst.If) or statement.orelse is not None:
        return False
    test = statement.test
    if not (isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not)):
        return False
    found = chain_of(test.expression)
    if found is None or not (isinstance(found[0], cst.Name) and found[0].value == var) or found[1] != ["choices"]:
        return False
    body = statement.body.body
    if isinstance(statement.body, cst.IndentedBlock):
        if len(body) != 1 or not isinstance(body[0], cst.SimpleStatementLine):
            return False
        body = body[0].body
    return len(body) == 1 and isinstance(body[0], cst.Continue)


def _held(var: str, statement: cst.CSTNode) -> tuple[str, cst.BaseExpression, list[Segment]] | None:
    """``name = <var>.choices[0].delta`` (or ``.choices[0]``) → (name, the value, its segments)."""
    if not isinstance(statement, cst.SimpleStatementLine) or len(statement.body) != 1:
        return None
    assign = statement.body[0]
    if not isinstance(assign, cst.Assign) or len(assign.targets) != 1 or not isinstance(assign.targets[0].target, cst.Name):
        return None
    found = chain_of(assign.value)
    if found is None or not (isinstance(found[0], cst.Name) and found[0].value == var) or found[1] not in _PARTS:
        return None
    return assign.targets[0].target.value, assign.value, found[1]


class _Uses(UseVisitor):
    """How often a name appears as a variable (read or bound) in a function, inner scopes included."""

    def __init__(self, name: str) -> None:
        super().__init__()
        self.name = name
        self.count = 0

    def visit_Name(self, node: cst.Name) -> None:
        if node.value == self.name and self.is_use(node):
            self.count += 1
