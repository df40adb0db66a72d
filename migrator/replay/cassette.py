"""Cassettes: every HTTP exchange of a run (or of a program's own client) as one JSON line, replayable offline.

Why not vcrpy: it stores a stream as one body string, so the time to first token is lost (study
§3), and the harness needs it back. Here a streamed answer is kept as the chunks that came, each
with its offset in milliseconds, and replay feeds them to the same reader a live answer goes
through, so a cassette is also a test of the parser against a real server's bytes.

A line: ``{"request": {"method", "path", "headers", "body"}, "response": {"status", "headers",
"total_ms", "body" | "body_b64" | "chunks": [[ms, text], …]} | null, "failure": {…}}`` (``failure``
only when the attempt broke: a timeout, a reset). Requests match by method, path and canonical
JSON body (sorted keys), in the order they were recorded, so repeats of one request replay in turn.

Secrets: request credentials are masked, the response headers that identify an account or a
request (``set-cookie``, ``openai-organization``, ``openai-project``, ``x-request-id``) are
dropped, and every string of a line (keys too) passes through the Redactor before it is written.

Two players: :class:`CassettePlayer` answers a replay run's Calls like a Sender; :func:`transport`
and :func:`async_transport` plug into an ``httpx`` or ``httpx2`` client (the openai SDK's), so a
program's own client records and replays the same format.
"""

from __future__ import annotations

import base64
import codecs
import hashlib
import json
import threading
import time
from collections import deque
from collections.abc import AsyncIterator, Iterable, Iterator, Mapping
from pathlib import Path
from types import ModuleType, TracebackType
from typing import Any, Literal

from .client import BaseSender, Wired, reads_as_stream
from .model import Call, ErrorFacts
from .secrets import Redactor
from .sse_reader import StreamReader

DROPPED_RESPONSE_HEADERS = frozenset({"set-cookie", "openai-organization", "openai-project", "x-request-id",
                                      "authorization", "content-length", "content-encoding", "transfer-encoding",
                                      "connection", "keep-alive"})
DROPPED_REQUEST_HEADERS = frozenset({"content-length", "openai-organization", "openai-project", "host",
                                     "connection", "accept-encoding"})


class CassetteError(ValueError):
    """A cassette that cannot be read: names the file and line."""


def canonical(body: Any) -> str:
    """The body as matching compares it: JSON with sorted keys, or the text as it is."""
    if isinstance(body, (bytes, bytearray)):
        text = bytes(body).decode("utf-8", "replace")
        try:
            body = json.loads(text)
        except ValueError:
            return text
    if isinstance(body, str):
        return body
    return json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def _norm_path(path: str) -> str:
    """From ``/v1/`` on, so a base URL with a gateway prefix matches the harness's own paths."""
    at = path.find("/v1/")
    return path[at:] if at > 0 else path


def _key(method: str, path: str, body: Any) -> tuple[str, str, str]:
    return method.upper(), _norm_path(path), canonical(body)


def _body_value(raw: bytes) -> Any:
    """A request body as stored: its JSON when it is JSON (readable, and redacted field by field), else text."""
    text = raw.decode("utf-8", "replace")
    try:
        return json.loads(text)
    except ValueError:
        return text


def _chunk_texts(chunks: Iterable[tuple[float, bytes]]) -> list[list[Any]]:
    """Chunks as text; a UTF-8 character split between chunks is kept whole in the later one."""
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    out: list[list[Any]] = [[round(at, 3), decoder.decode(chunk)] for at, chunk in chunks]
    tail = decoder.decode(b"", final=True)
    if tail and out:
        out[-1][1] += tail
    return out


