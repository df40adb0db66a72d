"""A run folder's files as the outputs read and write them.

The report and the JUnit file are written as the results stream past (a 100,000-case run never
sits in memory), so :func:`atomic_text` hands out an open file and only a clean exit renames it
over the target: Ctrl-C or an exception leaves the previous file whole.

``results.jsonl`` is append-only: a case run again (``merge`` of overlapping shards, a re-run into
the same folder) appears twice and its last line wins; a torn last line (a run killed mid-write)
is skipped. Reading holds each case's key and line number for one pass (tens of bytes a case),
never the results. The store (store.py) reads the same way; these readers stand in until it is
merged, with the same signatures.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import Any, TextIO, TypeVar, cast

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


_W = TypeVar("_W", bound="StreamedFile")


class StreamedFile:
    """A file written piece by piece that appears whole when the ``with`` block ends cleanly:
    subclasses write their head in ``__init__`` and their tail in :meth:`tail`."""

    def __init__(self, path: Path) -> None:
        self._context = atomic_text(Path(path))
        self.fh: TextIO = self._context.__enter__()

    def tail(self) -> str:
        return ""

    def __enter__(self: _W) -> _W:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        if exc is None:
            self.fh.write(self.tail())
        self._context.__exit__(kind, exc, tb)


def iter_results(directory: Path | str) -> Iterator[CaseResult]:
    """The run's results, the last line per case key, in file order (the signature of store.iter_results)."""
    path = Path(directory) / RESULTS
    last = _repeated(path)
    for number, result in _lines(path):
        if result is not None and last.get(result["key"], number) == number:
            yield result


def _repeated(path: Path) -> dict[str, int]:
    """The last line of every key that appears more than once."""
    seen: dict[str, int] = {}
    repeated: set[str] = set()
    for number, result in _lines(path):
        if result is not None:
            if result["key"] in seen:
                repeated.add(result["key"])
            seen[result["key"]] = number
    return {key: seen[key] for key in repeated}


def _lines(path: Path) -> Iterator[tuple[int, CaseResult | None]]:
    if not path.exists():
        return
    with path.open(encoding="utf-8") as fh:
        for number, line in enumerate(fh, 1):
            value = _object(line)
            ok = value is not None and isinstance(value.get("key"), str) and "verdict" in value
            yield number, cast(CaseResult, value) if ok else None


def iter_problems(directory: Path | str) -> Iterator[CorpusProblem]:
    path = Path(directory) / PROBLEMS
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
