"""What a replay run leaves for people and CI: summary.json, the terminal's progress and table,
the JUnit file, the baseline comparison, the HTML report's contents (its behaviour in a browser is
tests/test_replay_html.py), and the exit code.

Results are hand-written CaseResult dicts from a small factory: every verdict, an explained and an
unexplained divergence, a streamed case, an error, K=3 samples, and hostile content.
"""

from __future__ import annotations

import io
import json
import math
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rich.console import Console

from migrator.replay.baseline import BaselineError, compare
from migrator.replay.html import json_for_script, write_report
from migrator.replay.junit import write_junit
from migrator.replay.model import CaseResult, CorpusProblem, FieldDiff, Loss, Record
from migrator.replay.outputs import exit_code, write_outputs
from migrator.replay.summary import Histogram, elapsed_seconds, run_facts, summarize
from migrator.replay.terminal import Progress, print_summary, problem_line

SECRET = "sk-test-SECRET-0123456789"
STOP_LOSS: Loss = {"path": "$.stop", "field": "stop", "kind": "unsupported",
                   "reason": "Responses has no stop sequences; the model will not stop early at them"}
SEED_LOSS: Loss = {"path": "$.seed", "field": "seed", "kind": "unsupported", "reason": "Responses has no seed parameter"}
HOSTILE = '<script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2">\x00\x1b & "quotes" ]]>'


def record(text: str = "Hello there.", *, ok: bool = True, status: int | None = 200, finish: str | None = "stop",
           error_type: str | None = None, tool_calls: list[Any] | None = None, ttft: float | None = None,
           total: float = 120.0, usage_in: int | None = 12, usage_out: int | None = 4, stream: dict[str, Any] | None = None) -> Record:
    rec: Record = {
        "ok": ok, "status": status, "error_type": error_type, "finish": finish if ok else None, "text": text if ok else "",
        "refusal": None, "tool_calls": tool_calls or [], "structured": None, "usage": {"input": usage_in, "output": usage_out},
        "model": "gpt-4o", "ttft_ms": ttft, "total_ms": total,
    }
    if stream is not None:
        rec["stream"] = stream  # type: ignore[typeddict-unknown-key]
    return rec


def diff(field: str, detail: str, p: Any, c: Any, s: Any, explained_by: list[Loss] | None = None) -> FieldDiff:
    return {"field": field, "detail": detail, "P": p, "C": c, "S": s, "explained_by": explained_by or []}


def case(case_id: str, verdict: str = "equivalent", *, source: str = "corpus.jsonl", line: int = 1, reason: str = "",
         fields: list[FieldDiff] | None = None, losses: list[Loss] | None = None, records: dict[str, list[Record]] | None = None,
         noise: list[str] | None = None, request: dict[str, Any] | None = None, key: str | None = None,
         translated: dict[str, Any] | bool | None = True, scores: dict[str, list[float]] | None = None) -> CaseResult:
    request = request or {"model": "gpt-4o", "messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Say hello."}]}
    if translated is True:
        translated_body: dict[str, Any] | None = {"model": request["model"], "instructions": "Be brief.",
                                                  "input": [{"role": "user", "content": "Say hello."}], "store": False}
    else:
        translated_body = translated or None
    return {
        "id": case_id, "key": key or f"key-{case_id}", "source": source, "line": line, "verdict": verdict,  # type: ignore[typeddict-item]
        "reason": reason or {"equivalent": "P and C agree within the noise"}.get(verdict, verdict),
        "fields": fields or [], "noise": noise or [], "losses": losses or [], "order": ["C", "P", "S"],
        "request": request, "translated": translated_body,
        "records": records or {arm: [record(total=100.0 + 10 * i)] for i, arm in enumerate("PSC")},
        "scores": scores or {"PC": [0.97], "PS": [0.98]},
    }


