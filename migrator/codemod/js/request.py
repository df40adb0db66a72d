"""A request object literal, read as a chat request and rewritten from the engine's output.

Shared by the SDK's ``create``/``parse`` calls and the raw HTTP posts (``JSON.stringify({…})``):
the literal becomes JSON with holes, ``migrator.translate`` gives the Responses body and its
losses, the literal is rewritten key by key, and every removed key is named in a note with the
table's reason.
"""

from __future__ import annotations

from typing import Any

from tree_sitter import Node

from ...mapping.rules import DROP, TABLES
from ..call import bool_passes_through, translate_args, why_lossless
from ..outcome import Applicability, Options
from .held_literals import TYPED, Held, held_literal
from .messages import plain_messages
from .splices import Writer, has_comment, indent_at
from .together import Shared
from .values import Holes, Style, key_of, members, named, text_of, to_value

_REQUEST = TABLES["chat.request"]
LITERALS = frozenset({"string", "template_string", "number", "unary_expression", "true", "false", "null", "object", "array"})
_PLACEHOLDER_MESSAGES = [{"role": "user", "content": "x"}]
MESSAGES_HELD = ("`input` takes role/content text messages as they are, but tool results, assistant tool calls and "
                 "content parts change shape (docs/mapping.md)")
UNSAFE_HINT = "--unsafe-fixes renames it to `input`"
ENCRYPTED_REASONING = "reasoning.encrypted_content"
ENCRYPTED_NOTE = (f"added `include: [\"{ENCRYPTED_REASONING}\"]`: the output this call's input sends back holds a "
                  "reasoning model's reasoning items, which a request with `store: false` can only send back encrypted")

Planned = tuple[Writer, list[str], Applicability, dict[str, Any]]
"""The edits so far, the notes, the applicability, and the chat body as read (holes and all)."""


