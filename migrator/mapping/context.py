"""State shared by the converters of one translation: options, losses, problems, ids."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterator
from typing import Any

from .errors import Loss, LossKind, Problem, describe
from .rules import (
    APPROXIMATE,
    CHAT_ONLY_MODELS,
    CONVERT,
    COPY,
    DROP,
    RENAME,
    RESPONSES_ONLY_MODELS,
    Rule,
    Table,
)

_NO_RULES: dict[str, Rule] = {}
_UNSET: Any = object()  # a place reserved in a result (see dispatch), never a JSON value
_FINITE = "a finite number (NaN and Infinity are not JSON)"

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
# Escapes of a JSONPath normalized path (RFC 9535): quote, backslash, control characters.
_ESCAPES = {ord("'"): "\\'", ord("\\"): "\\\\", ord("\b"): "\\b", ord("\f"): "\\f", ord("\n"): "\\n",
            ord("\r"): "\\r", ord("\t"): "\\t"}
_ESCAPES.update({c: f"\\u{c:04x}" for c in range(0x20) if c not in _ESCAPES})


def child(path: str, key: str) -> str:
    """JSONPath of ``key`` under ``path`` (bracket form when the key is not an identifier)."""
    if _IDENT.match(key):
        return f"{path}.{key}"
    return f"{path}['{key.translate(_ESCAPES)}']"


def position(seq: list[Any], obj: Any) -> int:
    """The index of ``obj`` (by identity) in ``seq``: the hot loops skip enumerate and ask only when they must report."""
    for i, candidate in enumerate(seq):
        if candidate is obj:
            return i
    return -1


def usable_time(value: Any) -> bool:
    """A Unix time that converts to int and float: not a bool, NaN, an infinity or an integer beyond floats."""
    return (type(value) is int and -(2**53) < value < 2**53) or (type(value) is float and math.isfinite(value))


def lead(out: dict[str, Any], keys: tuple[str, ...]) -> dict[str, Any]:
    """``out`` with ``keys`` first, so a translated body reads like a hand-written one.

    ``dispatch`` reserves their places up front, so this is usually a check (no lists built);
    the copy is for a body whose finishing pass wrote one of them late.
    """
    order = iter(out)
    for k in keys:
        if k in out and next(order) != k:  # never exhausted: one step per present key
            break
    else:
        return out
    first = {k: out[k] for k in keys if k in out}
    first.update(out)
    return first


def set_path(out: dict[str, Any], parts: tuple[str, ...], value: Any) -> None:
    """Set a dotted target path, creating the objects on the way."""
    node = out
    for part in parts[:-1]:
        nxt = node.get(part)
        if not isinstance(nxt, dict):
            nxt = node[part] = {}
        node = nxt
    node[parts[-1]] = value


class Context:
    """One translation's options and findings."""

    __slots__ = ("custom_calls", "default_store", "hoist_system", "legacy_calls", "losses", "native", "problem_paths", "problems")

    def __init__(self, *, hoist_system: bool = False, default_store: bool = False, native: bool = False) -> None:
        # native: the body is read only to validate it in its own dialect (nothing is sent across)
        self.native = native
        self.losses: list[Loss] = []
        self.problems: list[Problem] = []
        self.problem_paths: set[str] = set()
        self.hoist_system = hoist_system
        self.default_store = default_store
        self.custom_calls: set[str] = set()
        self.legacy_calls: dict[str, str] = {}

    def loss(self, path: str, field: Any, kind: str | None, reason: str) -> None:
        k: LossKind = kind if kind in ("dropped", "approximated", "unsupported") else "dropped"  # type: ignore[assignment]
        self.losses.append(Loss(path, field if type(field) is str else describe(field), k, reason))

    def objects(self, items: list[Any], path: str, expected: str) -> Iterator[tuple[str, dict[str, Any]]]:
        """``(path of the item, item)`` for each object of a list; anything else is a problem, passed over
        (the checking paths read lists of parts, calls, annotations… alike)."""
        for i, item in enumerate(items):
            at = f"{path}[{i}]"
            if type(item) is dict:
                yield at, item
            else:
                self.problem(at, expected, item)

    def problem(self, path: str, expected: str, found: Any) -> None:
        """One problem per place: a converter and a table's type check may both see a wrong value."""
        if path in self.problem_paths:
            return
        self.problem_paths.add(path)
        self.problems.append(Problem(path, expected, describe(found)))

    def dropped_under(self, path: str) -> str:
        """The paths of the losses under ``path``, for a problem they caused (a MappingError carries no losses)."""
        paths = list(dict.fromkeys(loss.path for loss in self.losses if loss.path.startswith(path)))
        return ", ".join(paths[:4]) + (", ..." if len(paths) > 4 else "")

    def check(self, obj: Any, table: Table, path: str, at: str = "") -> None:
        """Look at every field of ``obj`` (the object at level ``at`` of the table) as ``carry``
        does, writing nothing: for objects whose fields a converter builds itself.

        An unknown field is reported, a value of a type its rule does not declare is a
        problem, a dropped field is a loss.
        """
        self._apply(obj, table, path, None, at)

    def carry(self, obj: Any, table: Table, path: str, out: dict[str, Any], at: str = "") -> None:
        """``check`` ``obj``, and write its copied and renamed fields into ``out``;
        convert rules are the caller's job.

        Every key is looked at, so a field that no table knows here is reported
        (and never forwarded) instead of slipping through, and a value of a type
        its rule does not declare is a problem (never copied, never replaced).
        """
        self._apply(obj, table, path, out, at)

    def _apply(self, obj: Any, table: Table, path: str, out: dict[str, Any] | None, at: str) -> None:
        rules: dict[str, Rule] = table.levels.get(at, _NO_RULES)
        for key, value in obj.items():
            rule = rules.get(key)
            if rule is None:
                self.loss(child(path, key), key, "unsupported",
                          f"not a field migrator knows in a {table.title.split(' → ')[0]}; it was not forwarded")
                continue
            if type(value) not in rule.types:
                self.problem(child(path, key), rule.expects, value)
                continue
            if type(value) is float and not math.isfinite(value):
                self.problem(child(path, key), _FINITE, value)
                continue
            do = rule.do
            if do is COPY:
                if out is not None:
                    out[key] = value
            elif do is RENAME:
                if out is not None:
                    set_path(out, rule.to_parts, value)
            elif (do is DROP or do is APPROXIMATE) and not rule.lossless_for(value):
                self.loss(child(path, key), key, rule.kind, rule.reason)

    def check_types(self, obj: dict[str, Any], table: Table, path: str, at: str = "") -> None:
        """Only the type check of ``carry``: for an object whose fields are not carried (a failed
        response's), so a wrong value is still reported and unknown fields are no loss."""
        rules: dict[str, Rule] = table.levels.get(at, _NO_RULES)
        for key, value in obj.items():
            rule = rules.get(key)
            if rule is None:
                continue
            if type(value) not in rule.types:
                self.problem(child(path, key), rule.expects, value)
            elif type(value) is float and not math.isfinite(value):
                self.problem(child(path, key), _FINITE, value)

    def value(self, table: Table, value: Any, path: str, field: str) -> Any:
        """Map an enum value by a value table; returns ``None`` when it cannot be carried."""
        if type(value) is not str:  # an enum value is a string; anything else is a wrong type, not an unknown value
            self.problem(path, f"a string (a value of {table.title})", value)
            return None
        rule = table.get(value)
        if rule is None:
            self.loss(path, field, "unsupported", f"{describe(value)} is not a value migrator knows for {table.title}")
            return None
        if rule.do is DROP:
            self.loss(path, field, rule.kind, rule.reason)
            return None
        if rule.do is APPROXIMATE:
            self.loss(path, field, "approximated", rule.reason)
            return rule.to
        if rule.do is RENAME:
            return rule.to
        return value

    def check_model(self, body: dict[str, Any], target: str) -> None:
        model = body.get("model")
        if type(model) is not str:
            return
        reason = _endpoint_only(model, target)
        if reason is not None:
            self.loss("$.model", "model", "unsupported", f"{reason}; the other endpoint will reject it")


