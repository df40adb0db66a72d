"""``migrator replay`` against a real OpenAI-compatible server: llama.cpp's ``llama-server``.

Two tiers, one set of expectations (``EXPECTED``):

* always: the run is replayed from cassettes recorded from a real llama-server (fixtures/replay/llama/),
  so the harness is shown to read llama.cpp's own bytes — its ``event:`` lines with no
  ``sequence_number``, ``[DONE]`` on chat but not on Responses, a truncated Response that says
  ``completed``, an error ``code`` that is a number — with no server and no network;
* live, when a server is at hand: ``MIGRATOR_LLAMA_SERVER`` (the base URL of a running server, started
  with ``-c 2048 -np 2``), or ``MIGRATOR_LLAMA_BIN`` + ``MIGRATOR_LLAMA_MODEL`` (the test starts
  ``llama-server`` on a free port and stops it). Skipped otherwise, with the reason.

The verdicts asserted are the ones a 135M model at temperature 0 (or with a seed) gives every time;
docs/replay-llama.md shows the whole corpus run and what it found.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2
import openai
import pytest

from migrator.cli import main
from migrator.replay.cassette import transport
from migrator.replay.judge import judge
from migrator.replay.model import Exchange, Record
from migrator.replay.normalize import normalize
from migrator.replay.terminal import Progress, rate_text

ROOT = Path(__file__).resolve().parent.parent
HERE = ROOT / "fixtures" / "replay" / "llama"
CORE = HERE / "core.jsonl"
CASSETTES = {"plain": HERE / "cassette.jsonl", "stream": HERE / "cassette-stream.jsonl"}
#: Samples per arm each cassette was recorded with (a stream's chunks make its cassette large).
REPEAT = {"plain": 2, "stream": 1}
KEY_ENV = "MIGRATOR_LLAMA_TEST_KEY"
FAKE_KEY = "sk-llama-fake-7f3c91d0e5b24a68"  # llama-server ignores it; no output file may hold it
READY_TIMEOUT = 180.0


# ----------------------------------------------------------------------------- expectations


def _field(result: dict[str, Any], name: str) -> dict[str, Any]:
    found = [d for d in result["fields"] if d["field"] == name]
    assert found, f"{result['id']}: no divergent field {name!r} in {[d['field'] for d in result['fields']]} ({result['reason']})"
    return found[0]


def _explained_by(diff: dict[str, Any]) -> list[str]:
    return [loss["path"] for loss in diff["explained_by"]]


def _equivalent_at_temperature_0(r: dict[str, Any]) -> None:
    assert r["verdict"] == "equivalent", r["reason"]
    assert r["noise"] == []  # temperature 0: P and S agree on everything
    assert all(s == 1.0 for s in r["scores"]["PC"] + r["scores"]["PS"]), r["scores"]


def _seed_dropped(r: dict[str, Any]) -> None:
    # chat honours the seed (P equals S at temperature 1); Responses has none, so C is a fresh draw.
    assert r["verdict"] == "divergent", r["reason"]
    assert "text" not in r["noise"] and all(s == 1.0 for s in r["scores"]["PS"])
    assert _explained_by(_field(r, "text")) == ["$.seed"]
    assert "`$.seed` was dropped" in r["reason"]


def _truncation_reported_completed(r: dict[str, Any]) -> None:
    # llama.cpp answers a Response cut at max_output_tokens with status "completed" and no
    # incomplete_details: the same words as chat, but chat says "length". No loss explains it.
    assert r["verdict"] == "divergent", r["reason"]
    finish = _field(r, "finish")
    assert (finish["P"], finish["C"]) == ("length", "stop")
    assert finish["explained_by"] == []
    assert "server deviation" in finish["detail"] and "server deviation" in r["reason"]
    assert "text" not in {d["field"] for d in r["fields"]}
    c = r["records"]["C"][0]
    assert c["usage"]["output"] == r["translated"]["max_output_tokens"]


def _schema_ignored(r: dict[str, Any]) -> None:
    # chat constrains the answer to the schema; llama.cpp's Responses path drops text.format.
    assert r["verdict"] == "divergent", r["reason"]
    structured = _field(r, "structured")
    assert structured["explained_by"] == []
    assert all(rec["structured"]["valid"] for rec in r["records"]["P"] + r["records"]["S"])
    assert not any(rec["structured"]["valid"] for rec in r["records"]["C"])
    assert r["translated"]["text"]["format"]["type"] == "json_schema"  # the engine did translate it


def _stop_dropped(r: dict[str, Any]) -> None:
    assert r["verdict"] == "divergent", r["reason"]
    assert _explained_by(_field(r, "text")) == ["$.stop"]
    assert all("5" not in rec["text"] for rec in r["records"]["P"])
    assert all("5" in rec["text"] for rec in r["records"]["C"])


def _context_overflow(r: dict[str, Any]) -> None:
    assert r["verdict"] == "error", r["reason"]
    assert "exceed_context_size_error" in r["reason"] and "C failed the same way" in r["reason"]
    assert "exceeds the available context size" in r["reason"]  # the server's own words
    assert {rec["status"] for arm in ("P", "S", "C") for rec in r["records"][arm]} == {400}


EXPECTED = {
    "t0-capital": _equivalent_at_temperature_0,
    "t1-seed": _seed_dropped,
    "truncated": _truncation_reported_completed,
    "json-schema": _schema_ignored,
    "stop": _stop_dropped,
    "too-long": _context_overflow,
}


def _results(out: Path) -> dict[str, dict[str, Any]]:
    lines = (out / "results.jsonl").read_text(encoding="utf-8").splitlines()
    results = {r["id"]: r for r in map(json.loads, lines)}
    assert sorted(results) == sorted(EXPECTED), f"cases in {out}: {sorted(results)}"
    return results


def _check(out: Path) -> None:
    results = _results(out)
    for case, expect in EXPECTED.items():
        expect(results[case])
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["verdicts"] == {"equivalent": 1, "divergent": 4, "error": 1}, summary["verdicts"]


def _no_key_anywhere(*folders: Path) -> None:
    for folder in folders:
        for path in folder.rglob("*"):
            if path.is_file():
                data = path.read_bytes()
                assert FAKE_KEY.encode() not in data, f"{path} holds the API key"
                assert b"Bearer sk-" not in data, f"{path} holds an Authorization header"


def _replay(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(["replay", *argv], stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


# ---------------------------------------------------------------------- always: the cassettes


@pytest.mark.parametrize("kind", sorted(CASSETTES))
def test_llama_cassette_replays_offline_with_the_live_verdicts(kind: str, tmp_path: Path) -> None:
    cassette = CASSETTES[kind]
    argv = [str(CORE), "--from-cassette", str(cassette), "--out", str(tmp_path / "out"), "--repeat", str(REPEAT[kind])]
    if kind == "stream":
        argv.append("--stream")
    code, stdout, stderr = _replay(argv)
    assert code == 0, stderr
    _check(tmp_path / "out")
    assert "equivalent" in stdout and "divergent" in stdout


def test_llama_cassettes_hold_llama_cpps_envelope_and_no_secret() -> None:
    """What makes these cassettes a test of the reader: the real server's quirks are in them."""
    for kind, cassette in CASSETTES.items():
        text = cassette.read_text(encoding="utf-8")
        assert FAKE_KEY not in text and "Bearer sk-" not in text, cassette
        lines = [json.loads(line) for line in text.splitlines()]
        assert {line["request"]["path"] for line in lines} == {"/v1/chat/completions", "/v1/responses"}
        for line in lines:
            headers = {k.lower(): v for k, v in line["request"]["headers"].items()}
            assert headers["authorization"] == "Bearer [REDACTED]", headers
        refusals = [json.loads(line["response"]["body"]) for line in lines if line["response"]["status"] == 400]
        assert refusals and all(r["error"]["code"] == 400 for r in refusals)  # a number, where OpenAI sends a string or null
        if kind == "stream":
            responses = "".join(c[1] for line in lines if line["request"]["path"] == "/v1/responses"
                                for c in (line["response"] or {}).get("chunks", []))
            chat = "".join(c[1] for line in lines if line["request"]["path"] == "/v1/chat/completions"
                           for c in (line["response"] or {}).get("chunks", []))
            assert "event: response.completed" in responses and "sequence_number" not in responses
            assert "[DONE]" not in responses and "data: [DONE]" in chat


