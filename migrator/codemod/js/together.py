"""Calls that share what the codemod rewrites are migrated together or not at all.

A ``messages`` array that becomes a list of Responses items must not reach a chat call, a tools
literal flattened where it is defined must not either, and an answer pushed back as
``...r.output`` must come from a migrated call: as ``../transform.py``'s ``_together`` does for
Python, a migrated site whose partners are not all migrated is left, with the reason.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..outcome import Verdict


@dataclass
class Shared:
    """What one request's rewrite shares with other calls: filled while the request is planned."""

    skip: set[tuple[int, int]] = field(default_factory=set)
    """Reads of an answer that the ``messages`` plan takes whole (pushed back as its output)."""
    together: list[tuple[str, frozenset[int]]] = field(default_factory=list)
    """(why the site is left otherwise, the start bytes of the calls that must be migrated with it)."""


@dataclass
class Member:
    start: int  # the call's first byte
    verdict: Verdict
    together: list[tuple[str, frozenset[int]]]


def unmatched(members: list[Member]) -> dict[int, str]:
    """The sites (by start byte) that must be left because a partner is, and why; to a fixed point."""
    migrated = {m.start for m in members if m.verdict != "left for a person"}
    left: dict[int, str] = {}
    changed = True
    while changed:
        changed = False
        for member in members:
            if member.start not in migrated:
                continue
            why = next((why for why, calls in member.together if not calls <= migrated), None)
            if why is not None:
                migrated.discard(member.start)
                left[member.start] = why
                changed = True
    return left
