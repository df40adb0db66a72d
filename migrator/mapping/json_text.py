"""JSON text as the API reads it: values JSON cannot carry are input errors, not crashes.

Python's ``json`` accepts things the API refuses (``NaN``, ``Infinity``, lone
UTF-16 surrogates such as ``"\\ud800"``) and fails in ways that are not a
decoding error (``RecursionError`` past about a thousand levels, ``ValueError``
for integers over 4,300 digits). Each of those would surface far from the input
as a traceback or a 500, so they are caught here, where the text is read, and
reported as a :class:`MappingError` with the JSON path of the value.

The checks cost little on ordinary bodies (about 0.4 µs on a 340-byte stream frame,
whose parse takes 2.7 µs): the depth walk runs only when the text has more brackets
than the depth limit, and the surrogate walk only when the text contains an escape
that could be one or non-ASCII text that does not encode (a surrogate in a str, or
CESU-8 bytes). The paths are found on the error path alone. A number such as
``1e999`` reads as infinity; finding one would cost a walk of every body, so writers
look for it (:func:`nonfinite`) when ``json.dumps(..., allow_nan=False)`` refuses.
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


class _Constant(float):
    """Stands for a NaN/Infinity literal while the error path looks for where it is."""

    literal: str


def _reject_constant(name: str) -> Any:
    raise _ConstantFound(name)


class _ConstantFound(ValueError):
    pass


# One decoder for every call: json.loads with any keyword builds a new decoder each time,
# which costs more than the parse of a stream frame.
_decode = json.JSONDecoder(parse_constant=_reject_constant).decode


def loads(raw: bytes | str) -> Any:
    """Parse ``raw``; a syntax error is ``json.JSONDecodeError`` as usual (the caller has the
    line and column), a value the API would refuse is a ``MappingError`` naming its path."""
    if not isinstance(raw, str):
        try:  # as json.loads reads bytes: surrogates written as CESU-8 come back as surrogates, found below
            raw = raw.decode(json.detect_encoding(raw), "surrogatepass")
        except UnicodeDecodeError:
            raise MappingError([Problem("$", "UTF-8 text", "bytes that are not UTF-8")]) from None
    elif raw.startswith("\ufeff"):
        raise json.JSONDecodeError("Unexpected UTF-8 BOM (decode using utf-8-sig)", raw, 0)
    try:
        value = _decode(raw)
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
    # Every level opens a bracket, so fewer brackets than the limit need no walk; a surrogate
    # is an escape, or (text from a str, or CESU-8 bytes) a character no encoder takes.
    deep = raw.count("[") + raw.count("{") > MAX_DEPTH
    surrogates = _SURROGATE_ESCAPE.search(raw) is not None or (not raw.isascii() and not _encodable(raw))
    if deep or surrogates:
        check(value, deep, surrogates)
    return value


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
