"""An SDK call site: ``X.chat.completions.create/parse(…)`` and the reads of its result, decided together."""

from __future__ import annotations

import libcst as cst

from ..mapping.rules import TABLES, VALUES
from .call import CallPlan, plan_call
from .clients import Client, host_reasons
from .finish_tests import FINISH_VALUE, finish_test, finish_value
from .gather import gathered_into, plan_gathered
from .literals import with_commas
from .messages import plan_messages
from .names import visit_body
from .outcome import Applicability, Options
from .reads import ALIASES, ReadPlan, Segment, Uses, chain_of, no_text, plan_reads, plan_tool_loop, spelled
from .site import Decision, Edits, Found, left
from .stream_helper import plan_helper_stream
from .stream_loops import plan_stream
from .stream_usage import asks_usage

METHODS = frozenset({"create", "parse", "stream"})
RAW_FIELDS = frozenset({"headers", "http_request", "http_response", "status_code", "request_id", "url", "elapsed", "retries_taken"})
"""What a raw response (``with_raw_response``, ``with_streaming_response``) offers besides ``.parse()``:
the same on both endpoints. Its body read as bytes or lines (``iter_lines()``, ``read()``) is not."""
RAW_BODY = frozenset({"iter_lines", "iter_text", "iter_bytes", "iter_raw", "read", "text", "json", "content"})
STORED = "stored chat completions (`chat.completions.{method}`) have no Responses counterpart; stored responses are read with `responses.retrieve`"


def decide_sdk(found: Found, client: Client, options: Options, indent: str) -> Decision:
    edits = Edits()
    refused, reasons = host_reasons(client, options)
    if refused is not None:
        return left([refused], host=client.host)
    if found.method not in METHODS:
        why = STORED.format(method=found.method)
        return left([why], host=client.host)
    parse = found.method in ("parse", "stream")  # the stream helper takes a model class as response_format too
    calls = {peer.call for peer in found.peers}
    answers = {peer.bound for peer in found.peers if peer.bound is not None}
    plan: CallPlan = plan_call(found.call, indent, lambda name: plan_messages(name, found.function, calls, answers),
                               parse=parse, hoist=options.hoist_instructions, constants=found.constants)
    if plan.args is None:
        return left(plan.reasons, host=client.host)
    gathered = gathered_into(found) if found.escapes and found.wrapper is None and plan.stream is False else None
    if found.escapes and gathered is None:
        why = "the result is passed on where its reads cannot be followed"
        return left([why], host=client.host)
    if plan.stream is None:
        why = "`stream` is decided at run time: the result is a completion or a stream of chunks, read differently"
        return left([why], host=client.host)
    resource: cst.BaseExpression = cst.Attribute(value=found.receiver, attr=cst.Name("responses"))
    if found.wrapper is not None:
        resource = cst.Attribute(value=resource, attr=cst.Name(found.wrapper))
    new_func = cst.Attribute(value=resource, attr=cst.Name(found.method))
    args, reasoning_note = _encrypted_reasoning(plan)
    new_call = found.call.with_changes(func=new_func, args=args)
    applicability: Applicability = "safe"  # the arguments' rewrite; a read may make it unsafe
    notes = list(plan.notes) + reasoning_note
    skip: set[cst.CSTNode] = set()
    requires: set[str] = set()
    for old, new in plan.constants.values():
        edits.replacements[old] = new
    if plan.messages is not None:
        edits.replacements.update(plan.messages.replacements)
        skip, requires = plan.messages.consumed, plan.messages.answers
    if client.host_kind == "azure":
        notes.extend(_azure_limits(plan.args))
    if found.chained is not None:
        chain = chain_of(found.chained)
        assert chain is not None
        call_base = chain[0]
        replaced_base: cst.BaseExpression = new_call
        if isinstance(call_base, cst.Await):
            replaced_base = call_base.with_changes(expression=new_call)
        reads = plan_reads([(found.chained, chain[1])], {found.chained: replaced_base})
        if reads.blockers:
            return left(reads.blockers, host=client.host)
        edits.replacements.update(reads.replacements)
    else:
        edits.replacements[found.call] = new_call
        if found.bound is not None or gathered is not None:
            reads = _result_reads(found, plan.stream is True, parse, skip) if gathered is None else \
                plan_gathered(gathered, found.function, lambda name, scope, also: _completion_reads(name, scope, parse, skip | also), parse)
            if reads.blockers:
                return left(reads.blockers, host=client.host)
            if reads.applicability == "unsafe":
                applicability = "unsafe"
            notes.extend(reads.notes)
            edits.replacements.update(reads.replacements)
        elif plan.stream:
            why = "the stream is not kept in a name whose loop can be followed"
            return left([why], host=client.host)
    if applicability == "unsafe" and not options.unsafe_fixes:
        why = "an unsafe fix is available (--unsafe-fixes): " + "; ".join(notes)
        return left([why], "unsafe", host=client.host)
    for message in notes:
        edits.note(found.statement, message)
    messages = next((a.value.value for a in found.call.args if a.keyword is not None and a.keyword.value == "messages"
                     and isinstance(a.value, cst.Name)), None)
    return Decision("migrated with notes" if notes else "migrated", applicability, [*notes, *reasons], edits, client.host,
                    requires, messages, set(plan.constants))


