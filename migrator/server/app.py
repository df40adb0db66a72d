"""The ASGI app of ``migrator serve``: both endpoints over one backend, with state.

A backend speaks one dialect natively (the offline model and a responses
upstream speak Responses; a chat upstream speaks Chat). A request in the
backend's dialect is passed through; the other is translated by the mapping
engine on the way in and on the way back, streams frame by frame. Responses
are stored (unless ``store: false``) so ``previous_response_id`` and the
retrieve/delete/input_items endpoints work over a stateless upstream.
"""

from __future__ import annotations

import contextlib
import hmac
import json
import sys
import traceback
import uuid
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse as StarletteJSONResponse
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from ..mapping import MappingError, Translation, translate
from ..mapping.json_text import loads as json_loads
from ..mapping.rules import TABLES
from ..streams import SSEEncoder, StreamError, StreamTranslator, aiter_frame_batches
from ..streams.sse import encode_chat
from .items import normalize_input
from .logs import AccessLog, AccessRecord
from .store import ResponseStore
from .upstream import Backend, UpstreamError, error_json

SSE_HEADERS = {"cache-control": "no-cache", "x-accel-buffering": "no"}
_OPENING = frozenset({"response.created", "response.in_progress"})
_JSON = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode


class JSONResponse(StarletteJSONResponse):
    """Starlette's JSONResponse with one encoder for all (json.dumps with options builds one per call)."""

    def render(self, content: Any) -> bytes:
        return _JSON(content).encode("utf-8")


@dataclass
class Limits:
    """Documented defaults: 16 MiB request bodies, 256 requests at once (more get 429)."""

    max_body_bytes: int = 16 * 1024 * 1024
    max_concurrency: int = 256


@dataclass
class ServerState:
    backend: Backend
    store: ResponseStore
    log: AccessLog
    api_key: str | None = None
    offline: bool = False
    limits: Limits = field(default_factory=Limits)
    active: int = 0


class HTTPError(Exception):
    def __init__(self, status: int, message: str, type_: str = "invalid_request_error", code: str | None = None,
                 param: str | None = None) -> None:
        self.status = status
        self.body = error_json(message, type_, code, param)
        super().__init__(message)


def _error(status: int, body: dict[str, Any], request_id: str) -> JSONResponse:
    return JSONResponse(body, status_code=status, headers={"x-request-id": request_id})


async def _read_json(request: Request, limits: Limits) -> dict[str, Any]:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limits.max_body_bytes:
        raise HTTPError(413, f"the request body is larger than {limits.max_body_bytes} bytes", code="request_too_large")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limits.max_body_bytes:
            raise HTTPError(413, f"the request body is larger than {limits.max_body_bytes} bytes", code="request_too_large")
        chunks.append(chunk)
    try:
        body = json_loads(b"".join(chunks))
    except MappingError as exc:  # NaN, a lone surrogate, a huge integer, deep nesting: JSON the API refuses
        raise _mapping_error(exc, "invalid_json") from None
    except ValueError as exc:  # a syntax error, or bytes that are not UTF-8
        raise HTTPError(400, f"We could not parse the JSON body of your request: {exc}", code="invalid_json") from None
    if not isinstance(body, dict):
        raise HTTPError(400, "the request body must be a JSON object", code="invalid_json")
    return body


def _check_params(body: dict[str, Any], table: str) -> None:
    """As the API does: a top-level parameter the endpoint does not know is a 400 naming it."""
    known = TABLES[table]
    for key in body:
        if key not in known:
            raise HTTPError(400, f"Unrecognized request argument supplied: {key}", code="unknown_parameter", param=key)


def param_of(path: str | None) -> str | None:
    """A JSON path as the API's ``param`` names it: ``$.messages[0].role`` -> ``messages[0].role``.

    One style on both endpoints, the API's own (the offline model's checks already use it);
    the whole body (``$``) is no parameter: None.
    """
    if not path or path == "$":
        return None
    if path.startswith("$."):
        return path[2:]
    return path[1:] if path.startswith("$") else path


def _mapping_error(exc: MappingError, code: str = "invalid_request_body") -> HTTPError:
    first = exc.problems[0] if exc.problems else None
    return HTTPError(400, str(exc), code=code, param=param_of(first.path) if first else None)


