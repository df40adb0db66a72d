"""A run folder's files as the outputs read and write them.

The report and the JUnit file are written as the results stream past (a 100,000-case run never
sits in memory), so :func:`atomic_text` hands out an open file and only a clean exit renames it
over the target: Ctrl-C or an exception leaves the previous file whole.

The results themselves are read by store.py (last line per key); :class:`Checked` then makes
sure each has the keys the outputs read, so a line written by hand or by an older version is
completed or counted as unreadable, never a traceback.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import Any, TextIO, TypeVar, cast

from .model import VERDICTS, CaseResult

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


_CASE_DEFAULTS: dict[str, Any] = {"id": "", "source": "", "line": 0, "reason": "", "fields": [], "noise": [], "losses": [], "order": [],
                                  "request": {}, "translated": None, "records": {}, "scores": {}}
_RECORD_DEFAULTS: dict[str, Any] = {"ok": False, "status": None, "error_type": None, "finish": None, "text": "", "refusal": None,
                                    "tool_calls": [], "structured": None, "usage": {"input": None, "output": None}, "model": None,
                                    "ttft_ms": None, "total_ms": 0.0}
_DIFF_DEFAULTS: dict[str, Any] = {"field": "?", "detail": "", "P": None, "C": None, "S": None, "explained_by": []}
_LOSS_DEFAULTS: dict[str, Any] = {"path": "$", "field": "", "kind": "", "reason": ""}


def complete(result: dict[str, Any]) -> CaseResult | None:
    """A result with the keys the outputs read: missing ones (a line written before they existed, or
    by hand) get their empty value; a present value of the wrong shape makes the line unreadable
    (None), as no value is invented in its place."""
    if result.get("verdict") not in VERDICTS or not _fill(result, _CASE_DEFAULTS):
        return None
    records = result["records"]
    for arm_records in records.values():
        if not isinstance(arm_records, list) or not all(isinstance(r, dict) and _fill(r, _RECORD_DEFAULTS) for r in arm_records):
            return None
    for diff in result["fields"]:
        if not isinstance(diff, dict) or not _fill(diff, _DIFF_DEFAULTS) or not _losses(diff["explained_by"]):
            return None
    return cast(CaseResult, result) if _losses(result["losses"]) else None


class Checked:
    """Results passed through :func:`complete`, counting the lines it could not use."""

    def __init__(self, results: Iterable[Any]) -> None:
        self.results = results
        self.unreadable = 0

    def __iter__(self) -> Iterator[CaseResult]:
        for raw in self.results:
            result = complete(raw) if isinstance(raw, dict) else None
            if result is None:
                self.unreadable += 1
            else:
                yield result


def _losses(losses: Any) -> bool:
    return isinstance(losses, list) and all(isinstance(loss, dict) and _fill(loss, _LOSS_DEFAULTS) for loss in losses)


def _fill(value: dict[str, Any], defaults: dict[str, Any]) -> bool:
    for key, default in defaults.items():
        present = value.setdefault(key, default)
        if default is not None and present is not None and type(present) is not type(default) and \
                not (isinstance(default, float) and isinstance(present, int)):
            return False
    return True
