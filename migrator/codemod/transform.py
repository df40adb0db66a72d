"""One parse, one analysis, one rewriting pass: the entry point the runner calls for each piece of source.

The study behind this (docs/codemod.md) measured a no-op libcst codemod at 5× a parse per rule, so
the rules do not each walk the tree: pass 1 collects bindings (clients.py), pass 2 finds the sites
and asks each rule for a plan (call.py, reads.py), and one transformer applies every plan by node
identity. A site's plans are applied together or not at all.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import libcst as cst
from libcst.metadata import MetadataWrapper, PositionProvider

from ..mapping.rules import TABLES
from .call import CallPlan, plan_arguments
from .clients import Bindings, Client, NotAClient, Resolver, Scope
from .messages import why_not_plain
from .notes import with_notes
from .outcome import Applicability, Options, Outcome, Site, Verdict
from .reads import ReadPlan, Uses, chain_of, plan_reads, spelled
from .stream_loops import plan_stream

METHODS = frozenset({"create", "parse"})
WRAPPERS = frozenset({"with_raw_response", "with_streaming_response"})
RAW_FIELDS = frozenset({"headers", "http_request", "http_response", "status_code", "request_id", "url", "elapsed", "retries_taken"})
"""What a raw response (``with_raw_response``) offers besides ``.parse()``: the same on both endpoints."""
NOT_REWRITTEN = {
    "stream": "`chat.completions.stream(...)`: the helper's events differ (`content.delta` becomes "
              "`response.output_text.delta`, `get_final_completion()` becomes `get_final_response()`); "
              "rewrite it to `responses.stream(...)` with its event loop",
}
STORED = "stored chat completions (`chat.completions.{method}`) have no Responses counterpart; stored responses are read with `responses.retrieve`"


@dataclass
class Found:
    """A ``.chat.completions.<method>`` call, before any decision."""

    call: cst.Call
    receiver: cst.BaseExpression
    method: str
    wrapper: str | None
    statement: cst.CSTNode
    scope: Scope
    function: cst.CSTNode
    bound: str | None = None  # the name the result is assigned to
    chained: cst.BaseExpression | None = None  # a read chained on the call itself
    escapes: bool = False  # the result goes somewhere the codemod cannot follow


@dataclass
class Edits:
    replacements: dict[cst.CSTNode, cst.CSTNode] = field(default_factory=dict)
    notes: dict[cst.CSTNode, list[str]] = field(default_factory=dict)

    def note(self, statement: cst.CSTNode, message: str) -> None:
        self.notes.setdefault(statement, []).append(message)


def _parts(func: cst.BaseExpression) -> tuple[cst.BaseExpression, str, str | None] | None:
    """``<receiver>.chat.completions[.wrapper].<method>`` → (receiver, method, wrapper)."""
    if not isinstance(func, cst.Attribute):
        return None
    method = func.attr.value
    node = func.value
    wrapper = None
    if isinstance(node, cst.Attribute) and node.attr.value in WRAPPERS:
        wrapper, node = node.attr.value, node.value
    if not (isinstance(node, cst.Attribute) and node.attr.value == "completions"):
        return None
    chat = node.value
    if not (isinstance(chat, cst.Attribute) and chat.attr.value == "chat"):
        return None
    receiver = chat.value
    if isinstance(receiver, cst.Attribute) and receiver.attr.value == "beta":
        receiver = receiver.value  # ``client.beta.chat.completions.parse``: parse left beta in openai 1.92
    return receiver, method, wrapper


class _Finder(cst.CSTVisitor):
    def __init__(self, bindings: Bindings) -> None:
        self.bindings = bindings
        self.found: list[Found] = []
        self._scopes: list[Scope] = []
        self._functions: list[cst.CSTNode] = []
        self._statements: list[cst.CSTNode] = []
        self._parents: list[cst.CSTNode] = []

    def on_visit(self, node: cst.CSTNode) -> bool:
        scope = self.bindings.scopes.get(node)
        if scope is not None:
            self._scopes.append(scope)
            if scope.kind != "class":
                self._functions.append(node)
        if isinstance(node, cst.BaseStatement | cst.BaseSmallStatement) and not isinstance(node, cst.BaseSmallStatement):
            self._statements.append(node)
        if isinstance(node, cst.Call):
            self._call(node)
        self._parents.append(node)
        return True

    def on_leave(self, original_node: cst.CSTNode) -> None:
        self._parents.pop()
        if self._statements and self._statements[-1] is original_node:
            self._statements.pop()
        if self._scopes and self._scopes[-1].node is original_node:
            scope = self._scopes.pop()
            if scope.kind != "class":
                self._functions.pop()

    def _call(self, node: cst.Call) -> None:
        parts = _parts(node.func)
        if parts is None:
            return
        receiver, method, wrapper = parts
        found = Found(node, receiver, method, wrapper, self._statements[-1], self._scopes[-1], self._functions[-1])
        self._place(found)
        self.found.append(found)

    def _place(self, found: Found) -> None:
        """Where the result goes: bound to a name, read on the spot, dropped, or passed on."""
        parents = self._parents
        i = len(parents) - 1
        child: cst.CSTNode = found.call
        if i >= 0 and isinstance(parents[i], cst.Await):
            child = parents[i]
            i -= 1
        outer = child
        while i >= 0 and isinstance(parents[i], cst.Attribute | cst.Subscript) and getattr(parents[i], "value", None) is outer:
            outer = parents[i]
            i -= 1
        if outer is not child:
            found.chained = outer  # type: ignore[assignment]
            return
        parent = parents[i] if i >= 0 else None
        if isinstance(parent, cst.Expr):
            return
        if isinstance(parent, cst.Assign) and len(parent.targets) == 1 and isinstance(parent.targets[0].target, cst.Name):
            found.bound = parent.targets[0].target.value
            return
        if isinstance(parent, cst.AnnAssign) and isinstance(parent.target, cst.Name):
            found.bound = parent.target.value
            return
        found.escapes = True


def _decide(found: Found, client: Client, options: Options, indent: str) -> tuple[Verdict, Applicability, list[str], list[str], Edits]:
    """A site's verdict, applicability, report reasons, notes and edits (empty edits: left as it was)."""
    edits = Edits()
    reasons: list[str] = []
    if client.host_kind == "literal" and client.host not in options.responses_hosts:
        why = (f"the client's base_url is {client.host}, which may not serve /v1/responses; "
               f"run again with --responses-host {client.host} if it does")
        return "left for a person", "display", [why], [why], edits
    if client.host_kind == "configured":
        reasons.append(f"the host this client reaches ({client.host}) must serve /v1/responses")
    if client.host_kind == "azure":
        reasons.append(f"Azure ({client.host}): use the v1 endpoint (https://<resource>.openai.azure.com/openai/v1/) "
                       "and a max_output_tokens of at least 16")
    if found.method not in METHODS:
        why = NOT_REWRITTEN.get(found.method) or STORED.format(method=found.method)
        return "left for a person", "display", [why], [why], edits
    if found.wrapper == "with_streaming_response":
        why = "`with_streaming_response`: the body is read as raw lines; rewrite it with `responses.with_streaming_response`"
        return "left for a person", "display", [why], [why], edits
    parse = found.method == "parse"
    plan: CallPlan = plan_arguments(found.call, indent, lambda name: why_not_plain(name, found.function, found.call), parse=parse)
    if plan.args is None:
        return "left for a person", "display", plan.reasons, plan.reasons, edits
    if found.escapes:
        why = "the result is passed on where its reads cannot be followed"
        return "left for a person", "display", [why], [why], edits
    if plan.stream is None:
        why = "`stream` is decided at run time: the result is a completion or a stream of chunks, read differently"
        return "left for a person", "display", [why], [why], edits
    resource: cst.BaseExpression = cst.Attribute(value=found.receiver, attr=cst.Name("responses"))
    if found.wrapper is not None:
        resource = cst.Attribute(value=resource, attr=cst.Name(found.wrapper))
    new_func = cst.Attribute(value=resource, attr=cst.Name(found.method))
    new_call = found.call.with_changes(func=new_func, args=plan.args)
    applicability: Applicability = plan.applicability
    notes = list(plan.notes)
    if client.host_kind == "azure":
        notes.extend(_azure_limits(plan.args))
    if found.chained is not None:
        chain = chain_of(found.chained)
        assert chain is not None
        call_base = chain[0]
        replaced_base: cst.BaseExpression = new_call
        if isinstance(call_base, cst.Await):
            replaced_base = call_base.with_changes(expression=new_call)
        reads = plan_reads([(found.chained, chain[1])], set(), {found.chained: replaced_base})
        if reads.blockers:
            return "left for a person", "display", reads.blockers, reads.blockers, Edits()
        edits.replacements.update(reads.replacements)
    else:
        edits.replacements[found.call] = new_call
        if found.bound is not None:
            reads = _result_reads(found, plan.stream is True, parse)
            if reads.blockers:
                return "left for a person", "display", reads.blockers, reads.blockers, Edits()
            if reads.applicability == "unsafe":
                applicability = "unsafe"
            notes.extend(reads.notes)
            edits.replacements.update(reads.replacements)
        elif plan.stream:
            why = "the stream is not kept in a name whose loop can be followed"
            return "left for a person", "display", [why], [why], Edits()
    if applicability == "unsafe" and not options.unsafe_fixes:
        why = "an unsafe fix is available (--unsafe-fixes): " + "; ".join(notes)
        return "left for a person", "unsafe", [why], [why], Edits()
    for message in notes:
        edits.note(found.statement, message)
    verdict: Verdict = "migrated with notes" if notes else "migrated"
    return verdict, applicability, [*notes, *reasons], [], edits


