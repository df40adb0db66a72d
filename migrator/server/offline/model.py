"""The model itself: what to answer (text, tool calls, structured output, refusal) from a conversation.

Nothing is learned: the answer is a template filled from the conversation and
from a hash of it (see the package's docstring for the documented behaviour).
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Mapping
from typing import Any, Final, Literal

from .conversation import _canonical, _sha, normalize_conversation

#: A last user message containing this (case-insensitive) is refused.  Brackets
#: make it unlikely to appear by accident in real traffic replayed offline.
REFUSAL_TRIGGER: Final = "[[refuse]]"
REFUSAL_TEXT: Final = "I can't help with that."

_WORDS: Final = (
    "amber", "harbor", "quiet", "silver", "meadow", "lantern", "river", "cedar",
    "copper", "willow", "ember", "granite", "velvet", "orchard", "tide", "maple",
    "falcon", "prairie", "cobalt", "thistle", "juniper", "glacier", "saffron", "harvest",
    "pebble", "summit", "marble", "breeze", "crimson", "hollow", "indigo", "canyon",
    "birch", "coral", "dune", "fern", "garnet", "heron", "ivory", "jasper",
    "kestrel", "lagoon", "mist", "nectar", "opal", "pine", "quartz", "raven",
    "sable", "timber", "umber", "valley", "wren", "yarrow", "zephyr", "aspen",
    "basalt", "clover", "delta", "echo", "flint", "grove", "hazel", "island",
)

_STOPWORDS: Final = frozenset(
    """a an the is are was were be been am do does did of in on at to for from by with
    and or but not no yes what whats what's which who whom whose when where why how
    please can could would should will shall may might must i me my we our you your it its
    this that these those there here tell give show get find call use using about into
    some any all let lets let's just also than then so as if up out""".split()
)

_MAX_DEPTH: Final = 6
_HARD_DEPTH: Final = 32
_QUOTE_CHARS: Final = 80
_OUTPUT_QUOTE_CHARS: Final = 120


def _num(value: object) -> float | None:
    """A schema keyword's number, or None when absent or not a number."""
    return value if isinstance(value, (int, float)) and not isinstance(value, bool) else None



def _pick_words(seed: str, count: int, salt: str = "") -> list[str]:
    digest = hashlib.sha256(f"{seed}:{salt}".encode()).digest()
    return [_WORDS[digest[i] % len(_WORDS)] for i in range(count)]


