"""A JSON text read with its layout, and the engine's translation written back in that layout.

A curl body and a document's JSON example are JSON a person laid out: an indentation unit, which
objects and arrays sit on one line, ``{ "role": … }`` padding, the spacing after ``,`` and ``:``,
the order of keys, how each number or string was spelled (``1.0``, ``\\u00e9``). The reader keeps
every value's place in the text; the writer copies a value the translation kept as it was written
(re-indented when it moves up or down a level, as a flattened tool's ``parameters`` does), and
prints only what changed, in the layout of the place it goes to. Shell expansions inside a curl
body are placeholder strings by then (shell/body.py), so they are copied like any other token.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..mapping.rules import Table

_SCALAR = re.compile(r"-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null")
_SPACE = " \t\n\r"
_CONSTANTS: dict[str, Any] = {"true": True, "false": False, "null": None}


@dataclass
class Node:
    value: Any
    start: int
    end: int
    members: list[tuple[str, str, str, Node]] = field(default_factory=list)  # key, its source, the colon, value
    items: list[Node] = field(default_factory=list)

    def children(self) -> list[Node]:
        return [m[3] for m in self.members] + self.items


class JsonError(ValueError):
    def __init__(self, message: str, pos: int) -> None:
        super().__init__(message)
        self.pos = pos


def parse(text: str) -> Node:
    """The one JSON value ``text`` holds (whitespace around it allowed); ``JsonError`` for anything else."""
    node, end = _value(text, _skip(text, 0))
    if _skip(text, end) != len(text):
        raise JsonError("text after the JSON value", _skip(text, end))
    return node


def _container(text: str, node: Node, closer: str, read_one: Callable[[int], int]) -> tuple[Node, int]:
    """An object or array from its opening bracket: ``read_one`` reads each member and returns its end."""
    j = _skip(text, node.start + 1)
    if not text.startswith(closer, j):
        while True:
            j = _skip(text, read_one(j))
            if text.startswith(",", j):
                j = _skip(text, j + 1)
            elif text.startswith(closer, j):
                break
            else:
                raise JsonError(f"`,` or `{closer}` expected", j)
    node.end = j + 1
    return node, j + 1


def _skip(text: str, i: int) -> int:
    while i < len(text) and text[i] in _SPACE:
        i += 1
    return i


def _value(text: str, i: int) -> tuple[Node, int]:
    if i >= len(text):
        raise JsonError("a value expected", i)
    c = text[i]
    if c == "{":
        obj = Node({}, i, i)

        def member(j: int) -> int:
            if not text.startswith('"', j):
                raise JsonError("a key expected", j)
            key, after = _string(text, j)
            colon = _skip(text, after)
            if not text.startswith(":", colon):
                raise JsonError("`:` expected", colon)
            value_at = _skip(text, colon + 1)
            child, end = _value(text, value_at)
            obj.members.append((key, text[j:after], text[after:value_at], child))
            obj.value[key] = child.value
            return end

        return _container(text, obj, "}", member)
    if c == "[":
        array = Node([], i, i)

        def item(j: int) -> int:
            child, end = _value(text, j)
            array.items.append(child)
            array.value.append(child.value)
            return end

        return _container(text, array, "]", item)
    if c == '"':
        value, end = _string(text, i)
        return Node(value, i, end), end
    match = _SCALAR.match(text, i)
    if match is None:
        raise JsonError("a JSON value expected", i)
    token = match.group()
    scalar = _CONSTANTS[token] if token in _CONSTANTS else float(token) if any(c in token for c in ".eE") else int(token)
    return Node(scalar, i, match.end()), match.end()


def _string(text: str, i: int) -> tuple[str, int]:
    try:
        return json.decoder.scanstring(text, i + 1)  # type: ignore[attr-defined,no-any-return]
    except json.JSONDecodeError as exc:
        raise JsonError(exc.msg, exc.pos) from None


def same(a: Any, b: Any) -> bool:
    """Equal as JSON: ``1`` is not ``true``, ``1`` is ``1.0`` only when both are numbers."""
    if type(a) is not type(b) and not (isinstance(a, int | float) and isinstance(b, int | float)
                                      and not isinstance(a, bool) and not isinstance(b, bool)):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


@dataclass(frozen=True)
class Style:
    unit: str  # one indentation level
    colon: str  # what most members have between key and value (": ", ":")
    comma: str  # what most one-line containers have after a comma (", ", ",")
    pad: str  # " " in ``{ "role": … }``, else ""


def _line_indent(text: str, pos: int) -> str:
    start = text.rfind("\n", 0, pos) + 1
    end = start
    while end < len(text) and text[end] in " \t":
        end += 1
    return text[start:end]


def indent_of(text: str, node: Node) -> str:
    """The indentation of a container's own line: that of its closing bracket, when it spans lines."""
    return _line_indent(text, node.end - 1)


def _padding(text: str, node: Node) -> str:
    """What a one-line container has inside its opening bracket."""
    return text[node.start + 1:_skip(text, node.start + 1)]


def _after_comma(text: str, child: Node) -> str:
    """What follows the comma after a member or item of a one-line container."""
    comma = _skip(text, child.end) + 1
    return text[comma:_skip(text, comma)]


def _most(found: list[str], default: str) -> str:
    return max(dict.fromkeys(found), key=found.count) if found else default


