"""Backends that answer a request body: an HTTP upstream (the bridge) or the offline model.

Both speak one dialect natively (``api``); the app translates around them. Retries
with exponential backoff and jitter happen here, and only before the first byte
has gone to the client: after that a failure ends the stream with an error event.
"""

from __future__ import annotations

import asyncio
import email.utils
import random
import time
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import httpx

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
HOP_BY_HOP = frozenset({"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailers",
                        "transfer-encoding", "upgrade", "host", "content-length", "accept-encoding"})


def error_json(message: str, type_: str = "server_error", code: str | None = None, param: str | None = None) -> dict[str, Any]:
    return {"error": {"message": message, "type": type_, "param": param, "code": code}}


class UpstreamError(Exception):
    """An answer that is not a success, in OpenAI's error shape, with the status to send."""

    def __init__(self, status: int, body: dict[str, Any], retry_after: float | None = None) -> None:
        self.status = status
        self.body = body
        self.retry_after = retry_after
        super().__init__(f"{status}: {body.get('error', {}).get('message', '')}")


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


def _retry_after(headers: httpx.Headers) -> float | None:
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


def _error_from(response: httpx.Response, raw: bytes) -> UpstreamError:
    import json

    try:
        body = json.loads(raw)
    except ValueError:
        body = None
    if not (isinstance(body, dict) and isinstance(body.get("error"), dict)):
        text = raw.decode("utf-8", "replace")[:500]
        body = error_json(text or f"upstream answered {response.status_code}", "upstream_error", str(response.status_code))
    return UpstreamError(response.status_code, body, _retry_after(response.headers))


class HTTPBackend:
    """The bridge's upstream: an OpenAI-compatible base URL (with its version prefix)."""

    def __init__(self, base_url: str, api: str, *, key: str | None = None, timeout: float = 600.0,
                 retry: RetryPolicy | None = None, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.api = api
        self._key = key
        self.retry = retry or RetryPolicy()
        self.timeout = timeout
        self._client = httpx.AsyncClient(timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)), transport=transport,
                                         limits=httpx.Limits(max_connections=512, max_keepalive_connections=128))

    @property
    def path(self) -> str:
        return "/chat/completions" if self.api == "chat" else "/responses"

    def _headers(self, headers: Mapping[str, str]) -> dict[str, str]:
        out = {k: v for k, v in headers.items() if k.lower() not in HOP_BY_HOP}
        if self._key is not None:
            out = {k: v for k, v in out.items() if k.lower() != "authorization"}
            out["authorization"] = f"Bearer {self._key}"
        out["content-type"] = "application/json"
        return out

    async def _attempts(self, method: str, url: str, body: dict[str, Any] | None, headers: Mapping[str, str],
                        stream: bool) -> httpx.Response:
        """Send, retrying 429/5xx and connection errors; returns an open response on success.

        Every network step (connect, headers, reading a body) is guarded: a stall is a 504 and
        a broken connection a 502, each in OpenAI's error shape, never a bare 500.
        """
        hdrs = self._headers(headers)
        attempt = 0
        while True:
            try:
                request = self._client.build_request(method, url, json=body, headers=hdrs)
                response = await self._client.send(request, stream=True)
                if response.status_code < 400:
                    if not stream:
                        await response.aread()
                    return response
                raw = await response.aread()
                await response.aclose()
                failure = _error_from(response, raw)
                retryable = response.status_code in RETRY_STATUSES
            except httpx.TimeoutException:
                failure = UpstreamError(504, error_json(f"the upstream did not answer within {self.timeout:g} s",
                                                        "timeout", "upstream_timeout"))
                retryable = True
            except httpx.TransportError as exc:
                failure = UpstreamError(502, error_json(f"cannot reach the upstream: {type(exc).__name__}",
                                                        "upstream_error", "upstream_unreachable"))
                retryable = True
            if not retryable or attempt >= self.retry.retries:
                raise failure
            await asyncio.sleep(self.retry.delay(attempt, failure.retry_after))
            attempt += 1

    async def send(self, body: dict[str, Any], headers: Mapping[str, str]) -> Answer:
        import json

        response = await self._attempts("POST", self.base_url + self.path, body, headers, stream=False)
        try:
            data = json.loads(response.content)
        except ValueError:
            raise UpstreamError(502, error_json("the upstream answered with invalid JSON", "upstream_error")) from None
        return Answer(response.status_code, data, dict(response.headers))

    async def stream(self, body: dict[str, Any], headers: Mapping[str, str]) -> AsyncIterator[bytes]:
        response = await self._attempts("POST", self.base_url + self.path, body, headers, stream=True)
        return self._relay(response)

    async def _relay(self, response: httpx.Response) -> AsyncIterator[bytes]:
        try:
            async for chunk in response.aiter_raw():
                yield chunk
        except httpx.TimeoutException:
            raise UpstreamError(504, error_json("the upstream stream stalled", "timeout", "upstream_timeout")) from None
        except httpx.TransportError as exc:
            raise UpstreamError(502, error_json(f"the upstream stream broke: {type(exc).__name__}", "upstream_error")) from None
        finally:
            await response.aclose()

    async def passthrough(self, method: str, path: str, body: bytes | None, headers: Mapping[str, str]) -> httpx.Response:
        request = self._client.build_request(method, self.base_url + path, content=body, headers=self._headers(headers))
        return await self._client.send(request)

    async def models(self, headers: Mapping[str, str]) -> dict[str, Any]:
        import json

        response = await self._attempts("GET", self.base_url + "/models", None, headers, stream=False)
        data = json.loads(response.content)
        return data if isinstance(data, dict) else {"object": "list", "data": []}

    async def aclose(self) -> None:
        await self._client.aclose()
