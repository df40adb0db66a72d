"""Shell scripts (``.sh``, ``.bash``, ``.zsh``): every curl command to a chat URL, see curl.py."""

from __future__ import annotations

from ..outcome import Options, Outcome
from .curl import Edits, may_hold, migrate
from .curl import check as _check
from .words import read_commands


def transform(text: str, options: Options, path: str) -> Outcome:
    if not may_hold(text):
        return Outcome(text)
    edits = Edits(text)
    migrate(edits, read_commands(text), options)
    return Outcome(edits.apply(), tuple(edits.sites))


def check(text: str) -> tuple[int, int, str] | None:
    return _check(text)
