"""Sending a replay run's calls: retries, rate limits and timeouts, and every outcome an Exchange.

The harness must push ~900 requests/s from one core, so the wire is migrator's own HTTP/1.1 pool
(migrator/transport/http1.py, ~45 µs of CPU an exchange; httpx costs about ten times that). A
failed call is data for the report, not an exception: :meth:`BaseSender.send` turns every server
or network trouble into an ErrorFacts and lets only cancellation through.

Retries follow what OpenAI's own clients do, with the attempts counted so the report can show them:
429, 408, 409 and the overload 5xx (500, 502, 503, 504, 529), timeouts and dropped connections are
retried with exponential backoff and full jitter (0.5 s doubling, at most 30 s), and a
``Retry-After`` / ``retry-after-ms`` the server sends replaces the guess (at most 60 s). A 429 that
says ``insufficient_quota`` is final: no wait makes credit appear. The backoff sleeps outside the
concurrency slot, so a throttled call does not hold back the others.

The rate limit is a smooth schedule (one start every 60/rpm seconds, no burst), taken inside the
slot, so calls released together still start spaced.
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from types import TracebackType
from typing import Any, Protocol

from ..transport.http1 import HopError, HopTimeout, Pool
from .answers import error_facts, is_quota, json_answer
from .model import Call, ErrorFacts, Exchange, StreamFacts
from .secrets import Redactor
from .sse_reader import StreamReader

RETRY_STATUSES = frozenset({408, 409, 429, 500, 502, 503, 504, 529})
BACKOFF_BASE = 0.5
BACKOFF_CAP = 30.0
RETRY_AFTER_CAP = 60.0

Sleep = Callable[[float], Awaitable[Any]]
_JSON = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode


class Recorder(Protocol):
    """Where a sender reports each attempt's request and answer (cassette.CassetteWriter)."""

    def record(self, request: dict[str, Any], response: dict[str, Any] | None, failure: ErrorFacts | None) -> None: ...


class Wired:
    """One attempt as the wire gave it: an answer (whole body or a read stream), or a failure before one."""

    __slots__ = ("failure", "final", "headers", "raw", "result", "status", "total_ms")

    def __init__(self, status: int | None, headers: Mapping[str, str], raw: bytes | None, result: Any,
                 total_ms: float, failure: ErrorFacts | None = None, final: bool = False) -> None:
        self.final = final  # a failure no retry can mend (a request a cassette does not hold)
        self.status = status
        self.headers = headers
        self.raw = raw
        self.result = result  # a StreamResult when the body was read as a stream
        self.total_ms = total_ms
        self.failure = failure


def reads_as_stream(streaming: bool, status: int, headers: Mapping[str, str]) -> bool:
    """A stream was asked for and a 2xx came that is not plain JSON (servers label SSE loosely)."""
    return streaming and 200 <= status < 300 and not headers.get("content-type", "").startswith("application/json")


def retry_after(headers: Mapping[str, str], now: Callable[[], float] = time.time) -> float | None:
    """The server's own wait, in seconds (``retry-after-ms``, then ``Retry-After`` as seconds or a date)."""
    value = headers.get("retry-after-ms")
    if value is not None:
        try:
            return min(max(float(value) / 1000, 0.0), RETRY_AFTER_CAP)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        seconds = when.timestamp() - now()
    if seconds != seconds:  # NaN
        return None
    return min(max(seconds, 0.0), RETRY_AFTER_CAP)


class RateLimiter:
    """Starts spaced 60/rpm seconds apart: a token bucket holding one token, so never a burst."""

    def __init__(self, rpm: float, clock: Callable[[], float], sleep: Sleep) -> None:
        if rpm <= 0:
            raise ValueError(f"requests per minute must be positive, got {rpm}")
        self.interval = 60.0 / rpm
        self.clock = clock
        self.sleep = sleep
        self.next_at = -float("inf")

    async def wait(self) -> None:
        now = self.clock()
        at = max(now, self.next_at)
        self.next_at = at + self.interval  # claimed before awaiting: the next caller queues behind it
        if at > now:
            await self.sleep(at - now)


