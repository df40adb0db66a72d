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


def make_client(log: io.StringIO | None = None, **config: Any) -> TestClient:
    """An in-process server (offline unless ``upstream=`` is given) writing its access log to ``log``."""
    state = build_state(ServeConfig(**config), log_stream=log if log is not None else io.StringIO())
    return TestClient(create_app(state), raise_server_exceptions=False)


def log_lines(log: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in log.getvalue().splitlines()]


def assert_api_error(response: Any, status: int) -> dict[str, Any]:
    """OpenAI's error shape, exactly: the four fields, a string message, the status asked for."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    error = response.json()["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert isinstance(error["message"], str) and error["message"]
    assert error["type"] == ("invalid_request_error" if status < 500 else "server_error")
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
