"""What a run tells: per-file lines and a progress bar while it runs, a summary table at the end,
and the ``--report`` JSON that lists every site for a person or an agent to work through.

A terminal gets rich's bar and table; a pipe or a CI log gets plain lines and a plain table, so
nothing there is wrapped or coloured (bump-pydantic's rich-printed diffs were not valid patches).
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Sequence
from typing import Any, TextIO

from .. import __version__
from .files import GENERATED
from .outcome import Options
from .runner import FileResult, Notice

VERDICTS = ("migrated", "migrated with notes", "left for a person")
REPORT_VERSION = 1


def location(path: str, notice: Notice) -> str:
    """``path:line:col`` as compilers print it (1-based column), with the cell for a notebook."""
    cell = f"[cell {notice.cell}]" if notice.cell is not None else ""
    return f"{path}{cell}:{notice.line}:{notice.column + 1}"


def report_json(results: Sequence[FileResult], *, mode: str, options: Options, problems: Sequence[tuple[str, str]] = ()) -> dict[str, Any]:
    sites = [
        {"file": r.path, "cell": cell, "line": s.line, "column": s.column, "rule": s.rule, "verdict": s.verdict,
         "applicability": s.applicability, "reasons": list(s.reasons), "host": s.host}
        for r in results for s, cell in r.sites
    ]
    errors = [{"file": arg, "cell": None, "line": None, "column": None, "message": msg} for arg, msg in problems]
    errors += [_notice(r.path, n) for r in results for n in r.errors]
    return {
        "tool": "migrator codemod",
        "version": __version__,
        "report_version": REPORT_VERSION,
        "mode": mode,
        "options": {"unsafe_fixes": options.unsafe_fixes, "responses_hosts": sorted(options.responses_hosts),
                    "instructions": options.hoist_instructions},
        "summary": summary_counts(results, len(problems)),
        "files": [{"file": r.path, "changed": r.changed, "sites": len(r.sites), "errors": len(r.errors)}
                  for r in results if r.skipped is None],
        "sites": sites,
        "errors": errors,
        "notes": [_notice(r.path, n) for r in results for n in r.notes],
        "skipped": [{"file": r.path, "reason": r.skipped} for r in results if r.skipped == GENERATED],
    }


def _notice(path: str, n: Notice) -> dict[str, Any]:
    return {"file": path, "cell": n.cell, "line": n.line, "column": n.column, "message": n.message}


def summary_counts(results: Sequence[FileResult], problems: int = 0) -> dict[str, Any]:
    verdicts: Counter[str] = Counter(s.verdict for r in results for s, _ in r.sites)
    return {
        "files": len(results),
        "parsed": sum(1 for r in results if r.skipped is None),
        "changed": sum(1 for r in results if r.changed),
        "skipped_generated": sum(1 for r in results if r.skipped == GENERATED),
        "errors": sum(len(r.errors) for r in results) + problems,
        "files_with_errors": sum(1 for r in results if r.errors) + problems,
        "sites": sum(verdicts.values()),
        "verdicts": {v: verdicts.get(v, 0) for v in VERDICTS},
    }


def by_rule(results: Sequence[FileResult]) -> list[tuple[str, int, int, int]]:
    counts: dict[str, Counter[str]] = {}
    for r in results:
        for s, _ in r.sites:
            counts.setdefault(s.rule, Counter())[s.verdict] += 1
    return [(rule, c["migrated"], c["migrated with notes"], c["left for a person"]) for rule, c in sorted(counts.items())]


def summary_line(results: Sequence[FileResult], mode: str, problems: int = 0) -> str:
    c = summary_counts(results, problems)
    changed = {"write": "rewritten", "check": "would change", "diff": "would change"}.get(mode, "changed")
    parts = [f"{c['files']} file{'s' * (c['files'] != 1)}", f"{c['parsed']} parsed", f"{c['changed']} {changed}"]
    if c["skipped_generated"]:
        parts.append(f"{c['skipped_generated']} generated skipped")
    parts.append(f"{c['files_with_errors']} with errors")
    v = c["verdicts"]
    sites = f"{c['sites']} site{'s' * (c['sites'] != 1)}: {v['migrated']} migrated, {v['migrated with notes']} migrated with notes, " \
            f"{v['left for a person']} left for a person"
    return "migrator codemod: " + ", ".join(parts) + "; " + sites


HEADERS = ("rule", "migrated", "with notes", "left for a person")


def write_summary(results: Sequence[FileResult], mode: str, stderr: TextIO, problems: int = 0) -> None:
    rows = by_rule(results)
    if _is_terminal(stderr):
        from rich.console import Console
        from rich.table import Table

        console = Console(file=stderr)
        if rows:
            table = Table(title="sites by rule")
            for i, header in enumerate(HEADERS):
                table.add_column(header, justify="left" if i == 0 else "right")
            for rule, *counts in rows:
                table.add_row(rule, *(str(n) for n in counts))
            console.print(table)
        console.print(summary_line(results, mode, problems), highlight=False, markup=False, soft_wrap=True)
        return
    if rows:
        widths = [max(len(HEADERS[0]), *(len(r[0]) for r in rows)), *(len(h) for h in HEADERS[1:])]
        lines = [HEADERS, *[(r[0], *(str(n) for n in r[1:])) for r in rows]]
        for line in lines:
            stderr.write("  ".join(cell.ljust(w) if i == 0 else cell.rjust(w) for i, (cell, w) in enumerate(zip(line, widths, strict=True))).rstrip() + "\n")
    stderr.write(summary_line(results, mode, problems) + "\n")


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


class Progress:
    """A rich bar on a terminal, redrawn at most ten times a second (no refresh thread: the
    process pool forks while it runs); elsewhere only the per-file lines."""

    def __init__(self, stderr: TextIO, total: int) -> None:
        self.stderr = stderr
        self.bar: Any = None
        self.last = 0.0
        if _is_terminal(stderr) and total > 1:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn
            from rich.progress import Progress as Bar

            self.bar = Bar(TextColumn("migrator codemod"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                           console=Console(file=stderr), auto_refresh=False, transient=True, redirect_stdout=False,
                           redirect_stderr=False)
            self.task = self.bar.add_task("files", total=total)
            self.bar.start()

    def line(self, text: str) -> None:
        if self.bar is not None:
            self.bar.console.print(text, highlight=False, markup=False, soft_wrap=True)
        else:
            self.stderr.write(text + "\n")

    def advance(self) -> None:
        if self.bar is None:
            return
        self.bar.advance(self.task)
        now = time.monotonic()
        if now - self.last > 0.1:
            self.last = now
            self.bar.refresh()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.stop()
            self.bar = None


def dumps(report: dict[str, Any]) -> str:
    return json.dumps(report, indent=2, ensure_ascii=False) + "\n"
