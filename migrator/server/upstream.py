"""Backends that answer a request body: an HTTP upstream (the bridge) or the offline model.

Both speak one dialect natively (``api``); the app translates around them. Retries
with exponential backoff and jitter happen here, and only before the first byte
has gone to the client: after that a failure ends the stream with an error event.
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import random
import time
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from ..mapping import MappingError, json_text
from ..mapping.api_error import error_body
from ..transport.http1 import Answer as HopAnswer
from ..transport.http1 import HopError, HopTimeout, Pool

_JSON = json.JSONEncoder(separators=(",", ":")).encode
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
HOP_BY_HOP = frozenset({"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailers",
                        "transfer-encoding", "upgrade", "host", "content-length", "accept-encoding"})


class UpstreamError(Exception):
    """An answer that is not a success, in OpenAI's error shape, with the status to send."""

    def __init__(self, status: int, body: dict[str, Any], retry_after: float | None = None) -> None:
        self.status = status
        self.body = body
        self.retry_after = retry_after
        super().__init__(f"{status}: {body.get('error', {}).get('message', '')}")


class AnsweredJSON(Exception):
    """The upstream answered a stream request with a JSON body (``body``), not an event stream."""

    def __init__(self, body: Any) -> None:
        self.body = body
        super().__init__("the upstream answered a stream request with JSON, not an event stream")


@dataclass
class Answer:
    status: int
    body: dict[str, Any]
    headers: dict[str, str]


class Backend(Protocol):
    api: str

    async def send(self, body: dict[str, Any], headers: Mapping[str, str]) -> Answer: ...

    async def stream(self, body: dict[str, Any], headers: Mapping[str, str]) -> AsyncIterator[bytes]: ...

    async def models(self, headers: Mapping[str, str]) -> dict[str, Any]: ...

    async def aclose(self) -> None: ...


@dataclass(frozen=True)
class RetryPolicy:
    """Documented defaults: 2 retries, 0.25 s doubling, full jitter, capped at 8 s (Retry-After wins if larger)."""

    retries: int = 2
    base: float = 0.25
    cap: float = 8.0

    def delay(self, attempt: int, retry_after: float | None) -> float:
        wait = random.uniform(0, min(self.cap, self.base * (2 ** attempt)))
        if retry_after is not None:
            wait = max(wait, min(retry_after, 60.0))
        return wait


def _retry_after(headers: Mapping[str, str]) -> float | None:
    value = headers.get("retry-after-ms")
    if value:
        try:
            return float(value) / 1000
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return float(value)
    except ValueError:
        when = email.utils.parsedate_to_datetime(value)
        return max(0.0, when.timestamp() - time.time()) if when else None


def _error_from(status: int, headers: Mapping[str, str], raw: bytes) -> UpstreamError:
    try:
        body = json.loads(raw)
    except ValueError:
        body = None
    if not (isinstance(body, dict) and isinstance(body.get("error"), dict)):
        text = raw.decode("utf-8", "replace")[:500]
        body = error_body(text or f"upstream answered {status}", "upstream_error", str(status))
    return UpstreamError(status, body, _retry_after(headers))


