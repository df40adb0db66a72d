"""Keep-alive HTTP/1.1 client on httptools: the bridge's hop to its upstream and the replay harness's sender.

Why not aiohttp (or httpx): the hop to the upstream was most of what the bridge cost. Against the
offline upstream on loopback, aiohttp's client spent ~190 µs of CPU on a request and its answer,
this one ~45 µs (same run, same upstream), and aiohttp sends the headers and the body in two
writes, which the upstream then reads twice. It does only what the bridge needs: one origin
(http or https), the request in one write, an answer read whole or as a stream with
back-pressure, gzip/deflate answers, and connections reused while the upstream keeps them
alive. No redirects, cookies or proxies (the bridge never used them).
"""

from __future__ import annotations

import asyncio
import ssl
import zlib
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any
from urllib.parse import urlsplit

import httptools

KEEPALIVE_SECONDS = 30.0  # an idle connection older than this is closed rather than reused
CONNECT_SECONDS = 10.0  # connecting may take at most this (and never past the caller's deadline)
_HIGH_WATER = 256 * 1024  # a stream's unread bytes above which the socket is not read until the reader catches up


class HopError(Exception):
    """The connection failed (refused, reset, closed, or a reply that is not HTTP) before the answer ended."""


class HopTimeout(Exception):
    """A deadline passed, or a stream stalled for longer than its read timeout."""


def _header_bytes(name: str, value: str) -> bytes:
    if any(c in value or c in name for c in "\r\n\0"):
        raise ValueError(f"the header {name!r} holds a line break or a NUL byte")
    return f"{name}: {value}\r\n".encode("latin-1", "replace")


