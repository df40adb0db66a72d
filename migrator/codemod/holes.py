"""Sentinels for the parts of a literal that are not literals, whatever the language.

Each codemod reads a request literal as JSON in which every non-literal piece (a name, a call, a
template) becomes a *hole*: a string or integer sentinel the engine carries like any other value.
What stands behind a sentinel is the language's own (a libcst node for Python, the source text for
JavaScript); which sentinels came through, and whether the engine looked into one, is the same
question in every language, answered here. No parser is loaded by this module.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

HOLE_MARK = "\x00migrator-hole:"
_INTEGERS = 987_654_000
"""Integer sentinels start here: far from any limit a request literal holds."""

T = TypeVar("T")


@dataclass
class Sentinels(Generic[T]):
    """What stands behind each sentinel, by sentinel."""

    strings: dict[str, T] = field(default_factory=dict)
    ints: dict[int, T] = field(default_factory=dict)

    def string(self, behind: T) -> str:
        key = f"{HOLE_MARK}{len(self.strings) + len(self.ints)}\x00"
        self.strings[key] = behind
        return key

    def integer(self, behind: T) -> int:
        key = _INTEGERS + len(self.strings) + len(self.ints)
        self.ints[key] = behind
        return key

    def behind(self, value: Any) -> T | None:
        """What ``value`` stands for when it is a sentinel (a string, an integer, or ``{sentinel: 0}``,
        an object hole); None for any other value."""
        if type(value) is str:
            return self.strings.get(value)
        if type(value) is int:
            return self.ints.get(value)
        if type(value) is dict and len(value) == 1:
            (key,) = value
            return self.strings.get(key) if type(key) is str and key.startswith(HOLE_MARK) else None
        return None

    def contains(self, value: Any) -> bool:
        """Whether ``value`` holds a sentinel anywhere (the engine passed a hole through)."""
        if self.behind(value) is not None:
            return True
        if type(value) is dict:
            return any(self.contains(v) for v in value.values())
        if type(value) is list:
            return any(self.contains(v) for v in value)
        return False

    def stray(self, value: Any) -> bool:
        """Whether ``value`` holds a sentinel the engine changed (a hole it looked into)."""
        if self.behind(value) is not None:
            return False
        if type(value) is str:
            return HOLE_MARK in value
        if type(value) is dict:
            return any(HOLE_MARK in k or self.stray(v) for k, v in value.items())
        if type(value) is list:
            return any(self.stray(v) for v in value)
        return False
