"""JSON text as the API reads it: values JSON cannot carry are input errors, not crashes.

Python's ``json`` accepts things the API refuses (``NaN``, ``Infinity``, lone
UTF-16 surrogates such as ``"\\ud800"``) and fails in ways that are not a
decoding error (``RecursionError`` past about a thousand levels, ``ValueError``
for integers over 4,300 digits). Each of those would surface far from the input
as a traceback or a 500, so they are caught here, where the text is read, and
reported as a :class:`MappingError` with the JSON path of the value.

The checks cost nothing measurable on ordinary bodies: the depth walk runs only
when the text has more brackets than the depth limit, and the surrogate walk only
when the text contains an escape that could be one. The paths are found on the
error path alone.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from typing import Any

from .context import child
from .errors import MappingError, Problem, describe

MAX_DEPTH = 100
"""How deeply objects and arrays may nest (a JSON schema of 40 levels fits easily)."""

MAX_INT_DIGITS = 4300
"""Python's own limit on integer conversion, stated so the message can name it."""

_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
_SURROGATE_ESCAPE_B = re.compile(rb"\\u[dD][89a-fA-F]")
_SURROGATE_RAW_B = re.compile(rb"\xed[\xa0-\xbf]")
"""A surrogate written as UTF-8 bytes (CESU-8): ``json.loads`` decodes bytes with ``surrogatepass``."""


class _Constant(float):
    """Stands for a NaN/Infinity literal while the error path looks for where it is."""

    literal: str


def _reject_constant(name: str) -> Any:
    raise _ConstantFound(name)


class _ConstantFound(ValueError):
    pass


def loads(raw: bytes | str) -> Any:
    """Parse ``raw``; a syntax error is ``json.JSONDecodeError`` as usual (the caller has the
    line and column), a value the API would refuse is a ``MappingError`` naming its path."""
    try:
        value = json.loads(raw, parse_constant=_reject_constant)
    except UnicodeDecodeError:
        raise MappingError([Problem("$", "UTF-8 text", "bytes that are not UTF-8")]) from None
    except _ConstantFound:
        raise MappingError([_constant_problem(raw)]) from None
    except RecursionError:
        raise MappingError([Problem("$", f"JSON nested at most {MAX_DEPTH} levels deep", "deeper nesting")]) from None
    except json.JSONDecodeError:
        raise
    except ValueError as exc:
        if "integer string conversion" not in str(exc):
            raise
        raise MappingError([_long_int_problem(raw)]) from None
    check(value, _brackets(raw) > MAX_DEPTH, _may_hold_surrogates(raw))
    return value


def _may_hold_surrogates(raw: bytes | str) -> bool:
    """An escape that could be a lone surrogate, or one written raw: in bytes as CESU-8 (found
    by a byte search first), in text as a character no encoder takes (ASCII text has none)."""
    if isinstance(raw, bytes):
        return _SURROGATE_ESCAPE_B.search(raw) is not None or (b"\xed" in raw and _SURROGATE_RAW_B.search(raw) is not None)
    if _SURROGATE_ESCAPE.search(raw) is not None:
        return True
    return not raw.isascii() and not _encodable(raw)


def nonfinite(value: Any) -> str | None:
    """The path of the first infinite or NaN number in a parsed value, or None.

    A literal such as ``1e999`` is valid JSON text that Python reads as ``inf``; looking
    for it in every body would cost more than the parse, so writers find it instead when
    ``json.dumps(..., allow_nan=False)`` refuses the result (the error path only).
    """
    return _first(value, lambda path, v, depth: type(v) is float and (v != v or v in (_INF, -_INF)))


_INF = float("inf")


def check(value: Any, deep: bool = True, surrogates: bool = True) -> None:
    """The checks of :func:`loads` on a value that is already parsed (a frame, a stored body)."""
    problems: list[Problem] = []
    if deep and _too_deep(value):
        # The first container at level 101 (the root is level 1, depth 0); not its first
        # child, which an empty innermost container does not have.
        path = _first(value, lambda path, v, depth: depth >= MAX_DEPTH and (type(v) is dict or type(v) is list))
        problems.append(Problem(path or "$", f"JSON nested at most {MAX_DEPTH} levels deep", "deeper nesting"))
    elif surrogates:
        for path, text in _strings(value):
            if not _encodable(text):
                problems.append(Problem(path, "valid Unicode text (a lone UTF-16 surrogate cannot be encoded)", describe(text)))
    if problems:
        raise MappingError(problems)


def _brackets(raw: bytes | str) -> int:
    """An upper bound of the nesting depth: every level opens one bracket."""
    if isinstance(raw, bytes):
        return raw.count(b"[") + raw.count(b"{")
    return raw.count("[") + raw.count("{")


def _too_deep(value: Any) -> bool:
    stack = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            return True
        children = node.values() if type(node) is dict else node if type(node) is list else ()
        for item in children:
            if type(item) is dict or type(item) is list:
                stack.append((item, depth + 1))
    return False


def _walk(value: Any) -> Iterator[tuple[str, Any, int]]:
    """Every value with its JSON path and depth, depth first (the error path only)."""
    stack: list[tuple[str, Any, int]] = [("$", value, 0)]
    while stack:
        path, node, depth = stack.pop()
        yield path, node, depth
        if type(node) is dict:
            stack.extend((child(path, k), v, depth + 1) for k, v in reversed(list(node.items())))
        elif type(node) is list:
            stack.extend((f"{path}[{i}]", v, depth + 1) for i, v in reversed(list(enumerate(node))))


def _first(value: Any, found: Callable[[str, Any, int], bool]) -> str | None:
    for path, node, depth in _walk(value):
        if found(path, node, depth):
            return path
    return None


def _strings(value: Any) -> Iterator[tuple[str, str]]:
    for path, node, _ in _walk(value):
        if type(node) is str:
            yield path, node
        elif type(node) is dict:
            for key in node:
                if not _encodable(key):
                    yield path, key


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _constant_problem(raw: bytes | str) -> Problem:
    def mark(name: str) -> _Constant:
        c = _Constant("nan")
        c.literal = name
        return c

    value = json.loads(raw, parse_constant=mark)
    path = _first(value, lambda path, v, depth: isinstance(v, _Constant)) or "$"
    literal = next((v.literal for _, v, _ in _walk(value) if isinstance(v, _Constant)), "NaN")
    return Problem(path, "a finite number (NaN and Infinity are not JSON)", literal)


def _long_int_problem(raw: bytes | str) -> Problem:
    def mark(digits: str) -> Any:
        return _LongInt(digits) if len(digits.lstrip("-")) > MAX_INT_DIGITS else int(digits)

    value = json.loads(raw, parse_int=mark)
    found = _first(value, lambda path, v, depth: isinstance(v, _LongInt))
    return Problem(found or "$", f"an integer of at most {MAX_INT_DIGITS} digits", "a longer integer")


class _LongInt(str):
    pass
