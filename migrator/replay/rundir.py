"""A run folder's files as the outputs read and write them.

The report and the JUnit file are written as the results stream past (a 100,000-case run never
sits in memory), so :func:`atomic_text` hands out an open file and only a clean exit renames it
over the target: Ctrl-C or an exception leaves the previous file whole.

``results.jsonl`` is append-only: a case run again (``--resume`` after a changed corpus line,
``merge`` of overlapping shards) appears twice and its last line wins, and a run killed mid-write
may leave a torn last line, which is counted, not fatal. Reading holds each case's identity and
line number for one pass (tens of bytes a case), never the results themselves.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TextIO, cast

from .model import CaseResult, CorpusProblem

RESULTS = "results.jsonl"
PROBLEMS = "problems.jsonl"
SUMMARY = "summary.json"
REPORT = "report.html"


@contextmanager
def atomic_text(path: Path) -> Iterator[TextIO]:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.chmod(tmp, 0o644)  # what a file opened by hand would get, not mkstemp's 0600
        # a lone surrogate (JSON allows "\udc80") is written as that escape, not an encoding error
        with os.fdopen(fd, "w", encoding="utf-8", errors="backslashreplace", newline="\n") as fh:
            yield fh
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class Results:
    """The cases of a ``results.jsonl``, last line per (source, id) winning; iterable more than once."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.unreadable = 0  # lines that are not a JSON object (a torn last line), counted by the last pass
        self._last: dict[tuple[str, str], int] | None = None

    def __iter__(self) -> Iterator[CaseResult]:
        if self._last is None:
            self._last = self._repeated()
        unreadable = 0
        for number, result in self._lines():
            if result is None:
                unreadable += 1
                continue
            if self._last and self._last.get(_identity(result), number) != number:
                continue  # a later line has this case
            yield result
        self.unreadable = unreadable

    def _repeated(self) -> dict[tuple[str, str], int]:
        """The last line of every case that appears more than once; first-seen lines are not kept."""
        seen: dict[tuple[str, str], int] = {}
        repeated: set[tuple[str, str]] = set()
        for number, result in self._lines():
            if result is not None:
                identity = _identity(result)
                if identity in seen:
                    repeated.add(identity)
                seen[identity] = number
        return {identity: seen[identity] for identity in repeated}

    def _lines(self) -> Iterator[tuple[int, CaseResult | None]]:
        if not self.path.exists():
            return
        with self.path.open(encoding="utf-8") as fh:
            for number, line in enumerate(fh, 1):
                if line.strip():
                    value = _object(line)
                    yield number, cast(CaseResult, value) if value is not None and "verdict" in value else None


def _identity(result: CaseResult) -> tuple[str, str]:
    return str(result.get("source", "")), str(result.get("id", ""))


def iter_problems(path: Path) -> Iterator[CorpusProblem]:
    if not path.exists():
        return
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            value = _object(line)
            if value is not None:
                yield cast(CorpusProblem, value)


def _object(line: str) -> dict[str, Any] | None:
    try:
        value = json.loads(line)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None