def sample_results() -> list[CaseResult]:
    """Every verdict and every shape the report shows."""
    stop_request = {"model": "gpt-4o", "messages": [{"role": "user", "content": "Count to ten."}], "stop": ["5"], "seed": 7}
    streamed = {"events": 9, "event_lines": True, "done": False, "sequence_numbers": True, "terminal": "response.completed",
                "rebuilt_matches_terminal": True}
    chat_stream = {"events": 8, "event_lines": False, "done": True, "sequence_numbers": False, "terminal": "stop", "rebuilt_matches_terminal": True}
    weather = [{"name": "get_weather", "arguments": {"city": "Paris"}, "arguments_valid": True}]
    weather_c = [{"name": "get_weather", "arguments": {"city": "Lyon"}, "arguments_valid": True}]
    return [
        case("greet", line=1),
        case("stop-dropped", "divergent", line=2, request=stop_request, losses=[STOP_LOSS, SEED_LOSS],
             reason="text and usage.output differ because `$.stop` was dropped",
             fields=[diff("text", "similarity 0.41, noise floor 0.93 (P vs S)", "1, 2, 3, 4, ", "1, 2, 3, 4, 5, 6, 7, 8, 9, 10", "1, 2, 3, 4, ",
                          [STOP_LOSS]),
                     diff("usage.output", "output tokens 34 vs 12 (ratio 2.8)", 12, 34, 12, [STOP_LOSS])],
             records={"P": [record("1, 2, 3, 4, ", usage_out=12)], "S": [record("1, 2, 3, 4, ", usage_out=12)],
                      "C": [record("1, 2, 3, 4, 5, 6, 7, 8, 9, 10", usage_out=34, total=400.0)]}),
        case("tool-args", "divergent", line=3, reason="tool call arguments differ (unexplained)",
             fields=[diff("tool_calls", "get_weather arguments differ: $.city", weather, weather_c, weather)],
             records={"P": [record("", finish="tool_calls", tool_calls=weather)], "S": [record("", finish="tool_calls", tool_calls=weather)],
                      "C": [record("", finish="tool_calls", tool_calls=weather_c)]}),
        case("bad-request", "error", line=4, reason="C failed: HTTP 400 invalid_request_error",
             fields=[diff("status", "C answered 400", 200, 400, 200)],
             records={"P": [record()], "S": [record()], "C": [record(ok=False, status=400, error_type="invalid_request_error", total=30.0)]}),
        case("streamed", line=5,
             records={"P": [record(ttft=80.0, total=300.0, stream=chat_stream)], "S": [record(ttft=90.0, total=310.0, stream=chat_stream)],
                      "C": [record(ttft=120.0, total=350.0, stream=streamed)]}),
        case("k3", "divergent", line=6, reason="text differs beyond the noise in 3 of 3 sample pairs", noise=["usage.output"],
             fields=[diff("text", "paired: PC median 0.20 vs PS median 0.90 over 3 samples", "Bonjour", "Goodbye", "Bonjour!")],
             records={arm: [record(t, total=100.0 * (k + 1)) for k, t in enumerate(texts)] for arm, texts in
                      {"P": ["Bonjour", "Bonjour!", "Bonjour."], "S": ["Bonjour!", "Bonjour", "Bonjour"], "C": ["Goodbye", "Bye", "Ciao"]}.items()},
             scores={"PC": [0.2, 0.18, 0.25], "PS": [0.9, 0.95, 0.88]}),
        case(f"hostile {HOSTILE}", "divergent", source="evil<dir>/x&y.jsonl", line=7, reason=f"text differs: {HOSTILE}",
             request={"model": "gpt-4o", "messages": [{"role": "user", "content": HOSTILE}]},
             fields=[diff("text", f"similarity 0.1 {HOSTILE}", HOSTILE, HOSTILE + "!", HOSTILE)],
             records={"P": [record(HOSTILE)], "S": [record(HOSTILE)], "C": [record(HOSTILE + "!")]}),
        case("no-translation", "error", line=8, reason="the engine could not translate the request", translated=None,
             records={"P": [record()], "S": [record()]}),
    ]


PROBLEMS: list[CorpusProblem] = [
    {"source": "sample.jsonl", "line": 7, "path": "$.messages", "message": "expected a list"},
    {"source": "sample.jsonl", "line": 9, "path": "$", "message": "expected a JSON object"},
]
META = {"model": "gpt-4o", "base_url": "http://127.0.0.1:1234", "repeat": 1, "api_key": SECRET, "headers": {"Authorization": f"Bearer {SECRET}"},
        "elapsed_s": 2.5}


def write_run(out: Path, results: Iterable[CaseResult], problems: Iterable[CorpusProblem] = PROBLEMS) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.jsonl").write_text("".join(json.dumps(r) + "\n" for r in results), encoding="utf-8")
    (out / "problems.jsonl").write_text("".join(json.dumps(p) + "\n" for p in problems), encoding="utf-8")
    return out


