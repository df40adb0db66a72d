"""A run's results folded into the counts that summary.json, the terminal, the report and CI read.

One pass, constant memory: a 100,000-case run keeps only counters, the first problems, and two
latency histograms per arm. Latencies go into fixed log-scale buckets (eight per doubling, so
every bucket is ~9% wide and a percentile read from its geometric middle is within ~4.5% of the
exact value) rather than a reservoir: the estimate does not depend on luck, and the buckets
double as the report's histogram.
"""

from __future__ import annotations

import math
import re
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, cast

from .. import __version__
from .model import ARMS, VERDICTS, CaseResult, CorpusProblem

SUMMARY_VERSION = 1
FIRST_PROBLEMS = 20  # problems kept verbatim; the rest are only counted
MAX_SOURCES = 50  # corpus files counted by name; the rest together
OTHER_SOURCES = "(other files)"
BUCKETS_PER_DOUBLING = 8
LATENCY_METHOD = (
    f"fixed log-scale histogram, {BUCKETS_PER_DOUBLING} buckets per doubling; "
    "percentiles read from the bucket's geometric middle (within ~4.5%)"
)
_INDEX = re.compile(r"\[\d+\]")
_TIMES = ("started", "finished")  # epoch seconds in the run's meta
_SECRET = re.compile(r"(^|[_-])(api[_-]?key|key|authorization|auth|token|access[_-]token|secret|password|cookie)$", re.I)

FieldStats = Callable[[Iterable[CaseResult]], Any]


class Histogram:
    """Milliseconds in log-scale buckets: constant memory, percentiles within half a bucket's width."""

    __slots__ = ("buckets", "count", "max", "min", "total")

    def __init__(self) -> None:
        self.buckets: Counter[int] = Counter()
        self.count = 0
        self.total = 0.0
        self.min = math.inf
        self.max = 0.0

    def add(self, ms: float) -> None:
        if ms != ms or ms < 0:  # NaN or negative: a clock problem, not a latency
            return
        self.buckets[bucket(ms)] += 1
        self.count += 1
        self.total += ms
        self.min = min(self.min, ms)
        self.max = max(self.max, ms)

    def percentile(self, q: float) -> float | None:
        if not self.count:
            return None
        rank = max(1, math.ceil(q * self.count))
        seen = 0
        for index in sorted(self.buckets):
            seen += self.buckets[index]
            if seen >= rank:
                return min(max(middle(index), self.min), self.max)
        return self.max  # unreachable: the buckets hold `count` values

    def as_dict(self) -> dict[str, Any]:
        if not self.count:
            return {"count": 0, "p50": None, "p95": None, "min": None, "max": None, "mean": None, "buckets": {}}
        return {
            "count": self.count,
            "p50": _ms(self.percentile(0.5)),
            "p95": _ms(self.percentile(0.95)),
            "min": _ms(self.min),
            "max": _ms(self.max),
            "mean": _ms(self.total / self.count),
            "buckets": {str(i): n for i, n in sorted(self.buckets.items())},
        }


def bucket(ms: float) -> int:
    return math.floor(math.log2(max(ms, 1e-3)) * BUCKETS_PER_DOUBLING)


def bucket_bounds(index: int) -> tuple[float, float]:
    return 2 ** (index / BUCKETS_PER_DOUBLING), 2 ** ((index + 1) / BUCKETS_PER_DOUBLING)


def middle(index: int) -> float:
    return float(2 ** ((index + 0.5) / BUCKETS_PER_DOUBLING))


