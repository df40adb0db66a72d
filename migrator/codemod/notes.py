"""The ``# migrator:`` notes: what a person must know at a site, written once.

A note goes on its own line above the statement that holds the site, like bump-pydantic's TODOs:
greppable, never commenting code out, and not written again when the same words are already there
(so a second run changes nothing).
"""

from __future__ import annotations

import libcst as cst

from .outcome import NOTE_PREFIX


def note_text(message: str) -> str:
    """One comment line; newlines in the message (a removed argument's source) are folded."""
    return f"{NOTE_PREFIX} {' '.join(message.split())}"


def with_notes(statement: cst.BaseStatement, messages: list[str]) -> cst.BaseStatement:
    """``statement`` with the notes it does not carry yet, above it and after its own comments."""
    lines: list[cst.EmptyLine] = list(getattr(statement, "leading_lines", ()))
    present = {line.comment.value for line in lines if line.comment is not None}
    added: list[cst.EmptyLine] = []
    for message in messages:
        text = note_text(message)
        if text not in present and text not in {line.comment.value for line in added if line.comment is not None}:
            added.append(cst.EmptyLine(comment=cst.Comment(text)))
    if not added:
        return statement
    return statement.with_changes(leading_lines=[*lines, *added])


def source_of(node: cst.CSTNode) -> str:
    return cst.Module([]).code_for_node(node)