# --- summary -------------------------------------------------------------------------------


def test_summary_counts_verdicts_fields_losses_errors_and_problems() -> None:
    s = summarize(sample_results(), PROBLEMS, META)
    assert s["cases"] == 8
    assert s["verdicts"] == {"equivalent": 2, "divergent": 4, "error": 2}
    assert s["divergent"] == {"explained": 1, "unexplained": 3}
    assert s["fields"]["text"]["cases"] == 3 and s["fields"]["text"]["explained"] == 1
    assert s["fields"]["text"]["by_loss"] == {"$.stop": 1}
    assert s["fields"]["usage.output"]["noise"] == 1
    assert s["losses"]["$.stop"]["explains"] == 1 and s["losses"]["$.seed"]["explains"] == 0
    assert s["losses"]["$.seed"]["cases"] == 1
    assert s["errors"] == {"invalid_request_error": 1, "translation": 1}
    assert s["error_arms"] == {"C": 1}
    assert s["samples"] == 3
    assert s["problems"]["count"] == 2 and s["problems"]["first"][0]["line"] == 7
    assert s["stream"]["C"] == {"streams": 1, "event_lines": 1, "done": 0, "sequence_numbers": 1, "rebuilt_mismatch": 0}


def test_summary_counts_a_loss_once_per_case_whatever_its_index() -> None:
    names = [{"path": f"$.messages[{i}].name", "field": "name", "kind": "dropped", "reason": "no participant name"} for i in range(3)]
    results = [case(f"c{i}", "divergent", losses=names[: i + 1], fields=[diff("text", "d", "a", "b", "a", names[i:i + 1])]) for i in range(3)]
    s = summarize(results, [], {})
    assert list(s["losses"]) == ["$.messages[*].name"]
    assert s["losses"]["$.messages[*].name"]["cases"] == 3 and s["losses"]["$.messages[*].name"]["explains"] == 3
    assert s["fields"]["text"]["by_loss"] == {"$.messages[*].name": 3}


def test_summary_drops_credentials_from_the_run_settings() -> None:
    s = summarize([], [], META)
    assert "api_key" not in s["run"] and "Authorization" not in s["run"]["headers"]
    assert SECRET not in json.dumps(s)
    assert s["run"]["model"] == "gpt-4o"
    kept = summarize([], [], {"max_tokens": 5, "api_key_env": "OPENAI_API_KEY", "token": "t", "x-api-key": "k", "Cookie": "c"})["run"]
    assert kept == {"max_tokens": 5, "api_key_env": "OPENAI_API_KEY"}  # the variable's name, not its value
    plain = summarize([], [], {"out": Path("runs/a"), "corpus": (Path("a.jsonl"),), "rpm": math.inf, "nested": {"token": "t", "n": 1}})["run"]
    assert plain == {"out": "runs/a", "corpus": ["a.jsonl"], "rpm": "inf", "nested": {"n": 1}}


def test_run_settings_read_flat_with_times_in_utc() -> None:
    meta = {"settings": {"model": None, "repeat": 3}, "corpus": ["a.jsonl", "b.jsonl"], "started": 0, "finished": 90.5}
    assert run_facts(meta) == [("settings.model", "-"), ("settings.repeat", "3"), ("corpus", "a.jsonl, b.jsonl"),
                               ("started", "1970-01-01 00:00:00 UTC"), ("finished", "1970-01-01 00:01:30 UTC")]
    assert elapsed_seconds(meta) == 90.5 and elapsed_seconds({"elapsed_s": 2}) == 2.0 and elapsed_seconds({}) is None


def test_summary_latency_percentiles_per_arm() -> None:
    results = [case(f"c{i}", records={"P": [record(total=float(i + 1), ttft=float(i + 1) / 2)], "S": [record(total=1000.0)],
                                      "C": [record(total=float(2 * (i + 1)))]}) for i in range(100)]
    s = summarize(results, [], {})
    lat = s["latency"]
    assert lat["P"]["total"]["count"] == 100 and lat["S"]["ttft"]["count"] == 0 and lat["S"]["ttft"]["p50"] is None
    assert lat["P"]["total"]["p50"] == pytest.approx(50, rel=0.05)
    assert lat["P"]["total"]["p95"] == pytest.approx(95, rel=0.05)
    assert lat["P"]["ttft"]["p50"] == pytest.approx(25, rel=0.05)
    assert lat["C"]["total"]["p95"] == pytest.approx(190, rel=0.05)
    assert lat["S"]["total"]["p50"] == 1000.0  # clamped into [min, max]
    assert sum(lat["P"]["total"]["buckets"].values()) == 100


