"""Cassettes: recorded by the replay sender or by a program's own client (httpx, or the openai SDK
over httpx2), replayed offline through the same parser, with every secret left out of the file.

``fixtures/replay/cassettes/``: ``offline-*.jsonl`` were recorded from ``migrator serve`` (offline
model, ``--latency-ms 2`` so a stream comes in several chunks); ``quirks.jsonl`` is hand-written,
one line per server quirk (study §6.3), each with a ``note``.
"""

from __future__ import annotations

import asyncio
import json
import signal
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path
from typing import Any

import httpx
import httpx2
import openai
import pytest

from migrator.replay.autoserve import AutoserveError, OfflineServer, offline_server, offline_server_sync
from migrator.replay.cassette import CassetteError, CassettePlayer, CassetteWriter, Tape, async_transport, transport
from migrator.replay.client import Sender
from migrator.replay.model import CHAT_PATH, RESPONSES_PATH, Call, Exchange
from tests.replay_server import ScriptedServer, reply, reset, sse

ROOT = Path(__file__).resolve().parent.parent
CASSETTES = ROOT / "fixtures" / "replay" / "cassettes"
KEY = "sk-test-cassette-5ecret-Key-9876543210"
GATEWAY_KEY = "gw-token.Secret+42"


def lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def call_for(entry: dict[str, Any], sample: int = 0) -> Call:
    request = entry["request"]
    return {"case": "c", "arm": "C" if request["path"] == RESPONSES_PATH else "P", "sample": sample,
            "path": request["path"], "body": request["body"]}


def play(path: Path, calls: list[Call]) -> list[Exchange]:
    async def go() -> list[Exchange]:
        async with CassettePlayer(path) as player:
            return [await player.send(c) for c in calls]

    return asyncio.run(go())


# ---------------------------------------------------------------------------- the fixture cassettes


@pytest.mark.parametrize("name", ["offline-chat.jsonl", "offline-responses.jsonl"])
def test_recorded_offline_cassettes_replay(name: str) -> None:
    entries = lines(CASSETTES / name)
    whole, streamed = play(CASSETTES / name, [call_for(e) for e in entries])
    assert whole["error"] is None and whole["stream"] is None and whole["status"] == 200
    assert streamed["error"] is None and streamed["stream"] is not None
    recorded = entries[1]["response"]
    assert streamed["total_ms"] == recorded["total_ms"]
    assert streamed["ttft_ms"] in [at for at, _ in recorded["chunks"]]  # TTFT comes back from the recorded offsets
    assert len(recorded["chunks"]) > 3
    if name == "offline-chat.jsonl":
        assert streamed["body"]["choices"][0]["message"]["content"] == whole["body"]["choices"][0]["message"]["content"]
        assert streamed["body"]["usage"]["completion_tokens"] == whole["body"]["usage"]["completion_tokens"]
        assert streamed["stream"]["done"] and not streamed["stream"]["event_lines"]
    else:
        assert streamed["body"]["output"] == whole["body"]["output"] or \
            streamed["body"]["output"][0]["content"] == whole["body"]["output"][0]["content"]
        assert streamed["stream"] == {"events": streamed["stream"]["events"], "event_lines": True, "done": False,
                                      "sequence_numbers": True, "terminal": "response.completed",
                                      "rebuilt_matches_terminal": True}


