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

from dataclasses import dataclass
from typing import Any, Literal

__all__ = ["Loss", "LossKind", "MappingError", "MigratorError", "Problem", "StreamError", "StrictModeError", "describe"]

LossKind = Literal["dropped", "approximated", "unsupported"]


@dataclass(frozen=True, slots=True)
class Loss:
    """A field that was dropped, approximated, or cannot be represented in the target."""

    path: str
    field: str
    kind: LossKind
    reason: str

    def as_dict(self) -> dict[str, str]:
        return {"path": self.path, "field": self.field, "kind": self.kind, "reason": self.reason}

    def __str__(self) -> str:
        return f"{self.path}: {self.kind}: {self.reason}"


@dataclass(frozen=True, slots=True)
class Problem:
    """One reason a body cannot be translated, pointing at the exact place."""

    path: str
    expected: str
    found: str

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
