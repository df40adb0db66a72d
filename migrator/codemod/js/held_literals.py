"""Literals held in names: ``const tools = [{ type: "function", function: {…} }]`` passed as ``tools``.

As ``../constants.py`` decides for Python: a name declared ``const`` once, to an array or object
literal, that only chat requests read (``create({ …, tools })``, ``tools: tools``) is read through
to its literal, the engine translates it with the request, and the literal is rewritten where it
is defined. Every call that passes it must be migrated with it (``together.py``); a name read
anywhere else leaves the site, with the reason.
"""

from __future__ import annotations

from dataclasses import dataclass

from tree_sitter import Node

from .messages import declarator_of
from .scope import uses_of
from .values import key_of, text_of

TYPED = ("`{name}` is typed `{type}`, a Chat Completions type: once it holds Responses {what}, type it `{new}` "
         "(`openai/resources/responses/responses`)")
"""The note for a TypeScript annotation on a literal the codemod rewrites (the types are not renamed)."""


@dataclass(frozen=True)
class Held:
    name: str
    literal: Node
    calls: frozenset[int]  # the start bytes of the calls whose requests read it
    annotation: str | None  # its TypeScript type, when it has one


def request_call(use: Node, key: str) -> Node | None:
    """The call whose request literal passes ``use`` as ``key`` (``{ key }`` or ``{ key: use }``)."""
    member = use if use.type == "shorthand_property_identifier" else use.parent
    if member is None:
        return None
    if use.type == "shorthand_property_identifier":
        if text_of(use) != key:
            return None
    elif member.type != "pair" or key_of(member) != key or member.child_by_field_name("value") != use:
        return None
    obj = member.parent
    arguments = obj.parent if obj is not None and obj.type == "object" else None
    call = arguments.parent if arguments is not None and arguments.type == "arguments" else None
    if call is None or call.type != "call_expression" or len(arguments.named_children) != 1:  # type: ignore[union-attr]
        return None
    return call


def is_const(declarator: Node) -> bool:
    declaration = declarator.parent
    kind = declaration.child_by_field_name("kind") if declaration is not None else None
    return kind is not None and text_of(kind) == "const"


def const_declarator(name: str, at: Node) -> Node | None:
    declarator = declarator_of(name, at)
    return declarator if declarator is not None and is_const(declarator) else None


def annotation(declarator: Node) -> str | None:
    typed = declarator.child_by_field_name("type")
    return text_of(typed).lstrip(":").strip() if typed is not None else None


def held_literal(key: str, value: Node) -> Held | str | None:
    """The literal behind ``value`` (a name passed as ``key``), or why it cannot be rewritten where
    it is defined; None when the name holds no literal declared here."""
    name = text_of(value)
    declarator = const_declarator(name, value)
    literal = declarator.child_by_field_name("value") if declarator is not None else None
    if declarator is None or literal is None or literal.type not in ("array", "object"):
        return None
    calls: set[int] = set()
    for use in uses_of(name, declarator):
        call = request_call(use, key)
        if call is None:
            return (f"the const `{name}` passed as `{key}` is also read elsewhere: rewrite its literal by the table "
                    "in docs/mapping.md where every reader takes the Responses shape")
        calls.add(call.start_byte)
    return Held(name, literal, frozenset(calls), annotation(declarator))