@settings(max_examples=200, deadline=None)
@given(st.lists(st.floats(min_value=0.01, max_value=600_000, allow_nan=False), min_size=1, max_size=300),
       st.sampled_from([0.5, 0.9, 0.95, 0.99]))
def test_histogram_percentile_is_within_a_bucket_of_the_exact_one(values: list[float], q: float) -> None:
    h = Histogram()
    for v in values:
        h.add(v)
    exact = sorted(values)[max(1, math.ceil(q * len(values))) - 1]
    got = h.percentile(q)
    assert got is not None and exact / 1.046 <= got <= exact * 1.046


def test_histogram_memory_does_not_grow_with_the_number_of_values() -> None:
    h = Histogram()
    for i in range(100_000):
        h.add(50 + (i % 5000) * 0.1)
    assert len(h.buckets) < 40 and h.count == 100_000


def test_summary_counts_a_folder_corpus_by_file_only_up_to_a_bound() -> None:
    s = summarize([case(f"c{i}", source=f"folder/{i}.json") for i in range(500)], [], {})
    assert len(s["sources"]) == 51 and s["sources"]["(other files)"]["equivalent"] == 450
    assert s["sources"]["folder/0.json"] == {"equivalent": 1, "divergent": 0, "error": 0}


def test_judge_field_stats_read_the_same_single_pass() -> None:
    consumed: list[str] = []

    def field_stats(results: Iterable[CaseResult]) -> dict[str, int]:
        for r in results:
            consumed.append(r["id"])
        return {"seen": len(consumed)}

    once = iter(sample_results())  # an iterator: a second pass would find it empty
    s = summarize(once, [], {}, field_stats=field_stats)
    assert s["field_stats"] == {"seen": 8} and s["cases"] == 8


# --- results file ----------------------------------------------------------------------------


def test_outputs_fill_missing_keys_and_skip_wrongly_shaped_lines(tmp_path: Path) -> None:
    sparse = {"id": "old", "key": "k-old", "verdict": "divergent", "fields": [{"field": "text"}], "records": {"P": [{"ok": True, "text": "hi"}]}}
    wrong = {**case("wrong"), "records": {"P": [{"ok": True, "total_ms": "slow"}]}}
    unknown = {**case("unknown"), "verdict": "maybe"}
    out = tmp_path / "run"
    write_run(out, [sparse, wrong, unknown, case("fine")], [])  # type: ignore[list-item]
    summary = write_outputs(out, meta={}, junit=tmp_path / "j.xml")
    assert summary["cases"] == 2 and summary["unreadable_results"] == 2
    assert summary["verdicts"] == {"equivalent": 1, "divergent": 1, "error": 0}
    assert summary["fields"]["text"]["cases"] == 1
    html = (out / "report.html").read_text(encoding="utf-8")
    assert [c["id"] for c in _cases_block(html)] == ["old", "fine"]
    assert "2 results.jsonl line(s) could not be read" in html
    shown = io.StringIO()
    print_summary(summary, out, shown)
    assert "results.jsonl: 2 line(s) could not be read and are left out" in shown.getvalue()


# --- terminal --------------------------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_plain_progress_prints_a_line_every_thousand_cases_or_five_seconds() -> None:
    out, clock = io.StringIO(), Clock()
    progress = Progress(out, live=False, clock=clock)
    progress.start(2500)
    for i in range(2500):
        clock.now = i * 0.001
        progress.case(case(f"c{i}", "divergent" if i % 10 == 0 else "equivalent"))
    clock.now = 10.0
    progress.problem(PROBLEMS[0])
    clock.now = 16.0
    progress.case(case("late"))  # 6 s since the last line: a line although only 501 cases came
    progress.stop()
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("migrator replay: 1000/2500 cases") and "divergent 100" in lines[0]
    assert lines[1].startswith("migrator replay: 2000/2500 cases")
    assert "sample.jsonl:7: $.messages: expected a list" in lines
    assert lines[-1].startswith("migrator replay: 2501/2500 cases") and "problems 1" in lines[-1]
    assert len(lines) == 4