def style_of(text: str, root: Node) -> Style:
    colons: list[str] = []
    commas: list[str] = []
    pads: list[str] = []
    unit = ""
    stack = [root]
    while stack:
        node = stack.pop()
        children = node.children()
        stack.extend(children)
        colons.extend(m[2] for m in node.members)
        if not children:
            continue
        if "\n" in text[node.start:node.end]:
            inner, own = _line_indent(text, children[0].start), indent_of(text, node)
            if not unit and "\n" in text[node.start:children[0].start] and inner.startswith(own) and inner != own:
                unit = inner[len(own):]
            continue
        commas.extend(_after_comma(text, child) for child in children[:-1])
        pads.append(_padding(text, node))
    return Style(unit or "  ", _most(colons, ": "), "," + _most(commas, " "), _most(pads, ""))


Rename = Callable[[str, int], str]
"""The key a source key becomes at a depth (``messages`` → ``input`` at the top), by the tables."""


def top_level(table: Table) -> Rename:
    """A body's top-level key → the key its value goes to by ``table`` (``response_format`` → ``text``)."""

    def rename(key: str, depth: int) -> str:
        rule = table.get(key) if depth == 0 else None
        return (rule.to or key).split(".")[0] if rule is not None else key

    return rename


def rewrite(text: str, root: Node, value: Any, rename: Rename) -> str:
    """``text`` with the value ``root`` read from it replaced by ``value``, written in the text's layout."""
    return text[:root.start] + _Writer(text, root, rename).write(value) + text[root.end:]


class _Writer:
    def __init__(self, text: str, root: Node, rename: Rename) -> None:
        self.text = text
        self.root = root
        self.style = style_of(text, root)
        self.rename = rename
        self._tokens: dict[tuple[type, Any], str] | None = None

    def write(self, value: Any) -> str:
        return self._render(value, self.root, indent_of(self.text, self.root), 0, False)

    def _multi(self, node: Node) -> bool:
        return "\n" in self.text[node.start:node.end]

    def _render(self, value: Any, old: Node | None, indent: str, depth: int, inline: bool) -> str:
        """``value`` for a place whose line starts with ``indent``; ``old`` what was written there.

        ``inline``: the place is inside a one-line container, so whatever goes there stays on it."""
        if old is not None and same(old.value, value):
            return self._copy(old, indent)
        if not isinstance(value, dict | list) or not value:
            return self._scalar(value)
        if old is not None and type(old.value) is type(value):
            multi = self._multi(old) and not inline
        else:
            found = self._find(value, self.root)
            if found is not None:
                return self._copy(found, indent)
            multi = not inline
        inner = indent + self.style.unit if multi else indent
        if isinstance(value, dict):
            parts = self._members(value, old, inner, depth, not multi)
            return self._join("{", parts, "}", multi, indent, old)
        olds = old.items if old is not None and isinstance(old.value, list) else []
        parts = [self._render(v, olds[i] if i < len(olds) else None, inner, depth + 1, not multi)
                 for i, v in enumerate(value)]
        return self._join("[", parts, "]", multi, indent, old)

    def _members(self, value: dict[str, Any], old: Node | None, inner: str, depth: int, inline: bool) -> list[str]:
        """Each member written: the keys the source had in the source's order, new ones where the engine put them."""
        olds: dict[str, tuple[str, str, Node]] = {}
        members = old.members if old is not None else []
        for key, raw, colon, node in members:
            target = self.rename(key, depth)
            olds.setdefault(target, (raw if target == key else json.dumps(target), colon, node))
        first_colon = members[0][2] if members else self.style.colon
        parts = []
        kept = iter([k for k in olds if k in value])
        for key in [next(kept) if k in olds else k for k in value]:
            raw, colon, held = olds.get(key) or (self._scalar(key), first_colon, None)
            parts.append(raw + colon + self._render(value[key], held, inner, depth + 1, inline))
        return parts

    def _join(self, opener: str, parts: list[str], closer: str, multi: bool, indent: str, old: Node | None) -> str:
        if multi:
            inner = indent + self.style.unit
            return opener + "\n" + inner + (",\n" + inner).join(parts) + "\n" + indent + closer
        pad = self.style.pad
        comma = self.style.comma
        if old is not None and old.children() and not self._multi(old):
            pad = _padding(self.text, old)
            comma = "," + _after_comma(self.text, old.children()[0]) if len(old.children()) > 1 else comma
        return opener + pad + comma.join(parts) + pad + closer

    def _copy(self, node: Node, indent: str) -> str:
        """``node`` as written, its inner lines moved to ``indent``."""
        source = self.text[node.start:node.end]
        if "\n" not in source:
            return source
        was = indent_of(self.text, node)
        if was == indent:
            return source
        lines = source.split("\n")
        return "\n".join([lines[0], *(indent + line[len(was):] if line.startswith(was) else line for line in lines[1:])])

    def _find(self, value: Any, node: Node) -> Node | None:
        if same(node.value, value):
            return node
        for child in node.children():
            found = self._find(value, child)
            if found is not None:
                return found
        return None

    def _scalar(self, value: Any) -> str:
        """A scalar (or an empty container) as the source spelled the same value, else as JSON."""
        if self._tokens is None:
            self._tokens = {}
            stack = [self.root]
            while stack:
                node = stack.pop()
                stack.extend(reversed(node.children()))
                for key, raw, _, _ in node.members:
                    self._tokens.setdefault((str, key), raw)
                if not isinstance(node.value, dict | list):
                    self._tokens.setdefault((type(node.value), node.value), self.text[node.start:node.end])
        if isinstance(value, dict | list):
            return "{}" if isinstance(value, dict) else "[]"
        return self._tokens.get((type(value), value)) or json.dumps(value, ensure_ascii=False)