ENCRYPTED_REASONING = "reasoning.encrypted_content"
if ENCRYPTED_REASONING not in VALUES["include"]:
    raise ValueError(f"mappings/: the include value {ENCRYPTED_REASONING} is gone from the include table")


def _encrypted_reasoning(plan: CallPlan) -> tuple[list[cst.Arg], list[str]]:
    """A list that sends a Response's output back (a tool loop) carries its reasoning items; with
    ``store=False`` (Chat did not store, so neither does the migrated call) the API takes them back
    only encrypted, and answers 404 for a reasoning model otherwise: ask for them encrypted."""
    assert plan.args is not None
    keywords = {arg.keyword.value: arg for arg in plan.args if arg.keyword is not None}
    store = keywords.get("store")
    if plan.messages is None or not plan.messages.answers or "include" in keywords \
            or store is None or not (isinstance(store.value, cst.Name) and store.value.value == "False"):
        return plan.args, []
    include = cst.Arg(keyword=cst.Name("include"), value=cst.parse_expression(f'["{ENCRYPTED_REASONING}"]'),
                      equal=cst.AssignEqual(whitespace_before=cst.SimpleWhitespace(""), whitespace_after=cst.SimpleWhitespace("")))
    return with_commas([*plan.args, include], plan.args), [
        f"added include=[\"{ENCRYPTED_REASONING}\"]: the output this call's input sends back holds a reasoning model's "
        "reasoning items, which a request with store=False can only send back encrypted"]


AZURE_MIN_OUTPUT_TOKENS = 16
_OUTPUT_LIMIT = TABLES["chat.request"]["max_tokens"].to


def azure_limit_note(value: int) -> list[str]:
    """Azure OpenAI answers 400 to a ``max_output_tokens`` below 16 (Chat accepted any positive limit);
    also the JavaScript codemod's note."""
    if value < AZURE_MIN_OUTPUT_TOKENS:
        return [f"Azure OpenAI rejects {_OUTPUT_LIMIT} below {AZURE_MIN_OUTPUT_TOKENS}; this call asks for {value}"]
    return []


def _azure_limits(args: list[cst.Arg]) -> list[str]:
    for arg in args:
        if arg.keyword is not None and arg.keyword.value == _OUTPUT_LIMIT and isinstance(arg.value, cst.Integer):
            return azure_limit_note(int(arg.value.value))
    return []


def _result_reads(found: Found, stream: bool, parse: bool, skip: set[cst.CSTNode]) -> ReadPlan:
    """The reads of the name the result is bound to, as a completion, a stream or a raw response."""
    assert found.bound is not None
    if found.method == "stream":
        plan, finals = plan_helper_stream(found.bound, found.function)
        for final in finals:
            plan.merge(_completion_reads(final, found.function, True, skip))
        return plan
    if stream:
        if found.wrapper is not None:
            return ReadPlan(blockers=["a raw streamed response is read as lines"])
        return plan_stream(found.bound, found.function, asks_usage(found.call))
    if found.wrapper is not None:  # ``with_raw_response`` / ``with_streaming_response``: the same fields on both
        return _raw_reads(found.bound, found, parse)
    return _completion_reads(found.bound, found.function, parse, skip, calls=set[cst.CSTNode](peer.call for peer in found.peers))


