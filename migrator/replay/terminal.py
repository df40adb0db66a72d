"""What a person watching a run sees: progress while it goes, a problem line per bad corpus entry,
and the summary table at the end.

A terminal gets rich's bar; a pipe or a CI log gets a plain line every few seconds (or every
thousand cases), so logs stay readable and nothing is redrawn. :meth:`Progress.case` runs for
every case, 300 times a second, so it only counts and, at most ten times a second, redraws:
no refresh thread (the run may fork workers).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TextIO

from rich import box
from rich.console import Console
from rich.table import Table

from .model import VERDICTS, CaseResult, CorpusProblem
from .rundir import REPORT, SUMMARY
from .store import RESULTS

PLAIN_EVERY_S = 5.0
PLAIN_EVERY_CASES = 1000
REDRAW_EVERY_S = 0.1
TOP_FIELDS = 8
TEXT_COLUMNS = ("explained by",)
SHORT = {"equivalent": "eq", "divergent": "div", "error": "err"}  # the bar shares one terminal line
COLOURS = {"equivalent": "green", "divergent": "yellow", "error": "red"}


def problem_line(problem: CorpusProblem) -> str:
    """``sample.jsonl:7: $.messages: expected a list``, as compilers point at a line."""
    where = f"{problem['source']}:{problem['line']}" if problem["line"] else problem["source"]
    return f"{where}: {problem['path']}: {problem['message']}"


def rate_text(per_second: float, unit: str) -> str:
    """A rate people can read at either end: the offline model does hundreds of cases a second, a
    real server on a CPU a few a minute (llama-server with a 135M model: 2 to 40), where "0.0/s"
    would say nothing."""
    if per_second >= 1:
        return f"{per_second:.0f}{unit}/s" if per_second >= 10 else f"{per_second:.1f}{unit}/s"
    return f"{per_second * 60:.1f}{unit}/min"


class Progress:
    """``start`` / ``case`` / ``problem`` / ``stop``, called by the run; ``live`` and ``clock`` are for tests."""

    def __init__(self, stream: TextIO | None = None, *, live: bool | None = None, clock: Callable[[], float] = time.monotonic) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.live = Console(file=self.stream).is_terminal if live is None else live  # rich's test: isatty, FORCE_COLOR, TTY_COMPATIBLE
        self.clock = clock
        self.total: int | None = None
        self.done = 0
        self.problems = 0
        self.counts = dict.fromkeys(VERDICTS, 0)
        self._bar: Any = None
        self._task: Any = None
        self._started = 0.0
        self._last_draw = 0.0
        self._last_line_cases = 0

    def start(self, total: int | None) -> None:
        self.total = total
        self._started = self._last_draw = self.clock()
        if not self.live:
            return
        from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn
        from rich.progress import Progress as Bar

        self._bar = Bar(
            TextColumn("migrator replay"), BarColumn(bar_width=16), MofNCompleteColumn(), TextColumn("{task.fields[rate]}"),
            TextColumn("{task.fields[verdicts]}"), TimeElapsedColumn(),
            console=Console(file=self.stream, force_terminal=True), auto_refresh=False, transient=True, redirect_stdout=False, redirect_stderr=False,
        )
        self._task = self._bar.add_task("cases", total=total, rate="", verdicts="")
        self._bar.start()

    def case(self, result: CaseResult) -> None:
        self.done += 1
        self.counts[result["verdict"]] += 1
        now = self.clock()
        if self._bar is not None:
            if now - self._last_draw >= REDRAW_EVERY_S:
                self._draw(now)
        elif self.done - self._last_line_cases >= PLAIN_EVERY_CASES or now - self._last_draw >= PLAIN_EVERY_S:
            self._line(now)

    def problem(self, problem: CorpusProblem) -> None:
        self.problems += 1
        self._print(problem_line(problem))

    def stop(self) -> None:
        now = self.clock()
        if self._bar is not None:
            self._draw(now)
            self._bar.stop()
            self._bar = None
        elif self.done != self._last_line_cases:
            self._line(now)

    def _rate(self, now: float) -> float | None:
        elapsed = now - self._started
        return self.done / elapsed if elapsed > 0 else None

    def _draw(self, now: float) -> None:
        self._last_draw = now
        rate = self._rate(now)
        verdicts = " · ".join(f"{SHORT[v]} {self.counts[v]}" for v in VERDICTS) + (f" · problems {self.problems}" if self.problems else "")
        self._bar.update(self._task, completed=self.done, rate=rate_text(rate, "") if rate is not None else "", verdicts=verdicts)
        self._bar.refresh()

    def _line(self, now: float) -> None:
        self._last_draw, self._last_line_cases = now, self.done
        rate = self._rate(now)
        verdicts = " ".join(f"{v} {self.counts[v]}" for v in VERDICTS) + (f" problems {self.problems}" if self.problems else "")
        of = f"/{self.total}" if self.total is not None else ""
        self.stream.write(f"migrator replay: {self.done}{of} cases, {rate_text(rate, ' cases') if rate is not None else '-'}, {verdicts}\n")
        self.stream.flush()

    def _print(self, text: str) -> None:
        if self._bar is not None:
            self._bar.console.print(text, highlight=False, markup=False, soft_wrap=True)
        else:
            self.stream.write(text + "\n")


def print_summary(summary: Mapping[str, Any], out_dir: Path, console: Console | TextIO) -> None:
    """Verdicts, the fields that diverge most with the losses that explain them, latency per arm,
    verdict changes against the baseline, and where the files are. A plain stream gets rich's
    tables too, framed in ASCII and without colour unless it is a terminal."""
    if not isinstance(console, Console):
        console = Console(file=console)
        if not console.is_terminal:
            console = Console(file=console.file, width=120)
    plain = not console.is_terminal
    frame = box.ASCII if plain else box.ROUNDED

    def table(title: str, *columns: str) -> Table:
        t = Table(title=title, box=frame, title_justify="left")
        for i, column in enumerate(columns):
            t.add_column(column, justify="left" if i == 0 or column in TEXT_COLUMNS else "right")
        return t

    verdicts = summary["verdicts"]
    cases = summary["cases"] or 1
    t = table("verdicts", "verdict", "cases", "share")
    for v in VERDICTS:
        label = v if plain else f"[{COLOURS[v]}]{v}[/]"
        t.add_row(label, str(verdicts[v]), f"{100 * verdicts[v] / cases:.1f}%")
    console.print(t)
    divergent = summary["divergent"]
    if verdicts["divergent"]:
        console.print(f"divergent: {divergent['explained']} explained by a translation loss, {divergent['unexplained']} unexplained",
                      highlight=False, markup=False)

    fields = list(summary["fields"].items())[:TOP_FIELDS]
    if fields:
        t = table("divergent fields", "field", "cases", "explained", "noise (P≠S)", "explained by")
        for name, stats in fields:
            by_loss = ", ".join(f"{path} ({n})" for path, n in list(stats["by_loss"].items())[:3]) or "-"
            t.add_row(name, str(stats["cases"]), str(stats["explained"]), str(stats["noise"]), by_loss)
        console.print(t)

    stats = summary.get("field_stats")
    if isinstance(stats, list) and stats:
        flagged = [str(row.get("field")) for row in stats if isinstance(row, Mapping) and row.get("flagged")]
        console.print("fields whose P≠C count beats the P≠S noise (Diffy's rule): " + (", ".join(flagged) if flagged else "none"),
                      highlight=False, markup=False)

    if summary["errors"]:
        t = table("errors", "type", "cases")
        for kind, n in summary["errors"].items():
            t.add_row(kind, str(n))
        console.print(t)

    t = table("latency (ms)", "arm", "ttft p50", "ttft p95", "total p50", "total p95", "samples")
    for arm, metrics in summary["latency"].items():
        ttft, total = metrics["ttft"], metrics["total"]
        t.add_row(arm, _num(ttft["p50"]), _num(ttft["p95"]), _num(total["p50"]), _num(total["p95"]), str(total["count"]))
    console.print(t)

    baseline = summary.get("baseline")
    if baseline is not None:
        moves = ", ".join(f"{move}: {n}" for move, n in baseline["moves"].items()) or "none"
        console.print(f"against the baseline: {baseline['changed']} case(s) changed verdict ({moves})", highlight=False, markup=False)

    unreadable = summary.get("unreadable_results") or 0
    if unreadable:
        console.print(f"results.jsonl: {unreadable} line(s) could not be read and are left out", highlight=False, markup=False)
    problems = summary["problems"]["count"]
    if problems:
        console.print(f"corpus problems: {problems} entr{'y' if problems == 1 else 'ies'} skipped (listed above and in summary.json)",
                      highlight=False, markup=False)
    files = summary.get("files") or {"results": str(out_dir / RESULTS), "summary": str(out_dir / SUMMARY), "report": str(out_dir / REPORT)}
    console.print("files: " + ", ".join(f"{name} {path}" for name, path in files.items() if path), highlight=False, markup=False, soft_wrap=True)


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}" if value >= 10 else f"{value:.1f}"
