"""Edits as byte-range splices, and an object literal rewritten key by key.

Only the spans that change are written anew: a kept key keeps its bytes (comments, quotes,
layout), a renamed key changes its key only, a removed key goes with its comma (and its line, when
it had one to itself), a new key goes after the last one in the layout the literal already has.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from tree_sitter import Node

from .values import Holes, NotLiteral, Style, js_key, key_of, members, text_of, to_js

Edit = tuple[int, int, str]


def apply(data: bytes, edits: list[Edit]) -> bytes:
    """``data`` with every edit made; inserts at one place keep the order they were given in."""
    ordered = sorted(enumerate(edits), key=lambda e: (e[1][0], e[1][1], e[0]), reverse=True)
    out = data
    bound = len(data) + 1
    for _, (start, end, text) in ordered:
        if end > bound:
            raise ValueError("overlapping edits")
        out = out[:start] + text.encode("utf-8") + out[end:]
        bound = start if start < end else bound
    return out


def line_start(data: bytes, offset: int) -> int:
    return data.rfind(b"\n", 0, offset) + 1


NEXT_LINE_DIRECTIVES = ("eslint-disable-next-line", "oxlint-disable-next-line", "@ts-ignore", "@ts-expect-error",
                        "prettier-ignore", "biome-ignore", "deno-lint-ignore", "istanbul ignore", "c8 ignore", "v8 ignore")
"""Comments that govern the line after them: a note put between one and its statement would take
the statement's place (ESLint's ``-next-line`` counts lines, comment lines included)."""


def above_directives(data: bytes, first: int) -> int:
    """Where a note line goes above the line starting at ``first``: above the next-line directives
    right over it, so that each still governs the statement."""
    at = first
    while at > 0:
        prior = line_start(data, at - 1)
        line = data[prior:at].decode("utf-8", "replace").strip()
        if not (line.startswith(("//", "/*")) and any(word in line for word in NEXT_LINE_DIRECTIVES)):
            break
        at = prior
    return at


def indent_at(data: bytes, offset: int) -> str:
    """The indentation of the line holding ``offset``."""
    start = line_start(data, offset)
    line = data[start:offset]
    return line[: len(line) - len(line.lstrip(b" \t"))].decode("utf-8")


def has_comment(node: Node) -> bool:
    if node.type == "comment":
        return True
    return any(has_comment(child) for child in node.children)


def _next(node: Node) -> Node | None:
    after = node.next_sibling
    return after if after is not None and after.type == "," else None


def _rest_of_line(data: bytes, offset: int) -> int | None:
    """Where the line of ``offset`` ends, when only blanks or a ``//`` comment follow it there."""
    end = data.find(b"\n", offset)
    end = len(data) if end < 0 else end
    rest = data[offset:end].strip()
    return end if not rest or rest.startswith(b"//") else None