AZURE_MIN_OUTPUT_TOKENS = 16
_OUTPUT_LIMIT = TABLES["chat.request"]["max_tokens"].to


def _azure_limits(args: list[cst.Arg]) -> list[str]:
    """Azure OpenAI answers 400 to a ``max_output_tokens`` below 16 (Chat accepted any positive limit)."""
    for arg in args:
        if arg.keyword is not None and arg.keyword.value == _OUTPUT_LIMIT and isinstance(arg.value, cst.Integer) \
                and int(arg.value.value) < AZURE_MIN_OUTPUT_TOKENS:
            return [f"Azure OpenAI rejects {_OUTPUT_LIMIT} below {AZURE_MIN_OUTPUT_TOKENS}; this call asks for {arg.value.value}"]
    return []


def _result_reads(found: Found, stream: bool, parse: bool) -> ReadPlan:
    """The reads of the name the result is bound to, as a completion, a stream or a raw response."""
    assert found.bound is not None
    if stream:
        if found.wrapper is not None:
            return ReadPlan(blockers=["a raw streamed response is read as lines"])
        return plan_stream(found.bound, found.function)
    if found.wrapper == "with_raw_response":
        return _raw_reads(found.bound, found, parse)
    return _completion_reads(found.bound, found.function, parse)


def _completion_reads(name: str, function: cst.CSTNode, parse: bool) -> ReadPlan:
    uses = Uses(name)
    body = function.body if isinstance(function, cst.FunctionDef) else function
    for statement in getattr(body, "body", ()):
        statement.visit(uses)
    if len(uses.targets) > 1:
        return ReadPlan(blockers=[f"`{name}` is assigned more than once: the reads cannot be tied to this call"])
    reads = plan_reads(uses.chains, uses.none_tests, parse=parse)
    if uses.bare:
        reads.blockers.append(f"`{name}` is used whole (passed, returned or printed): its fields differ on a Response")
    return reads


