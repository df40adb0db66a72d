"""How an answer ended: a chat ``finish_reason`` ⇄ a Response's ``status`` and ``incomplete_details``.

The whole-body translations and the streams end answers alike; both read the value tables
(``finish_reason``, ``status``, ``incomplete_reason`` in mappings/values.json) through here.
"""

from __future__ import annotations

from typing import Any

from .context import Context
from .rules import RENAME, TABLES, VALUES

_FINISH = VALUES["finish_reason"]
_STATUS = VALUES["status"]
_INCOMPLETE = VALUES["incomplete_reason"]
_INCOMPLETE_DETAILS = TABLES["response.incomplete_details"]
#: The incomplete reason a finish_reason stands for: the reason the table renames to it exactly.
_REASON_OF = {rule.to: reason for reason, rule in _INCOMPLETE.items() if rule.do is RENAME}


def item_status(finish: Any) -> str:
    """The status of the items an answer ended by ``finish`` leaves open (reports nothing: the
    Response's own status, from :func:`response_status`, does)."""
    rule = _FINISH.get(finish) if type(finish) is str else None
    return "incomplete" if rule is not None and rule.to == "incomplete" else "completed"


def response_status(finish: Any, called: bool, ctx: Context) -> tuple[str, dict[str, str] | None]:
    """A Response's ``status`` and ``incomplete_details`` for a chat choice's (present) ``finish_reason``.

    ``called``: the choice made tool calls (not the legacy function_call), which a ``stop`` then
    hides: the Response cannot tell a forced tool choice's stop apart, and the loss says so.
    """
    status = ctx.value(_FINISH, finish, "$.choices[0].finish_reason", "finish_reason") or "completed"
    if finish == "stop" and called:
        rule = _FINISH["stop"]
        ctx.loss("$.choices[0].finish_reason", "finish_reason", rule.kind, rule.reason)
    if status != "incomplete":
        return status, None
    return status, {"reason": _REASON_OF.get(finish, str(finish))}


def finish_reason(status: str, details: Any, called: bool, ctx: Context) -> str:
    """A chat ``finish_reason`` for a finished Response (``status`` completed or incomplete, and its
    ``incomplete_details``); ``called``: the answer holds tool calls."""
    if status == "completed":
        done = _STATUS["completed"].to or "stop"
        return "tool_calls" if called else done
    if type(details) is dict:
        ctx.check(details, _INCOMPLETE_DETAILS, "$.incomplete_details")
    reason = details.get("reason") if type(details) is dict else None
    if reason is None:
        ctx.loss("$.incomplete_details", "incomplete_details", "approximated", "an incomplete response with no reason is reported as length")
        return "length"
    return ctx.value(_INCOMPLETE, reason, "$.incomplete_details.reason", "incomplete_details") or "length"
