"""Tests of how an answer ended: ``r.choices[0].finish_reason == "length"`` → ``status`` and ``incomplete_details``.

A Response has no ``finish_reason``; the value tables of ``mappings/`` say what each one becomes
(``finish_reason``: ``stop``/``tool_calls`` → ``completed``, ``length``/``content_filter`` →
``incomplete``; ``incomplete_reason``: which reason stands for which). A Response that called
tools is ``completed`` too, so ``tool_calls`` and ``stop`` are told apart by its function_call
items, as the engine's own finish.py does. Only ``==``/``!=`` against a string literal is rewritten.
"""

from __future__ import annotations

import libcst as cst

from ..mapping.rules import RENAME, TABLES, VALUES
from .literals import string_value

_FINISH = VALUES["finish_reason"]
OUTPUT = TABLES["chat.completion"]["choices"].to or ""
_REASON_OF = {rule.to: reason for reason, rule in VALUES["incomplete_reason"].items() if rule.do is RENAME}
_CALLED = frozenset({"tool_calls", "function_call"})
FUNCTION_CALL = "function_call"
"""The type of the output items a chat ``tool_call`` of type function becomes (``ResponseFunctionToolCall``)."""


def _called(base: str) -> str:
    return f'any(item.type == "{FUNCTION_CALL}" for item in {base}.{OUTPUT})'


def finish_test(base: cst.BaseExpression, value: str, negate: bool) -> cst.BaseExpression | str:
    """The Response test for ``<base>.choices[0].finish_reason == value`` (``!=`` with ``negate``)."""
    rule = _FINISH.get(value)
    if rule is None or rule.do is not RENAME or not rule.to:
        return f"`finish_reason == {value!r}` has no Response counterpart"
    code = cst.Module([]).code_for_node(base)
    if value in _CALLED:
        test = _called(code)
    elif rule.to == "incomplete":
        reason = _REASON_OF.get(value)
        if reason is None:
            return f"no incomplete reason stands for `{value}`"
        test = f'({code}.status == "incomplete" and {code}.incomplete_details.reason == "{reason}")'
    else:
        test = f'({code}.status == "{rule.to}" and not {_called(code)})'
    expr = cst.parse_expression(f"not {test}" if negate else test)
    return _PutBase(code, base).put(expr)


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


class _PutBase(cst.CSTTransformer):
    """The printed base, parsed again, is a copy: put the original node back so the base's own
    replacements (an alias renamed) still find it."""

    def __init__(self, code: str, base: cst.BaseExpression) -> None:
        self.code, self.base = code, base

    def put(self, expr: cst.BaseExpression) -> cst.BaseExpression:
        result = expr.visit(self)
        assert isinstance(result, cst.BaseExpression)
        return result

    def on_leave(self, original_node: cst.CSTNode, updated_node: cst.CSTNode) -> cst.CSTNode:  # type: ignore[override]
        if isinstance(original_node, cst.BaseExpression) and cst.Module([]).code_for_node(original_node) == self.code:
            return self.base
        return updated_node