class CassetteWriter:
    """Appends one redacted line per exchange; a line is flushed whole, so Ctrl-C loses no finished one."""

    def __init__(self, path: str | Path, secrets: Iterable[str | None] = (), *, append: bool = False) -> None:
        self.path = Path(path)
        self.redactor = Redactor(secrets)
        self._file = open(self.path, "a" if append else "w", encoding="utf-8")
        self._lock = threading.Lock()

    def record(self, request: dict[str, Any], response: dict[str, Any] | None, failure: ErrorFacts | None) -> None:
        headers = request.get("headers") or {}
        shown_request = {"method": request["method"], "path": request["path"],
                         "headers": self.redactor.headers(headers.items(), DROPPED_REQUEST_HEADERS),
                         "body": request["body"]}
        line: dict[str, Any] = {"request": shown_request, "response": None}
        if response is not None:
            shown = {"status": response["status"],
                     "headers": self.redactor.headers(response["headers"].items(), DROPPED_RESPONSE_HEADERS),
                     "total_ms": response.get("total_ms")}
            if "chunks" in response:
                shown["chunks"] = _chunk_texts(response["chunks"])
            else:
                raw: bytes = response.get("body") or b""
                try:
                    shown["body"] = raw.decode("utf-8")
                except UnicodeDecodeError:
                    shown["body_b64"] = base64.b64encode(raw).decode("ascii")
            line["response"] = shown
        if failure is not None:
            line["failure"] = failure
        # Redacted value by value, not as serialized text: a replacement inside a JSON escape (\\u0000)
        # would corrupt the line.
        text = json.dumps(self.redactor.value(line), ensure_ascii=False, separators=(",", ":")) + "\n"
        with self._lock:
            self._file.write(text)
            self._file.flush()

    def close(self) -> None:
        with self._lock:
            self._file.close()