def _raw_reads(name: str, found: Found, parse: bool) -> ReadPlan:
    """``raw.headers`` and the like stay; ``x = raw.parse()`` makes ``x`` the completion to follow."""
    uses = Uses(name)
    body = found.function.body if isinstance(found.function, cst.FunctionDef) else found.function
    for statement in getattr(body, "body", ()):
        statement.visit(uses)
    plan = ReadPlan()
    if uses.bare or len(uses.targets) > 1:
        plan.blockers.append(f"the raw response `{name}` is used whole or assigned more than once")
        return plan
    parsed = [p for p in uses.parsed_into]
    for node, segments in uses.chains:
        if segments and segments[0] in RAW_FIELDS:
            continue
        if segments == ["parse"] and node in uses.parse_calls:
            continue
        plan.blockers.append(f"`{name}.{spelled(segments)}` is not a raw-response field")
    if len(parsed) != len(uses.parse_calls):
        plan.blockers.append(f"`{name}.parse()` is used where the codemod cannot follow it")
    for target in parsed:
        inner = _completion_reads(target, found.function, parse)
        plan.blockers.extend(inner.blockers)
        plan.notes.extend(inner.notes)
        plan.replacements.update(inner.replacements)
        if inner.applicability == "unsafe":
            plan.applicability = "unsafe"
    return plan


class _Apply(cst.CSTTransformer):
    def __init__(self, edits: Edits) -> None:
        self.edits = edits

    def on_leave(self, original_node: cst.CSTNode, updated_node: cst.CSTNode) -> cst.CSTNode:  # type: ignore[override]
        replacement = self.edits.replacements.get(original_node)
        if replacement is not None:
            updated_node = replacement
        messages = self.edits.notes.get(original_node)
        if messages and isinstance(updated_node, cst.BaseStatement):
            return with_notes(updated_node, messages)
        return updated_node


def transform_code(code: str, options: Options) -> Outcome:
    """Raises ``libcst.ParserSyntaxError`` for code that does not parse; the runner reports it."""
    module = cst.parse_module(code)
    bindings = Bindings()
    module.visit(bindings)
    finder = _Finder(bindings)
    module.visit(finder)
    if not finder.found:
        return Outcome(code)
    wrapper = MetadataWrapper(module, unsafe_skip_copy=True)
    positions = wrapper.resolve(PositionProvider)
    resolver = Resolver(bindings)
    uses_openai = bool(bindings.openai_modules or bindings.constructors)
    edits = Edits()
    sites: list[Site] = []
    for found in finder.found:
        client = resolver.resolve(found.receiver, found.scope)
        if isinstance(client, NotAClient) or (client is None and not uses_openai):
            continue
        start = positions[found.call].start
        if client is None:
            why = "the receiver could not be traced to an OpenAI client (openai.OpenAI, AsyncOpenAI, AzureOpenAI)"
            edits.note(found.statement, why)
            sites.append(Site(start.line, start.column, "call", "left for a person", "display", (why,)))
            continue
        indent = " " * positions[found.statement].start.column
        verdict, applicability, reasons, left_notes, site_edits = _decide(found, client, options, indent)
        for message in left_notes:
            edits.note(found.statement, message)
        edits.replacements.update(site_edits.replacements)
        for statement, messages in site_edits.notes.items():
            edits.notes.setdefault(statement, []).extend(messages)
        sites.append(Site(start.line, start.column, "call", verdict, applicability, tuple(reasons), client.host))
    new = module.visit(_Apply(edits)) if edits.replacements or edits.notes else module
    return Outcome(new.code, tuple(sites))
