"""The reads of a result that go past one chain: names that hold part of it, tool-call loops, usage patterns.

As ``../reads.py`` and ``../sdk_site.py`` do for Python: ``const message = r.choices[0].message``
makes ``message`` stand for ``r`` itself (``choice`` too; ``usage = r.usage`` stays), and its reads
are renamed as the result's; ``message.tool_calls`` becomes the ``function_call`` items of
``r.output``, and in a ``for … of`` loop (or a ``.map``/``.forEach`` callback) over them each call's
fields are renamed by the ``chat.completion_message.tool_call`` table; a destructured usage
(``const { prompt_tokens } = r.usage``) gets its keys renamed by the usage table, the local names
kept. Whatever the codemod cannot follow leaves the site, with the reason.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from tree_sitter import Node

from ...mapping.rules import TABLES
from ..finish_tests import FUNCTION_CALL, OUTPUT
from ..reads import ALIASES, FINISH_REASON, TOOL_CALLS, Segment, rewrite_segments, spelled, table_walk, tool_call_segments
from .held_literals import is_const
from .scope import same, uses_of
from .splices import Writer
from .together import Shared
from .values import text_of

_USAGE = TABLES["chat.usage"]
ITERATORS = frozenset({"map", "forEach", "flatMap"})
"""Array methods whose callback's first parameter is each tool call."""
_TESTS = ("if_statement", "while_statement", "do_statement", "ternary_expression")
FinishTest = Callable[[Node, str, str], "tuple[Node, str] | str"]


@dataclass
class ReadContext:
    """What one site's reads share: the edits' writer, whether the call is ``parse``, the nodes the
    ``messages`` plan takes whole (an answer's message pushed back), and ``finish_reason`` tests."""

    writer: Writer
    parse: bool
    finish: FinishTest
    skip: set[tuple[int, int]] = field(default_factory=set)
    together: list[tuple[str, frozenset[int]]] = field(default_factory=list)
    """Calls that must be migrated with this one (``together.py``): those that bind the result's name again."""


AGAIN = "`{name}` is bound again to a call that is not migrated with this one"


def _assigned_call(target: Node) -> Node | None:
    """``target = await X.chat.completions.create(…)``: the call, when ``target`` is the name assigned."""
    assignment = target.parent
    if assignment is None or assignment.type != "assignment_expression" \
            or not same(assignment.child_by_field_name("left"), target):
        return None
    value = assignment.child_by_field_name("right")
    if value is None or value.type != "await_expression" or not value.named_children:
        return None
    call = value.named_children[0]
    return call if call.type == "call_expression" else None


def rebound(call: Node, shared: Shared) -> str | Literal[False] | None:
    """A call whose result goes to a ``let`` name that an earlier chat call declared (the tool loop's
    next turn): the reads are planned with the declaring call, and the two are migrated together.
    False: not such a call; None: planned so; a string: why the site is left."""
    awaited = call.parent
    target = awaited.parent.child_by_field_name("left") if awaited is not None and awaited.type == "await_expression" \
        and awaited.parent is not None and awaited.parent.type == "assignment_expression" else None
    if target is None or _assigned_call(target) is None:
        return False
    if target.type != "identifier":
        return "the result is assigned where the codemod cannot follow its reads"
    from .messages import declarator_of

    name = text_of(target)
    declarator = declarator_of(name, target)
    value = declarator.child_by_field_name("value") if declarator is not None else None
    first = value.named_children[0] if value is not None and value.type == "await_expression" and value.named_children else None
    if first is None or first.type != "call_expression":
        return f"`{name}` is not declared with the result of a chat call: its reads cannot be tied to this call"
    shared.together.append((AGAIN.format(name=name), frozenset({first.start_byte})))
    return None


def function_calls(quote: str) -> str:
    """What a chat message's ``tool_calls`` is on a Response: its function_call items."""
    return f".{OUTPUT}.filter((item) => item.type === {quote}{FUNCTION_CALL}{quote})"


