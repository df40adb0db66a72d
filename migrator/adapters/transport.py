"""HTTP transports that serve one endpoint from an upstream speaking the other, in process.

A program plugs a transport into its HTTP client; its unchanged calls on
``/chat/completions`` are then served by an upstream's ``/responses`` (or the
reverse), translated both ways, streams included, without running a server::

    t = Migrator2Transport(upstream_api="responses", upstream_url="https://gw.example/v1")
    client = openai.OpenAI(api_key=key, base_url="http://migrator.local/v1", http_client=httpx2.Client(transport=t))
    client.chat.completions.create(...)  # POST https://gw.example/v1/responses

The decisions (routing, headers, translation, errors, losses) are made once, by
:class:`_Bridge`, on plain values; the four transports differ only in how they
do I/O: sync or async, ``httpx`` or ``httpx2`` (the client of the openai SDK).
``httpx2`` is optional: without it (Python 3.10, or no openai SDK) the ``httpx``
transports work and the ``2`` ones raise ``ImportError`` when built.
"""

from __future__ import annotations

import contextlib
import functools
import json
from collections.abc import AsyncGenerator, AsyncIterable, AsyncIterator, Callable, Generator, Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import urlsplit, urlunsplit

import httpx

from ..mapping import Dialect, Loss, MappingError, Problem, detect, translate
from ..mapping.api_error import error_body, error_event
from ..mapping.errors import describe
from ..server.losses import LOSSES_HEADER, header_value
from ..streams import StreamError, atranslate_sse, translate_sse
from ..streams.sse import encode_chat, encode_responses

if TYPE_CHECKING:
    import httpx2
    from httpx2 import AsyncBaseTransport as _AsyncBase2
    from httpx2 import BaseTransport as _Base2
else:
    try:
        from httpx2 import AsyncBaseTransport as _AsyncBase2
        from httpx2 import BaseTransport as _Base2
    except ImportError:  # Python 3.10, or no openai SDK: the httpx2 transports raise when built
        _Base2 = _AsyncBase2 = object

__all__ = [
    "LOSSES_HEADER", "AsyncMigrator2Transport", "AsyncMigratorTransport", "LossCallback", "Migrator2Transport",
    "MigratorTransport", "UpstreamAPI",
]

UpstreamAPI = Dialect  # the dialect the upstream speaks (kept under this name for existing imports)
LossCallback = Callable[[list[Loss]], None]

_ENDPOINT = {"chat": "/chat/completions", "responses": "/responses"}
_OTHER: dict[str, UpstreamAPI] = {"chat": "responses", "responses": "chat"}
_REQUEST_KIND = {"chat": "chat.request", "responses": "responses.request"}
_HOP_BY_HOP = frozenset({
    "connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "proxy-connection", "te", "trailer",
    "trailers", "transfer-encoding", "upgrade",
})
# What a status means, for an upstream error body that is not already OpenAI's shape.
_ERROR_TYPES = {
    400: "invalid_request_error", 401: "authentication_error", 403: "permission_error", 404: "not_found_error",
    409: "conflict_error", 422: "invalid_request_error", 429: "rate_limit_error",
}
_JSON = "application/json"
_SSE = "text/event-stream; charset=utf-8"

_Pairs = list[tuple[str, str]]


# ---------------------------------------------------------------------------------------- the decisions


@dataclass(frozen=True, slots=True)
class _Route:
    """Where a client's request goes, and whether its body and answer are translated."""

    url: str
    translated: bool


@dataclass(slots=True)
class _Exchange:
    """One translated request on its way: what to send upstream and how to read the answer."""

    url: str
    headers: _Pairs
    body: bytes
    request: dict[str, Any]  # the client's own body, as it sent it
    to: UpstreamAPI  # the client's dialect, which answers are translated to
    stream: bool
    include_usage: bool
    losses: list[Loss] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class _Reply:
    """A whole answer for the client."""

    status: int
    headers: _Pairs
    body: bytes


def _dumps(body: Any) -> bytes:
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()