class HTTPBackend:
    """The bridge's upstream: an OpenAI-compatible base URL (with its version prefix).

    Its HTTP/1.1 client is :mod:`.http1` (pooled keep-alive connections, httptools parsing):
    the hop is most of what a bridge costs, and aiohttp's client spent four times its CPU on it.
    """

    def __init__(self, base_url: str, api: str, *, key: str | None = None, timeout: float = 600.0,
                 retry: RetryPolicy | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.api = api
        self._key = key
        self.retry = retry or RetryPolicy()
        self.timeout = timeout
        self._pool = Pool(self.base_url)

    @property
    def path(self) -> str:
        return "/chat/completions" if self.api == "chat" else "/responses"

    def _headers(self, headers: Mapping[str, str], body: bool) -> list[tuple[str, str]]:
        out = [(k, v) for k, v in headers.items() if k.lower() not in HOP_BY_HOP
               and not (self._key is not None and k.lower() == "authorization")]
        if self._key is not None:
            out.append(("authorization", f"Bearer {self._key}"))
        if body:
            out.append(("content-type", "application/json"))
        return out

    async def _attempts(self, method: str, target: str, body: dict[str, Any] | None,
                        headers: Mapping[str, str]) -> tuple[HopAnswer, float]:
        """Send, retrying 429/5xx and connection errors; returns an answer whose head has come, and the deadline.

        ``--upstream-timeout`` is a deadline for the whole exchange, retries and backoff included:
        a retry whose wait would pass it is not made (the last failure is the answer), and a
        timeout is never retried (the time is spent). Every network step is guarded: a stall is
        a 504 and a broken connection a 502, each in OpenAI's error shape, never a bare 500.
        """
        data = _JSON(body).encode() if body is not None else b""
        try:
            request = self._pool.head(method, target, self._headers(headers, body is not None),
                                      len(data) if body is not None else None) + data
        except ValueError as exc:
            raise UpstreamError(502, error_body(f"cannot send the request upstream: {exc}", "upstream_error")) from None
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.timeout
        attempt = 0
        while True:
            try:
                answer = await self._pool.request(request, deadline)
                if answer.status < 400:
                    if 300 <= answer.status < 400:
                        answer.close()
                        where = answer.headers.get("location", "")
                        raise UpstreamError(502, error_body(
                            f"the upstream answered {answer.status} (a redirect{f' to {where}' if where else ''}); "
                            "give --upstream the URL that answers", "upstream_error", "upstream_redirect"))
                    return answer, deadline
                raw = await answer.read(deadline)
                failure = _error_from(answer.status, answer.headers, raw)
                retryable = answer.status in RETRY_STATUSES
            except HopTimeout:
                raise _timeout(self.timeout) from None
            except HopError as exc:
                failure = _unreachable(exc)
                retryable = True
            if not retryable or attempt >= self.retry.retries:
                raise failure
            wait = self.retry.delay(attempt, failure.retry_after)
            if loop.time() + wait >= deadline:
                raise failure
            await asyncio.sleep(wait)
            attempt += 1

    async def _json(self, answer: HopAnswer, deadline: float) -> Any:
        try:
            raw = await answer.read(deadline)
        except HopTimeout:
            raise _timeout(self.timeout) from None
        except HopError as exc:
            raise _unreachable(exc) from None
        try:
            return json_text.loads(raw)
        except (ValueError, MappingError):
            raise UpstreamError(502, error_body("the upstream answered with invalid JSON", "upstream_error")) from None

    async def send(self, body: dict[str, Any], headers: Mapping[str, str]) -> Answer:
        answer, deadline = await self._attempts("POST", self.path, body, headers)
        data = await self._json(answer, deadline)
        if not isinstance(data, dict):
            raise UpstreamError(502, error_body("the upstream answered with a JSON value that is not an object", "upstream_error"))
        return Answer(answer.status, data, answer.headers)

    async def stream(self, body: dict[str, Any], headers: Mapping[str, str]) -> AsyncIterator[bytes]:
        """The deadline covers the wait for the answer's headers; then a stall of ``timeout``
        between two reads ends the stream (a long answer that keeps coming is not cut).

        An upstream that answers with JSON instead of an event stream (some ignore ``stream``)
        raises :class:`AnsweredJSON` with the body, for the app to say so and, when it is a
        whole answer, to stream it.
        """
        answer, deadline = await self._attempts("POST", self.path, body, headers)
        if answer.content_type == "application/json":
            raise AnsweredJSON(await self._json(answer, deadline))
        return self._relay(answer)

    async def _relay(self, answer: HopAnswer) -> AsyncIterator[bytes]:
        finished = False
        try:
            async for chunk in answer.iter_chunks(self.timeout):
                yield chunk
            finished = True
        except HopTimeout:
            raise UpstreamError(504, error_body("the upstream stream stalled", "timeout", "upstream_timeout")) from None
        except HopError as exc:
            raise UpstreamError(502, error_body(f"the upstream stream broke: {exc}", "upstream_error")) from None
        finally:
            if finished:
                answer.release()  # the connection goes back to the pool
            else:
                answer.close()  # a client that left mid-stream cancels the upstream request

    async def forward(self, method: str, path: str, query: str, headers: Mapping[str, str]) -> Answer:
        """A request passed to the upstream as it is (GET/DELETE of its stored responses)."""
        answer, deadline = await self._attempts(method, path + (f"?{query}" if query else ""), None, headers)
        data = await self._json(answer, deadline)
        if not isinstance(data, dict):
            raise UpstreamError(502, error_body("the upstream answered with a JSON value that is not an object", "upstream_error"))
        return Answer(answer.status, data, answer.headers)

    async def models(self, headers: Mapping[str, str]) -> dict[str, Any]:
        data = await self._json(*await self._attempts("GET", "/models", None, headers))
        return data if isinstance(data, dict) else {"object": "list", "data": []}

    async def aclose(self) -> None:
        await self._pool.close()


def _timeout(seconds: float) -> UpstreamError:
    return UpstreamError(504, error_body(f"the upstream did not answer within {seconds:g} s", "timeout", "upstream_timeout"))


def _unreachable(exc: BaseException) -> UpstreamError:
    return UpstreamError(502, error_body(f"cannot reach the upstream: {exc}", "upstream_error", "upstream_unreachable"))