def _called(quote: str) -> str:
    return f".{OUTPUT}.some((item) => item.type === {quote}{FUNCTION_CALL}{quote})"


def after_base(segments: list[Segment]) -> str:
    """A read as written after its base: ``.output_text``, ``[0].name``."""
    text = spelled(segments)
    return text if not text or text.startswith("[") else "." + text


def read(use: Node, top: Node, segments: list[Segment], ctx: ReadContext,
         prefix: list[Segment] | None = None, held: list[Segment] | None = None) -> str | bool:
    """One read of a result (or of a name holding ``prefix`` of it, which now holds ``held``).
    True: handled here (edits made); False: an ordinary chain, the caller renames it; a string: why
    the site is left."""
    prefix = prefix or []
    full = [*prefix, *segments]
    base = text_of(use)
    if (use.start_byte, use.end_byte) in ctx.skip or (top.start_byte, top.end_byte) in ctx.skip:
        return True
    again = _assigned_call(use) if not segments else None
    if again is not None:  # bound again by the loop's next call: read alike, migrated with it
        ctx.together.append((AGAIN.format(name=base), frozenset({again.start_byte})))
        return True
    if tuple(full) in ALIASES and segments:
        declarator = top.parent
        name = declarator.child_by_field_name("name") if declarator is not None else None
        if declarator is not None and declarator.type == "variable_declarator" and same(declarator.child_by_field_name("value"), top) \
                and name is not None:
            new = ALIASES[tuple(full)]
            if name.type == "object_pattern" and full == ["usage"]:
                return _usage_pattern(name, [], ctx)
            if name.type != "identifier" or not is_const(declarator):
                return f"`{text_of(top)}` is held where the codemod cannot follow it"
            strip = held or []
            if new[:len(strip)] != strip:
                return f"`{spelled(full)}` is read through a name that holds another part of the result"
            if new != full:
                ctx.writer.edits.append((use.end_byte, top.end_byte, after_base(new[len(strip):])))
            return _alias(text_of(name), declarator, full, new, ctx)
    if full == ["usage"] and top.parent is not None and top.parent.type == "variable_declarator" \
            and same(top.parent.child_by_field_name("value"), top):
        pattern = top.parent.child_by_field_name("name")
        if pattern is not None and pattern.type == "object_pattern":
            return _usage_pattern(pattern, [], ctx)
    if full[:4] == TOOL_CALLS:
        return _tool_calls(use, top, full[4:], ctx, held)
    if full == FINISH_REASON and prefix:
        test = ctx.finish(top, base, ctx.writer.style.quote)
        if isinstance(test, str):
            return test
        ctx.writer.edits.append((test[0].start_byte, test[0].end_byte, test[1]))
        return True
    if prefix:
        renamed = rewrite_segments(full, ctx.parse)
        if isinstance(renamed, str):
            return f"`{base}{after_base(segments)}`: {renamed}"
        strip = held or []
        if renamed[:len(strip)] != strip:
            return f"`{spelled(full)}` is read through a name that holds another part of the result"
        if renamed[len(strip):] != segments:
            ctx.writer.edits.append((use.end_byte, top.end_byte, after_base(renamed[len(strip):])))
        return True
    return False


def _alias(name: str, declarator: Node, part: list[Segment], held: list[Segment], ctx: ReadContext) -> str | bool:
    """``const message = r.choices[0].message``: the reads of ``message``, as reads of ``r``'s ``part``."""
    from .sites import chain  # the chain reader lives with the site (which imports this module)

    for use in uses_of(name, declarator):
        if use.type == "shorthand_property_identifier":
            return f"`{name}` is used whole: its readers use the Chat shape"
        top, segments = chain(use)
        done = read(use, top, segments, ctx, part, held)
        if isinstance(done, str):
            return done
    return True