def _completion_reads(name: str, function: cst.CSTNode, parse: bool, skip: set[cst.CSTNode] | None = None,
                      prefix: list[Segment] | None = None, calls: set[cst.CSTNode] | None = None,
                      held: list[Segment] | None = None) -> ReadPlan:
    """``calls``: what ``name`` may be bound to more than once and still read the same: the chat calls
    of the function (``response = client…create(…)`` again after the tool results, all migrated
    together), or for an alias the parts of results it is bound to (``message = response.choices[0].message``
    before the loop and again inside it)."""
    uses = Uses(name, prefix, skip)
    visit_body(function, uses)
    if len(uses.targets) > 1 and not (calls and all(value in calls for value in uses.assigned_values)):
        return ReadPlan(blockers=[f"`{name}` is assigned more than once: the reads cannot be tied to this call"])
    reads = plan_reads(uses.chains, parse=parse, alias_values=uses.alias_values, held=held, tool_calls_ok=uses.tool_calls_ok)
    for comparison, negate in uses.content_none_tests:
        reads.replacements[comparison] = no_text(cst.Name(name), negate)
    tested = {o.value for o in uses.none_tests if isinstance(o, cst.Name)} & uses.content_names
    if tested:
        reads.applicability = "unsafe"
        reads.notes.append(f"`{sorted(tested)[0]}` now holds `output_text`, which is \"\" where `message.content` was None "
                           "(a tool-call-only answer): its `None` test here never passes; test the output for text instead")
    for comparison, value, negate in uses.finish_tests:
        test = finish_test(cst.Name(name), value, negate)
        if isinstance(test, str):
            reads.blockers.append(test)
        else:
            reads.replacements[comparison] = test
    for read, quotes in uses.finish_reads:
        said = finish_value(cst.Name(name), quotes)
        if isinstance(said, str):
            reads.blockers.append(said)
        else:
            reads.replacements[read] = said
    if uses.finish_reads:  # faithful but long, and "length" stands for any other incomplete reason: a person's call
        reads.applicability = "unsafe"
        reads.notes.append(FINISH_VALUE)
    if uses.bare:
        reads.blockers.append(f"`{name}` is used whole (passed, returned or printed): its fields differ on a Response")
    inner_plans = [_completion_reads(awaited, function, parse, skip) for awaited in uses.awaited_into]
    alias_values = set(uses.alias_values)
    parts: dict[str, set[tuple[Segment, ...]]] = {}
    for alias, part in uses.aliases:
        parts.setdefault(alias, set()).add(tuple(part))
    reads.blockers += [f"`{alias}` holds different parts of the result" for alias, held in parts.items() if len(held) > 1]
    inner_plans += [_completion_reads(alias, function, parse, skip, part, alias_values, held=ALIASES[tuple(part)])
                    for alias, part in dict(uses.aliases).items()]
    inner_plans += [plan_tool_loop(var, loop) for var, loop in uses.tool_loops]
    for inner in inner_plans:  # ``reply = await coro``; ``message = r.choices[0].message``; ``for call in ….tool_calls``
        reads.merge(inner)
    return reads


def _raw_reads(name: str, found: Found, parse: bool) -> ReadPlan:
    """``raw.headers`` and the like stay; ``x = raw.parse()`` makes ``x`` the completion to follow."""
    uses = Uses(name)
    visit_body(found.function, uses)
    plan = ReadPlan()
    if uses.bare or len(uses.targets) > 1:
        plan.blockers.append(f"the raw response `{name}` is used whole or assigned more than once")
        return plan
    parsed = uses.parsed_into
    for node, segments in uses.chains:
        if segments and segments[0] in RAW_FIELDS:
            continue
        if segments == ["parse"] and node in uses.parse_calls:
            continue
        if segments and segments[0] in RAW_BODY:
            plan.blockers.append(f"`{name}.{segments[0]}` reads the body as it came: a Response's JSON and events differ "
                                 "from a ChatCompletion's; read it through `.parse()`")
        else:
            plan.blockers.append(f"`{name}.{spelled(segments)}` is not a raw-response field")
    if len(parsed) != len(uses.parse_calls):
        plan.blockers.append(f"`{name}.parse()` is used where the codemod cannot follow it")
    for target in parsed:
        plan.merge(_completion_reads(target, found.function, parse))
    return plan