class Tape:
    """A loaded cassette: recorded answers queued per request, taken in the order they were recorded."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._entries: dict[tuple[str, str, str], deque[dict[str, Any]]] = {}
        self._per_path: dict[str, int] = {}
        self._lock = threading.Lock()
        try:
            handle = open(self.path, encoding="utf-8")
        except OSError as exc:
            raise CassetteError(f"{self.path}: cannot read the cassette: {exc.strerror or exc}") from None
        number = 0
        with handle:
            try:
                for number, text in enumerate(handle, 1):
                    if text.strip():
                        self._add(self._entry(text, number))
            except UnicodeDecodeError:
                raise CassetteError(f"{self.path}:{number + 1}: not a cassette (the file is not UTF-8 text)") from None

    def _entry(self, text: str, number: int) -> dict[str, Any]:
        where = f"{self.path}:{number}"
        try:
            entry: dict[str, Any] = json.loads(text)
        except ValueError as exc:
            raise CassetteError(f"{where}: not JSON ({exc})") from None
        request = entry.get("request") if isinstance(entry, dict) else None
        if not isinstance(request, dict) or not isinstance(request.get("path"), str):
            raise CassetteError(f"{where}: $.request.path: expected a request with a path")
        response = entry.get("response")
        if response is not None and (not isinstance(response, dict) or not isinstance(response.get("status"), int)):
            raise CassetteError(f"{where}: $.response.status: expected an HTTP status (or a null response)")
        if response is None and not isinstance(entry.get("failure"), dict):
            raise CassetteError(f"{where}: $.failure: expected a failure when there is no response")
        chunks = response.get("chunks") if response else None
        if chunks is not None and not (isinstance(chunks, list) and all(
                isinstance(c, list) and len(c) == 2 and isinstance(c[0], (int, float)) and isinstance(c[1], str)
                for c in chunks)):
            raise CassetteError(f"{where}: $.response.chunks: expected [[milliseconds, text], …]")
        return entry

    def _add(self, entry: dict[str, Any]) -> None:
        request = entry["request"]
        key = _key(str(request.get("method", "POST")), request["path"], request.get("body"))
        self._entries.setdefault(key, deque()).append(entry)
        self._per_path[key[1]] = self._per_path.get(key[1], 0) + 1

    def take(self, method: str, path: str, body: Any) -> dict[str, Any] | None:
        key = _key(method, path, body)
        with self._lock:
            queue = self._entries.get(key)
            return queue.popleft() if queue else None

    def missing(self, method: str, path: str, body: Any) -> str:
        """What a request the cassette cannot answer is, said without quoting its body (it may hold secrets)."""
        key = _key(method, path, body)
        digest = hashlib.sha256(key[2].encode()).hexdigest()[:12]
        recorded = self._per_path.get(key[1], 0)
        return (f"the cassette {self.path} has no (further) recorded answer for {key[0]} {key[1]} with this body "
                f"(sha256 {digest}…; {recorded} recorded for that path)")


def _response_bytes(response: dict[str, Any]) -> bytes:
    if "body_b64" in response:
        return base64.b64decode(response["body_b64"])
    if "chunks" in response:
        return "".join(text for _, text in response["chunks"]).encode()
    body = response.get("body")
    return body.encode() if isinstance(body, str) else json.dumps(body).encode()


class CassettePlayer(BaseSender):
    """Answers Calls from a cassette (``--from-cassette``): the same :meth:`send` and parsing as a Sender.

    Retries recorded live (a 429, then the answer) replay as retries, without the waits.
    """

    def __init__(self, path: str | Path, *, max_attempts: int = 6) -> None:
        super().__init__(None, max_attempts=max_attempts, sleep=_no_wait)
        self.tape = Tape(path)

    async def __aenter__(self) -> CassettePlayer:
        return self

    async def __aexit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        return None

    async def _attempt(self, call: Call, data: bytes, streaming: bool) -> Wired:
        entry = self.tape.take("POST", call["path"], call["body"])
        if entry is None:
            failure: ErrorFacts = {"kind": "connection", "status": None, "type": None, "code": None,
                                   "message": self.tape.missing("POST", call["path"], call["body"])}
            return Wired(None, {}, None, None, 0.0, failure, final=True)
        return replayed(entry, call["path"], streaming)


def replayed(entry: dict[str, Any], path: str, streaming: bool) -> Wired:
    """A recorded attempt as the wire would have given it; a stream is read chunk by chunk at its recorded times."""
    response = entry.get("response")
    failure = entry.get("failure")
    if response is None:
        assert isinstance(failure, dict)  # Tape checked: no response means a recorded failure
        return Wired(None, {}, None, None, float(failure.get("total_ms") or 0.0), _failure(failure))
    status: int = response["status"]
    headers: dict[str, str] = {str(k).lower(): str(v) for k, v in (response.get("headers") or {}).items()}
    total = float(response.get("total_ms") or 0.0)
    if failure is not None:
        return Wired(status, headers, None, None, total, _failure(failure))
    chunks = response.get("chunks")
    if chunks is not None and reads_as_stream(streaming, status, headers):
        reader = StreamReader(path.endswith("/responses"), status)
        for at, text in chunks:
            reader.feed(text.encode(), float(at))
        return Wired(status, headers, None, reader.finish(total), total)
    return Wired(status, headers, _response_bytes(response), None, total)


def _failure(recorded: Mapping[str, Any]) -> ErrorFacts:
    kind = recorded.get("kind")
    return {"kind": kind if kind in ("timeout", "connection", "protocol", "api") else "connection",
            "status": recorded.get("status"), "type": recorded.get("type"), "code": recorded.get("code"),
            "message": str(recorded.get("message") or "a recorded failure")}


async def _no_wait(seconds: float) -> None:
    return None


# ---------------------------------------------------------------------------- httpx / httpx2 transports

Mode = Literal["record", "replay"]
Library = Literal["httpx", "httpx2"]


def _library(name: Library) -> ModuleType:
    if name == "httpx2":
        try:
            import httpx2
        except ImportError:
            raise ValueError("library='httpx2' needs httpx2, which the openai SDK (3.x) installs") from None
        return httpx2
    if name == "httpx":
        import httpx
        return httpx
    raise ValueError(f"library must be 'httpx' or 'httpx2', got {name!r}")


class _Core:
    """What both transports share: the writer (record) or the tape (replay), and the line they make."""

    def __init__(self, path: str | Path, mode: Mode, lib: ModuleType, secrets: Iterable[str | None]) -> None:
        if mode not in ("record", "replay"):
            raise ValueError(f"mode must be 'record' or 'replay', got {mode!r}")
        self.lib = lib
        self.writer = CassetteWriter(path, secrets, append=True) if mode == "record" else None
        self.tape = Tape(path) if mode == "replay" else None

    def request_line(self, request: Any, body: bytes) -> dict[str, Any]:
        return {"method": request.method, "path": request.url.path, "headers": dict(request.headers.items()),
                "body": _body_value(body)}

    def replay(self, request: Any, body: bytes, stream: Any) -> Any:
        """A replayed answer as the library's Response (``stream``: the sync or async byte stream class),
        or the library's ConnectError naming what is missing."""
        assert self.tape is not None
        entry = self.tape.take(request.method, request.url.path, body)
        if entry is None:
            raise self.lib.ConnectError(self.tape.missing(request.method, request.url.path, body), request=request)
        response = entry.get("response")
        if response is None:
            failure = _failure(entry.get("failure") or {})
            error = self.lib.ReadTimeout if failure["kind"] == "timeout" else self.lib.ConnectError
            raise error(f"recorded: {failure['message']}", request=request)
        headers = list((response.get("headers") or {}).items())
        if "chunks" in response:
            return self.lib.Response(response["status"], headers=headers, stream=stream(response["chunks"]),
                                     request=request)
        return self.lib.Response(response["status"], headers=headers, content=_response_bytes(response),
                                 request=request)

    def passed_on(self, upstream: Any, request: Any, *, stream: Any = None, content: bytes | None = None,
                  line: dict[str, Any] | None = None, start: float = 0.0) -> Any:
        """The recorded answer handed to the client: a stream (written when it closes) or a whole body (written now)."""
        if stream is not None:
            return self.lib.Response(upstream.status_code, headers=_kept(upstream.headers), stream=stream, request=request)
        assert line is not None
        self.write(line, upstream.status_code, upstream.headers, (time.perf_counter() - start) * 1000, body=content)
        return self.lib.Response(upstream.status_code, headers=_kept(upstream.headers), content=content, request=request)

    def write(self, request_line: dict[str, Any], status: int, headers: Any, total_ms: float, *,
              body: bytes | None = None, chunks: list[tuple[float, bytes]] | None = None) -> None:
        assert self.writer is not None
        response: dict[str, Any] = {"status": status, "headers": dict(headers.items()), "total_ms": round(total_ms, 3)}
        if chunks is not None:
            response["chunks"] = chunks
        else:
            response["body"] = body or b""
        self.writer.record(request_line, response, None)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