def _translate_request(body: dict[str, Any], to: str) -> Translation:
    """A client's body in the other dialect; anything that stops the engine is the client's 400.

    The engine reports bad input as ``MappingError``; a TypeError or the like from it on a
    client's body is still the body's fault (a shape it does not expect), so it is a 400 too,
    and the server log keeps the traceback for the engine's maintainers.
    """
    try:
        return translate(body, to)  # type: ignore[arg-type]
    except MappingError as exc:
        raise _mapping_error(exc) from None
    except (TypeError, ValueError, KeyError, AttributeError, IndexError, RecursionError) as exc:
        where = traceback.extract_tb(exc.__traceback__)[-1]
        sys.stderr.write(f"migrator serve: the engine raised {type(exc).__name__} on a request body "
                         f"({where.filename}:{where.lineno}): {exc}; answered 400\n")
        raise HTTPError(400, f"migrator cannot translate this request body ({type(exc).__name__}); check the types of "
                        "its fields against the API reference", code="invalid_request_body") from None


def _log_exception(what: str) -> None:
    """The traceback goes to the server's stderr, never to the client."""
    sys.stderr.write(f"migrator serve: unexpected error while {what}:\n{traceback.format_exc()}")
    sys.stderr.flush()


_INTERNAL = "migrator hit an internal error; the server log has the details under this request's x-request-id"


def _upstream_headers(request: Request, request_id: str) -> dict[str, str]:
    headers = {"x-request-id": request_id}
    auth = request.headers.get("authorization")
    if auth:
        headers["authorization"] = auth
    for name in ("openai-organization", "openai-project"):
        if name in request.headers:
            headers[name] = request.headers[name]
    return headers


def _tokens(usage: Any) -> int | None:
    if not isinstance(usage, dict):
        return None
    total = usage.get("total_tokens")
    return total if isinstance(total, int) else None