class BaseSender:
    """The retry loop and the reading of answers; subclasses supply one attempt on their wire."""

    def __init__(self, api_key: str | None, *, max_attempts: int, sleep: Sleep = asyncio.sleep,
                 rand: Callable[[], float] = random.random) -> None:
        if max_attempts < 1:
            raise ValueError(f"max_attempts must be at least 1, got {max_attempts}")
        self.max_attempts = max_attempts
        self.redactor = Redactor([api_key])
        self._sleep = sleep
        self._rand = rand

    async def send(self, call: Call) -> Exchange:
        """The call's outcome; ``ttft_ms``/``total_ms`` are the last attempt's (backoff waits are not latency)."""
        body = call["body"]
        streaming = body.get("stream") is True
        try:
            data = _JSON(body).encode()
        except (ValueError, TypeError) as exc:
            failure: ErrorFacts = {"kind": "protocol", "status": None, "type": None, "code": None,
                                   "message": self.redactor.text(f"the body cannot be sent as JSON: {exc}")}
            return _exchange(call, None, None, None, failure, None, 0.0, 1)
        attempts = 0
        while True:
            attempts += 1
            wired = await self._attempt(call, data, streaming)
            exchange, retry = self._interpret(call, wired, attempts)
            if not retry or attempts >= self.max_attempts:
                return exchange
            wait = retry_after(wired.headers) if wired.status is not None else None
            if wait is None:
                wait = self._rand() * min(BACKOFF_CAP, BACKOFF_BASE * 2 ** (attempts - 1))
            await self._sleep(wait)

    async def _attempt(self, call: Call, data: bytes, streaming: bool) -> Wired:
        raise NotImplementedError

    def _interpret(self, call: Call, wired: Wired, attempts: int) -> tuple[Exchange, bool]:
        """The Exchange an attempt makes, and whether it is worth another."""
        status = wired.status
        if wired.failure is not None and status is None:
            failure = wired.failure
            failure["message"] = self.redactor.text(failure["message"])
            return _exchange(call, None, None, None, failure, None, wired.total_ms, attempts), not wired.final
        assert status is not None
        result = wired.result
        stream: StreamFacts | None = None
        ttft: float | None = None
        error: ErrorFacts | None
        if result is not None:
            body, stream, ttft, error = result.body, result.facts, result.ttft_ms, result.error
        elif wired.failure is not None:  # the head came, then the body broke off
            body, error = None, wired.failure
        elif 200 <= status < 300:
            body, error = json_answer(status, self.redactor.answer(wired.raw or b""))
        else:
            body, error = None, error_facts(status, wired.raw or b"")
        retry = False
        if error is not None:
            error["message"] = self.redactor.text(error["message"])
            if error["kind"] in ("timeout", "connection"):
                retry = True
            elif status in RETRY_STATUSES and error["status"] == status:
                retry = not is_quota(error)
            should = wired.headers.get("x-should-retry")
            if should == "true" or should == "false":
                retry = should == "true" and not is_quota(error)
        return _exchange(call, status, body, stream, error, ttft, wired.total_ms, attempts), retry


def _exchange(call: Call, status: int | None, body: Any, stream: StreamFacts | None, error: ErrorFacts | None,
              ttft: float | None, total_ms: float, attempts: int) -> Exchange:
    return {"arm": call["arm"], "sample": call["sample"], "path": call["path"], "status": status,
            "body": None if error is not None else body, "stream": stream, "error": error, "ttft_ms": ttft,
            "total_ms": total_ms, "attempts": attempts, "cached": False}