def _hop_by_hop(headers: _Pairs) -> set[str]:
    """The hop-by-hop header names: the fixed ones and those a ``Connection`` header lists."""
    names = set(_HOP_BY_HOP)
    for key, value in headers:
        if key.lower() == "connection":
            names.update(token.strip().lower() for token in value.split(",") if token.strip())
    return names


def _without(headers: _Pairs, *names: str) -> _Pairs:
    drop = _hop_by_hop(headers) | set(names)
    return [(k, v) for k, v in headers if k.lower() not in drop]


def _header(headers: _Pairs, name: str) -> str:
    return next((v for k, v in headers if k.lower() == name), "")


def _api_path(path: str) -> str:
    """The path after the ``/v1`` segment (the whole path when it has none)."""
    segments = path.split("/")
    if "v1" not in segments:
        return path
    return "/" + "/".join(segments[segments.index("v1") + 1:])


class _Bridge:
    """Everything the transports decide, on plain values: written once, used by all four."""

    def __init__(self, upstream_api: UpstreamAPI, upstream_url: str | None, on_losses: LossCallback | None) -> None:
        if upstream_api != "chat" and upstream_api != "responses":
            raise ValueError(f"upstream_api must be 'chat' or 'responses', not {upstream_api!r}")
        if upstream_url is not None and urlsplit(upstream_url).scheme not in ("http", "https"):
            raise ValueError(f"upstream_url must be an http(s) URL, not {upstream_url!r}")
        self.upstream_api: UpstreamAPI = upstream_api
        self.client_api: UpstreamAPI = _OTHER[upstream_api]
        self.upstream_url = upstream_url.rstrip("/") if upstream_url is not None else None
        self.on_losses = on_losses

    # ------------------------------------------------------------------ routing

    def route(self, method: str, url: str) -> _Route:
        """A POST to the client's endpoint is translated to the upstream's; anything else passes through."""
        parts = urlsplit(url)
        theirs = _ENDPOINT[self.client_api]
        translated = method.upper() == "POST" and parts.path.rstrip("/").endswith(theirs)
        if self.upstream_url is None:
            if not translated:
                return _Route(url, False)
            path = parts.path.rstrip("/")[: -len(theirs)] + _ENDPOINT[self.upstream_api]
            return _Route(urlunsplit((parts.scheme, parts.netloc, path, parts.query, "")), True)
        rest = _api_path(parts.path)
        if translated:
            rest = rest.rstrip("/")[: -len(theirs)] + _ENDPOINT[self.upstream_api]
        return _Route(self.upstream_url + rest + (f"?{parts.query}" if parts.query else ""), translated)

    def passthrough_headers(self, headers: _Pairs) -> _Pairs:
        """A request passed through keeps its body stream, so it keeps the headers that frame it."""
        framing = [(k, v) for k, v in headers if k.lower() in ("content-length", "transfer-encoding")]
        return _without(headers, "host", "content-length") + framing

    def passthrough_answer_headers(self, headers: _Pairs) -> _Pairs:
        """An answer passed through keeps its raw (maybe compressed) stream and the headers that describe it."""
        return _without(headers)

    # ------------------------------------------------------------------ the request

    def prepare(self, route: _Route, headers: _Pairs, body: bytes) -> _Exchange | _Reply:
        """The client's body translated for the upstream, or the 400 that says why it cannot be."""
        try:
            request = json.loads(body)
        except (ValueError, UnicodeDecodeError) as exc:
            return self._refuse(error_body(f"the request body is not valid JSON ({exc})", "invalid_request_error", code="invalid_json"))
        try:
            kind = detect(request)
            if kind != _REQUEST_KIND[self.client_api]:
                expected = "a chat request (messages)" if self.client_api == "chat" else "a responses request (input)"
                raise MappingError([Problem("$", expected, describe(request))])
            translation = translate(request, self.upstream_api)
        except MappingError as exc:
            where = exc.problems[0].path if exc.problems else "$"
            return self._refuse(error_body(f"migrator cannot translate this request for the {self.upstream_api} API: {exc}",
                                       "invalid_request_error", param=where, code="untranslatable_request"))
        usage = request.get("stream_options")
        return _Exchange(
            url=route.url,
            headers=[*_without(headers, "host", "content-length", "content-type", "content-encoding"), ("content-type", _JSON)],
            body=_dumps(translation.body),
            request=request,
            to=self.client_api,
            stream=request.get("stream") is True,
            include_usage=type(usage) is dict and usage.get("include_usage") is True,
            losses=list(translation.losses),
        )

    # ------------------------------------------------------------------ the answer

    def streams(self, ex: _Exchange, status: int, headers: _Pairs) -> bool:
        """Whether an answer is translated as a stream (else it is read whole and given to :meth:`answer`)."""
        return ex.stream and 200 <= status < 300 and not _header(headers, "content-type").startswith(_JSON)

    def stream_headers(self, ex: _Exchange, headers: _Pairs) -> _Pairs:
        self._report(ex.losses)
        return [*_without(headers, "content-length", "content-encoding", "content-type", LOSSES_HEADER),
                ("content-type", _SSE), (LOSSES_HEADER, header_value(ex.losses))]

    def answer(self, ex: _Exchange, status: int, headers: _Pairs, body: bytes) -> _Reply:
        """A whole upstream answer (a result, or an error of any status) for the client.

        Losses of the result are added to the request's; the 502s that the same request would
        get again say ``x-should-retry: false``, so the SDK does not send it again.
        """
        losses = list(ex.losses)
        status, out, retry = self._result(ex, status, body, losses)
        self._report(losses)
        keep = _without(headers, "content-length", "content-encoding", "content-type", LOSSES_HEADER,
                        *(() if retry else ("x-should-retry",)))
        return _Reply(status, [*keep, ("content-type", _JSON), (LOSSES_HEADER, header_value(losses)),
                               *(() if retry else (("x-should-retry", "false"),))], out)

    def _result(self, ex: _Exchange, status: int, body: bytes, losses: list[Loss]) -> tuple[int, bytes, bool]:
        """The status, body and retry-ability of the client's answer; appends the result's losses."""
        if not 200 <= status < 300:
            error = self._upstream_error(status, body)
            return status, body if error is None else _dumps(error), True
        try:
            result = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            result = None
        if type(result) is not dict:
            return 502, _dumps(error_body(f"the {self.upstream_api} upstream answered {status} with a body that is not a JSON object",
                                      "server_error", code="bad_upstream_answer")), False
        if ex.stream:
            if type(result.get("error")) is dict:
                return 502, _dumps(result), True
            return 502, _dumps(error_body(f"the {self.upstream_api} upstream answered a streaming request with a JSON body, "
                                      "not an event stream", "server_error", code="bad_upstream_answer")), False
        try:
            translation = translate(result, ex.to, request=ex.request if ex.to == "responses" else None)
        except MappingError as exc:
            where = exc.problems[0].path if exc.problems else "$"
            return 502, _dumps(error_body(f"migrator cannot translate the {self.upstream_api} upstream's answer: {exc}",
                                      "server_error", param=where, code="untranslatable_response")), False
        losses.extend(translation.losses)
        failed = translation.target == "error"  # a failed Response, or an error body sent with a 2xx
        return 502 if failed else status, _dumps(translation.body), True

    def _upstream_error(self, status: int, body: bytes) -> dict[str, Any] | None:
        """OpenAI's error shape for an upstream error; None when the body already has it (it passes as it is)."""
        try:
            parsed = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            parsed = None
        message: Any = None
        if type(parsed) is dict:
            if type(parsed.get("error")) is dict:
                return None
            message = next((parsed[k] for k in ("error", "message", "detail") if type(parsed.get(k)) is str), None)
        if message is None:
            text = body.decode("utf-8", "replace").strip()
            message = text[:2000] if text else f"the {self.upstream_api} upstream answered {status}"
        kind = _ERROR_TYPES.get(status, "server_error" if status >= 500 else "invalid_request_error")
        return error_body(message, kind)

    def _refuse(self, body: dict[str, Any]) -> _Reply:
        """A 400 for a request that is never sent upstream."""
        return _Reply(400, [("content-type", _JSON)], _dumps(body))

    def _report(self, losses: list[Loss]) -> None:
        if self.on_losses is not None:
            self.on_losses(list(losses))

    # ------------------------------------------------------------------ streams

    def _stream_error(self, ex: _Exchange, exc: Exception, emitted: int) -> bytes:
        """The error frame that ends a stream migrator could not translate to the end."""
        message = f"migrator cannot translate the {self.upstream_api} upstream's stream: {exc}"
        if ex.to == "chat":
            return encode_chat(error_body(message, "server_error", code="untranslatable_stream"))
        return encode_responses(error_event(message, "untranslatable_stream", emitted))

    def translate_stream(self, ex: _Exchange, chunks: Iterable[bytes]) -> Generator[bytes, None, None]:
        out = cast(Generator[bytes, None, None], translate_sse(chunks, ex.to, request=ex.request, include_usage=ex.include_usage))
        emitted = 0
        try:
            for piece in out:
                yield piece
                emitted += 1
        except (StreamError, MappingError) as exc:
            yield self._stream_error(ex, exc, emitted)
        finally:
            out.close()

    async def atranslate_stream(self, ex: _Exchange, chunks: AsyncIterable[bytes]) -> AsyncGenerator[bytes, None]:
        out = cast(AsyncGenerator[bytes, None], atranslate_sse(chunks, ex.to, request=ex.request, include_usage=ex.include_usage))
        emitted = 0
        async with contextlib.aclosing(out):
            try:
                async for piece in out:
                    yield piece
                    emitted += 1
            except (StreamError, MappingError) as exc:
                yield self._stream_error(ex, exc, emitted)


