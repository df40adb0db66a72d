"""What a codemod run says about one piece of source: the new text and every site it looked at.

This is the contract between the transformers (which know Python and the API) and the runner
(which knows files, notebooks, processes and reports): plain frozen dataclasses, so a result
crosses a process pool as a pickle and lands in the JSON report as it is.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Verdict = Literal["migrated", "migrated with notes", "left for a person"]
"""``migrated``: nothing needs a person; ``migrated with notes``: rewritten, with a ``# migrator:``
note that says what changed in meaning or was removed; ``left for a person``: the code runs as it
did, with a note saying why it was not rewritten."""

Applicability = Literal["safe", "unsafe", "display"]
"""As in ruff: a ``safe`` fix keeps what the code means and is applied by default; an ``unsafe``
one may change it and is applied only with ``--unsafe-fixes``; ``display`` is a note only."""

NOTE_PREFIX = "# migrator:"
"""Every note the codemod writes starts with this, so ``grep -rn "# migrator:"`` lists the work left."""

BYTE_MARKER = b"ompletion"
"""A file without these bytes has no site (``chat.completions``, ``/chat/completions``,
``ChatCompletion``, ``openai.resources.chat.completions``): the runner skips it unparsed."""


class TooDeep(Exception):
    """Source nested deeper than the codemod can follow (Python's recursion limit): that file's
    error, reported with its cause, the file left as it was."""


@dataclass(frozen=True)
class Options:
    unsafe_fixes: bool = False
    responses_hosts: frozenset[str] = frozenset()
    """Hosts given with ``--responses-host``: clients whose literal ``base_url`` points at them
    are migrated although the host is not OpenAI's."""
    hoist_instructions: bool = False
    """``--instructions``: a literal leading system message becomes ``instructions=`` (the engine's
    ``hoist_system``); off by default, as ``instructions`` is not carried by ``previous_response_id``."""


@dataclass(frozen=True)
class Site:
    """One place the codemod acted on or declined, as the report lists it (1-based line, 0-based column)."""

    line: int
    column: int
    rule: str
    verdict: Verdict
    applicability: Applicability
    reasons: tuple[str, ...] = ()
    host: str | None = None
    """Where the migrated client must reach ``/v1/responses`` (``api.openai.com``, a configured
    ``base_url``, an Azure endpoint), when it is known."""


@dataclass(frozen=True)
class Outcome:
    code: str
    sites: tuple[Site, ...] = field(default=())
