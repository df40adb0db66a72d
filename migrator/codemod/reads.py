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
from .finish_tests import FUNCTION_CALL, OUTPUT, compared
from .literals import expression_with
from .names import UseVisitor
from .outcome import Applicability
from .walk import walk

Segment = str | int  # an attribute name, or a literal integer index
_COMPLETION = TABLES["chat.completion"]
_MESSAGE = TABLES["chat.completion_message"]
_USAGE = TABLES["chat.usage"]
_SAME_NAME = frozenset({"id", "model"})
MESSAGE: list[Segment] = ["choices", 0, "message"]
TOOL_CALLS: list[Segment] = [*MESSAGE, "tool_calls"]
FINISH_REASON: list[Segment] = ["choices", 0, "finish_reason"]
REFUSAL: list[Segment] = [*MESSAGE, "refusal"]
CONTENT: list[Segment] = [*MESSAGE, "content"]
ALIASES: dict[tuple[Segment, ...], list[Segment]] = {("choices", 0): [], tuple(MESSAGE): [], ("usage",): ["usage"]}
"""Parts of a result a name may hold (``choice = r.choices[0]``, ``usage = r.usage``) → what the name
holds after the rewrite, as a path on the Response: ``r`` itself for the choice and its message (the
Response carries what they held), ``r.usage`` for the usage."""
NO_TEXT = 'not any(part.type == "output_text" for item in {base}.%s if item.type == "message" for part in item.content)'
"""When a chat message's ``content`` is None: the Response has no output text part at all
(``output_text`` is then ``""``, so ``output_text is None`` would never be true)."""
_TOOL_CALL = TABLES["chat.completion_message.tool_call"]
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

    def merge(self, inner: ReadPlan) -> None:
        """Fold a plan for a name that stands for part of this result (an alias, an awaited coroutine…)."""
        self.blockers.extend(inner.blockers)
        self.notes.extend(note for note in inner.notes if note not in self.notes)  # an alias's, said once
        self.replacements.update(inner.replacements)
        if inner.applicability == "unsafe":
            self.applicability = "unsafe"


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


def table_walk(table: Table, segments: list[Segment]) -> list[Segment] | str:
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
        inner = table_walk(table, rest)
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
        if segments[3] == "tool_calls":
            return ("tool calls are the `function_call` items of `.output` (`.name`, `.arguments`, `.call_id`); "
                    "the loop that answers them adds `response.output` to the input and answers each with "
                    "`{\"type\": \"function_call_output\", \"call_id\": …, \"output\": …}`")
        return f"`message.{segments[3]}` has no one-to-one counterpart on a Response"
    if head == "usage":
        if len(segments) == 1:
            return "the usage object is used whole (its field names differ)"
        walked = table_walk(_USAGE, segments[1:])
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