class Server:
    """Request handlers bound to one state; ``app`` is the Starlette application."""

    def __init__(self, state: ServerState) -> None:
        self.state = state
        self.app = Starlette(routes=[
            Route("/v1/responses", self.responses, methods=["POST"]),
            Route("/v1/chat/completions", self.chat, methods=["POST"]),
            Route("/v1/responses/{response_id}", self.get_response, methods=["GET"]),
            Route("/v1/responses/{response_id}", self.delete_response, methods=["DELETE"]),
            Route("/v1/responses/{response_id}/input_items", self.input_items, methods=["GET"]),
            Route("/v1/models", self.models, methods=["GET"]),
            Route("/health", self.health, methods=["GET"]),
            Route("/healthz", self.health, methods=["GET"]),
        ], lifespan=self._lifespan, exception_handlers={StarletteHTTPException: self._http_exception,
                                                         Exception: self._internal_error})

    async def _http_exception(self, request: Request, exc: Exception) -> Response:
        """Unknown paths and methods answer as the API does: its error JSON, and an access-log line."""
        status = exc.status_code if isinstance(exc, StarletteHTTPException) else 500
        where = f"({request.method} {request.url.path})"
        if status == 404:
            body = error_json(f"Invalid URL {where}", "invalid_request_error", "unknown_url")
        elif status == 405:
            body = error_json(f"Invalid method for URL {where}", "invalid_request_error", "method_not_allowed")
        else:
            body = error_json(str(getattr(exc, "detail", "")) or f"HTTP {status}", "invalid_request_error")
        return self._logged_error(request, status, body)

    async def _internal_error(self, request: Request, exc: Exception) -> Response:
        return self._logged_error(request, 500, error_json(_INTERNAL, "server_error", "internal_error"))

    def _logged_error(self, request: Request, status: int, body: dict[str, Any]) -> Response:
        request_id = request.headers.get("x-request-id") or "req_" + uuid.uuid4().hex
        record = AccessRecord(request_id=request_id, method=request.method, path=request.url.path, endpoint="-", status=status)
        record.finish()
        self.state.log.write(record)
        return _error(status, body, request_id)

    @contextlib.asynccontextmanager
    async def _lifespan(self, app: Starlette) -> AsyncIterator[None]:
        yield
        await self.state.backend.aclose()
        self.state.store.close()

    # ------------------------------------------------------------ the frame

    async def _handle(self, request: Request, endpoint: str,
                      work: Callable[[Request, AccessRecord], Awaitable[Response]]) -> Response:
        """Auth, limits, request id and the access log around one handler."""
        state = self.state
        request_id = request.headers.get("x-request-id") or "req_" + uuid.uuid4().hex
        record = AccessRecord(request_id=request_id, method=request.method, path=request.url.path, endpoint=endpoint)
        request.state.request_id = request_id
        if state.api_key is not None:
            auth = request.headers.get("authorization", "")
            token = auth[7:] if auth[:7].lower() == "bearer " else ""
            if not hmac.compare_digest(token.encode(), state.api_key.encode()):
                record.status = 401
                state.log.write(record)
                return _error(401, error_json("Incorrect API key provided.", "invalid_request_error", "invalid_api_key"),
                              request_id)
        if state.active >= state.limits.max_concurrency:
            record.status = 429
            state.log.write(record)
            return _error(429, error_json("the server is at its concurrency limit; retry shortly", "rate_limit_error",
                                          "server_busy"), request_id)
        state.active += 1
        streaming = False
        try:
            response = await work(request, record)
            if isinstance(response, StreamingResponse):
                # A stream is in flight until its body ends: the count drops there, not here.
                response.body_iterator = self._counted(response.body_iterator)
                streaming = True
        except HTTPError as exc:
            response = _error(exc.status, exc.body, request_id)
        except UpstreamError as exc:
            record.upstream_status = exc.status
            response = _error(exc.status, exc.body, request_id)
        except MappingError as exc:
            response = _error(400, _mapping_error(exc).body, request_id)
        except ClientDisconnect:
            response = Response(status_code=499)
        except Exception:  # the last resort: an OpenAI-shaped 500, logged, no traceback to the client
            _log_exception(f"handling {request.method} {request.url.path} ({request_id})")
            response = _error(500, error_json(_INTERNAL, "server_error", "internal_error"), request_id)
        finally:
            if not streaming:
                state.active -= 1
        response.headers["x-request-id"] = request_id
        record.status = response.status_code
        if not isinstance(response, StreamingResponse):
            record.finish()
            state.log.write(record)
        return response

    async def _counted(self, body: AsyncIterable[Any]) -> AsyncIterator[Any]:
        try:
            async for chunk in body:
                yield chunk
        finally:
            self.state.active -= 1

    async def _body(self, request: Request, dialect: str) -> dict[str, Any]:
        """The request body, with its parameters checked here when no native upstream will check them."""
        body = await _read_json(request, self.state.limits)
        if self.state.offline or self.state.backend.api != dialect:
            _check_params(body, f"{dialect}.request")
        return body

    # ------------------------------------------------------------ POST /v1/responses

    async def responses(self, request: Request) -> Response:
        return await self._handle(request, "responses", self._responses)

    async def _responses(self, request: Request, record: AccessRecord) -> Response:
        state = self.state
        body = await self._body(request, "responses")
        prev_id = body.get("previous_response_id")
        context: list[dict[str, Any]] = []
        if prev_id is not None and not isinstance(prev_id, str):
            raise HTTPError(400, "Invalid type for 'previous_response_id': expected a string.", code="invalid_type",
                            param="previous_response_id")
        if prev_id is not None:
            history = state.store.history(prev_id)
            if history is None:
                raise HTTPError(404, f"Previous response with id '{prev_id}' not found.", code="previous_response_not_found",
                                param="previous_response_id")
            context = history
        raw_input = body.get("input", [])
        if raw_input is not None and not isinstance(raw_input, (str, list)):
            raise HTTPError(400, "Invalid type for 'input': expected a string or an array of input items.",
                            code="invalid_type", param="input")
        given = [{"role": "user", "content": raw_input}] if isinstance(raw_input, str) else list(raw_input or [])
        full = context + given  # what a follow-up continues; sent upstream as the client wrote it
        upstream_body = dict(body)
        upstream_body.pop("previous_response_id", None)
        if prev_id is not None:
            upstream_body["input"] = full
        headers = _upstream_headers(request, record.request_id)
        backend = state.backend
        record.direction = "native" if backend.api == "responses" else "responses→chat"

        def keep(response: dict[str, Any]) -> dict[str, Any]:
            if prev_id is not None:
                response["previous_response_id"] = prev_id
            if body.get("store", True) is not False and isinstance(response.get("id"), str):
                # Typed and with ids, as the API lists them; made here, after the answer, not before the first token.
                state.store.put(response, normalize_input(given, "req:" + record.request_id), full)
            return response

        if body.get("stream") is True:
            return await self._responses_stream(upstream_body, body, headers, record, keep)
        if backend.api == "responses":
            answer = await backend.send(upstream_body, headers)
            record.upstream_status = answer.status
            result = answer.body
        else:
            chat_body = self._to_chat(upstream_body, record)
            answer = await backend.send(chat_body, headers)
            record.upstream_status = answer.status
            result = self._result(answer.body, "responses", record, request=upstream_body)
        record.tokens = _tokens(result.get("usage"))
        return JSONResponse(keep(result))

    def _to_chat(self, body: dict[str, Any], record: AccessRecord) -> dict[str, Any]:
        t = _translate_request(body, "chat")
        record.losses += len(t.losses)
        return t.body

    def _result(self, body: dict[str, Any], to: str, record: AccessRecord, request: dict[str, Any] | None = None) -> dict[str, Any]:
        try:
            t = translate(body, to, request=request)  # type: ignore[arg-type]
        except MappingError as exc:
            raise UpstreamError(502, error_json(f"the upstream's answer cannot be translated: {exc}", "upstream_error")) from None
        record.losses += len(t.losses)
        if t.target == "error":
            raise UpstreamError(502, t.body)
        return t.body

    async def _responses_stream(self, upstream_body: dict[str, Any], body: dict[str, Any], headers: dict[str, str],
                                record: AccessRecord, keep: Callable[[dict[str, Any]], dict[str, Any]]) -> Response:
        backend = self.state.backend
        if backend.api == "responses":
            source = await backend.stream(upstream_body, headers)
            translator = StreamTranslator("responses")  # a passthrough that still tells a break from an end
        else:
            chat_body = self._to_chat(upstream_body, record)
            chat_body["stream"] = True
            chat_body.setdefault("stream_options", {})["include_usage"] = True
            source = await backend.stream(chat_body, headers)
            translator = StreamTranslator("responses", request=upstream_body)
        record.upstream_status = 200

        return self._stream(source, translator, record, lambda out: self._watch_terminal(out, keep, record))

    def _watch_terminal(self, event: dict[str, Any], keep: Callable[[dict[str, Any]], dict[str, Any]], record: AccessRecord) -> None:
        if event.get("type") in ("response.completed", "response.incomplete", "response.failed"):
            response = event.get("response")
            if isinstance(response, dict):
                record.tokens = _tokens(response.get("usage"))
                keep(response)

    # ------------------------------------------------------------ POST /v1/chat/completions

    async def chat(self, request: Request) -> Response:
        return await self._handle(request, "chat.completions", self._chat)

    async def _chat(self, request: Request, record: AccessRecord) -> Response:
        state = self.state
        body = await self._body(request, "chat")
        headers = _upstream_headers(request, record.request_id)
        backend = state.backend
        streaming = body.get("stream") is True
        if backend.api == "chat":
            record.direction = "native"
            if streaming:
                return self._relay(await backend.stream(body, headers), record)
            answer = await backend.send(body, headers)
            record.upstream_status = answer.status
            record.tokens = _tokens(answer.body.get("usage"))
            return JSONResponse(answer.body)
        record.direction = "chat→responses"
        t = _translate_request(body, "responses")
        record.losses += len(t.losses)
        upstream_body = t.body
        if streaming:
            options = body.get("stream_options")
            include_usage = isinstance(options, dict) and options.get("include_usage") is True
            source = await backend.stream(upstream_body, headers)
            record.upstream_status = 200
            return self._translated_chat_stream(source, include_usage, record)
        answer = await backend.send(upstream_body, headers)
        record.upstream_status = answer.status
        result = self._result(answer.body, "chat", record)
        record.tokens = _tokens(result.get("usage"))
        return JSONResponse(result)

    def _relay(self, source: AsyncIterator[bytes], record: AccessRecord) -> StreamingResponse:
        async def body() -> AsyncIterator[bytes]:
            try:
                async for chunk in source:
                    record.first_token()
                    yield chunk
            except UpstreamError as exc:
                yield encode_chat(exc.body)
            finally:
                record.finish()
                self.state.log.write(record)

        record.upstream_status = 200
        return StreamingResponse(body(), media_type="text/event-stream", headers=SSE_HEADERS)

    def _translated_chat_stream(self, source: AsyncIterator[bytes], include_usage: bool, record: AccessRecord) -> StreamingResponse:
        def watch(out: dict[str, Any]) -> None:
            if out.get("usage"):
                record.tokens = _tokens(out["usage"])

        return self._stream(source, StreamTranslator("chat", include_usage=include_usage), record, watch)

    def _stream(self, source: AsyncIterator[bytes], translator: StreamTranslator, record: AccessRecord,
                watch: Callable[[dict[str, Any]], None]) -> StreamingResponse:
        """Upstream SSE → translated SSE, frame by frame; a failure after the first byte ends the
        stream with an error frame of the client's dialect (the status line is already sent)."""
        encoder = SSEEncoder(translator.to)

        async def body() -> AsyncIterator[bytes]:
            sent = 0
            try:
                # One write per upstream chunk: the events a chunk becomes (created, in_progress,
                # item and part added, the first delta...) go out together, not a syscall each.
                # The opening events (response.created, .in_progress) wait for the first content and
                # go out with it: under load every write is a turn of the event loop, and the
                # opening ones would only push the first token back.
                data: list[bytes] = []
                async for batch in aiter_frame_batches(source):
                    opening = True
                    for frame in batch:
                        for out in translator.feed(frame):
                            watch(out)
                            data.append(encoder.encode(out))
                            opening = opening and out.get("type") in _OPENING
                    if data and not opening:
                        record.first_token()
                        sent += len(data)
                        yield b"".join(data)
                        data = []
                if data:
                    yield b"".join(data)
                for out in translator.finish():
                    watch(out)
                    yield encoder.encode(out)
                tail = encoder.close()
                if tail:
                    yield tail
            except (UpstreamError, StreamError) as exc:
                message = exc.body["error"]["message"] if isinstance(exc, UpstreamError) else str(exc)
                if translator.to == "chat":
                    yield encoder.encode(exc.body if isinstance(exc, UpstreamError) else error_json(message))
                else:
                    yield encoder.encode({"type": "error", "code": "server_error", "message": message, "param": None,
                                          "sequence_number": sent})
            finally:
                record.finish()
                self.state.log.write(record)

        return StreamingResponse(body(), media_type="text/event-stream", headers=SSE_HEADERS)

    # ------------------------------------------------------------ stored responses

    async def get_response(self, request: Request) -> Response:
        async def work(request: Request, record: AccessRecord) -> Response:
            response_id = request.path_params["response_id"]
            stored = self.state.store.get(response_id)
            if stored is None:
                raise HTTPError(404, f"No response found with id '{response_id}'.", code="not_found")
            return JSONResponse(stored)
        return await self._handle(request, "responses.retrieve", work)

    async def delete_response(self, request: Request) -> Response:
        async def work(request: Request, record: AccessRecord) -> Response:
            response_id = request.path_params["response_id"]
            if not self.state.store.delete(response_id):
                raise HTTPError(404, f"No response found with id '{response_id}'.", code="not_found")
            return JSONResponse({"id": response_id, "object": "response.deleted", "deleted": True})
        return await self._handle(request, "responses.delete", work)

    async def input_items(self, request: Request) -> Response:
        async def work(request: Request, record: AccessRecord) -> Response:
            response_id = request.path_params["response_id"]
            query = request.query_params
            try:
                limit = int(query.get("limit", "20"))
            except ValueError:
                raise HTTPError(400, "limit must be an integer from 1 to 100", param="limit") from None
            if not 1 <= limit <= 100:
                raise HTTPError(400, "limit must be an integer from 1 to 100", param="limit")
            order = query.get("order", "desc")
            if order not in ("asc", "desc"):
                raise HTTPError(400, "order must be asc or desc", param="order")
            page = self.state.store.list_input_items(response_id, limit=limit, order=order, after=query.get("after"))
            if page is None:
                raise HTTPError(404, f"No response found with id '{response_id}'.", code="not_found")
            return JSONResponse(page)
        return await self._handle(request, "responses.input_items", work)

    # ------------------------------------------------------------ models, health

    async def models(self, request: Request) -> Response:
        async def work(request: Request, record: AccessRecord) -> Response:
            return JSONResponse(await self.state.backend.models(_upstream_headers(request, record.request_id)))
        return await self._handle(request, "models", work)

    async def health(self, request: Request) -> Response:
        return JSONResponse({"status": "ok", "mode": "offline" if self.state.offline else "bridge",
                             "upstream_api": self.state.backend.api, "active_requests": self.state.active})


def create_app(state: ServerState) -> Starlette:
    return Server(state).app

