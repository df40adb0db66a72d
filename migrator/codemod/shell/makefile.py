"""Makefiles: the curl commands of recipe lines (a tab, then shell; ``$$`` is the shell's ``$``).

Only recipe lines are read as shell: the rest of a Makefile is make's own language. Each recipe
line (with its ``\\`` continuations) is one shell command line, so each is read on its own; a
note goes on a ``#`` line of the recipe above it, which the shell ignores.
"""

from __future__ import annotations

from ..outcome import Options, Outcome
from ..source import SourceError
from .curl import Edits, may_hold, migrate
from .words import Command, read_commands


def recipe_lines(text: str) -> list[tuple[int, int]]:
    """``(start, end)`` of each recipe line, continuations included."""
    spans: list[tuple[int, int]] = []
    pos = 0
    while pos < len(text):
        end = pos
        while True:
            nl = text.find("\n", end)
            end = len(text) if nl < 0 else nl
            if not text[:end].endswith("\\") or nl < 0:
                break
            end += 1
        if text.startswith("\t", pos):
            spans.append((pos, end))
        pos = end + 1
    return spans


def _commands(text: str) -> list[Command]:
    commands: list[Command] = []
    for start, end in recipe_lines(text):
        found = read_commands(text, start, end, make=True)
        commands.extend(found)
    return commands


def transform(text: str, options: Options, path: str) -> Outcome:
    if not may_hold(text):
        return Outcome(text)
    edits = Edits(text, make=True)
    migrate(edits, _commands(text), options)
    return Outcome(edits.apply(), tuple(edits.sites))


def check(text: str) -> tuple[int, int, str] | None:
    try:
        _commands(text)
    except SourceError as exc:
        return exc.line, exc.column, exc.message
    return None
