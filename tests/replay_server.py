"""A scripted HTTP/1.1 server for the replay sender's tests: each request takes the next step of a script.

Raw asyncio rather than Starlette, because the tests need what a framework would not do: reset a
connection, stall a stream half-way, send garbage with a 200. It runs in the test's own event loop
on 127.0.0.1:0, and keeps every request it saw (head and body) so a test can assert on them.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any

Step = Callable[[asyncio.StreamWriter], Awaitable[None]]


def reply(status: int, body: Any = None, headers: dict[str, str] | None = None, *, raw: bytes | None = None) -> Step:
    """A whole answer: ``body`` as JSON (or ``raw`` bytes as they are)."""
    data = raw if raw is not None else json.dumps(body).encode()
    head = {"content-type": "application/json", **(headers or {})}

    async def step(writer: asyncio.StreamWriter) -> None:
        lines = "".join(f"{k}: {v}\r\n" for k, v in head.items())
        writer.write(f"HTTP/1.1 {status} X\r\n{lines}content-length: {len(data)}\r\n\r\n".encode() + data)
        await writer.drain()

    return step


def sse(*chunks: bytes | str, status: int = 200, stall_after: bool = False) -> Step:
    """A stream, chunked; with ``stall_after`` it never ends (the client's stall timeout must fire)."""
    async def step(writer: asyncio.StreamWriter) -> None:
        writer.write(f"HTTP/1.1 {status} X\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n".encode())
        for chunk in chunks:
            data = chunk.encode() if isinstance(chunk, str) else chunk
            writer.write(b"%x\r\n%s\r\n" % (len(data), data))
            await writer.drain()
        if stall_after:
            await asyncio.sleep(3600)
        writer.write(b"0\r\n\r\n")
        await writer.drain()

    return step


async def trickle(writer: asyncio.StreamWriter) -> None:
    """A stream that never stalls and never ends: a keep-alive comment every 20 ms."""
    writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n")
    while True:
        writer.write(b"3\r\n:\n\n\r\n")
        await writer.drain()
        await asyncio.sleep(0.02)


async def reset(writer: asyncio.StreamWriter) -> None:
    """Drop the connection without a byte of answer."""
    writer.transport.abort()


async def hang(writer: asyncio.StreamWriter) -> None:
    await asyncio.sleep(3600)


class ScriptedServer:
    """``async with ScriptedServer([step, …]) as server:`` then send to ``server.url``; the last step repeats."""

    def __init__(self, script: list[Step]) -> None:
        self.script = list(script)
        self.requests: list[dict[str, Any]] = []
        self.in_flight = 0
        self.most_in_flight = 0
        self.hold: asyncio.Event | None = None  # set: every request waits for it before its answer
        self._server: asyncio.base_events.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def url(self) -> str:
        assert self._server is not None
        port = self._server.sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}"

    async def __aenter__(self) -> ScriptedServer:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, ConnectionError):
                    return
                lines = head.decode("latin-1").split("\r\n")
                headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:] if line)}
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                self.requests.append({"line": lines[0], "headers": headers, "body": json.loads(body) if body else None})
                step = self.script.pop(0) if len(self.script) > 1 else self.script[0]
                self.in_flight += 1
                self.most_in_flight = max(self.most_in_flight, self.in_flight)
                try:
                    if self.hold is not None:
                        await self.hold.wait()
                    await step(writer)
                finally:
                    self.in_flight -= 1
                if writer.transport.is_closing():
                    return
        except asyncio.CancelledError:
            return  # the server is shutting down (a cancelled handler would be logged as an error)
        finally:
            self._tasks.discard(task)
            writer.close()
