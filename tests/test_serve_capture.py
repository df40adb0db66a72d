"""``migrator serve --capture``: sampled chat requests become replay corpus lines, without secrets.

In process (Starlette's TestClient over the offline model) except the tests marked slow, which
start a real server or several writer processes.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from migrator.cli import main
from migrator.server.app import create_app
from migrator.server.capture import REDACTED, redact, sampled
from migrator.server.run import ServeConfig, build_state
from tests.serve_helpers import running_server

KEY = "sk-proj-Zq8vT3mW9xL2nR7pK4bY6cJ1"
HELLO: dict[str, Any] = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Hello there"}]}


@pytest.fixture
def capture_file(tmp_path: Path) -> Path:
    return tmp_path / "captured.jsonl"


@pytest.fixture
def client_for(capture_file: Path) -> Iterator[Any]:
    opened: list[TestClient] = []

    def make(rate: float = 1.0, **config: Any) -> TestClient:
        state = build_state(ServeConfig(capture=str(capture_file), capture_rate=rate, **config), log_stream=io.StringIO())
        client = TestClient(create_app(state), raise_server_exceptions=False)
        client.__enter__()
        opened.append(client)
        return client

    yield make
    for client in opened:
        client.__exit__(None, None, None)


def corpus_lines(path: Path) -> list[dict[str, Any]]:
    """The capture file read as ``migrator replay`` reads a corpus: one ``{"id", "request"}`` object a line."""
    raw = path.read_bytes()
    assert raw == b"" or raw.endswith(b"\n")
    lines = [json.loads(line) for line in raw.decode("utf-8").splitlines()]
    for line in lines:
        assert set(line) == {"id", "request"} and isinstance(line["id"], str) and line["id"]
        assert isinstance(line["request"], dict)
    return lines


def test_each_chat_request_is_a_corpus_line_as_sent(client_for: Any, capture_file: Path) -> None:
    client = client_for()
    bodies = [
        HELLO,
        {**HELLO, "stream": True, "stream_options": {"include_usage": True}},
        {**HELLO, "n": 2, "temperature": 0.3, "user": "customer-42"},
        {**HELLO, "frobnicate": 1},  # the endpoint refuses it: still traffic, still captured
    ]
    statuses = [client.post("/v1/chat/completions", json=body).status_code for body in bodies]
    assert statuses == [200, 200, 200, 400]
    lines = corpus_lines(capture_file)
    assert [line["request"] for line in lines] == bodies  # `user` is an end-user id, not a secret: kept
    assert len({line["id"] for line in lines}) == len(lines)
    assert all(line["id"].startswith("req_") for line in lines)  # the access log's request id


def test_responses_requests_and_unparsable_bodies_are_not_captured(client_for: Any, capture_file: Path) -> None:
    client = client_for()
    assert client.post("/v1/responses", json={"model": "m", "input": "hi"}).status_code == 200
    assert client.post("/v1/chat/completions", content=b"{not json").status_code == 400
    assert client.post("/v1/chat/completions", json=[1, 2]).status_code == 400
    assert capture_file.read_bytes() == b""


def test_the_line_id_is_the_request_id_and_a_client_id_gets_a_suffix(client_for: Any, capture_file: Path) -> None:
    client = client_for()
    answers = [client.post("/v1/chat/completions", json=HELLO, headers=headers)
               for headers in ({}, {"x-request-id": "retry-me"}, {"x-request-id": "retry-me"})]
    ids = [line["id"] for line in corpus_lines(capture_file)]
    assert ids[0] == answers[0].headers["x-request-id"]
    assert ids[1].startswith("retry-me.") and ids[2].startswith("retry-me.") and ids[1] != ids[2]


def test_rate_zero_writes_nothing(client_for: Any, capture_file: Path) -> None:
    client = client_for(rate=0.0)
    for _ in range(5):
        assert client.post("/v1/chat/completions", json=HELLO).status_code == 200
    assert capture_file.exists() and capture_file.read_bytes() == b""


def test_sampling_is_decided_by_the_request_id(client_for: Any, capture_file: Path) -> None:
    client = client_for(rate=0.5)
    ids = [f"id-{i}" for i in range(40)]
    for request_id in ids + ids:  # each id twice: a retry is sampled as its first try was
        client.post("/v1/chat/completions", json=HELLO, headers={"x-request-id": request_id})
    kept = [line["id"].rsplit(".", 1)[0] for line in corpus_lines(capture_file)]
    expected = [i for i in ids if sampled(i, 0.5)]
    assert kept == expected + expected
    assert 0 < len(expected) < len(ids)
    share = sum(sampled(f"req_{i:032x}", 0.1) for i in range(2000)) / 2000
    assert 0.07 < share < 0.13  # about one in ten (deterministic: the same ids every run)


def test_the_authorization_header_and_secrets_in_the_body_never_reach_the_file(client_for: Any, capture_file: Path) -> None:
    client = client_for()
    body = {
        "model": "gpt-4o-mini",
        "messages": [{"role": "user", "content": f"my key is {KEY}, and the header was Bearer abcdefgh12345678"}],
        "metadata": {"api_key": "plain-words-but-named-api-key", "team": "search"},
        "tools": [{"type": "function", "function": {"name": "login", "parameters": {
            "type": "object", "properties": {"password": {"type": "string"}}}}}],
        "user": "customer-7",
    }
    answer = client.post("/v1/chat/completions", json=body, headers={"authorization": f"Bearer {KEY}",
                                                                      "x-api-key": KEY})
    assert answer.status_code == 200
    text = capture_file.read_text(encoding="utf-8")
    assert KEY not in text and "abcdefgh12345678" not in text and "plain-words" not in text
    (line,) = corpus_lines(capture_file)
    request = line["request"]
    assert request["messages"][0]["content"] == f"my key is sk-{REDACTED}, and the header was Bearer {REDACTED}"
    assert request["metadata"] == {"api_key": REDACTED, "team": "search"}
    assert request["tools"] == body["tools"]  # a parameter *named* password is a schema, kept
    assert request["user"] == "customer-7"


def test_an_authenticated_server_captures_without_the_key(client_for: Any, capture_file: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CAPTURE_TEST_KEY", KEY)
    client = client_for(api_key_env="CAPTURE_TEST_KEY")
    assert client.post("/v1/chat/completions", json=HELLO).status_code == 401  # no key: not served, not captured
    assert client.post("/v1/chat/completions", json=HELLO, headers={"authorization": f"Bearer {KEY}"}).status_code == 200
    assert KEY not in capture_file.read_text(encoding="utf-8")
    assert [line["request"] for line in corpus_lines(capture_file)] == [HELLO]


def test_redaction_copies_only_what_changes() -> None:
    body = {"messages": [{"role": "user", "content": "hi"}], "metadata": {"note": "task-list sk-short"}}
    assert redact(body) is body  # nothing secret: the same object, nothing copied
    secret = {"a": [1, {"b": f"x {KEY} y"}], "c": {"d": 2}}
    out = redact(secret)
    assert out == {"a": [1, {"b": f"x sk-{REDACTED} y"}], "c": {"d": 2}}
    assert out["c"] is secret["c"] and secret["a"][1]["b"] == f"x {KEY} y"  # the input is untouched


def test_concurrent_requests_give_whole_lines(client_for: Any, capture_file: Path) -> None:
    client = client_for()
    big = "word " * 14_000  # 70 kB a line: well past a pipe's atomic size, still one write
    errors: list[BaseException] = []

    def send(index: int) -> None:
        try:
            for k in range(4):
                body = {"model": "m", "messages": [{"role": "user", "content": f"{index}-{k} {big}"}]}
                assert client.post("/v1/chat/completions", json=body).status_code == 200
        except BaseException as exc:  # reported below, not lost in the thread
            errors.append(exc)

    threads = [threading.Thread(target=send, args=(i,)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    lines = corpus_lines(capture_file)
    contents = sorted(line["request"]["messages"][0]["content"].split(" ", 1)[0] for line in lines)
    assert contents == sorted(f"{i}-{k}" for i in range(6) for k in range(4))


_WRITER = """
import sys
from migrator.server.capture import Capture
capture = Capture(sys.argv[1])
for k in range(30):
    body = {"model": "m", "messages": [{"role": "user", "content": f"{sys.argv[2]}-{k} " + "x" * 70_000}]}
    capture.offer(body, f"req_{sys.argv[2]}_{k}", minted=True)
