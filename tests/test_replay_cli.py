"""`migrator replay …` assembled: what the issue promises, through the command line.

In process (``migrator.cli.main``) where only the outcome matters; a real subprocess where the
process itself is the point (Ctrl-C, a kill). Requests are counted at the server (``migrator serve
--access-log``), so "sends only the rest" is measured, not assumed. Servers are shared per module.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import os
import signal
import subprocess
import sys
import threading
import time
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from migrator.cli import main
from migrator.replay.store import iter_results
from migrator.server.app import create_app
from migrator.server.run import ServeConfig, build_state

from .replay_server import ScriptedServer, Step, reply
from .serve_helpers import ROOT, ServerProcess, closed_port, running_server, wait_for

SAMPLE = ROOT / "fixtures" / "corpus" / "sample.jsonl"
EXPECTED = {
    "greeting-t0": "equivalent", "support-reply": "equivalent", "weather-tool": "equivalent",
    "ticket-json": "equivalent", "short-summary": "equivalent", "named-speaker": "divergent", "refused": "equivalent",
    "two-drafts": "divergent", "batch-line": "equivalent", "line-10": "equivalent", "too-hot": "error",
}
KEY = "sk-replay-cli-0123456789-SECRET-abcdef"


@dataclass
class Outcome:
    code: int | str | None
    stdout: str
    stderr: str


def cli(*argv: str | Path) -> Outcome:
    """``migrator replay …`` in process; argparse's own exit (bad option values) is an Outcome too."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code: int | str | None = main(["replay", *map(str, argv)], stdout=out, stderr=err)
        except SystemExit as exc:
            code = exc.code
    return Outcome(code, out.getvalue(), err.getvalue())


def verdicts(out: Path) -> dict[str, str]:
    return {r["id"]: r["verdict"] for r in iter_results(out)}


def assert_sample_verdicts(out: Path) -> None:
    """The sample's verdicts, exactly: the offline model's sampled draws are reproducible (the k-th
    call with a body gets the k-th answer), so no verdict of the sample depends on luck."""
    assert verdicts(out) == EXPECTED


def explained(out: Path, case_id: str) -> set[str]:
    result = next(r for r in iter_results(out) if r["id"] == case_id)
    return {loss["path"] for f in result["fields"] for loss in f["explained_by"]}


def raw_ids(out: Path) -> list[str]:
    return [json.loads(line)["id"] for line in (out / "results.jsonl").read_text().splitlines() if line.strip()]


def hello_corpus(path: Path, count: int, start: int = 0, **extra: Any) -> Path:
    with path.open("w") as f:
        for i in range(start, start + count):
            request = {"model": "gpt-4.1-mini", "temperature": 0,
                       "messages": [{"role": "user", "content": f"Say hello number {i}."}], **extra}
            f.write(json.dumps({"id": f"c{i}", "request": request}) + "\n")
    return path


class Served:
    """A ``migrator serve`` subprocess whose access log counts the requests it answered."""

    def __init__(self, server: ServerProcess, log: Path) -> None:
        self.server = server
        self.log = log

    @property
    def url(self) -> str:
        return self.server.base_url

    def settled(self) -> int:
        """The count once a killed client's request still inside the server has been answered and logged."""
        last = self.requests()
        for _ in range(50):
            time.sleep(0.1)
            now = self.requests()
            if now == last:
                break
            last = now
        return last

    def requests(self) -> int:
        try:
            return sum(1 for line in self.log.read_text().splitlines() if '"/v1/' in line)
        except FileNotFoundError:
            return 0


@contextlib.contextmanager
def served(folder: Path, *args: str, env: dict[str, str] | None = None) -> Iterator[Served]:
    folder.mkdir(parents=True, exist_ok=True)
    log = folder / "access.log"
    with running_server(["--sampling", "--access-log", str(log), *args], stderr_path=folder / "serve.err",
                        env=env) as server:
        yield Served(server, log)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    with served(tmp_path_factory.mktemp("serve")) as s:
        yield s


@pytest.fixture(scope="module")
def readme_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Outcome, Path]:
    """The README's main command: no --base-url, the offline server is started by the harness."""
    out = tmp_path_factory.mktemp("readme") / "out"
    return cli(SAMPLE, "--out", out, "--junit", out.parent / "junit.xml"), out


# ---------------------------------------------------------------------------- 1. the sample corpus