def _tool_calls(use: Node, top: Node, rest: list[Segment], ctx: ReadContext, held: list[Segment] | None) -> str | bool:
    """``….tool_calls`` → the function_call items of the output; the loops over them followed."""
    quote = ctx.writer.style.quote
    if held:
        return "the tool calls are read through a name that holds another part of the result"
    calls = function_calls(quote)
    if rest and isinstance(rest[0], int):
        fields = tool_call_segments(rest[1:]) if rest[1:] else []
        if isinstance(fields, str):
            return fields
        read_on = after_base(fields)
        written = text_of(top)[len(text_of(use)):]
        if "?." in written[written.find("tool_calls"):]:  # ``tool_calls?.[0]?.function``: there may be no call
            read_on = read_on.replace(".", "?.")
        ctx.writer.edits.append((use.end_byte, top.end_byte, f"{calls}[{rest[0]}]{read_on}"))
        return True
    if rest == ["length"]:
        ctx.writer.edits.append((use.end_byte, top.end_byte, f"{calls}.length"))
        return True
    if rest and rest[0] in ITERATORS and len(rest) == 1:
        call = top.parent
        arguments = call.child_by_field_name("arguments") if call is not None and call.type == "call_expression" else None
        callback = arguments.named_children[0] if arguments is not None and arguments.named_children else None
        why = _callback(callback, ctx)
        if isinstance(why, str):
            return why
        ctx.writer.edits.append((use.end_byte, top.end_byte, f"{calls}.{rest[0]}"))
        return True
    if rest:
        return (f"`tool_calls.{spelled(rest)}`: the tool calls are used where the reads of each call cannot be "
                "followed (loop over them, or test them, where the call is made)")
    outer = top
    parent = outer.parent
    defaulted: Node | None = None
    if parent is not None and parent.type == "binary_expression" and same(parent.child_by_field_name("left"), outer) \
            and text_of(parent.child_by_field_name("operator") or parent) in ("??", "||"):
        right = parent.child_by_field_name("right")
        if right is not None and right.type == "array" and not right.named_children:
            outer = defaulted = parent  # ``message.tool_calls ?? []``: the items are an array already
    while outer.parent is not None and outer.parent.type == "parenthesized_expression" \
            and outer.parent.parent is not None and outer.parent.parent.type == "member_expression":
        outer = outer.parent
    parent = outer.parent
    if parent is not None and parent.type == "for_in_statement" and same(parent.child_by_field_name("right"), outer) \
            and any(c.type == "of" for c in parent.children):
        why = _loop(parent, ctx)
        if isinstance(why, str):
            return why
        _replace_list(use, top, defaulted, calls, ctx)
        return True
    if parent is not None and parent.type == "member_expression" and same(parent.child_by_field_name("object"), outer):
        prop = parent.child_by_field_name("property")
        method = text_of(prop) if prop is not None else ""
        call = parent.parent
        arguments = call.child_by_field_name("arguments") if call is not None and call.type == "call_expression" else None
        callback = arguments.named_children[0] if arguments is not None and arguments.named_children else None
        if method in ITERATORS and callback is not None:
            why = _callback(callback, ctx)
            if isinstance(why, str):
                return why
            _replace_list(use, top, defaulted, calls, ctx)
            return True
        if method == "length":
            _replace_list(use, top, defaulted, calls, ctx)
            return True
    if _tested(outer):
        ctx.writer.edits.append((use.end_byte, top.end_byte, _called(quote)))
        return True
    return "the tool calls are used where the reads of each call cannot be followed (loop over them, or test them)"


def _replace_list(use: Node, top: Node, defaulted: Node | None, calls: str, ctx: ReadContext) -> None:
    ctx.writer.edits.append((use.end_byte, top.end_byte, calls))
    if defaulted is not None:
        ctx.writer.edits.append((top.end_byte, defaulted.end_byte, ""))  # `?? []` goes: a filter gives an array


