"""openai-node's streaming helper: ``chat.completions.stream({…})`` → ``responses.stream({…})``.

Both helpers are event emitters, with other event names and payloads (openai-node's
``lib/ChatCompletionStream`` and ``lib/responses/ResponseStream``; a test checks every pair below
against the pinned package's types). ``.on("content", (delta, snapshot) => …)`` takes positional
strings where the Responses helper passes one event, so its parameters become ``event`` and the
reads ``event.delta`` / ``event.snapshot``; the named events (``content.delta``…) keep their
one-object form with fields renamed. Iterating the helper yields chunks on the Chat side and typed
events on the Responses side: the ``for await`` loop is the stream loop rule's. The final
completion becomes ``finalResponse()``, read like any completion; ``finalContent()`` becomes its
``output_text``. Anything else (``chunk``, log probabilities, ``finalMessage()``, a handler defined
elsewhere) leaves the whole site for a person.
"""

from __future__ import annotations

from tree_sitter import Node

from ..reads import CONTENT
from .null_tests import held_null_notes
from .scope import same, uses_of
from .sites import TEXT_DELTA, ChatCall, chunk_loop, for_await_over, result_reads
from .splices import Writer
from .together import Shared
from .values import members, string_of, text_of

EVENTS: dict[str, tuple[str, dict[str, str]]] = {
    "content.delta": (TEXT_DELTA, {"delta": "delta", "snapshot": "snapshot"}),
    "content.done": ("response.output_text.done", {"content": "text"}),
    "refusal.delta": ("response.refusal.delta", {"delta": "delta"}),
    "refusal.done": ("response.refusal.done", {"refusal": "refusal"}),
    "tool_calls.function.arguments.delta": ("response.function_call_arguments.delta",
                                            {"arguments_delta": "delta", "arguments": "snapshot"}),
    "tool_calls.function.arguments.done": ("response.function_call_arguments.done", {"arguments": "arguments", "name": "name"}),
}
"""Chat helper event → (Responses helper event, payload field renames): the fields without an entry
(``parsed``, ``index``, ``parsed_arguments``, a refusal's snapshot) have no counterpart."""
POSITIONAL = {"content": ("content.delta", ("delta", "snapshot"))}
"""``on("content", (delta, snapshot) => …)``: the same event as ``content.delta``, its fields passed one by one."""
KEPT_EVENTS = frozenset({"connect", "error", "abort", "end"})
"""The emitter's own events, on both helpers."""
KEPT_MEMBERS = frozenset({"done", "abort", "controller", "ended", "errored", "aborted"})
HANDLERS = frozenset({"on", "once", "off"})
SNAPSHOT = ("`event.snapshot` is the text of the current output text part so far (the whole answer's text when it "
            "has one message, as Chat's snapshot was)")
FUNCTIONS = ("arrow_function", "function_expression", "function")
_EVENT_NAMES = ("event", "textEvent", "streamEvent")


def helper_reads(found: ChatCall, writer: Writer, notes: list[str], held: list[str], shared: Shared) -> str | None:
    """The handlers, loops and final reads of the helper's stream, rewritten; or why the site stays
    (``"unsafe"``: a ``for await`` body that does other work besides the text)."""
    plan = _Plan(writer, notes, held, shared)
    top = plan.follow(found.call)
    if isinstance(top, str) or top is None:
        return top
    parent = top.parent
    if parent is not None and parent.type == "await_expression":
        parent = parent.parent
    if parent is None or parent.type == "expression_statement":
        return plan.outcome()
    name = parent.child_by_field_name("name") if parent.type == "variable_declarator" else None
    if name is None or name.type != "identifier":
        return "the stream is used whole (returned or passed on): the Responses helper's events differ"
    for use in uses_of(text_of(name), parent):
        why = plan.use(use)
        if why is not None:
            return why
    return plan.outcome()


