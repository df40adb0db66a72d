"""A ``messages`` array built in the same function: when ``messages: history`` may become ``input: history``.

Responses takes role/content text messages unchanged. So the array may go to ``input`` as it is
when every message the code puts in it is a literal that the engine passes through unchanged
(``const history = [{ role: "system", … }]``, ``history.push({ role: "user", content: q })``), as
``../messages.py`` decides for Python. A parameter, an array passed elsewhere, or a message
whose shape changes (a tool result, an assistant's tool calls, content parts) leaves the site.
"""

from __future__ import annotations

from tree_sitter import Node

from ...errors import MappingError
from ...mapping import translate
from ..easy_message import taken_as_is
from .scope import same, uses_of
from .values import Holes, NotLiteral, members, text_of, to_value

_DECLARATIONS = ("lexical_declaration", "variable_declaration")


def declarator_of(name: str, at: Node) -> Node | None:
    """The nearest ``const name = …`` in a block around ``at``, before it."""
    block = at.parent
    while block is not None:
        if block.type in ("statement_block", "program"):
            for statement in block.named_children:
                if statement.start_byte > at.start_byte or statement.type not in _DECLARATIONS:
                    continue
                for declarator in statement.named_children:
                    target = declarator.child_by_field_name("name")
                    if declarator.type == "variable_declarator" and target is not None and text_of(target) == name:
                        return declarator
        block = block.parent
    return None


def _unchanged(message: Node) -> bool:
    """Whether Responses takes this literal message as it is (the engine leaves it unchanged)."""
    if message.type != "object":
        return False
    holes = Holes()
    try:
        value = to_value(message, holes)
        out = translate({"model": "m", "messages": [value]}, to="responses").body
    except (NotLiteral, MappingError):
        return False
    items = out.get("input")
    return isinstance(items, list) and taken_as_is(items, value)


def pushed_messages(use: Node) -> list[Node] | None:
    """The messages of ``use.push(…)``; None when ``use`` is read otherwise."""
    member = use.parent
    prop = member.child_by_field_name("property") if member is not None and member.type == "member_expression" else None
    call = member.parent if member is not None else None
    arguments = call.child_by_field_name("arguments") if call is not None and call.type == "call_expression" else None
    if prop is None or text_of(prop) != "push" or arguments is None:
        return None
    return members(arguments)


def plain_messages(name: str, at: Node) -> tuple[str, bool] | None:
    """None when the array ``name`` (passed at ``at``) may go to ``input`` unchanged, else why not and
    whether the array is known to hold a message whose shape changes (then not even an unsafe fix)."""
    declarator = declarator_of(name, at)
    value = declarator.child_by_field_name("value") if declarator is not None else None
    if declarator is None or value is None or value.type != "array":
        return f"`{name}` is not an array literal declared in this function", False
    added: list[Node] = list(members(value))
    for use in uses_of(name, declarator):
        if same(use, at):
            continue
        pushed = pushed_messages(use)
        if pushed is None:
            return f"`{name}` is used otherwise than by `{name}.push(…)` of literal messages", False
        added.extend(pushed)
    for message in added:
        if not _unchanged(message):
            return f"a message put in `{name}` (`{' '.join(text_of(message).split())[:60]}`) is not a text message", True
    return None