class Uses(UseVisitor):
    """Every use of one name in one function body: maximal attribute/subscript chains, bare uses,
    and whether a content read is compared with ``None`` (``output_text`` is ``""`` there, never None)."""

    def __init__(self, name: str, prefix: list[Segment] | None = None, skip: set[cst.CSTNode] | None = None) -> None:
        super().__init__()
        self.name = name
        self.prefix = prefix or []  # an alias of ``r.choices[0].message`` reads with that prefix
        self.skip = skip or set()  # nodes another plan takes whole (``messages.append(r.choices[0].message)``)
        self.aliases: list[tuple[str, list[Segment]]] = []  # ``message = name.choices[0].message``, ``usage = name.usage``
        self.alias_values: dict[cst.CSTNode, list[Segment]] = {}
        self.tool_loops: list[tuple[str, cst.For]] = []  # ``for call in name.choices[0].message.tool_calls:``
        self.tool_calls_ok: set[cst.CSTNode] = set()  # tool-call lists looped over or tested, nothing else
        self.finish_tests: list[tuple[cst.Comparison, str, bool]] = []  # ``name.choices[0].finish_reason == "stop"``
        self.finish_reads: list[tuple[cst.BaseExpression, frozenset[str]]] = []  # read as a value, in f-strings quoted so
        self._quotes: list[str] = []  # the quotes of the f-strings the walk is in
        self.content_none_tests: list[tuple[cst.Comparison, bool]] = []  # ``name.choices[0].message.content is None``
        self.content_names: set[str] = set()  # ``text = name.choices[0].message.content``
        self.parse_calls: set[cst.CSTNode] = set()  # ``name.parse`` chains that are called (raw responses)
        self.parsed_into: list[str] = []  # names assigned ``name.parse()``
        self.awaited_into: list[str] = []  # names assigned ``await name`` (a coroutine awaited later)
        self._awaited: set[cst.CSTNode] = set()
        self.chains: list[tuple[cst.BaseExpression, list[Segment]]] = []
        self.bare: list[cst.Name] = []
        self.none_tests: set[cst.CSTNode] = set()
        self.targets: set[cst.CSTNode] = set()
        self.assigned_values: list[cst.BaseExpression] = []

    def visit_Attribute(self, node: cst.Attribute) -> bool:
        return self._chain(node)

    def visit_Subscript(self, node: cst.Subscript) -> bool:
        return self._chain(node)

    def _chain(self, node: cst.BaseExpression) -> bool:
        if node in self.skip:
            return False
        found = chain_of(node)
        if found is None:
            return True
        base, segments = found
        if isinstance(base, cst.Name) and base.value == self.name and segments:
            if [*self.prefix, *segments] == FINISH_REASON:
                self.finish_reads.append((node, frozenset(self._quotes)))
            else:
                self.chains.append((node, [*self.prefix, *segments]))
            return False
        return True

    def visit_FormattedString(self, node: cst.FormattedString) -> None:
        self._quotes.append(node.start[-1])

    def leave_FormattedString(self, node: cst.FormattedString) -> None:
        self._quotes.pop()

    def visit_For(self, node: cst.For) -> None:
        calls = node.iter
        if isinstance(calls, cst.BooleanOperation) and isinstance(calls.operator, cst.Or):
            calls = calls.left  # ``for call in message.tool_calls or []``
        if self._is_tool_calls(calls) and isinstance(node.target, cst.Name):
            self.tool_loops.append((node.target.value, node))
            self.tool_calls_ok.add(calls)

    def visit_If(self, node: cst.If) -> None:
        self._tested(node.test)

    def visit_While(self, node: cst.While) -> None:
        self._tested(node.test)

    def _tested(self, test: cst.BaseExpression) -> None:
        """The tool calls tested for being there (``if message.tool_calls:``, ``not …``, ``len(…)``, and/or):
        the comprehension that replaces them answers alike; anything else reads their items."""
        if isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not):
            self._tested(test.expression)
        elif isinstance(test, cst.BooleanOperation):
            self._tested(test.left)
            self._tested(test.right)
        elif isinstance(test, cst.Call) and isinstance(test.func, cst.Name) and test.func.value == "len" and len(test.args) == 1:
            self._tested(test.args[0].value)
        elif self._is_tool_calls(test):
            self.tool_calls_ok.add(test)

    def _is_tool_calls(self, node: cst.BaseExpression) -> bool:
        found = chain_of(node)
        return found is not None and isinstance(found[0], cst.Name) and found[0].value == self.name \
            and [*self.prefix, *found[1]] == TOOL_CALLS

    def visit_Name(self, node: cst.Name) -> None:
        if not self.is_use(node):
            return
        if node.value == self.name and node not in self.targets and node not in self._awaited \
                and node not in self.skip:
            self.bare.append(node)

    def visit_Comparison(self, node: cst.Comparison) -> None:
        test = compared(node)
        found = chain_of(test[0]) if test is not None else None
        if test is not None and found is not None and isinstance(found[0], cst.Name) and found[0].value == self.name \
                and [*self.prefix, *found[1]] == FINISH_REASON:
            self.finish_tests.append((node, test[1], test[2]))
            self.skip.add(test[0])
        operands = [node.left, *(t.comparator for t in node.comparisons)]
        if any(isinstance(o, cst.Name) and o.value == "None" for o in operands):
            self.none_tests.update(o for o in operands if not (isinstance(o, cst.Name) and o.value == "None"))
            none_test = _none_test(node)
            if none_test is not None and isinstance(none_test[0], cst.Name) and none_test[0].value == self.name:
                self.skip.add(none_test[0])  # ``assert usage is not None``: a Response's parts are optional alike
            content = chain_of(none_test[0]) if none_test is not None else None
            if none_test is not None and content is not None and isinstance(content[0], cst.Name) \
                    and content[0].value == self.name and [*self.prefix, *content[1]] == CONTENT:
                self.content_none_tests.append((node, none_test[1]))
                self.skip.add(none_test[0])

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if isinstance(func, cst.Attribute) and func.attr.value == "parse" and isinstance(func.value, cst.Name) \
                and func.value.value == self.name and not node.args:
            self.parse_calls.add(func)

    def visit_Assign(self, node: cst.Assign) -> None:
        value = node.value
        held = chain_of(value)
        if held is not None and isinstance(held[0], cst.Name) and held[0].value == self.name \
                and [*self.prefix, *held[1]] == CONTENT:
            self.content_names.update(t.target.value for t in node.targets if isinstance(t.target, cst.Name))
        if any(isinstance(t.target, cst.Name) and t.target.value == self.name for t in node.targets):
            self.assigned_values.append(value.expression if isinstance(value, cst.Await) else value)
        found = chain_of(value)
        if found is not None and isinstance(found[0], cst.Name) and found[0].value == self.name and not self.prefix \
                and tuple(found[1]) in ALIASES and len(node.targets) == 1 and isinstance(node.targets[0].target, cst.Name):
            self.aliases.append((node.targets[0].target.value, found[1]))
            self.alias_values[value] = found[1]
        if isinstance(value, cst.Await) and isinstance(value.expression, cst.Name) and value.expression.value == self.name \
                and len(node.targets) == 1 and isinstance(node.targets[0].target, cst.Name):
            self.awaited_into.append(node.targets[0].target.value)
            self._awaited.add(value.expression)
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


