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

import aiohttp

from ..mapping import MappingError, json_text
from ..mapping.api_error import error_body

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

    aiohttp, not httpx, carries this hop: on loopback it costs about 0.3 ms a request against
    httpx's 0.7 ms (measured side by side), and the hop is all of a bridge's overhead.
    """

    def __init__(self, base_url: str, api: str, *, key: str | None = None, timeout: float = 600.0,
                 retry: RetryPolicy | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.api = api
        self._key = key
        self.retry = retry or RetryPolicy()
        self.timeout = timeout
        self._session: aiohttp.ClientSession | None = None

    @property
    def path(self) -> str:
        return "/chat/completions" if self.api == "chat" else "/responses"

    def _client(self) -> aiohttp.ClientSession:
        """One pooled session, made in the running loop (aiohttp binds it to the loop)."""
        if self._session is None or self._session.closed:
            timeout = aiohttp.ClientTimeout(total=None, connect=min(self.timeout, 10.0), sock_read=self.timeout)
            self._session = aiohttp.ClientSession(timeout=timeout, auto_decompress=True,
                                                  connector=aiohttp.TCPConnector(limit=512, keepalive_timeout=30))
        return self._session

    def _headers(self, headers: Mapping[str, str]) -> dict[str, str]:
        out = {k: v for k, v in headers.items() if k.lower() not in HOP_BY_HOP}
        if self._key is not None:
            out = {k: v for k, v in out.items() if k.lower() != "authorization"}
            out["authorization"] = f"Bearer {self._key}"
        out["content-type"] = "application/json"
        return out

    async def _attempts(self, method: str, url: str, body: dict[str, Any] | None,
                        headers: Mapping[str, str]) -> tuple[aiohttp.ClientResponse, float]:
        """Send, retrying 429/5xx and connection errors; returns an open response and the deadline.

        ``--upstream-timeout`` is a deadline for the whole exchange, retries and backoff included:
        a retry whose wait would pass it is not made (the last failure is the answer), and a
        timeout is never retried (the time is spent). Every network step is guarded: a stall is
        a 504 and a broken connection a 502, each in OpenAI's error shape, never a bare 500.
        """
        hdrs = self._headers(headers)
        data = _JSON(body).encode() if body is not None else None
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.timeout
        attempt = 0
        while True:
            response: aiohttp.ClientResponse | None = None
            try:
                response = await asyncio.wait_for(self._client().request(method, url, data=data, headers=hdrs),
                                                  max(0.0, deadline - loop.time()))
                if response.status < 400:
                    return response, deadline
                raw = await asyncio.wait_for(response.read(), max(0.0, deadline - loop.time()))
                response.release()
                failure = _error_from(response.status, response.headers, raw)
                retryable = response.status in RETRY_STATUSES
            except (asyncio.TimeoutError, aiohttp.ServerTimeoutError):
                if response is not None:
                    response.close()
                raise _timeout(self.timeout) from None
            except aiohttp.ClientError as exc:
                failure = _unreachable(exc)
                retryable = True
            if not retryable or attempt >= self.retry.retries:
                raise failure
            wait = self.retry.delay(attempt, failure.retry_after)
            if loop.time() + wait >= deadline:
                raise failure
            await asyncio.sleep(wait)
            attempt += 1

    async def _json(self, response: aiohttp.ClientResponse, deadline: float) -> Any:
        try:
            raw = await asyncio.wait_for(response.read(), max(0.0, deadline - asyncio.get_running_loop().time()))
        except (asyncio.TimeoutError, aiohttp.ServerTimeoutError):
            raise _timeout(self.timeout) from None
        except aiohttp.ClientError as exc:
            raise _unreachable(exc) from None
        finally:
            response.release()
        try:
            return json_text.loads(raw)
        except (ValueError, MappingError):
            raise UpstreamError(502, error_body("the upstream answered with invalid JSON", "upstream_error")) from None

    async def send(self, body: dict[str, Any], headers: Mapping[str, str]) -> Answer:
        response, deadline = await self._attempts("POST", self.base_url + self.path, body, headers)
        data = await self._json(response, deadline)
        if not isinstance(data, dict):
            raise UpstreamError(502, error_body("the upstream answered with a JSON value that is not an object", "upstream_error"))
        return Answer(response.status, data, dict(response.headers))

    async def stream(self, body: dict[str, Any], headers: Mapping[str, str]) -> AsyncIterator[bytes]:
        """The deadline covers the wait for the answer's headers; then a stall of ``timeout``
        between two reads ends the stream (a long answer that keeps coming is not cut).

        An upstream that answers with JSON instead of an event stream (some ignore ``stream``)
        raises :class:`AnsweredJSON` with the body, for the app to say so and, when it is a
        whole answer, to stream it.
        """
        response, deadline = await self._attempts("POST", self.base_url + self.path, body, headers)
        if response.content_type == "application/json":
            raise AnsweredJSON(await self._json(response, deadline))
        return self._relay(response)

    async def _relay(self, response: aiohttp.ClientResponse) -> AsyncIterator[bytes]:
        finished = False
        try:
            async for chunk in response.content.iter_any():
                yield chunk
            finished = True
        except (asyncio.TimeoutError, aiohttp.ServerTimeoutError):
            raise UpstreamError(504, error_body("the upstream stream stalled", "timeout", "upstream_timeout")) from None
        except aiohttp.ClientError as exc:
            raise UpstreamError(502, error_body(f"the upstream stream broke: {type(exc).__name__}", "upstream_error")) from None
        finally:
            if finished:
                response.release()  # the connection goes back to the pool
            else:
                response.close()  # a client that left mid-stream cancels the upstream request

    async def forward(self, method: str, path: str, query: str, headers: Mapping[str, str]) -> Answer:
        """A request passed to the upstream as it is (GET/DELETE of its stored responses)."""
        url = self.base_url + path + (f"?{query}" if query else "")
        response, deadline = await self._attempts(method, url, None, headers)
        data = await self._json(response, deadline)
        if not isinstance(data, dict):
            raise UpstreamError(502, error_body("the upstream answered with a JSON value that is not an object", "upstream_error"))
        return Answer(response.status, data, dict(response.headers))

    async def models(self, headers: Mapping[str, str]) -> dict[str, Any]:
        data = await self._json(*await self._attempts("GET", self.base_url + "/models", None, headers))
        return data if isinstance(data, dict) else {"object": "list", "data": []}

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()


def _timeout(seconds: float) -> UpstreamError:
    return UpstreamError(504, error_body(f"the upstream did not answer within {seconds:g} s", "timeout", "upstream_timeout"))


def _unreachable(exc: BaseException) -> UpstreamError:
    return UpstreamError(502, error_body(f"cannot reach the upstream: {type(exc).__name__}", "upstream_error",
                                         "upstream_unreachable"))
