"""``migrator serve`` at the edges real traffic reaches first (issue #7): bad input, losses,
ownership, passthrough, deadlines and upstreams that answer JSON to a stream request.

Most tests drive the ASGI app in process (Starlette's TestClient: fast, no port); the ones
about the process itself (exit codes, the access-log file) run ``migrator serve``.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from migrator.server.app import create_app
from migrator.server.run import ServeConfig, build_state
from tests.serve_helpers import ROOT, FakeUpstream, fake_upstream, read_jsonl, running_server

_OPEN: list[TestClient] = []


def make_client(log: io.StringIO | None = None, **config: Any) -> TestClient:
    """An in-process server (offline unless ``upstream=`` is given) writing its access log to ``log``.

    Entered, so one event loop serves all its requests (the bridge's pooled session is bound
    to it); the autouse fixture below closes it after the test.
    """
    state = build_state(ServeConfig(**config), log_stream=log if log is not None else io.StringIO())
    client = TestClient(create_app(state), raise_server_exceptions=False)
    client.__enter__()
    _OPEN.append(client)
    return client


@pytest.fixture(autouse=True)
def _close_clients() -> Iterator[None]:
    yield
    while _OPEN:
        _OPEN.pop().__exit__(None, None, None)


def log_lines(log: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in log.getvalue().splitlines()]


def assert_api_error(response: Any, status: int) -> dict[str, Any]:
    """OpenAI's error shape, exactly: the four fields, a string message, the status asked for."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    error = response.json()["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert isinstance(error["message"], str) and error["message"]
    assert error["type"] == "invalid_request_error" if status < 500 else isinstance(error["type"], str)
    return dict(error)


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeUpstream]:
    with fake_upstream() as upstream:
        yield upstream


# ---------------------------------------------------------------------------- 1. bad input


DEEP = b"[" * 100_000 + b"]" * 100_000
BAD_BODIES: list[tuple[str, bytes, str | None]] = [
    ("/v1/responses", b'{"model":"m","input":123}', "input"),
    ("/v1/responses", b'{"model":"m","input":"hi","temperature":NaN}', "temperature"),
    ("/v1/chat/completions", b'{"model":"m","messages":[{"role":"user","content":"hi"}],"temperature":Infinity}', "temperature"),
    ("/v1/chat/completions", b'{"model":"m","messages":[{"role":[],"content":"x"}]}', None),
    ("/v1/chat/completions", b'{"model":"m","messages":[{"role":{},"content":"x"}]}', None),
    ("/v1/chat/completions", b'{"model":"m","messages":[{"role":"user","content":"x"}],"response_format":{"type":{}}}', None),
    ("/v1/chat/completions", b'{"model":"m","messages":[{"role":"user","content":"x"}],"response_format":{"type":[]}}', None),
    ("/v1/responses", b'{"model":"m","input":"x","text":{"format":{"type":[]}}}', "text.format.type"),
    ("/v1/responses", b'{"model":"m","input":"x","text":{"format":{"type":{}}}}', "text.format.type"),
    ("/v1/responses", b'{"model":"m","input":' + DEEP + b"}", None),
    ("/v1/chat/completions", b'{"model":"m","messages":' + DEEP + b"}", None),
    ("/v1/responses", b'{"model":"m","input":"\\ud800"}', "input"),
    ("/v1/chat/completions", b'{"model":"m","messages":[{"role":"user","content":"\\udfff"}]}', "messages[0].content"),
    ("/v1/responses", b'{"model":"m","input":"x","max_output_tokens":' + b"9" * 5000 + b"}", "max_output_tokens"),
    ("/v1/responses", b'{"model":"m","input":"x","previous_response_id":[1]}', "previous_response_id"),
    ("/v1/responses", b"[1, 2]", None),
    ("/v1/responses", b"\xff\xfe not utf-8", None),
]


@pytest.mark.parametrize(("path", "raw", "param"), BAD_BODIES, ids=[f"{i}:{p}" for i, (p, _, _) in enumerate(BAD_BODIES)])
def test_bad_input_is_an_api_shaped_400_with_a_log_line(path: str, raw: bytes, param: str | None) -> None:
    log = io.StringIO()
    client = make_client(log)
    error = assert_api_error(client.post(path, content=raw), 400)
    if param is not None:
        assert error["param"] == param
    assert error["param"] is None or not error["param"].startswith("$"), "param is the API's style, without $."
    [line] = log_lines(log)
    assert line["status"] == 400 and line["path"] == path


