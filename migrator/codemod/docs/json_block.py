"""A JSON example in a document: a chat request becomes its Responses request, a ChatCompletion a Response.

The engine decides every field (``migrator.translate``); this module only reads how the example
was written and writes the engine's body the same way: the indent unit, which objects and arrays
sat on one line, the spacing after ``,`` and ``:``, the source's key order where a key is kept,
and each unchanged string or number token as it was spelled (escapes, ``1.0`` vs ``1``).

A translated completion is a whole Response (thirty fields, most of them defaults, and a creation
time of now when the example has none): the example keeps only the fields whose counterpart it had,
plus ``status``, so a three-key example stays a short one and a second run finds nothing to do.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from ...errors import MappingError
from ...mapping import translate
from ...mapping.rules import TABLES
from ...mapping.translate import detect
from ..call import _why_lossless

Path = tuple[str | int, ...]

_REQUEST = TABLES["chat.request"]
_COMPLETION = TABLES["chat.completion"]


STREAMED = ("`stream: true`: the answer is a stream of typed Responses events (`response.output_text.delta` carries "
            "the text), not chat chunks; the code or text that reads it changes too")


class NotJson(Exception):
    pass


@dataclass
class Layout:
    """How the example was written."""

    indent: str = "  "
    inline: dict[Path, bool] = field(default_factory=dict)
    """Each container's path → whether it sat on one line."""
    item_sep: str = ", "
    key_sep: str = ": "
    pad: str = ""
    """What an inline container has inside its brackets (``{ "a": 1 }``)."""
    tokens: dict[tuple[type, Any], str] = field(default_factory=dict)
    """Scalar values → the token that spelled them."""
    keys: dict[Path, list[str]] = field(default_factory=dict)
    """Each object's keys in source order."""
    by_value: dict[str, bool] = field(default_factory=dict)
    """Each container's value (canonical JSON) → whether it sat on one line: how a value the engine
    moved (a tool's ``parameters``, one level up) keeps its layout where its path no longer leads."""


_WS = re.compile(r"[ \t\r\n]*")
_SCALAR = re.compile(r'"(?:[^"\\\x00-\x1f]|\\.)*"|-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null')


class _Reader:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.layout = Layout()
        self.seps: list[str] = []

    def ws(self) -> None:
        self.pos = _WS.match(self.text, self.pos).end()  # type: ignore[union-attr]

    def fail(self, expected: str) -> NotJson:
        line = self.text.count("\n", 0, self.pos) + 1
        return NotJson(f"line {line}: expected {expected}")

    def value(self, path: Path) -> Any:
        self.ws()
        if self.pos >= len(self.text):
            raise self.fail("a value")
        ch = self.text[self.pos]
        if ch in "{[":
            return self.container(path, ch)
        match = _SCALAR.match(self.text, self.pos)
        if match is None:
            raise self.fail("a JSON value")
        self.pos = match.end()
        token = match.group()
        value = json.loads(token)
        self.layout.tokens.setdefault((type(value), value), token)
        return value

    def container(self, path: Path, opening: str) -> Any:
        start = self.pos
        closing = "}" if opening == "{" else "]"
        self.pos += 1
        inner = self.text[self.pos: _WS.match(self.text, self.pos).end()]  # type: ignore[union-attr]
        out: Any = {} if opening == "{" else []
        self.ws()
        if self.text.startswith(closing, self.pos):
            self.pos += 1
            return out
        if "\n" not in inner and inner:
            self.layout.pad = inner
        index = 0
        while True:
            if opening == "{":
                self.ws()
                match = _SCALAR.match(self.text, self.pos)
                if match is None or not match.group().startswith('"'):
                    raise self.fail("a string key")
                self.pos = match.end()
                key = json.loads(match.group())
                after = self.pos
                self.ws()
                if not self.text.startswith(":", self.pos):
                    raise self.fail("':'")
                self.seps.append("k" + self.text[after:self.pos] + ":" + self.text[self.pos + 1:_WS.match(self.text, self.pos + 1).end()])  # type: ignore[union-attr]
                self.pos += 1
                out[key] = self.value((*path, key))
                self.layout.keys.setdefault(path, []).append(key)
            else:
                out.append(self.value((*path, index)))
                index += 1
            self.ws()
            if self.text.startswith(",", self.pos):
                gap = self.text[self.pos + 1:_WS.match(self.text, self.pos + 1).end()]  # type: ignore[union-attr]
                if "\n" not in gap:
                    self.seps.append("i," + gap)
                self.pos += 1
                continue
            if self.text.startswith(closing, self.pos):
                self.pos += 1
                inline = "\n" not in self.text[start:self.pos]
                self.layout.inline[path] = inline
                self.layout.by_value.setdefault(_canonical(out), inline)
                return out
            raise self.fail(f"',' or '{closing}'")


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


def read(text: str) -> tuple[Any, Layout]:
    """The value and its layout; ``NotJson`` for anything but one JSON value."""
    reader = _Reader(text)
    value = reader.value(())
    reader.ws()
    if reader.pos != len(text):
        raise reader.fail("the end of the text")
    layout = reader.layout
    items = [s[2:] for s in reader.seps if s.startswith("i,")]
    if items:
        layout.item_sep = "," + max(set(items), key=items.count)
    keys = [s[1:] for s in reader.seps if s.startswith("k")]
    if keys:
        layout.key_sep = max(set(keys), key=keys.count)
    lines = [line for line in text.split("\n")[1:] if line.strip()]
    if len(lines) > 1:
        unit, base = _indentation(lines[0]), _indentation(lines[-1])
        layout.indent = unit[len(base):] if unit.startswith(base) and unit != base else layout.indent
    return value, layout


