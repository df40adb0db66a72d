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
import copy
import hmac
import json
import random
import re
import secrets
import sys
import time
import traceback
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse as StarletteJSONResponse
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from ..mapping import Dialect, MappingError, Translation, translate
from ..mapping.api_error import error_body, error_event
from ..mapping.json_text import loads as json_loads
from ..mapping.params import UNKNOWN_PARAMETER, unknown_parameters, unrecognized
from ..mapping.rules import TABLES
from ..streams import SSEEncoder, StreamError, StreamTranslator, aiter_frame_batches
from ..streams.finished import finished_events
from ..streams.sse import encode_chat, encode_responses
from .capture import Capture
from .items import normalize_input
from .logs import AccessLog, AccessRecord
from .losses import LOSSES_HEADER, header_value, strict_message
from .store import ResponseStore, owner_of
from .upstream import AnsweredJSON, Backend, UpstreamError

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
    strict: bool = False
    limits: Limits = field(default_factory=Limits)
    active: int = 0
    capture: Capture | None = None  # --capture: sampled chat requests appended as replay corpus lines


class HTTPError(Exception):
    def __init__(self, status: int, message: str, type_: str = "invalid_request_error", code: str | None = None,
                 param: str | None = None) -> None:
        self.status = status
        self.body = error_body(message, type_, code, param)
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
    unknown = unknown_parameters(body, TABLES[table])
    if unknown:
        raise HTTPError(400, unrecognized(unknown[0]), code=UNKNOWN_PARAMETER, param=unknown[0])


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


def _translate_request(body: dict[str, Any], to: Dialect) -> Translation:
    """A client's body in the other dialect; a body the engine cannot read is the client's 400.

    The engine's contract (proved by its fuzz tests) is a Translation or a
    MappingError; anything else is a bug of migrator's, which the last-resort
    handler answers with a 500 and a logged traceback rather than blaming the client.
    """
    try:
        return translate(body, to)
    except MappingError as exc:
        raise _mapping_error(exc) from None


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


_STEP = re.compile(r"\.([A-Za-z_][\w-]*)|\[(\d+)\]")


def _without_paths(body: dict[str, Any], paths: list[str]) -> dict[str, Any]:
    """``body`` less the values at ``paths`` (``$.truncation``, ``$.tools[0]``, ``$.reasoning.summary``).

    The Response echoes the request's parameters; one the upstream never received (a loss) is
    left out of the echo rather than shown as if it had been used.
    """
    # A Response does not echo its input, and a part of it less the field that was lost (an image
    # without its file_id) is no valid part: the echo is checked, so input stays as the client sent it.
    paths = [p for p in paths if not p.startswith(("$.input[", "$.input."))]
    if not paths:
        return body
    out = copy.deepcopy(body)
    for path in sorted(paths, key=lambda p: [int(i) if i else -1 for _, i in _STEP.findall(p)], reverse=True):
        steps = _STEP.findall(path[1:]) if path.startswith("$") else []
        if not steps or "".join(f".{k}" if k else f"[{i}]" for k, i in steps) != path[1:]:
            continue  # a path this simple walk does not read: the echo keeps it
        node: Any = out
        for key, index in steps[:-1]:
            if key and type(node) is dict:
                node = node.get(key)
            elif index and type(node) is list and int(index) < len(node):
                node = node[int(index)]
            else:
                break
        key, index = steps[-1]
        if key and type(node) is dict:
            node.pop(key, None)
        elif index and type(node) is list and int(index) < len(node):
            del node[int(index)]
    return out


def _add_usage(total: dict[str, Any] | None, more: Any) -> dict[str, Any] | None:
    """Chat usage of the ``n`` choices: one prompt, the completions summed."""
    if not isinstance(more, dict):
        return total
    if total is None:
        return dict(more)
    total["completion_tokens"] = total.get("completion_tokens", 0) + more.get("completion_tokens", 0)
    total["total_tokens"] = total.get("prompt_tokens", 0) + total["completion_tokens"]  # the prompt is read once
    return total


def _bearer(request: Request) -> str:
    auth = request.headers.get("authorization", "")
    return auth[7:].strip() if auth[:7].lower() == "bearer " else ""


def _owner(request: Request) -> str:
    """Whose stored responses a request may see: its bearer token's hash (no token: the anonymous owner)."""
    return owner_of(_bearer(request))


