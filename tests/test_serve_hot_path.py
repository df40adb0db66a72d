"""What the cheaper bridge path keeps exactly as it was: the stored answer, ``store: false``, the
access-log line, request ids, and the routes the two POST endpoints skip (in-process, a fake upstream)."""

from __future__ import annotations

import dataclasses
import io
import json
import re
import time
from collections.abc import Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from migrator.server.app import ServerState, create_app
from migrator.server.logs import AccessRecord, line_of
from migrator.server.run import ServeConfig, build_state
from tests.serve_helpers import FAKE_TEXT, FakeUpstream, fake_upstream

LOG_KEYS = ["request_id", "method", "path", "endpoint", "direction", "status", "upstream_status", "latency_ms", "ttft_ms",
            "tokens", "losses", "loss_paths", "time"]


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeUpstream]:
    with fake_upstream() as upstream:
        yield upstream


@pytest.fixture
def bridge(fake: FakeUpstream) -> Iterator[tuple[TestClient, ServerState, io.StringIO]]:
    fake.reset()
    log = io.StringIO()
    state = build_state(ServeConfig(upstream=fake.base_url, retries=0), log_stream=log)
    with TestClient(create_app(state), raise_server_exceptions=False) as client:
        yield client, state, log


def _rows(state: ServerState) -> int:
    (count,) = state.store._db.execute("SELECT COUNT(*) FROM responses").fetchone()
    return int(count)


def test_the_stored_response_is_the_answer_the_client_got(bridge: tuple[TestClient, ServerState, io.StringIO]) -> None:
    client, state, _ = bridge
    body = {"model": "m", "input": "hi", "metadata": {"note": "é ✓ \u2028 \"quoted\""}, "temperature": 0.5}
    answer = client.post("/v1/responses", json=body)
    assert answer.status_code == 200 and answer.headers["content-type"] == "application/json"
    sent = answer.json()
    assert sent["output"][0]["content"][0]["text"] == FAKE_TEXT and sent["metadata"] == body["metadata"]
    stored = client.get(f"/v1/responses/{sent['id']}")
    assert stored.status_code == 200 and stored.json() == sent  # encoded once, for the client and the row alike
    # the row holds the very text the client was sent
    (row,) = state.store._db.execute("SELECT response FROM responses WHERE id = ?", (sent["id"],)).fetchone()
    assert row.encode("utf-8") == answer.content


def test_store_false_answers_the_same_and_writes_no_row(bridge: tuple[TestClient, ServerState, io.StringIO]) -> None:
    client, state, _ = bridge
    before = _rows(state)
    kept = client.post("/v1/responses", json={"model": "m", "input": "hi"}).json()
    assert _rows(state) == before + 1
    unkept = client.post("/v1/responses", json={"model": "m", "input": "hi", "store": False}).json()
    assert _rows(state) == before + 1
    assert client.get(f"/v1/responses/{unkept['id']}").status_code == 404
    varying = {"id", "created_at", "store"}
    assert unkept["store"] is False and kept["store"] is True
    assert {k: v for k, v in kept.items() if k not in varying} == {k: v for k, v in unkept.items() if k not in varying}
    streamed = client.post("/v1/responses", json={"model": "m", "input": "hi", "store": False, "stream": True})
    assert streamed.status_code == 200 and "response.completed" in streamed.text
    assert _rows(state) == before + 1


def test_the_access_log_line_of_the_hot_path_is_unchanged(bridge: tuple[TestClient, ServerState, io.StringIO]) -> None:
    client, _, log = bridge
    answer = client.post("/v1/responses", json={"model": "m", "input": "hi"})
    line = json.loads(log.getvalue().splitlines()[-1])
    assert list(line) == LOG_KEYS
    assert re.fullmatch(r"req_[0-9a-f]{32}", line["request_id"]) and line["request_id"] == answer.headers["x-request-id"]
    assert {k: line[k] for k in LOG_KEYS if k not in ("request_id", "latency_ms", "time")} == {
        "method": "POST", "path": "/v1/responses", "endpoint": "responses", "direction": "responses→chat", "status": 200,
        "upstream_status": 200, "ttft_ms": None, "tokens": 6, "losses": 0, "loss_paths": []}
    assert isinstance(line["latency_ms"], float) and abs(line["time"] - time.time()) < 60
    client.post("/v1/chat/completions", json={"model": "m", "messages": [{"role": "user", "content": "hi"}]},
                headers={"x-request-id": "req-mine"})
    line = json.loads(log.getvalue().splitlines()[-1])
    assert (line["request_id"], line["path"], line["endpoint"], line["direction"]) == (
        "req-mine", "/v1/chat/completions", "chat.completions", "native")


def test_a_log_line_holds_what_dataclasses_asdict_gave() -> None:
    """The line is written field by field now; it must say exactly what the asdict-based writer said."""
    record = AccessRecord(request_id="req_1", method="POST", path="/v1/responses", endpoint="responses",
                          direction="responses→chat", status=200, upstream_status=200, tokens=9, note="said so")
    record.loss_paths += ["$.truncation", "$.tools[0]"]
    record.losses = 3
    record.first_token()
    record.finish()
    for rec in (record, dataclasses.replace(record, note=None, loss_paths=[])):
        old = dataclasses.asdict(rec)
        del old["started"]
        if old["note"] is None:
            del old["note"]
        new = line_of(rec)
        assert abs(new.pop("time") - time.time()) < 60
        assert list(new) == list(old) and new == old


def test_other_methods_and_paths_still_go_through_the_router(bridge: tuple[TestClient, ServerState, io.StringIO]) -> None:
    client, _, log = bridge
    wrong_method = client.get("/v1/chat/completions")
    assert wrong_method.status_code == 405 and wrong_method.json()["error"]["code"] == "method_not_allowed"
    unknown = client.post("/v1/responses/x/y/z", json={})
    assert unknown.status_code in (404, 405) and unknown.json()["error"]["type"] == "invalid_request_error"
    lines = [json.loads(x) for x in log.getvalue().splitlines()]
    assert [(x["method"], x["path"], x["status"]) for x in lines[-2:]] == [
        ("GET", "/v1/chat/completions", 405), ("POST", "/v1/responses/x/y/z", unknown.status_code)]
    assert client.get("/health").json()["mode"] == "bridge"


def test_minted_request_ids_differ_and_reach_the_upstream(bridge: tuple[TestClient, ServerState, io.StringIO],
                                                         fake: FakeUpstream) -> None:
    client, _, _ = bridge
    ids: list[Any] = [client.post("/v1/responses", json={"model": "m", "input": "hi"}).headers["x-request-id"] for _ in range(3)]
    assert len(set(ids)) == 3 and all(re.fullmatch(r"req_[0-9a-f]{32}", i) for i in ids)
    assert [c.headers["x-request-id"] for c in fake.calls[-3:]] == ids