def _squash(text: str, limit: int) -> str:
    """One line, at most ``limit`` characters: quotes must stay readable."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


_WORD_RE: Final = re.compile(r"[^\W_]+")
_CAMEL_RE: Final = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+")


def _content_words(text: str) -> set[str]:
    """The words that say what a text is about, in a form two texts can share.

    snake_case, kebab-case and camelCase split into words (``getWeather`` and
    ``get_weather`` give ``get``, ``weather``); case is ignored, and so is a plural
    ``s``; stop words (:data:`_STOPWORDS`, "get" and "find" among them), numbers and
    words of one or two Latin letters say nothing about a tool and are left out.
    """
    words: set[str] = set()
    for token in _WORD_RE.findall(text):
        parts = _CAMEL_RE.findall(token) if token.isascii() and not token.islower() else [token]
        for part in parts:
            word = part.lower()
            if (len(word) > 2 or not word.isascii()) and word not in _STOPWORDS and not word.isdigit():
                words.add(word[:-1] if len(word) > 3 and word.endswith("s") and not word.endswith("ss") else word)
    return words


def _about(tool: Mapping[str, Any]) -> set[str]:
    description = tool.get("description")
    return _content_words(tool["name"]) | (_content_words(description) if isinstance(description, str) else set())


def _mentions(text: str, name: str) -> bool:
    """People write ``get weather`` or ``Get-Weather`` for ``get_weather``; all count."""
    parts = [re.escape(p) for p in re.split(r"[_\-\s]+", name) if p]
    if not parts:
        return False
    pattern = r"(?<![^\W_])" + r"[_\-\s]+".join(parts) + r"(?![^\W_])"
    return re.search(pattern, text, re.IGNORECASE) is not None


class _Context:
    """What the conversation offers to fill answers with, computed once."""

    def __init__(self, request: Mapping[str, Any], variant: int = 0) -> None:
        self.conv = normalize_conversation(request)
        self.seed = _sha(_canonical(self.conv) + (f":variant{variant}" if variant else ""))
        users = [e["text"] for e in self.conv if e["kind"] == "message" and e["role"] == "user"]
        self.turn = len(users)
        self.last_user: str | None = users[-1] if users else None
        trailing: list[str] = []
        for entry in reversed(self.conv):
            if entry["kind"] != "function_call_output":
                break
            trailing.append(entry["output"])
        self.tool_outputs = list(reversed(trailing))
        self.tool_output_names = self._output_names(request, len(trailing))
        self.words = _pick_words(self.seed, 3)
        tool_words = {w for t in _function_tools(request) for w in re.split(r"[_\W]+", t["name"].lower()) if w}
        self.user_words = self._salient(self.last_user or "", tool_words)
        self.numbers = re.findall(r"(?<![\w.])-?\d+(?:\.\d+)?(?![\w.])", self.last_user or "")

    @staticmethod
    def _output_names(request: Mapping[str, Any], count: int) -> list[str]:
        """Names of the functions whose outputs end the conversation, via ``call_id``."""
        items = request.get("input")
        if not isinstance(items, list) or count == 0:
            return []
        names: dict[str, str] = {}
        for item in items:
            if isinstance(item, dict) and item.get("type") == "function_call":
                names[str(item.get("call_id"))] = str(item.get("name"))
        outputs = [i for i in items if isinstance(i, dict) and i.get("type") == "function_call_output"][-count:]
        return [names.get(str(o.get("call_id")), "a tool") for o in outputs]

    @staticmethod
    def _salient(text: str, tool_words: set[str]) -> list[str]:
        """User words worth putting into arguments: proper nouns first, then the rest.

        Words of tool names are left out: "call get_weather for Busan" is about
        Busan, not about weather.  Bare numbers go to numeric fields instead.
        """
        words = re.findall(r"\w+(?:['-]\w+)*", text)
        content = [
            w for w in words
            if w.lower() not in _STOPWORDS and not w.isdigit() and not set(re.split(r"[_\W]+", w.lower())) <= tool_words
        ]
        proper = [w for i, w in enumerate(words) if w[:1].isupper() and i > 0 and w in content]
        rest = [w for w in reversed(content) if w not in proper]
        seen: list[str] = []
        for w in proper + rest:
            if w not in seen:
                seen.append(w)
        return seen

    def sentence(self) -> str:
        words = " ".join(self.words)
        if self.last_user is None:
            head = f"Offline answer (turn {self.turn})"
        else:
            head = f'Offline answer to "{_squash(self.last_user, _QUOTE_CHARS)}" (turn {self.turn})'
        if self.tool_outputs:
            used = "; ".join(
                f"{name}: {_squash(out, _OUTPUT_QUOTE_CHARS)}" for name, out in zip(self.tool_output_names, self.tool_outputs, strict=True)
            )
            return f"{head} based on {used}; {words}."
        return f"{head}: {words}."


class _SchemaFiller:
    """A deterministic instance of a JSON schema, filled from the conversation.

    Covers what function parameters and Structured Outputs use: types (also
    lists of types), properties/required/additionalProperties, items and
    prefixItems with min/maxItems, enum (first value) and const,
    anyOf/oneOf (first non-null branch), allOf (merged), local ``$ref``
    into ``$defs``/``definitions``, string length and common formats,
    numeric bounds and multipleOf.  ``pattern`` is not honoured.  Recursion
    stops growing at a fixed depth: only required properties, minItems
    items, and the null branch of a union when there is one.
    """

    def __init__(self, root: Mapping[str, Any], ctx: _Context, salt: str, *, sentence_first: bool) -> None:
        self.root = root
        self.ctx = ctx
        self.salt = salt
        self._sentence: str | None = ctx.sentence() if sentence_first else None
        self._next_word = 0

    def fill(self) -> Any:
        return self.value(self.root, "$", None, 0, 0)

    def _resolve(self, schema: Mapping[str, Any]) -> Mapping[str, Any]:
        seen = 0
        while isinstance(schema.get("$ref"), str) and seen < _HARD_DEPTH:
            ref: str = schema["$ref"]
            target: Any = self.root
            if ref.startswith("#"):
                for token in ref[1:].split("/"):
                    if not token:
                        continue
                    token = token.replace("~1", "/").replace("~0", "~")
                    target = target.get(token) if isinstance(target, Mapping) else None
            else:
                target = None
            merged = {k: v for k, v in schema.items() if k != "$ref"}
            schema = {**(target if isinstance(target, Mapping) else {}), **merged}
            seen += 1
        return schema

    def value(self, schema: object, path: str, key: str | None, depth: int, variant: int) -> Any:
        if not isinstance(schema, Mapping) or depth > _HARD_DEPTH:
            return self._string({}, path, key) if depth <= _HARD_DEPTH else None
        schema = self._resolve(schema)
        if "const" in schema:
            return schema["const"]
        enum = schema.get("enum")
        if isinstance(enum, list) and enum:
            return enum[variant % len(enum)]
        all_of = schema.get("allOf")
        if isinstance(all_of, list) and all_of:
            return self.value(self._merge(schema, all_of), path, key, depth, variant)
        for union in ("anyOf", "oneOf"):
            branches = schema.get(union)
            if isinstance(branches, list) and branches:
                base = {k: v for k, v in schema.items() if k != union}
                return self.value({**base, **self._resolve(self._branch(branches, depth))}, path, key, depth + 1, variant)
        kind = self._type(schema, depth)
        if kind == "null":
            return None
        if kind == "boolean":
            return int(_sha(f"{self.ctx.seed}:{self.salt}:{path}")[:2], 16) % 2 == 0
        if kind in ("integer", "number"):
            return self._number(schema, kind == "integer")
        if kind == "array":
            return self._array(schema, path, depth)
        if kind == "object":
            return self._object(schema, path, depth)
        return self._string(schema, path, key)

    def _merge(self, schema: Mapping[str, Any], parts: list[Any]) -> dict[str, Any]:
        merged: dict[str, Any] = {k: v for k, v in schema.items() if k != "allOf"}
        for part in parts:
            if not isinstance(part, Mapping):
                continue
            part = self._resolve(part)
            for k, v in part.items():
                if k == "properties" and isinstance(v, Mapping):
                    merged["properties"] = {**merged.get("properties", {}), **v}
                elif k == "required" and isinstance(v, list):
                    merged["required"] = [*merged.get("required", []), *(r for r in v if r not in merged.get("required", []))]
                else:
                    merged.setdefault(k, v)
        return merged

    def _branch(self, branches: list[Any], depth: int) -> Mapping[str, Any]:
        resolved = [self._resolve(b) if isinstance(b, Mapping) else {} for b in branches]
        nulls = [b for b in resolved if b.get("type") == "null"]
        others = [b for b in resolved if b.get("type") != "null"]
        if depth >= _MAX_DEPTH and nulls:
            return nulls[0]
        return others[0] if others else resolved[0]

    @staticmethod
    def _type(schema: Mapping[str, Any], depth: int) -> str:
        kind = schema.get("type")
        if isinstance(kind, list):
            real = [k for k in kind if k != "null"]
            if depth >= _MAX_DEPTH and "null" in kind:
                return "null"
            return str(real[0]) if real else "null"
        if isinstance(kind, str):
            return kind
        if "properties" in schema or "required" in schema or "additionalProperties" in schema:
            return "object"
        if "items" in schema or "prefixItems" in schema:
            return "array"
        if any(k in schema for k in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf")):
            return "number"
        return "string"

    def _object(self, schema: Mapping[str, Any], path: str, depth: int) -> dict[str, Any]:
        props = schema.get("properties")
        props = props if isinstance(props, Mapping) else {}
        required = [r for r in schema.get("required", []) if isinstance(r, str)] if isinstance(schema.get("required"), list) else []
        keys = [k for k in props if depth < _MAX_DEPTH or k in required]
        keys += [r for r in required if r not in keys]
        extra = schema.get("additionalProperties")
        out: dict[str, Any] = {}
        for k in keys:
            sub = props[k] if k in props else (extra if isinstance(extra, Mapping) else {})
            out[k] = self.value(sub, f"{path}.{k}", k, depth + 1, 0)
        return out

    def _array(self, schema: Mapping[str, Any], path: str, depth: int) -> list[Any]:
        prefix = schema.get("prefixItems")
        prefix = prefix if isinstance(prefix, list) else []
        items = schema.get("items")
        if isinstance(items, list):  # draft-04 tuple form
            prefix, items = items, schema.get("additionalItems", {})
        low = int(_num(schema.get("minItems")) or 0)
        high_items = _num(schema.get("maxItems"))
        high = None if high_items is None else int(high_items)
        wanted = max(low, len(prefix), 1 if depth < _MAX_DEPTH else 0)
        if items is False:
            wanted = min(wanted, len(prefix))
        if high is not None:
            wanted = min(wanted, high)
        unique = schema.get("uniqueItems") is True
        out: list[Any] = []
        for i in range(wanted):
            sub = prefix[i] if i < len(prefix) else (items if isinstance(items, Mapping) else {})
            out.append(self.value(sub, f"{path}[{i}]", None, depth + 1, i if unique else 0))
        return out

    def _number(self, schema: Mapping[str, Any], integer: bool) -> int | float:
        low, high = _num(schema.get("minimum")), _num(schema.get("maximum"))
        # draft-04 made exclusiveMinimum/Maximum flags on minimum/maximum
        ex_low = low if schema.get("exclusiveMinimum") is True else _num(schema.get("exclusiveMinimum"))
        ex_high = high if schema.get("exclusiveMaximum") is True else _num(schema.get("exclusiveMaximum"))
        step = _num(schema.get("multipleOf"))
        step = step if step is not None and step > 0 else None

        def ok(v: float) -> bool:
            if (low is not None and v < low) or (high is not None and v > high):
                return False
            if (ex_low is not None and v <= ex_low) or (ex_high is not None and v >= ex_high):
                return False
            if integer and v != int(v):
                return False
            return step is None or math.isclose(v / step, round(v / step), abs_tol=1e-9)

        for raw in self.ctx.numbers:
            v = float(raw)
            if ok(v):
                return int(v) if integer or v == int(v) else v
        guess = 1 + int(self.ctx.seed[:2], 16) % 9
        floor_ = max((b for b in (low, ex_low) if b is not None), default=None)
        ceil_ = min((b for b in (high, ex_high) if b is not None), default=None)
        candidates: list[float] = [guess]
        if floor_ is not None:
            candidates += [math.floor(floor_) + 1, float(floor_)]
        if ceil_ is not None:
            candidates += [math.ceil(ceil_) - 1, float(ceil_)]
        if floor_ is not None and ceil_ is not None:
            candidates.append((floor_ + ceil_) / 2)
        if step is not None:
            candidates = [m * step for c in candidates for m in (math.ceil(c / step), math.floor(c / step))] + candidates
        for v in candidates:
            if ok(v):
                return int(v) if integer or v == int(v) else v
        return int(floor_ or 0) if integer else float(floor_ or 0)

    def _string(self, schema: Mapping[str, Any], path: str, key: str | None) -> str:
        fmt = schema.get("format")
        by_format = {
            "date-time": "2025-01-01T00:00:00Z",
            "date": "2025-01-01",
            "time": "00:00:00Z",
            "email": "offline@example.com",
            "uri": "https://example.com/offline",
            "url": "https://example.com/offline",
            "hostname": "example.com",
            "ipv4": "192.0.2.1",
            "ipv6": "2001:db8::1",
            "uuid": "{}-{}-{}-{}-{}".format(*(self.ctx.seed[a:b] for a, b in ((0, 8), (8, 12), (12, 16), (16, 20), (20, 32)))),
        }
        if isinstance(fmt, str) and fmt in by_format:
            return by_format[fmt]
        text = self._text(path, key)
        low = _num(schema.get("minLength")) or 0
        high = _num(schema.get("maxLength"))
        while len(text) < low:
            text = f"{text} {self.ctx.words[len(text) % 3]}".strip()
        if high is not None and len(text) > high:
            text = text[: int(high)]
        return text

    def _text(self, path: str, key: str | None) -> str:
        if self._sentence is not None:
            text, self._sentence = self._sentence, None
            return text
        user = self.ctx.last_user or ""
        if key:
            spaced = re.escape(key.replace("_", " "))
            # "zone: Asia/Seoul", "city = Busan", 'title is "Dune"': the user named the value
            found = re.search(rf"(?i)\b(?:{re.escape(key)}|{spaced})\s*(?:[:=]|\bis\b)\s*(?:\"([^\"]+)\"|([^\s,;\"]+))", user)
            if found:
                value = found.group(1) or found.group(2).rstrip(".!?)")
                if value:
                    return value
        if self.ctx.user_words:
            word = self.ctx.user_words[self._next_word % len(self.ctx.user_words)]
            self._next_word += 1
            return word
        return " ".join(_pick_words(self.ctx.seed, 2, f"{self.salt}:{path}"))


_Kind = Literal["message", "refusal", "function_call"]


def _function_tools(request: Mapping[str, Any]) -> list[dict[str, Any]]:
    tools = request.get("tools")
    if not isinstance(tools, list):
        return []
    return [t for t in tools if isinstance(t, dict) and t.get("type") == "function" and isinstance(t.get("name"), str)]


def _calls_wanted(request: Mapping[str, Any], ctx: _Context) -> list[dict[str, Any]]:
    """The tools to call this turn, in the order they are offered."""
    tools = _function_tools(request)
    choice = request.get("tool_choice", "auto")
    if not tools or choice == "none" or ctx.tool_outputs:
        return []
    required = choice == "required"
    if isinstance(choice, dict):
        kind = choice.get("type")
        if kind == "function":
            return [t for t in tools if t["name"] == choice.get("name")][:1]
        if kind == "allowed_tools":
            allowed = {t.get("name") for t in choice.get("tools", []) if isinstance(t, dict) and t.get("type") == "function"}
            tools = [t for t in tools if t["name"] in allowed]
            required = choice.get("mode") == "required"
    asked = _content_words(ctx.last_user) if ctx.last_user is not None else set()
    named = [t for t in tools if ctx.last_user is not None and (asked & _about(t) or _mentions(ctx.last_user, t["name"]))]
    if not named and required and tools:
        named = tools[:1]
    if request.get("parallel_tool_calls") is False:
        named = named[:1]
    return named


def _plan(request: Mapping[str, Any], ctx: _Context) -> list[tuple[_Kind, str, str]]:
    """The whole answer before ids and limits: (kind, text or arguments, tool name)."""
    if ctx.last_user is not None and REFUSAL_TRIGGER in ctx.last_user.lower():
        return [("refusal", REFUSAL_TEXT, "")]
    calls = _calls_wanted(request, ctx)
    if calls:
        out: list[tuple[_Kind, str, str]] = []
        for tool in calls:
            params = tool.get("parameters")
            schema = params if isinstance(params, dict) else {"type": "object", "properties": {}}
            args = _SchemaFiller(schema, ctx, tool["name"], sentence_first=False).fill()
            out.append(("function_call", json.dumps(args, ensure_ascii=False, separators=(",", ":")), tool["name"]))
        return out
    text_cfg = request.get("text")
    fmt = text_cfg.get("format") if isinstance(text_cfg, dict) else None
    fmt_type = fmt.get("type") if isinstance(fmt, dict) else None
    if fmt_type == "json_schema" and isinstance(fmt, dict) and isinstance(fmt.get("schema"), dict):
        value = _SchemaFiller(fmt["schema"], ctx, "text", sentence_first=True).fill()
        return [("message", json.dumps(value, ensure_ascii=False), "")]
    if fmt_type == "json_object":
        value = {"answer": ctx.sentence(), "turn": ctx.turn, "words": ctx.words}
        return [("message", json.dumps(value, ensure_ascii=False), "")]
    return [("message", ctx.sentence(), "")]
