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
#: A plan: its steps, and the target key of the total.
_Plan = tuple[tuple[_Step, ...], str]


def _plan(table: Table) -> _Plan:
    steps: list[_Step] = []
    for key, rule in table.levels[""].items():
        if rule.do is not COPY and rule.do is not RENAME:
            continue
        inner = table.levels.get(key)
        counts = None if inner is None else tuple(k for k, r in inner.items() if r.do is COPY)
        steps.append((key, rule.to_parts[-1] if rule.do is RENAME else key, counts))
    totals = [target for key, target, _ in steps if key == _TOTAL]
    if not totals:
        raise ValueError(f"mappings/: {table.name} does not carry {_TOTAL}, which the target type requires")
    return tuple(steps), totals[0]


_CHAT: Final = TABLES["chat.usage"]
_RESPONSES: Final = TABLES["response.usage"]
_TO_RESPONSES: Final = _plan(_CHAT)
_TO_CHAT: Final = _plan(_RESPONSES)


def _usage(usage: Any, path: str, ctx: Context, table: Table, plan: _Plan) -> dict[str, Any] | None:
    if usage is None:
        return None
    if type(usage) is not dict:
        ctx.problem(path, "a usage object", usage)
        return None
    ctx.check(usage, table, path)
    out: dict[str, Any] = {}
    steps, total = plan
    for key, target, counts in steps:
        value = usage.get(key)
        if counts is None:
            out[target] = value if type(value) is int else 0
        elif type(value) is dict:
            ctx.check(value, table, f"{path}.{key}", at=key)
            out[target] = {count: n if type(n := value.get(count)) is int else 0 for count in counts}
        else:
            out[target] = dict.fromkeys(counts, 0)
    if type(usage.get(_TOTAL)) is not int:  # rare: a total the source left out is the sum of the others
        out[total] = sum(out[target] for key, target, counts in steps if counts is None and key != _TOTAL)
    return out


def chat_usage_to_responses(usage: Any, path: str, ctx: Context) -> dict[str, Any] | None:
    """The Responses type requires every detail field, so unknown ones are written as 0."""
    return _usage(usage, path, ctx, _CHAT, _TO_RESPONSES)


def responses_usage_to_chat(usage: Any, path: str, ctx: Context) -> dict[str, Any] | None:
    return _usage(usage, path, ctx, _RESPONSES, _TO_CHAT)