def _ms(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


class Summarizer:
    """The fold behind :func:`summarize`, fed one result at a time (so one pass can feed several writers)."""

    def __init__(self) -> None:
        self.cases = 0
        self.verdicts: Counter[str] = Counter()
        self.explained_cases = 0
        self.field_cases: Counter[str] = Counter()
        self.field_explained: Counter[str] = Counter()
        self.field_losses: dict[str, Counter[str]] = {}
        self.loss_info: dict[str, dict[str, Any]] = {}
        self.loss_cases: Counter[str] = Counter()
        self.loss_explains: Counter[str] = Counter()
        self.noise: Counter[str] = Counter()
        self.errors: Counter[str] = Counter()
        self.error_arms: Counter[str] = Counter()
        self.sources: dict[str, Counter[str]] = {}
        self.stream: dict[str, Counter[str]] = {arm: Counter() for arm in ARMS}
        self.latency: dict[str, dict[str, Histogram]] = {arm: {"ttft": Histogram(), "total": Histogram()} for arm in ARMS}
        self.samples = 0
        self.problem_count = 0
        self.first_problems: list[CorpusProblem] = []

    def add(self, result: CaseResult) -> None:
        verdict = result["verdict"]
        self.cases += 1
        self.verdicts[verdict] += 1
        source = self.sources.get(result["source"])
        if source is None:  # a folder corpus names a source per file: past the first few, one bucket
            name = result["source"] if len(self.sources) < MAX_SOURCES else OTHER_SOURCES
            source = self.sources.get(name)
            if source is None:
                source = self.sources[name] = Counter()
        source[verdict] += 1
        for name in result["noise"]:
            self.noise[name] += 1
        for path in {self._loss(loss) for loss in result["losses"]}:
            self.loss_cases[path] += 1
        for arm, records in result["records"].items():
            hists = self.latency.get(arm)
            if len(records) > self.samples:
                self.samples = len(records)
            for record in records:
                # A Batch API answer's 0 ms means "not measured", not "instant".
                if hists is not None and record.get("timed") is not False:
                    if record["ttft_ms"] is not None:
                        hists["ttft"].add(record["ttft_ms"])
                    hists["total"].add(record["total_ms"])
                facts = cast("Mapping[str, Any]", record).get("stream")  # optional: StreamFacts, when normalize keeps them
                if isinstance(facts, Mapping) and arm in self.stream:
                    self._stream(arm, facts)
        if verdict == "divergent":
            self._divergent(result)
        elif verdict == "error":
            self._error(result)

    def _loss(self, loss: Mapping[str, Any]) -> str:
        """The loss's path with indices as ``[*]``: one row for a name dropped from any message."""
        path = _INDEX.sub("[*]", str(loss["path"]))
        if path not in self.loss_info:
            self.loss_info[path] = {"field": loss["field"], "kind": loss["kind"], "reason": loss["reason"]}
        return path

    def _divergent(self, result: CaseResult) -> None:
        all_explained = bool(result["fields"])
        explaining: set[str] = set()
        for diff in result["fields"]:
            name = diff["field"]
            self.field_cases[name] += 1
            if diff["explained_by"]:
                self.field_explained[name] += 1
                by_loss = self.field_losses.get(name)
                if by_loss is None:
                    by_loss = self.field_losses[name] = Counter()
                for path in {self._loss(loss) for loss in diff["explained_by"]}:
                    by_loss[path] += 1
                    explaining.add(path)
            else:
                all_explained = False
        self.explained_cases += all_explained
        for path in explaining:
            self.loss_explains[path] += 1

    def _error(self, result: CaseResult) -> None:
        kinds: set[str] = set()
        for arm, records in result["records"].items():
            for record in records:
                if not record["ok"]:
                    kinds.add(error_label(record["error_type"], record["status"]))
                    self.error_arms[arm] += 1
        if not kinds:
            kinds.add("translation" if result["translated"] is None else "other")
        for kind in kinds:
            self.errors[kind] += 1

    def _stream(self, arm: str, facts: Mapping[str, Any]) -> None:
        counts = self.stream[arm]
        counts["streams"] += 1
        counts["event_lines"] += bool(facts.get("event_lines"))
        counts["done"] += bool(facts.get("done"))
        counts["sequence_numbers"] += bool(facts.get("sequence_numbers"))
        counts["rebuilt_mismatch"] += facts.get("rebuilt_matches_terminal") is False

    def problem(self, problem: CorpusProblem) -> None:
        self.problem_count += 1
        if len(self.first_problems) < FIRST_PROBLEMS:
            self.first_problems.append(problem)

    def result(self, meta: Mapping[str, Any], field_stats: Any = None, baseline_changes: list[dict[str, Any]] | None = None) -> dict[str, Any]:
        divergent = self.verdicts["divergent"]
        fields = {
            name: {
                "cases": n,
                "explained": self.field_explained[name],
                "unexplained": n - self.field_explained[name],
                "noise": self.noise[name],
                "by_loss": dict(self.field_losses.get(name, Counter()).most_common()),
            }
            for name, n in self.field_cases.most_common()
        }
        losses = {
            path: {**info, "cases": self.loss_cases[path], "explains": self.loss_explains[path]}
            for path, info in sorted(self.loss_info.items(), key=lambda kv: (-self.loss_explains[kv[0]], -self.loss_cases[kv[0]], kv[0]))
        }
        summary: dict[str, Any] = {
            "tool": "migrator replay",
            "version": __version__,
            "summary_version": SUMMARY_VERSION,
            "run": scrub(meta),
            "cases": self.cases,
            "samples": self.samples,
            "verdicts": {v: self.verdicts[v] for v in VERDICTS},
            "divergent": {"explained": self.explained_cases, "unexplained": divergent - self.explained_cases},
            "fields": fields,
            "noise": dict(self.noise.most_common()),
            "losses": losses,
            "errors": dict(self.errors.most_common()),
            "error_arms": {arm: self.error_arms[arm] for arm in ARMS if self.error_arms[arm]},
            "sources": {src: {v: c[v] for v in VERDICTS} for src, c in self.sources.items()},
            "latency": {arm: {metric: h.as_dict() for metric, h in hists.items()} for arm, hists in self.latency.items()},
            "latency_method": LATENCY_METHOD,
            "stream": {arm: dict(c) for arm, c in self.stream.items() if c},
            "problems": {"count": self.problem_count, "first": list(self.first_problems)},
            "field_stats": field_stats,
        }
        if baseline_changes is not None:
            summary["baseline"] = baseline_section(baseline_changes)
        return summary


def error_label(error_type: str | None, status: int | None) -> str:
    if error_type:
        return error_type
    return f"HTTP {status}" if status is not None else "no answer"


def baseline_section(changes: list[dict[str, Any]], first: int = 50) -> dict[str, Any]:
    moves: Counter[str] = Counter(f"{c['before']} → {c['after']}" for c in changes)
    return {"changed": len(changes), "moves": dict(moves.most_common()), "first": changes[:first]}


def scrub(meta: Mapping[str, Any]) -> dict[str, Any]:
    """The run settings minus anything named like a credential (the key never reaches a file), as
    plain JSON (a path or a non-finite number as its text)."""
    return {str(k): _plain(v) for k, v in meta.items() if not _SECRET.search(str(k))}


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return scrub(value)
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, (str, int)) or (isinstance(value, float) and math.isfinite(value)):
        return value
    return str(value)