def plan_request(obj: Node, options: Options, data: bytes, helpers: dict[str, tuple[str, str]] | None = None,
                 shared: Shared | None = None) -> Planned | str:
    """The rewrite of the request literal ``obj``, or why it stays. ``helpers``: keys the engine does
    not see, written as given (``response_format: zodResponseFormat(…)`` → ``text: {format: zodTextFormat(…)}``).
    ``shared``: given for an SDK call, whose ``messages`` array may be a tool loop's and whose
    literals may be held in names (what the rewrite shares with other calls goes there)."""
    helpers = helpers or {}
    held: dict[str, Held] = {}
    items = None
    holes = Holes()
    body: dict[str, Any] = {}
    sources: dict[str, Node] = {}
    dropped: list[str] = []
    held_messages: str | None = None
    notes: list[str] = []
    applicability: Applicability = "safe"
    for member in members(obj):
        key: str | None
        value: Node | None
        if member.type == "shorthand_property_identifier":
            key, value = text_of(member), member
        elif member.type == "pair":
            key, value = key_of(member), member.child_by_field_name("value")
        else:
            return "passes keys the codemod cannot see (a spread or a method); rename them by the table in docs/mapping.md"
        if key is None or value is None:
            return "a computed key in the request"
        sources[key] = member
        if key in helpers:
            continue
        rule = _REQUEST.get(key)
        if value.type in LITERALS:
            body[key] = to_value(value, holes)
            continue
        source = text_of(value)
        if key == "messages":
            why = plain_messages(source, value) if value.type in ("identifier", "shorthand_property_identifier") else \
                (f"`messages` is `{named(source)}`", False)
            if why is not None and shared is not None and value.type in ("identifier", "shorthand_property_identifier"):
                from .tool_messages import plan_items  # it reads request styles from this module

                planned_items = plan_items(source, value, data)
                if isinstance(planned_items, str):
                    why = (planned_items, True) if why[1] else why
                else:
                    why, items = None, planned_items
            if why is not None and why[1]:
                return f"{why[0]}; {MESSAGES_HELD}"
            if why is not None and not options.unsafe_fixes:
                return f"{why[0]}; {MESSAGES_HELD}; {UNSAFE_HINT}"
            held_messages = source
            body[key] = _PLACEHOLDER_MESSAGES
            if why is not None:
                notes.append(f"`input` is `{named(source)}`: {MESSAGES_HELD}")
                applicability = "unsafe"
            continue
        found = held_literal(key, value) if shared is not None and rule is not None and rule.do is not DROP \
            and value.type in ("identifier", "shorthand_property_identifier") and not {str, int} & set(rule.types) else None
        if isinstance(found, str):
            return found
        if found is not None:
            held[key] = found
            body[key] = to_value(found.literal, holes)
            continue
        if rule is None:
            body[key] = holes.string(source)
        elif rule.do is DROP:
            dropped.append(key)
        elif key == "stream":
            return f"`stream` is `{named(source)}`: whether the result is a stream is decided at run time"
        elif str in rule.types:
            body[key] = holes.string(source)
        elif int in rule.types:
            body[key] = holes.integer(source)
        elif dict in rule.types:
            body[key] = {holes.string(source): 0}
        elif bool in rule.types and bool_passes_through(key, (rule.to or key).split(".")[0],
                                                         {"model": "m", "messages": _PLACEHOLDER_MESSAGES}):
            body[key] = holes.string(source)
        else:
            return f"`{key}` is not a literal, and the engine must read its value to convert it"
    if "messages" not in body:
        return "the request has no `messages` key"
    translated = translate_args(body, holes, options.hoist_instructions)
    if isinstance(translated, str):
        return f"the request is not a valid chat request: {translated}"
    out, losses = translated
    if holes.stray(out):
        return "the engine must read a value that is not a literal to convert it"
    renames = {k: (_REQUEST[k].to or k).split(".")[0] for k in body if k in _REQUEST}
    if held_messages is not None:
        body["messages"] = out[renames["messages"]] = holes.string(held_messages)
    defined: list[tuple[Any, Any, Node]] = []
    for key, literal in held.items():  # written where the name is defined; the request keeps the name
        target = renames.get(key, key)
        if target not in out or sum(renames.get(k, k) == target for k in body) > 1:
            return f"`{key}` is `{literal.name}`, which the engine does not carry to a key of its own: rewrite it by hand"
        if out[target] != body[key] and has_comment(literal.literal):
            return f"a comment inside the literal of `{literal.name}` would be lost in its rewrite"
        defined.append((out[target], body[key], literal.literal))
        body[key] = out[target] = holes.string(text_of(value_of(sources[key])))
        if literal.annotation is not None:
            notes.append(TYPED.format(name=literal.name, type=literal.annotation, what="tools", new="Tool[]"))
        assert shared is not None
        shared.together.append((f"`{literal.name}` is also passed to a chat call that is left for a person", literal.calls))
    if items is not None:
        assert shared is not None
        notes.extend(items.notes)
        shared.skip |= items.skip
        shared.together.append((f"`{held_messages}` also goes to a chat call that is left for a person", frozenset(items.calls)))
        shared.together.append((f"`{held_messages}` takes the answer of a chat call that is left for a person",
                                frozenset(items.answers)))
        if items.answers and out.get("store") is False and "include" not in out:
            out["include"] = [ENCRYPTED_REASONING]
            notes.append(ENCRYPTED_NOTE)
    for key, (target, text) in helpers.items():
        if key not in sources or target in out:
            return f"`{key}` and the engine's `{target}` would both be written"
        renames[key], body[key], out[target] = target, holes.string(text_of(sources[key])), holes.string(text)
    noted: set[str] = set(dropped)
    for loss in losses:
        path = loss.path[2:]
        noted.add(path)
        removed = sources.get(path)
        if removed is not None and renames.get(path, path) not in out:
            notes.append(f"removed `{member_text(removed)}`: {loss.reason}")
        else:
            notes.append(f"{path}: {loss.reason}")
    for key in dropped:
        notes.append(f"removed `{member_text(sources[key])}`: {_REQUEST[key].reason}")
    for key, member in sources.items():
        if key not in noted and key in _REQUEST and renames[key] not in out:
            notes.append(f"removed `{member_text(member)}`: {why_lossless(key, body.get(key))}")
    writer = Writer(data, holes, style_of(obj, data))
    writer.object(out, body, obj, renames)
    for new, old, literal_node in defined:
        inner = Writer(data, holes, style_of(literal_node, data))
        inner.value(new, old, literal_node)
        writer.edits.extend(inner.edits)
    if items is not None:
        writer.edits.extend(items.edits)
    return writer, notes, applicability, body


def value_of(member: Node) -> Node:
    """A request member's value node (a shorthand ``{ tools }`` is its own value)."""
    if member.type == "pair":
        value = member.child_by_field_name("value")
        assert value is not None
        return value
    return member


def member_text(member: Node) -> str:
    """``seed: 42`` and the comment beside it, if any: what a removed key's note keeps."""
    text = " ".join(text_of(member).split())
    after = member.next_sibling
    if after is not None and after.type == ",":
        after = after.next_sibling
    if after is not None and after.type == "comment" and after.start_point[0] == member.end_point[0]:
        text += "  " + text_of(after)
    return text


def style_of(obj: Node, data: bytes) -> Style:
    """The literal's own style: its first string's quote, its indentation step, quoted keys or bare,
    a trailing comma or none."""
    quote = '"'
    stack = [obj]
    while stack:
        current = stack.pop(0)
        if current.type == "string":
            quote = text_of(current)[0]
            break
        stack.extend(current.children)
    entries = members(obj)
    quoted_keys = any(m.type == "pair" and (k := m.child_by_field_name("key")) is not None and k.type == "string"
                      for m in entries)
    step = "  "
    multiline = b"\n" in data[obj.start_byte:obj.end_byte]
    if entries and multiline:
        inner, outer = indent_at(data, entries[0].start_byte), indent_at(data, obj.start_byte)
        if len(inner) > len(outer) and inner.startswith(outer):
            step = inner[len(outer):]
    last = entries[-1] if entries else None
    trailing = not multiline or (last is not None and last.next_sibling is not None and last.next_sibling.type == ",")
    return Style(quote if quote in "'\"" else '"', step, quoted_keys, trailing)