def _kept(headers: Any) -> list[tuple[str, str]]:
    """Response headers handed to the client after recording: the body is already decoded, so no encoding."""
    return [(k, v) for k, v in headers.items() if k.lower() not in ("content-encoding", "content-length", "transfer-encoding")]


def _is_stream(headers: Any) -> bool:
    return str(headers.get("content-type", "")).startswith("text/event-stream")


def transport(path: str | Path, mode: Mode = "replay", inner: Any = None, library: Library = "httpx2",
              secrets: Iterable[str | None] = ()) -> Any:
    """A sync transport for ``httpx.Client`` / ``httpx2.Client`` (``OpenAI(http_client=…)``).

    ``record`` appends each exchange made through ``inner`` (default: the library's HTTPTransport)
    to the cassette; ``replay`` answers from it and never touches the network. ``secrets`` are
    removed from what is written (credentials headers always are).
    """
    lib = _library(library)
    core = _Core(path, mode, lib, secrets)

    class _Replay(lib.SyncByteStream):  # type: ignore[name-defined,misc]
        def __init__(self, chunks: list[list[Any]]) -> None:
            self.chunks = chunks

        def __iter__(self) -> Iterator[bytes]:
            for _, text in self.chunks:
                yield text.encode()

    class _Recording(lib.SyncByteStream):  # type: ignore[name-defined,misc]
        def __init__(self, upstream: Any, line: dict[str, Any], start: float) -> None:
            self.upstream, self.line, self.start = upstream, line, start
            self.chunks: list[tuple[float, bytes]] = []
            self.written = False

        def __iter__(self) -> Iterator[bytes]:
            for chunk in self.upstream.iter_bytes():
                self.chunks.append(((time.perf_counter() - self.start) * 1000, chunk))
                yield chunk

        def close(self) -> None:
            if self.written:
                return
            self.written = True
            self.upstream.close()
            core.write(self.line, self.upstream.status_code, self.upstream.headers,
                       (time.perf_counter() - self.start) * 1000, chunks=self.chunks)

    class CassetteTransport(lib.BaseTransport):  # type: ignore[name-defined,misc]
        def __init__(self) -> None:
            self.inner = inner if inner is not None or mode == "replay" else lib.HTTPTransport()

        def handle_request(self, request: Any) -> Any:
            body = request.read()
            if mode == "replay":
                return core.replay(request, body, _Replay)
            start = time.perf_counter()
            line = core.request_line(request, body)
            upstream = self.inner.handle_request(request)
            if _is_stream(upstream.headers):
                return core.passed_on(upstream, request, stream=_Recording(upstream, line, start))
            content = upstream.read()
            upstream.close()
            return core.passed_on(upstream, request, content=content, line=line, start=start)

        def close(self) -> None:
            if self.inner is not None:
                self.inner.close()
            core.close()

    return CassetteTransport()


