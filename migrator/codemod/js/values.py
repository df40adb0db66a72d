"""JavaScript literals ⇄ JSON values, so the engine decides what each key of a request becomes.

As in ``../literals.py``: every part of an object literal that is not a literal (a name, a call, a
template with ``${}``) becomes a *hole*, a sentinel the engine carries like any other value, and is
written back as its original source text. New code is printed in the file's style: its quote, its
indentation step, bare keys unless the literal quotes its keys.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from tree_sitter import Node

from ..holes import Sentinels

_IDENTIFIER = re.compile(r"^[A-Za-z_$][A-Za-z0-9_$]*$")
_PAIRS = ("pair", "shorthand_property_identifier", "spread_element", "method_definition")


class NotLiteral(Exception):
    """A value the codemod cannot read as JSON even with holes (a spread, a computed key)."""


def text_of(node: Node) -> str:
    assert node.text is not None
    return node.text.decode("utf-8")


def named(source: str, limit: int = 60) -> str:
    """An expression as a note names it: on one line, cut at ``limit`` characters. A note that says
    why a site stays need not carry a 300-character ``messages.map(…)``; a removed key's note keeps
    its whole source instead (that note is where the argument survives)."""
    flat = " ".join(source.split())
    return flat if len(flat) <= limit else flat[:limit - 1].rstrip() + "…"


@dataclass
class Style:
    quote: str = '"'
    step: str = "  "
    quote_keys: bool = False
    trailing: bool = True
    width: int = 80


class Holes(Sentinels[str]):
    """The source text standing behind each sentinel."""


def members(node: Node) -> list[Node]:
    """The entries of an object or array literal, without the comments between them."""
    return [child for child in node.named_children if child.type != "comment"]


def string_of(node: Node) -> str | None:
    """The text of a string literal, or a template with no ``${}``; None for anything else."""
    if node.type not in ("string", "template_string") or any(c.type == "template_substitution" for c in node.children):
        return None
    raw = text_of(node)[1:-1]
    if "\\" not in raw:
        return raw
    try:
        value = json.loads('"' + raw.replace("\\'", "'").replace("\\`", "`") + '"')
    except ValueError:
        return None
    return value if isinstance(value, str) else None


def key_of(node: Node) -> str | None:
    """A pair's key as text; None for a computed key."""
    key = node.child_by_field_name("key")
    if key is None:
        return None
    if key.type == "property_identifier":
        return text_of(key)
    if key.type == "number":
        return text_of(key)
    return string_of(key)


def _number(text: str) -> int | float | None:
    cleaned = text.replace("_", "")
    try:
        return int(cleaned)
    except ValueError:
        pass
    try:
        return float(cleaned)
    except ValueError:
        return None


def to_value(node: Node, holes: Holes) -> Any:
    """The JSON value ``node`` stands for, with a hole for each non-literal part."""
    kind = node.type
    text = string_of(node)
    if text is not None:
        return text
    if kind == "number":
        number = _number(text_of(node))
        if number is not None:
            return number
    if kind == "unary_expression":
        argument = node.child_by_field_name("argument")
        operator = node.child_by_field_name("operator")
        if argument is not None and operator is not None and text_of(operator) == "-" and argument.type == "number":
            number = _number(text_of(argument))
            if number is not None:
                return -number
    if kind in ("true", "false"):
        return kind == "true"
    if kind == "null":
        return None
    if kind == "object":
        out: dict[str, Any] = {}
        for member in members(node):
            if member.type == "shorthand_property_identifier":
                out[text_of(member)] = holes.string(text_of(member))
                continue
            key = key_of(member) if member.type == "pair" else None
            value = member.child_by_field_name("value")
            if key is None or value is None:
                raise NotLiteral("a spread, a method or a computed key in an object")
            out[key] = to_value(value, holes)
        return out
    if kind == "array":
        items: list[Any] = []
        for member in members(node):
            if member.type == "spread_element":
                raise NotLiteral("a spread in an array")
            items.append(to_value(member, holes))
        return items
    return holes.string(text_of(node))


def js_string(text: str, quote: str) -> str:
    body = json.dumps(text, ensure_ascii=False)[1:-1]
    if quote == "'":
        return "'" + body.replace('\\"', '"').replace("'", "\\'") + "'"
    return '"' + body + '"'


def js_key(key: str, style: Style) -> str:
    return key if not style.quote_keys and _IDENTIFIER.match(key) else js_string(key, style.quote)


def to_js(value: Any, holes: Holes, style: Style, indent: str | None) -> str:
    """JavaScript source for ``value``: one line when it fits (always, with no ``indent``), else one
    entry a line, each ``style.step`` deeper than ``indent``."""
    flat = _flat(value, holes, style)
    if indent is None or not isinstance(value, dict | list) or not value or holes.behind(value) is not None \
            or (len(flat) + len(indent) <= style.width and "\n" not in flat):
        return flat
    inner = indent + style.step
    comma = "," if style.trailing else ""
    if isinstance(value, dict):
        lines = [f"{inner}{js_key(k, style)}: {to_js(v, holes, style, inner)}" for k, v in value.items()]
    else:
        lines = [f"{inner}{to_js(v, holes, style, inner)}" for v in value]
    open_, close = ("{", "}") if isinstance(value, dict) else ("[", "]")
    return open_ + "\n" + ",\n".join(lines) + comma + "\n" + indent + close


def _flat(value: Any, holes: Holes, style: Style) -> str:
    source = holes.behind(value)
    if source is not None:
        return source
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return json.dumps(value)
    if isinstance(value, str):
        return js_string(value, style.quote)
    if isinstance(value, dict):
        if not value:
            return "{}"
        return "{ " + ", ".join(f"{js_key(k, style)}: {_flat(v, holes, style)}" for k, v in value.items()) + " }"
    if isinstance(value, list):
        return "[" + ", ".join(_flat(v, holes, style) for v in value) + "]"
    raise NotLiteral(f"a {type(value).__name__} in the output")