class _Plan:
    def __init__(self, writer: Writer, notes: list[str], held: list[str], shared: Shared) -> None:
        self.writer = writer
        self.notes = notes
        self.held = held
        self.shared = shared
        self.unsafe = False

    def note(self, message: str) -> None:
        if message not in self.notes:
            self.notes.append(message)

    def outcome(self) -> str | None:
        return "unsafe" if self.unsafe else None

    def use(self, use: Node) -> str | None:
        """One read of the name the stream is bound to."""
        loop = use.parent
        if loop is not None and for_await_over(loop, use):
            why = chunk_loop(loop, self.writer)
            self.unsafe = self.unsafe or why == "unsafe"
            return None if why == "unsafe" else why
        top = self.follow(use)
        if isinstance(top, str) or top is None:
            return top
        if same(top, use) or top.parent is None or top.parent.type != "expression_statement":
            return f"the stream `{text_of(use)}` is used whole (returned or passed on): the Responses helper's events differ"
        return None

    def follow(self, node: Node) -> Node | str | None:
        """Up the method chain on the stream ``node`` (``.on(…)`` returns the stream): the top of the
        chain, None when it ends in a method that was rewritten or kept, or why the site stays."""
        while True:
            member = node.parent
            if member is None or member.type != "member_expression" or not same(member.child_by_field_name("object"), node):
                return node
            prop = member.child_by_field_name("property")
            name = text_of(prop) if prop is not None else ""
            call = member.parent
            called = call is not None and call.type == "call_expression" and same(call.child_by_field_name("function"), member)
            if name in KEPT_MEMBERS:
                return None
            if name in HANDLERS and called:
                assert call is not None
                why = self.handler(call)
                if why is not None:
                    return why
                node = call
                continue
            if prop is not None and called and name == "finalChatCompletion":
                assert call is not None
                self.writer.edits.append((prop.start_byte, prop.end_byte, "finalResponse"))
                why = result_reads(ChatCall(call, node, "create", (0, 0)), self.writer, False, self.shared, self.held)
                return None if why is None else f"`finalChatCompletion()`: {why}"
            if prop is not None and called and name == "finalContent":
                assert call is not None
                return self.final_content(call, prop)
            return f"`.{name}` of the Chat stream helper has no counterpart on the Responses one"

    def final_content(self, call: Node, prop: Node) -> str | None:
        """``await s.finalContent()`` → ``(await s.finalResponse()).output_text``."""
        awaited = call.parent
        if awaited is None or awaited.type != "await_expression":
            return "`finalContent()` is not awaited where it is called: await `finalResponse()` and read its `output_text`"
        self.writer.edits.append((awaited.start_byte, awaited.start_byte, "("))
        self.writer.edits.append((prop.start_byte, prop.end_byte, "finalResponse"))
        self.writer.edits.append((awaited.end_byte, awaited.end_byte, ").output_text"))
        self.held.extend(held_null_notes(awaited, CONTENT, f"(await {text_of(call)})"))
        return None

    def handler(self, call: Node) -> str | None:
        """``.on(name, listener)``: the event's new name, the listener's parameters and reads."""
        arguments = call.child_by_field_name("arguments")
        given = members(arguments) if arguments is not None else []
        event = string_of(given[0]) if given else None
        if event is None or len(given) != 2:
            return "a stream handler whose event is not a string literal"
        if event in KEPT_EVENTS:
            return None
        kind, fields = POSITIONAL.get(event, (event, ()))
        if kind not in EVENTS:
            return f"the `{event}` event has no counterpart among the Responses stream helper's events"
        target, renames = EVENTS[kind]
        listener = given[1]
        if listener.type not in FUNCTIONS:
            return f"the `{event}` listener is defined elsewhere: give it the `{target}` event's fields"
        why = self.positional(listener, fields, renames) if fields else self.fields(listener, target, renames)
        if why is not None:
            return why
        literal = given[0]
        fragment = next((c for c in literal.children if c.type == "string_fragment"), None)
        if fragment is None:
            return "a stream handler whose event is not a string literal"
        self.writer.edits.append((fragment.start_byte, fragment.end_byte, target))
        return None

    def positional(self, listener: Node, fields: tuple[str, ...], renames: dict[str, str]) -> str | None:
        """``(delta, snapshot) => …`` → ``(event) => …`` reading ``event.delta`` / ``event.snapshot``."""
        params = _params(listener)
        if isinstance(params, str):
            return params
        names = [_simple(p) for p in params]
        if None in names or len(names) > len(fields):
            return "the `content` listener's parameters are not plain names"
        body = listener.child_by_field_name("body")
        if body is None:
            return "the `content` listener has no body"
        held = {name: renames[field] for name, field in zip(names, fields, strict=False) if name is not None}
        taken = {text_of(n) for n in _walk(listener) if n.type in ("identifier", "shorthand_property_identifier")}
        fresh = next((n for n in _EVENT_NAMES if n not in taken), None)
        if fresh is None:
            return "the `content` listener uses every name the event could take"
        edits: list[tuple[int, int, str]] = []
        for node in _walk(body):
            if node.type not in ("identifier", "shorthand_property_identifier") or text_of(node) not in held:
                continue
            if _bound_or_assigned(node):
                return f"the `content` listener declares or assigns `{text_of(node)}`"
            read = f"{fresh}.{held[text_of(node)]}"
            edits.append((node.start_byte, node.end_byte, f"{text_of(node)}: {read}" if node.type ==
                          "shorthand_property_identifier" else read))
            if held[text_of(node)] == "snapshot":
                self.note(SNAPSHOT.replace("event.", f"{fresh}."))
        parameters = listener.child_by_field_name("parameters")
        if parameters is not None:
            edits.append((parameters.start_byte, parameters.end_byte, f"({fresh})"))
        else:
            single = listener.child_by_field_name("parameter")
            assert single is not None
            edits.append((single.start_byte, single.end_byte, fresh))
        self.writer.edits.extend(edits)
        return None

    def fields(self, listener: Node, target: str, renames: dict[str, str]) -> str | None:
        """``({ content }) => …`` / ``(e) => e.content`` → the Responses event's field names."""
        params = _params(listener)
        if isinstance(params, str):
            return params
        if not params:
            return None
        if len(params) > 1:
            return f"the listener takes more than the `{target}` event"
        param = params[0]
        if param.type in ("required_parameter", "optional_parameter"):
            if param.child_by_field_name("type") is not None:
                return "the listener's event is typed with the Chat helper's type"
            pattern = param.child_by_field_name("pattern")
            if pattern is None:
                return "the listener's parameter is not a name or an object pattern"
            param = pattern
        edits: list[tuple[int, int, str]] = []
        if param.type == "object_pattern":
            for part in members(param):
                key = part if part.type == "shorthand_property_identifier_pattern" else \
                    part.child_by_field_name("key") if part.type == "pair_pattern" else None
                if key is None or text_of(key) not in renames:
                    return f"`{text_of(part)}` has no counterpart on the `{target}` event"
                new = renames[text_of(key)]
                if new != text_of(key):
                    edits.append((key.start_byte, key.end_byte, f"{new}: {text_of(key)}" if key is part else new))
                if new == "snapshot" and target == TEXT_DELTA:
                    self.note(SNAPSHOT)
        elif param.type == "identifier":
            body = listener.child_by_field_name("body")
            for node in _walk(body) if body is not None else []:
                if node.type not in ("identifier", "shorthand_property_identifier") or text_of(node) != text_of(param):
                    continue
                member = node.parent
                if member is None or member.type != "member_expression" or not same(member.child_by_field_name("object"), node):
                    return f"the listener uses `{text_of(node)}` whole, and the `{target}` event has other fields"
                prop = member.child_by_field_name("property")
                if prop is None or _bound_or_assigned(member) or text_of(prop) not in renames:
                    return f"the listener reads `{text_of(member)}`, which has no counterpart on the `{target}` event"
                new = renames[text_of(prop)]
                if new != text_of(prop):
                    edits.append((prop.start_byte, prop.end_byte, new))
                if new == "snapshot" and target == TEXT_DELTA:
                    self.note(SNAPSHOT.replace("event.", f"{text_of(param)}."))
        else:
            return "the listener's parameter is not a name or an object pattern"
        self.writer.edits.extend(edits)
        return None