def run_facts(run: Mapping[str, Any], prefix: str = "") -> list[tuple[str, str]]:
    """The run settings as ``name: value`` lines for people: nested settings dotted, times in UTC."""
    facts: list[tuple[str, str]] = []
    for key, value in run.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            facts += run_facts(value, name + ".")
        elif key in _TIMES and isinstance(value, (int, float)) and not isinstance(value, bool):
            facts.append((name, time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(value))))
        elif isinstance(value, list):
            facts.append((name, ", ".join(str(v) for v in value)))
        else:
            facts.append((name, "-" if value is None else str(value)))
    return facts


def elapsed_seconds(run: Mapping[str, Any]) -> float | None:
    elapsed = run.get("elapsed_s")
    if isinstance(elapsed, (int, float)):
        return float(elapsed)
    started, finished = run.get("started"), run.get("finished")
    if isinstance(started, (int, float)) and isinstance(finished, (int, float)):
        return max(float(finished) - float(started), 0.0)
    return None


def summarize(
    results: Iterable[CaseResult],
    problems: Iterable[CorpusProblem],
    meta: Mapping[str, Any],
    *,
    field_stats: FieldStats | None = None,
    baseline_changes: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """Fold a run into its summary; ``field_stats`` (the judge's per-field noise statistics) reads
    the same single pass, as the results stream through it."""
    fold = Summarizer()
    tapped = _tap(results, fold.add)
    stats = field_stats(tapped) if field_stats is not None else None
    for _ in tapped:  # whatever field_stats left unread (or everything, without it)
        pass
    for problem in problems:
        fold.problem(problem)
    return fold.result(meta, stats, baseline_changes)


def _tap(results: Iterable[CaseResult], add: Callable[[CaseResult], None]) -> Iterator[CaseResult]:
    for result in results:
        add(result)
        yield result
