"""One parse, one combined pass: the entry point the runner calls for each piece of source."""

from __future__ import annotations

import libcst as cst

from .outcome import Options, Outcome


def transform_code(code: str, options: Options) -> Outcome:
    """Raises ``libcst.ParserSyntaxError`` for code that does not parse; the runner reports it."""
    module = cst.parse_module(code)
    return Outcome(module.code)