def test_the_openai_sdk_reads_llama_cpps_streams_from_the_cassette() -> None:
    """The SDK (over httpx2, through the cassette's transport) takes llama.cpp's Response stream as
    it is: ``event:`` lines, no ``sequence_number`` (read as None), no ``[DONE]``; and its chat
    stream with ``[DONE]``. The words match what the harness judged."""
    sent: dict[str, dict[str, Any]] = {}
    for line in CASSETTES["stream"].read_text(encoding="utf-8").splitlines():
        request = json.loads(line)["request"]
        turns = request["body"].get("messages") or request["body"].get("input")
        if turns[0]["content"].startswith("Summarise the history of the Roman empire"):  # the `truncated` case
            sent[request["path"]] = request["body"]
    with openai.OpenAI(api_key="sk-unused", base_url="http://127.0.0.1:9/v1", max_retries=0, http_client=httpx2.Client(
            transport=transport(CASSETTES["stream"], "replay", library="httpx2"))) as client:
        events = list(client.responses.create(**sent["/v1/responses"]))
        chunks = list(client.chat.completions.create(**sent["/v1/chat/completions"]))
    final = events[-1]
    assert final.type == "response.completed" and final.response.status == "completed"
    assert final.response.incomplete_details is None and final.response.usage is not None
    assert final.response.usage.output_tokens == sent["/v1/responses"]["max_output_tokens"]  # cut, yet "completed"
    assert all(getattr(e, "sequence_number", None) is None for e in events)
    text = "".join(e.delta for e in events if e.type == "response.output_text.delta")
    assert text == final.response.output_text
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == text
    assert [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason] == ["length"]