class _Connection(asyncio.Protocol):
    """One connection, one exchange at a time: the parser's callbacks fill the current answer."""

    def __init__(self, loop: asyncio.AbstractEventLoop, members: set[_Connection]) -> None:
        self.loop = loop
        self.members = members  # the pool's open connections: this one leaves the set when it closes
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpResponseParser(self)
        self.closed = False
        self.idle_since = 0.0
        self.reused = False  # carried an exchange before: a failure before any byte may be a stale connection
        self.active = False  # an exchange is under way (bytes from an idle connection are no answer to anything)
        self._reset()

    def _reset(self) -> None:
        self.status = 0
        self.headers: dict[str, str] = {}
        self.chunks: list[bytes] = []
        self.buffered = 0
        self.got_bytes = False
        self.head_done = False
        self.done = False
        self.failure: BaseException | None = None
        self.waiter: asyncio.Future[None] | None = None
        self.wake_on_body = False  # a stream reads chunks as they come (and holds back a reader that lags)
        self.paused = False
        self._inflate: Any = None
        self._until_close = False
        self.keep_alive = False

    # ------------------------------------------------------------ asyncio.Protocol

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # uvloop's transports are not asyncio.Transport subclasses

    def data_received(self, data: bytes) -> None:
        if not self.active:
            self.close()  # e.g. a "408 Request Timeout" sent to an idle connection: it cannot carry the next exchange
            return
        self.got_bytes = True
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            self._fail(HopError("the upstream switched protocols"))
        except httptools.HttpParserError as exc:
            self._fail(HopError(f"the upstream's answer is not valid HTTP: {exc}"))
        if self.chunks and self.wake_on_body:
            self._wake()
        if self.wake_on_body and self.buffered > _HIGH_WATER and not self.paused and self.transport is not None:
            self.paused = True
            self.transport.pause_reading()

    def eof_received(self) -> bool | None:
        return None  # close the transport: connection_lost ends the exchange

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self.members.discard(self)
        if self.done or self.failure is not None:
            return
        if self.head_done and self._until_close:
            self._complete()  # a body without length or chunking ends with the connection
        elif self.waiter is not None or self.head_done:
            self._fail(HopError(f"the upstream closed the connection{f': {exc}' if exc else ''}"))

    # ------------------------------------------------------------ httptools callbacks

    def on_header(self, name: bytes, value: bytes) -> None:
        key = name.decode("latin-1").lower()
        text = value.decode("latin-1")
        self.headers[key] = f"{self.headers[key]}, {text}" if key in self.headers else text

    def on_headers_complete(self) -> None:
        self.status = self.parser.get_status_code()
        if self.status < 200:  # 100 Continue and friends: the answer is still to come
            self.headers = {}
            return
        self.head_done = True
        self.keep_alive = self.parser.should_keep_alive()  # read now: the parser forgets it once the message ends
        encoding = self.headers.get("content-encoding", "").strip().lower()
        self._inflate = zlib.decompressobj(zlib.MAX_WBITS | 32) if encoding in ("gzip", "x-gzip", "deflate") else None
        self._until_close = "content-length" not in self.headers and "chunked" not in self.headers.get("transfer-encoding", "")
        self._wake()

    def on_body(self, body: bytes) -> None:
        if self._inflate is not None:
            try:
                body = self._inflate.decompress(body)
            except zlib.error as exc:
                self._fail(HopError(f"the upstream's compressed answer is corrupt: {exc}"))
                return
        if body:
            self.chunks.append(body)
            self.buffered += len(body)

    def on_message_complete(self) -> None:
        if self.status >= 200:
            self._complete()

    # ------------------------------------------------------------ the exchange

    def _complete(self) -> None:
        if self._inflate is not None:
            rest = self._inflate.flush()
            if rest:
                self.chunks.append(rest)
        self.done = True
        self._wake()

    def _fail(self, exc: BaseException) -> None:
        if self.failure is None:
            self.failure = exc
        self.close()
        self._wake()

    def _wake(self) -> None:
        waiter = self.waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def wait(self, until: Callable[[_Connection], bool], deadline: float | None) -> None:
        """Until ``until(self)`` holds, the exchange failed, or ``deadline`` (loop time) passed."""
        while not until(self):
            if self.failure is not None:
                raise self.failure
            if self.closed:
                raise HopError("the upstream closed the connection")
            waiter = self.waiter = self.loop.create_future()
            timer = None if deadline is None else self.loop.call_at(deadline, _expire, waiter)
            try:
                await waiter
            finally:
                self.waiter = None
                if timer is not None:
                    timer.cancel()
        if self.failure is not None:
            raise self.failure

    def send(self, data: bytes) -> None:
        assert self.transport is not None
        self._reset()
        self.active = True
        self.transport.write(data)

    def take(self) -> bytes:
        data = b"".join(self.chunks) if len(self.chunks) != 1 else self.chunks[0]
        self.chunks = []
        self.buffered = 0
        if self.paused and not self.closed and self.transport is not None:
            self.paused = False
            self.transport.resume_reading()
        return data

    def reusable(self) -> bool:
        return self.done and self.keep_alive and not self.closed and self.failure is None

    def close(self) -> None:
        self.closed = True
        self.members.discard(self)
        if self.transport is not None:
            self.transport.close()