def test_progress_without_a_total_and_with_few_cases_still_ends_with_a_line() -> None:
    out = io.StringIO()
    progress = Progress(out, live=False)
    progress.start(None)
    progress.case(case("only", "error"))
    progress.stop()
    assert re.fullmatch(r"migrator replay: 1 cases, [0-9.]+ cases/s, equivalent 0 divergent 0 error 1\n", out.getvalue())


def test_live_progress_draws_a_bar_and_prints_problems_above_it() -> None:
    out = io.StringIO()
    progress = Progress(out, live=True)
    progress.start(3)
    progress.problem(PROBLEMS[1])
    for r in sample_results()[:3]:
        progress.case(r)
    progress.stop()
    text = out.getvalue()
    assert "sample.jsonl:9: $: expected a JSON object" in text
    assert "migrator replay" in text and "3/3" in text and "eq 1 · div 2 · err 0 · problems 1" in text


def test_problem_line_points_at_file_and_line() -> None:
    assert problem_line(PROBLEMS[0]) == "sample.jsonl:7: $.messages: expected a list"
    assert problem_line({"source": "dir/a.json", "line": 0, "path": "$", "message": "not JSON"}) == "dir/a.json: $: not JSON"


def test_summary_table_names_verdicts_fields_losses_latency_and_files(tmp_path: Path) -> None:
    s = summarize(sample_results(), PROBLEMS, META, field_stats=lambda rs: [{"field": "text", "flagged": True, "raw": len(list(rs))}],
                  baseline_changes=[{"id": "greet", "source": "corpus.jsonl", "line": 1, "before": "divergent",
                                                                       "after": "equivalent", "same_request": True, "reason": ""}])
    out = io.StringIO()
    print_summary(s, tmp_path, Console(file=out, width=160))
    text = out.getvalue()
    for expected in ("equivalent", "divergent", "error", "text", "$.stop (1)", "invalid_request_error", "latency (ms)",
                     "1 explained by a translation loss, 3 unexplained", "1 case(s) changed verdict (divergent → equivalent: 1)",
                     "corpus problems: 2 entries skipped", str(tmp_path / "report.html"),
                     "fields whose P≠C count beats the P≠S noise (Diffy's rule): text"):
        assert expected in text, expected
    assert "\x1b[" not in text  # not a terminal: no colour codes
    assert "+--" in text  # ASCII frames for logs
    stream = io.StringIO()
    print_summary(s, tmp_path, stream)  # a plain stream is given a console of its own
    assert "$.stop (1)" in stream.getvalue() and "\x1b[" not in stream.getvalue()


# --- JUnit -----------------------------------------------------------------------------------


def test_junit_has_one_testcase_per_case_and_the_counts_match(tmp_path: Path) -> None:
    results = sample_results()
    s = summarize(results, [], META)
    path = tmp_path / "junit.xml"
    write_junit(path, iter(results), s)
    root = ET.parse(path).getroot()
    suite = root.find("testsuite")
    assert suite is not None
    cases = suite.findall("testcase")
    assert len(cases) == int(suite.get("tests", "")) == 8
    assert len([c for c in cases if c.find("failure") is not None]) == int(suite.get("failures", "")) == 4
    assert len([c for c in cases if c.find("error") is not None]) == int(suite.get("errors", "")) == 2
    assert root.get("tests") == "8" and suite.get("time") == "2.500"
    properties = {p.get("name"): p.get("value") for p in suite.iter("property")}
    assert properties["model"] == "gpt-4o" and "api_key" not in properties and "headers.Authorization" not in properties
    by_name = {c.get("name"): c for c in cases}
    assert by_name["greet"].get("classname") == "corpus.jsonl" and list(by_name["greet"]) == []
    explained = by_name["stop-dropped"].find("failure")
    assert explained is not None and explained.get("type") == "explained-divergence"
    assert explained.get("message", "") == "explained divergence: text and usage.output differ because `$.stop` was dropped"
    unexplained = by_name["tool-args"].find("failure")
    assert unexplained is not None and unexplained.get("type") == "divergent" and "get_weather" in (unexplained.text or "")
    error = by_name["bad-request"].find("error")
    assert error is not None and error.get("type") == "invalid_request_error"
    hostile = next(c for name, c in by_name.items() if name and name.startswith("hostile"))
    assert hostile.get("classname") == "evil<dir>/x&y.jsonl"
    assert "\\x00" in (hostile.get("name") or "") and "\\x1b" in (hostile.get("name") or "")
    assert SECRET not in path.read_text()