@pytest.mark.parametrize("path", ["/v1/responses", "/v1/chat/completions"])
def test_param_is_the_api_style_on_both_endpoints(path: str) -> None:
    """A mapping problem's JSON path and the offline model's own checks name params alike."""
    client = make_client()
    body: dict[str, Any] = {"model": "m", "temperature": "hot"}
    body.update({"input": "x"} if path == "/v1/responses" else {"messages": [{"role": "user", "content": "x"}]})
    error = assert_api_error(client.post(path, json=body), 400)
    assert error["param"] == "temperature"


@pytest.mark.parametrize(("method", "path", "status"), [
    ("GET", "/v1/nope", 404), ("POST", "/v2/responses", 404), ("GET", "/v1/chat/completions", 405),
    ("PUT", "/v1/responses", 405), ("POST", "/v1/models", 405),
])
def test_unknown_paths_and_methods_answer_openai_error_json(method: str, path: str, status: int) -> None:
    log = io.StringIO()
    client = make_client(log)
    response = client.request(method, path)
    error = assert_api_error(response, status)
    assert path in error["message"]
    assert response.headers["x-request-id"]
    [line] = log_lines(log)
    assert (line["method"], line["path"], line["status"]) == (method, path, status)


def test_an_unexpected_exception_is_an_openai_shaped_500_without_traceback(capsys: pytest.CaptureFixture[str]) -> None:
    log = io.StringIO()
    client = make_client(log)

    async def boom(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("secret internal detail")

    _backend_of(client.app).send = boom
    response = client.post("/v1/responses", json={"model": "m", "input": "hi"})
    error = assert_api_error(response, 500)
    assert "secret internal detail" not in response.text and "Traceback" not in response.text
    assert error["code"] == "internal_error"
    assert log_lines(log)[-1]["status"] == 500
    assert "RuntimeError" in capsys.readouterr().err  # the server's own log keeps it


def _backend_of(app: Any) -> Any:
    """The backend the routes of an app built by ``create_app`` use."""
    endpoint = next(r.endpoint for r in app.routes if getattr(r, "path", "") == "/v1/responses")
    return endpoint.__self__.state.backend


@pytest.mark.slow
@pytest.mark.parametrize(("option", "value", "names"), [
    ("--store", "/no/such/dir/x.db", "--store"),
    ("--access-log", "/no/such/x.log", "--access-log"),
])
def test_unusable_store_or_access_log_is_exit_2_without_traceback(option: str, value: str, names: str) -> None:
    done = subprocess.run([sys.executable, "-m", "migrator.cli", "serve", "--port", "0", option, value],
                          capture_output=True, text=True, cwd=ROOT, timeout=30)
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    assert names in done.stderr and value in done.stderr


@pytest.mark.slow
def test_bad_input_in_a_real_process(tmp_path: Path) -> None:
    """The same, through uvicorn: 4xx JSON, one access-log line each, no traceback on stderr."""
    log = tmp_path / "access.log"
    with running_server(["--access-log", str(log)], stderr_path=tmp_path / "stderr") as server:
        import httpx

        for path, raw, _ in BAD_BODIES[:3] + BAD_BODIES[9:12]:
            response = httpx.post(server.root + path, content=raw, headers={"content-type": "application/json"}, timeout=20)
            assert_api_error(response, 400)
        assert_api_error(httpx.get(server.root + "/v1/unknown", timeout=20), 404)
    assert [r["status"] for r in read_jsonl(log)] == [400] * 6 + [404]
    assert "Traceback" not in server.stderr()


# ---------------------------------------------------------------------------- 2. losses reach the client

CHAT_LOSSY = {"model": "gpt-4.1", "messages": [{"role": "user", "content": "Tell me about Paris"}], "n": 3, "seed": 7,
              "logit_bias": {"1": 2}, "stop": ["zzz"]}
RESPONSES_LOSSY = {"model": "gpt-4.1", "input": "hi", "truncation": "auto", "reasoning": {"effort": "low", "summary": "auto"},
                   "tools": [{"type": "file_search", "vector_store_ids": ["vs_1"]},
                             {"type": "function", "name": "f", "parameters": {"type": "object", "properties": {}}}]}
RESPONSES_LOST = ["$.truncation", "$.tools[0]", "$.reasoning.summary"]


def _header_paths(value: str) -> tuple[int, list[str]]:
    count, _, rest = value.partition(";")
    return int(count), [p.strip() for p in rest.split(",") if p.strip()]


def test_offline_chat_serves_n_and_reports_the_other_losses() -> None:
    log = io.StringIO()
    client = make_client(log)
    response = client.post("/v1/chat/completions", json=CHAT_LOSSY)
    assert response.status_code == 200
    choices = response.json()["choices"]
    assert [c["index"] for c in choices] == [0, 1, 2]
    assert len({c["message"]["content"] for c in choices}) == 3, "each choice is its own answer"
    count, paths = _header_paths(response.headers["x-migrator-losses"])
    assert (count, sorted(paths)) == (3, ["$.logit_bias", "$.seed", "$.stop"])
    line = log_lines(log)[-1]
    assert line["losses"] == 3 and sorted(line["loss_paths"]) == ["$.logit_bias", "$.seed", "$.stop"]
    again = client.post("/v1/chat/completions", json=CHAT_LOSSY).json()["choices"]
    assert [c["message"]["content"] for c in again] == [c["message"]["content"] for c in choices], "deterministic"
    usage, one = response.json()["usage"], client.post("/v1/chat/completions", json={**CHAT_LOSSY, "n": 1}).json()["usage"]
    assert usage["prompt_tokens"] == one["prompt_tokens"], "the prompt is read once"
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]