def _indentation(line: str) -> str:
    return line[: len(line) - len(line.lstrip(" \t"))]


def _order(keys: list[str], source: list[str], renamed: dict[str, str]) -> list[str]:
    """The engine's keys, those the source had in the source's order; new keys keep the engine's places."""
    def origin(key: str) -> str:
        return renamed.get(key, key)

    kept = sorted((k for k in keys if origin(k) in source), key=lambda k: source.index(origin(k)))
    slots = iter(kept)
    return [next(slots) if origin(k) in source else k for k in keys]


def write(value: Any, layout: Layout, renamed: dict[str, str], base: str = "") -> str:
    """``value`` as the example wrote its own (``renamed``: a top-level target key → its source key)."""

    def source_path(path: Path) -> Path:
        if path and isinstance(path[0], str):
            return (renamed.get(path[0], path[0]), *path[1:])
        return path

    def scalar(v: Any) -> str:
        token = layout.tokens.get((type(v), v))
        return token if token is not None else json.dumps(v, ensure_ascii=False)

    def dump(v: Any, path: Path, depth: int, inline: bool) -> str:
        if not isinstance(v, dict | list) or not v:
            return scalar(v) if not isinstance(v, dict | list) else ("{}" if isinstance(v, dict) else "[]")
        src = source_path(path)
        if not inline:
            found = layout.inline.get(src)
            inline = found if found is not None else layout.by_value.get(_canonical(v), False)
        if isinstance(v, dict):
            keys = list(v)
            if src in layout.keys:
                keys = _order(keys, layout.keys[src], renamed if not path else {})
            parts = [scalar(k) + layout.key_sep + dump(v[k], (*path, k), depth + 1, inline) for k in keys]
            opening, closing = "{", "}"
        else:
            parts = [dump(item, (*path, i), depth + 1, inline) for i, item in enumerate(v)]
            opening, closing = "[", "]"
        if inline:
            return opening + layout.pad + layout.item_sep.join(parts) + layout.pad + closing
        inner = base + layout.indent * (depth + 1)
        return opening + "\n" + ",\n".join(inner + p for p in parts) + "\n" + base + layout.indent * depth + closing

    return dump(value, (), 0, False)


@dataclass(frozen=True)
class JsonOutcome:
    text: str | None
    """The new example, or None when it is left as it was."""
    rule: str
    reasons: tuple[str, ...] = ()
    left: bool = False


def _request_sources(body: dict[str, Any]) -> dict[str, str]:
    out: dict[str, str] = {}
    for name in body:
        rule = _REQUEST.get(name)
        target = (rule.to if rule is not None and rule.to else name).split(".")[0]
        out.setdefault(target, name)
    return out


def _completion_sources(body: dict[str, Any]) -> dict[str, str]:
    out: dict[str, str] = {}
    for name in body:
        rule = _COMPLETION.get(name)
        if rule is not None:
            out.setdefault((rule.to or name).split(".")[0], name)
    return out


def migrate_json(text: str, hoist: bool = False) -> JsonOutcome:
    """The Responses counterpart of a JSON example, by the engine; None as ``text`` for any other JSON."""
    stripped = text.strip()
    if not stripped:
        return JsonOutcome(None, "")
    lead = text[: len(text) - len(text.lstrip())]
    trail = text[len(text.rstrip()):]
    try:
        body, layout = read(stripped)
        kind = detect(body)
    except NotJson:
        return JsonOutcome(None, "")
    except MappingError as exc:
        if isinstance(body, dict) and ("choices" in body or body.get("object") == "chat.completion.chunk"):
            return JsonOutcome(None, "docs-json-chunk", (f"a Chat Completions stream chunk: {exc.problems[0].expected}; "
                                                         "a Responses stream sends typed events instead", ), left=True)
        return JsonOutcome(None, "")
    if kind not in ("chat.request", "chat.completion"):
        return JsonOutcome(None, "")
    rule = "docs-json-request" if kind == "chat.request" else "docs-json-completion"
    try:
        result = translate(body, to="responses", hoist_system=hoist)
    except MappingError as exc:
        return JsonOutcome(None, rule, tuple(f"{p.path}: expected {p.expected}, found {p.found}" for p in exc.problems),
                           left=True)
    out = result.body
    if kind == "chat.request":
        renamed = _request_sources(body)
    else:
        renamed = _completion_sources(body)
        keep = set(renamed) | {"status"}
        out = {k: v for k, v in out.items() if k in keep}
    reasons = [f"{loss.path[2:] or loss.field}: {loss.reason}" for loss in result.losses]
    if kind == "chat.request":
        lost = {loss.path[2:] for loss in result.losses}
        reasons += [f"removed `{name}`: {_why_lossless(name, body[name])}" for name in body
                    if name in _REQUEST and name not in lost and (_REQUEST[name].to or name).split(".")[0] not in out]
        if body.get("stream") is True:
            reasons.append(STREAMED)
    base = _indentation(stripped.split("\n")[-1]) if "\n" in stripped else ""
    return JsonOutcome(lead + write(out, layout, renamed, base) + trail, rule, tuple(reasons))