@pytest.mark.slow
def test_the_readme_command_gives_every_verdict_of_the_sample(readme_run: tuple[Outcome, Path]) -> None:
    outcome, out = readme_run
    assert outcome.code == 0, outcome.stderr
    assert_sample_verdicts(out)
    assert "$.n" in explained(out, "two-drafts")
    if verdicts(out)["named-speaker"] == "divergent":  # see assert_sample_verdicts
        assert "$.seed" in explained(out, "named-speaker")
    for name in ("results.jsonl", "summary.json", "report.html", "meta.json"):
        assert (out / name).stat().st_size > 0, name
    problems = [json.loads(line) for line in (out / "problems.jsonl").read_text().splitlines()]
    assert [(Path(p["source"]).name, p["line"]) for p in problems] == [("sample.jsonl", 12)]
    assert "sample.jsonl:12:" in outcome.stderr
    summary = json.loads((out / "summary.json").read_text())
    assert summary["verdicts"] == dict(Counter(verdicts(out).values()))
    assert summary["verdicts"]["error"] == 1
    assert "Traceback" not in outcome.stderr


@pytest.mark.slow
def test_junit_has_one_testcase_per_case(readme_run: tuple[Outcome, Path]) -> None:
    _, out = readme_run
    root = ET.parse(out.parent / "junit.xml").getroot()
    cases = root.findall(".//testcase")
    assert sorted(c.get("name", "") for c in cases) == sorted(EXPECTED)
    failing = {c.get("name") for c in cases if c.find("failure") is not None or c.find("error") is not None}
    assert failing == {case for case, verdict in verdicts(out).items() if verdict != "equivalent"}
    assert {"two-drafts", "too-hot"} <= failing


@pytest.mark.slow
@pytest.mark.parametrize(("fail_on", "code"), [("divergent", 1), ("error", 1)])
def test_fail_on_turns_the_verdicts_into_exit_1(server: Served, tmp_path: Path, fail_on: str, code: int) -> None:
    outcome = cli(SAMPLE, "--base-url", server.url, "--out", tmp_path / "out", "--fail-on", fail_on)
    assert outcome.code == code, outcome.stderr
    assert_sample_verdicts(tmp_path / "out")


@pytest.mark.slow
def test_a_base_url_without_v1_works_too(server: Served, tmp_path: Path) -> None:
    before = server.requests()
    outcome = cli(hello_corpus(tmp_path / "c.jsonl", 2), "--base-url", server.server.root, "--out", tmp_path / "out")
    assert outcome.code == 0, outcome.stderr
    assert verdicts(tmp_path / "out") == {"c0": "equivalent", "c1": "equivalent"}
    assert server.requests() - before == 6


@pytest.mark.slow
def test_fail_on_error_is_not_hit_by_a_corpus_without_errors(server: Served, tmp_path: Path) -> None:
    corpus = hello_corpus(tmp_path / "c.jsonl", 2)
    assert cli(corpus, "--base-url", server.url, "--out", tmp_path / "out", "--fail-on", "error").code == 0


@pytest.mark.slow
@pytest.mark.parametrize("extra", [["--stream"], ["--repeat", "3"]], ids=["stream", "repeat3"])
def test_stream_and_repeat_give_the_same_verdicts(server: Served, tmp_path: Path, extra: list[str]) -> None:
    outcome = cli(SAMPLE, "--base-url", server.url, "--out", tmp_path / "out", *extra)
    assert outcome.code == 0, outcome.stderr
    assert_sample_verdicts(tmp_path / "out")
    if extra == ["--repeat", "3"]:
        result = next(r for r in iter_results(tmp_path / "out") if r["id"] == "greeting-t0")
        assert {arm: len(records) for arm, records in result["records"].items()} == {"P": 3, "S": 3, "C": 3}
    else:
        result = next(r for r in iter_results(tmp_path / "out") if r["id"] == "greeting-t0")
        assert all(rec["ttft_ms"] is not None for recs in result["records"].values() for rec in recs)


# ---------------------------------------------------------------------------- 2. resume, Ctrl-C, a kill


@pytest.fixture(scope="module")
def slow_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    with served(tmp_path_factory.mktemp("slow"), "--latency-ms", "20") as s:
        yield s


def start_run(corpus: Path, out: Path, base_url: str) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "migrator.cli", "replay", str(corpus), "--base-url", base_url, "--out", str(out),
               "--concurrency", "1"]
    return subprocess.Popen(command, cwd=ROOT, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=os.environ.copy())


def lines_in(path: Path) -> int:
    try:
        return path.read_bytes().count(b"\n")
    except FileNotFoundError:
        return 0