# ------------------------------------------------- the quirks' readings, with hand-written answers


def _answer(path: str, body: dict[str, Any] | None, status: int = 200, error: dict[str, Any] | None = None) -> Exchange:
    return {"arm": "P", "sample": 0, "path": path, "status": status, "body": body, "stream": None, "error": error,  # type: ignore[typeddict-item]
            "ttft_ms": None, "total_ms": 5.0, "attempts": 1, "cached": False}


def _chat(finish: str, tokens: int) -> Record:
    body = {"object": "chat.completion", "model": "smollm2-135m", "usage": {"prompt_tokens": 44, "completion_tokens": tokens},
            "choices": [{"index": 0, "finish_reason": finish, "message": {"role": "assistant", "content": "The Roman Empire's history is marked by"}}]}
    return normalize(_answer("/v1/chat/completions", body), {})


def _response(tokens: int) -> Record:
    # llama.cpp's shape for a Response cut at max_output_tokens: status completed, no incomplete_details.
    body = {"object": "response", "status": "completed", "model": "smollm2-135m", "usage": {"input_tokens": 44, "output_tokens": tokens},
            "output": [{"type": "message", "role": "assistant", "status": "completed",
                        "content": [{"type": "output_text", "text": "The Roman Empire's history is marked by", "annotations": []}]}]}
    return normalize(_answer("/v1/responses", body), {})


def test_a_cut_response_that_says_completed_is_named_a_server_deviation() -> None:
    request = {"model": "m", "max_tokens": 8, "messages": [{"role": "user", "content": "Summarise."}]}
    result = judge({"P": [_chat("length", 8)], "S": [_chat("length", 8)], "C": [_response(8)]}, [], request)
    (finish,) = result["fields"]
    assert (finish["field"], finish["P"], finish["C"], finish["explained_by"]) == ("finish", "length", "stop", [])
    assert "spent all 8 output tokens" in finish["detail"] and "server deviation" in result["reason"]
    # A Response that stopped short of its budget did stop: no excuse is made for it.
    early = judge({"P": [_chat("length", 8)], "S": [_chat("length", 8)], "C": [_response(5)]}, [], request)
    assert early["verdict"] == "divergent" and "server deviation" not in early["reason"]


def test_a_refused_arm_shows_the_servers_message() -> None:
    message = "Cannot determine type of 'item'"
    refused = normalize(_answer("/v1/responses", None, 400, {"kind": "api", "status": 400, "type": "invalid_request_error",
                                                             "code": "400", "message": message}), {})
    assert refused["error_type"] == "invalid_request_error" and refused.get("error_message") == message
    result = judge({"P": [_chat("stop", 8)], "S": [_chat("stop", 8)], "C": [refused]}, [], {"model": "m", "messages": []})
    assert {d["field"] for d in result["fields"]} == {"status", "error"}
    assert message in result["reason"]
    failed = judge({"P": [refused], "S": [refused], "C": [_chat("stop", 8)]}, [], {"model": "m", "messages": []})
    assert failed["verdict"] == "error" and message in failed["reason"] and "C answered" in failed["reason"]