# ---------------------------------------------------------------------------------------- the I/O edges


class _SyncBody:
    """A translated stream as a response body: closing it closes the upstream answer."""

    def __init__(self, chunks: Generator[bytes, None, None], upstream: Any) -> None:
        self._chunks = chunks
        self._upstream = upstream

    def __iter__(self) -> Iterator[bytes]:
        yield from self._chunks

    def close(self) -> None:
        try:
            self._chunks.close()
        finally:
            self._upstream.close()


class _AsyncBody:
    def __init__(self, chunks: AsyncGenerator[bytes, None], upstream: Any) -> None:
        self._chunks = chunks
        self._upstream = upstream

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self._chunks:
            yield chunk

    async def aclose(self) -> None:
        try:
            await self._chunks.aclose()
        finally:
            await self._upstream.aclose()


@dataclass(frozen=True, slots=True)
class _Lib:
    """One HTTP library: its module and its byte-stream classes for translated bodies."""

    http: Any
    body: type[_SyncBody]
    abody: type[_AsyncBody]


@functools.cache
def _httpx() -> _Lib:
    class Body(_SyncBody, httpx.SyncByteStream):
        pass

    class ABody(_AsyncBody, httpx.AsyncByteStream):
        pass

    return _Lib(httpx, Body, ABody)