def stop_midway(proc: subprocess.Popen[bytes], results: Path, sig: int) -> tuple[int, str]:
    assert wait_for(lambda: lines_in(results) >= 3, timeout=30), "no results came"
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=30)
    return proc.returncode, err.decode()


def assert_resume_sends_only_the_rest(slow_server: Served, corpus: Path, out: Path, total: int) -> None:
    finished = len(set(raw_ids(out)))
    assert 0 < finished < total
    before = slow_server.settled()
    outcome = cli(corpus, "--base-url", slow_server.url, "--out", out, "--resume")
    assert outcome.code == 0, outcome.stderr
    sent = slow_server.requests() - before
    remaining = total - finished
    # The case cut off in flight may have arms in the cache already; nothing finished is sent again.
    assert 3 * (remaining - 1) <= sent <= 3 * remaining, (sent, remaining)
    ids = raw_ids(out)
    assert sorted(ids) == sorted(f"c{i}" for i in range(total))  # each case once
    assert json.loads((out / "summary.json").read_text())["cases"] == total


@pytest.mark.slow
def test_ctrl_c_exits_130_keeps_what_finished_and_resume_runs_the_rest(slow_server: Served, tmp_path: Path) -> None:
    corpus, out = hello_corpus(tmp_path / "c.jsonl", 30), tmp_path / "out"
    code, err = stop_midway(start_run(corpus, out, slow_server.url), out / "results.jsonl", signal.SIGINT)
    assert code == 130, err
    assert "Traceback" not in err
    kept = raw_ids(out)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["cases"] == len(kept) > 0
    assert (out / "report.html").exists()
    assert_resume_sends_only_the_rest(slow_server, corpus, out, 30)


def children(pid: int) -> set[int]:
    try:
        return {int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()}
    except FileNotFoundError:
        return set()


def alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="reads the process tree from /proc")
def test_ctrl_c_in_the_readme_mode_stops_the_offline_server_too(tmp_path: Path) -> None:
    corpus, out = hello_corpus(tmp_path / "c.jsonl", 3000), tmp_path / "out"
    proc = subprocess.Popen([sys.executable, "-m", "migrator.cli", "replay", str(corpus), "--out", str(out)], cwd=ROOT,
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert wait_for(lambda: lines_in(out / "results.jsonl") >= 20, timeout=30), "no results came"
    servers = children(proc.pid)
    assert servers, "the offline server is a child of the run"
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err.decode()
    assert "Traceback" not in err.decode()
    assert wait_for(lambda: not any(alive(pid) for pid in servers), timeout=10)
    kept = raw_ids(out)
    assert 20 <= len(kept) < 3000 and len(set(kept)) == len(kept)
    assert json.loads((out / "summary.json").read_text())["cases"] == len(kept)


@pytest.mark.slow
def test_a_killed_run_keeps_its_results_and_a_second_run_without_resume_is_refused(
        slow_server: Served, tmp_path: Path) -> None:
    corpus, out = hello_corpus(tmp_path / "c.jsonl", 30), tmp_path / "out"
    code, _ = stop_midway(start_run(corpus, out, slow_server.url), out / "results.jsonl", signal.SIGKILL)
    assert code == -signal.SIGKILL
    before = slow_server.settled()
    refused = cli(corpus, "--base-url", slow_server.url, "--out", out)
    assert refused.code == 2
    assert "--resume" in refused.stderr and str(out) in refused.stderr
    assert "Traceback" not in refused.stderr
    assert slow_server.requests() == before
    assert_resume_sends_only_the_rest(slow_server, corpus, out, 30)


@pytest.mark.slow
@pytest.mark.parametrize("changed", [["--repeat", "2"], ["--shard", "1/2"], ["--stream"]])
def test_resume_with_other_settings_is_refused_before_any_request(server: Served, tmp_path: Path,
                                                                  changed: list[str]) -> None:
    corpus, out = hello_corpus(tmp_path / "c.jsonl", 3), tmp_path / "out"
    assert cli(corpus, "--base-url", server.url, "--out", out).code == 0
    kept = (out / "results.jsonl").read_bytes()
    before = server.requests()
    outcome = cli(corpus, "--base-url", server.url, "--out", out, "--resume", *changed)
    assert outcome.code == 2
    assert "--resume" in outcome.stderr and changed[0].lstrip("-") in outcome.stderr
    assert server.requests() == before
    assert (out / "results.jsonl").read_bytes() == kept  # each case still once
    assert cli(corpus, "--base-url", server.url, "--out", out, "--resume").code == 0  # the same settings resume


@pytest.mark.slow
def test_stdin_corpus_and_model_override(server: Served, tmp_path: Path) -> None:
    corpus = hello_corpus(tmp_path / "c.jsonl", 2)
    proc = subprocess.run([sys.executable, "-m", "migrator.cli", "replay", "-", "--base-url", server.url, "--out",
                           str(tmp_path / "out"), "--model", "gpt-4o-mini"], cwd=ROOT, input=corpus.read_bytes(),
                          capture_output=True, timeout=60)
    assert proc.returncode == 0, proc.stderr.decode()
    results = list(iter_results(tmp_path / "out"))
    assert sorted(r["id"] for r in results) == ["c0", "c1"]
    for result in results:
        assert result["request"]["model"] == result["translated"]["model"] == "gpt-4o-mini"
        assert {rec["model"] for recs in result["records"].values() for rec in recs} == {"gpt-4o-mini"}


@pytest.mark.slow
def test_a_folder_corpus_names_each_file(server: Served, tmp_path: Path) -> None:
    folder = tmp_path / "requests"
    (folder / "sub").mkdir(parents=True)
    (folder / "a.json").write_text(json.dumps({"model": "gpt-4.1-mini", "temperature": 0,
                                               "messages": [{"role": "user", "content": "hi"}]}))
    (folder / "sub" / "b.json").write_text(json.dumps({"id": "x", "request": {"messages": "nope"}}))
    (folder / "c.json").write_text("garbage")
    outcome = cli(folder, "--base-url", server.url, "--out", tmp_path / "out")
    assert outcome.code == 0, outcome.stderr
    assert verdicts(tmp_path / "out") == {"a.json": "equivalent"}
    problems = [json.loads(line) for line in (tmp_path / "out" / "problems.jsonl").read_text().splitlines()]
    assert sorted((Path(p["source"]).name, p["path"]) for p in problems) == [("b.json", "$.request.messages"),
                                                                           ("c.json", "$")]
    assert "b.json" in outcome.stderr and "c.json" in outcome.stderr


# ---------------------------------------------------------------------------- 3. the cache


@pytest.mark.slow
def test_a_rerun_with_more_cases_sends_only_the_new_ones(server: Served, tmp_path: Path) -> None:
    cache = tmp_path / "arms.sqlite"
    first = cli(hello_corpus(tmp_path / "a.jsonl", 5), "--base-url", server.url, "--out", tmp_path / "a", "--cache", cache)
    assert first.code == 0, first.stderr
    before = server.requests()
    second = cli(hello_corpus(tmp_path / "b.jsonl", 8), "--base-url", server.url, "--out", tmp_path / "b", "--cache", cache)
    assert second.code == 0, second.stderr
    assert server.requests() - before == 3 * 3
    assert verdicts(tmp_path / "b") == {f"c{i}": "equivalent" for i in range(8)}


# ---------------------------------------------------------------------------- 4. shards and merge


@pytest.mark.slow
def test_three_shards_merged_give_the_unsharded_verdicts(server: Served, tmp_path: Path) -> None:
    whole = cli(SAMPLE, "--base-url", server.url, "--out", tmp_path / "whole")
    assert whole.code == 0, whole.stderr
    parts = []
    for i in (1, 2, 3):
        part = tmp_path / f"shard{i}"
        assert cli(SAMPLE, "--base-url", server.url, "--out", part, "--shard", f"{i}/3").code == 0
        parts.append(part)
    assert all(verdicts(p) for p in parts)  # every shard got some cases
    merged = cli("merge", *parts, "--out", tmp_path / "merged", "--fail-on", "error")
    assert merged.code == 1, merged.stderr  # too-hot errs in the merged run as well
    assert_sample_verdicts(tmp_path / "whole")
    assert verdicts(tmp_path / "merged") == verdicts(tmp_path / "whole")
    summary = json.loads((tmp_path / "merged" / "summary.json").read_text())
    assert summary["cases"] == len(EXPECTED)
    assert [p["line"] for p in summary["problems"]["first"]] == [12]  # the broken line once, not once per shard
    assert (tmp_path / "merged" / "report.html").exists()


@pytest.mark.slow
def test_merging_shards_run_with_different_settings_is_refused(server: Served, tmp_path: Path) -> None:
    corpus = hello_corpus(tmp_path / "c.jsonl", 4)
    assert cli(corpus, "--base-url", server.url, "--out", tmp_path / "s1", "--shard", "1/2").code == 0
    assert cli(corpus, "--base-url", server.url, "--out", tmp_path / "s2", "--shard", "2/2", "--repeat", "2").code == 0
    outcome = cli("merge", tmp_path / "s1", tmp_path / "s2", "--out", tmp_path / "merged")
    assert outcome.code == 2
    assert "repeat" in outcome.stderr and "Traceback" not in outcome.stderr


# ---------------------------------------------------------------------------- 5. record and replay, no key anywhere


def files_under(*roots: Path) -> Iterator[Path]:
    for root in roots:
        if root.is_file():
            yield root
        else:
            yield from (p for p in root.rglob("*") if p.is_file())


@pytest.mark.slow
def test_record_then_replay_from_the_cassette_and_the_key_is_nowhere(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REPLAY_CLI_KEY", KEY)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    cassette, recorded, replayed = tmp_path / "run.cassette", tmp_path / "recorded", tmp_path / "replayed"
    with served(tmp_path / "keyed", "--api-key-env", "SERVE_NEEDS", env={"SERVE_NEEDS": KEY}) as keyed:
        no_key = cli(hello_corpus(tmp_path / "one.jsonl", 1), "--base-url", keyed.url, "--out", tmp_path / "nokey")
        assert verdicts(tmp_path / "nokey") == {"c0": "error"}  # the server does require the key
        first = cli(SAMPLE, "--base-url", keyed.url, "--api-key-env", "REPLAY_CLI_KEY", "--record", cassette,
                    "--out", recorded, "--junit", recorded / "junit.xml", "--stream", "--repeat", "2")
        assert first.code == 0, first.stderr
        assert_sample_verdicts(recorded)
    again = cli(SAMPLE, "--from-cassette", cassette, "--out", replayed, "--junit", replayed / "junit.xml", "--stream",
                "--repeat", "2")
    assert again.code == 0, again.stderr
    assert verdicts(replayed) == verdicts(recorded)  # the recorded answers, judged again
    scores = [{r["id"]: (r["scores"], r["fields"]) for r in iter_results(d)} for d in (recorded, replayed)]
    assert scores[0] == scores[1]
    assert cassette.stat().st_size > 0
    for outcome in (no_key, first, again):
        assert KEY not in outcome.stdout and KEY not in outcome.stderr
    checked = 0
    for path in files_under(cassette, recorded, replayed, tmp_path / "nokey"):
        assert KEY.encode() not in path.read_bytes(), path
        checked += 1
    assert checked >= 10


@pytest.mark.slow
def test_a_case_the_cassette_lacks_is_an_error_that_says_so(server: Served, tmp_path: Path) -> None:
    cassette = tmp_path / "c.cassette"
    assert cli(hello_corpus(tmp_path / "a.jsonl", 1), "--base-url", server.url, "--record", cassette,
               "--out", tmp_path / "rec").code == 0
    outcome = cli(hello_corpus(tmp_path / "b.jsonl", 2), "--from-cassette", cassette, "--out", tmp_path / "play")
    assert outcome.code == 0, outcome.stderr
    results = {r["id"]: r for r in iter_results(tmp_path / "play")}
    assert results["c0"]["verdict"] == "equivalent"
    assert results["c1"]["verdict"] == "error"
    assert "no (further) recorded answer" in results["c1"]["reason"] and "c.cassette" in results["c1"]["reason"]


# ---------------------------------------------------------------------------- 6. baseline


@pytest.mark.slow
def test_a_baseline_run_names_the_case_that_changed(server: Served, tmp_path: Path) -> None:
    corpus = hello_corpus(tmp_path / "c.jsonl", 3)
    assert cli(corpus, "--base-url", server.url, "--out", tmp_path / "before").code == 0
    lines = corpus.read_text().splitlines()
    changed = json.loads(lines[1])
    changed["request"]["n"] = 2  # the responses arm answers once: c1 now diverges
    corpus.write_text("\n".join([lines[0], json.dumps(changed), lines[2]]) + "\n")
    outcome = cli(corpus, "--base-url", server.url, "--out", tmp_path / "after", "--baseline", tmp_path / "before")
    assert outcome.code == 0, outcome.stderr
    baseline = json.loads((tmp_path / "after" / "summary.json").read_text())["baseline"]
    assert baseline["changed"] == 1
    assert [(c["id"], c["before"], c["after"]) for c in baseline["first"]] == [("c1", "equivalent", "divergent")]
    assert "c1" in (tmp_path / "after" / "report.html").read_text()


@pytest.mark.slow
def test_a_missing_baseline_is_exit_2_before_any_request(server: Served, tmp_path: Path) -> None:
    before = server.requests()
    outcome = cli(hello_corpus(tmp_path / "c.jsonl", 2), "--base-url", server.url, "--out", tmp_path / "out",
                  "--baseline", tmp_path / "nowhere")
    assert outcome.code == 2
    assert "--baseline" in outcome.stderr and "nowhere" in outcome.stderr
    assert server.requests() == before
    assert not (tmp_path / "out" / "results.jsonl").exists()


# ---------------------------------------------------------------------------- 7. a flaky server


CHAT_ANSWER = {"id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": "gpt-4.1-mini",
               "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hello there."},
                            "finish_reason": "stop"}],
               "usage": {"prompt_tokens": 5, "completion_tokens": 3, "total_tokens": 8}}