def test_offline_chat_stream_has_n_choice_indexes_and_the_header() -> None:
    client = make_client()
    body = {**CHAT_LOSSY, "stream": True, "stream_options": {"include_usage": True}}
    response = client.post("/v1/chat/completions", json=body)
    assert response.status_code == 200
    assert _header_paths(response.headers["x-migrator-losses"])[0] == 3
    frames = [json.loads(line[6:]) for line in response.text.splitlines() if line.startswith("data: {")]
    indexes = {c["index"] for f in frames for c in f["choices"]}
    assert indexes == {0, 1, 2}
    finishes = [c["index"] for f in frames for c in f["choices"] if c.get("finish_reason")]
    assert sorted(finishes) == [0, 1, 2]
    usage = [f for f in frames if f.get("usage")]
    assert len(usage) == 1 and usage[0]["choices"] == [], "one usage chunk for all choices, at the end"
    counts = usage[0]["usage"]
    assert counts["total_tokens"] == counts["prompt_tokens"] + counts["completion_tokens"], "the prompt is read once"
    assert response.text.rstrip().endswith("data: [DONE]")


def test_offline_chat_n_out_of_range_and_empty_messages_are_400() -> None:
    client = make_client()
    assert assert_api_error(client.post("/v1/chat/completions", json={**CHAT_LOSSY, "n": 0}), 400)["param"] == "n"
    assert assert_api_error(client.post("/v1/chat/completions", json={**CHAT_LOSSY, "n": "3"}), 400)["param"] == "n"
    empty = {"model": "m", "messages": []}
    assert assert_api_error(client.post("/v1/chat/completions", json=empty), 400)["param"] == "messages"


def test_strict_answers_400_naming_every_loss() -> None:
    client = make_client(strict=True)
    error = assert_api_error(client.post("/v1/chat/completions", json=CHAT_LOSSY), 400)
    assert error["code"] == "unsupported_parameter" and error["param"] in ("seed", "logit_bias", "stop")
    for path in ("$.seed", "$.logit_bias", "$.stop"):
        assert path in error["message"]
    assert "$.n " not in error["message"], "the offline model serves n"
    exact = client.post("/v1/chat/completions", json={"model": "gpt-4.1", "messages": [{"role": "user", "content": "hi"}]})
    assert exact.status_code == 200 and exact.headers["x-migrator-losses"] == "0"


def test_bridge_responses_reports_losses_and_does_not_echo_them(fake: FakeUpstream) -> None:
    fake.reset()
    log = io.StringIO()
    client = make_client(log, upstream=fake.base_url)
    response = client.post("/v1/responses", json=RESPONSES_LOSSY)
    assert response.status_code == 200
    count, paths = _header_paths(response.headers["x-migrator-losses"])
    assert count == 3 and sorted(paths) == sorted(RESPONSES_LOST)
    body = response.json()
    assert [t["type"] for t in body["tools"]] == ["function"], "file_search was never offered upstream"
    assert body.get("truncation") != "auto" and (body.get("reasoning") or {}).get("summary") is None
    assert sorted(log_lines(log)[-1]["loss_paths"]) == sorted(RESPONSES_LOST)
    streamed = client.post("/v1/responses", json={**RESPONSES_LOSSY, "stream": True})
    assert streamed.status_code == 200 and _header_paths(streamed.headers["x-migrator-losses"])[0] == 3