def _tokens(usage: Any) -> int | None:
    if not isinstance(usage, dict):
        return None
    total = usage.get("total_tokens")
    return total if isinstance(total, int) else None


class _App(Starlette):
    """Starlette, with the two POST endpoints dispatched straight to their handlers.

    Their handler (``Server._handle``) already answers every exception itself, so the router's
    match loop and the two exception middlewares only cost time there (about a tenth of the
    bridge's CPU on a translated request, in a profile). Everything else, lifespan included, goes
    through Starlette as before.
    """

    hot: dict[str, Callable[[Request], Awaitable[Response]]]

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        handler = self.hot.get(scope["path"]) if scope["type"] == "http" and scope["method"] == "POST" else None
        if handler is None or scope.get("root_path"):
            await super().__call__(scope, receive, send)
            return
        scope["app"] = self
        response = await handler(Request(scope, receive))
        await response(scope, receive, send)


def _path(request: Request) -> str:
    """The request's path as the access log shows it (``request.url.path`` without building a URL)."""
    scope = request.scope
    return str(scope.get("root_path", "")) + str(scope["path"])


_ids = random.Random()  # request ids correlate log lines, they guard nothing: no system call for each (response ids use secrets)


def _request_id(request: Request) -> str:
    """The client's ``x-request-id``, or a new one: ``req_`` and 32 random hex digits."""
    return request.headers.get("x-request-id") or f"req_{_ids.getrandbits(128):032x}"


