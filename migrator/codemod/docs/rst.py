"""reStructuredText (``.rst``): ``code-block``/``code`` directives and ``::`` literal blocks, migrated."""

from __future__ import annotations

from ..outcome import Options, Outcome
from .blocks import rst_blocks
from .document import check, transform_document

__all__ = ["check", "transform"]


def transform(text: str, options: Options, path: str) -> Outcome:
    return transform_document(text, options, rst_blocks(text.split("\n")))