RESPONSES_ANSWER = {"id": "resp_1", "object": "response", "created_at": 1, "model": "gpt-4.1-mini",
                    "status": "completed",
                    "output": [{"type": "message", "id": "msg_1", "role": "assistant", "status": "completed",
                                "content": [{"type": "output_text", "text": "Hello there.", "annotations": []}]}],
                    "usage": {"input_tokens": 5, "output_tokens": 3, "total_tokens": 8}}
SERVER_ERROR = {"error": {"message": "overloaded", "type": "server_error", "param": None, "code": None}}


class Scripted:
    """A ScriptedServer on its own event loop in a thread, so the command's asyncio.run can talk to it."""

    def __init__(self, script: list[Step]) -> None:
        self.server = ScriptedServer(script)
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)

    def __enter__(self) -> Scripted:
        self.thread.start()
        asyncio.run_coroutine_threadsafe(self.server.__aenter__(), self.loop).result(10)
        return self

    def __exit__(self, *exc: object) -> None:
        asyncio.run_coroutine_threadsafe(self.server.__aexit__(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()

    @property
    def url(self) -> str:
        return self.server.url + "/v1"


def answer(scripted: list[ScriptedServer]) -> Step:
    """A 200 in the shape of the endpoint the last request went to."""
    async def step(writer: asyncio.StreamWriter) -> None:
        line = scripted[0].requests[-1]["line"]
        await reply(200, RESPONSES_ANSWER if "/v1/responses" in line else CHAT_ANSWER)(writer)

    return step


@pytest.mark.slow
def test_a_429_with_retry_after_then_200_is_equivalent_and_retried(tmp_path: Path) -> None:
    holder: list[ScriptedServer] = []
    with Scripted([reply(429, {"error": {"message": "slow down", "type": "rate_limit_error", "param": None,
                                         "code": "rate_limit_exceeded"}}, {"retry-after": "0"}),
                   answer(holder)]) as flaky:
        holder.append(flaky.server)
        outcome = cli(hello_corpus(tmp_path / "c.jsonl", 1), "--base-url", flaky.url, "--out", tmp_path / "out",
                      "--concurrency", "1", "--fail-on", "error")
        assert outcome.code == 0, outcome.stderr
        assert len(flaky.server.requests) == 4  # three arms, one of them twice
    assert verdicts(tmp_path / "out") == {"c0": "equivalent"}
    result = next(iter_results(tmp_path / "out"))
    attempts = sorted(rec.get("attempts", 1) for recs in result["records"].values() for rec in recs)
    assert attempts == [1, 1, 2]  # the retry is in the results


@pytest.mark.slow
def test_a_server_that_always_fails_gives_error_verdicts_not_a_traceback(tmp_path: Path) -> None:
    with Scripted([reply(500, SERVER_ERROR, {"retry-after-ms": "1"})]) as broken:
        corpus = hello_corpus(tmp_path / "c.jsonl", 2)
        plain = cli(corpus, "--base-url", broken.url, "--out", tmp_path / "a")
        failing = cli(corpus, "--base-url", broken.url, "--out", tmp_path / "b", "--fail-on", "error")
        assert len(broken.server.requests) == 2 * 2 * 3 * 6  # two runs, two cases, three arms, six attempts
    assert (plain.code, failing.code) == (0, 1)
    assert verdicts(tmp_path / "a") == verdicts(tmp_path / "b") == {"c0": "error", "c1": "error"}
    for result in iter_results(tmp_path / "a"):
        assert {rec.get("attempts") for recs in result["records"].values() for rec in recs} == {6}
    for outcome in (plain, failing):
        assert "Traceback" not in outcome.stderr


def slow_answer(scripted: list[ScriptedServer]) -> Step:
    async def step(writer: asyncio.StreamWriter) -> None:
        await asyncio.sleep(0.02)  # long enough for the workers' calls to overlap
        await answer(scripted)(writer)

    return step


@pytest.mark.slow
def test_concurrency_bounds_the_requests_in_flight(tmp_path: Path) -> None:
    holder: list[ScriptedServer] = []
    with Scripted([slow_answer(holder)]) as paced:
        holder.append(paced.server)
        outcome = cli(hello_corpus(tmp_path / "c.jsonl", 6), "--base-url", paced.url, "--out", tmp_path / "out",
                      "--concurrency", "2")
        assert outcome.code == 0, outcome.stderr
        assert paced.server.most_in_flight == 2
        assert len(paced.server.requests) == 18
    assert set(verdicts(tmp_path / "out").values()) == {"equivalent"}


def test_a_bad_base_url_is_exit_2_with_a_message(tmp_path: Path) -> None:
    outcome = cli(SAMPLE, "--base-url", "not-a-url", "--out", tmp_path / "out")
    assert outcome.code == 2
    assert "not-a-url" in outcome.stderr and "Traceback" not in outcome.stderr


def test_a_base_url_nothing_listens_on_is_exit_2_at_once(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{closed_port()}/v1"
    outcome = cli(SAMPLE, "--base-url", url, "--out", tmp_path / "out")
    assert outcome.code == 2
    assert url in outcome.stderr and "cannot connect" in outcome.stderr and "Traceback" not in outcome.stderr
    assert not (tmp_path / "out" / "results.jsonl").exists()


# ---------------------------------------------------------------------------- 8. bad input is exit 2, named


@pytest.mark.parametrize(("option", "value"), [("--concurrency", "0"), ("--shard", "4/3"), ("--rpm", "-1"),
                                               ("--repeat", "x"), ("--timeout", "0")])
def test_bad_option_values_are_exit_2_naming_the_option(tmp_path: Path, option: str, value: str) -> None:
    outcome = cli(SAMPLE, option, value, "--out", tmp_path / "out")
    assert outcome.code == 2
    assert option in outcome.stderr and value in outcome.stderr
    assert "Traceback" not in outcome.stderr
    assert not (tmp_path / "out").exists()


def test_a_junit_path_that_cannot_be_written_is_exit_2_before_the_run(tmp_path: Path) -> None:
    outcome = cli(SAMPLE, "--junit", tmp_path / "no" / "such" / "junit.xml", "--out", tmp_path / "out")
    assert outcome.code == 2
    assert "--junit" in outcome.stderr and "junit.xml" in outcome.stderr
    assert not (tmp_path / "out").exists()


def test_a_missing_corpus_is_exit_2_naming_it(tmp_path: Path) -> None:
    outcome = cli(tmp_path / "nope.jsonl", "--out", tmp_path / "out")
    assert outcome.code == 2
    assert "nope.jsonl" in outcome.stderr and "Traceback" not in outcome.stderr


def test_a_folder_without_json_is_exit_2_naming_it(tmp_path: Path) -> None:
    folder = tmp_path / "requests"
    folder.mkdir()
    (folder / "notes.txt").write_text("{}")
    outcome = cli(folder, "--out", tmp_path / "out")
    assert outcome.code == 2
    assert "requests" in outcome.stderr and ".json" in outcome.stderr
    assert not (tmp_path / "out" / "results.jsonl").exists()


@pytest.mark.parametrize("content", [b"garbage\n", b"\xff\xfe\x00binary", b'{"not": "an entry"}\n'],
                         ids=["text", "bytes", "json"])
def test_an_unreadable_cassette_is_exit_2_naming_it(tmp_path: Path, content: bytes) -> None:
    cassette = tmp_path / "broken.cassette"
    cassette.write_bytes(content)
    outcome = cli(SAMPLE, "--from-cassette", cassette, "--out", tmp_path / "out")
    assert outcome.code == 2, outcome.stderr
    assert "broken.cassette" in outcome.stderr and "Traceback" not in outcome.stderr


def test_a_missing_cassette_is_exit_2_naming_it(tmp_path: Path) -> None:
    outcome = cli(SAMPLE, "--from-cassette", tmp_path / "gone.cassette", "--out", tmp_path / "out")
    assert outcome.code == 2
    assert "gone.cassette" in outcome.stderr


# ---------------------------------------------------------------------------- 9. export-batch, import-batch, merge


def batch_outputs(export: Path, manifest: dict[str, Any], folder: Path) -> dict[str, list[Path]]:
    from .test_replay_batch import arm_files, run_batch

    with TestClient(create_app(build_state(ServeConfig(access_log="-"))), raise_server_exceptions=False) as chat:
        return {stem: run_batch(arm_files(export, manifest, stem), folder, stem, chat)
                for stem in ("chat", "responses", "chat-noise")}


def test_export_then_import_batch_through_the_command_line(tmp_path: Path) -> None:
    export = tmp_path / "export"
    exported = cli("export-batch", SAMPLE, "--out", export, "--noise")
    assert exported.code == 0, exported.stderr
    assert "wrote" in exported.stdout
    manifest = json.loads((export / "manifest.json").read_text())
    assert manifest["cases"] == len(EXPECTED)
    outputs = batch_outputs(export, manifest, tmp_path)
    out = tmp_path / "judged"
    imported = cli("import-batch", export, "--chat", *outputs["chat"], "--responses", *outputs["responses"],
                   "--noise", *outputs["chat-noise"], "--out", out, "--junit", tmp_path / "junit.xml")
    assert imported.code == 0, imported.stderr
    judged = verdicts(out)
    assert set(judged) == set(EXPECTED)
    assert judged["two-drafts"] == "divergent" and judged["too-hot"] == "error"
    assert len(ET.parse(tmp_path / "junit.xml").getroot().findall(".//testcase")) == len(EXPECTED)
    assert (out / "summary.json").exists() and (out / "report.html").exists()
    again = cli("import-batch", export, "--chat", *outputs["chat"], "--responses", *outputs["responses"],
                "--out", tmp_path / "judged2", "--fail-on", "divergent")
    assert again.code == 1


def test_batch_tools_refuse_bad_input_with_exit_2(tmp_path: Path) -> None:
    missing = cli("import-batch", tmp_path / "no-export", "--chat", tmp_path / "a", "--responses", tmp_path / "b",
                  "--out", tmp_path / "out")
    assert missing.code == 2 and "no-export" in missing.stderr
    assert cli("export-batch", tmp_path / "nope.jsonl", "--out", tmp_path / "e").code == 2
    merge_nothing = cli("merge", tmp_path / "not-a-run", "--out", tmp_path / "m")
    assert merge_nothing.code == 2 and "not-a-run" in merge_nothing.stderr
    for outcome in (missing, merge_nothing):
        assert "Traceback" not in outcome.stderr


@pytest.mark.slow
def test_merge_into_a_folder_that_holds_a_run_is_refused(server: Served, tmp_path: Path) -> None:
    corpus = hello_corpus(tmp_path / "c.jsonl", 2)
    assert cli(corpus, "--base-url", server.url, "--out", tmp_path / "a").code == 0
    assert cli(corpus, "--base-url", server.url, "--out", tmp_path / "b").code == 0
    kept = (tmp_path / "b" / "results.jsonl").read_bytes()
    outcome = cli("merge", tmp_path / "a", "--out", tmp_path / "b")
    assert outcome.code == 2 and str(tmp_path / "b") in outcome.stderr
    assert (tmp_path / "b" / "results.jsonl").read_bytes() == kept


def test_export_batch_shard_writes_only_its_cases(tmp_path: Path) -> None:
    counts = []
    for i in (1, 2):
        outcome = cli("export-batch", SAMPLE, "--out", tmp_path / f"e{i}", "--shard", f"{i}/2")
        assert outcome.code == 0, outcome.stderr
        counts.append(json.loads((tmp_path / f"e{i}" / "manifest.json").read_text())["cases"])
    assert sum(counts) == len(EXPECTED) and all(counts)


def test_tools_usage_errors_are_exit_2() -> None:
    assert cli("merge").code == 2
    assert cli("import-batch", "x").code == 2



def test_an_api_key_env_that_is_not_set_is_exit_2_naming_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("REPLAY_CLI_UNSET_KEY", raising=False)
    outcome = cli(SAMPLE, "--api-key-env", "REPLAY_CLI_UNSET_KEY", "--out", tmp_path / "out")
    assert outcome.code == 2
    assert "REPLAY_CLI_UNSET_KEY" in outcome.stderr and "not set" in outcome.stderr
    assert not (tmp_path / "out").exists()
