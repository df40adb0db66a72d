"""A ``messages`` array that a tool loop grows: the answer's message and ``role: "tool"`` results pushed back.

As ``../messages.py`` does for Python: the answer's own message pushed back
(``messages.push(message)`` with ``const message = r.choices[0].message``, or the read itself)
becomes ``messages.push(...message.output)``, the Responses way of keeping the turn with its
function calls; a literal message whose shape changes (a tool result) is rewritten by the engine
(``{ type: "function_call_output", call_id, output }``), its values kept as written. The array
then holds Responses items, so every chat call that reads it, and every call whose answer goes in,
is migrated together or none is (``together.py``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tree_sitter import Node

from ...errors import MappingError
from ...mapping import translate
from ..easy_message import taken_as_is
from ..finish_tests import OUTPUT
from ..reads import MESSAGE
from .held_literals import TYPED, annotation, const_declarator, request_call
from .messages import declarator_of, pushed_messages
from .scope import same, uses_of
from .splices import Edit, Writer
from .values import Holes, NotLiteral, members, text_of, to_value


@dataclass
class Items:
    """The rewrite of one array: its edits, the reads it takes whole, the calls that must migrate with it."""

    edits: list[Edit] = field(default_factory=list)
    skip: set[tuple[int, int]] = field(default_factory=set)
    calls: set[int] = field(default_factory=set)  # the chat calls that read the array
    answers: set[int] = field(default_factory=set)  # the chat calls whose answers go in
    notes: list[str] = field(default_factory=list)


def plan_items(name: str, at: Node, data: bytes) -> Items | str:
    """The rewrite of the array ``name`` (passed as ``messages`` at ``at``), or why not."""
    declarator = declarator_of(name, at)
    value = declarator.child_by_field_name("value") if declarator is not None else None
    if declarator is None or value is None or value.type != "array":
        return f"`{name}` is not an array literal declared in this function"
    plan = Items()
    typed = annotation(declarator)
    if typed is not None:
        plan.notes.append(TYPED.format(name=name, type=typed, what="input items", new="ResponseInputItem[]"))
    messages: list[Node] = list(members(value))
    for use in uses_of(name, declarator):
        call = request_call(use, "messages")
        if call is not None:
            plan.calls.add(call.start_byte)
            continue
        pushed = pushed_messages(use)
        if pushed is None:
            return f"`{name}` is used otherwise than by `{name}.push(…)` and chat requests"
        messages.extend(pushed)
    for message in messages:
        why = _message(message, data, plan)
        if why is not None:
            return f"`{name}` receives {why}"
    return plan


def _answer(message: Node) -> tuple[str, Node] | None:
    """``r.choices[0].message`` or a const bound to it: the name to spread the output of, and the
    call that gave ``r``."""
    from .sites import chain  # the chain reader lives with the site (which imports this module)

    spread = text_of(message)
    if message.type == "identifier":
        declarator = const_declarator(spread, message)
        held = declarator.child_by_field_name("value") if declarator is not None else None
        if held is None:
            return None
        message = held
    node = message
    while node.type in ("member_expression", "subscript_expression", "non_null_expression"):
        inner = node.child_by_field_name("object") or (node.named_children[0] if node.named_children else None)
        if inner is None:
            return None
        node = inner
    if node.type != "identifier":
        return None
    top, segments = chain(node)
    if not same(top, message) or segments != MESSAGE:
        return None
    answer = declarator_of(text_of(node), node)
    value = answer.child_by_field_name("value") if answer is not None else None
    if value is not None and value.type == "await_expression" and value.named_children:
        value = value.named_children[0]
    if value is None or value.type != "call_expression":
        return None
    return (spread if spread.isidentifier() else text_of(node)), value


def mapped_literal(message: Node) -> Node | None:
    """``...calls.map((call) => ({ role: "tool", … }))``: the object literal each element becomes
    (an arrow whose body is the literal, or a block that only returns it); None for anything else."""
    if message.type != "spread_element" or not message.named_children:
        return None
    call = message.named_children[0]
    function = call.child_by_field_name("function") if call.type == "call_expression" else None
    prop = function.child_by_field_name("property") if function is not None and function.type == "member_expression" else None
    arguments = call.child_by_field_name("arguments") if call.type == "call_expression" else None
    given = members(arguments) if arguments is not None else []
    if prop is None or text_of(prop) != "map" or len(given) != 1 or given[0].type != "arrow_function":
        return None
    body = given[0].child_by_field_name("body")
    if body is not None and body.type == "statement_block":
        body = _only_return(body)
    while body is not None and body.type == "parenthesized_expression" and body.named_children:
        body = body.named_children[0]
    return body if body is not None and body.type == "object" else None


_FUNCTIONS = frozenset({"arrow_function", "function_expression", "function_declaration", "method_definition",
                        "generator_function", "generator_function_declaration", "class_body"})


def _only_return(block: Node) -> Node | None:
    """The value of a block's last statement when it is the block's only ``return`` (nested
    functions' returns are theirs)."""
    statements = block.named_children
    last = statements[-1] if statements else None
    if last is None or last.type != "return_statement" or not last.named_children:
        return None
    stack = list(statements[:-1])
    while stack:
        node = stack.pop()
        if node.type == "return_statement":
            return None
        if node.type not in _FUNCTIONS:
            stack.extend(node.named_children)
    return last.named_children[0]


def _message(message: Node, data: bytes, plan: Items) -> str | None:
    literal = mapped_literal(message)
    if literal is not None:  # each element of the spread is this literal: it is rewritten once, in the callback
        message = literal
    answer = _answer(message)
    if answer is not None:
        spread, call = answer
        plan.edits.append((message.start_byte, message.end_byte, f"...{spread}.{OUTPUT}"))
        plan.skip.add((message.start_byte, message.end_byte))
        plan.answers.add(call.start_byte)
        return None
    if message.type != "object":
        return f"a message that is not a literal (`{' '.join(text_of(message).split())[:60]}`)"
    holes = Holes()
    try:
        value = to_value(message, holes)
        items = translate({"model": "m", "messages": [value]}, to="responses").body.get("input")
    except (NotLiteral, MappingError):
        return f"a message the codemod cannot read (`{' '.join(text_of(message).split())[:60]}`)"
    if isinstance(items, list) and taken_as_is(items, value):
        return None
    if not isinstance(items, list) or len(items) != 1 or not isinstance(items[0], dict) or holes.stray(items[0]):
        return "a message that does not become one Responses item with its values as written"
    item: dict[str, Any] = items[0]
    renames: dict[str, str] = {}
    for key, kept in value.items():
        if key in item:
            continue
        target = next((k for k, v in item.items() if k not in value and k not in renames.values()
                       and type(v) is type(kept) and v == kept), None)
        if target is not None:
            renames[key] = target
    gone = [key for key in value if key not in item and key not in renames]
    fresh = [key for key in item if key not in value and key not in renames.values()]
    renames.update(zip(gone, fresh, strict=False))  # ``role: "tool"`` → ``type: "function_call_output"``, in its place
    from .request import style_of  # request.py plans with this module

    writer = Writer(data, holes, style_of(message, data))
    try:
        writer.object(item, value, message, renames)
    except NotLiteral as exc:
        return str(exc)
    plan.edits.extend(writer.edits)
    return None