capture.close()
"""


@pytest.mark.slow
def test_several_processes_appending_to_one_file_never_interleave(capture_file: Path) -> None:
    workers = [subprocess.Popen([sys.executable, "-c", _WRITER, str(capture_file), str(w)]) for w in range(3)]
    assert [worker.wait(60) for worker in workers] == [0, 0, 0]
    lines = corpus_lines(capture_file)
    assert sorted(line["id"] for line in lines) == sorted(f"req_{w}_{k}" for w in range(3) for k in range(30))


def test_a_write_that_fails_is_said_and_the_request_still_answered(tmp_path: Path,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    if not os.path.exists("/dev/full"):
        pytest.skip("needs /dev/full")
    state = build_state(ServeConfig(capture="/dev/full"), log_stream=io.StringIO())
    with TestClient(create_app(state), raise_server_exceptions=False) as client:
        answer = client.post("/v1/chat/completions", json=HELLO)
    assert answer.status_code == 200
    assert state.capture is not None and state.capture.failed == 1 and state.capture.lines == 0
    err = capsys.readouterr().err
    assert "--capture: cannot append to /dev/full" in err and answer.headers["x-request-id"] in err


@pytest.mark.parametrize(("args", "message"), [
    (["--capture", "{tmp}/no/such/dir/c.jsonl"], "--capture: cannot open {tmp}/no/such/dir/c.jsonl for appending: No such file"),
    (["--capture", "{tmp}"], "--capture: cannot open {tmp} for appending: Is a directory"),
    (["--capture", "{tmp}/c.jsonl", "--capture-rate", "1.5"], "--capture-rate: Input should be less than or equal to 1"),
    (["--capture-rate", "0.5"], "--capture-rate: it samples what --capture writes"),
])
def test_a_capture_option_that_cannot_work_is_exit_2_at_start(tmp_path: Path, args: list[str], message: str) -> None:
    err = io.StringIO()
    code = main(["serve", "--port", "0", *[a.format(tmp=tmp_path) for a in args]], stdout=io.StringIO(), stderr=err)
    assert code == 2
    assert message.format(tmp=tmp_path) in err.getvalue() and "Traceback" not in err.getvalue()


@pytest.mark.slow
def test_a_real_server_captures_what_the_sdk_sends(tmp_path: Path, capture_file: Path) -> None:
    with running_server(["--capture", str(capture_file), "--access-log", "-"], stderr_path=tmp_path / "err") as server:
        client = server.client(api_key=KEY)
        client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "Hello there"}],
                                       max_completion_tokens=20)
        with client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "Hi"}],
                                            stream=True) as stream:
            for _ in stream:
                pass
    text = capture_file.read_text(encoding="utf-8")
    assert KEY not in text
    lines = corpus_lines(capture_file)
    assert [line["request"] for line in lines] == [
        {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Hello there"}], "max_completion_tokens": 20},
        {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Hi"}], "stream": True},
    ]