def _params(listener: Node) -> list[Node] | str:
    parameters = listener.child_by_field_name("parameters")
    if parameters is not None:
        return [p for p in parameters.named_children if p.type != "comment"]
    single = listener.child_by_field_name("parameter")
    return [single] if single is not None else "the listener has no parameter list"


def _simple(param: Node) -> str | None:
    """A parameter's name when it is a plain name (a TypeScript annotation allowed: it goes with it)."""
    if param.type == "identifier":
        return text_of(param)
    if param.type == "required_parameter":
        pattern = param.child_by_field_name("pattern")
        if pattern is not None and pattern.type == "identifier" and param.child_by_field_name("value") is None:
            return text_of(pattern)
    return None


def _bound_or_assigned(node: Node) -> bool:
    """A name declared again inside the listener, or written to: not a read the event can stand for."""
    parent = node.parent
    if parent is None:
        return False
    if parent.type in ("assignment_expression", "augmented_assignment_expression"):
        return same(parent.child_by_field_name("left"), node)
    if parent.type == "update_expression":
        return True
    if parent.type == "variable_declarator":
        return same(parent.child_by_field_name("name"), node)
    return parent.type in ("formal_parameters", "required_parameter", "optional_parameter", "arrow_function",
                           "function_declaration", "function_expression", "catch_clause", "for_in_statement",
                           "object_pattern", "array_pattern", "pair_pattern", "assignment_pattern")


def _walk(node: Node) -> list[Node]:
    out: list[Node] = []
    stack = [node]
    while stack:
        current = stack.pop()
        out.append(current)
        stack.extend(current.children)
    return out