class Sender(BaseSender):
    """Sends Calls to one server: ``async with Sender(url, key, …) as sender: await sender.send(call)``.

    ``timeout`` bounds each attempt whole (a stream included); ``stall_timeout`` (default: ``timeout``)
    bounds a stream's silence. ``sleep``, ``clock`` and ``rand`` are there so tests can fake time.
    The base URL may end in ``/v1`` (the SDK's convention) or not: Call paths carry ``/v1`` once.
    """

    def __init__(self, base_url: str, api_key: str | None, *, concurrency: int, rpm: float | None, timeout: float,
                 max_attempts: int = 6, recorder: Recorder | None = None, stall_timeout: float | None = None,
                 sleep: Sleep = asyncio.sleep, clock: Callable[[], float] = time.monotonic,
                 rand: Callable[[], float] = random.random) -> None:
        super().__init__(api_key, max_attempts=max_attempts, sleep=sleep, rand=rand)
        if concurrency < 1:
            raise ValueError(f"concurrency must be at least 1, got {concurrency}")
        if timeout <= 0:
            raise ValueError(f"the timeout must be positive, got {timeout}")
        self.pool = Pool(base_url)
        self._strip_v1 = self.pool.prefix.endswith("/v1")
        self.timeout = timeout
        self.stall = stall_timeout if stall_timeout is not None else timeout
        self.recorder = recorder
        self._slots = asyncio.Semaphore(concurrency)
        self._limiter = RateLimiter(rpm, clock, sleep) if rpm is not None else None
        common = [("content-type", "application/json")]
        if api_key:
            common.append(("authorization", f"Bearer {api_key}"))
        self._headers = {False: [*common, ("accept", "application/json")],
                         True: [*common, ("accept", "text/event-stream")]}
        self._shown_headers = {k: self.redactor.headers(v) for k, v in self._headers.items()}

    async def __aenter__(self) -> Sender:
        return self

    async def __aexit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self.pool.close()

    def _target(self, path: str) -> str:
        return path[3:] if self._strip_v1 and path.startswith("/v1/") else path

    async def _attempt(self, call: Call, data: bytes, streaming: bool) -> Wired:
        async with self._slots:
            if self._limiter is not None:
                await self._limiter.wait()
            wired, chunks = await self._exchange(call, data, streaming)
        if self.recorder is not None:
            self._record(call, data, streaming, wired, chunks)
        return wired

    async def _exchange(self, call: Call, data: bytes, streaming: bool) -> tuple[Wired, list[tuple[float, bytes]] | None]:
        loop = asyncio.get_running_loop()
        start = loop.time()
        deadline = start + self.timeout
        head = self.pool.head("POST", self._target(call["path"]), self._headers[streaming], len(data))
        status: int | None = None
        headers: Mapping[str, str] = {}
        chunks: list[tuple[float, bytes]] | None = None
        try:
            answer = await self.pool.request(head + data, deadline)
            status, headers = answer.status, answer.headers
            if not reads_as_stream(streaming, status, headers):
                raw = await answer.read(deadline)
                return Wired(status, headers, raw, None, (loop.time() - start) * 1000), None
            reader = StreamReader(call["path"].endswith("/responses"), status, self.redactor)
            chunks = [] if self.recorder is not None else None
            try:
                async for chunk in answer.iter_chunks(self.stall, deadline):
                    at = (loop.time() - start) * 1000
                    reader.feed(chunk, at)
                    if chunks is not None:
                        chunks.append((at, chunk))
            except BaseException:
                answer.close()
                raise
            answer.release()
            total = (loop.time() - start) * 1000
            return Wired(status, headers, None, reader.finish(total), total), chunks
        except HopTimeout:
            now = loop.time()
            message = (f"no complete answer within the {self.timeout:g} s timeout" if now >= deadline
                       else f"the stream stalled: no byte for {self.stall:g} s")
            failure: ErrorFacts = {"kind": "timeout", "status": status, "type": None, "code": None, "message": message}
        except HopError as exc:
            failure = {"kind": "connection", "status": status, "type": None, "code": None, "message": str(exc)}
        total = (loop.time() - start) * 1000
        if status is not None:
            return Wired(status, headers, None, None, total, failure), chunks
        return Wired(None, {}, None, None, total, failure), chunks

    def _record(self, call: Call, data: bytes, streaming: bool, wired: Wired,
                chunks: list[tuple[float, bytes]] | None) -> None:
        """Hand the attempt to the recorder with this sender's key already removed (the recorder
        removes what it knows too: a cassette must not depend on both being told the key)."""
        assert self.recorder is not None
        red = self.redactor
        request = {"method": "POST", "path": call["path"], "headers": self._shown_headers[streaming],
                   "body": red.value(call["body"])}
        response: dict[str, Any] | None = None
        if wired.status is not None:
            response = {"status": wired.status, "headers": red.headers(wired.headers.items()),
                        "total_ms": round(wired.total_ms, 3)}
            if chunks is not None:
                response["chunks"] = _redacted_chunks(red, chunks)
            else:
                response["body"] = red.answer(wired.raw or b"")
        failure: ErrorFacts | None = None
        if wired.failure is not None:
            failure = {**wired.failure, "message": red.text(wired.failure["message"])}
        self.recorder.record(request, response, failure)


def _redacted_chunks(red: Redactor, chunks: list[tuple[float, bytes]]) -> list[tuple[float, bytes]]:
    """Chunks with the key removed; a key split across chunks makes them one chunk (its timing is then lost)."""
    joined = b"".join(chunk for _, chunk in chunks)
    if red.answer(joined) is joined:
        return chunks
    parts = [(at, red.answer(chunk)) for at, chunk in chunks]
    rejoined = b"".join(chunk for _, chunk in parts)
    if red.answer(rejoined) is not rejoined:
        return [(chunks[0][0], red.answer(joined))]
    return parts
