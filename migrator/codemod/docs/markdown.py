"""Markdown and MDX (``.md``, ``.mdx``, ``.markdown``): the fenced code blocks, migrated; the prose, reported."""

from __future__ import annotations

from ..outcome import Options, Outcome
from .blocks import markdown_blocks
from .document import check, transform_document

__all__ = ["check", "transform", "transform_markdown"]


def transform_markdown(text: str, options: Options) -> Outcome:
    """Also what a notebook's markdown cells go through."""
    return transform_document(text, options, markdown_blocks(text.split("\n")))


def transform(text: str, options: Options, path: str) -> Outcome:
    return transform_markdown(text, options)