@functools.cache
def _httpx2() -> _Lib:
    try:
        import httpx2
    except ImportError as exc:  # pragma: no cover - httpx2 comes with the openai SDK, on Python >= 3.11
        raise ImportError("the httpx2 transports need httpx2 (installed with the openai SDK, Python >= 3.11); "
                          "use MigratorTransport / AsyncMigratorTransport with httpx") from exc

    class Body(_SyncBody, httpx2.SyncByteStream):
        pass

    class ABody(_AsyncBody, httpx2.AsyncByteStream):
        pass

    return _Lib(httpx2, Body, ABody)


def _extensions(answer: Any) -> dict[str, Any]:
    version = answer.extensions.get("http_version")
    return {"http_version": version} if version is not None else {}


def _passthrough_request(bridge: _Bridge, http: Any, request: Any, route: _Route) -> Any:
    out = http.Request(request.method, route.url, headers=bridge.passthrough_headers(request.headers.multi_items()),
                       stream=request.stream, extensions=request.extensions)
    out.headers["Host"] = out.url.netloc.decode("ascii")  # Request sets Host only when it encodes the body itself
    return out


def _check_upstream(lib: _Lib, upstream: Any, base: str) -> None:
    """httpx and httpx2 are twins that do not mix: an upstream must be of the transport's own library."""
    expected = getattr(lib.http, base)
    if not isinstance(upstream, expected):
        raise TypeError(f"upstream must be an {lib.http.__name__}.{base} (the library of this transport), "
                        f"not {type(upstream).__module__}.{type(upstream).__qualname__}")