def test_quirk_cassette_is_read_right() -> None:
    entries = lines(CASSETTES / "quirks.jsonl")
    calls = [call_for(e) for e in entries[:5]] + [call_for(entries[5])]
    ex = play(CASSETTES / "quirks.jsonl", calls)
    # 1. chat: no event lines, usage after the finish chunk, trailing [DONE], one id on every chunk
    assert ex[0]["body"]["choices"][0]["message"]["content"] == "Hello there"
    assert ex[0]["body"]["choices"][0]["finish_reason"] == "length" and ex[0]["body"]["usage"]["total_tokens"] == 7
    assert ex[0]["stream"] == {"events": 5, "event_lines": False, "done": True, "sequence_numbers": False,
                               "terminal": "length", "rebuilt_matches_terminal": None}
    assert ex[0]["ttft_ms"] == 20.0  # the second chunk: the first carries no text
    # 2. responses without event lines, with [DONE]; 3. with event lines, without sequence_number
    for n, (event_lines, done, seq) in ((1, (False, True, True)), (2, (True, False, False))):
        assert ex[n]["error"] is None and ex[n]["body"]["status"] == "completed"
        facts = ex[n]["stream"]
        assert facts is not None and (facts["event_lines"], facts["done"], facts["sequence_numbers"]) == (event_lines, done, seq)
        assert facts["terminal"] == "response.completed" and facts["rebuilt_matches_terminal"] is True
    # 4. two items with one id and no terminal event: rebuilt, kept apart
    assert [i["content"][0]["text"] for i in ex[3]["body"]["output"]] == ["first", "second"]
    assert ex[3]["stream"] is not None and ex[3]["stream"]["rebuilt_matches_terminal"] is None
    # 5. a chat answer with fields missing is taken as it is
    assert ex[4]["body"]["choices"][0]["message"]["content"] == "ok" and "usage" not in ex[4]["body"]
    # 6. a recorded 429 then the answer: two attempts, no real wait
    assert ex[5]["attempts"] == 2 and ex[5]["status"] == 200


# ---------------------------------------------------------------------------- record with the Sender, replay with the player


def test_sender_records_and_the_player_replays_the_same_exchanges(tmp_path: Path) -> None:
    cassette = tmp_path / "run.jsonl"
    chat_ok = {"id": "chatcmpl-1", "object": "chat.completion", "choices": [
        {"index": 0, "message": {"role": "assistant", "content": f"echo {KEY}?"}, "finish_reason": "stop"}]}
    stream = ['data: {"id":"x","choices":[{"index":0,"delta":{"content":"h\xc3'.encode("latin-1"),
              '\xa9"}}]}\n\n'.encode("latin-1"), b'data: {"id":"x","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}\n\n',
              b"data: [DONE]\n\n"]
    calls: list[Call] = [
        {"case": "a", "arm": "P", "sample": 0, "path": CHAT_PATH, "body": {"model": "m", "messages": [{"role": "user", "content": "1"}]}},
        {"case": "a", "arm": "S", "sample": 0, "path": CHAT_PATH, "body": {"model": "m", "messages": [{"role": "user", "content": "1"}]}},
        {"case": "b", "arm": "P", "sample": 0, "path": CHAT_PATH, "body": {"model": "m", "stream": True, "messages": [{"role": "user", "content": "2"}]}},
        {"case": "c", "arm": "C", "sample": 0, "path": RESPONSES_PATH, "body": {"model": "m", "input": "3"}},
    ]
    script = [reply(429, {"error": {"message": "wait", "type": "rate_limit_error"}}, {"retry-after": "0", "set-cookie": "s=1",
                                                                                     "x-request-id": "req_1"}),
              reply(200, chat_ok), reply(200, chat_ok), sse(*stream),
              reply(400, {"error": {"message": f"Incorrect API key provided: {KEY}", "type": "invalid_request_error"}})]

    async def record() -> list[Exchange]:
        writer = CassetteWriter(cassette, [KEY])
        try:
            async with ScriptedServer(script) as server, \
                    Sender(server.url + "/v1", KEY, concurrency=1, rpm=None, timeout=10, recorder=writer) as sender:
                return [await sender.send(c) for c in calls]
        finally:
            writer.close()

    live = asyncio.run(record())
    text = cassette.read_text(encoding="utf-8")
    assert KEY not in text and "s=1" not in text and "req_1" not in text
    assert len(text.splitlines()) == 5  # every attempt, the 429 included
    replayed = play(cassette, calls)
    for a, b in zip(live, replayed, strict=True):
        assert {k: v for k, v in a.items() if k not in ("total_ms", "ttft_ms", "body", "error")} == \
               {k: v for k, v in b.items() if k not in ("total_ms", "ttft_ms", "body", "error")}
        assert b["total_ms"] == pytest.approx(a["total_ms"], abs=0.001)
        assert (a["ttft_ms"] is None) == (b["ttft_ms"] is None)
    assert live[0]["attempts"] == 2 and replayed[0]["attempts"] == 2
    assert replayed[2]["body"]["choices"][0]["message"]["content"] == "h\xe9"  # é split across chunks
    assert replayed[3]["error"] is not None and replayed[3]["error"]["status"] == 400
    assert KEY not in json.dumps(live) and KEY not in json.dumps(replayed)
    assert replayed[0]["body"]["choices"][0]["message"]["content"] == "echo [REDACTED]?"


