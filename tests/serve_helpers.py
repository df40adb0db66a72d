"""Helpers for the ``migrator serve`` tests: server subprocesses and a scriptable fake upstream.

* :class:`ServerProcess` runs ``python -m migrator.cli serve --host 127.0.0.1 --port 0 ...``,
  reads the ``listening on http://HOST:PORT`` ready line with a timeout (a reader
  thread keeps draining stdout), sends stderr to a file so it can be searched, and
  stops the process at teardown (SIGTERM, then SIGKILL).
* :class:`FakeUpstream` is a tiny OpenAI-compatible upstream (a Starlette app run by
  uvicorn in a thread on a free loopback port) whose behaviour a test sets
  (:attr:`FakeUpstream.mode`): answer normally, 429 with ``Retry-After`` first,
  500 always, hang before the headers, stall after the headers, or stream slowly
  and record whether its stream generator was closed before it finished.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import openai
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

READY_RE = re.compile(r"migrator serve: listening on http://([^\s]+):(\d+)")
READY_TIMEOUT = 15.0
ROOT = Path(__file__).resolve().parent.parent


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(predicate: Any, timeout: float = 5.0, interval: float = 0.02) -> bool:
    """Poll ``predicate`` until it is true or ``timeout`` passes; returns its last value."""
    deadline = time.monotonic() + timeout
    while True:
        if predicate():
            return True
        if time.monotonic() >= deadline:
            return bool(predicate())
        time.sleep(interval)


class ServerProcess:
    """One ``migrator serve`` subprocess on a free loopback port."""

    def __init__(self, args: list[str], *, stderr_path: Path, env: dict[str, str] | None = None) -> None:
        self.args = list(args)
        self.stderr_path = stderr_path
        self.env = {**os.environ, **(env or {})}
        self.proc: subprocess.Popen[bytes] | None = None
        self.port = 0
        self.stdout_lines: list[str] = []
        self._lines: queue.Queue[str | None] = queue.Queue()

    # ------------------------------------------------------------ lifecycle

    def start(self) -> ServerProcess:
        command = [sys.executable, "-m", "migrator.cli", "serve", "--host", "127.0.0.1", "--port", "0", *self.args]
        with open(self.stderr_path, "ab") as err:
            self.proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=err, stdin=subprocess.DEVNULL,
                                         cwd=ROOT, env=self.env)
        threading.Thread(target=self._drain, daemon=True).start()
        return self

    def _drain(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        for raw in self.proc.stdout:
            line = raw.decode("utf-8", "replace")
            self.stdout_lines.append(line)
            self._lines.put(line)
        self._lines.put(None)

    def wait_ready(self, timeout: float = READY_TIMEOUT) -> ServerProcess:
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self.stop()
                raise RuntimeError(f"migrator serve {self.args} printed no ready line within {timeout:g} s; "
                                   f"stderr: {self.stderr()[-2000:]}")
            try:
                line = self._lines.get(timeout=remaining)
            except queue.Empty:
                continue
            if line is None:
                code = self.proc.wait(5) if self.proc else None
                raise RuntimeError(f"migrator serve {self.args} exited ({code}) before it was ready; "
                                   f"stderr: {self.stderr()[-2000:]}")
            match = READY_RE.search(line)
            if match:
                self.port = int(match.group(2))
                return self

    def signal(self, sig: int = signal.SIGTERM) -> None:
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)

    def wait(self, timeout: float = 10.0) -> int:
        assert self.proc is not None
        return self.proc.wait(timeout)

    def stop(self) -> int | None:
        """SIGTERM, then SIGKILL after 5 s; returns the exit status."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            end(self.proc)
        elif self.proc.stdout is not None:
            self.proc.stdout.close()
        return self.proc.returncode

    @property
    def returncode(self) -> int | None:
        return None if self.proc is None else self.proc.poll()

    # ------------------------------------------------------------ addresses and clients

    @property
    def root(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def base_url(self) -> str:
        return f"{self.root}/v1"

    def client(self, api_key: str = "sk-test", **kwargs: Any) -> openai.OpenAI:
        kwargs.setdefault("max_retries", 0)
        kwargs.setdefault("timeout", 20.0)
        return openai.OpenAI(api_key=api_key, base_url=self.base_url, **kwargs)

    def async_client(self, api_key: str = "sk-test", **kwargs: Any) -> openai.AsyncOpenAI:
        kwargs.setdefault("max_retries", 0)
        kwargs.setdefault("timeout", 20.0)
        return openai.AsyncOpenAI(api_key=api_key, base_url=self.base_url, **kwargs)

    def stderr(self) -> str:
        try:
            return self.stderr_path.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return ""

    def __repr__(self) -> str:
        return f"ServerProcess(port={self.port}, args={self.args})"


@contextlib.contextmanager
def running_server(args: list[str], *, stderr_path: Path, env: dict[str, str] | None = None) -> Iterator[ServerProcess]:
    server = ServerProcess(args, stderr_path=stderr_path, env=env).start()
    try:
        server.wait_ready()
        yield server
    finally:
        server.stop()


# ---------------------------------------------------------------------------- the fake upstream

FAKE_TEXT = "fake upstream answer"
UPSTREAM_500_BODY = {"error": {"message": "the fake upstream broke", "type": "server_error", "param": None, "code": "fake_boom"}}
UPSTREAM_429_BODY = {"error": {"message": "slow down", "type": "rate_limit_error", "param": None, "code": "rate_limit_exceeded"}}


def _completion(model: str) -> dict[str, Any]:
    return {
        "id": "chatcmpl-fake", "object": "chat.completion", "created": 1_700_000_000, "model": model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": FAKE_TEXT, "refusal": None},
                     "finish_reason": "stop", "logprobs": None}],
        "usage": {"prompt_tokens": 3, "completion_tokens": 3, "total_tokens": 6},
    }