def _expire(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_exception(HopTimeout())


def _head_done(conn: _Connection) -> bool:
    return conn.head_done


def _done(conn: _Connection) -> bool:
    return conn.done


def _readable(conn: _Connection) -> bool:
    return bool(conn.chunks) or conn.done


class Answer:
    """An answer whose head has arrived; its body is read with :meth:`read` or :meth:`iter_chunks`."""

    def __init__(self, pool: Pool, conn: _Connection) -> None:
        self._pool = pool
        self._conn: _Connection | None = conn
        self.status = conn.status
        self.headers = conn.headers

    @property
    def content_type(self) -> str:
        """The media type without its parameters, as aiohttp's ``content_type`` gave it."""
        return self.headers.get("content-type", "application/octet-stream").split(";", 1)[0].strip().lower()

    async def read(self, deadline: float | None) -> bytes:
        """The whole body, before ``deadline``; the connection goes back to the pool."""
        conn = self._conn
        assert conn is not None
        try:
            await conn.wait(_done, deadline)
        except BaseException:
            self.close()
            raise
        data = conn.take()
        self.release()
        return data

    async def iter_chunks(self, stall: float, deadline: float | None = None) -> AsyncIterator[bytes]:
        """The body as it comes; ``stall`` seconds without a byte, or ``deadline`` (loop time) passing,
        is a :class:`HopTimeout` (the replay sender bounds a whole stream, the bridge only its stalls)."""
        conn = self._conn
        assert conn is not None
        conn.wake_on_body = True
        loop = conn.loop
        while True:
            if conn.chunks:
                yield conn.take()
                continue
            if conn.done:
                return
            until = loop.time() + stall
            await conn.wait(_readable, until if deadline is None or deadline > until else deadline)

    def release(self) -> None:
        """Done with the answer: a finished exchange frees its connection for the next, else it is closed."""
        conn, self._conn = self._conn, None
        if conn is not None:
            self._pool._give_back(conn)

    def close(self) -> None:
        """Drop the connection (the upstream sees the request cancelled)."""
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.close()


class Pool:
    """Keep-alive connections to one origin (``http://host:port`` or ``https://…``), reused newest first."""

    def __init__(self, base_url: str) -> None:
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"expected an http(s) URL with a host, got {base_url!r}")
        try:
            port = parts.port
        except ValueError:
            raise ValueError(f"the port of {base_url!r} is not a number from 0 to 65535") from None
        self.secure = parts.scheme == "https"
        self.host = parts.hostname
        self.port = port or (443 if self.secure else 80)
        default = (self.secure and self.port == 443) or (not self.secure and self.port == 80)
        shown = f"[{self.host}]" if ":" in self.host else self.host
        self.authority = shown if default else f"{shown}:{self.port}"
        self.prefix = parts.path.rstrip("/")
        self._ssl: ssl.SSLContext | None = ssl.create_default_context() if self.secure else None
        self._idle: list[_Connection] = []
        self._open: set[_Connection] = set()

    def head(self, method: str, target: str, headers: Sequence[tuple[str, str]], length: int | None) -> bytes:
        """The request line and headers; ``target`` is the path under the base URL, with its query."""
        lines = [f"{method} {self.prefix}{target} HTTP/1.1\r\nhost: {self.authority}\r\n".encode("latin-1")]
        lines += [_header_bytes(k, v) for k, v in headers]
        if length is not None:
            lines.append(b"content-length: %d\r\n" % length)
        lines.append(b"user-agent: migrator\r\naccept-encoding: gzip, deflate\r\n\r\n")
        return b"".join(lines)

    async def request(self, data: bytes, deadline: float) -> Answer:
        """Send one prepared request (:meth:`head` + body) and wait for the answer's head.

        A reused connection the upstream closed meanwhile (its keep-alive ran out) fails before
        any byte comes back: the request is then sent once more on a fresh connection, which is
        safe because the upstream never saw it.
        """
        loop = asyncio.get_running_loop()
        while True:
            conn = await self._acquire(loop, deadline)
            conn.send(data)
            try:
                await conn.wait(_head_done, deadline)
            except HopError:
                if conn.got_bytes or not conn.reused:
                    conn.close()
                    raise
                conn.close()
                continue
            except BaseException:
                conn.close()
                raise
            return Answer(self, conn)

    async def _acquire(self, loop: asyncio.AbstractEventLoop, deadline: float) -> _Connection:
        now = loop.time()
        while self._idle:
            conn = self._idle.pop()
            if not conn.closed and now - conn.idle_since < KEEPALIVE_SECONDS:
                conn.reused = True
                return conn
            conn.close()
        timeout = min(CONNECT_SECONDS, deadline - now)
        if timeout <= 0:
            raise HopTimeout()
        try:
            _, conn = await asyncio.wait_for(
                loop.create_connection(lambda: _Connection(loop, self._open), self.host, self.port, ssl=self._ssl,
                                       server_hostname=self.host if self._ssl else None), timeout)
        except asyncio.TimeoutError:
            raise HopTimeout() from None
        except (OSError, ssl.SSLError) as exc:
            raise HopError(f"cannot connect: {exc.strerror or exc}" if isinstance(exc, OSError) else str(exc)) from None
        conn.reused = False
        self._open.add(conn)
        return conn

    def _give_back(self, conn: _Connection) -> None:
        conn.active = False
        if conn.reusable():
            conn.idle_since = conn.loop.time()
            conn.wake_on_body = False
            self._idle.append(conn)
        else:
            conn.close()

    async def close(self) -> None:
        for conn in list(self._open):
            conn.close()
        self._open.clear()
        self._idle.clear()