class Server:
    """Request handlers bound to one state; ``app`` is the Starlette application."""

    def __init__(self, state: ServerState) -> None:
        self.state = state
        self.app = _App(routes=[
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
        self.app.hot = {"/v1/responses": self.responses, "/v1/chat/completions": self.chat}

    async def _http_exception(self, request: Request, exc: Exception) -> Response:
        """Unknown paths and methods answer as the API does: its error JSON, and an access-log line."""
        status = exc.status_code if isinstance(exc, StarletteHTTPException) else 500
        where = f"({request.method} {request.url.path})"
        if status == 404:
            body = error_body(f"Invalid URL {where}", "invalid_request_error", "unknown_url")
        elif status == 405:
            body = error_body(f"Invalid method for URL {where}", "invalid_request_error", "method_not_allowed")
        else:
            body = error_body(str(getattr(exc, "detail", "")) or f"HTTP {status}", "invalid_request_error")
        return self._logged_error(request, status, body)

    async def _internal_error(self, request: Request, exc: Exception) -> Response:
        return self._logged_error(request, 500, error_body(_INTERNAL, "server_error", "internal_error"))

    def _logged_error(self, request: Request, status: int, body: dict[str, Any]) -> Response:
        request_id = _request_id(request)
        record = AccessRecord(request_id=request_id, method=request.method, path=_path(request), endpoint="-", status=status)
        record.finish()
        self.state.log.write(record)
        return _error(status, body, request_id)

    @contextlib.asynccontextmanager
    async def _lifespan(self, app: Starlette) -> AsyncIterator[None]:
        yield
        await self.state.backend.aclose()
        self.state.store.close()
        if self.state.capture is not None:
            self.state.capture.close()

    # ------------------------------------------------------------ the frame

    async def _handle(self, request: Request, endpoint: str,
                      work: Callable[[Request, AccessRecord], Awaitable[Response]]) -> Response:
        """Auth, limits, request id and the access log around one handler."""
        state = self.state
        request_id = _request_id(request)
        record = AccessRecord(request_id=request_id, method=request.method, path=_path(request), endpoint=endpoint)
        request.state.request_id = request_id
        if state.api_key is not None:
            token = _bearer(request)
            if not hmac.compare_digest(token.encode(), state.api_key.encode()):
                record.status = 401
                state.log.write(record)
                return _error(401, error_body("Incorrect API key provided.", "invalid_request_error", "invalid_api_key"),
                              request_id)
        if state.active >= state.limits.max_concurrency:
            record.status = 429
            state.log.write(record)
            return _error(429, error_body("the server is at its concurrency limit; retry shortly", "rate_limit_error",
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
            _log_exception(f"handling {request.method} {_path(request)} ({request_id})")
            response = _error(500, error_body(_INTERNAL, "server_error", "internal_error"), request_id)
        finally:
            if not streaming:
                state.active -= 1
        response.headers["x-request-id"] = request_id
        if record.note is not None:
            response.headers["x-migrator-note"] = record.note
        if record.direction not in ("-", "native") and response.status_code < 400:
            # A stream's header says what its request lost; the access log adds the answer's losses.
            response.headers[LOSSES_HEADER] = header_value(record.loss_paths, record.losses)
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
        capture = self.state.capture
        if capture is not None and dialect == "chat":  # before the checks: a refused request is traffic too
            capture.offer(body, request.state.request_id, minted=not request.headers.get("x-request-id"))
        if self.state.offline or self.state.backend.api != dialect:
            _check_params(body, f"{dialect}.request")
        return body

    # ------------------------------------------------------------ POST /v1/responses

    async def responses(self, request: Request) -> Response:
        return await self._handle(request, "responses", self._responses)

    @property
    def passthrough(self) -> bool:
        """A responses upstream keeps its own state: ids, storage and chains are its business."""
        return not self.state.offline and self.state.backend.api == "responses"

    async def _responses(self, request: Request, record: AccessRecord) -> Response:
        state = self.state
        body = await self._body(request, "responses")
        headers = _upstream_headers(request, record.request_id)
        backend = state.backend
        if self.passthrough:
            record.direction = "native"
            if body.get("stream") is True:
                source = await self._open_stream(body, headers, record, echo=body)
                record.upstream_status = 200
                return self._stream(source, StreamTranslator("responses"), record,
                                    lambda out: self._watch_terminal(out, None, record))
            answer = await backend.send(body, headers)
            record.upstream_status = answer.status
            record.tokens = _tokens(answer.body.get("usage"))
            return JSONResponse(answer.body)
        owner = _owner(request)
        prev_id = body.get("previous_response_id")
        context: list[dict[str, Any]] = []
        if prev_id is not None and not isinstance(prev_id, str):
            raise HTTPError(400, "Invalid type for 'previous_response_id': expected a string.", code="invalid_type",
                            param="previous_response_id")
        if prev_id is not None:
            history = state.store.history(prev_id, owner)
            if history is None:  # never made, expired, deleted, or another credential's: the same 404
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
        record.direction = "native" if backend.api == "responses" else "responses→chat"
        # The id the client sees and the store keys: minted here, unguessable, whatever id the
        # upstream sent (upstreams that repeat ids would otherwise make two users share one).
        response_id = "resp_" + secrets.token_hex(24)

        def stamp(response: dict[str, Any]) -> None:
            response["id"] = response_id
            if prev_id is not None:
                response["previous_response_id"] = prev_id

        def save(response: dict[str, Any], encoded: str | None = None) -> None:
            """Store it (unless ``store: false``); ``encoded``: its JSON, when the answer's is made already."""
            if body.get("store", True) is not False:
                # Typed and with ids, as the API lists them; made here, after the answer, not before the first token.
                state.store.put(response, normalize_input(given, "req:" + record.request_id), full, owner, encoded)

        def keep(response: dict[str, Any]) -> dict[str, Any]:
            stamp(response)
            save(response)
            return response

        if body.get("stream") is True:
            return await self._responses_stream(upstream_body, headers, record, keep, response_id)
        if backend.api == "responses":
            answer = await backend.send(upstream_body, headers)
            record.upstream_status = answer.status
            result = answer.body
        else:
            chat_body = self._to_chat(upstream_body, record)
            answer = await backend.send(chat_body, headers)
            record.upstream_status = answer.status
            result = self._result(answer.body, "responses", record, request=_without_paths(upstream_body, record.loss_paths))
        record.tokens = _tokens(result.get("usage"))
        stamp(result)
        encoded = _JSON(result)  # once, for the client and the store
        save(result, encoded)
        return Response(encoded.encode("utf-8"), media_type="application/json")

    def _to_chat(self, body: dict[str, Any], record: AccessRecord) -> dict[str, Any]:
        return self._translate_request(body, "chat", record)

    def _translate_request(self, body: dict[str, Any], to: Dialect, record: AccessRecord) -> dict[str, Any]:
        """The client's body for the backend; with ``--strict`` a loss is the client's 400, as the API
        answers a parameter it does not support, naming every one."""
        t = _translate_request(body, to)
        if t.losses and self.state.strict:
            raise HTTPError(400, strict_message(t.losses, to), code="unsupported_parameter", param=param_of(t.losses[0].path))
        record.add_losses(t.losses)
        return t.body

    def _result(self, body: dict[str, Any], to: Dialect, record: AccessRecord, request: dict[str, Any] | None = None) -> dict[str, Any]:
        try:
            t = translate(body, to, request=request)
        except MappingError as exc:
            raise UpstreamError(502, error_body(f"the upstream's answer cannot be translated: {exc}", "upstream_error")) from None
        record.add_losses(t.losses)
        if t.target == "error":
            raise UpstreamError(502, t.body)
        return t.body

    async def _responses_stream(self, upstream_body: dict[str, Any], headers: dict[str, str], record: AccessRecord,
                                keep: Callable[[dict[str, Any]], dict[str, Any]], response_id: str) -> Response:
        backend = self.state.backend
        if backend.api == "responses":
            source = await self._open_stream(upstream_body, headers, record, echo=upstream_body)
            translator = StreamTranslator("responses")  # a passthrough that still tells a break from an end
        else:
            chat_body = self._to_chat(upstream_body, record)
            chat_body["stream"] = True
            chat_body.setdefault("stream_options", {})["include_usage"] = True
            echo = _without_paths(upstream_body, record.loss_paths)
            source = await self._open_stream(chat_body, headers, record, echo=echo)
            translator = StreamTranslator("responses", request=echo)
        record.upstream_status = 200

        def watch(out: dict[str, Any]) -> None:
            snapshot = out.get("response")
            if type(snapshot) is dict:
                snapshot["id"] = response_id  # every snapshot names the stored id, from response.created on
            self._watch_terminal(out, keep, record)

        return self._stream(source, translator, record, watch)

    async def _open_stream(self, body: dict[str, Any], headers: dict[str, str], record: AccessRecord, *,
                           echo: dict[str, Any] | None = None, chat_usage: bool | None = None) -> AsyncIterator[bytes]:
        """The backend's event stream; an upstream that answered JSON instead is said so and,
        when that JSON is a whole answer, streamed as the events of a finished Response.

        ``chat_usage`` set: the caller relays the bytes to a chat client as they are, so the
        synthesized stream is chat chunks (with a usage chunk if it is True), else Responses events.
        """
        try:
            return await self.state.backend.stream(body, headers)
        except AnsweredJSON as exc:
            answer = exc.body
        record.note = "the upstream answered the stream request with JSON, not an event stream"
        kind = answer.get("object") if type(answer) is dict else None
        if kind == "response" and type(answer.get("output")) is list:
            response = answer
        elif kind == "chat.completion" and type(answer.get("choices")) is list:
            response = self._result(answer, "responses", record, request=echo)
        else:
            error = answer.get("error") if type(answer) is dict else None
            said = error.get("message") if type(error) is dict else None
            raise UpstreamError(502, error_body(
                f"{record.note}, and the JSON is not a whole answer" + (f": {said}" if isinstance(said, str) else ""),
                "upstream_error", "upstream_not_sse"))
        if any(type(item) is not dict or item.get("type") not in ("message", "function_call") for item in response["output"]):
            raise UpstreamError(502, error_body(f"{record.note}; its output holds items migrator cannot replay as a stream",
                                                "upstream_error", "upstream_not_sse"))
        return self._replay(response, chat_usage)

    @staticmethod
    async def _replay(response: dict[str, Any], chat_usage: bool | None) -> AsyncIterator[bytes]:
        """A finished Response as the events that stream it (the offline model's event builder)."""
        if chat_usage is None:
            for event in finished_events(response):
                yield encode_responses(event)
            return
        translator, encoder = StreamTranslator("chat", include_usage=chat_usage), SSEEncoder("chat")
        for event in finished_events(response):
            for out in translator.feed(event):
                yield encoder.encode(out)
        for out in translator.finish():
            yield encoder.encode(out)
        yield encoder.close()

    def _watch_terminal(self, event: dict[str, Any], keep: Callable[[dict[str, Any]], dict[str, Any]] | None,
                        record: AccessRecord) -> None:
        if event.get("type") in ("response.completed", "response.incomplete", "response.failed"):
            response = event.get("response")
            if isinstance(response, dict):
                record.tokens = _tokens(response.get("usage"))
                if keep is not None:
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
                options = body.get("stream_options")
                chat_usage = isinstance(options, dict) and options.get("include_usage") is True
                return self._relay(await self._open_stream(body, headers, record, chat_usage=chat_usage), record)
            answer = await backend.send(body, headers)
            record.upstream_status = answer.status
            record.tokens = _tokens(answer.body.get("usage"))
            return JSONResponse(answer.body)
        record.direction = "chat→responses"
        if state.offline and body.get("messages") == []:
            raise HTTPError(400, "[] is too short - 'messages'", code="empty_array", param="messages")
        n = self._offline_n(body)
        upstream_body = self._translate_request({k: v for k, v in body.items() if k != "n"} if n else body, "responses",
                                                record)
        seed = body.get("seed") if getattr(backend, "sampling", False) else None  # only a sampling model has a use for it
        if type(seed) is not int:
            seed = None
        if n > 1 or seed is not None:
            return await self._offline_choices(upstream_body, max(n, 1), streaming, body.get("stream_options"), record,
                                               seed=seed)
        if streaming:
            options = body.get("stream_options")
            include_usage = isinstance(options, dict) and options.get("include_usage") is True
            source = await self._open_stream(upstream_body, headers, record, echo=upstream_body)
            record.upstream_status = 200
            return self._translated_chat_stream(source, include_usage, record)
        answer = await backend.send(upstream_body, headers)
        record.upstream_status = answer.status
        result = self._result(answer.body, "chat", record)
        record.tokens = _tokens(result.get("usage"))
        return JSONResponse(result)

    def _offline_n(self, body: dict[str, Any]) -> int:
        """Chat's ``n`` when the offline model serves it natively (0: absent, or not offline)."""
        if not self.state.offline or body.get("n") is None:
            return 0
        n = body["n"]
        if type(n) is not int or not 1 <= n <= 128:
            raise HTTPError(400, f"Invalid value for 'n': expected an integer from 1 to 128, got {json.dumps(n)[:40]}.",
                            code="invalid_value", param="n")
        return n

    async def _offline_choices(self, upstream_body: dict[str, Any], n: int, streaming: bool, options: Any,
                               record: AccessRecord, *, seed: int | None = None) -> Response:
        """``n`` choices from the offline model: variant i of the answer is choice i, as the API numbers them.

        Chat's ``seed`` (which the Responses form the model reads has no room for) picks the variants, so
        a seeded request gets the same answer on every call even when the model samples (``--sampling``).
        """
        from .offline_backend import OfflineBackend

        backend = self.state.backend
        assert isinstance(backend, OfflineBackend)
        rid, created = "resp_" + secrets.token_hex(24), time.time()
        record.upstream_status = 200
        base = 0 if seed is None else ((seed % (1 << 40)) << 8) + 1
        fixed = seed is not None
        if streaming:
            include_usage = isinstance(options, dict) and options.get("include_usage") is True
            # Every variant is made before the status line: a body the model refuses is a 400, not a broken stream.
            sources = [await backend.events(upstream_body, variant=base + i, response_id=rid, created_at=created, fixed=fixed)
                       for i in range(n)]
            return StreamingResponse(self._choice_stream(sources, include_usage, record),
                                     media_type="text/event-stream", headers=SSE_HEADERS)
        merged: dict[str, Any] | None = None
        for i in range(n):
            answer = await backend.send(upstream_body, {}, variant=base + i, response_id=rid, created_at=created, fixed=fixed)
            result = self._result(answer.body, "chat", record)
            if merged is None:
                merged = result
                continue
            choice = result["choices"][0]
            merged["choices"].append({**choice, "index": i})
            merged["usage"] = _add_usage(merged.get("usage"), result.get("usage"))
        assert merged is not None
        record.tokens = _tokens(merged.get("usage"))
        return JSONResponse(merged)

    async def _choice_stream(self, sources: list[AsyncIterator[dict[str, Any]]], include_usage: bool,
                             record: AccessRecord) -> AsyncIterator[bytes]:
        """The ``n`` variants' chunks with their choice index, one usage chunk at the end (if asked)."""
        encoder = SSEEncoder("chat")
        usage: dict[str, Any] | None = None
        last: dict[str, Any] = {}
        try:
            for i, events in enumerate(sources):
                translator = StreamTranslator("chat", include_usage=True)
                async for event in events:
                    for out in translator.feed(event):
                        if self._choice_chunk(out, i, include_usage) is None:
                            usage = _add_usage(usage, out.get("usage"))
                            last = out
                            continue
                        record.first_token()
                        yield encoder.encode(out)
                for out in translator.finish():
                    if self._choice_chunk(out, i, include_usage) is None:
                        usage = _add_usage(usage, out.get("usage"))
                        last = out
                        continue
                    yield encoder.encode(out)
            if include_usage and usage is not None:
                yield encoder.encode({**last, "choices": [], "usage": usage})
            yield encoder.close()
        except (UpstreamError, StreamError) as exc:
            yield encoder.encode(exc.body if isinstance(exc, UpstreamError) else error_body(str(exc)))
        finally:
            record.tokens = _tokens(usage)
            record.finish()
            self.state.log.write(record)

    @staticmethod
    def _choice_chunk(out: dict[str, Any], index: int, include_usage: bool) -> dict[str, Any] | None:
        """A chunk renumbered for choice ``index``; None for a variant's own usage chunk (summed instead)."""
        choices = out.get("choices")
        if choices == [] and "usage" in out:
            return None
        if isinstance(choices, list):
            for choice in choices:
                if isinstance(choice, dict):
                    choice["index"] = index
        if not include_usage:
            out.pop("usage", None)
        return out

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
            except Exception as exc:  # after the status line: the stream ends with an error frame, never a cut
                if isinstance(exc, UpstreamError):
                    failure = exc
                elif isinstance(exc, (StreamError, MappingError)):
                    failure = UpstreamError(502, error_body(f"the upstream's stream cannot be translated: {exc}"))
                else:
                    _log_exception(f"streaming {record.path} ({record.request_id})")
                    failure = UpstreamError(500, error_body(_INTERNAL, "server_error", "internal_error"))
                message = failure.body["error"]["message"]
                if translator.to == "chat":
                    yield encoder.encode(failure.body)
                else:
                    yield encoder.encode(error_event(message, "server_error", sent))
            finally:
                record.add_losses(translator.losses)  # what the answer lost is known once it has ended
                record.finish()
                self.state.log.write(record)

        return StreamingResponse(body(), media_type="text/event-stream", headers=SSE_HEADERS)

    # ------------------------------------------------------------ stored responses

    async def _forwarded(self, request: Request, record: AccessRecord) -> Response:
        """Passthrough: the upstream that made a response answers for it (its status and body as they are)."""
        record.direction = "native"
        backend: Any = self.state.backend
        answer = await backend.forward(request.method, request.url.path.removeprefix("/v1"), request.url.query,
                                       _upstream_headers(request, record.request_id))
        record.upstream_status = answer.status
        return JSONResponse(answer.body, status_code=answer.status)

    async def get_response(self, request: Request) -> Response:
        async def work(request: Request, record: AccessRecord) -> Response:
            if self.passthrough:
                return await self._forwarded(request, record)
            response_id = request.path_params["response_id"]
            stored = self.state.store.get(response_id, _owner(request))
            if stored is None:
                raise HTTPError(404, f"No response found with id '{response_id}'.", code="not_found")
            return JSONResponse(stored)
        return await self._handle(request, "responses.retrieve", work)

    async def delete_response(self, request: Request) -> Response:
        async def work(request: Request, record: AccessRecord) -> Response:
            if self.passthrough:
                return await self._forwarded(request, record)
            response_id = request.path_params["response_id"]
            if not self.state.store.delete(response_id, _owner(request)):
                raise HTTPError(404, f"No response found with id '{response_id}'.", code="not_found")
            return JSONResponse({"id": response_id, "object": "response.deleted", "deleted": True})
        return await self._handle(request, "responses.delete", work)

    async def input_items(self, request: Request) -> Response:
        async def work(request: Request, record: AccessRecord) -> Response:
            if self.passthrough:
                return await self._forwarded(request, record)
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
            page = self.state.store.list_input_items(response_id, limit=limit, order=order, after=query.get("after"),
                                                     owner=_owner(request))
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