def test_a_streams_answer_losses_reach_the_access_log(fake: FakeUpstream) -> None:
    """The header goes out before the answer exists; what the answer itself lost (an unknown
    finish_reason here) is known at its end, and the access-log line lists it with the request's."""
    fake.reset()
    fake.finish_reason = "weird"
    log = io.StringIO()
    client = make_client(log, upstream=fake.base_url)
    streamed = client.post("/v1/responses", json={**RESPONSES_LOSSY, "stream": True})
    assert streamed.status_code == 200 and "response.completed" in streamed.text
    paths = log_lines(log)[-1]["loss_paths"]
    assert "$.choices[0].finish_reason" in paths
    assert set(RESPONSES_LOST) <= set(paths)


def test_bridge_strict_refuses_before_calling_the_upstream(fake: FakeUpstream) -> None:
    fake.reset()
    client = make_client(upstream=fake.base_url, strict=True)
    error = assert_api_error(client.post("/v1/responses", json=RESPONSES_LOSSY), 400)
    assert all(path in error["message"] for path in RESPONSES_LOST)
    assert fake.calls == []


def test_losses_header_is_ascii_bounded_and_parseable() -> None:
    from migrator.mapping import Loss
    from migrator.server.losses import MAX_HEADER, header_value

    odd = [Loss('$.metadata["a,b;ü"]', "metadata", "dropped", "x")]
    value = header_value(odd)
    assert value == '1; $.metadata["a%2Cb%3B%C3%BC"]'
    many = [Loss(f"$.tools[{i}]", "tools", "unsupported", "x") for i in range(500)]
    value = header_value(many)
    assert len(value) <= MAX_HEADER and value.isascii() and value.startswith("500; $.tools[0], ") and value.endswith(", ...")
    assert header_value([]) == "0"


# ---------------------------------------------------------------------------- 3. no user sees another's data

KEY_A = {"authorization": "Bearer sk-user-a"}
KEY_B = {"authorization": "Bearer sk-user-b"}
ASK = {"model": "gpt-4.1", "input": "Remember the river"}


def test_stored_ids_are_minted_whatever_the_upstream_repeats(fake: FakeUpstream) -> None:
    """The fake upstream answers every request with ``"id": "chatcmpl-fake"``."""
    fake.reset()
    client = make_client(upstream=fake.base_url)
    a = client.post("/v1/responses", json={**ASK, "input": "I am A"}, headers=KEY_A).json()
    b = client.post("/v1/responses", json={**ASK, "input": "I am B"}, headers=KEY_A).json()
    assert a["id"] != b["id"]
    for made in (a, b):
        assert made["id"].startswith("resp_") and "fake" not in made["id"] and len(made["id"]) >= 5 + 32
    got_a = client.get(f"/v1/responses/{a['id']}", headers=KEY_A).json()
    assert got_a["id"] == a["id"]
    assert client.get(f"/v1/responses/{a['id']}/input_items", headers=KEY_A).json()["data"][0]["content"][0]["text"] == "I am A"
    follow = client.post("/v1/responses", json={**ASK, "input": "and?", "previous_response_id": a["id"]}, headers=KEY_A)
    sent = fake.calls[-1].body["messages"]
    assert follow.status_code == 200 and "I am A" in json.dumps(sent) and "I am B" not in json.dumps(sent)


def test_stream_events_carry_the_stored_id(fake: FakeUpstream) -> None:
    fake.reset()
    client = make_client(upstream=fake.base_url)
    streamed = client.post("/v1/responses", json={**ASK, "stream": True}, headers=KEY_A)
    events = [json.loads(line[6:]) for line in streamed.text.splitlines() if line.startswith("data: {")]
    ids = {e["response"]["id"] for e in events if "response" in e}
    assert len(ids) == 1 and events[-1]["type"] == "response.completed"
    [rid] = ids
    assert rid.startswith("resp_") and "fake" not in rid
    assert client.get(f"/v1/responses/{rid}", headers=KEY_A).status_code == 200