def test_junit_names_the_explaining_loss_when_the_reason_does_not(tmp_path: Path) -> None:
    r = case("x", "divergent", reason="text differs", fields=[diff("text", "similarity 0.2", "a", "b", "a", [STOP_LOSS])])
    path = tmp_path / "j.xml"
    write_junit(path, [r], summarize([r], [], {}))
    failure = ET.parse(path).getroot().find("testsuite/testcase/failure")
    assert failure is not None and failure.get("message") == "explained divergence: text differs (explained by `$.stop`)"
    assert "explained by $.stop (unsupported: Responses has no stop sequences" in (failure.text or "")


def test_junit_escapes_every_character_xml_cannot_hold(tmp_path: Path) -> None:
    nasty = "".join(chr(c) for c in range(0x20)) + "\ud800\ufffe\uffff<&>\"'"
    r = case(nasty, "divergent", reason=nasty, fields=[diff(nasty, nasty, nasty, nasty, nasty)])
    path = tmp_path / "j.xml"
    write_junit(path, [r], summarize([r], [], {}))
    testcase = ET.parse(path).getroot().find("testsuite/testcase")
    assert testcase is not None and "<&>\"'" in (testcase.get("name") or "")
    failure = testcase.find("failure")
    assert failure is not None and "\\xd800" in (failure.get("message") or "")


def test_junit_is_replaced_whole_or_not_at_all(tmp_path: Path) -> None:
    path = tmp_path / "junit.xml"
    path.write_text("old", encoding="utf-8")

    def broken() -> Iterator[CaseResult]:
        yield case("a")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        write_junit(path, broken(), summarize([case("a")], [], {}))
    assert path.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["junit.xml"]  # no temporary left behind


# --- baseline --------------------------------------------------------------------------------


def test_baseline_lists_cases_whose_verdict_changed(tmp_path: Path) -> None:
    before = write_run(tmp_path / "before", [case("a", "divergent"), case("b"), case("c", "error"), case("gone", "error")])
    now = write_run(tmp_path / "now", [case("a"), case("b"), case("c", "divergent", key="edited"), case("new", "divergent")])
    changes = compare(now, before)
    assert [(c["id"], c["before"], c["after"], c["same_request"]) for c in changes] == [
        ("a", "divergent", "equivalent", True), ("c", "error", "divergent", False)]


def test_baseline_without_an_earlier_run_is_a_clear_error(tmp_path: Path) -> None:
    now = write_run(tmp_path / "now", [case("a")])
    with pytest.raises(BaselineError, match=r"nowhere/results\.jsonl: no such file \(--baseline expects the --out folder"):
        compare(now, tmp_path / "nowhere")
    assert issubclass(BaselineError, ValueError)  # bad input: the command's ValueError handler exits 2


# --- write_outputs and exit codes --------------------------------------------------------------


def test_write_outputs_writes_summary_report_and_junit_without_the_key(tmp_path: Path) -> None:
    before = write_run(tmp_path / "before", [case("greet", "divergent")])
    out = write_run(tmp_path / "run", sample_results())
    junit = tmp_path / "ci" / "junit.xml"
    summary = write_outputs(out, meta=META, baseline=before, junit=junit)
    on_disk = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert on_disk["verdicts"] == summary["verdicts"] == {"equivalent": 2, "divergent": 4, "error": 2}
    assert on_disk["baseline"]["changed"] == 1 and on_disk["baseline"]["first"][0]["id"] == "greet"
    assert on_disk["files"]["junit"] == str(junit)
    text_stats = next(row for row in on_disk["field_stats"] if row["field"] == "text")  # the judge's, read in the same pass
    assert text_stats["cases"] == 8 and text_stats["raw"] >= 3
    assert len(ET.parse(junit).getroot().findall("testsuite/testcase")) == 8
    assert (out / "report.html").stat().st_size > 0
    for produced in (out / "summary.json", out / "report.html", junit):
        text = produced.read_text(encoding="utf-8")
        assert SECRET not in text, produced
        assert "Bearer" not in text, produced