def tool_call_segments(segments: list[Segment]) -> list[Segment] | str:
    """A chat tool call's field read as the function_call item's (``.function.name`` → ``.name``,
    ``.id`` → ``.call_id``), by the ``chat.completion_message.tool_call`` table."""
    if not segments or not isinstance(segments[0], str):
        return "the tool call is used whole"
    head = segments[0]
    if head == "function" and len(segments) > 1 and isinstance(segments[1], str):
        rule = _TOOL_CALL.get(segments[1])
        if rule is not None and rule.do is COPY and "function" in rule.at:
            return [segments[1], *segments[2:]]
        return f"`function.{segments[1]}` of a tool call has no counterpart on a function_call item"
    rule = _TOOL_CALL.get(head)
    if rule is not None and rule.do is RENAME and rule.to:
        return [rule.to, *segments[1:]]
    return f"`.{head}` of a tool call has no one-to-one counterpart on a function_call item"


def _function_calls(base: cst.BaseExpression) -> cst.BaseExpression:
    """``[item for item in base.output if item.type == "function_call"]``: the tool calls of a Response."""
    return cst.ListComp(
        elt=cst.Name("item"),
        for_in=cst.CompFor(target=cst.Name("item"), iter=cst.Attribute(value=base, attr=cst.Name(OUTPUT)), ifs=[
            cst.CompIf(test=cst.Comparison(cst.Attribute(value=cst.Name("item"), attr=cst.Name("type")),
                                           [cst.ComparisonTarget(cst.Equal(), cst.SimpleString(f'"{FUNCTION_CALL}"'))]))]))


def _none_test(node: cst.Comparison) -> tuple[cst.BaseExpression, bool] | None:
    """``x is None`` / ``x == None`` → (x, False); ``is not`` / ``!=`` → (x, True); None otherwise."""
    if len(node.comparisons) != 1:
        return None
    target = node.comparisons[0]
    if not (isinstance(target.comparator, cst.Name) and target.comparator.value == "None"):
        return None
    if isinstance(target.operator, cst.Is | cst.Equal):
        return node.left, False
    if isinstance(target.operator, cst.IsNot | cst.NotEqual):
        return node.left, True
    return None