def async_transport(path: str | Path, mode: Mode = "replay", inner: Any = None, library: Library = "httpx2",
                    secrets: Iterable[str | None] = ()) -> Any:
    """The async twin of :func:`transport`, for ``httpx.AsyncClient`` / ``httpx2.AsyncClient`` (``AsyncOpenAI``)."""
    lib = _library(library)
    core = _Core(path, mode, lib, secrets)

    class _Replay(lib.AsyncByteStream):  # type: ignore[name-defined,misc]
        def __init__(self, chunks: list[list[Any]]) -> None:
            self.chunks = chunks

        async def __aiter__(self) -> AsyncIterator[bytes]:
            for _, text in self.chunks:
                yield text.encode()

    class _Recording(lib.AsyncByteStream):  # type: ignore[name-defined,misc]
        def __init__(self, upstream: Any, line: dict[str, Any], start: float) -> None:
            self.upstream, self.line, self.start = upstream, line, start
            self.chunks: list[tuple[float, bytes]] = []
            self.written = False

        async def __aiter__(self) -> AsyncIterator[bytes]:
            async for chunk in self.upstream.aiter_bytes():
                self.chunks.append(((time.perf_counter() - self.start) * 1000, chunk))
                yield chunk

        async def aclose(self) -> None:
            if self.written:
                return
            self.written = True
            await self.upstream.aclose()
            core.write(self.line, self.upstream.status_code, self.upstream.headers,
                       (time.perf_counter() - self.start) * 1000, chunks=self.chunks)

    class AsyncCassetteTransport(lib.AsyncBaseTransport):  # type: ignore[name-defined,misc]
        def __init__(self) -> None:
            self.inner = inner if inner is not None or mode == "replay" else lib.AsyncHTTPTransport()

        async def handle_async_request(self, request: Any) -> Any:
            body = await request.aread()
            if mode == "replay":
                return core.replay(request, body, _Replay)
            start = time.perf_counter()
            line = core.request_line(request, body)
            upstream = await self.inner.handle_async_request(request)
            if _is_stream(upstream.headers):
                return core.passed_on(upstream, request, stream=_Recording(upstream, line, start))
            content = await upstream.aread()
            await upstream.aclose()
            return core.passed_on(upstream, request, content=content, line=line, start=start)

        async def aclose(self) -> None:
            if self.inner is not None:
                await self.inner.aclose()
            core.close()

    return AsyncCassetteTransport()
