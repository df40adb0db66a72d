"""The replay sender against a scripted server: retries and their waits, rate and concurrency limits,
timeouts, error bodies of every shape, SSE envelopes of every server kind, and the key kept out.

Waits are asserted on an injected sleep (never on the wall clock); the stall and whole-request
timeouts use short real deadlines but assert only on what came back.
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import time
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from migrator.replay.client import RateLimiter, Sender, retry_after
from migrator.replay.model import CHAT_PATH, RESPONSES_PATH, Call, Exchange
from migrator.replay.secrets import Redactor
from migrator.replay.sse_reader import StreamReader
from tests.replay_server import ScriptedServer, hang, reply, reset, sse, trickle

KEY = "sk-test-transport-5ecret-Key-0123456789"
CHAT_OK = {"id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": "gpt-4o",
           "choices": [{"index": 0, "message": {"role": "assistant", "content": "hi"}, "finish_reason": "stop"}],
           "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}}

def chat_call(stream: bool = False, **extra: Any) -> Call:
    body: dict[str, Any] = {"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}], **extra}
    if stream:
        body["stream"] = True
    return {"case": "c1", "arm": "P", "sample": 0, "path": CHAT_PATH, "body": body}

def responses_call(stream: bool = False) -> Call:
    body: dict[str, Any] = {"model": "gpt-4o", "input": "hi"}
    if stream:
        body["stream"] = True
    return {"case": "c1", "arm": "C", "sample": 0, "path": RESPONSES_PATH, "body": body}

class FakeTime:
    """An injected sleep that only records, and a clock that moves only when told."""

    def __init__(self) -> None:
        self.waits: list[float] = []
        self.now = 0.0

    async def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)

    def clock(self) -> float:
        return self.now

def run(script: list[Any], calls: list[Call] | Call, *, key: str | None = KEY, rand: float = 0.5,
        **options: Any) -> tuple[list[Exchange], ScriptedServer, FakeTime]:
    fake = FakeTime()

    async def go() -> tuple[list[Exchange], ScriptedServer]:
        async with ScriptedServer(script) as server:
            options.setdefault("concurrency", 4)
            options.setdefault("rpm", None)
            options.setdefault("timeout", 10.0)
            async with Sender(server.url + "/v1", key, sleep=fake.sleep, clock=fake.clock, rand=lambda: rand,
                              **options) as sender:
                batch = calls if isinstance(calls, list) else [calls]
                return list(await asyncio.gather(*(sender.send(c) for c in batch))), server

    exchanges, server = asyncio.run(go())
    return exchanges, server, fake

# ---------------------------------------------------------------------------- retries

def test_429_with_retry_after_waits_what_the_server_said_then_succeeds() -> None:
    (ex,), server, fake = run([reply(429, {"error": {"type": "rate_limit_error", "code": "rate_limit_exceeded",
                                                      "message": "slow down"}}, {"retry-after": "7"}),
                               reply(200, CHAT_OK)], chat_call())
    assert ex["attempts"] == 2 and ex["status"] == 200 and ex["error"] is None
    assert ex["body"] == CHAT_OK
    assert fake.waits == [7.0]
    assert len(server.requests) == 2

def test_retry_after_ms_wins_and_is_capped() -> None:
    (ex,), _, fake = run([reply(429, {"error": "busy"}, {"retry-after-ms": "1500", "retry-after": "9"}),
                          reply(503, {"error": "busy"}, {"retry-after": "3600"}), reply(200, CHAT_OK)], chat_call())
    assert ex["attempts"] == 3
    assert fake.waits == [1.5, 60.0]

def test_retry_after_as_an_http_date() -> None:
    now = 1_800_000_000.0
    date = email.utils.formatdate(now + 12, usegmt=True)
    assert retry_after({"retry-after": date}, now=lambda: now) == pytest.approx(12.0)
    assert retry_after({"retry-after": email.utils.formatdate(now - 50, usegmt=True)}, now=lambda: now) == 0.0
    assert retry_after({"retry-after": "soon"}) is None
    assert retry_after({}) is None

def test_503_twice_backs_off_exponentially_with_full_jitter() -> None:
    (ex,), _server, fake = run([reply(503, {"error": {"message": "overloaded", "type": "server_error"}}),
                               reply(503, {"error": {"message": "overloaded", "type": "server_error"}}),
                               reply(200, CHAT_OK)], chat_call(), rand=0.5)
    assert ex["attempts"] == 3 and ex["status"] == 200
    assert fake.waits == [0.25, 0.5]  # rand × 0.5 s × 2^n

def test_backoff_is_capped_and_attempts_end_with_the_last_error() -> None:
    (ex,), server, fake = run([reply(500, {"error": {"message": "boom", "type": "server_error", "code": "x"}})],
                              chat_call(), rand=1.0, max_attempts=8)
    assert ex["attempts"] == 8 and len(server.requests) == 8
    assert fake.waits == [0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 30.0]
    assert ex["error"] == {"kind": "api", "status": 500, "type": "server_error", "code": "x", "message": "boom"}
    assert ex["body"] is None

def test_insufficient_quota_is_not_retried() -> None:
    (ex,), server, fake = run([reply(429, {"error": {"message": "You exceeded your current quota",
                                                      "type": "insufficient_quota", "code": "insufficient_quota"}},
                                     {"retry-after": "1"})], chat_call())
    assert ex["attempts"] == 1 and len(server.requests) == 1 and fake.waits == []
    assert ex["error"] is not None and ex["error"]["code"] == "insufficient_quota"

@pytest.mark.parametrize(("status", "retried"), [(400, False), (401, False), (404, False), (422, False),
                                                 (408, True), (409, True), (502, True), (504, True), (529, True),
                                                 (501, False)])
def test_which_statuses_are_retried(status: int, retried: bool) -> None:
    (ex,), _server, _ = run([reply(status, {"error": {"message": "no", "type": "t"}}), reply(200, CHAT_OK)], chat_call())
    assert ex["attempts"] == (2 if retried else 1)
    assert ex["status"] == (200 if retried else status)

def test_x_should_retry_false_is_honoured() -> None:
    (ex,), _, _ = run([reply(500, {"error": "no"}, {"x-should-retry": "false"}), reply(200, CHAT_OK)], chat_call())
    assert ex["attempts"] == 1 and ex["status"] == 500

def test_a_reset_connection_is_a_connection_error_and_retried() -> None:
    (ex,), _, _ = run([reset, reply(200, CHAT_OK)], chat_call())
    assert ex["attempts"] == 2 and ex["status"] == 200
    (ex,), _, fake = run([reset], chat_call(), max_attempts=3)
    assert ex["attempts"] == 3 and len(fake.waits) == 2
    assert ex["status"] is None and ex["error"] is not None and ex["error"]["kind"] == "connection"

def test_a_refused_connection_is_a_connection_error() -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    fake = FakeTime()

    async def go() -> Exchange:
        async with Sender(f"http://127.0.0.1:{port}", None, concurrency=1, rpm=None, timeout=5, max_attempts=2,
                          sleep=fake.sleep) as sender:
            return await sender.send(chat_call())

    ex = asyncio.run(go())
    assert ex["error"] is not None and ex["error"]["kind"] == "connection" and ex["attempts"] == 2
    assert "cannot connect" in ex["error"]["message"]

def test_a_stalled_stream_times_out_and_is_retried() -> None:
    first = 'data: {"id":"a","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"he"}}]}\n\n'
    ok = [first, 'data: {"id":"a","choices":[{"index":0,"delta":{"content":"llo"},"finish_reason":"stop"}]}\n\n',
          "data: [DONE]\n\n"]
    (ex,), _, _ = run([sse(first, stall_after=True), sse(*ok)], chat_call(stream=True), stall_timeout=0.2)
    assert ex["attempts"] == 2 and ex["error"] is None
    assert ex["body"]["choices"][0]["message"]["content"] == "hello"
    (ex,), _, _ = run([sse(first, stall_after=True)], chat_call(stream=True), stall_timeout=0.2, max_attempts=1)
    assert ex["error"] is not None and ex["error"]["kind"] == "timeout" and "stalled" in ex["error"]["message"]
    assert ex["status"] == 200 and ex["body"] is None

def test_no_answer_within_the_timeout() -> None:
    (ex,), _, _ = run([hang], chat_call(), timeout=0.2, max_attempts=1)
    assert ex["error"] is not None and ex["error"]["kind"] == "timeout" and ex["status"] is None
    assert "0.2 s timeout" in ex["error"]["message"]

def test_a_stream_that_never_ends_meets_the_whole_request_timeout() -> None:
    (ex,), _, _ = run([trickle], chat_call(stream=True), timeout=0.3, stall_timeout=5.0, max_attempts=1)
    assert ex["error"] is not None and ex["error"]["kind"] == "timeout" and ex["status"] == 200
    assert "0.3 s timeout" in ex["error"]["message"]


def test_cancellation_propagates() -> None:
    async def go() -> None:
        async with ScriptedServer([hang]) as server, \
                Sender(server.url, KEY, concurrency=1, rpm=None, timeout=30) as sender:
            task = asyncio.create_task(sender.send(chat_call()))
            while not server.requests:
                await asyncio.sleep(0.01)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task

    asyncio.run(go())

# ---------------------------------------------------------------------------- answers that are not the API's shape

@pytest.mark.parametrize(("raw", "says"), [(b"<html>oops</html>", "not JSON"), (b"", "empty body"),
                                           (b"[1, 2]", "JSON list"), (b'"text"', "JSON str")])
def test_a_garbage_200_is_a_protocol_error_not_retried(raw: bytes, says: str) -> None:
    (ex,), _server, _ = run([reply(200, raw=raw)], chat_call())
    assert ex["attempts"] == 1 and ex["status"] == 200 and ex["body"] is None
    assert ex["error"] is not None and ex["error"]["kind"] == "protocol" and says in ex["error"]["message"]

@pytest.mark.parametrize(("status", "raw", "expected"), [
    (400, b'{"error": {"message": "bad temp", "type": "invalid_request_error", "param": "temperature", "code": null}}',
     ("invalid_request_error", None, "bad temp")),
    (400, b'{"error": {"message": "m", "type": "invalid_request_error", "code": 1234}}', ("invalid_request_error", "1234", "m")),
    (400, b'{"error": "model not found"}', (None, None, "model not found")),
    (422, b'{"detail": [{"loc": ["body", "messages"], "msg": "field required"}]}', (None, None, "field required")),
    (404, b'{"detail": "Not Found"}', (None, None, "Not Found")),
    (400, b'{"message": "nope", "type": "BadRequest", "code": 400}', ("BadRequest", "400", "nope")),
    (401, b"Unauthorized", (None, None, "Unauthorized")),
    (400, b'data: {"error": {"message": "Error processing stream start", "type": "server_error"}}\n\ndata: [DONE]\n\n',
     ("server_error", None, "Error processing stream start")),
    (400, b"", (None, None, "HTTP 400 with an empty body")),
])
def test_error_bodies_of_every_shape(status: int, raw: bytes, expected: tuple[str | None, str | None, str]) -> None:
    (ex,), _, _ = run([reply(status, raw=raw)], chat_call())
    error = ex["error"]
    assert error is not None and error["kind"] == "api" and error["status"] == status
    assert (error["type"], error["code"]) == expected[:2]
    assert expected[2] in error["message"]

def test_a_200_carrying_an_error_object_is_an_error() -> None:
    (ex,), _, _ = run([reply(200, {"error": {"message": "upstream failed", "type": "server_error"}})], chat_call())
    assert ex["error"] is not None and ex["error"]["type"] == "server_error" and ex["body"] is None

def test_an_unsendable_body_is_a_protocol_error() -> None:
    (ex,), server, _ = run([reply(200, CHAT_OK)], chat_call(temperature=float("nan")))
    assert ex["error"] is not None and ex["error"]["kind"] == "protocol" and not server.requests

# ---------------------------------------------------------------------------- what is sent

def test_headers_and_paths() -> None:
    _, server, _ = run([reply(200, CHAT_OK)], [chat_call(), chat_call(stream=True)], concurrency=1)
    heads = {r["headers"]["accept"]: r for r in server.requests}
    assert set(heads) == {"application/json", "text/event-stream"}
    for request in server.requests:
        assert request["line"] == "POST /v1/chat/completions HTTP/1.1"  # base URL's /v1 not doubled
        assert request["headers"]["authorization"] == f"Bearer {KEY}"
        assert request["headers"]["content-type"] == "application/json"
        assert request["headers"]["user-agent"]
    assert heads["text/event-stream"]["body"]["stream"] is True
    _, server, _ = run([reply(200, CHAT_OK)], chat_call(), key=None)
    assert "authorization" not in server.requests[0]["headers"]

def test_a_base_url_without_v1() -> None:
    async def go() -> ScriptedServer:
        async with ScriptedServer([reply(200, CHAT_OK)]) as server:
            async with Sender(server.url, None, concurrency=1, rpm=None, timeout=5) as sender:
                await sender.send(chat_call())
            return server

    assert asyncio.run(go()).requests[0]["line"].startswith("POST /v1/chat/completions ")

def test_concurrency_is_bounded() -> None:
    async def go() -> ScriptedServer:
        async with ScriptedServer([reply(200, CHAT_OK)]) as server:
            server.hold = asyncio.Event()
            async with Sender(server.url, None, concurrency=3, rpm=None, timeout=10) as sender:
                tasks = [asyncio.create_task(sender.send(chat_call())) for _ in range(10)]
                while len(server.requests) < 3:
                    await asyncio.sleep(0.01)
                for _ in range(20):
                    await asyncio.sleep(0)
                waiting = len(server.requests)
                server.hold.set()
                results = await asyncio.gather(*tasks)
            assert waiting == 3
            assert all(r["status"] == 200 for r in results)
            return server

    server = asyncio.run(go())
    assert server.most_in_flight == 3 and len(server.requests) == 10

def test_the_rate_limiter_spaces_starts_without_a_burst() -> None:
    fake = FakeTime()
    limiter = RateLimiter(60, fake.clock, fake.sleep)

    async def go() -> None:
        for _ in range(4):
            await limiter.wait()
        fake.now = 10.0  # idle for a while: no burst credit builds up
        await limiter.wait()
        await limiter.wait()

    asyncio.run(go())
    assert fake.waits == [1.0, 2.0, 3.0, 1.0]
    with pytest.raises(ValueError):
        RateLimiter(0, time.monotonic, fake.sleep)

def test_rpm_applies_to_sends() -> None:
    _, server, fake = run([reply(200, CHAT_OK)], [chat_call() for _ in range(3)], rpm=120)
    assert len(server.requests) == 3 and fake.waits == [0.5, 1.0]

# ---------------------------------------------------------------------------- the key stays out

def test_the_key_never_reaches_an_error_message() -> None:
    echo = {"error": {"message": f"Incorrect API key provided: {KEY}. Header was Bearer {KEY}",
                      "type": "invalid_request_error", "code": "invalid_api_key"}}
    (ex,), _, _ = run([reply(401, echo)], chat_call())
    assert ex["error"] is not None and KEY not in json.dumps(ex)
    assert "[REDACTED]" in ex["error"]["message"]
    other = "sk-proj-" + "A1b2C3d4E5f6G7h8I9j0" * 2  # a key the run was not told about
    (ex,), _, _ = run([reply(401, raw=f"bad key {other}".encode())], chat_call())
    assert other not in json.dumps(ex)

def test_redactor() -> None:
    tricky = 'sk-a"b\\c-0123456789'
    red = Redactor([KEY, tricky, None, "ab"])
    assert red.text(f"x {KEY} y") == "x [REDACTED] y"
    assert KEY not in red.text(json.dumps({"k": f"Bearer {KEY}"}))
    assert tricky not in red.text(json.dumps(tricky)) and json.dumps(tricky)[1:-1] not in red.text(json.dumps(tricky))
    assert red.text("Authorization: bearer abc.def.123") == "Authorization: Bearer [REDACTED]"
    assert red.text("the bearer of bad news") == "the bearer of bad news"
    assert red.text("sk-learn is fine, sk-ABCDEFGHIJKLMNOPQRST is not") == "sk-learn is fine, sk-[REDACTED] is not"
    assert red.text("about tab") == "about tab"  # a too-short secret is not a secret
    assert red.value({KEY: [f"a {KEY}", 3, None, {"x": KEY}]}) == {"[REDACTED]": ["a [REDACTED]", 3, None, {"x": "[REDACTED]"}]}
    assert red.headers([("Authorization", f"Bearer {KEY}"), ("X-Api-Key", "abc"), ("Set-Cookie", "s=1"),
                        ("X-Note", KEY)], frozenset({"set-cookie"})) == {
        "authorization": "Bearer [REDACTED]", "x-api-key": "[REDACTED]", "x-note": "[REDACTED]"}

# ---------------------------------------------------------------------------- SSE envelopes

def _frames(events: list[dict[str, Any]], *, event_lines: bool, done: bool, crlf: bool = False) -> bytes:
    out = []
    for event in events:
        head = f"event: {event['type']}\n" if event_lines and "type" in event else ""
        out.append(f"{head}data: {json.dumps(event)}\n\n")
    if done:
        out.append("data: [DONE]\n\n")
    text = "".join(out)
    return (text.replace("\n", "\r\n") if crlf else text).encode()

def _responses_events(text_parts: list[str], *, seq: bool = True, terminal: str | None = "response.completed",
                      final_text: str | None = None, item_id: str = "msg_1") -> list[dict[str, Any]]:
    base = {"id": "resp_1", "object": "response", "created_at": 1, "status": "in_progress", "model": "m", "output": []}
    text = "".join(text_parts) if final_text is None else final_text
    item = {"type": "message", "id": item_id, "status": "completed", "role": "assistant",
            "content": [{"type": "output_text", "text": text, "annotations": []}]}
    events: list[dict[str, Any]] = [
        {"type": "response.created", "response": base},
        {"type": "response.output_item.added", "output_index": 0,
         "item": {"type": "message", "id": item_id, "status": "in_progress", "role": "assistant", "content": []}},
        {"type": "response.content_part.added", "output_index": 0, "item_id": item_id, "content_index": 0,
         "part": {"type": "output_text", "text": "", "annotations": []}},
        *({"type": "response.output_text.delta", "output_index": 0, "item_id": item_id, "content_index": 0, "delta": d}
          for d in text_parts),
        {"type": "response.output_item.done", "output_index": 0, "item": item},
    ]
    if terminal:
        status = {"response.completed": "completed", "response.incomplete": "incomplete"}.get(terminal, "failed")
        events.append({"type": terminal, "response": {**base, "status": status, "output": [item],
                                                      "usage": {"input_tokens": 1, "output_tokens": 2}}})
    if seq:
        for n, event in enumerate(events):
            event["sequence_number"] = n
    return events

def read_stream(data: bytes, responses: bool, *, split: int = 0) -> Any:
    reader = StreamReader(responses)
    pieces = [data[i:i + split] for i in range(0, len(data), split)] if split else [data]
    for n, piece in enumerate(pieces):
        reader.feed(piece, float(n))
    return reader.finish(float(len(pieces)))

@pytest.mark.parametrize(("event_lines", "done", "seq", "crlf"), [
    (True, False, True, False),  # OpenAI
    (False, True, True, False),  # LiteLLM bridged
    (True, False, False, False),  # llama-server: no sequence_number
    (False, True, False, True),  # LiteLLM native, with CRLF line ends
])
def test_responses_envelopes(event_lines: bool, done: bool, seq: bool, crlf: bool) -> None:
    data = _frames(_responses_events(["Hel", "lo ", "wörld"], seq=seq), event_lines=event_lines, done=done, crlf=crlf)
    for split in (0, 1, 7):
        result = read_stream(data, True, split=split)
        assert result.error is None
        assert result.body["status"] == "completed" and result.body["usage"] == {"input_tokens": 1, "output_tokens": 2}
        assert result.facts == {"events": 8, "event_lines": event_lines, "done": done, "sequence_numbers": seq,
                                "terminal": "response.completed", "rebuilt_matches_terminal": True}
        assert result.ttft_ms is not None

def test_responses_rebuilt_when_no_terminal_event() -> None:
    result = read_stream(_frames(_responses_events(["a", "b"], terminal=None)[:-1], event_lines=False, done=True), True)
    assert result.error is None and result.facts["rebuilt_matches_terminal"] is None
    assert result.body["id"] == "resp_1" and result.body["status"] == "in_progress"  # not invented: the last one seen
    assert result.body["output"][0]["content"][0]["text"] == "ab"

def test_responses_deltas_disagreeing_with_the_terminal_event() -> None:
    result = read_stream(_frames(_responses_events(["a", "b"], final_text="abc"), event_lines=True, done=False), True)
    assert result.facts["rebuilt_matches_terminal"] is False
    assert result.body["output"][0]["content"][0]["text"] == "abc"  # the terminal object is the answer

def test_responses_repeated_item_ids_are_kept_apart_by_output_index() -> None:
    events = [{"type": "response.created", "response": {"id": "r", "status": "in_progress", "output": []}}]
    for index, word in enumerate(["one", "two"]):
        events += [{"type": "response.output_item.added", "output_index": index,
                    "item": {"type": "message", "id": "msg_same", "role": "assistant", "content": []}},
                   {"type": "response.output_text.delta", "output_index": index, "item_id": "msg_same",
                    "content_index": 0, "delta": word}]
    result = read_stream(_frames(events, event_lines=False, done=True), True)
    assert [item["content"][0]["text"] for item in result.body["output"]] == ["one", "two"]

def test_responses_function_call_arguments_and_ttft() -> None:
    events = [{"type": "response.created", "response": {"id": "r", "status": "in_progress", "output": []}},
              {"type": "response.output_item.added", "output_index": 0,
               "item": {"type": "function_call", "id": "fc", "call_id": "c", "name": "f", "arguments": ""}},
              {"type": "response.function_call_arguments.delta", "output_index": 0, "item_id": "fc", "delta": ""},
              {"type": "response.function_call_arguments.delta", "output_index": 0, "item_id": "fc", "delta": '{"a":'},
              {"type": "response.function_call_arguments.delta", "output_index": 0, "item_id": "fc", "delta": "1}"}]
    result = read_stream(_frames(events, event_lines=False, done=False), True, split=20)
    assert result.body["output"][0]["arguments"] == '{"a":1}'
    assert result.ttft_ms is not None and result.ttft_ms > 0  # the empty delta is no token

@pytest.mark.parametrize("frame", [
    {"type": "error", "code": "server_error", "message": "boom"},
    {"type": "error", "error": {"type": "server_error", "code": "server_error", "message": "boom"}},
    {"error": {"type": "server_error", "code": "server_error", "message": "boom"}},
])
def test_an_error_frame_fails_the_stream(frame: dict[str, Any]) -> None:
    events = [*_responses_events(["x"], terminal=None)[:2], frame]
    result = read_stream(_frames(events, event_lines=True, done=False), True)
    assert result.body is None and result.error is not None
    assert result.error["kind"] == "api" and result.error["code"] == "server_error" and result.error["message"] == "boom"
    assert result.facts["terminal"] == "error"

def test_a_non_json_frame_is_a_protocol_error() -> None:
    result = read_stream(b"data: {not json\n\n", False)
    assert result.error is not None and result.error["kind"] == "protocol"

def _chunk(delta: dict[str, Any], finish: str | None = None, index: int = 0, **top: Any) -> dict[str, Any]:
    return {"id": "chatcmpl-9", "object": "chat.completion.chunk", "created": 5, "model": "gpt-4o-2024-08-06",
            "choices": [{"index": index, "delta": delta, "finish_reason": finish}], **top}

def test_chat_stream_assembled_into_a_completion() -> None:
    chunks = [_chunk({"role": "assistant", "content": ""}),
              _chunk({"content": "Hi "}), _chunk({"content": "there"}),
              _chunk({"tool_calls": [{"index": 0, "id": "call_a", "type": "function", "function": {"name": "f", "arguments": ""}}]}),
              _chunk({"tool_calls": [{"index": 1, "id": "call_b", "type": "function", "function": {"name": "g", "arguments": "{}"}}]}),
              _chunk({"tool_calls": [{"index": 0, "function": {"arguments": '{"x": 1}'}}]}),
              _chunk({}, "tool_calls"),
              {"id": "chatcmpl-9", "object": "chat.completion.chunk", "created": 5, "model": "gpt-4o-2024-08-06",
               "choices": [], "usage": {"prompt_tokens": 3, "completion_tokens": 4, "total_tokens": 7}}]
    data = _frames(chunks, event_lines=False, done=True)
    for split in (0, 3):
        result = read_stream(data, False, split=split)
        assert result.error is None
        assert result.body == {
            "id": "chatcmpl-9", "object": "chat.completion", "created": 5, "model": "gpt-4o-2024-08-06",
            "choices": [{"index": 0, "finish_reason": "tool_calls", "logprobs": None,
                         "message": {"role": "assistant", "content": "Hi there", "refusal": None, "tool_calls": [
                             {"id": "call_a", "type": "function", "function": {"name": "f", "arguments": '{"x": 1}'}},
                             {"id": "call_b", "type": "function", "function": {"name": "g", "arguments": "{}"}}]}}],
            "usage": {"prompt_tokens": 3, "completion_tokens": 4, "total_tokens": 7}}
        assert result.facts == {"events": 8, "event_lines": False, "done": True, "sequence_numbers": False,
                                "terminal": "tool_calls", "rebuilt_matches_terminal": None}
    assert read_stream(data, False, split=len(_frames(chunks[:1], event_lines=False, done=False))).ttft_ms == 1.0

def test_chat_stream_quirks_missing_fields_repeated_ids_and_n() -> None:
    chunks = [{"choices": [{"delta": {"content": "a"}}]},  # no id, no index, no finish_reason key
              {"id": "same", "choices": [{"index": 1, "delta": {"refusal": "no"}, "finish_reason": "stop"}]},
              {"id": "same", "choices": [{"index": 0, "delta": {"content": "b"}, "finish_reason": "length"}]},
              {"id": "same", "choices": [{"index": 0, "delta": {"tool_calls": [{"id": "t", "function": {"name": "f"}}]}}]},
              {"id": "same", "choices": [{"index": 0, "delta": {"tool_calls": [{"id": "t", "function": {"arguments": "{}"}}]}}]}]
    result = read_stream(_frames(chunks, event_lines=False, done=False), False)
    body = result.body
    assert body["id"] == "same" and body["usage"] is None and body["created"] is None
    assert [c["index"] for c in body["choices"]] == [0, 1]
    assert body["choices"][0]["message"]["content"] == "ab" and body["choices"][0]["finish_reason"] == "length"
    assert body["choices"][0]["message"]["tool_calls"] == [
        {"id": "t", "type": "function", "function": {"name": "f", "arguments": "{}"}}]
    assert body["choices"][1]["message"] == {"role": "assistant", "content": None, "refusal": "no"}
    assert result.facts["done"] is False

def test_chat_stream_data_error() -> None:
    data = _frames([_chunk({"content": "a"}), {"error": {"message": "mid-stream failure", "type": "server_error"}}],
                   event_lines=False, done=True)
    result = read_stream(data, False)
    assert result.body is None and result.error is not None and result.error["message"] == "mid-stream failure"

def test_an_empty_stream_is_a_protocol_error() -> None:
    result = read_stream(b": keep-alive\n\ndata: [DONE]\n\n", False)
    assert result.error is not None and result.error["kind"] == "protocol" and result.facts["done"] is True

def test_streams_through_the_sender() -> None:
    chat = _frames([_chunk({"content": "Hi"}, "stop")], event_lines=False, done=True)
    resp = _frames(_responses_events(["Hi"]), event_lines=True, done=False)
    (a, b), _, _ = run([sse(chat[:10], chat[10:]), sse(resp)], [chat_call(stream=True), responses_call(stream=True)],
                       concurrency=1)
    assert a["body"]["choices"][0]["message"]["content"] == "Hi" and a["stream"] is not None
    assert a["ttft_ms"] is not None and a["ttft_ms"] <= a["total_ms"]
    assert b["body"]["status"] == "completed" and b["stream"] is not None and b["stream"]["event_lines"]
    assert (a["arm"], a["sample"], a["path"], a["cached"]) == ("P", 0, CHAT_PATH, False)

def test_a_stream_asked_for_and_json_answered() -> None:
    (ex,), _, _ = run([reply(200, CHAT_OK)], chat_call(stream=True))
    assert ex["body"] == CHAT_OK and ex["stream"] is None and ex["error"] is None

def test_a_failed_stream_answered_as_sse_with_an_error_status() -> None:
    raw = b'data: {"error": {"message": "Error processing stream start", "type": "server_error"}}\n\ndata: [DONE]\n\n'
    (ex,), _, _ = run([sse(raw, status=500), reply(200, CHAT_OK)], chat_call(stream=True), max_attempts=1)
    assert ex["status"] == 500 and ex["error"] is not None and ex["error"]["type"] == "server_error"


# ---------------------------------------------------------------------------- properties


@settings(max_examples=150, deadline=None)
@given(cuts=st.lists(st.integers(min_value=1, max_value=2000), max_size=12), responses=st.booleans())
def test_a_stream_reads_the_same_however_it_is_split(cuts: list[int], responses: bool) -> None:
    if responses:
        data = _frames(_responses_events(["Grüß", " dich", " 👋"], seq=False), event_lines=True, done=True, crlf=True)
    else:
        data = _frames([_chunk({"content": "Grüß"}), _chunk({"content": " 👋"}, "stop")], event_lines=False, done=True)
    whole = read_stream(data, responses)
    reader = StreamReader(responses)
    start = 0
    for cut in sorted({c % len(data) for c in cuts}):
        reader.feed(data[start:cut], 0.0)
        start = cut
    reader.feed(data[start:], 0.0)
    split = reader.finish(1.0)
    assert (split.body, split.facts, split.error) == (whole.body, whole.facts, whole.error)


@settings(max_examples=200, deadline=None)
@given(secret=st.text(st.characters(min_codepoint=0x21, max_codepoint=0x17F), min_size=4, max_size=40),
       before=st.text(st.characters(min_codepoint=0x20), max_size=20),
       after=st.text(st.characters(min_codepoint=0x20), max_size=20))
def test_a_known_secret_never_survives_redaction(secret: str, before: str, after: str) -> None:
    """Control characters stay out of the text around it: their JSON escapes (\\u0000) would spell hex "secrets"."""
    red = Redactor([secret])
    value = {"message": f"{before}{secret}{after}", "list": [secret, {secret: 1}]}
    assert secret not in red.text(f"{before}{secret}{after}")
    assert secret not in json.dumps(red.value(value), ensure_ascii=False)
    assert secret not in red.text(json.dumps(value, ensure_ascii=False))
