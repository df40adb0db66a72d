"""Every error migrator raises, under one base, and what a translation reports.

``except migrator.MigratorError`` catches whatever the library refuses: a body
that cannot be read (``MappingError``), a strict translation that would lose
something (``StrictModeError``), a stream frame that cannot be read
(``StreamError``). ``MappingError`` and ``StreamError`` stay ``ValueError``s,
as callers written before the base existed catch them that way.

A ``Loss`` is a field that could not be carried exactly; the translation still
happens. A ``Problem`` is input that cannot be read at all (wrong type, unknown
role, missing id); every problem of a body is collected before one
``MappingError`` is raised, so a user fixes a body in one pass, as with
pydantic's ``ValidationError``.
"""

from __future__ import annotations

from typing import Any, Literal

__all__ = ["Loss", "LossKind", "MappingError", "MigratorError", "Problem", "StreamError", "StrictModeError", "describe"]

LossKind = Literal["dropped", "approximated", "unsupported"]


class _Record:
    """A frozen record of strings: equal, hashed and shown by its fields, like a frozen dataclass.

    Written out rather than ``@dataclass`` because ``dataclasses`` imports ``inspect`` (and
    through it ``ast``, ``dis``, ``tokenize``): a third of what ``import migrator`` cost.
    """

    __slots__ = ()
    _fields: tuple[str, ...] = ()  # in order: the constructor's, the repr's, the comparison's

    def _values(self) -> tuple[str, ...]:
        return tuple(getattr(self, name) for name in self._fields)

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return self._values() == other._values()

    def __hash__(self) -> int:
        return hash(self._values())

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={getattr(self, name)!r}" for name in self._fields)
        return f"{type(self).__name__}({fields})"

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"cannot delete field {name!r}")

    def __reduce__(self) -> tuple[Any, ...]:
        return type(self), self._values()


class Loss(_Record):
    """A field that was dropped, approximated, or cannot be represented in the target."""

    __slots__ = ("field", "kind", "path", "reason")
    __match_args__ = ("path", "field", "kind", "reason")
    _fields = __match_args__

    path: str
    field: str
    kind: LossKind
    reason: str

    def __init__(self, path: str, field: str, kind: LossKind, reason: str) -> None:
        setattr_ = object.__setattr__
        setattr_(self, "path", path)
        setattr_(self, "field", field)
        setattr_(self, "kind", kind)
        setattr_(self, "reason", reason)

    def as_dict(self) -> dict[str, str]:
        return {"path": self.path, "field": self.field, "kind": self.kind, "reason": self.reason}

    def __str__(self) -> str:
        return f"{self.path}: {self.kind}: {self.reason}"


class Problem(_Record):
    """One reason a body cannot be translated, pointing at the exact place."""

    __slots__ = ("expected", "found", "path")
    __match_args__ = ("path", "expected", "found")
    _fields = __match_args__

    path: str
    expected: str
    found: str

    def __init__(self, path: str, expected: str, found: str) -> None:
        setattr_ = object.__setattr__
        setattr_(self, "path", path)
        setattr_(self, "expected", expected)
        setattr_(self, "found", found)

    def __str__(self) -> str:
        return f"{self.path}: expected {self.expected}, found {self.found}"


def describe(value: Any) -> str:
    """A short, safe rendering of a found value for an error message."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        shown = value if len(value) <= 40 else value[:37] + "..."
        return repr(shown)
    if isinstance(value, int) and value.bit_length() > 256:  # repr() refuses integers of over 4,300 digits
        return f"an integer of about {int(value.bit_length() * 0.30103) + 1} digits"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, dict):
        keys = ", ".join(list(value)[:6])
        return f"an object with keys {{{keys}}}" if value else "an empty object"
    if isinstance(value, list):
        return f"a list of {len(value)}"
    return type(value).__name__


class MigratorError(Exception):
    """The base of every error migrator raises on purpose; anything else is a bug."""


class MappingError(MigratorError, ValueError):
    """The input cannot be translated; ``problems`` says where and why."""

    def __init__(self, problems: list[Problem], source: str | None = None) -> None:
        self.problems = problems
        self.source = source
        super().__init__(self._render())

    def with_source(self, source: str) -> MappingError:
        """This error, naming the input it was read from (a file, ``request``), message included.

        The engine does not know where a body came from; its caller does, and says so
        here rather than setting the attribute behind the message's back.
        """
        self.source = source
        self.args = (self._render(),)
        return self

    def _render(self) -> str:
        where = f" in {self.source}" if self.source else ""
        n = len(self.problems)
        head = f"{n} problem{'s' if n != 1 else ''}{where}:"
        return "\n".join([head, *(f"  {p}" for p in self.problems)])


class StrictModeError(MigratorError):
    """Strict mode refused a translation that would lose something; every loss is listed."""

    def __init__(self, losses: list[Loss]) -> None:
        self.losses = losses
        n = len(losses)
        lines = [f"strict mode: {n} field{'s' if n != 1 else ''} cannot be carried exactly:"]
        lines += [f"  {loss}" for loss in losses]
        super().__init__("\n".join(lines))


class StreamError(MigratorError, ValueError):
    """A frame that cannot be read; names the frame by its number (from 1)."""

    def __init__(self, frame: int, message: str) -> None:
        self.frame = frame
        super().__init__(f"frame {frame}: {message}")
