"""Complete bodies: every field the API writes, as ``mappings/shapes.json`` lists them.

Clients with strict schemas (generated zod types, Open Responses gateways) reject
a Response that leaves out a field the spec requires, so every Response and
ChatCompletion migrator writes passes through here once, at its end (a stream
completes its snapshots, never its per-chunk events). Completing only adds:
a value the answer or the request holds is never replaced, except ``null`` in a
field the spec does not allow to be null (``not_null``), which means "unset" and
so gets the API's default.
"""

from __future__ import annotations

from typing import Any

from .rules import read_mappings

_SCALARS = (str, int, float, bool, type(None))
_UNSET: Any = object()


class Shape:
    """One body kind's rules, read once from ``mappings/shapes.json``."""

    __slots__ = ("base", "complete", "container_defaults", "defaults", "echo", "integers", "not_null", "required", "tools",
                 "typed", "written")

    def __init__(self, raw: dict[str, Any]) -> None:
        self.required: tuple[str, ...] = tuple(raw["required"])
        self.integers: tuple[str, ...] = tuple(raw.get("integers", ()))
        self.echo: tuple[str, ...] = tuple(raw.get("echo", ()))
        self.defaults: dict[str, Any] = raw.get("defaults", {})
        # Every required field in the spec's order, holding its default when that is a scalar: a body is
        # completed by copying this and laying the body over it; only container defaults are built per body.
        self.base: dict[str, Any] = {
            k: self.defaults[k] if k in self.defaults and type(self.defaults[k]) in _SCALARS else _UNSET for k in self.required}
        self.container_defaults: tuple[tuple[str, Any], ...] = tuple(
            (k, v) for k, v in self.defaults.items() if type(v) not in _SCALARS)
        self.written: tuple[str, ...] = tuple(k for k in self.required if k not in self.defaults)  # always the builder's
        self.not_null: frozenset[str] = frozenset(raw.get("not_null", ()))
        self.complete: tuple[tuple[tuple[str, ...], dict[str, Any]], ...] = tuple(
            (tuple(path.split(".")), fill) for path, fill in raw.get("complete", {}).items())
        self.typed: tuple[tuple[tuple[str, ...], dict[str, dict[str, Any]]], ...] = tuple(
            (tuple(path.split(".")), fills) for path, fills in raw.get("typed", {}).items())
        self.tools: dict[str, dict[str, Any]] = raw.get("tools", {})


def _load() -> dict[str, Shape]:
    raw = read_mappings("shapes.json")
    return {name: Shape(shape) for name, shape in raw["shapes"].items()}


SHAPES: dict[str, Shape] = _load()
RESPONSE = SHAPES["response"]
COMPLETION = SHAPES["chat.completion"]
CHUNK = SHAPES["chat.completion.chunk"]


def _fresh(value: Any) -> Any:
    """A default that the caller may mutate without changing the table's (JSON values only: cheaper than deepcopy)."""
    kind = type(value)
    if kind is dict:
        return {k: _fresh(v) for k, v in value.items()}
    if kind is list:
        return [_fresh(v) for v in value]
    return value


def _fill(obj: dict[str, Any], fill: dict[str, Any]) -> dict[str, Any]:
    """``obj`` with the missing (or null) keys of ``fill``; ``obj`` itself is never changed."""
    missing = [k for k, v in fill.items() if k not in obj or (obj[k] is None and v is not None)]
    if not missing:
        return obj
    out = dict(obj)
    for key in missing:
        out[key] = _fresh(fill[key])
    return out


def _fill_at(obj: dict[str, Any], path: tuple[str, ...], fill: dict[str, Any]) -> dict[str, Any]:
    """``obj`` with ``fill`` applied to the object at ``path`` (when there is one), copying on the way down."""
    inner = obj.get(path[0])
    if type(inner) is not dict:
        return obj
    new = _fill(inner, fill) if len(path) == 1 else _fill_at(inner, path[1:], fill)
    if new is inner:
        return obj
    out = dict(obj)
    out[path[0]] = new
    return out


def _int(value: Any) -> Any:
    """Float seconds → int seconds (the spec's type); anything else is left for the type checks to name."""
    if type(value) is float:
        try:
            return int(value)
        except (OverflowError, ValueError):
            return value
    return value


def complete(body: dict[str, Any], shape: Shape, echo: dict[str, Any] | None = None) -> dict[str, Any]:
    """``body`` with every field of ``shape``: the body's own, else the request's (``echo``), else the API's default.

    Returns a new dict, the required fields first in the spec's order; ``body``
    and ``echo`` are left as they are.
    """
    out = dict(shape.base)
    not_null = shape.not_null
    for key, value in body.items():
        if value is not None or key not in not_null:
            out[key] = value
    if echo:
        for key in shape.echo:
            if body.get(key) is None:
                value = echo.get(key)
                if value is not None:
                    out[key] = value
    for key, default in shape.container_defaults:
        if out[key] is _UNSET:
            out[key] = _fresh(default)
    for key in shape.written:
        if out[key] is _UNSET:
            del out[key]
    for path, fill in shape.complete:
        out = _fill_at(out, path, fill)
    for path, fills in shape.typed:
        inner: Any = out
        for key in path:
            inner = inner.get(key) if type(inner) is dict else None
        kind = inner.get("type") if type(inner) is dict else None
        if type(kind) is str and kind in fills:
            out = _fill_at(out, path, fills[kind])
    if shape.tools:
        tools = out.get("tools")
        if type(tools) is list:
            filled = [_fill(t, shape.tools[t["type"]]) if type(t) is dict and t.get("type") in shape.tools else t for t in tools]
            if any(a is not b for a, b in zip(filled, tools, strict=True)):
                out["tools"] = filled
    for key in shape.integers:
        if key in out:
            out[key] = _int(out[key])
    return out


def complete_response(body: dict[str, Any], echo: dict[str, Any] | None = None) -> dict[str, Any]:
    """A Response with every field the Open Responses spec requires (see ``mappings/shapes.json``)."""
    return complete(body, RESPONSE, echo)


def complete_completion(body: dict[str, Any]) -> dict[str, Any]:
    """A ChatCompletion with every field the API sends (``service_tier``, ``system_fingerprint``, usage details)."""
    return complete(body, COMPLETION)


def complete_chat_usage(usage: dict[str, Any]) -> dict[str, Any]:
    """A chat usage object with both detail objects as the API sends them (for a stream's usage chunk)."""
    wrapper = {"usage": usage}
    for path, fill in COMPLETION.complete:
        if path[0] == "usage":
            wrapper = _fill_at(wrapper, path, fill)
    return wrapper["usage"]