@dataclass
class Writer:
    data: bytes
    holes: Holes
    style: Style
    edits: list[Edit] = field(default_factory=list)

    def replace(self, node: Node, text: str) -> None:
        self.edits.append((node.start_byte, node.end_byte, text))

    def value(self, value: Any, original: Any, node: Node) -> None:
        """Rewrite ``node`` (which wrote ``original``) so that it writes ``value``."""
        source = self.holes.behind(value)
        if source is not None:
            if self.holes.behind(original) != source:
                self.replace(node, source)
            return
        if type(value) is type(original) and value == original:
            return
        if isinstance(value, dict) and isinstance(original, dict) and node.type == "object" and value:
            self.object(value, original, node)
            return
        if isinstance(value, list) and isinstance(original, list) and node.type == "array" \
                and len(value) == len(original) == len(members(node)):
            for v, o, member in zip(value, original, members(node), strict=True):
                self.value(v, o, member)
            return
        self.anew(value, node)

    def object(self, value: dict[str, Any], original: dict[str, Any], node: Node,
               renames: Mapping[str, str] | None = None) -> list[Node]:
        """Rewrite an object literal key by key; ``renames``: its keys that the output spells
        otherwise (``messages`` → ``input``). Returns the members removed."""
        renames = renames or {}
        plan: list[tuple[Node, str, str | None]] = []  # member, its key, its key in the output (None: removed)
        seen: set[str] = set()
        for member in members(node):
            key = text_of(member) if member.type == "shorthand_property_identifier" else key_of(member)
            if key is None or member.type not in ("pair", "shorthand_property_identifier"):
                raise NotLiteral("a spread, a method or a computed key in an object")
            renamed = renames.get(key, key)
            plan.append((member, key, renamed if renamed in value and renamed not in seen else None))
            seen.add(renamed)
        if not renames and not any(target for _, _, target in plan):
            self.anew(value, node)  # nothing of it stays: written anew
            return []
        removed: list[Node] = []
        run: list[Node] = []
        previous: Node | None = None
        for member, key, kept_as in [*plan, (node, "", "")]:
            target = kept_as
            if target is None:
                run.append(member)
                removed.append(member)
                continue
            if run:
                self.delete(run, previous, member if member is not node else None)
                run = []
            previous = member
            if member is node:
                break
            if member.type == "shorthand_property_identifier":
                if target != key or self.holes.behind(value[target]) != key:
                    self.replace(member, f"{js_key(target, self.style)}: {to_js(value[target], self.holes, self.style, None)}")
            else:
                if target != key:
                    key_node = member.child_by_field_name("key")
                    assert key_node is not None
                    quoted = key_node.type == "string"
                    style = Style(text_of(key_node)[0], quote_keys=True) if quoted else self.style
                    self.replace(key_node, js_key(target, style))
                inner = member.child_by_field_name("value")
                assert inner is not None
                self.value(value[target], original.get(key), inner)
        fresh = [(k, v) for k, v in value.items() if k not in seen]
        kept = [m for m, _, target in plan if target is not None]
        trailing = _next(plan[-1][0]) is not None
        if fresh:
            self.insert(node, kept, fresh, original, trailing)
        elif kept and plan[-1][2] is None and not trailing and _next(kept[-1]) is not None:
            comma = _next(kept[-1])
            assert comma is not None
            if not any(start <= comma.start_byte < end for start, end, _ in self.edits):
                self.edits.append((comma.start_byte, comma.end_byte, ""))  # the last key went: its comma too
        return removed

    def anew(self, value: Any, node: Node) -> None:
        if has_comment(node):
            raise NotLiteral("a comment inside a value the codemod must write anew would be lost")
        self.replace(node, to_js(value, self.holes, self.style, indent_at(self.data, node.start_byte)))

    def delete(self, run: list[Node], previous: Node | None, following: Node | None) -> None:
        """Remove consecutive members: each with its own line(s) when it has them, else the span
        from the first to the next kept member (or from the previous kept one, at the end)."""
        data = self.data
        lines: list[Edit] = []
        for member in run:
            comma = _next(member)
            end = comma.end_byte if comma is not None else member.end_byte
            first = line_start(data, member.start_byte)
            stop = _rest_of_line(data, end) if not data[first:member.start_byte].strip() else None
            if stop is None:
                break
            lines.append((first, min(stop + 1, len(data)), ""))
        else:
            self.edits.extend(lines)
            return
        if following is not None:
            self.edits.append((run[0].start_byte, following.start_byte, ""))
        elif previous is not None:
            self.edits.append((previous.end_byte, run[-1].end_byte, ""))
        else:
            self.edits.append((run[0].start_byte, run[-1].end_byte, ""))

    def insert(self, node: Node, kept: list[Node], entries: list[tuple[str, Any]], original: dict[str, Any],
               trailing: bool) -> None:
        data = self.data
        if not kept:
            self.replace(node, to_js(dict(entries), self.holes, self.style, indent_at(data, node.start_byte)))
            return
        last = kept[-1]
        comma = _next(last)
        multiline = b"\n" in data[node.start_byte:node.end_byte]
        if not multiline:
            text = "".join(f", {js_key(k, self.style)}: {self._new(v, original, node, None)}" for k, v in entries)
            self.edits.append((last.end_byte, last.end_byte, text))
            return
        indent = indent_at(data, kept[0].start_byte)
        parts = [f"\n{indent}{js_key(k, self.style)}: {self._new(v, original, node, indent)}" for k, v in entries]
        after = comma.end_byte if comma is not None else last.end_byte
        stop = _rest_of_line(data, after)
        where = stop if stop is not None else after
        if comma is None:
            self.edits.append((last.end_byte, last.end_byte, ","))
        self.edits.append((where, where, ",".join(parts) + ("," if trailing else "")))

    def _new(self, value: Any, original: dict[str, Any], node: Node, indent: str | None) -> str:
        """A new key's value: the source that wrote it already, when the old literal holds it (a
        flattened tool's ``parameters``), else printed anew."""
        found = _equal_inside(value, original, node)
        if found is None:
            return to_js(value, self.holes, self.style, indent)
        return _reindent(text_of(found), indent_at(self.data, found.start_byte), indent or "")


def _equal_inside(value: Any, original: Any, node: Node, depth: int = 2) -> Node | None:
    if not isinstance(original, dict) or node.type != "object" or depth == 0 or not isinstance(value, dict | list):
        return None
    for member in members(node):
        key = key_of(member) if member.type == "pair" else None
        inner = member.child_by_field_name("value") if key is not None else None
        if key is None or inner is None or key not in original:
            continue
        if type(original[key]) is type(value) and original[key] == value:
            return inner
        deeper = _equal_inside(value, original[key], inner, depth - 1)
        if deeper is not None:
            return deeper
    return None


def _reindent(source: str, old: str, new: str) -> str:
    """A multi-line value moved to a line indented ``new`` instead of ``old``."""
    lines = source.split("\n")
    out = [lines[0]]
    for line in lines[1:]:
        out.append(new + line[len(old):] if line.startswith(old) else line)
    return "\n".join(out)
