"""The tsx entry point of the codemod (languages.py): the shared implementation, on the tsx grammar."""

from __future__ import annotations

from ..outcome import Options, Outcome
from . import grammar
from . import transform as shared


def transform(text: str, options: Options, path: str) -> Outcome:
    return shared.transform(text, options, path, "tsx")


def check(text: str) -> tuple[int, int, str] | None:
    return grammar.check(text, "tsx")
