"""A finished (or interrupted) run's folder turned into what people and CI read.

``results.jsonl`` is read twice, never held: once to fold the summary (its counts head the report
and the JUnit file), once to stream the report and the JUnit file together. Every file appears
whole or not at all, so Ctrl-C during the outputs leaves the previous ones.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import nullcontext
from pathlib import Path
from typing import Any

from .baseline import compare
from .html import ReportWriter
from .judge import field_stats as judge_field_stats
from .junit import JUnitWriter
from .rundir import REPORT, SUMMARY, Checked
from .store import RESULTS, iter_problems, iter_results, write_json_atomic
from .summary import FieldStats, summarize

FAIL_ON = ("divergent", "error")


def write_outputs(out_dir: Path, *, meta: Mapping[str, Any], baseline: Path | None = None, junit: Path | None = None,
                  field_stats: FieldStats | None = None) -> dict[str, Any]:
    """Write DIR/summary.json, DIR/report.html and (``--junit``) the JUnit file; return the summary.

    ``baseline`` raises :class:`~migrator.replay.baseline.BaselineError` when it holds no run.
    """
    out_dir = Path(out_dir)
    changes = compare(out_dir, baseline) if baseline is not None else None
    results = Checked(iter_results(out_dir))
    summary = summarize(results, iter_problems(out_dir), meta,
                        field_stats=field_stats if field_stats is not None else judge_field_stats, baseline_changes=changes)
    summary["unreadable_results"] = results.unreadable
    summary["files"] = {"results": str(out_dir / RESULTS), "summary": str(out_dir / SUMMARY), "report": str(out_dir / REPORT),
                        "junit": str(junit) if junit is not None else None}
    with ReportWriter(out_dir / REPORT, summary, changes) as report, \
            JUnitWriter(Path(junit), summary) if junit is not None else nullcontext() as tests:
        for result in Checked(iter_results(out_dir)):
            report.add(result)
            if tests is not None:
                tests.add(result)
    write_json_atomic(out_dir / SUMMARY, summary)
    return summary


def exit_code(summary: Mapping[str, Any], fail_on: str | None) -> int:
    """CI's answer: 1 when ``--fail-on`` is hit, else 0.

    ``divergent`` fails on any case that is not equivalent (a run where every case errored has no
    divergence, and must not pass); ``error`` fails only on errors. An explained divergence still
    counts: the behaviour changed, the loss only says why. Unreadable corpus lines do not: they
    are reported and skipped.
    """
    if fail_on is None:
        return 0
    if fail_on not in FAIL_ON:
        raise ValueError(f"--fail-on: expected one of {', '.join(FAIL_ON)}, found {fail_on!r}")
    verdicts = summary["verdicts"]
    failing = verdicts["error"] + (verdicts["divergent"] if fail_on == "divergent" else 0)
    return 1 if failing else 0