def test_the_sender_keeps_its_key_out_even_of_a_writer_not_told_it(tmp_path: Path) -> None:
    cassette = tmp_path / "echo.jsonl"  # a key of no known shape: only the sender knows it is one
    echo = f'data: {{"id":"x","choices":[{{"index":0,"delta":{{"content":"{GATEWAY_KEY}"}},"finish_reason":"stop"}}]}}\n\n'
    at = echo.index(GATEWAY_KEY) + 5  # the key split between two chunks
    tokens = [f'data: {{"id":"y","choices":[{{"index":0,"delta":{{"content":"{GATEWAY_KEY[i:i + 4]}"}}}}]}}\n\n'
              for i in range(0, len(GATEWAY_KEY), 4)]  # …and echoed token by token
    script = [reply(200, {"id": "a", "choices": [], "note": GATEWAY_KEY}, {"x-echo": GATEWAY_KEY}),
              sse(echo[:at], echo[at:]), sse(*tokens), reset]

    async def record() -> list[Exchange]:
        writer = CassetteWriter(cassette)  # no secrets given: the sender's own redaction must do
        try:
            async with ScriptedServer(script) as server, \
                    Sender(server.url, GATEWAY_KEY, concurrency=1, rpm=None, timeout=10, recorder=writer, max_attempts=1) as sender:
                body = {"model": "m", "messages": [{"role": "user", "content": f"my key is {GATEWAY_KEY}"}]}
                return [await sender.send({"case": "k", "arm": "P", "sample": 0, "path": CHAT_PATH,
                                           "body": {**body, **extra}}) for extra in ({}, {"stream": True}, {"stream": True, "n": 1}, {"n": 1})]
        finally:
            writer.close()

    exchanges = asyncio.run(record())
    assert exchanges[3]["error"] is not None and exchanges[3]["error"]["kind"] == "connection"
    assert exchanges[2]["body"]["choices"][0]["message"]["content"] == "[REDACTED]"
    assert GATEWAY_KEY not in json.dumps(exchanges)
    recorded = lines(cassette)
    assert len(recorded) == 4 and GATEWAY_KEY not in json.dumps(recorded[:2])
    assert len(recorded[1]["response"]["chunks"]) == 1  # merged: the key crossed the chunks
    # Known limit: a key echoed token by token survives in the recorded events, one piece per event.
    assert GATEWAY_KEY not in "".join(text for _, text in recorded[2]["response"]["chunks"])


def test_a_request_missing_from_the_cassette(tmp_path: Path) -> None:
    entries = lines(CASSETTES / "offline-chat.jsonl")
    other = call_for(entries[0])
    other["body"] = {**other["body"], "messages": [{"role": "user", "content": "never recorded"}]}
    first, again, missing = play(CASSETTES / "offline-chat.jsonl", [call_for(entries[0]), call_for(entries[0]), other])
    assert first["error"] is None
    for ex in (again, missing):  # a repeat beyond what was recorded is missing too
        assert ex["error"] is not None and ex["error"]["kind"] == "connection" and ex["attempts"] == 1
        assert "offline-chat.jsonl" in ex["error"]["message"] and "POST /v1/chat/completions" in ex["error"]["message"]
        assert "never recorded" not in ex["error"]["message"]


@pytest.mark.parametrize(("text", "says"), [
    ("{not json\n", ":2: not JSON"),
    ('{"request": {}}\n', ":2: $.request.path"),
    ('{"request": {"path": "/v1/responses"}, "response": {"status": "200"}}\n', ":2: $.response.status"),
    ('{"request": {"path": "/v1/responses"}, "response": null}\n', ":2: $.failure"),
    ('{"request": {"path": "/v1/responses"}, "response": {"status": 200, "chunks": ["x"]}}\n', ":2: $.response.chunks"),
])
def test_a_bad_cassette_line_is_named(tmp_path: Path, text: str, says: str) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text('{"request": {"path": "/v1/responses"}, "response": {"status": 200, "body": "{}"}}\n' + text)
    with pytest.raises(CassetteError, match=f"bad.jsonl{says}".replace("$", r"\$").replace(".", r"\.")):
        Tape(path)
    with pytest.raises(CassetteError, match="cannot read"):
        Tape(tmp_path / "absent.jsonl")