def test_write_outputs_of_an_empty_run(tmp_path: Path) -> None:
    out = tmp_path / "empty"
    out.mkdir()
    summary = write_outputs(out, meta={})
    assert summary["cases"] == 0 and summary["problems"]["count"] == 0
    assert "0 cases" in (out / "report.html").read_text(encoding="utf-8")


@pytest.mark.parametrize(("verdicts", "fail_on", "code"), [
    ({"equivalent": 3, "divergent": 0, "error": 0}, "divergent", 0),
    ({"equivalent": 3, "divergent": 1, "error": 0}, "divergent", 1),
    ({"equivalent": 0, "divergent": 0, "error": 2}, "divergent", 1),
    ({"equivalent": 3, "divergent": 1, "error": 0}, "error", 0),
    ({"equivalent": 3, "divergent": 0, "error": 1}, "error", 1),
    ({"equivalent": 0, "divergent": 5, "error": 5}, None, 0),
])
def test_exit_code(verdicts: dict[str, int], fail_on: str | None, code: int) -> None:
    assert exit_code({"verdicts": verdicts}, fail_on) == code


def test_exit_code_rejects_an_unknown_condition() -> None:
    with pytest.raises(ValueError, match="expected one of divergent, error"):
        exit_code({"verdicts": {"equivalent": 0, "divergent": 0, "error": 0}}, "warning")


# --- report contents (what the browser test does not need a browser for) -------------------------


def _cases_block(html: str) -> list[dict[str, Any]]:
    match = re.search(r'<script type="application/json" id="cases">(.*?)</script>', html, re.S)
    assert match is not None
    data: list[dict[str, Any]] = json.loads(match.group(1))
    return data


def test_report_holds_every_divergent_and_error_case_and_at_most_n_equivalent(tmp_path: Path) -> None:
    results = [case(f"eq{i}") for i in range(30)] + [case(f"div{i}", "divergent", fields=[diff("text", "x", "a", "b", "a")]) for i in range(5)]
    results.append(case("err", "error"))
    path = tmp_path / "report.html"
    write_report(path, results, summarize(results, [], {}), max_equivalent=10)
    html = path.read_text(encoding="utf-8")
    kept = _cases_block(html)
    assert [c["verdict"] for c in kept].count("equivalent") == 10
    assert [c["verdict"] for c in kept].count("divergent") == 5 and [c["verdict"] for c in kept].count("error") == 1
    assert "every divergent and error case and 10 of the 30 equivalent ones" in html


def test_report_cuts_long_values(tmp_path: Path) -> None:
    def size(text: str) -> int:
        r = case("c", "divergent", records={arm: [record(text)] for arm in "PSC"}, fields=[diff("text", "d", text, text, text)])
        path = tmp_path / "report.html"
        write_report(path, [r], summarize([r], [], {}))
        return path.stat().st_size

    small = size("x")
    assert size("x" * 50_000) - small < 6 * 2_100  # three records and three diff values, each cut
    assert "… [48000 more characters]" in (tmp_path / "report.html").read_text(encoding="utf-8")


def test_report_cannot_be_broken_out_of_and_fetches_nothing(tmp_path: Path) -> None:
    results = sample_results()
    path = tmp_path / "report.html"
    write_report(path, results, summarize(results, PROBLEMS, META))
    html = path.read_text(encoding="utf-8")
    assert "<script>window.__pwned" not in html and "<img src=x" not in html
    assert html.count("<script") == 2 and html.count("</script>") == 2  # the data block and the page's own script
    assert not re.search(r"(src|href)\s*=\s*[\"']?(https?:)?//", html)
    assert re.search(r"Content-Security-Policy\" content=\"default-src 'none'; script-src 'sha256-", html)
    kept = _cases_block(html)
    assert any(c["id"] == f"hostile {HOSTILE}" for c in kept)  # the data itself arrives intact


def _nested(children: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.lists(children) | st.dictionaries(st.text(), children)


@settings(max_examples=150, deadline=None)
@given(st.recursive(st.none() | st.booleans() | st.integers() | st.text(), _nested, max_leaves=20))
def test_json_for_script_round_trips_and_never_closes_the_tag(value: Any) -> None:
    text = json_for_script(value)
    assert "<" not in text and ">" not in text
    assert json.loads(text) == value