def test_another_credential_gets_404_everywhere(tmp_path: Path) -> None:
    store = str(tmp_path / "owned.sqlite")
    client = make_client(store=store)
    rid = client.post("/v1/responses", json=ASK, headers=KEY_A).json()["id"]
    for headers in (KEY_B, {}):
        assert_api_error(client.get(f"/v1/responses/{rid}", headers=headers), 404)
        assert_api_error(client.get(f"/v1/responses/{rid}/input_items", headers=headers), 404)
        assert_api_error(client.delete(f"/v1/responses/{rid}", headers=headers), 404)
        follow = client.post("/v1/responses", json={**ASK, "previous_response_id": rid}, headers=headers)
        assert assert_api_error(follow, 404)["param"] == "previous_response_id"
    assert client.get(f"/v1/responses/{rid}", headers=KEY_A).status_code == 200, "B's attempts changed nothing"
    anonymous = client.post("/v1/responses", json=ASK).json()["id"]
    assert client.get(f"/v1/responses/{anonymous}").status_code == 200, "no token: one anonymous owner"
    assert client.get(f"/v1/responses/{anonymous}", headers=KEY_A).status_code == 404
    # ownership survives a restart, and the file holds a hash, never the token
    again = make_client(store=store)
    assert again.get(f"/v1/responses/{rid}", headers=KEY_A).status_code == 200
    assert again.get(f"/v1/responses/{rid}", headers=KEY_B).status_code == 404
    assert again.post("/v1/responses", json={**ASK, "previous_response_id": rid}, headers=KEY_A).status_code == 200
    assert b"sk-user-a" not in Path(store).read_bytes()
    assert again.delete(f"/v1/responses/{rid}", headers=KEY_A).status_code == 200


def test_a_store_file_from_before_owners_is_migrated(tmp_path: Path) -> None:
    import sqlite3

    from migrator.server.store import ANONYMOUS, ResponseStore

    path = tmp_path / "old.sqlite"
    db = sqlite3.connect(path)
    db.executescript("CREATE TABLE responses (id TEXT PRIMARY KEY, created_at REAL NOT NULL, response TEXT NOT NULL, "
                     "input_items TEXT NOT NULL, context TEXT NOT NULL);")
    db.execute("INSERT INTO responses VALUES ('resp_old', 1e12, '{\"id\": \"resp_old\"}', '[]', '[]')")
    db.commit()
    db.close()
    store = ResponseStore(str(path))
    assert store.get("resp_old", ANONYMOUS) is None, "an unowned row is served to no one"
    store.put({"id": "resp_new", "output": []}, [], [], ANONYMOUS)
    assert store.get("resp_new", ANONYMOUS) == {"id": "resp_new", "output": []}
    store.close()


def test_passthrough_leaves_state_to_a_responses_upstream(fake: FakeUpstream) -> None:
    fake.reset()
    log = io.StringIO()
    client = make_client(log, upstream=fake.base_url, upstream_api="responses")
    first = client.post("/v1/responses", json=ASK, headers=KEY_A)
    assert first.status_code == 200 and first.json()["id"] == "resp_up_1", "the upstream's own id, untouched"
    follow = client.post("/v1/responses", json={**ASK, "previous_response_id": "resp_up_1"}, headers=KEY_A)
    assert follow.status_code == 200, follow.text
    assert fake.calls[-1].body == {**ASK, "previous_response_id": "resp_up_1"}, "sent as the client wrote it"
    got = client.get("/v1/responses/resp_up_1", headers=KEY_A)
    assert got.status_code == 200 and got.json()["id"] == "resp_up_1"
    assert (fake.calls[-1].path, fake.calls[-1].body) == ("/v1/responses/resp_up_1", "GET")
    assert client.delete("/v1/responses/resp_up_2", headers=KEY_A).json()["deleted"] is True
    missing = client.get("/v1/responses/resp_up_2", headers=KEY_A)
    assert assert_api_error(missing, 404)["code"] == "not_found", "the upstream's own 404"
    assert all(line["direction"] == "native" for line in log_lines(log))


def test_a_timeout_is_a_deadline_and_never_retried(fake: FakeUpstream) -> None:
    fake.reset()
    fake.mode, fake.hang_seconds = "hang", 3.0
    client = make_client(upstream=fake.base_url, upstream_timeout=0.5, retries=2)
    error = assert_api_error(client.post("/v1/responses", json=ASK), 504)
    assert error["code"] == "upstream_timeout"
    assert len(fake.calls) == 1, "the POST is sent once"