class _Edge:
    """What the sync and async edges share: the bridge, the library, the upstream."""

    _base = "BaseTransport"

    def __init__(self, lib: _Lib, upstream_api: UpstreamAPI, upstream: Any, upstream_url: str | None,
                 on_losses: LossCallback | None) -> None:
        _check_upstream(lib, upstream, self._base)
        self._lib = lib
        self._bridge = _Bridge(upstream_api, upstream_url, on_losses)
        self._upstream = upstream

    @property
    def upstream_api(self) -> UpstreamAPI:
        """What the upstream speaks."""
        return self._bridge.upstream_api

    def _reply(self, reply: _Reply, extensions: dict[str, Any] | None = None) -> Any:
        return self._lib.http.Response(reply.status, headers=reply.headers, content=reply.body, extensions=extensions or {})


class _SyncEdge(_Edge):
    def _handle(self, request: Any) -> Any:
        http, bridge = self._lib.http, self._bridge
        route = bridge.route(request.method, str(request.url))
        if not route.translated:
            answer = self._upstream.handle_request(_passthrough_request(bridge, http, request, route))
            return http.Response(answer.status_code, headers=bridge.passthrough_answer_headers(answer.headers.multi_items()),
                                 stream=answer.stream, extensions=answer.extensions)
        step = bridge.prepare(route, request.headers.multi_items(), request.read())
        if isinstance(step, _Reply):
            return self._reply(step)
        answer = self._upstream.handle_request(http.Request("POST", step.url, headers=step.headers, content=step.body,
                                                            extensions=request.extensions))
        headers = answer.headers.multi_items()
        if bridge.streams(step, answer.status_code, headers):
            try:
                out = bridge.stream_headers(step, headers)
            except BaseException:
                answer.close()
                raise
            body = self._lib.body(bridge.translate_stream(step, answer.iter_bytes()), answer)
            return http.Response(answer.status_code, headers=out, stream=body, extensions=_extensions(answer))
        try:
            content = answer.read()
        finally:
            answer.close()
        return self._reply(bridge.answer(step, answer.status_code, headers, content), _extensions(answer))


class _AsyncEdge(_Edge):
    _base = "AsyncBaseTransport"

    async def _handle(self, request: Any) -> Any:
        http, bridge = self._lib.http, self._bridge
        route = bridge.route(request.method, str(request.url))
        if not route.translated:
            answer = await self._upstream.handle_async_request(_passthrough_request(bridge, http, request, route))
            return http.Response(answer.status_code, headers=bridge.passthrough_answer_headers(answer.headers.multi_items()),
                                 stream=answer.stream, extensions=answer.extensions)
        step = bridge.prepare(route, request.headers.multi_items(), await request.aread())
        if isinstance(step, _Reply):
            return self._reply(step)
        answer = await self._upstream.handle_async_request(http.Request("POST", step.url, headers=step.headers,
                                                                        content=step.body, extensions=request.extensions))
        headers = answer.headers.multi_items()
        if bridge.streams(step, answer.status_code, headers):
            try:
                out = bridge.stream_headers(step, headers)
            except BaseException:
                await answer.aclose()
                raise
            body = self._lib.abody(bridge.atranslate_stream(step, answer.aiter_bytes()), answer)
            return http.Response(answer.status_code, headers=out, stream=body, extensions=_extensions(answer))
        try:
            content = await answer.aread()
        finally:
            await answer.aclose()
        return self._reply(bridge.answer(step, answer.status_code, headers, content), _extensions(answer))