# ---------------------------------------------------------------------------- a program's own client


CHAT = {"model": "gpt-4o", "messages": [{"role": "user", "content": "Name two colours."}], "max_tokens": 30}


def _sdk_run(client: openai.OpenAI) -> list[Any]:
    out: list[Any] = [client.chat.completions.create(**CHAT).choices[0].message.content]  # type: ignore[call-overload]
    out.append("".join(c.choices[0].delta.content or "" for c in client.chat.completions.create(**CHAT, stream=True)
                       if c.choices))  # type: ignore[call-overload]
    out.append(client.responses.create(model="gpt-4o", input="Name two colours.").output_text)
    events = list(client.responses.create(model="gpt-4o", input="Name two colours.", stream=True))
    out.append([e.type for e in events][-1])
    out.append("".join(getattr(e, "delta", "") for e in events if e.type == "response.output_text.delta"))
    return out


async def _async_sdk_run(client: openai.AsyncOpenAI) -> list[Any]:
    out: list[Any] = [(await client.chat.completions.create(**CHAT)).choices[0].message.content]  # type: ignore[call-overload]
    text = ""
    async for chunk in await client.chat.completions.create(**CHAT, stream=True):  # type: ignore[call-overload]
        if chunk.choices:
            text += chunk.choices[0].delta.content or ""
    out.append(text)
    return out


def _port_closed(base_url: str) -> bool:
    port = int(base_url.rsplit(":", 1)[1].split("/")[0])
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) != 0


@pytest.mark.slow
def test_openai_sdk_records_and_replays_over_httpx2(tmp_path: Path) -> None:
    sync_path, async_path = tmp_path / "sdk.jsonl", tmp_path / "sdk-async.jsonl"
    with offline_server_sync(sampling=False) as url:
        with openai.OpenAI(api_key=KEY, base_url=url, max_retries=0, http_client=httpx2.Client(
                transport=transport(sync_path, "record", library="httpx2", secrets=[KEY]))) as client:
            live = _sdk_run(client)

        async def record_async() -> list[Any]:
            async with openai.AsyncOpenAI(api_key=KEY, base_url=url, max_retries=0, http_client=httpx2.AsyncClient(
                    transport=async_transport(async_path, "record", library="httpx2", secrets=[KEY]))) as aclient:
                return await _async_sdk_run(aclient)

        live_async = asyncio.run(record_async())
    assert _port_closed(url)  # the server is gone: what follows is offline
    assert live[2] and live[3] == "response.completed" and live[4] == live[2]
    with openai.OpenAI(api_key="sk-another-key-entirely-000000", base_url=url, max_retries=0, http_client=httpx2.Client(
            transport=transport(sync_path, "replay", library="httpx2"))) as client:
        assert _sdk_run(client) == live

    async def replay_async() -> list[Any]:
        async with openai.AsyncOpenAI(api_key=KEY, base_url=url, max_retries=0, http_client=httpx2.AsyncClient(
                transport=async_transport(async_path, "replay", library="httpx2"))) as aclient:
            return await _async_sdk_run(aclient)

    assert asyncio.run(replay_async()) == live_async
    for path in (sync_path, async_path):
        text = path.read_text(encoding="utf-8")
        assert KEY not in text and "Bearer [REDACTED]" in text
    # The harness's player reads what the SDK's transport wrote: one format.
    entries = lines(sync_path)
    ex = play(sync_path, [call_for(entries[1])])[0]
    assert ex["error"] is None and ex["stream"] is not None and ex["body"]["choices"][0]["message"]["content"] == live[1]
    # Nothing more was recorded than was asked: a request beyond the cassette is the library's ConnectError.
    with openai.OpenAI(api_key=KEY, base_url=url, max_retries=0, http_client=httpx2.Client(
            transport=transport(sync_path, "replay", library="httpx2"))) as client:
        client.chat.completions.create(**CHAT)  # type: ignore[call-overload]
        with pytest.raises(openai.APIConnectionError):
            client.chat.completions.create(**{**CHAT, "max_tokens": 31})  # type: ignore[call-overload]


