"""Tests of how an answer ended: ``r.choices[0].finish_reason == "length"`` → ``status`` and ``incomplete_details``.

A Response has no ``finish_reason``; the value tables of ``mappings/`` say what each one becomes
(``finish_reason``: ``stop``/``tool_calls`` → ``completed``, ``length``/``content_filter`` →
``incomplete``; ``incomplete_reason``: which reason stands for which). A Response that called
tools is ``completed`` too, so ``tool_calls`` and ``stop`` are told apart by its function_call
items, as the engine's own finish.py does. Only ``==``/``!=`` against a string literal is rewritten
as a test; a ``finish_reason`` read as a value (printed, kept in a name) becomes the expression that
works the chat value out of the Response the same way (:func:`finish_value`).
"""

from __future__ import annotations

import libcst as cst

from ..mapping.rules import APPROXIMATE, RENAME, TABLES, VALUES
from .literals import expression_with, string_value

_FINISH = VALUES["finish_reason"]
OUTPUT = TABLES["chat.completion"]["choices"].to or ""
_REASON_OF = {rule.to: reason for reason, rule in VALUES["incomplete_reason"].items() if rule.do is RENAME}
_CALLED = frozenset({"tool_calls", "function_call"})
FUNCTION_CALL = "function_call"
"""The type of the output items a chat ``tool_call`` of type function becomes (``ResponseFunctionToolCall``)."""
_CALLED_TEST = f'any(item.type == "{FUNCTION_CALL}" for item in {{base}}.{OUTPUT})'
_STOPPED = VALUES["status"]["completed"].to
_CALLED_FINISH = "tool_calls"
"""What Chat says for an answer that calls tools (the engine's finish.py too): the legacy ``functions``
said ``function_call``, which a Response cannot tell apart."""
_CHAT_REASON = {reason: rule.to for reason, rule in VALUES["incomplete_reason"].items() if rule.do is RENAME and rule.to}
_OTHER_REASONS = {rule.to for rule in VALUES["incomplete_reason"].values() if rule.do is APPROXIMATE}
if not _STOPPED or len(_OTHER_REASONS) != 1:
    raise ValueError("mappings/: the status table must rename completed, and the approximated incomplete reasons share one finish_reason")
_REASONS = "{" + ", ".join(f'"{reason}": "{finish}"' for reason, finish in _CHAT_REASON.items()) + "}"
_VALUE = (f'(("{_CALLED_FINISH}" if {_CALLED_TEST} else "{_STOPPED}") if {{base}}.status == "completed" '
          f'else {_REASONS}.get({{base}}.incomplete_details.reason, "{next(iter(_OTHER_REASONS))}") '
          'if {base}.status == "incomplete" else {base}.status)')
FINISH_VALUE = ("`finish_reason` read as a value is worked out of the Response's `status`, `incomplete_details.reason` "
                "and function_call items (the value tables), so it reads as Chat's did; a status that ends no chat "
                "answer (failed, cancelled…) reads as itself")


def finish_test(base: cst.BaseExpression, value: str, negate: bool) -> cst.BaseExpression | str:
    """The Response test for ``<base>.choices[0].finish_reason == value`` (``!=`` with ``negate``)."""
    rule = _FINISH.get(value)
    if rule is None or rule.do is not RENAME or not rule.to:
        return f"`finish_reason == {value!r}` has no Response counterpart"
    if value in _CALLED:
        test = _CALLED_TEST
    elif rule.to == "incomplete":
        reason = _REASON_OF.get(value)
        if reason is None:
            return f"no incomplete reason stands for `{value}`"
        test = f'({{base}}.status == "incomplete" and {{base}}.incomplete_details.reason == "{reason}")'
    else:
        test = f'({{base}}.status == "{rule.to}" and not {_CALLED_TEST})'
    return expression_with(f"not {test}" if negate else test, base=base)


def compared(node: cst.Comparison) -> tuple[cst.BaseExpression, str, bool] | None:
    """``x == "stop"`` / ``"stop" != x`` → (x, "stop", negate); None for any other comparison."""
    if len(node.comparisons) != 1:
        return None
    target = node.comparisons[0]
    if not isinstance(target.operator, cst.Equal | cst.NotEqual):
        return None
    negate = isinstance(target.operator, cst.NotEqual)
    right = string_value(target.comparator)
    if right is not None:
        return node.left, right, negate
    left = string_value(node.left)
    if left is not None:
        return target.comparator, left, negate
    return None


def finish_value(base: cst.BaseExpression, quotes: frozenset[str] = frozenset()) -> cst.BaseExpression | str:
    """The chat ``finish_reason`` of the Response ``base``, for ``<base>.choices[0].finish_reason`` read
    as a value: ``stop``, ``tool_calls``, ``length`` or ``content_filter`` where Chat said so, so the
    code prints and compares what it did. ``quotes``: those of the f-strings the read sits in, which
    the expression's own strings must not use (before Python 3.12)."""
    template = _VALUE
    if '"' in quotes:
        if "'" in quotes:
            return "`finish_reason` is read inside f-strings that use both quotes"
        template = template.replace('"', "'")
    return expression_with(template, base=base)