def test_no_retry_waits_past_the_deadline(fake: FakeUpstream) -> None:
    fake.reset()
    fake.mode, fake.fail_first, fake.retry_after = "429-then-ok", 1, "30"
    client = make_client(upstream=fake.base_url, upstream_timeout=2, retries=2)
    response = client.post("/v1/responses", json=ASK)
    assert response.status_code == 429 and response.json()["error"]["code"] == "rate_limit_exceeded"
    assert len(fake.calls) == 1, "a Retry-After beyond the deadline answers the 429 at once"
    fake.reset()
    fake.mode, fake.fail_first, fake.retry_after = "429-then-ok", 1, "0.05"
    assert client.post("/v1/responses", json=ASK).status_code == 200 and len(fake.calls) == 2, "within it: retried"


# ---------------------------------------------------------------------------- 4. JSON answers to a stream request


def test_a_json_answer_to_a_stream_request_is_streamed_and_said(fake: FakeUpstream) -> None:
    from tests.serve_helpers import FAKE_TEXT

    fake.reset()
    fake.mode = "json-for-stream"
    log = io.StringIO()
    client = make_client(log, upstream=fake.base_url)
    streamed = client.post("/v1/responses", json={**ASK, "stream": True}, headers=KEY_A)
    assert streamed.status_code == 200 and "JSON" in streamed.headers["x-migrator-note"]
    events = [json.loads(line[6:]) for line in streamed.text.splitlines() if line.startswith("data: {")]
    assert events[0]["type"] == "response.created" and events[-1]["type"] == "response.completed"
    assert "".join(e["delta"] for e in events if e["type"] == "response.output_text.delta") == FAKE_TEXT
    assert [e["sequence_number"] for e in events] == list(range(len(events)))
    rid = events[-1]["response"]["id"]
    assert client.get(f"/v1/responses/{rid}", headers=KEY_A).json()["output"][0]["content"][0]["text"] == FAKE_TEXT
    assert "JSON" in log_lines(log)[-2]["note"]
    chat = client.post("/v1/chat/completions", json={"model": "m", "messages": [{"role": "user", "content": "hi"}],
                                                     "stream": True, "stream_options": {"include_usage": True}})
    frames = [json.loads(line[6:]) for line in chat.text.splitlines() if line.startswith("data: {")]
    assert "".join(c["delta"].get("content") or "" for f in frames for c in f["choices"]) == FAKE_TEXT
    assert frames[-1]["usage"]["total_tokens"] == 6 and chat.text.rstrip().endswith("data: [DONE]")


def test_a_json_error_to_a_stream_request_is_a_502_naming_it(fake: FakeUpstream) -> None:
    fake.reset()
    fake.mode = "error-json-for-stream"
    client = make_client(upstream=fake.base_url)
    response = client.post("/v1/responses", json={**ASK, "stream": True})
    assert response.status_code == 502
    error = response.json()["error"]
    assert error["code"] == "upstream_not_sse" and "not an event stream" in error["message"]
    assert "streaming is off on this gateway" in error["message"]


def test_a_failure_after_the_first_byte_ends_the_stream_with_an_error_frame(monkeypatch: pytest.MonkeyPatch,
                                                                            capsys: pytest.CaptureFixture[str]) -> None:
    """The status line is gone by then: the client gets an error frame of its dialect, never a cut connection."""
    import migrator.server.app as app_module

    class Breaking(app_module.StreamTranslator):
        def feed(self, frame: Any) -> list[dict[str, Any]]:
            if self._frames >= 5:
                raise RuntimeError("secret internal detail")
            return super().feed(frame)

    monkeypatch.setattr(app_module, "StreamTranslator", Breaking)
    client = make_client()
    chat = client.post("/v1/chat/completions", json={"model": "m", "messages": [{"role": "user", "content": "hi"}],
                                                     "stream": True})
    frames = [json.loads(line[6:]) for line in chat.text.splitlines() if line.startswith("data: {")]
    assert chat.status_code == 200 and frames[-1]["error"]["code"] == "internal_error"
    assert "secret internal detail" not in chat.text and "[DONE]" not in chat.text
    assert "RuntimeError" in capsys.readouterr().err
