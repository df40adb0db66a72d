"""Moderation results, both directions: a ChatCompletion lists results per side, a Response holds one.

Both walk the same two sides the same way (a side that is not an object goes on as it is, so the
table check has reported it; only keys a table knows go on), and differ only in one side's shape.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .context import Context
from .rules import TABLES, Rule, Table, targets

_CHAT_RESULT = TABLES["chat.completion"]["moderation"]  # its kind and reason: the results a Response cannot hold
_CHAT = TABLES["chat.moderation"]
_CHAT_SIDE = TABLES["chat.moderation.side"]
_RESPONSE = TABLES["response.moderation"]
_RESPONSE_SIDE = TABLES["response.moderation.side"]
_SIDES = ("input", "output")
# Each side's key in the target, as the tables state it.
_TO_RESPONSE = dict(zip(_SIDES, targets(_CHAT, *_SIDES), strict=True))
_TO_CHAT = dict(zip(_SIDES, targets(_RESPONSE, *_SIDES), strict=True))


def _known(obj: dict[str, Any], rules: dict[str, Rule]) -> dict[str, Any]:
    """The keys a table knows at this level: what was reported as unknown is not forwarded."""
    return {k: v for k, v in obj.items() if k in rules}


def _sides(moderation: Any, table: Table, to: dict[str, str], ctx: Context,
           side_of: Callable[[dict[str, Any], str, Context], Any]) -> Any:
    if type(moderation) is not dict:
        return moderation
    ctx.check(moderation, table, "$.moderation")
    out: dict[str, Any] = {}
    for side, target in to.items():
        value = moderation.get(side)
        if type(value) is not dict:
            if side in moderation:
                out[target] = value
            continue
        out[target] = side_of(value, f"$.moderation.{side}", ctx)
    return out


def _chat_side(value: dict[str, Any], path: str, ctx: Context) -> Any:
    if value.get("type") == "error":
        ctx.check(value, _CHAT_SIDE, path, at="error")
        return _known(value, _CHAT_SIDE.levels["error"])
    ctx.check(value, _CHAT_SIDE, path)
    results = value.get("results")
    if type(results) is not list:
        results = []  # absent, or a wrong type the table check above reported
    for i, result in enumerate(results):
        if type(result) is not dict:
            ctx.problem(f"{path}.results[{i}]", "a moderation result object", result)
    if len(results) > 1:
        ctx.loss(f"{path}.results[1]", "moderation", _CHAT_RESULT.kind, _CHAT_RESULT.reason)
    first = results[0] if results else None
    if type(first) is dict:
        ctx.check(first, _CHAT_SIDE, f"{path}.results[0]", at="results")
        first = _known(first, _CHAT_SIDE.levels["results"])
    return first


def _response_side(value: dict[str, Any], path: str, ctx: Context) -> Any:
    level = "error" if value.get("type") == "error" else ""
    ctx.check(value, _RESPONSE_SIDE, path, at=level)
    kept = _known(value, _RESPONSE_SIDE.levels[level])
    return kept if level else {"type": "moderation_results", "model": value.get("model"), "results": [kept]}


def chat_moderation(moderation: Any, ctx: Context) -> Any:
    """{input/output: {type: moderation_results, results: [R, ...]}} → {input/output: R}."""
    return _sides(moderation, _CHAT, _TO_RESPONSE, ctx, _chat_side)


def response_moderation(moderation: Any, ctx: Context) -> Any:
    """{input/output: R} → {input/output: {type: moderation_results, model, results: [R]}}."""
    return _sides(moderation, _RESPONSE, _TO_CHAT, ctx, _response_side)