def _chunk(model: str, delta: dict[str, Any], finish: str | None = None) -> bytes:
    frame = {"id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": 1_700_000_000, "model": model,
             "choices": [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}]}
    return b"data: " + json.dumps(frame).encode() + b"\n\n"


@dataclass
class UpstreamCall:
    path: str
    headers: dict[str, str]
    body: Any


@dataclass
class FakeUpstream:
    """A chat-completions upstream whose behaviour the test sets through ``mode``.

    Modes: ``ok``; ``429-then-ok`` (the first ``fail_first`` calls get 429 with
    ``Retry-After: retry_after``); ``500`` (always); ``hang`` (no headers for
    ``hang_seconds``); ``stall-body`` (headers at once, the body never);
    ``slow-stream`` (a stream request gets ``stream_chunks`` chunks ``stream_interval``
    apart; ``stream_closed_early`` is set if the generator is closed before its end);
    ``json-for-stream`` (a stream request gets the whole completion as JSON);
    ``error-json-for-stream`` (a stream request gets a 200 JSON error body).

    It also serves a minimal Responses API (``/v1/responses``, GET/DELETE by id) with its
    own state, for passthrough tests: every ``id`` it mints is ``resp_up_<n>``.
    """

    mode: str = "ok"
    retry_after: str = "0.3"
    fail_first: int = 1
    hang_seconds: float = 8.0
    stream_chunks: int = 200
    stream_interval: float = 0.05
    finish_reason: str = "stop"
    calls: list[UpstreamCall] = field(default_factory=list)
    stored: dict[str, Any] = field(default_factory=dict)
    stream_started: threading.Event = field(default_factory=threading.Event)
    stream_closed_early: threading.Event = field(default_factory=threading.Event)
    stream_finished: threading.Event = field(default_factory=threading.Event)
    port: int = 0
    _server: uvicorn.Server | None = None
    _thread: threading.Thread | None = None

    def reset(self) -> None:
        self.mode = "ok"
        self.retry_after = "0.3"
        self.fail_first = 1
        self.hang_seconds = 8.0
        self.finish_reason = "stop"
        self.calls.clear()
        self.stored.clear()
        self.stream_started.clear()
        self.stream_closed_early.clear()
        self.stream_finished.clear()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    # ------------------------------------------------------------ the app

    def app(self) -> Starlette:
        return Starlette(routes=[
            Route("/v1/chat/completions", self._chat, methods=["POST"]),
            Route("/v1/models", self._models, methods=["GET"]),
            Route("/v1/responses", self._responses, methods=["POST"]),
            Route("/v1/responses/{rid}", self._response_by_id, methods=["GET", "DELETE"]),
        ])

    async def _responses(self, request: Request) -> Response:
        body = json.loads(await request.body())
        self.calls.append(UpstreamCall(request.url.path, dict(request.headers), body))
        prev = body.get("previous_response_id")
        if prev is not None and prev not in self.stored:
            return JSONResponse({"error": {"message": f"Previous response with id '{prev}' not found.",
                                           "type": "invalid_request_error", "param": "previous_response_id",
                                           "code": "previous_response_not_found"}}, status_code=404)
        rid = f"resp_up_{len(self.stored) + 1}"
        response = {"id": rid, "object": "response", "created_at": 1_700_000_000, "status": "completed",
                    "model": body.get("model"), "previous_response_id": prev, "output": [
                        {"type": "message", "id": f"msg_{rid}", "status": "completed", "role": "assistant",
                         "content": [{"type": "output_text", "text": FAKE_TEXT, "annotations": []}]}]}
        self.stored[rid] = response
        return JSONResponse(response)

    async def _response_by_id(self, request: Request) -> Response:
        rid = request.path_params["rid"]
        self.calls.append(UpstreamCall(request.url.path, dict(request.headers), request.method))
        if rid not in self.stored:
            return JSONResponse({"error": {"message": f"No response found with id '{rid}'.", "type": "invalid_request_error",
                                           "param": None, "code": "not_found"}}, status_code=404)
        if request.method == "DELETE":
            del self.stored[rid]
            return JSONResponse({"id": rid, "object": "response.deleted", "deleted": True})
        return JSONResponse(self.stored[rid])

    async def _models(self, request: Request) -> Response:
        return JSONResponse({"object": "list", "data": [{"id": "fake-model", "object": "model", "created": 0, "owned_by": "fake"}]})

    async def _chat(self, request: Request) -> Response:
        raw = await request.body()
        try:
            body = json.loads(raw)
        except ValueError:
            body = raw.decode("utf-8", "replace")
        self.calls.append(UpstreamCall(request.url.path, dict(request.headers), body))
        model = body.get("model", "fake-model") if isinstance(body, dict) else "fake-model"
        streaming = isinstance(body, dict) and body.get("stream") is True
        mode = self.mode
        if mode == "429-then-ok" and len(self.calls) <= self.fail_first:
            return JSONResponse(UPSTREAM_429_BODY, status_code=429, headers={"retry-after": self.retry_after})
        if mode == "500":
            return JSONResponse(UPSTREAM_500_BODY, status_code=500)
        if mode == "hang":
            deadline = time.monotonic() + self.hang_seconds
            while time.monotonic() < deadline and not await request.is_disconnected():
                await asyncio.sleep(0.05)
        if mode == "stall-body":
            return StreamingResponse(self._stall(), media_type="application/json")
        if streaming and mode == "json-for-stream":
            return JSONResponse(_completion(model))
        if streaming and mode == "error-json-for-stream":
            return JSONResponse({"error": {"message": "streaming is off on this gateway", "type": "invalid_request_error",
                                           "param": "stream", "code": None}})
        if streaming:
            return StreamingResponse(self._stream(model), media_type="text/event-stream")
        return JSONResponse(_completion(model))

    async def _stall(self) -> AsyncIterator[bytes]:
        await asyncio.sleep(self.hang_seconds)
        yield b"{}"

    async def _stream(self, model: str) -> AsyncIterator[bytes]:
        slow = self.mode == "slow-stream"
        count = self.stream_chunks if slow else 3
        finished = False
        self.stream_started.set()
        try:
            yield _chunk(model, {"role": "assistant", "content": ""})
            for i in range(count):
                if slow:
                    await asyncio.sleep(self.stream_interval)
                yield _chunk(model, {"content": f"w{i} "})
            yield _chunk(model, {}, self.finish_reason)
            usage = {"id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": 1_700_000_000, "model": model,
                     "choices": [], "usage": {"prompt_tokens": 3, "completion_tokens": count, "total_tokens": 3 + count}}
            yield b"data: " + json.dumps(usage).encode() + b"\n\n"
            yield b"data: [DONE]\n\n"
            finished = True
        finally:
            if finished:
                self.stream_finished.set()
            else:
                self.stream_closed_early.set()

    # ------------------------------------------------------------ lifecycle

    def start(self) -> FakeUpstream:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        sock.listen(128)
        self.port = int(sock.getsockname()[1])
        config = uvicorn.Config(self.app(), log_level="warning", access_log=False, lifespan="off", timeout_graceful_shutdown=1)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [sock]}, daemon=True)
        self._thread.start()
        if not wait_for(lambda: self._server is not None and self._server.started, timeout=READY_TIMEOUT):
            raise RuntimeError("the fake upstream did not start")
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(5)


@contextlib.contextmanager
def fake_upstream() -> Iterator[FakeUpstream]:
    fake = FakeUpstream().start()
    try:
        yield fake
    finally:
        fake.stop()


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """Every line of an access log, parsed; a line that is not one JSON object fails the test."""
    records = []
    for line in path.read_text(encoding="utf-8").splitlines():
        value = json.loads(line)
        assert isinstance(value, dict), line
        records.append(value)
    return records


def end(proc: subprocess.Popen[Any]) -> None:
    """Wait 5 s for a process asked to end, then kill it; close its output pipe."""
    try:
        proc.wait(5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)
    if proc.stdout is not None:
        proc.stdout.close()