def test_a_slow_servers_progress_reads_in_cases_per_minute() -> None:
    ticks = iter([0.0, 50.0, 50.0])  # start, one case, stop: a case in 50 s, as on a loaded CPU
    out = io.StringIO()
    progress = Progress(out, live=False, clock=lambda: next(ticks))
    progress.start(2)
    progress.case({"verdict": "equivalent"})  # type: ignore[typeddict-item]
    progress.stop()
    assert out.getvalue() == "migrator replay: 1/2 cases, 1.2 cases/min, equivalent 1 divergent 0 error 0\n"
    assert (rate_text(250.0, " cases"), rate_text(2.5, ""), rate_text(0.004, "")) == ("250 cases/s", "2.5/s", "0.2/min")


# ------------------------------------------------------------------------- live: a real server


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _healthy(base: str) -> bool:
    try:
        with urllib.request.urlopen(base.removesuffix("/v1") + "/health", timeout=2) as answer:
            return bool(answer.status == 200)
    except (OSError, urllib.error.URLError):
        return False


@pytest.fixture(scope="module")
def llama_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The base URL of a llama-server: the one named by MIGRATOR_LLAMA_SERVER, or one started here."""
    given = os.environ.get("MIGRATOR_LLAMA_SERVER")
    if given:
        if not _healthy(given):
            pytest.fail(f"MIGRATOR_LLAMA_SERVER={given}: no healthy llama-server answers there")
        yield given
        return
    binary, model = os.environ.get("MIGRATOR_LLAMA_BIN"), os.environ.get("MIGRATOR_LLAMA_MODEL")
    if not binary or not model:
        pytest.skip("no llama-server: set MIGRATOR_LLAMA_SERVER (a running server's base URL) or "
                    "MIGRATOR_LLAMA_BIN and MIGRATOR_LLAMA_MODEL (see docs/replay-llama.md)")
    if not (Path(binary).is_file() or shutil.which(binary)) or not Path(model).is_file():
        pytest.fail(f"MIGRATOR_LLAMA_BIN={binary} / MIGRATOR_LLAMA_MODEL={model}: not found")
    port = _free_port()
    log = tmp_path_factory.mktemp("llama") / "llama-server.log"
    with open(log, "wb") as sink:
        proc = subprocess.Popen([binary, "-m", model, "--alias", "smollm2-135m", "--host", "127.0.0.1",
                                 "--port", str(port), "-c", "2048", "-np", "2", "--no-webui"],
                                stdout=sink, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + READY_TIMEOUT
        while not _healthy(base):
            if proc.poll() is not None or time.monotonic() > deadline:
                tail = log.read_text(errors="replace")[-2000:]
                pytest.fail(f"llama-server did not become ready (exit {proc.poll()}):\n{tail}")
            time.sleep(0.5)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.mark.slow
@pytest.mark.parametrize("kind", sorted(CASSETTES))
def test_llama_live_run_gives_the_expected_verdicts(llama_server: str, kind: str, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """What the committed cassettes were recorded with; with a fake key, to prove it is redacted."""
    out, cassette = tmp_path / "out", tmp_path / "cassette.jsonl"
    repeat = ["--repeat", str(REPEAT[kind])] + (["--stream"] if kind == "stream" else [])
    argv = [str(CORE), "--base-url", llama_server, "--api-key-env", KEY_ENV, "--out", str(out), "--concurrency", "2",
            "--record", str(cassette), "--junit", str(tmp_path / "junit.xml"), *repeat]
    monkeypatch.setenv(KEY_ENV, FAKE_KEY)
    code, stdout, stderr = _replay(argv)
    assert code == 0, stderr
    _check(out)
    _no_key_anywhere(tmp_path)
    assert FAKE_KEY not in stdout + stderr
    # The fresh recording replays offline to the same verdicts: what the committed cassettes rely on.
    code, _, stderr = _replay([str(CORE), "--from-cassette", str(cassette), "--out", str(tmp_path / "again"), *repeat])
    assert code == 0, stderr
    _check(tmp_path / "again")
