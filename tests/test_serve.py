"""``migrator serve`` end to end, with the real ``openai`` SDK as the client.

Servers are subprocesses on free loopback ports, started once per module:

* ``offline``: the deterministic offline model (the reference every bridge is compared with);
* ``bridge_chat`` / ``bridge_responses``: bridges whose upstream is a second offline
  ``migrator serve`` (``--upstream-api chat`` serves /v1/responses over the upstream's chat
  endpoint; ``responses`` passes it through), so the same SDK calls must give the same content;
* ``fault_bridge`` / ``guarded``: bridges to a scriptable fake upstream (``tests.serve_helpers``)
  for retries, timeouts, cancellation, keys and logs; ``dead_bridge`` points at a closed port.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import signal
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
from pydantic import BaseModel

from migrator.server.offline import MODEL_ID, REFUSAL_TEXT, REFUSAL_TRIGGER
from tests.serve_helpers import (
    FAKE_TEXT,
    UPSTREAM_500_BODY,
    FakeUpstream,
    ServerProcess,
    closed_port,
    fake_upstream,
    read_jsonl,
    running_server,
    wait_for,
)

pytestmark = pytest.mark.slow  # every test here talks to `migrator serve` subprocesses

MODEL = "gpt-4.1"
CLIENT_KEY = "sk-client-" + uuid.uuid4().hex
UPSTREAM_KEY = "sk-upstream-" + uuid.uuid4().hex
WEATHER_PARAMS = {
    "type": "object",
    "properties": {"city": {"type": "string"}},
    "required": ["city"],
    "additionalProperties": False,
}
RESPONSES_TOOLS: list[Any] = [{"type": "function", "name": "get_weather", "description": "Current weather in a city",
                               "parameters": WEATHER_PARAMS, "strict": True}]
CHAT_TOOLS: list[Any] = [{"type": "function", "function": {"name": "get_weather", "description": "Current weather in a city",
                                                           "parameters": WEATHER_PARAMS, "strict": True}}]
TOOL_QUESTION = "What is the weather in Busan? Use get_weather."
TOOL_OUTPUT = '{"temp_c": 18}'
AUTH = {"authorization": "Bearer sk-test"}  # the key ServerProcess.client() sends: stored responses are its own


class Weather(BaseModel):
    city: str
    temp_c: int
    summary: str


# ---------------------------------------------------------------------------- servers


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("serve")


def _start(workdir: Path, name: str, args: list[str], env: dict[str, str] | None = None) -> ServerProcess:
    return ServerProcess(args, stderr_path=workdir / f"{name}.stderr", env=env).start()


@pytest.fixture(scope="module")
def offline(workdir: Path) -> Iterator[ServerProcess]:
    server = _start(workdir, "offline", ["--access-log", str(workdir / "offline.log")])
    try:
        yield server.wait_ready()
    finally:
        server.stop()


@pytest.fixture(scope="module")
def upstream_offline(workdir: Path) -> Iterator[ServerProcess]:
    server = _start(workdir, "upstream", ["--access-log", "-"])
    try:
        yield server.wait_ready()
    finally:
        server.stop()


@pytest.fixture(scope="module")
def bridges(workdir: Path, upstream_offline: ServerProcess) -> Iterator[dict[str, ServerProcess]]:
    servers = {api: _start(workdir, f"bridge-{api}", ["--upstream", upstream_offline.base_url, "--upstream-api", api,
                                                      "--access-log", "-"])
               for api in ("chat", "responses")}
    try:
        yield {api: server.wait_ready() for api, server in servers.items()}
    finally:
        for server in servers.values():
            server.stop()


SERVER_KINDS = ["offline", "bridge-chat", "bridge-responses"]


@pytest.fixture(params=SERVER_KINDS)
def server(request: pytest.FixtureRequest) -> ServerProcess:
    """Each SDK behaviour on the offline server and on both bridges."""
    if request.param == "offline":
        chosen: ServerProcess = request.getfixturevalue("offline")
    else:
        chosen = request.getfixturevalue("bridges")[request.param.removeprefix("bridge-")]
    return chosen


@pytest.fixture(scope="module")
def fake_module() -> Iterator[FakeUpstream]:
    with fake_upstream() as fake:
        yield fake


@pytest.fixture
def fake(fake_module: FakeUpstream) -> Iterator[FakeUpstream]:
    fake_module.reset()
    yield fake_module
    fake_module.reset()


@pytest.fixture(scope="module")
def fault_bridge(workdir: Path, fake_module: FakeUpstream) -> Iterator[ServerProcess]:
    with running_server(["--upstream", fake_module.base_url, "--upstream-api", "chat", "--retries", "1",
                         "--upstream-timeout", "0.5", "--access-log", str(workdir / "fault.log")],
                        stderr_path=workdir / "fault.stderr") as server:
        yield server


@pytest.fixture(scope="module")
def dead_bridge(workdir: Path) -> Iterator[ServerProcess]:
    with running_server(["--upstream", f"http://127.0.0.1:{closed_port()}/v1", "--retries", "1", "--access-log", "-"],
                        stderr_path=workdir / "dead.stderr") as server:
        yield server


@pytest.fixture(scope="module")
def guarded(workdir: Path, fake_module: FakeUpstream) -> Iterator[ServerProcess]:
    """A bridge with a client key, an upstream key, a file access log and a 50 KiB body limit."""
    env = {"MIGRATOR_TEST_CLIENT_KEY": CLIENT_KEY, "MIGRATOR_TEST_UPSTREAM_KEY": UPSTREAM_KEY}
    with running_server(["--upstream", fake_module.base_url, "--upstream-api", "chat", "--retries", "1",
                         "--upstream-timeout", "0.5", "--api-key-env", "MIGRATOR_TEST_CLIENT_KEY",
                         "--upstream-key-env", "MIGRATOR_TEST_UPSTREAM_KEY", "--max-body-mb", "0.05",
                         "--access-log", str(workdir / "guarded.log")],
                        stderr_path=workdir / "guarded.stderr", env=env) as server:
        yield server


# ---------------------------------------------------------------------------- helpers


def text_of(response: Any) -> str:
    return str(response.output_text)


def item_texts(items: Any) -> list[str]:
    """The text of each listed input message."""
    return [item.content[0].text for item in items]


def expected_sentence(question: str, turn: int = 1) -> str:
    return f'Offline answer to "{question}" (turn {turn}): '


def chain(client: openai.OpenAI, questions: list[str], **kwargs: Any) -> list[Any]:
    out: list[Any] = []
    for q in questions:
        extra = {"previous_response_id": out[-1].id} if out else {}
        out.append(client.responses.create(model=MODEL, input=q, **extra, **kwargs))
    return out


# ---------------------------------------------------------------------------- 1 + 2: the SDK against every server


def test_create_sync_same_content_as_offline(server: ServerProcess, offline: ServerProcess) -> None:
    client = server.client()
    r = client.responses.create(model=MODEL, input="Name three rivers", instructions="Answer briefly.")
    reference = offline.client().responses.create(model=MODEL, input="Name three rivers", instructions="Answer briefly.")
    assert r.status == "completed"
    assert r.object == "response"
    assert text_of(r).startswith(expected_sentence("Name three rivers"))
    assert text_of(r) == text_of(reference)
    assert r.usage is not None and r.usage.output_tokens > 0
    assert r.usage.total_tokens == r.usage.input_tokens + r.usage.output_tokens


def test_same_request_on_both_endpoints_same_content(server: ServerProcess) -> None:
    client = server.client()
    r = client.responses.create(model=MODEL, input="Describe a harbor", instructions="Be vivid.")
    c = client.chat.completions.create(model=MODEL, messages=[{"role": "system", "content": "Be vivid."},
                                                              {"role": "user", "content": "Describe a harbor"}])
    assert c.object == "chat.completion"
    assert c.choices[0].finish_reason == "stop"
    assert c.choices[0].message.content == text_of(r)
    assert c.usage is not None and r.usage is not None
    assert c.usage.completion_tokens == r.usage.output_tokens


def test_async_clients(server: ServerProcess, offline: ServerProcess) -> None:
    expected = text_of(offline.client().responses.create(model=MODEL, input="Async hello"))

    async def main() -> tuple[str, str | None, list[str]]:
        async with server.async_client() as client:
            r, c = await asyncio.gather(
                client.responses.create(model=MODEL, input="Async hello"),
                client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "Async hello"}]),
            )
            deltas: list[str] = []
            async with client.responses.stream(model=MODEL, input="Async hello") as stream:
                async for event in stream:
                    if event.type == "response.output_text.delta":
                        deltas.append(event.delta)
            return text_of(r), c.choices[0].message.content, deltas

    r_text, c_text, deltas = asyncio.run(main())
    assert r_text == expected
    assert c_text == expected
    assert "".join(deltas) == expected


def test_responses_streams(server: ServerProcess, offline: ServerProcess) -> None:
    expected = text_of(offline.client().responses.create(model=MODEL, input="Stream me a line"))
    client = server.client()
    deltas: list[str] = []
    with client.responses.stream(model=MODEL, input="Stream me a line") as stream:
        for event in stream:
            if event.type == "response.output_text.delta":
                deltas.append(event.delta)
        final = stream.get_final_response()
    assert "".join(deltas) == expected == text_of(final)
    assert final.status == "completed"
    assert len(deltas) > 3  # word by word, not one blob

    events = list(client.responses.create(model=MODEL, input="Stream me a line", stream=True))
    types = [e.type for e in events]
    assert types[0] == "response.created"
    assert types[-1] == "response.completed"
    seqs = [e.sequence_number for e in events]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    completed = events[-1].response  # type: ignore[union-attr]
    assert text_of(completed) == expected
    # a streamed response is stored too
    assert text_of(client.responses.retrieve(completed.id)) == expected


def test_chat_stream_with_usage(server: ServerProcess) -> None:
    client = server.client()
    expected = client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "Chat stream"}])
    chunks = list(client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "Chat stream"}],
                                                 stream=True, stream_options={"include_usage": True}))
    content = "".join(ch.choices[0].delta.content or "" for ch in chunks if ch.choices)
    assert content == expected.choices[0].message.content
    finishes = [ch.choices[0].finish_reason for ch in chunks if ch.choices and ch.choices[0].finish_reason]
    assert finishes == ["stop"]
    last = chunks[-1]
    assert last.choices == []
    assert last.usage is not None and expected.usage is not None
    assert last.usage.completion_tokens == expected.usage.completion_tokens
    assert all(ch.usage is None for ch in chunks[:-1])
    assert len({ch.id for ch in chunks}) == 1


def test_tool_call_round_trip(server: ServerProcess, offline: ServerProcess) -> None:
    client = server.client()
    r1 = client.responses.create(model=MODEL, input=TOOL_QUESTION, tools=RESPONSES_TOOLS)
    calls = [item for item in r1.output if item.type == "function_call"]
    assert len(calls) == 1
    call = calls[0]
    assert call.name == "get_weather"
    assert json.loads(call.arguments) == {"city": "Busan"}
    r2 = client.responses.create(model=MODEL, previous_response_id=r1.id, tools=RESPONSES_TOOLS,
                                 input=[{"type": "function_call_output", "call_id": call.call_id, "output": TOOL_OUTPUT}])
    answer = text_of(r2)
    assert answer.startswith(f'Offline answer to "{TOOL_QUESTION}" (turn 1) based on get_weather: {TOOL_OUTPUT}; ')

    ref = offline.client()
    ref1 = ref.responses.create(model=MODEL, input=TOOL_QUESTION, tools=RESPONSES_TOOLS)
    ref_call = ref1.output[0]
    assert ref_call.type == "function_call"
    assert (call.call_id, call.arguments) == (ref_call.call_id, ref_call.arguments)
    ref2 = ref.responses.create(model=MODEL, previous_response_id=ref1.id, tools=RESPONSES_TOOLS,
                                input=[{"type": "function_call_output", "call_id": ref_call.call_id, "output": TOOL_OUTPUT}])
    assert answer == text_of(ref2)

    # the chat endpoint: the same call, then the same answer
    messages: list[Any] = [{"role": "user", "content": TOOL_QUESTION}]
    c1 = client.chat.completions.create(model=MODEL, messages=messages, tools=CHAT_TOOLS)
    assert c1.choices[0].finish_reason == "tool_calls"
    tool_calls = c1.choices[0].message.tool_calls
    assert tool_calls is not None and len(tool_calls) == 1
    tc = tool_calls[0]
    assert tc.type == "function"
    assert (tc.id, tc.function.name, tc.function.arguments) == (call.call_id, "get_weather", call.arguments)
    messages += [c1.choices[0].message.model_dump(exclude_none=True),
                 {"role": "tool", "tool_call_id": tc.id, "content": TOOL_OUTPUT}]
    c2 = client.chat.completions.create(model=MODEL, messages=messages, tools=CHAT_TOOLS)
    assert c2.choices[0].message.content == answer

    # streamed, the call's arguments arrive in pieces and add up
    with client.responses.stream(model=MODEL, input=TOOL_QUESTION, tools=RESPONSES_TOOLS) as stream:
        pieces = [e.delta for e in stream if e.type == "response.function_call_arguments.delta"]
        final = stream.get_final_response()
    assert "".join(pieces) == call.arguments
    assert final.output[0].type == "function_call" and final.output[0].call_id == call.call_id


def test_parse_with_pydantic(server: ServerProcess, offline: ServerProcess) -> None:
    client = server.client()
    question = "Weather report for Lisbon"
    r = client.responses.parse(model=MODEL, input=question, text_format=Weather)
    assert isinstance(r.output_parsed, Weather)
    c = client.chat.completions.parse(model=MODEL, messages=[{"role": "user", "content": question}], response_format=Weather)
    parsed = c.choices[0].message.parsed
    assert isinstance(parsed, Weather)
    assert parsed == r.output_parsed
    reference = offline.client().responses.parse(model=MODEL, input=question, text_format=Weather)
    assert r.output_parsed == reference.output_parsed


def test_previous_response_id_chain_of_three(server: ServerProcess, offline: ServerProcess) -> None:
    client = server.client()
    questions = ["My name is Ada.", "What is my name?", "And once more?"]
    r1, r2, r3 = chain(client, questions)
    for turn, (q, r) in enumerate(zip(questions, (r1, r2, r3), strict=True), 1):
        assert text_of(r).startswith(expected_sentence(q, turn)), text_of(r)
    assert r2.previous_response_id == r1.id and r3.previous_response_id == r2.id
    # the same chain on the offline server directly
    assert [text_of(r) for r in chain(offline.client(), questions)] == [text_of(r) for r in (r1, r2, r3)]
    # the history is what changes the answer: the explicit transcript gives the same, a fresh question another
    transcript = [{"role": "user", "content": questions[0]}, {"role": "assistant", "content": text_of(r1)},
                  {"role": "user", "content": questions[1]}, {"role": "assistant", "content": text_of(r2)},
                  {"role": "user", "content": questions[2]}]
    assert text_of(client.responses.create(model=MODEL, input=transcript)) == text_of(r3)  # type: ignore[arg-type]
    fresh = client.responses.create(model=MODEL, input=questions[2])
    assert text_of(fresh).startswith(expected_sentence(questions[2], 1))
    assert text_of(fresh) != text_of(r3)


def test_instructions_are_not_carried_over(server: ServerProcess) -> None:
    client = server.client()
    first = client.responses.create(model=MODEL, input="Hello", instructions="Answer like a pirate.")
    assert first.instructions == "Answer like a pirate."
    second = client.responses.create(model=MODEL, input="Tell me more", previous_response_id=first.id)
    transcript: Any = [{"role": "user", "content": "Hello"}, {"role": "assistant", "content": text_of(first)},
                       {"role": "user", "content": "Tell me more"}]
    without = client.responses.create(model=MODEL, input=transcript)
    with_instructions = client.responses.create(model=MODEL, input=transcript, instructions="Answer like a pirate.")
    assert text_of(second) == text_of(without)
    assert text_of(second) != text_of(with_instructions)
    assert second.instructions is None


def test_retrieve_and_delete(server: ServerProcess) -> None:
    client = server.client()
    r = client.responses.create(model=MODEL, input="Keep this one", metadata={"k": "v"})
    got = client.responses.retrieve(r.id)
    assert got.id == r.id and text_of(got) == text_of(r) and got.status == "completed"
    assert got.metadata == {"k": "v"}
    raw = httpx.get(f"{server.base_url}/responses/{r.id}", headers=AUTH, timeout=10)
    assert raw.status_code == 200 and raw.json()["id"] == r.id
    client.responses.delete(r.id)
    with pytest.raises(openai.NotFoundError) as exc:
        client.responses.retrieve(r.id)
    assert exc.value.status_code == 404
    assert isinstance(exc.value.body, dict) and exc.value.body.get("message")
    with pytest.raises(openai.NotFoundError):
        client.responses.delete(r.id)
    with pytest.raises(openai.NotFoundError):
        client.responses.input_items.list(r.id)


def test_input_items_list_shape_and_pagination(server: ServerProcess) -> None:
    client = server.client()
    texts = ["one", "two", "three", "four", "five"]
    items: Any = [{"role": "user" if i % 2 == 0 else "assistant", "content": t} for i, t in enumerate(texts)]
    r = client.responses.create(model=MODEL, input=items)

    page = httpx.get(f"{server.base_url}/responses/{r.id}/input_items", headers=AUTH, timeout=10).json()
    assert set(page) >= {"object", "data", "first_id", "last_id", "has_more"}
    assert page["object"] == "list" and page["has_more"] is False
    assert len(page["data"]) == 5
    assert page["first_id"] == page["data"][0]["id"] and page["last_id"] == page["data"][-1]["id"]
    assert [i["content"][0]["text"] for i in page["data"]] == texts[::-1]  # desc by default
    assert all(i["type"] == "message" and i["id"] for i in page["data"])

    first: Any = client.responses.input_items.list(r.id, limit=2, order="asc")  # first_id/last_id are extras to the SDK page
    assert item_texts(first.data) == texts[:2]
    assert first.has_more is True and first.first_id == first.data[0].id and first.last_id == first.data[1].id
    second: Any = client.responses.input_items.list(r.id, limit=2, order="asc", after=first.last_id)
    assert item_texts(second.data) == texts[2:4]
    last = client.responses.input_items.list(r.id, limit=2, order="asc", after=second.last_id)
    assert item_texts(last.data) == texts[4:] and last.has_more is False
    # the SDK's auto-pagination follows after= to the end
    assert item_texts(client.responses.input_items.list(r.id, limit=2)) == texts[::-1]

    bad = httpx.get(f"{server.base_url}/responses/{r.id}/input_items", params={"limit": 0}, headers=AUTH, timeout=10)
    assert bad.status_code == 400 and bad.json()["error"]["param"] == "limit"


def test_store_false_is_not_retrievable(server: ServerProcess) -> None:
    client = server.client()
    r = client.responses.create(model=MODEL, input="Forget me", store=False)
    assert text_of(r).startswith(expected_sentence("Forget me"))
    with pytest.raises(openai.NotFoundError):
        client.responses.retrieve(r.id)
    streamed = list(client.responses.create(model=MODEL, input="Forget me too", store=False, stream=True))
    with pytest.raises(openai.NotFoundError):
        client.responses.retrieve(streamed[-1].response.id)  # type: ignore[union-attr]
    with pytest.raises(openai.APIStatusError) as exc:
        client.responses.create(model=MODEL, input="next", previous_response_id=r.id)
    assert exc.value.status_code in (400, 404)
    assert exc.value.param == "previous_response_id"


def test_truncation_at_max_output_tokens(server: ServerProcess) -> None:
    client = server.client()
    full = text_of(client.responses.create(model=MODEL, input="Write a long line"))
    r = client.responses.create(model=MODEL, input="Write a long line", max_output_tokens=5)
    assert r.status == "incomplete"
    assert r.incomplete_details is not None and r.incomplete_details.reason == "max_output_tokens"
    assert r.usage is not None and r.usage.output_tokens == 5
    assert full.startswith(text_of(r)) and len(text_of(r)) < len(full)
    c = client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "Write a long line"}],
                                       max_completion_tokens=5)
    assert c.choices[0].finish_reason == "length"
    assert c.choices[0].message.content == text_of(r)
    chunks = list(client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "Write a long line"}],
                                                 max_completion_tokens=5, stream=True))
    assert [ch.choices[0].finish_reason for ch in chunks if ch.choices and ch.choices[0].finish_reason] == ["length"]
    events = list(client.responses.create(model=MODEL, input="Write a long line", max_output_tokens=5, stream=True))
    assert events[-1].type == "response.incomplete"


def test_refusal_trigger(server: ServerProcess) -> None:
    client = server.client()
    question = f"Please {REFUSAL_TRIGGER} this"
    r = client.responses.create(model=MODEL, input=question)
    message = r.output[0]
    assert message.type == "message"
    assert [(p.type, getattr(p, "refusal", None)) for p in message.content] == [("refusal", REFUSAL_TEXT)]
    c = client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": question}])
    assert c.choices[0].message.refusal == REFUSAL_TEXT
    assert c.choices[0].message.content is None
    parsed = client.chat.completions.parse(model=MODEL, messages=[{"role": "user", "content": question}], response_format=Weather)
    assert parsed.choices[0].message.parsed is None and parsed.choices[0].message.refusal == REFUSAL_TEXT


# ---------------------------------------------------------------------------- 3: error paths


@pytest.mark.parametrize("path", ["/v1/responses", "/v1/chat/completions"])
def test_bad_json_is_400_with_openai_error(offline: ServerProcess, path: str) -> None:
    answer = httpx.post(offline.root + path, content=b'{"model": "x", "input": ', headers={"content-type": "application/json"},
                        timeout=10)
    assert answer.status_code == 400
    error = answer.json()["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert error["type"] == "invalid_request_error" and error["message"]
    assert answer.headers["x-request-id"]
    not_object = httpx.post(offline.root + path, json=[1, 2], timeout=10)
    assert not_object.status_code == 400 and "error" in not_object.json()



@pytest.mark.parametrize(("server", "endpoint"), [
    ("offline", "responses"), ("offline", "chat"),
    ("bridge-chat", "responses"), ("bridge-chat", "chat"),
    ("bridge-responses", "responses"), ("bridge-responses", "chat"),
], indirect=["server"])
def test_unknown_parameter_is_400_naming_it(server: ServerProcess, endpoint: str) -> None:
    client = server.client()
    with pytest.raises(openai.BadRequestError) as exc:
        if endpoint == "responses":
            client.responses.create(model=MODEL, input="hi", extra_body={"foo": 1})
        else:
            client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "hi"}], extra_body={"foo": 1})
    assert exc.value.status_code == 400
    assert exc.value.param == "foo" and "foo" in exc.value.message


def test_upstream_down_is_502(dead_bridge: ServerProcess) -> None:
    client = dead_bridge.client()
    with pytest.raises(openai.APIStatusError) as exc:
        client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "hi"}])
    assert exc.value.status_code == 502
    assert exc.value.code == "upstream_unreachable"
    with pytest.raises(openai.APIStatusError) as exc:
        client.responses.create(model=MODEL, input="hi", stream=True)
    assert exc.value.status_code == 502
    with pytest.raises(openai.APIStatusError) as exc:
        client.responses.create(model=MODEL, input="hi")
    assert exc.value.status_code == 502


@pytest.mark.parametrize("endpoint", ["chat", "responses"])
def test_upstream_429_then_200_is_retried(fault_bridge: ServerProcess, fake: FakeUpstream, endpoint: str) -> None:
    fake.mode, fake.retry_after = "429-then-ok", "0.3"
    client = fault_bridge.client()
    started = time.monotonic()
    if endpoint == "chat":
        text = client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "hi"}]).choices[0].message.content
    else:
        text = text_of(client.responses.create(model=MODEL, input="hi"))
    elapsed = time.monotonic() - started
    assert text == FAKE_TEXT
    assert len(fake.calls) == 2
    assert elapsed >= 0.3  # Retry-After honoured


def test_upstream_500_passes_its_error_through(fault_bridge: ServerProcess, fake: FakeUpstream) -> None:
    fake.mode = "500"
    client = fault_bridge.client()
    with pytest.raises(openai.InternalServerError) as exc:
        client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "hi"}])
    assert exc.value.status_code == 500
    assert exc.value.body == UPSTREAM_500_BODY["error"]
    assert len(fake.calls) == 2  # --retries 1
    fake.calls.clear()
    with pytest.raises(openai.InternalServerError) as exc:
        client.responses.create(model=MODEL, input="hi", stream=True)
    assert exc.value.body == UPSTREAM_500_BODY["error"]


@pytest.mark.parametrize("stream", [False, True])
def test_upstream_timeout_is_504(fault_bridge: ServerProcess, fake: FakeUpstream, stream: bool) -> None:
    fake.mode = "hang"
    client = fault_bridge.client()
    started = time.monotonic()
    with pytest.raises(openai.APIStatusError) as exc:
        client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "hi"}], stream=stream)
    assert exc.value.status_code == 504
    assert exc.value.code == "upstream_timeout" and exc.value.message
    assert time.monotonic() - started < 4
    assert len(fake.calls) == 1, "a timeout spends the deadline: it is not retried"


def test_upstream_stalled_body_is_504(fault_bridge: ServerProcess, fake: FakeUpstream) -> None:
    fake.mode = "stall-body"
    answer = httpx.post(fault_bridge.base_url + "/chat/completions", json={"model": MODEL, "messages": [{"role": "user", "content": "hi"}]},
                        headers={"x-request-id": "req-stall"}, timeout=10)
    assert answer.headers.get("x-request-id") == "req-stall"
    assert answer.status_code == 504
    assert answer.json()["error"]["code"] == "upstream_timeout"


@pytest.mark.parametrize("endpoint", ["chat", "responses"])
def test_client_disconnect_cancels_the_upstream_stream(fault_bridge: ServerProcess, fake: FakeUpstream, endpoint: str,
                                                       workdir: Path) -> None:
    fake.mode = "slow-stream"
    request_id = f"req-disconnect-{endpoint}-{uuid.uuid4().hex[:8]}"
    client = fault_bridge.client(default_headers={"x-request-id": request_id})
    if endpoint == "chat":
        stream: Any = client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "hi"}], stream=True)
    else:
        stream = client.responses.create(model=MODEL, input="hi", stream=True)
    seen = 0
    for _ in stream:
        seen += 1
        if seen == 4:
            break
    stream.close()
    assert fake.stream_started.is_set()
    assert wait_for(fake.stream_closed_early.is_set, timeout=5), "the upstream stream ran on after the client left"
    assert not fake.stream_finished.is_set()
    # the abandoned request still gets its one access-log line
    log = workdir / "fault.log"
    assert wait_for(lambda: len(_log_records(log, request_id)) == 1, timeout=3), read_jsonl(log)[-3:]
    assert _log_records(log, request_id)[0]["status"] == 200


def test_api_key_required(guarded: ServerProcess, fake: FakeUpstream) -> None:
    missing = httpx.post(guarded.base_url + "/responses", json={"model": MODEL, "input": "hi"}, timeout=10)
    assert missing.status_code == 401
    assert missing.json()["error"]["code"] == "invalid_api_key"
    with pytest.raises(openai.AuthenticationError) as exc:
        guarded.client(api_key="sk-wrong").chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "hi"}])
    assert exc.value.status_code == 401
    with pytest.raises(openai.AuthenticationError):
        guarded.client(api_key="sk-wrong").models.list()
    assert fake.calls == []
    ok = guarded.client(api_key=CLIENT_KEY).chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "hi"}])
    assert ok.choices[0].message.content == FAKE_TEXT
    # the upstream gets the upstream key, never the client's
    assert fake.calls[-1].headers["authorization"] == f"Bearer {UPSTREAM_KEY}"


def test_request_body_over_limit_is_413(guarded: ServerProcess, fake: FakeUpstream) -> None:
    big = "x" * 60_000  # over --max-body-mb 0.05 (52,428 bytes)
    client = guarded.client(api_key=CLIENT_KEY)
    with pytest.raises(openai.APIStatusError) as exc:
        client.responses.create(model=MODEL, input=big)
    assert exc.value.status_code == 413
    assert exc.value.code == "request_too_large"

    def chunked() -> Iterator[bytes]:  # no content-length: the limit holds while reading
        yield b'{"model": "m", "input": "'
        for _ in range(10):
            yield b"y" * 10_000
        yield b'"}'

    answer = httpx.post(guarded.base_url + "/chat/completions", content=chunked(),
                        headers={"authorization": f"Bearer {CLIENT_KEY}", "content-type": "application/json"}, timeout=10)
    assert answer.status_code == 413
    assert fake.calls == []
    small = client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "y" * 1000}])
    assert small.choices[0].message.content == FAKE_TEXT


def test_request_id_passed_through_and_minted(offline: ServerProcess, fault_bridge: ServerProcess, fake: FakeUpstream) -> None:
    client = offline.client()
    raw = client.responses.with_raw_response.create(model=MODEL, input="hi", extra_headers={"x-request-id": "req-given-1"})
    assert raw.headers["x-request-id"] == "req-given-1"
    minted = {client.responses.with_raw_response.create(model=MODEL, input="hi").headers["x-request-id"] for _ in range(2)}
    assert len(minted) == 2 and all(m.startswith("req_") for m in minted)
    with client.chat.completions.with_streaming_response.create(
            model=MODEL, messages=[{"role": "user", "content": "hi"}], stream=True, extra_headers={"x-request-id": "req-stream-2"}) as s:
        assert s.headers["x-request-id"] == "req-stream-2"
        s.read()
    with pytest.raises(openai.NotFoundError) as exc:
        client.responses.retrieve("resp_nope", extra_headers={"x-request-id": "req-404"})
    assert exc.value.response.headers["x-request-id"] == "req-404"
    assert exc.value.request_id == "req-404"
    # a bridge sends the id upstream, the given one or the one it minted
    fault_bridge.client().chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "hi"}],
                                                  extra_headers={"x-request-id": "req-upstream-3"})
    assert fake.calls[-1].headers["x-request-id"] == "req-upstream-3"
    raw = fault_bridge.client().responses.with_raw_response.create(model=MODEL, input="hi")
    assert raw.headers["x-request-id"].startswith("req_")
    assert fake.calls[-1].headers["x-request-id"] == raw.headers["x-request-id"]


# ---------------------------------------------------------------------------- 4: operations


def test_store_file_survives_restart(tmp_path: Path) -> None:
    store = tmp_path / "responses.sqlite"
    args = ["--store", str(store), "--access-log", "-"]
    with running_server(args, stderr_path=tmp_path / "a.stderr") as first:
        r1 = first.client().responses.create(model=MODEL, input="Remember the river")
    with running_server(args, stderr_path=tmp_path / "b.stderr") as second:
        client = second.client()
        got = client.responses.retrieve(r1.id)
        assert text_of(got) == text_of(r1)
        items = client.responses.input_items.list(r1.id)
        assert item_texts(items.data) == ["Remember the river"]
        r2 = client.responses.create(model=MODEL, input="What was it?", previous_response_id=r1.id)
        assert text_of(r2).startswith(expected_sentence("What was it?", 2))


def test_models_and_health(offline: ServerProcess, bridges: dict[str, ServerProcess], fault_bridge: ServerProcess) -> None:
    assert [m.id for m in offline.client().models.list()] == [MODEL_ID]
    assert [m.id for m in bridges["chat"].client().models.list()] == [MODEL_ID]  # the upstream's list
    assert [m.id for m in fault_bridge.client().models.list()] == ["fake-model"]
    health = httpx.get(offline.root + "/health", timeout=10)
    assert health.status_code == 200
    assert health.json()["status"] == "ok" and health.json()["mode"] == "offline"
    bridge_health = httpx.get(bridges["responses"].root + "/health", timeout=10).json()
    assert bridge_health["mode"] == "bridge" and bridge_health["upstream_api"] == "responses"


def test_sigterm_lets_the_in_flight_stream_finish(tmp_path: Path) -> None:
    server = ServerProcess(["--latency-ms", "40", "--access-log", "-"], stderr_path=tmp_path / "slow.stderr").start()
    try:
        server.wait_ready()
        events: list[dict[str, Any]] = []
        with httpx.stream("POST", server.base_url + "/responses", json={"model": MODEL, "input": "A slow answer", "stream": True},
                          timeout=10) as answer:
            assert answer.status_code == 200
            for line in answer.iter_lines():
                if not line.startswith("data: "):
                    continue
                events.append(json.loads(line[6:]))
                if events[-1]["type"] == "response.output_text.delta" and not any(
                        e["type"] == "response.output_text.delta" for e in events[:-1]):
                    server.signal(signal.SIGTERM)
        assert events[-1]["type"] == "response.completed"
        deltas = "".join(e["delta"] for e in events if e["type"] == "response.output_text.delta")
        assert deltas == events[-1]["response"]["output"][0]["content"][0]["text"]
        assert deltas.startswith(expected_sentence("A slow answer"))
        code = server.wait(10)
        assert code in (0, -signal.SIGTERM)  # exits; the status itself is checked below
        with pytest.raises(httpx.ConnectError):
            httpx.get(server.root + "/health", timeout=2)
    finally:
        server.stop()


def test_sigterm_exits_0(tmp_path: Path) -> None:
    server = ServerProcess(["--access-log", "-"], stderr_path=tmp_path / "term.stderr").start()
    try:
        server.wait_ready()
        server.signal(signal.SIGTERM)
        assert server.wait(10) == 0
    finally:
        server.stop()


@pytest.fixture(scope="module")
def slow_single(workdir: Path) -> Iterator[ServerProcess]:
    """Offline, 300 ms per answer and per streamed word, one request at a time."""
    with running_server(["--latency-ms", "300", "--max-concurrency", "1", "--access-log", "-"],
                        stderr_path=workdir / "slow.stderr") as server:
        yield server


def _active(server: ServerProcess) -> int:
    return int(httpx.get(server.root + "/health", timeout=10).json()["active_requests"])


def test_max_concurrency_answers_429(slow_single: ServerProcess) -> None:
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        first = pool.submit(httpx.post, slow_single.base_url + "/responses", json={"model": MODEL, "input": "one"}, timeout=10)
        assert wait_for(lambda: _active(slow_single) == 1, timeout=5, interval=0.01)
        busy = httpx.post(slow_single.base_url + "/responses", json={"model": MODEL, "input": "two"}, timeout=10)
        assert first.result().status_code == 200
    assert busy.status_code == 429
    assert busy.json()["error"]["type"] == "rate_limit_error"
    assert _active(slow_single) == 0


def test_max_concurrency_counts_in_flight_streams(slow_single: ServerProcess) -> None:
    with httpx.stream("POST", slow_single.base_url + "/responses", json={"model": MODEL, "input": "slow", "stream": True},
                      timeout=10) as answer:
        lines = answer.iter_lines()  # kept alive: dropping the iterator closes the response (the client leaves)
        for line in lines:
            if "response.output_text.delta" in line:
                break
        active = _active(slow_single)
        busy = httpx.post(slow_single.base_url + "/responses", json={"model": MODEL, "input": "two"}, timeout=10).status_code
    assert (active, busy) == (1, 429)


def _log_records(path: Path, request_id: str) -> list[dict[str, Any]]:
    return [r for r in read_jsonl(path) if r.get("request_id") == request_id]


def test_access_log_one_json_line_per_request(offline: ServerProcess, workdir: Path) -> None:
    log = workdir / "offline.log"
    client = offline.client()
    tag = uuid.uuid4().hex[:8]
    ids = {name: f"req-{tag}-{name}" for name in ("resp", "chat", "stream", "bad", "get", "models")}
    r = client.responses.create(model=MODEL, input="log me", extra_headers={"x-request-id": ids["resp"]})
    client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "log me"}], extra_headers={"x-request-id": ids["chat"]})
    list(client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "log me"}], stream=True,
                                        stream_options={"include_usage": True}, extra_headers={"x-request-id": ids["stream"]}))
    with pytest.raises(openai.BadRequestError):
        client.responses.create(model=MODEL, input="x", extra_body={"foo": 1}, extra_headers={"x-request-id": ids["bad"]})
    client.responses.retrieve(r.id, extra_headers={"x-request-id": ids["get"]})
    client.models.list(extra_headers={"x-request-id": ids["models"]})
    assert wait_for(lambda: all(_log_records(log, i) for i in ids.values()), timeout=3)
    expected = {
        "resp": ("responses", "native", 200), "chat": ("chat.completions", "chat→responses", 200),
        "stream": ("chat.completions", "chat→responses", 200), "bad": ("responses", "-", 400),
        "get": ("responses.retrieve", "-", 200), "models": ("models", "-", 200),
    }
    for name, (endpoint, direction, status) in expected.items():
        records = _log_records(log, ids[name])
        assert len(records) == 1, (name, records)
        record = records[0]
        assert (record["endpoint"], record["direction"], record["status"]) == (endpoint, direction, status), record
        assert isinstance(record["latency_ms"], (int, float)) and record["latency_ms"] >= 0
    assert _log_records(log, ids["resp"])[0]["tokens"] == r.usage.total_tokens  # type: ignore[union-attr]
    assert _log_records(log, ids["stream"])[0]["ttft_ms"] is not None


def test_secrets_never_reach_logs(guarded: ServerProcess, fake: FakeUpstream, workdir: Path) -> None:
    client = guarded.client(api_key=CLIENT_KEY)
    client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "hi"}])
    client.responses.create(model=MODEL, input="hi")
    list(client.responses.create(model=MODEL, input="hi", stream=True))
    list(client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "hi"}], stream=True))
    client.models.list()
    fake.mode = "500"
    with pytest.raises(openai.InternalServerError):
        client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "hi"}])
    fake.mode = "hang"
    with pytest.raises(openai.APIStatusError):
        client.responses.create(model=MODEL, input="hi")
    bad = httpx.post(guarded.base_url + "/responses", content=b"{bad", headers={"authorization": f"Bearer {CLIENT_KEY}"}, timeout=10)
    assert bad.status_code == 400
    with pytest.raises(openai.AuthenticationError):
        guarded.client(api_key=CLIENT_KEY + "-wrong").models.list()
    fake.mode = "stall-body"  # an unhandled exception: a traceback on stderr (see test_upstream_stalled_body_is_504)
    with pytest.raises(openai.APIStatusError):
        client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "hi"}])
    assert all(call.headers.get("authorization") == f"Bearer {UPSTREAM_KEY}" for call in fake.calls)
    log = workdir / "guarded.log"
    assert wait_for(lambda: len(read_jsonl(log)) >= 9, timeout=3)
    for text in (log.read_text(encoding="utf-8"), guarded.stderr()):
        assert CLIENT_KEY not in text
        assert UPSTREAM_KEY not in text
    assert all({"request_id", "endpoint", "direction", "status", "latency_ms"} <= set(r) for r in read_jsonl(log))