def no_text(base: cst.BaseExpression, negate: bool) -> cst.BaseExpression:
    """The Response test for ``<base>.choices[0].message.content is None`` (``is not`` with ``negate``)."""
    template = NO_TEXT % OUTPUT
    return expression_with(template.removeprefix("not ") if negate else template, base=base)


def _refusal(base: cst.BaseExpression) -> cst.BaseExpression:
    """The refusal part of a Response's message items, or None: what ``message.refusal`` held."""
    return expression_with(f'next((part.refusal for item in {{base}}.{OUTPUT} if item.type == "message" '
                           'for part in item.content if part.type == "refusal"), None)', base=base)


def plan_reads(chains: list[tuple[cst.BaseExpression, list[Segment]]],
               base_for: dict[cst.CSTNode, cst.BaseExpression] | None = None, parse: bool = False,
               alias_values: dict[cst.CSTNode, list[Segment]] | None = None, held: list[Segment] | None = None,
               tool_calls_ok: set[cst.CSTNode] | None = None) -> ReadPlan:
    """``held``: the chains are read on an alias that holds this path of the Response (``[]`` for the
    result itself, ``["usage"]`` for its usage): the rewritten reads are taken relative to it."""
    plan = ReadPlan()
    strip = held or []
    for node, segments in chains:
        found = chain_of(node)
        assert found is not None
        base = (base_for or {}).get(node, found[0])
        if alias_values and node in alias_values:  # ``message = r.choices[0].message`` → ``message = r``
            plan.replacements[node] = rebuild(base, ALIASES[tuple(alias_values[node])])
            continue
        if segments == REFUSAL:
            plan.replacements[node] = _refusal(base)
            continue
        if segments[:4] == TOOL_CALLS:
            rest = segments[4:]
            calls: cst.BaseExpression = _function_calls(base)
            if rest and isinstance(rest[0], int):
                calls = rebuild(calls, [rest[0]])
                fields = tool_call_segments(rest[1:]) if rest[1:] else []
                if isinstance(fields, str):
                    plan.blockers.append(fields)
                    continue
                plan.replacements[node] = rebuild(calls, fields)
            elif rest or (tool_calls_ok is not None and node not in tool_calls_ok):
                plan.blockers.append("the tool calls are used where the reads of each call cannot be followed "
                                     "(loop over them, or test them, where the call is made)")
            else:
                plan.replacements[node] = calls
            continue
        new = rewrite_segments(segments, parse)
        if isinstance(new, str):
            plan.blockers.append(new)
            continue
        if new[:len(strip)] != strip:
            plan.blockers.append(f"`{spelled(segments)}` is read through a name that holds another part of the result")
            continue
        plan.replacements[node] = rebuild(base, new[len(strip):])
    return plan


class NameChains(UseVisitor):
    """The reads of a loop's variable in the loop's body: its chains, and how often it is used whole."""

    def __init__(self, name: str) -> None:
        super().__init__()
        self.name = name
        self.chains: list[tuple[cst.BaseExpression, list[Segment]]] = []
        self.bare = 0

    def _chain(self, node: cst.BaseExpression) -> bool:
        found = chain_of(node)
        if found is not None and isinstance(found[0], cst.Name) and found[0].value == self.name and found[1]:
            self.chains.append((node, found[1]))
            return False
        return True

    def visit_Attribute(self, node: cst.Attribute) -> bool:
        return self._chain(node)

    def visit_Subscript(self, node: cst.Subscript) -> bool:
        return self._chain(node)

    def visit_Name(self, node: cst.Name) -> None:
        if not self.is_use(node):
            return
        if node.value == self.name:
            self.bare += 1


def plan_tool_loop(var: str, loop: cst.For) -> ReadPlan:
    plan = ReadPlan()
    uses = NameChains(var)
    walk(loop.body, uses)
    if uses.bare:
        plan.blockers.append(f"the tool call `{var}` is used whole")
    for node, segments in uses.chains:
        new = tool_call_segments(segments)
        if isinstance(new, str):
            plan.blockers.append(new)
        else:
            plan.replacements[node] = rebuild(cst.Name(var), new)
    return plan
