"""A run's results on disk: DIR/results.jsonl and DIR/problems.jsonl, appended as cases finish.

Each result is one ``os.write`` of one line on a file opened for appending, so a result that was
written survives Ctrl-C or a kill of the process (not a power cut: nothing is fsynced per line). A
kill in the middle of a write leaves a partial last line; readers skip it, and a resumed run cuts it
off before appending, so the next result starts on a line of its own.

Decisions a user sees:

* Without ``--resume`` a folder that already holds results is refused (:class:`RunExists`), rather
  than overwritten or moved aside: a finished run is not lost to a repeated command, and the
  message names both ways on (``--resume``, or another ``--out``).
* ``--resume`` skips cases whose last result has a verdict of ``equivalent`` or ``divergent``;
  ``error`` cases are sent again (an error is often a rate limit or a timeout that a later run
  passes), as inspect-ai's ``eval_retry`` does. Their new result is appended; readers keep the
  last line per key.
* problems.jsonl is written afresh by every run, resumed or not: the corpus is read again in full,
  so its problems are found again.

Lines are written with ``key`` and ``verdict`` first, so a resume reads those two without parsing
the whole line (a line whose start does not fit that form is parsed in full).
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..mapping import json_text
from .model import CaseResult, CorpusProblem
from .table import DigestTable

RESULTS = "results.jsonl"
PROBLEMS = "problems.jsonl"
META = "meta.json"

# `{"key":"…","verdict":"…"` as ResultStore writes it; keys are JSON strings without escapes in practice.
_HEAD = re.compile(rb'\{"key":"((?:[^"\\]|\\.)*)","verdict":"([a-z]+)"')


class RunExists(ValueError):
    """The output folder already holds a run and ``--resume`` was not given."""


class ResultStore:
    """Appends a run's CaseResults and CorpusProblems to DIR, one line each, as they come."""

    def __init__(self, directory: Path | str, resume: bool = False) -> None:
        self.dir = Path(directory)
        self.dir.mkdir(parents=True, exist_ok=True)
        results = self.dir / RESULTS
        if results.exists() and results.stat().st_size and not resume:
            raise RunExists(
                f"{self.dir} already holds a run ({results}); pass --resume to continue it, or --out with another folder"
            )
        if resume:
            _cut_partial_line(results)
        flags = os.O_WRONLY | os.O_CREAT | os.O_APPEND
        self._results = os.open(results, flags, 0o644)
        self._problems = os.open(self.dir / PROBLEMS, flags | os.O_TRUNC, 0o644)

    def append(self, result: CaseResult) -> None:
        """Write one result line; it is in the file (the OS's cache) when this returns."""
        ordered = {"key": result["key"], "verdict": result["verdict"], **result}
        _write(self._results, _line(ordered))

    def problem(self, problem: CorpusProblem) -> None:
        _write(self._problems, _line(problem))

    def close(self) -> None:
        for fd in (self._results, self._problems):
            if fd >= 0:
                os.close(fd)
        self._results = self._problems = -1

    def __enter__(self) -> ResultStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _line(obj: Any) -> bytes:
    try:
        text = json.dumps(obj, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    except ValueError:
        where = json_text.nonfinite(obj) or "$"
        raise ValueError(f"a result holds a number JSON cannot carry (NaN or infinity) at {where}") from None
    return text.encode("utf-8", "surrogatepass") + b"\n"


def _write(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def _cut_partial_line(path: Path) -> None:
    """Drop a last line that a kill cut short; end a complete last line that lacks its newline."""
    try:
        with path.open("r+b") as f:
            size = f.seek(0, os.SEEK_END)
            if not size:
                return
            f.seek(size - 1)
            if f.read(1) == b"\n":
                return
            start = size
            while start > 0:  # the last line's start, read backwards in blocks
                step = min(65536, start)
                f.seek(start - step)
                block = f.read(step)
                cut = block.rfind(b"\n")
                if cut >= 0:
                    start = start - step + cut + 1
                    break
                start -= step
            f.seek(start)
            if _parse(f.read()) is not None:
                f.write(b"\n")
            else:
                f.truncate(start)
    except FileNotFoundError:
        return


def _parse(raw: bytes) -> dict[str, Any] | None:
    """A complete result line as a dict, or None (partial, not JSON, no string ``key``)."""
    try:
        value = json.loads(raw)
    except (ValueError, RecursionError):
        return None
    return value if type(value) is dict and type(value.get("key")) is str else None


def _lines(path: Path) -> Iterator[tuple[int, bytes]]:
    """(offset, line) for every complete line; a last line without its newline is cut short, skipped."""
    try:
        f = path.open("rb")
    except FileNotFoundError:
        return
    with f:
        offset = 0
        for raw in f:
            if raw.endswith(b"\n"):
                yield offset, raw
            offset += len(raw)


def _head(raw: bytes) -> tuple[str, str | None] | None:
    """(key, verdict) of a result line, read from its start when it has the written form."""
    match = _HEAD.match(raw)
    if match and raw.endswith(b"}\n"):
        key = match[1].decode("utf-8", "surrogatepass")
        return (json.loads(b'"' + match[1] + b'"') if "\\" in key else key), match[2].decode()
    value = _parse(raw)
    if value is None:
        return None
    verdict = value.get("verdict")
    return value["key"], verdict if type(verdict) is str else None


def finished_keys(directory: Path | str) -> set[str]:
    """Keys whose last result is ``equivalent`` or ``divergent``: what ``--resume`` skips (errors are re-run)."""
    last: dict[str, bool] = {}
    for _, raw in _lines(Path(directory) / RESULTS):
        head = _head(raw)
        if head is not None:
            last[head[0]] = head[1] in ("equivalent", "divergent")
    return {key for key, done in last.items() if done}


def last_offsets(files: list[Path]) -> tuple[DigestTable, int]:
    """Where each key's last line is (file index << 48 | offset), and how many result lines there are.

    When the count equals the table's size no key repeats and a reader can skip the lookups.
    """
    table = DigestTable()
    count = 0
    for index, path in enumerate(files):
        for offset, raw in _lines(path):
            head = _head(raw)
            if head is not None:
                table.put(head[0], index << 48 | offset)
                count += 1
    return table, count


def last_lines(files: list[Path]) -> Iterator[bytes]:
    """The raw result lines of ``files`` read in order, keeping only the last line of each key.

    Two passes over the files, nothing but a digest and an offset per key in memory. Two keys whose
    64-bit digests collide (odds about 1 in 10^7 at a million keys) would keep only one line.
    """
    table, count = last_offsets(files)
    repeats = count != len(table)
    for index, path in enumerate(files):
        for offset, raw in _lines(path):
            head = _head(raw)
            if head is not None and (not repeats or table.get(head[0]) == index << 48 | offset):
                yield raw


def iter_results(directory: Path | str) -> Iterator[CaseResult]:
    """The run's results, one per key (its last line), in the order those lines were written."""
    for raw in last_lines([Path(directory) / RESULTS]):
        value = _parse(raw)
        if value is not None:
            yield value  # type: ignore[misc]


def iter_problems(directory: Path | str) -> Iterator[CorpusProblem]:
    """The corpus problems the run recorded (complete lines only)."""
    for _, raw in _lines(Path(directory) / PROBLEMS):
        try:
            value = json.loads(raw)
        except ValueError:
            continue
        if type(value) is dict:
            yield value  # type: ignore[misc]


def read_meta(directory: Path | str) -> dict[str, Any] | None:
    """DIR/meta.json as an object, or None when it is missing or not a JSON object."""
    try:
        value = json.loads((Path(directory) / META).read_bytes())
    except (OSError, ValueError):
        return None
    return value if type(value) is dict else None


def write_json_atomic(path: Path | str, obj: Any) -> None:
    """Write ``obj`` as JSON so readers see the old file or the new one, never half of one."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    data = json.dumps(obj, ensure_ascii=False, indent=2, allow_nan=False).encode("utf-8", "surrogatepass") + b"\n"
    fd, temp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        _write(fd, data)
        os.fchmod(fd, 0o644)  # mkstemp makes 0600; a report is for people to read
        os.fsync(fd)
        os.close(fd)
        fd = -1
        os.replace(temp, target)
    except BaseException:
        if fd >= 0:
            os.close(fd)
        Path(temp).unlink(missing_ok=True)
        raise
