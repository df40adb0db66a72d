"""``migrator codemod``: modes, output streams and exit codes around the runner.

The habits are ruff's and pyupgrade's: a plain unified diff by default (``git apply`` takes it),
``--write`` writes atomically, ``--check`` lists what would change for CI, ``-`` filters standard
input to standard output. Diffs and file lists go to stdout; progress, per-file errors and the
summary to stderr. Exit 0: nothing pending (or all written); 1: changes pending; 2: any error,
which wins over 1, because a file that could not be read may hide changes too.
"""

from __future__ import annotations

import argparse
import difflib
import importlib
import os
import re
from collections.abc import Sequence
from typing import TextIO

from .files import discover, screen
from .outcome import Options
from .report import Progress, dumps, location, report_json, write_summary
from .runner import FileResult, Notice, Transform, run_all, transform_bytes
from .source import write_atomic

EXIT_OK = 0
EXIT_PENDING = 1
EXIT_ERROR = 2
EXIT_INTERRUPTED = 130


def run_command(args: argparse.Namespace, stdin: TextIO, stdout: TextIO, stderr: TextIO) -> int:
    options = Options(unsafe_fixes=args.unsafe_fixes, responses_hosts=frozenset(args.responses_host),
                      hoist_instructions=args.instructions)
    try:
        transform = _load_transform(args.transform)
    except (ImportError, AttributeError, ValueError) as exc:
        stderr.write(f"migrator codemod: error: --transform {args.transform}: {exc}\n")
        return EXIT_ERROR
    if args.jobs < 1:
        stderr.write(f"migrator codemod: error: --jobs: expected 1 or more, found {args.jobs}\n")
        return EXIT_ERROR
    if "-" in args.paths:
        if len(args.paths) > 1:
            stderr.write("migrator codemod: error: - (standard input) cannot be mixed with other paths\n")
            return EXIT_ERROR
        return _run_stdin(args, options, transform, stdin, stdout, stderr)
    mode = args.mode or "diff"
    found = discover(args.paths, args.exclude)
    for arg, message in found.problems:
        stderr.write(f"{arg}: error: {message}\n")
    targets = {c.shown: c.path for c in found.files}
    progress = Progress(stderr, len(found.files))
    unwritten: dict[str, Notice] = {}

    def on_result(result: FileResult) -> None:
        progress.advance()
        for notice in result.errors:
            progress.line(f"{location(result.path, notice)}: error: {notice.message}")
        if mode == "write" and result.new is not None:
            try:
                write_atomic(targets[result.path], result.new)
            except OSError as exc:
                notice = unwritten[result.path] = Notice(1, 0, f"cannot write: {exc.strerror or exc}")
                progress.line(f"{location(result.path, notice)}: error: {notice.message}")
            else:
                progress.line(f"rewrote {result.path}")

    try:
        results = run_all(found.files, options, jobs=args.jobs, transform=transform, on_result=on_result)
    except KeyboardInterrupt:
        stderr.write("migrator codemod: interrupted; files already rewritten stay rewritten, the others untouched\n")
        return EXIT_INTERRUPTED
    finally:
        progress.close()
    results = [_unwritten(r, unwritten[r.path]) if r.path in unwritten else r for r in results]
    for result in results:
        if result.new is None or result.old is None:
            continue
        if mode == "diff":
            _write_bytes(stdout, unified_diff(result.path, result.old, result.new))
        elif mode == "check":
            _write_bytes(stdout, os.fsencode(result.path) + b"\n")
    stdout.flush()
    write_summary(results, mode, stderr, len(found.problems))
    code = _report(args.report, results, mode, options, found.problems, stderr)
    if code or found.problems or any(r.errors for r in results):
        return EXIT_ERROR
    return EXIT_PENDING if mode != "write" and any(r.changed for r in results) else EXIT_OK


def _unwritten(result: FileResult, notice: Notice) -> FileResult:
    """A file whose rewrite could not be written: not changed, with the reason among its errors."""
    return FileResult(result.path, sites=result.sites, errors=(*result.errors, notice), notes=result.notes)


def _run_stdin(args: argparse.Namespace, options: Options, transform: Transform | None,
               stdin: TextIO, stdout: TextIO, stderr: TextIO) -> int:
    """A filter for editors: the whole new code on stdout (or, with ``--diff``/``--check``, as for files)."""
    buffer = getattr(stdin, "buffer", None)
    data: bytes = buffer.read() if buffer is not None else stdin.read().encode()
    reason = screen(data)
    result = FileResult("-", skipped=reason) if reason else transform_bytes("-", data, options, transform)
    for notice in result.errors:
        stderr.write(f"{location('-', notice)}: error: {notice.message}\n")
    if args.mode == "diff":
        if result.new is not None:
            _write_bytes(stdout, unified_diff("-", data, result.new))
    elif args.mode == "check":
        if result.new is not None:
            _write_bytes(stdout, b"-\n")
    else:
        _write_bytes(stdout, result.new if result.new is not None else data)
    stdout.flush()
    code = _report(args.report, [result], args.mode or "stdin", options, (), stderr)
    if code or result.errors:
        return EXIT_ERROR
    return EXIT_PENDING if args.mode in ("diff", "check") and result.changed else EXIT_OK


def _report(path: str | None, results: Sequence[FileResult], mode: str, options: Options,
            problems: Sequence[tuple[str, str]], stderr: TextIO) -> int:
    if not path:
        return EXIT_OK
    try:
        write_atomic(path, dumps(report_json(results, mode=mode, options=options, problems=problems)).encode())
    except OSError as exc:
        stderr.write(f"migrator codemod: error: --report {path}: cannot write: {exc.strerror or exc}\n")
        return EXIT_ERROR
    return EXIT_OK


def _load_transform(spec: str | None) -> Transform | None:
    """``--transform module:function``: another transform with ``transform_code``'s signature (tests, experiments)."""
    if spec is None:
        return None
    module, sep, name = spec.partition(":")
    if not sep or not module or not name:
        raise ValueError("expected MODULE:FUNCTION")
    fn: Transform = getattr(importlib.import_module(module), name)
    return fn


def _write_bytes(stream: TextIO, data: bytes) -> None:
    """Bytes as they are when the stream has a binary side (the real stdout), else as UTF-8 text."""
    buffer = getattr(stream, "buffer", None)
    if buffer is None:
        stream.write(data.decode("utf-8", "surrogateescape"))
    else:
        stream.flush()
        buffer.write(data)


_LINE = re.compile(rb"[^\n]*\n|[^\n]+$")


def unified_diff(path: str, old: bytes, new: bytes) -> bytes:
    """The change as ``git diff`` prints it, in the file's own bytes (encoding, BOM, CRLF), so
    ``git apply`` and ``patch -p1`` take it; a last line without a newline is marked as git marks it."""
    name = os.fsencode(path)
    out: list[bytes] = []
    lines = difflib.diff_bytes(difflib.unified_diff, _LINE.findall(old), _LINE.findall(new),
                               b"a/" + name, b"b/" + name, lineterm=b"\n")
    for line in lines:
        out.append(line)
        if not line.endswith(b"\n"):
            out.append(b"\n\\ No newline at end of file\n")
    return b"".join(out)