Handler = Callable[[Any, str, dict[str, Any], dict[str, Any], "Context"], None]


def dispatch(body: dict[str, Any], table: Table, handlers: dict[str, Handler], ctx: Context,
             first: tuple[str, ...] = ()) -> dict[str, Any]:
    """A request's top level: simple rules by the table, each convert rule by its handler (named by ``via``).

    The keys in ``first`` (those ``lead`` puts first) get their places before anything is written:
    the converters write last, so otherwise the result would need reordering, a copy of the body.
    """
    out: dict[str, Any] = dict.fromkeys(first, _UNSET)
    converts = []
    mistyped: list[tuple[str, Any, Rule]] = []
    for key, value in body.items():  # one pass: what carry() does, plus noting the convert rules
        rule = table.get(key)
        if rule is None:
            ctx.loss(child("$", key), key, "unsupported",
                     f"not a parameter migrator knows for {table.title.split(' → ')[0]}; it was not forwarded")
            continue
        do = rule.do
        kind = type(value)
        if kind is float and value - value:  # NaN and ±Infinity (x - x is NaN, truthy; 0.0 otherwise)
            ctx.problem(child("$", key), _FINITE, value)
            continue
        if kind not in rule.types:
            if do is CONVERT:  # its converter says what it expects, more precisely; the check follows it
                mistyped.append((key, value, rule))
            else:
                ctx.problem(child("$", key), rule.expects, value)
                continue
        if do is COPY:
            out[key] = value
        elif do is CONVERT:
            converts.append((rule.via, key, value))
        elif do is RENAME:
            set_path(out, rule.to_parts, value)
        elif (do is DROP or do is APPROXIMATE) and not rule.lossless_for(value):
            ctx.loss(f"$.{key}", key, rule.kind, rule.reason)
    for via, key, value in converts:  # after the simple ones, so a handler sees their results
        handlers[via](value, f"$.{key}", body, out, ctx)  # type: ignore[index]
    for key, value, rule in mistyped:  # a converter that took the value as it is is overruled here
        ctx.problem(child("$", key), rule.expects, value)
    for key in first:  # a place nothing was written to
        if out.get(key) is _UNSET:
            del out[key]
    return out


_MODEL_VERDICTS: dict[tuple[str, str], str | None] = {}


def _endpoint_only(model: str, target: str) -> str | None:
    """Why ``model`` cannot be sent to ``target``, or None; remembered, as a gateway sees few models."""
    key = (model, target)
    try:
        return _MODEL_VERDICTS[key]
    except KeyError:
        pass
    matcher, reason = RESPONSES_ONLY_MODELS if target == "chat" else CHAT_ONLY_MODELS
    verdict = reason if matcher.fullmatch(model) else None
    if len(_MODEL_VERDICTS) < 4096:
        _MODEL_VERDICTS[key] = verdict
    return verdict
