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

from .call import CallPlan, plan_arguments
from .clients import Bindings, Client, NotAClient, Resolver, Scope
from .messages import why_not_plain
from .notes import with_notes
from .outcome import Applicability, Options, Outcome, Site, Verdict
from .reads import Uses, chain_of, plan_reads

METHODS = frozenset({"create"})
WRAPPERS = frozenset({"with_raw_response", "with_streaming_response"})


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
    return chat.value, method, wrapper


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
        why = f"`chat.completions.{found.method}` is not rewritten yet: see docs/codemod.md"
        return "left for a person", "display", [why], [why], edits
    if found.wrapper is not None:
        why = f"`{found.wrapper}`: the raw response's reads are not rewritten yet"
        return "left for a person", "display", [why], [why], edits
    plan: CallPlan = plan_arguments(found.call, indent, lambda name: why_not_plain(name, found.function, found.call))
    if plan.args is None:
        return "left for a person", "display", plan.reasons, plan.reasons, edits
    if plan.stream is not False:
        why = "a streamed result is read as chunks: loop over Responses events instead (`response.output_text.delta`)"
        return "left for a person", "display", [why], [why], edits
    if found.escapes:
        why = "the result is passed on where its reads cannot be followed"
        return "left for a person", "display", [why], [why], edits

    new_func = cst.Attribute(value=cst.Attribute(value=found.receiver, attr=cst.Name("responses")), attr=cst.Name(found.method))
    new_call = found.call.with_changes(func=new_func, args=plan.args)
    applicability: Applicability = plan.applicability
    notes = list(plan.notes)
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
            uses = Uses(found.bound, found.statement)
            body = found.function.body if isinstance(found.function, cst.FunctionDef) else found.function
            for statement in getattr(body, "body", ()):
                statement.visit(uses)
            if len(uses.targets) > 1:
                why = f"`{found.bound}` is assigned more than once: the reads cannot be tied to this call"
                return "left for a person", "display", [why], [why], Edits()
            reads = plan_reads(uses.chains, uses.none_tests)
            blockers = list(reads.blockers)
            if uses.bare:
                blockers.append(f"`{found.bound}` is used whole (passed, returned or printed): its fields differ on a Response")
            if blockers:
                return "left for a person", "display", blockers, blockers, Edits()
            if reads.applicability == "unsafe":
                applicability = "unsafe"
            notes.extend(reads.notes)
            edits.replacements.update(reads.replacements)
    if applicability == "unsafe" and not options.unsafe_fixes:
        why = "an unsafe fix is available (--unsafe-fixes): " + "; ".join(notes)
        return "left for a person", "unsafe", [why], [why], Edits()
    for message in notes:
        edits.note(found.statement, message)
    verdict: Verdict = "migrated with notes" if notes else "migrated"
    return verdict, applicability, [*notes, *reasons], [], edits


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