# ---------------------------------------------------------------------------------------- the transports

_DOC = """

    ``upstream_api`` is what the upstream speaks: ``"responses"`` serves the client's
    ``POST …/chat/completions`` from ``POST {upstream_url}/responses``, ``"chat"`` serves
    ``POST …/responses`` from ``POST {upstream_url}/chat/completions``. Bodies, JSON answers and
    event streams are translated (streams as they arrive). Any other request (the upstream's own
    endpoint, ``/models``, …) passes through, body and answer streamed as they are, to
    ``{upstream_url}{path after /v1}``. With ``upstream_url=None`` requests go to the URL the client
    used, with only the path changed. ``upstream`` (a transport of the same library) sends them.

    Headers pass through (``Authorization`` included) less the hop-by-hop ones. Upstream errors keep
    their status and OpenAI's error shape; a request body migrator cannot translate is answered 400
    (``param`` names its JSON path) and never sent; a failed upstream Response is a 502, and an
    upstream answer that cannot be translated a 502 with ``x-should-retry: false``. Translated
    answers carry ``x-migrator-losses: <count>[; <path>, …]`` (the format of ``migrator serve``), and ``on_losses`` gets the list once per
    translated exchange (for a stream, the request's losses, when the stream starts).
    """


class MigratorTransport(_SyncEdge, httpx.BaseTransport):
    __doc__ = "An ``httpx`` transport that translates between the two OpenAI APIs." + _DOC

    def __init__(self, upstream_api: UpstreamAPI, *, upstream: httpx.BaseTransport | None = None,
                 upstream_url: str | None = None, on_losses: LossCallback | None = None) -> None:
        super().__init__(_httpx(), upstream_api, upstream if upstream is not None else httpx.HTTPTransport(), upstream_url,
                         on_losses)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        return cast(httpx.Response, self._handle(request))

    def close(self) -> None:
        self._upstream.close()


class AsyncMigratorTransport(_AsyncEdge, httpx.AsyncBaseTransport):
    __doc__ = "An async ``httpx`` transport that translates between the two OpenAI APIs." + _DOC

    def __init__(self, upstream_api: UpstreamAPI, *, upstream: httpx.AsyncBaseTransport | None = None,
                 upstream_url: str | None = None, on_losses: LossCallback | None = None) -> None:
        super().__init__(_httpx(), upstream_api, upstream if upstream is not None else httpx.AsyncHTTPTransport(),
                         upstream_url, on_losses)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return cast(httpx.Response, await self._handle(request))

    async def aclose(self) -> None:
        await self._upstream.aclose()


class Migrator2Transport(_SyncEdge, _Base2):
    __doc__ = "An ``httpx2`` transport (the openai SDK's client) that translates between the two OpenAI APIs." + _DOC

    def __init__(self, upstream_api: UpstreamAPI, *, upstream: httpx2.BaseTransport | None = None,
                 upstream_url: str | None = None, on_losses: LossCallback | None = None) -> None:
        lib = _httpx2()
        super().__init__(lib, upstream_api, upstream if upstream is not None else lib.http.HTTPTransport(), upstream_url,
                         on_losses)

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        return cast("httpx2.Response", self._handle(request))

    def close(self) -> None:
        self._upstream.close()


class AsyncMigrator2Transport(_AsyncEdge, _AsyncBase2):
    __doc__ = "An async ``httpx2`` transport (the openai SDK's client) that translates between the two OpenAI APIs." + _DOC

    def __init__(self, upstream_api: UpstreamAPI, *, upstream: httpx2.AsyncBaseTransport | None = None,
                 upstream_url: str | None = None, on_losses: LossCallback | None = None) -> None:
        lib = _httpx2()
        super().__init__(lib, upstream_api, upstream if upstream is not None else lib.http.AsyncHTTPTransport(),
                         upstream_url, on_losses)

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        return cast("httpx2.Response", await self._handle(request))

    async def aclose(self) -> None:
        await self._upstream.aclose()