@pytest.mark.slow
def test_plain_httpx_records_and_replays(tmp_path: Path) -> None:
    path = tmp_path / "httpx.jsonl"
    headers = {"authorization": f"Bearer {KEY}"}
    body = {"model": "gpt-4o", "input": "Say hi.", "stream": True}
    with offline_server_sync(sampling=False) as url:
        with httpx.Client(transport=transport(path, "record", library="httpx", secrets=[KEY])) as client:
            whole = client.post(f"{url}/chat/completions", json=CHAT, headers=headers).json()
            with client.stream("POST", f"{url}/responses", json=body, headers=headers) as answer:
                streamed = b"".join(answer.iter_bytes())

        async def record_async() -> Any:
            async with httpx.AsyncClient(transport=async_transport(path, "record", library="httpx", secrets=[KEY])) as client:
                return (await client.post(f"{url}/chat/completions", json={**CHAT, "max_tokens": 9}, headers=headers)).json()

        whole_async = asyncio.run(record_async())
    assert KEY not in path.read_text(encoding="utf-8")
    with httpx.Client(transport=transport(path, "replay", library="httpx")) as client:
        assert client.post(f"{url}/chat/completions", json=CHAT).json() == whole
        with client.stream("POST", f"{url}/responses", json=body) as answer:
            assert answer.headers["content-type"].startswith("text/event-stream")
            assert b"".join(answer.iter_bytes()) == streamed
        with pytest.raises(httpx.ConnectError, match="no \\(further\\) recorded answer"):
            client.post(f"{url}/chat/completions", json=CHAT)

    async def replay_async() -> Any:
        async with httpx.AsyncClient(transport=async_transport(path, "replay", library="httpx")) as client:
            return (await client.post(f"{url}/chat/completions", json={**CHAT, "max_tokens": 9})).json()

    assert asyncio.run(replay_async()) == whole_async
    assert b"response.completed" in streamed


# ---------------------------------------------------------------------------- the auto-started offline server


@pytest.mark.slow
def test_offline_server_starts_answers_and_stops() -> None:
    async def go() -> tuple[str, Exchange]:
        async with offline_server() as url:
            with urllib.request.urlopen(f"{url}/models", timeout=5) as answer:
                assert answer.status == 200
            async with Sender(url, None, concurrency=2, rpm=None, timeout=10) as sender:
                ex = await sender.send({"case": "x", "arm": "P", "sample": 0, "path": CHAT_PATH, "body": CHAT})
            return url, ex

    url, ex = asyncio.run(go())
    assert ex["error"] is None and ex["status"] == 200
    assert _port_closed(url)


@pytest.mark.slow
def test_offline_server_that_cannot_start_says_why() -> None:
    with pytest.raises(AutoserveError, match=r"(?s)exited with status 2.*unrecognized arguments: --no-such-flag"):
        with offline_server_sync(extra=("--no-such-flag",)):
            pass
    server = OfflineServer(sampling=True)
    assert ("--sampling" in server.command) == _serve_has_sampling()
    server.stop()


def _serve_has_sampling() -> bool:
    shown = subprocess.run([sys.executable, "-m", "migrator.cli", "serve", "--help"], capture_output=True, text=True,
                           check=True, cwd=ROOT)
    return "--sampling" in shown.stdout


@pytest.mark.slow
def test_offline_server_stops_on_ctrl_c(tmp_path: Path) -> None:
    script = ("import asyncio, sys\n"
              "from migrator.replay.autoserve import offline_server\n"
              "async def main():\n"
              "    async with offline_server() as url:\n"
              "        print(url, flush=True)\n"
              "        await asyncio.sleep(60)\n"
              "try:\n"
              "    asyncio.run(main())\n"
              "except KeyboardInterrupt:\n"
              "    sys.exit(130)\n")
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, cwd=ROOT)
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:") and not _port_closed(url)
        proc.send_signal(signal.SIGINT)
        assert proc.wait(30) == 130
        assert _port_closed(url)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