def _tested(node: Node) -> bool:
    """Whether ``node`` is read for its truth only (``if (m.tool_calls)``, ``!m.tool_calls``, ``a && …``)."""
    parent = node.parent
    while parent is not None and parent.type == "parenthesized_expression":
        node, parent = parent, parent.parent
    if parent is None:
        return False
    if parent.type == "unary_expression" and text_of(parent.child_by_field_name("operator") or parent) == "!":
        return True
    if parent.type == "binary_expression" and text_of(parent.child_by_field_name("operator") or parent) in ("&&", "||"):
        return _tested(parent)
    if parent.type in _TESTS:
        condition = parent.child_by_field_name("condition")
        return condition is not None and (same(condition, node) or same(condition, parent))
    return False


def _loop(loop: Node, ctx: ReadContext) -> str | None:
    var, body = loop.child_by_field_name("left"), loop.child_by_field_name("body")
    if var is None or body is None or var.type != "identifier":
        return "the loop over the tool calls does not name each call with one name"
    return _each_call(text_of(var), var, body, ctx)


def _callback(callback: Node | None, ctx: ReadContext) -> str | None:
    if callback is None or callback.type not in ("arrow_function", "function_expression", "function"):
        return "the tool calls are passed to a function the codemod cannot follow"
    single = callback.child_by_field_name("parameter")
    params = callback.child_by_field_name("parameters")
    first = single if single is not None else (params.named_children[0] if params is not None and params.named_children else None)
    if first is not None and first.type in ("required_parameter", "optional_parameter"):
        first = first.child_by_field_name("pattern")
    body = callback.child_by_field_name("body")
    if first is None or first.type != "identifier" or body is None:
        return "the callback over the tool calls does not name each call with one name"
    return _each_call(text_of(first), first, body, ctx)


def _each_call(name: str, var: Node, body: Node, ctx: ReadContext) -> str | None:
    """The reads of one tool call in the body: ``.function.name`` → ``.name``… by the tool-call table."""
    from .sites import chain

    for use in uses_of(name, var):
        if use.start_byte < body.start_byte or use.end_byte > body.end_byte:
            continue
        top, segments = chain(use)
        if not segments or use.type != "identifier":
            return f"the tool call `{name}` is used whole"
        new = tool_call_segments(segments)
        if isinstance(new, str):
            return new
        if new != segments:
            ctx.writer.edits.append((use.end_byte, top.end_byte, after_base(new)))
    return None


def _usage_pattern(pattern: Node, at: list[Segment], ctx: ReadContext) -> str | bool:
    """``const { prompt_tokens, completion_tokens: out } = r.usage``: each key renamed by the usage
    table (the local names stay); a nested ``…_details`` pattern by its level of the table."""
    for member in pattern.named_children:
        if member.type == "comment":
            continue
        if member.type == "shorthand_property_identifier_pattern":
            key, target = text_of(member), member
        elif member.type == "object_assignment_pattern":
            left_ = member.child_by_field_name("left")
            if left_ is None or left_.type != "shorthand_property_identifier_pattern":
                return "a usage pattern the codemod cannot read"
            key, target = text_of(left_), left_
        elif member.type == "pair_pattern":
            key_node, value = member.child_by_field_name("key"), member.child_by_field_name("value")
            if key_node is None or value is None or key_node.type != "property_identifier":
                return "a computed key in the usage pattern"
            key, target = text_of(key_node), key_node
        else:
            return ("the usage is destructured with a rest element: it would hold the Response's usage names; "
                    "rename its readers by the `chat.usage` table (docs/mapping.md)")
        walked = table_walk(_USAGE, [*at, key])
        if isinstance(walked, str):
            return walked
        new = walked[-1]
        assert isinstance(new, str)
        if member.type == "pair_pattern":
            value = member.child_by_field_name("value")
            assert value is not None
            if value.type == "object_pattern":
                if not key.endswith("_details"):
                    return f"`usage.{key}` is destructured further"
                inner = _usage_pattern(value, [*at, key], ctx)
                if isinstance(inner, str):
                    return inner
            if new != key:
                ctx.writer.edits.append((target.start_byte, target.end_byte, new))
        elif new != key:
            ctx.writer.edits.append((target.start_byte, target.start_byte, f"{new}: "))
    return True
