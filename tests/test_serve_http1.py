"""The bridge's HTTP/1.1 client (migrator/transport/http1.py) against small asyncio servers on loopback.

Each server here speaks raw HTTP so a test controls exactly what the client reads: how the body
is framed (length, chunks, until close), compression, keep-alive, a close at the wrong moment,
a stall. They are in-process and stop with the test: no subprocess, so not marked slow.
"""

from __future__ import annotations

import asyncio
import gzip
import json
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from migrator.transport.http1 import HopError, HopTimeout, Pool

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


async def _read_request(reader: asyncio.StreamReader) -> tuple[str, dict[str, str], bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:] if line)}
    body = await reader.readexactly(int(headers.get("content-length", "0")))
    return lines[0], headers, body


def _run(handler: Handler, test: Callable[[Pool, dict[str, Any]], Awaitable[None]]) -> dict[str, Any]:
    """Serve ``handler`` on a free loopback port, run ``test`` with a pool to it; returns the server's counters."""
    seen: dict[str, Any] = {"connections": 0, "requests": []}

    async def main() -> None:
        async def on_connect(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            seen["connections"] += 1
            try:
                await handler(reader, writer)
            except (asyncio.IncompleteReadError, ConnectionError):
                pass
            finally:
                writer.close()

        server = await asyncio.start_server(on_connect, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        pool = Pool(f"http://127.0.0.1:{port}/v1")
        try:
            await asyncio.wait_for(test(pool, seen), 10)
        finally:
            await pool.close()
            server.close()
            await server.wait_closed()

    asyncio.run(main())
    return seen


def _request(pool: Pool, body: Any = None) -> bytes:
    data = json.dumps(body).encode() if body is not None else b""
    return pool.head("POST" if body is not None else "GET", "/chat/completions",
                     [("content-type", "application/json"), ("x-request-id", "req_1")],
                     len(data) if body is not None else None) + data


def _deadline(seconds: float = 5.0) -> float:
    return asyncio.get_running_loop().time() + seconds


def _json_answer(payload: Any, extra: bytes = b"") -> bytes:
    body = json.dumps(payload).encode()
    return b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: %d\r\n%s\r\n%s" % (len(body), extra, body)


def test_keep_alive_connections_are_reused_and_the_request_is_one_well_formed_message() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            line, headers, body = await _read_request(reader)
            seen_requests.append((line, headers, json.loads(body)))
            writer.write(_json_answer({"n": len(seen_requests)}))
            await writer.drain()

    seen_requests: list[Any] = []

    async def test(pool: Pool, seen: dict[str, Any]) -> None:
        for i in range(5):
            answer = await pool.request(_request(pool, {"i": i}), _deadline())
            assert answer.status == 200 and answer.content_type == "application/json"
            assert json.loads(await answer.read(_deadline())) == {"n": i + 1}

    seen = _run(handler, test)
    assert seen["connections"] == 1  # one connection carried all five exchanges
    line, headers, body = seen_requests[0]
    assert line == "POST /v1/chat/completions HTTP/1.1"
    assert headers["host"].startswith("127.0.0.1:") and headers["x-request-id"] == "req_1"
    assert headers["content-type"] == "application/json" and body == {"i": 0}


def test_a_connection_the_upstream_closed_while_idle_is_replaced_without_an_error() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await _read_request(reader)
        writer.write(_json_answer({"ok": True}))  # keep-alive by HTTP/1.1's default, then closed anyway
        await writer.drain()

    async def test(pool: Pool, seen: dict[str, Any]) -> None:
        for _ in range(3):
            answer = await pool.request(_request(pool, {}), _deadline())
            assert json.loads(await answer.read(_deadline())) == {"ok": True}
            await asyncio.sleep(0.05)

    assert _run(handler, test)["connections"] == 3


def test_a_stale_connection_closed_after_the_request_is_sent_once_more_on_a_fresh_one() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await _read_request(reader)
        writer.write(_json_answer({"ok": True}))
        await writer.drain()
        await _read_request(reader)  # the next request on this connection is read, then dropped unanswered

    async def test(pool: Pool, seen: dict[str, Any]) -> None:
        answer = await pool.request(_request(pool, {}), _deadline())
        await answer.read(_deadline())
        answer = await pool.request(_request(pool, {}), _deadline())
        assert json.loads(await answer.read(_deadline())) == {"ok": True}

    assert _run(handler, test)["connections"] == 2


def test_chunked_gzip_and_until_close_bodies() -> None:
    payload = {"text": "é" * 3000}
    packed = gzip.compress(json.dumps(payload).encode())

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await _read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: application/json; charset=utf-8\r\n"
                     b"content-encoding: gzip\r\ntransfer-encoding: chunked\r\n\r\n")
        for i in range(0, len(packed), 100):
            piece = packed[i:i + 100]
            writer.write(b"%x\r\n%s\r\n" % (len(piece), piece))
        writer.write(b"0\r\n\r\n")
        await _read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nconnection: close\r\n\r\n{\"until\":")
        await writer.drain()
        writer.write(b" \"close\"}")
        await writer.drain()

    async def test(pool: Pool, seen: dict[str, Any]) -> None:
        answer = await pool.request(_request(pool, {}), _deadline())
        assert answer.content_type == "application/json"
        assert json.loads(await answer.read(_deadline())) == payload
        answer = await pool.request(_request(pool, {}), _deadline())
        assert json.loads(await answer.read(_deadline())) == {"until": "close"}

    assert _run(handler, test)["connections"] == 1


def test_a_stream_comes_as_it_is_sent_and_a_stall_is_a_timeout() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await _read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n")
        for i in range(3):
            event = b"data: %d\n\n" % i
            writer.write(b"%x\r\n%s\r\n" % (len(event), event))
            await writer.drain()
            await asyncio.sleep(0.02)
        await asyncio.sleep(5)  # then nothing

    async def test(pool: Pool, seen: dict[str, Any]) -> None:
        answer = await pool.request(_request(pool, {"stream": True}), _deadline())
        assert answer.content_type == "text/event-stream"
        got = b""
        with pytest.raises(HopTimeout):
            async for chunk in answer.iter_chunks(0.3):
                got += chunk
        answer.close()
        assert got == b"data: 0\n\ndata: 1\n\ndata: 2\n\n"

    _run(handler, test)


def test_a_reader_that_lags_holds_the_socket_back_and_still_gets_every_byte() -> None:
    total = 4 * 1024 * 1024

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await _read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncontent-length: %d\r\n\r\n" % total)
        for _ in range(total // 65536):
            writer.write(b"x" * 65536)
            await writer.drain()

    async def test(pool: Pool, seen: dict[str, Any]) -> None:
        answer = await pool.request(_request(pool, {}), _deadline())
        got = largest = 0
        async for chunk in answer.iter_chunks(5):
            got += len(chunk)
            largest = max(largest, len(chunk))
            await asyncio.sleep(0.005)
        assert got == total
        answer.release()
        # What piles up between two reads stays near the high-water mark (one socket read past it):
        # reading stopped while the consumer lagged.
        assert largest <= 512 * 1024

    _run(handler, test)


def test_a_deadline_before_the_head_and_a_refused_connection() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await _read_request(reader)
        await asyncio.sleep(5)

    async def test(pool: Pool, seen: dict[str, Any]) -> None:
        with pytest.raises(HopTimeout):
            await pool.request(_request(pool, {}), _deadline(0.2))
        assert not pool._open  # the connection of the abandoned exchange is closed, not pooled

    _run(handler, test)

    async def refused() -> None:
        import socket

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        pool = Pool(f"http://127.0.0.1:{port}/v1")
        with pytest.raises(HopError, match="cannot connect"):
            await pool.request(_request(pool, {}), _deadline())

    asyncio.run(refused())


def test_a_reply_that_is_not_http_is_a_hop_error_and_a_header_with_a_line_break_is_refused() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await _read_request(reader)
        writer.write(b"SSH-2.0-OpenSSH\r\n\r\n")
        await writer.drain()
        await asyncio.sleep(1)

    async def test(pool: Pool, seen: dict[str, Any]) -> None:
        with pytest.raises(HopError, match="not valid HTTP"):
            await pool.request(_request(pool, {}), _deadline())
        with pytest.raises(ValueError, match="line break"):
            pool.head("GET", "/models", [("authorization", "Bearer a\r\nx-evil: 1")], None)

    _run(handler, test)


def test_the_request_target_keeps_the_base_urls_prefix_and_the_host_its_port() -> None:
    pool = Pool("https://gw.example:8443/api/v1/")
    head = pool.head("GET", "/models?limit=2", [], None).decode()
    assert head.startswith("GET /api/v1/models?limit=2 HTTP/1.1\r\nhost: gw.example:8443\r\n")
    assert "content-length" not in head
    assert Pool("https://gw.example/v1").head("GET", "/models", [], None).decode().split("\r\n")[1] == "host: gw.example"
    assert Pool("http://[::1]:8080/v1").authority == "[::1]:8080"


def test_a_redirect_is_a_502_naming_where_it_points() -> None:
    from migrator.server.upstream import HTTPBackend, UpstreamError

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await _read_request(reader)
        writer.write(b"HTTP/1.1 307 Temporary Redirect\r\nlocation: https://elsewhere.example/v1/chat/completions\r\n"
                     b"content-length: 0\r\n\r\n")
        await writer.drain()
        await asyncio.sleep(1)

    async def test(pool: Pool, seen: dict[str, Any]) -> None:
        backend = HTTPBackend(f"http://127.0.0.1:{pool.port}/v1", "chat")
        try:
            with pytest.raises(UpstreamError) as exc:
                await backend.send({"model": "m", "messages": []}, {"x-request-id": "req_1"})
        finally:
            await backend.aclose()
        assert exc.value.status == 502 and exc.value.body["error"]["code"] == "upstream_redirect"
        assert "https://elsewhere.example/v1/chat/completions" in exc.value.body["error"]["message"]

    _run(handler, test)


@pytest.mark.parametrize(("url", "said"), [("http://:8080/v1", "with a host"), ("http://127.0.0.1:99999/v1", "port")])
def test_an_upstream_url_the_client_cannot_use_is_a_config_error_at_startup(url: str, said: str) -> None:
    from migrator.server.run import ConfigError, ServeConfig, build_state

    with pytest.raises(ConfigError, match=f"--upstream: .*{said}"):
        build_state(ServeConfig(upstream=url))


def test_bytes_on_an_idle_connection_retire_it() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await _read_request(reader)
        writer.write(_json_answer({"ok": True}))
        await writer.drain()
        await asyncio.sleep(0.05)
        writer.write(b"HTTP/1.1 408 Request Timeout\r\ncontent-length: 0\r\n\r\n")  # unasked, while idle
        await writer.drain()
        await asyncio.sleep(2)

    async def test(pool: Pool, seen: dict[str, Any]) -> None:
        answer = await pool.request(_request(pool, {}), _deadline())
        assert json.loads(await answer.read(_deadline())) == {"ok": True}
        await asyncio.sleep(0.2)
        assert not pool._open  # the 408 closed it: it is not handed to the next exchange
        answer = await pool.request(_request(pool, {}), _deadline())
        assert json.loads(await answer.read(_deadline())) == {"ok": True}

    assert _run(handler, test)["connections"] == 2
