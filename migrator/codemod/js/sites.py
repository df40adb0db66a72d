"""``X.chat.completions.create({…})`` in JavaScript/TypeScript → ``X.responses.create({…})``.

The request literal is read as a chat request (holes for what is not a literal), the engine
translates it with the rules of ``mappings/`` and the literal is rewritten key by key from the
output; the reads of the result (``r.choices[0].message.content``…) are renamed by the result
tables, and a ``for await`` loop over a stream is put under a test of the event type. A call and
its reads change together or not at all: a site that cannot be migrated whole keeps its code and
gets a ``// migrator:`` note saying why.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from tree_sitter import Node

from ...mapping.rules import RENAME
from ..clients import NotAClient, host_reasons
from ..finish_tests import _FINISH, _REASON_OF, FUNCTION_CALL, OUTPUT
from ..outcome import Applicability, Options, Verdict
from ..reads import CONTENT, Segment, rewrite_segments, spelled
from ..sdk_site import STORED
from ..transform import IMPORTED, UNTRACED
from .azure import azure_notes
from .clients import Clients
from .null_tests import held_null_notes, null_test
from .request import UNSAFE_HINT, plan_request
from .results import ReadContext, after_base, read, rebound
from .scope import same, uses_of
from .splices import Edit, Writer, indent_at, line_start
from .together import Shared
from .values import NotLiteral, members, string_of, text_of
from .zod import CHAT, CHAT_TOOL, Zod, text_format, zod_tools

STORED_METHODS = frozenset({"list", "retrieve", "update", "delete"})
METHODS = frozenset({"create", "parse", "stream"}) | STORED_METHODS
DELTA: list[Segment] = ["choices", 0, "delta", "content"]
FINISH_REASON: list[Segment] = ["choices", 0, "finish_reason"]
TEXT_DELTA = "response.output_text.delta"


@dataclass
class Decision:
    verdict: Verdict
    applicability: Applicability
    reasons: list[str]
    edits: list[Edit] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    host: str | None = None
    zod: dict[str, int] = field(default_factory=dict)  # Chat zod helper → its calls rewritten to the Responses one
    note: bool = True  # False: in the report only (a receiver in a file that does not use openai)
    shared: Shared = field(default_factory=Shared)  # the calls it must be migrated with (together.py)


def left(reasons: list[str], applicability: Applicability = "display", host: str | None = None) -> Decision:
    return Decision("left for a person", applicability, reasons, host=host)


@dataclass(frozen=True)
class ChatCall:
    call: Node
    receiver: Node
    method: str
    path: tuple[int, int]  # the bytes of ``chat.completions`` (``beta.chat.completions``) in the callee


def chat_call(call: Node) -> ChatCall | None:
    """``R.chat.completions.create(…)`` / ``.parse(…)`` (also ``R.beta.chat.completions.parse``)."""
    function = call.child_by_field_name("function")
    chain: list[Node] = []
    node = function
    while node is not None and node.type == "member_expression" and len(chain) < 4:
        prop = node.child_by_field_name("property")
        if prop is None:
            return None
        chain.append(prop)
        node = node.child_by_field_name("object")
    if node is None or len(chain) < 3 or text_of(chain[0]) not in METHODS \
            or text_of(chain[1]) != "completions" or text_of(chain[2]) != "chat":
        return None
    first = chain[2]
    receiver = node if len(chain) == 3 else _object(chain[2])
    if len(chain) == 4 and text_of(chain[3]) == "beta":
        receiver, first = node, chain[3]
    assert receiver is not None
    return ChatCall(call, receiver, text_of(chain[0]), (first.start_byte, chain[1].end_byte))


def _object(prop: Node) -> Node | None:
    member = prop.parent
    return member.child_by_field_name("object") if member is not None else None


def statement_of(node: Node) -> Node:
    current = node
    while current.parent is not None and current.parent.type not in (
            "program", "statement_block", "class_body", "switch_case", "switch_default"):
        current = current.parent
    return current


def decide(found: ChatCall, clients: Clients, options: Options, data: bytes, zod: Zod) -> Decision | None:
    client = clients.resolve(found.receiver)
    if isinstance(client, NotAClient):
        return None  # another SDK's client: not ours, not touched, not reported
    if client is None:
        root = found.receiver
        inner = root.child_by_field_name("object") if root.type == "member_expression" else None
        while inner is not None:
            root = inner
            inner = root.child_by_field_name("object") if root.type == "member_expression" else None
        from_project = text_of(root) in clients.imported
        decision = left([IMPORTED.format(name=text_of(root)) if from_project else UNTRACED])
        decision.note = clients.imports_openai or from_project
        return decision
    blocked, info = host_reasons(client, options)
    if blocked is not None:
        return left([blocked], host=client.host)
    if found.method in STORED_METHODS:
        return left([STORED.format(method=found.method)], host=client.host)
    arguments = found.call.child_by_field_name("arguments")
    given = members(arguments) if arguments is not None else []
    if len(given) not in (1, 2) or given[0].type != "object":  # a second argument is the request options, kept
        return left(["the request is not an object literal the codemod can read; rename its keys by the table in "
                     "docs/mapping.md"], host=client.host)
    try:
        decision = _plan(found, given[0], options, data, zod, client.host_kind == "azure")
    except NotLiteral as exc:
        decision = left([str(exc)])
    decision.host = client.host
    if decision.verdict != "left for a person":
        decision.reasons = [*info, *decision.reasons]
    return decision


def _plan(found: ChatCall, obj: Node, options: Options, data: bytes, zod: Zod, azure: bool = False) -> Decision:
    helpers: dict[str, tuple[str, str]] = {}
    zods: dict[str, int] = {}
    helper = text_format(obj, zod) if found.method in ("parse", "stream") else None
    if helper is not None:
        helpers["response_format"] = ("text", helper)
        zods[CHAT] = 1
    tools = zod_tools(obj, zod)
    if isinstance(tools, str):
        return left([tools])
    if tools is not None:
        helpers["tools"] = ("tools", tools[0])
        zods[CHAT_TOOL] = tools[1]
    shared = Shared()
    planned = plan_request(obj, options, data, helpers, shared)
    if isinstance(planned, str):
        return left([planned], "unsafe" if planned.endswith(UNSAFE_HINT) else "display")
    writer, notes, applicability, body = planned
    writer.edits.append((found.path[0], found.path[1], "responses"))
    stream = body.get("stream") is True
    held: list[str] = []
    if found.method == "stream":
        from .stream_helper import helper_reads  # it reads results with this module's ``result_reads``

        reads = helper_reads(found, writer, notes, held, shared)
    else:
        reads = _stream_loop(found, writer) if stream else result_reads(found, writer, found.method == "parse", shared, held)
    if azure:
        notes.extend(azure_notes(body))
    if held and reads is None:
        if not options.unsafe_fixes:
            return left([f"{held[0]} (--unsafe-fixes applies the rename)"], "unsafe")
        applicability = "unsafe"
        notes.extend(held)
    if reads == "unsafe":
        if not options.unsafe_fixes:
            return left(["the loop body does other work besides the text deltas; under the event test it runs for "
                         "text events only (--unsafe-fixes applies it)"], "unsafe")
        applicability = "unsafe"
        notes.append("the loop body now runs for text delta events only (it ran for every chunk)")
    elif reads is not None:
        return left([reads])
    verdict: Verdict = "migrated with notes" if notes else "migrated"
    return Decision(verdict, applicability, notes, writer.edits, notes, zod=zods, shared=shared)


def chain(use: Node) -> tuple[Node, list[Segment]]:
    """The longest ``use.a[0].b`` read that starts at ``use``, and its segments."""
    node = use
    segments: list[Segment] = []
    while node.parent is not None:
        parent = node.parent
        if parent.type == "member_expression" and same(parent.child_by_field_name("object"), node):
            prop = parent.child_by_field_name("property")
            if prop is None:
                break
            segments.append(text_of(prop))
        elif parent.type == "subscript_expression" and same(parent.child_by_field_name("object"), node):
            index = parent.child_by_field_name("index")
            if index is None or index.type != "number" or not text_of(index).isdigit():
                break
            segments.append(int(text_of(index)))
        elif parent.type == "non_null_expression":  # TypeScript's ``r.choices[0]!.message``
            pass
        else:
            break
        node = parent
    return node, segments


def _bound(call: Node) -> tuple[str, Node] | Node | None:
    """The name the result is bound to and its declaration, or the node a read is chained on, or None
    when the result is dropped; raises NotLiteral when it goes where the codemod cannot follow."""
    node = call
    parent = node.parent
    if parent is not None and parent.type == "await_expression":
        node, parent = parent, parent.parent
    if parent is None or parent.type == "expression_statement":
        return None
    if parent.type == "variable_declarator":
        name = parent.child_by_field_name("name")
        if name is not None and name.type == "identifier" and node.type == "await_expression":
            return text_of(name), parent
    if parent.type == "parenthesized_expression" and node.type == "await_expression":
        return parent
    raise NotLiteral("the result is used whole (returned, passed on or not awaited): its readers use the Chat shape")


def result_reads(found: ChatCall, writer: Writer, parse: bool, shared: Shared, held: list[str] | None = None) -> str | None:
    """``held``: receives why the rename is unsafe (a name holding the text is tested against null)."""
    again = rebound(found.call, shared)  # ``response = await …create(…)`` again in a tool loop
    if again is not False:
        return again
    try:
        bound = _bound(found.call)
    except NotLiteral as exc:
        return str(exc)
    if bound is None:
        return None
    if isinstance(bound, tuple):
        name, declaration = bound
        starts = [(use, name) for use in uses_of(name, declaration)]
    else:
        starts = [(bound, text_of(bound))]
    context = ReadContext(writer, parse, _finish, shared.skip, shared.together)
    for use, base in starts:
        if use.type == "shorthand_property_identifier":
            return f"`{base}` is used whole: its readers use the Chat shape"
        top, segments = chain(use)
        followed = read(use, top, segments, context)  # names holding part of it, tool calls, usage patterns
        if isinstance(followed, str):
            return followed
        if followed:
            continue
        if segments == FINISH_REASON and use.type != "identifier":
            return "`finish_reason` is read on the call itself: bind the result to a name to have the test rewritten"
        if segments == FINISH_REASON:
            test = _finish(top, base, writer.style.quote)
            if isinstance(test, str):
                return test
            writer.edits.append((test[0].start_byte, test[0].end_byte, test[1]))
            continue
        if segments == CONTENT:
            no_text = null_test(top, base, writer.style.quote)
            if no_text is not None and use.type != "identifier":
                return "the text is compared with null on the call itself: bind the result to a name to have the test rewritten"
            if no_text is not None:
                writer.edits.append((no_text[0].start_byte, no_text[0].end_byte, no_text[1]))
                continue
            if held is not None:
                held.extend(held_null_notes(top, segments, base))
        new = rewrite_segments(segments, parse)
        if isinstance(new, str):
            return f"`{base}{'.' if segments and isinstance(segments[0], str) else ''}{spelled(segments)}`: {new}"
        if new != segments:
            writer.edits.append((use.end_byte, top.end_byte, after_base(new)))  # the read after its base
    return None


def _finish(read: Node, base: str, quote: str) -> tuple[Node, str] | str:
    """``r.choices[0].finish_reason === "length"`` → the Response's test, by the value tables
    (``finish_reason``, ``incomplete_reason``), as ``../finish_tests.py`` writes it for Python."""
    comparison = read.parent
    operator = comparison.child_by_field_name("operator") if comparison is not None else None
    if comparison is None or comparison.type != "binary_expression" or operator is None \
            or text_of(operator) not in ("===", "==", "!==", "!="):
        return f"`{base}.choices[0].finish_reason` is read other than compared with a string"
    left_, right = comparison.child_by_field_name("left"), comparison.child_by_field_name("right")
    other = right if same(left_, read) else left_
    value = string_of(other) if other is not None else None
    if value is None:
        return f"`{base}.choices[0].finish_reason` is compared with something other than a string literal"
    rule = _FINISH.get(value)
    if rule is None or rule.do is not RENAME or not rule.to:
        return f"`finish_reason === {value!r}` has no Response counterpart"
    called = f"{base}.{OUTPUT}.some((item) => item.type === {quote}{FUNCTION_CALL}{quote})"
    if value in ("tool_calls", "function_call"):
        test = called
    elif rule.to == "incomplete":
        reason = _REASON_OF.get(value)
        if reason is None:
            return f"no incomplete reason stands for `{value}`"
        test = (f"({base}.status === {quote}incomplete{quote} && "
                f"{base}.incomplete_details?.reason === {quote}{reason}{quote})")
    else:
        test = f"({base}.status === {quote}{rule.to}{quote} && !{called})"
    if text_of(operator).startswith("!"):
        test = f"!{test}" if test.startswith("(") else f"!({test})"
    elif test.startswith("(") and comparison.parent is not None and comparison.parent.type == "parenthesized_expression":
        test = test[1:-1]  # ``if (…)`` has its own parentheses
    return comparison, test


def _stream_loop(found: ChatCall, writer: Writer) -> str | None:
    """``for await (const chunk of stream)`` reading only ``chunk.choices[0]?.delta?.content``: the
    body goes under ``if (chunk.type === "response.output_text.delta")`` and reads ``chunk.delta``.
    Returns why not, or ``"unsafe"`` when the body does other work too."""
    try:
        bound = _bound(found.call)
    except NotLiteral:
        bound = None
    if not isinstance(bound, tuple):
        return "the stream is not bound to a name that a `for await` loop reads"
    name, declaration = bound
    uses = uses_of(name, declaration)
    loop = uses[0].parent if len(uses) == 1 else None
    if loop is None or not for_await_over(loop, uses[0]):
        return "the stream is used other than by one `for await` loop over its chunks"
    return chunk_loop(loop, writer)


def for_await_over(loop: Node, use: Node) -> bool:
    return loop.type == "for_in_statement" and same(loop.child_by_field_name("right"), use) \
        and any(c.type == "await" for c in loop.children)


def chunk_loop(loop: Node, writer: Writer) -> str | None:
    """The ``for await`` loop over a stream's chunks, rewritten (or why not; ``"unsafe"``: see ``_stream_loop``)."""
    var, body = loop.child_by_field_name("left"), loop.child_by_field_name("body")
    if var is None or body is None or var.type != "identifier":
        return "the loop's chunk is not one name"
    reads = uses_of(text_of(var), var)
    touched: list[Node] = []
    for use in reads:
        top, segments = chain(use)
        if segments != DELTA:
            return (f"the loop reads `{text_of(var)}.{spelled(segments)}`: only the text deltas have a one-to-one event "
                    "(`response.output_text.delta`)") if segments else f"the loop uses `{text_of(var)}` whole"
        writer.edits.append((top.start_byte, top.end_byte, f"{text_of(var)}.delta"))
        touched.append(top)
    if not touched:
        return "the loop does not read the text deltas"
    test = f"if ({text_of(var)}.type === {writer.style.quote}{TEXT_DELTA}{writer.style.quote})"
    data = writer.data
    if body.type != "statement_block":
        writer.edits.append((body.start_byte, body.start_byte, test + " "))
        return None
    statements = [s for s in body.named_children if s.type != "comment"]
    unsafe = any(not any(t.start_byte >= s.start_byte and t.end_byte <= s.end_byte for t in touched) for s in statements)
    inside = data[body.start_byte:body.end_byte]
    if b"\n" not in inside:
        writer.edits.append((body.start_byte + 1, body.start_byte + 1, f" {test} {{"))
        writer.edits.append((body.end_byte - 1, body.end_byte - 1, "} "))
        return "unsafe" if unsafe else None
    if _has_multiline_string(body):
        return "a multi-line string in the loop body would change if the body were indented"
    indent, step = indent_at(data, loop.start_byte), writer.style.step
    writer.edits.append((body.start_byte + 1, body.start_byte + 1, f"\n{indent}{step}{test} {{"))
    close = line_start(data, body.end_byte - 1)
    offset = data.find(b"\n", body.start_byte) + 1
    while 0 < offset <= close:
        end = data.find(b"\n", offset)
        if offset < close and data[offset:end].strip():
            writer.edits.append((offset, offset, step))
        offset = end + 1 if end >= 0 else -1
    if data[close:body.end_byte - 1].strip():
        return "the loop's closing brace shares a line with code"
    writer.edits.append((close, close, f"{indent}{step}}}\n"))
    return "unsafe" if unsafe else None


def _has_multiline_string(node: Node) -> bool:
    if node.type == "template_string" and b"\n" in (node.text or b""):
        return True
    return any(_has_multiline_string(c) for c in node.children)
