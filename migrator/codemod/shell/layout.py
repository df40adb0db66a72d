"""A JSON text and its translation written back in the source's own layout.

The body of a curl command is JSON that a person laid out: an indentation unit, one-line or
multi-line objects, ``{ "role": … }`` padding, the order of keys. A value the translation keeps is
copied as it was written (re-indented when it moves up or down a level, as a flattened tool's
``parameters`` does); only what changed is printed anew, in the layout of the place it goes to.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

_SCALAR = re.compile(r"-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null")
_SPACE = " \t\n\r"


@dataclass
class Node:
    value: Any
    start: int
    end: int
    members: list[tuple[str, str, str, Node]] = field(default_factory=list)  # key, its source, the colon, value
    items: list[Node] = field(default_factory=list)


class JsonError(ValueError):
    def __init__(self, message: str, pos: int) -> None:
        super().__init__(message)
        self.pos = pos


def parse(text: str) -> Node:
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
    return Node(json.loads(match.group()), i, match.end()), match.end()


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
    unit: str  # one indentation level; "" for a one-line body
    colon: str  # ": " or ":"
    comma: str  # ", " or "," between members of a one-line object
    pad: str  # " " in ``{ "role": … }``, else ""


def indent_of(text: str, node: Node) -> str:
    """The indentation of a container's own line: that of its closing bracket, when it spans lines."""
    return _line_indent(text, node.end - 1)


def style_of(text: str, root: Node) -> Style:
    unit = "  "
    first = root.members[0][3] if root.members else root.items[0] if root.items else None
    if first is not None and "\n" in text[root.start:first.start]:
        base, inner = indent_of(text, root), _line_indent(text, first.start)
        if inner.startswith(base) and len(inner) > len(base):
            unit = inner[len(base):]
    colon = ": " if re.search(r'"\s*:\s', text) or ":" not in text else ":"
    comma = ", " if re.search(r",[ ]", text) or "," not in text else ","
    pad = " " if re.search(r"[{\[][ ]+[\"\d\[{tfn-]", text) else ""
    return Style(unit, colon, comma, pad)


def _line_indent(text: str, pos: int) -> str:
    start = text.rfind("\n", 0, pos) + 1
    end = start
    while end < len(text) and text[end] in " \t":
        end += 1
    return text[start:end]


Rename = Callable[[str, int], str]
"""The key a source key becomes at a depth (``messages`` → ``input`` at the top), by the tables."""


class Writer:
    def __init__(self, text: str, root: Node, rename: Rename) -> None:
        self.text = text
        self.root = root
        self.style = style_of(text, root)
        self.rename = rename

    def write(self, value: Any) -> str:
        return self._render(value, self.root, indent_of(self.text, self.root), 0)

    def _render(self, value: Any, old: Node | None, indent: str, depth: int) -> str:
        """``value`` for a place whose line starts with ``indent``; ``old`` what was written there."""
        if old is not None and same(old.value, value):
            return self._copy(old, indent)
        if isinstance(value, dict) and isinstance(old, Node) and isinstance(old.value, dict):
            return self._object(value, old, indent, depth)
        if isinstance(value, list) and isinstance(old, Node) and isinstance(old.value, list) and len(old.items) == len(value):
            inner = indent + self.style.unit
            multi = "\n" in self.text[old.start:old.end]
            parts = [self._render(v, o, inner if multi else indent, depth + 1) for v, o in zip(value, old.items, strict=True)]
            return self._join("[", parts, "]", multi, indent, old)
        found = self._find(value, self.root)
        if found is not None and isinstance(value, dict | list) and value:
            return self._copy(found, indent)
        return self._fresh(value, indent, old is not None and "\n" in self.text[old.start:old.end])

    def _object(self, value: dict[str, Any], old: Node, indent: str, depth: int) -> str:
        multi = "\n" in self.text[old.start:old.end]
        inner = indent + self.style.unit if multi else indent
        olds: dict[str, tuple[str, str, Node]] = {}
        for key, raw, colon, node in old.members:
            target = self.rename(key, depth)
            olds.setdefault(target, (raw if target == key else json.dumps(target), colon, node))
        first_colon = old.members[0][2] if old.members else self.style.colon
        parts = []
        for key in [k for k in olds if k in value] + [k for k in value if k not in olds]:
            raw, colon, held = olds.get(key) or (json.dumps(key, ensure_ascii=False), first_colon, None)
            parts.append(raw + colon + self._render(value[key], held, inner, depth + 1))
        return self._join("{", parts, "}", multi, indent, old)

    def _join(self, opener: str, parts: list[str], closer: str, multi: bool, indent: str, old: Node | None) -> str:
        if not parts:
            return opener + closer
        if multi:
            inner = indent + self.style.unit
            return opener + "\n" + inner + (",\n" + inner).join(parts) + "\n" + indent + closer
        pad = self.style.pad if old is None else (" " if self.text[old.start + 1:old.start + 2] == " " else "")
        comma = self.style.comma
        if old is not None and (old.members or old.items):
            first = old.members[0][3] if old.members else old.items[0]
            after = self.text[first.end:old.end - 1]
            comma = ", " if after.startswith(", ") else "," if after.startswith(",") else comma
        return opener + pad + comma.join(parts) + pad + closer

    def _copy(self, node: Node, indent: str) -> str:
        """``node`` as written, its inner lines moved to ``indent``."""
        source = self.text[node.start:node.end]
        was = indent_of(self.text, node)
        if was == indent or "\n" not in source:
            return source
        lines = source.split("\n")
        return "\n".join([lines[0], *(indent + line[len(was):] if line.startswith(was) else line for line in lines[1:])])

    def _find(self, value: Any, node: Node) -> Node | None:
        if same(node.value, value):
            return node
        for child in [m[3] for m in node.members] + node.items:
            found = self._find(value, child)
            if found is not None:
                return found
        return None

    def _fresh(self, value: Any, indent: str, multi: bool) -> str:
        if not self.style.unit or not multi or not isinstance(value, dict | list) or not value:
            return json.dumps(value, ensure_ascii=False, separators=(self.style.comma, self.style.colon))
        text = json.dumps(value, ensure_ascii=False, indent=self.style.unit, separators=(",", self.style.colon))
        return text.replace("\n", "\n" + indent)
