"""Token usage: ``CompletionUsage`` ⇄ ``ResponseUsage``, every detail field carried.

Both directions are one walk over a plan compiled from the source table (``chat.usage`` or
``response.usage``): its copied and renamed counts, in the table's order, each detail object with
the counts it holds. The tables say every name; this module only knows that counts are integers,
that the target types require every detail count (0 when unknown), and that a missing total is
the sum of the others.
"""

from __future__ import annotations

from typing import Any, Final

from .context import Context
from .rules import COPY, RENAME, TABLES, Table

_TOTAL: Final = "total_tokens"

#: One step of a plan: (source key, target key, the copied counts of its detail object, or None for a count).
_Step = tuple[str, str, "tuple[str, ...] | None"]


def _plan(table: Table) -> tuple[_Step, ...]:
    steps: list[_Step] = []
    for key, rule in table.levels[""].items():
        if rule.do is not COPY and rule.do is not RENAME:
            continue
        inner = table.levels.get(key)
        counts = None if inner is None else tuple(k for k, r in inner.items() if r.do is COPY)
        steps.append((key, rule.to_parts[-1] if rule.do is RENAME else key, counts))
    return tuple(steps)


_CHAT: Final = TABLES["chat.usage"]
_RESPONSES: Final = TABLES["response.usage"]
_TO_RESPONSES: Final = _plan(_CHAT)
_TO_CHAT: Final = _plan(_RESPONSES)


def _int(obj: Any, key: str) -> int:
    value = obj.get(key) if type(obj) is dict else None
    return value if type(value) is int else 0


def _usage(usage: Any, path: str, ctx: Context, table: Table, plan: tuple[_Step, ...]) -> dict[str, Any] | None:
    if usage is None:
        return None
    if type(usage) is not dict:
        ctx.problem(path, "a usage object", usage)
        return None
    ctx.check(usage, table, path)
    total = usage.get(_TOTAL)
    if type(total) is not int:
        total = sum(_int(usage, key) for key, _, counts in plan if counts is None and key != _TOTAL)
    out: dict[str, Any] = {}
    for key, target, counts in plan:
        if counts is None:
            out[target] = total if key == _TOTAL else _int(usage, key)
            continue
        detail = usage.get(key)
        if type(detail) is dict:
            ctx.check(detail, table, f"{path}.{key}", at=key)
        out[target] = {count: _int(detail, count) for count in counts}
    return out


def chat_usage_to_responses(usage: Any, path: str, ctx: Context) -> dict[str, Any] | None:
    """The Responses type requires every detail field, so unknown ones are written as 0."""
    return _usage(usage, path, ctx, _CHAT, _TO_RESPONSES)


def responses_usage_to_chat(usage: Any, path: str, ctx: Context) -> dict[str, Any] | None:
    return _usage(usage, path, ctx, _RESPONSES, _TO_CHAT)
