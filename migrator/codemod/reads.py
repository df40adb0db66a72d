"""The reads of a call's result: ``r.choices[0].message.content`` → ``r.output_text``, usage names….

Each read is an attribute/subscript chain on the result. Its new spelling comes from the result
tables of ``mappings/`` (``chat.completion``, ``chat.completion_message``, ``chat.usage``): the
``to`` of the field's rule, walked one segment at a time. A read no rule carries one-to-one (tool
calls, ``finish_reason``, the whole message, the result passed on whole) makes the site one a
person finishes: the call and its reads are rewritten together or not at all.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import libcst as cst

from ..mapping.rules import COPY, RENAME, TABLES, Table
from .outcome import Applicability

Segment = str | int  # an attribute name, or a literal integer index
_COMPLETION = TABLES["chat.completion"]
_MESSAGE = TABLES["chat.completion_message"]
_USAGE = TABLES["chat.usage"]
_SAME_NAME = frozenset({"id", "model"})
PARSED = {"parsed": "output_parsed"}
"""What ``chat.completions.parse`` adds to the message, and its name on ``responses.parse``'s result:
SDK helpers, not API fields, so not in ``mappings/``."""
"""Fields a Response has under the same attribute (their rules convert the value's form, not its meaning)."""


@dataclass
class ReadPlan:
    replacements: dict[cst.CSTNode, cst.CSTNode] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    blockers: list[str] = field(default_factory=list)
    applicability: Applicability = "safe"


def chain_of(node: cst.BaseExpression) -> tuple[cst.BaseExpression, list[Segment]] | None:
    """``r.choices[0].message`` → (``r``, ["choices", 0, "message"]); None for other shapes."""
    segments: list[Segment] = []
    current = node
    while True:
        if isinstance(current, cst.Attribute):
            segments.append(current.attr.value)
            current = current.value
        elif isinstance(current, cst.Subscript):
            if len(current.slice) != 1 or not isinstance(current.slice[0].slice, cst.Index):
                return None
            index = current.slice[0].slice.value
            if not isinstance(index, cst.Integer):
                return None
            segments.append(int(index.value))
            current = current.value
        else:
            break
    segments.reverse()
    return current, segments


def spelled(segments: list[Segment]) -> str:
    """``["choices", 0, "delta"]`` → ``choices[0].delta``, as the code reads it."""
    return "".join(f"[{s}]" if isinstance(s, int) else f".{s}" for s in segments).lstrip(".")


def _table_walk(table: Table, segments: list[Segment]) -> list[Segment] | str:
    """Rename one segment by the table (and its nested levels, e.g. usage details); the rest as is."""
    head = segments[0]
    if not isinstance(head, str):
        return "an index into a usage object"
    rule = table.get(head)
    if rule is None:
        return f"`usage.{head}` has no rule"
    if rule.do is COPY:
        new_head = head
    elif rule.do is RENAME and rule.to:
        new_head = rule.to
    else:
        return f"`usage.{head}`: {rule.reason or 'no one-to-one counterpart'}"
    rest = segments[1:]
    if rest and isinstance(rest[0], str) and rest[0] in table and head.endswith("_details"):
        inner = _table_walk(table, rest)
        if isinstance(inner, str):
            return inner
        return [new_head, *inner]
    return [new_head, *rest]


def rewrite_segments(segments: list[Segment], parse: bool = False) -> list[Segment] | str:
    """The Response spelling of a ChatCompletion read, or why there is none."""
    if not segments:
        return "the result is used whole"
    head = segments[0]
    if head == "choices":
        if len(segments) < 3 or segments[1] != 0 or segments[2] != "message":
            if len(segments) >= 3 and segments[2] == "finish_reason":
                return "`finish_reason` becomes `status` and `incomplete_details.reason`, with other values"
            return "`choices` is read in a shape other than `choices[0].message.<field>`"
        if len(segments) < 4 or not isinstance(segments[3], str):
            return "the message is used whole"
        rule = _MESSAGE.get(segments[3])
        if segments[3] == "content" and rule is not None and rule.to:
            return [rule.to, *segments[4:]]
        if parse and segments[3] in PARSED:
            return [PARSED[segments[3]], *segments[4:]]
        return f"`message.{segments[3]}` has no one-to-one counterpart on a Response"
    if head == "usage":
        if len(segments) == 1:
            return "the usage object is used whole (its field names differ)"
        walked = _table_walk(_USAGE, segments[1:])
        return walked if isinstance(walked, str) else ["usage", *walked]
    if not isinstance(head, str):
        return "the result is indexed"
    if head in _SAME_NAME:
        return segments
    rule = _COMPLETION.get(head)
    if rule is not None and rule.do is RENAME and rule.to:
        return [rule.to, *segments[1:]]
    return f"`.{head}` has no one-to-one counterpart on a Response"


def rebuild(base: cst.BaseExpression, segments: list[Segment]) -> cst.BaseExpression:
    node = base
    for segment in segments:
        if isinstance(segment, int):
            node = cst.Subscript(value=node, slice=[cst.SubscriptElement(cst.Index(cst.Integer(str(segment))))])
        else:
            node = cst.Attribute(value=node, attr=cst.Name(segment))
    return node


class Uses(cst.CSTVisitor):
    """Every use of one name in one function body: maximal attribute/subscript chains, bare uses,
    and whether a content read is compared with ``None`` (``output_text`` is ``""`` there, never None)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.parse_calls: set[cst.CSTNode] = set()  # ``name.parse`` chains that are called (raw responses)
        self.parsed_into: list[str] = []  # names assigned ``name.parse()``
        self.chains: list[tuple[cst.BaseExpression, list[Segment]]] = []
        self.bare: list[cst.Name] = []
        self.none_tests: set[cst.CSTNode] = set()
        self.targets: set[cst.CSTNode] = set()
        self._keywords: set[cst.CSTNode] = set()

    def visit_Attribute(self, node: cst.Attribute) -> bool:
        return self._chain(node)

    def visit_Subscript(self, node: cst.Subscript) -> bool:
        return self._chain(node)

    def _chain(self, node: cst.BaseExpression) -> bool:
        found = chain_of(node)
        if found is None:
            return True
        base, segments = found
        if isinstance(base, cst.Name) and base.value == self.name and segments:
            self.chains.append((node, segments))
            return False
        return True

    def visit_Arg(self, node: cst.Arg) -> None:
        if node.keyword is not None:
            self._keywords.add(node.keyword)  # ``stream=True``: a keyword, not a use

    def visit_Name(self, node: cst.Name) -> None:
        if node.value == self.name and node not in self.targets and node not in self._keywords:
            self.bare.append(node)

    def visit_Comparison(self, node: cst.Comparison) -> None:
        operands = [node.left, *(t.comparator for t in node.comparisons)]
        if any(isinstance(o, cst.Name) and o.value == "None" for o in operands):
            self.none_tests.update(o for o in operands if not (isinstance(o, cst.Name) and o.value == "None"))

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if isinstance(func, cst.Attribute) and func.attr.value == "parse" and isinstance(func.value, cst.Name) \
                and func.value.value == self.name and not node.args:
            self.parse_calls.add(func)

    def visit_Assign(self, node: cst.Assign) -> None:
        value = node.value
        if isinstance(value, cst.Call) and len(node.targets) == 1 and isinstance(node.targets[0].target, cst.Name) \
                and isinstance(value.func, cst.Attribute) and value.func.attr.value == "parse" \
                and isinstance(value.func.value, cst.Name) and value.func.value.value == self.name:
            self.parsed_into.append(node.targets[0].target.value)

    def visit_AssignTarget(self, node: cst.AssignTarget) -> None:
        if isinstance(node.target, cst.Name) and node.target.value == self.name:
            self.targets.add(node.target)

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        return False  # an inner function's own names are its own

    def visit_ClassDef(self, node: cst.ClassDef) -> bool:
        return False


def plan_reads(chains: list[tuple[cst.BaseExpression, list[Segment]]], none_tests: set[cst.CSTNode],
               base_for: dict[cst.CSTNode, cst.BaseExpression] | None = None, parse: bool = False) -> ReadPlan:
    plan = ReadPlan()
    for node, segments in chains:
        new = rewrite_segments(segments, parse)
        if isinstance(new, str):
            plan.blockers.append(new)
            continue
        found = chain_of(node)
        assert found is not None
        base = (base_for or {}).get(node, found[0])
        plan.replacements[node] = rebuild(base, new)
        if node in none_tests and segments[:4] == ["choices", 0, "message", "content"]:
            plan.applicability = "unsafe"
            plan.notes.append("`output_text` is \"\" where `message.content` was None (a tool-call-only answer): "
                              "the `None` test here now always takes the other branch")
    return plan
