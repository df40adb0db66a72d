"""The in-process adapters, driven by the real openai SDK against fake upstreams (no network).

Each fake upstream is an ``httpx2.MockTransport`` (``httpx.MockTransport`` for the httpx
variants) whose handler records the request it got and answers a canned Responses or
Chat body, or an SSE stream.
"""

from __future__ import annotations

import asyncio
import gzip
import json
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import httpx
import httpx2
import openai
import pydantic
import pytest

from migrator import Loss
from migrator.adapters import (
    LOSSES_HEADER,
    AsyncMigrator2Transport,
    AsyncMigratorTransport,
    Migrator2Transport,
    MigratorTransport,
)
from tests.stream_helpers import (
    CHAT_USAGE,
    RESPONSES_USAGE,
    base_response,
    call_item,
    chat_sse,
    chunk,
    message_item,
    response_events,
    responses_sse,
    text_stream,
    usage_chunk,
)

JsonDict = dict[str, Any]
KEY = "sk-test-123"
UPSTREAM = "https://gw.example/v1"
SSE = {"content-type": "text/event-stream"}
USER = [{"role": "user", "content": "Say hello."}]

WEATHER_TOOL: JsonDict = {"type": "function", "function": {
    "name": "get_weather", "description": "Current weather",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}
RESPONSES_WEATHER_TOOL: JsonDict = {"type": "function", "name": "get_weather", "description": "Current weather",
                                    "parameters": WEATHER_TOOL["function"]["parameters"], "strict": False}

CHAT_COMPLETION: JsonDict = {
    "id": "chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG", "object": "chat.completion", "created": 1741570283,
    "model": "gpt-4.1-2025-04-14",
    "choices": [{"index": 0, "finish_reason": "stop", "logprobs": None,
                 "message": {"role": "assistant", "content": "Hello from chat.", "refusal": None, "annotations": []}}],
    "usage": CHAT_USAGE,
}


class Upstream:
    """A fake upstream: records every request and answers with ``answer(request, body)``."""

    def __init__(self, answer: Callable[[Any, Any], Any]) -> None:
        self.answer = answer
        self.requests: list[Any] = []
        self.bodies: list[Any] = []

    def __call__(self, request: Any) -> Any:
        self.requests.append(request)
        body = json.loads(request.content) if request.content else None
        self.bodies.append(body)
        return self.answer(request, body)

    @property
    def last(self) -> Any:
        return self.requests[-1]


def sdk(upstream: Upstream, api: str = "responses", *, max_retries: int = 0, **options: Any) -> openai.OpenAI:
    transport = Migrator2Transport(api, upstream=httpx2.MockTransport(upstream), upstream_url=UPSTREAM, **options)
    return openai.OpenAI(api_key=KEY, base_url="http://migrator.local/v1", max_retries=max_retries,
                         http_client=httpx2.Client(transport=transport))


def text_response(text: str = "Hello there.") -> JsonDict:
    return base_response([message_item(text)], usage=RESPONSES_USAGE)


def tool_response() -> JsonDict:
    return base_response([call_item("call_a", "get_weather", '{"city":"Busan"}'),
                          call_item("call_b", "get_weather", '{"city":"Seoul"}')], usage=RESPONSES_USAGE)


def responses_answer(response: JsonDict, **splits: Any) -> Callable[[Any, Any], Any]:
    """Answer JSON, or the event stream of ``response`` when the request asks to stream."""

    def answer(request: Any, body: Any) -> Any:
        if body is None:
            return httpx2.Response(200, json={"object": "list", "data": []})
        if body.get("stream"):
            return httpx2.Response(200, headers={**SSE, "x-request-id": "req_up"},
                                   content=responses_sse(response_events(response, **splits)))
        return httpx2.Response(200, json=response, headers={"x-request-id": "req_up"})

    return answer


# ------------------------------------------------------------------------ chat client, responses upstream


def test_chat_completion_served_by_responses() -> None:
    seen: list[list[Loss]] = []
    upstream = Upstream(responses_answer(text_response()))
    client = sdk(upstream, on_losses=seen.append)

    raw = client.chat.completions.with_raw_response.create(model="gpt-4.1", messages=USER, seed=7,
                                                           extra_headers={"x-request-id": "req_client"})
    completion = raw.parse()

    assert completion.choices[0].message.content == "Hello there."
    assert completion.choices[0].finish_reason == "stop"
    assert completion.usage is not None and completion.usage.prompt_tokens == 36 and completion.usage.total_tokens == 123
    sent = upstream.last
    assert str(sent.url) == f"{UPSTREAM}/responses"
    assert sent.method == "POST"
    assert sent.headers["authorization"] == f"Bearer {KEY}"
    assert sent.headers["host"] == "gw.example"
    assert sent.headers["x-request-id"] == "req_client"
    assert sent.headers["content-length"] == str(len(sent.content))
    assert upstream.bodies[-1] == {"model": "gpt-4.1", "input": USER, "store": False}
    # the seed has no Responses counterpart: one loss, in the header and the callback
    assert raw.headers[LOSSES_HEADER] == "1; $.seed"
    assert raw.headers["x-request-id"] == "req_up"
    assert [loss.field for loss in seen[-1]] == ["seed"]


def test_chat_tool_calls_served_by_responses() -> None:
    upstream = Upstream(responses_answer(tool_response()))
    client = sdk(upstream)

    completion = client.chat.completions.create(model="gpt-4.1", messages=USER, tools=[WEATHER_TOOL])

    assert upstream.bodies[-1]["tools"] == [RESPONSES_WEATHER_TOOL]
    choice = completion.choices[0]
    assert choice.finish_reason == "tool_calls"
    calls = choice.message.tool_calls or []
    assert [(c.id, c.function.name, c.function.arguments) for c in calls] == [
        ("call_a", "get_weather", '{"city":"Busan"}'), ("call_b", "get_weather", '{"city":"Seoul"}')]


def test_chat_stream_served_by_responses_with_usage() -> None:
    seen: list[list[Loss]] = []
    upstream = Upstream(responses_answer(text_response("Hello there."), text_splits={(0, 0): ["Hel", "lo ", "there."]}))
    client = sdk(upstream, on_losses=seen.append)

    stream = client.chat.completions.create(model="gpt-4.1", messages=USER, stream=True, logit_bias={"1": 2},
                                            stream_options={"include_usage": True})
    chunks = list(stream)

    assert upstream.bodies[-1]["stream"] is True
    assert "stream_options" not in upstream.bodies[-1]
    assert stream.response.headers["content-type"].startswith("text/event-stream")
    assert stream.response.headers[LOSSES_HEADER] == "1; $.logit_bias"
    assert [[loss.field for loss in losses] for losses in seen] == [["logit_bias"]]
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == "Hello there."
    assert [c.choices[0].delta.content for c in chunks if c.choices][1:4] == ["Hel", "lo ", "there."]
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "stop"
    assert chunks[-1].choices == [] and chunks[-1].usage is not None and chunks[-1].usage.completion_tokens == 87
    assert len({c.id for c in chunks}) == 1


def test_chat_stream_without_include_usage_has_no_usage_chunk() -> None:
    client = sdk(Upstream(responses_answer(text_response())))
    chunks = list(client.chat.completions.create(model="gpt-4.1", messages=USER, stream=True))
    assert all(c.usage is None for c in chunks)
    assert chunks[-1].choices[0].finish_reason == "stop"


def test_chat_stream_tool_calls_served_by_responses() -> None:
    upstream = Upstream(responses_answer(tool_response(), arg_splits={0: ['{"city":', '"Busan"}'], 1: None}))
    client = sdk(upstream)

    with client.chat.completions.stream(model="gpt-4.1", messages=USER, tools=[WEATHER_TOOL]) as stream:
        final = stream.get_final_completion()

    calls = final.choices[0].message.tool_calls or []
    assert [(c.id, c.function.name, c.function.arguments) for c in calls] == [
        ("call_a", "get_weather", '{"city":"Busan"}'), ("call_b", "get_weather", '{"city":"Seoul"}')]
    assert final.choices[0].finish_reason == "tool_calls"


class Field(pydantic.BaseModel):
    name: str
    type: str


def test_chat_parse_with_pydantic_model_served_by_responses() -> None:
    upstream = Upstream(responses_answer(text_response('{"name":"email","type":"string"}')))
    client = sdk(upstream)

    completion = client.chat.completions.parse(model="gpt-4.1", messages=USER, response_format=Field)

    fmt = upstream.bodies[-1]["text"]["format"]
    assert fmt["type"] == "json_schema" and fmt["name"] == "Field" and fmt["strict"] is True
    assert fmt["schema"]["properties"] == {"name": {"title": "Name", "type": "string"}, "type": {"title": "Type", "type": "string"}}
    assert completion.choices[0].message.parsed == Field(name="email", type="string")


# ------------------------------------------------------------------------ responses client, chat upstream


def chat_answer(completion: JsonDict, frames: list[JsonDict]) -> Callable[[Any, Any], Any]:
    def answer(request: Any, body: Any) -> Any:
        if body.get("stream"):
            return httpx2.Response(200, headers=SSE, content=chat_sse(frames))
        return httpx2.Response(200, json=completion)

    return answer


def test_response_served_by_chat() -> None:
    upstream = Upstream(chat_answer(CHAT_COMPLETION, []))
    client = sdk(upstream, "chat")

    response = client.responses.create(model="gpt-4.1", instructions="Be brief.", input="Say hello.", max_output_tokens=50)

    sent = upstream.last
    assert str(sent.url) == f"{UPSTREAM}/chat/completions"
    assert sent.headers["authorization"] == f"Bearer {KEY}"
    assert upstream.bodies[-1]["messages"] == [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Say hello."}]
    assert response.output_text == "Hello from chat."
    assert response.status == "completed"
    # the Response echoes the responses request the client sent, as the API does
    assert response.instructions == "Be brief."
    assert response.max_output_tokens == 50
    assert response.usage is not None and response.usage.input_tokens == CHAT_USAGE["prompt_tokens"]


def test_response_stream_served_by_chat() -> None:
    frames = text_stream(["Hello", " from", " chat."], usage=CHAT_USAGE)
    upstream = Upstream(chat_answer(CHAT_COMPLETION, frames))
    client = sdk(upstream, "chat")

    events = list(client.responses.create(model="gpt-4.1", instructions="Be brief.", input="Say hello.", stream=True))

    assert upstream.bodies[-1]["stream"] is True
    assert upstream.bodies[-1]["stream_options"] == {"include_usage": True}
    assert [e.delta for e in events if e.type == "response.output_text.delta"] == ["Hello", " from", " chat."]
    assert [e.sequence_number for e in events] == list(range(len(events)))
    done = events[-1]
    assert done.type == "response.completed"
    assert done.response.output_text == "Hello from chat."
    assert done.response.instructions == "Be brief."
    assert done.response.usage is not None and done.response.usage.total_tokens == CHAT_USAGE["total_tokens"]


def test_response_stream_tool_calls_served_by_chat() -> None:
    frames = [
        chunk({"role": "assistant", "content": None, "refusal": None}),
        chunk({"tool_calls": [{"index": 0, "id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": ""}}]}),
        chunk({"tool_calls": [{"index": 0, "function": {"arguments": '{"city":'}}]}),
        chunk({"tool_calls": [{"index": 0, "function": {"arguments": '"Busan"}'}}]}),
        chunk({}, finish="tool_calls"),
        usage_chunk(CHAT_USAGE),
    ]
    client = sdk(Upstream(chat_answer(CHAT_COMPLETION, frames)), "chat")

    with client.responses.stream(model="gpt-4.1", input="Weather?", tools=[RESPONSES_WEATHER_TOOL]) as stream:
        final = stream.get_final_response()

    calls = [item for item in final.output if item.type == "function_call"]
    assert [(c.call_id, c.name, c.arguments) for c in calls] == [("call_1", "get_weather", '{"city":"Busan"}')]


# ------------------------------------------------------------------------ errors


def test_upstream_error_keeps_status_and_openai_shape() -> None:
    error = {"error": {"message": "Rate limit reached for gpt-4.1", "type": "requests", "param": None, "code": "rate_limit_exceeded"}}
    upstream = Upstream(lambda request, body: httpx2.Response(429, json=error, headers={"retry-after": "3", "x-request-id": "req_429"}))
    client = sdk(upstream)

    with pytest.raises(openai.RateLimitError) as info:
        client.chat.completions.create(model="gpt-4.1", messages=USER)

    assert "Rate limit reached for gpt-4.1" in info.value.message
    assert info.value.code == "rate_limit_exceeded"
    assert info.value.response.headers["retry-after"] == "3"
    assert info.value.response.headers["x-request-id"] == "req_429"
    assert info.value.response.json() == error


def test_upstream_error_without_openai_shape_is_wrapped() -> None:
    client = sdk(Upstream(lambda request, body: httpx2.Response(400, text="bad things in the gateway")))

    with pytest.raises(openai.BadRequestError) as info:
        client.chat.completions.create(model="gpt-4.1", messages=USER, stream=True)

    assert info.value.response.json() == {"error": {"message": "bad things in the gateway", "type": "invalid_request_error",
                                                    "param": None, "code": None}}
    assert "bad things in the gateway" in info.value.message


def test_upstream_error_on_a_streaming_responses_request() -> None:
    error = {"error": {"message": "Invalid model", "type": "invalid_request_error", "param": "model", "code": None}}
    client = sdk(Upstream(lambda request, body: httpx2.Response(404, json=error)), "chat")

    with pytest.raises(openai.NotFoundError, match="Invalid model"):
        client.responses.create(model="nope", input="hi", stream=True)


def test_bad_request_body_is_a_400_naming_the_path() -> None:
    upstream = Upstream(responses_answer(text_response()))
    client = sdk(upstream)

    with pytest.raises(openai.BadRequestError) as info:
        client.chat.completions.create(model="gpt-4.1", messages=[{"role": "robot", "content": "beep"}])

    assert "$.messages[0].role" in info.value.message
    assert "Traceback" not in info.value.response.text
    assert info.value.param == "$.messages[0].role"
    assert info.value.code == "untranslatable_request"
    assert upstream.requests == []


def test_body_that_is_not_json_is_a_400() -> None:
    upstream = Upstream(responses_answer(text_response()))
    with httpx2.Client(transport=Migrator2Transport("responses", upstream=httpx2.MockTransport(upstream))) as client:
        answer = client.post("http://migrator.local/v1/chat/completions", content=b"{not json")
        wrong = client.post("http://migrator.local/v1/chat/completions", json={"model": "m", "input": "a responses body"})

    assert answer.status_code == 400 and answer.json()["error"]["code"] == "invalid_json"
    assert wrong.status_code == 400 and "a chat request" in wrong.json()["error"]["message"]
    assert upstream.requests == []


def test_failed_upstream_response_is_a_502() -> None:
    failed = base_response([], status="failed", error={"code": "server_error", "message": "The model crashed."})
    client = sdk(Upstream(lambda request, body: httpx2.Response(200, json=failed)))

    with pytest.raises(openai.InternalServerError) as info:
        client.chat.completions.create(model="gpt-4.1", messages=USER)

    assert info.value.status_code == 502
    assert info.value.response.json() == {"error": {"message": "The model crashed.", "type": "server_error", "param": None,
                                                    "code": "server_error"}}


def test_untranslatable_upstream_answer_is_a_502_not_retried() -> None:
    upstream = Upstream(lambda request, body: httpx2.Response(200, json={"id": "resp_1", "object": "response", "output": 3}))
    client = sdk(upstream, max_retries=2)

    with pytest.raises(openai.InternalServerError) as info:
        client.chat.completions.create(model="gpt-4.1", messages=USER)

    assert info.value.status_code == 502 and "$.output" in info.value.message
    assert info.value.response.headers["x-should-retry"] == "false"
    assert len(upstream.requests) == 1


def test_broken_upstream_stream_ends_with_an_error_frame() -> None:
    events = response_events(text_response())[:4]
    body = responses_sse(events) + b"data: {not json\n\n"
    client = sdk(Upstream(lambda request, b: httpx2.Response(200, headers=SSE, content=body)))

    stream = client.chat.completions.create(model="gpt-4.1", messages=USER, stream=True)
    with pytest.raises(openai.APIError, match="cannot translate the responses upstream's stream"):
        list(stream)


# ------------------------------------------------------------------------ routing


def test_other_paths_pass_through() -> None:
    models = {"object": "list", "data": [{"id": "gpt-4.1", "object": "model", "created": 1, "owned_by": "openai"}]}

    def answer(request: Any, body: Any) -> Any:
        if request.url.path.endswith("/models"):
            return httpx2.Response(200, json=models, headers={"x-request-id": "req_m"})
        return httpx2.Response(200, json=text_response())

    upstream = Upstream(answer)
    client = sdk(upstream)

    page = client.models.with_raw_response.list()
    assert [m.id for m in page.parse()] == ["gpt-4.1"]
    assert str(upstream.last.url) == f"{UPSTREAM}/models"
    assert upstream.last.method == "GET"
    assert upstream.last.headers["authorization"] == f"Bearer {KEY}"
    assert upstream.last.headers["host"] == "gw.example"
    assert LOSSES_HEADER not in page.headers
    assert page.headers["x-request-id"] == "req_m"

    # the upstream's own endpoint passes through unchanged too
    response = client.responses.with_raw_response.create(model="gpt-4.1", input="hi", extra_query={"api-version": "x"})
    assert str(upstream.last.url) == f"{UPSTREAM}/responses?api-version=x"
    assert upstream.last.headers.get_list("content-length") == [str(len(upstream.last.content))]
    assert upstream.bodies[-1] == {"model": "gpt-4.1", "input": "hi"}
    assert response.parse().output_text == "Hello there."
    assert LOSSES_HEADER not in response.headers


def test_without_upstream_url_only_the_path_changes() -> None:
    upstream = Upstream(responses_answer(text_response()))
    transport = Migrator2Transport("responses", upstream=httpx2.MockTransport(upstream))
    client = openai.OpenAI(api_key=KEY, base_url="https://gateway.example/openai/v1", max_retries=0,
                           http_client=httpx2.Client(transport=transport))

    client.chat.completions.create(model="gpt-4.1", messages=USER, extra_query={"api-version": "2025-04-01"})
    assert str(upstream.last.url) == "https://gateway.example/openai/v1/responses?api-version=2025-04-01"
    client.models.list()
    assert str(upstream.last.url) == "https://gateway.example/openai/v1/models"


def test_compressed_upstream_answer_is_decoded_before_translating() -> None:
    packed = gzip.compress(json.dumps(text_response()).encode())
    client = sdk(Upstream(lambda request, body: httpx2.Response(200, content=packed, headers={
        "content-type": "application/json", "content-encoding": "gzip", "content-length": str(len(packed))})))

    raw = client.chat.completions.with_raw_response.create(model="gpt-4.1", messages=USER)

    assert "content-encoding" not in raw.headers
    assert raw.parse().choices[0].message.content == "Hello there."
    assert int(raw.headers["content-length"]) == len(raw.http_response.content)


def test_arguments_are_checked() -> None:
    with pytest.raises(ValueError, match="upstream_api"):
        Migrator2Transport("completions", upstream=httpx2.MockTransport(lambda r: httpx2.Response(200)))
    with pytest.raises(ValueError, match="upstream_url"):
        MigratorTransport("chat", upstream=httpx.MockTransport(lambda r: httpx.Response(200)), upstream_url="gw.example/v1")
    with pytest.raises(TypeError, match=r"httpx2\.BaseTransport"):  # the twins do not mix
        Migrator2Transport("chat", upstream=httpx.HTTPTransport())
    with pytest.raises(TypeError, match=r"httpx\.AsyncBaseTransport"):
        AsyncMigratorTransport("chat", upstream=httpx.HTTPTransport())


# ------------------------------------------------------------------------ streaming is incremental


class Source:
    """An upstream body that records how far it was read and whether it was closed."""

    def __init__(self, pieces: list[bytes]) -> None:
        self.pieces = pieces
        self.pulled = 0
        self.finished = False
        self.closed = False

    def __iter__(self) -> Iterator[bytes]:
        try:
            for piece in self.pieces:
                self.pulled += 1
                yield piece
            self.finished = True
        finally:
            self.closed = True

    async def __aiter__(self) -> AsyncIterator[bytes]:
        try:
            for piece in self.pieces:
                self.pulled += 1
                yield piece
                await asyncio.sleep(0)
            self.finished = True
        finally:
            self.closed = True


def event_pieces() -> list[bytes]:
    """A long text stream, one SSE event per piece."""
    events = response_events(text_response("x" * 40), text_splits={(0, 0): ["x"] * 40})
    return [responses_sse([e]) for e in events]


def test_stream_is_translated_as_it_arrives() -> None:
    source = Source(event_pieces())
    client = sdk(Upstream(lambda request, body: httpx2.Response(200, headers=SSE, content=iter(source))))

    stream = client.chat.completions.create(model="gpt-4.1", messages=USER, stream=True)
    chunks = iter(stream)
    first = next(chunks)
    second = next(chunks)

    assert first.choices[0].delta.role == "assistant" and second.choices[0].delta.content == "x"
    assert not source.finished and source.pulled < len(source.pieces) // 2
    rest = list(chunks)
    assert source.finished and rest[-1].choices[0].finish_reason == "stop"


def test_closing_a_stream_early_closes_the_upstream() -> None:
    source = Source(event_pieces())
    client = sdk(Upstream(lambda request, body: httpx2.Response(200, headers=SSE, content=iter(source))))

    with client.chat.completions.create(model="gpt-4.1", messages=USER, stream=True) as stream:
        next(iter(stream))
    assert source.closed and not source.finished


def test_async_stream_is_translated_as_it_arrives() -> None:
    source = Source(event_pieces())
    upstream = Upstream(lambda request, body: httpx2.Response(200, headers=SSE, content=source.__aiter__()))

    async def run() -> None:
        transport = AsyncMigrator2Transport("responses", upstream=httpx2.MockTransport(upstream), upstream_url=UPSTREAM)
        async with openai.AsyncOpenAI(api_key=KEY, base_url="http://migrator.local/v1", max_retries=0,
                                      http_client=httpx2.AsyncClient(transport=transport)) as client:
            stream = await client.chat.completions.create(model="gpt-4.1", messages=USER, stream=True,
                                                          stream_options={"include_usage": True})
            chunks = stream.__aiter__()
            first = await chunks.__anext__()
            assert first.choices[0].delta.role == "assistant"
            assert not source.finished and source.pulled < len(source.pieces) // 2
            rest = [c async for c in chunks]
            assert source.finished
            assert "".join(c.choices[0].delta.content or "" for c in rest if c.choices) == "x" * 40
            assert rest[-1].usage is not None and rest[-1].usage.total_tokens == 123

    asyncio.run(run())


def test_async_response_stream_served_by_chat() -> None:
    frames = text_stream(["Hello", " async."], usage=CHAT_USAGE)
    upstream = Upstream(chat_answer(CHAT_COMPLETION, frames))

    async def run() -> list[Any]:
        transport = AsyncMigrator2Transport("chat", upstream=httpx2.MockTransport(upstream), upstream_url=UPSTREAM)
        async with openai.AsyncOpenAI(api_key=KEY, base_url="http://migrator.local/v1", max_retries=0,
                                      http_client=httpx2.AsyncClient(transport=transport)) as client:
            response = await client.responses.create(model="gpt-4.1", input="hi")
            assert response.output_text == "Hello from chat."
            return [e async for e in await client.responses.create(model="gpt-4.1", input="hi", stream=True)]

    events = asyncio.run(run())
    assert events[-1].type == "response.completed" and events[-1].response.output_text == "Hello async."


# ------------------------------------------------------------------------ the httpx (not httpx2) variants


def test_httpx_variant() -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        if body.get("stream"):
            return httpx.Response(200, headers=SSE, content=responses_sse(response_events(text_response())))
        return httpx.Response(200, json=text_response())

    seen: list[httpx.Request] = []
    transport = MigratorTransport("responses", upstream=httpx.MockTransport(lambda r: seen.append(r) or answer(r)),
                                  upstream_url=UPSTREAM)
    with httpx.Client(transport=transport) as http:
        plain = http.post("http://migrator.local/v1/chat/completions", json={"model": "gpt-4.1", "messages": USER},
                          headers={"authorization": f"Bearer {KEY}"})
        with http.stream("POST", "http://migrator.local/v1/chat/completions",
                         json={"model": "gpt-4.1", "messages": USER, "stream": True}) as streamed:
            lines = [line for line in streamed.iter_lines() if line]

    assert isinstance(plain, httpx.Response)
    assert plain.json()["choices"][0]["message"]["content"] == "Hello there."
    assert plain.headers[LOSSES_HEADER] == "0"
    assert str(seen[0].url) == f"{UPSTREAM}/responses" and seen[0].headers["authorization"] == f"Bearer {KEY}"
    assert lines[-1] == "data: [DONE]"
    assert json.loads(lines[1].removeprefix("data: "))["choices"][0]["delta"] == {"content": "Hello there."}

    # the openai SDK accepts an httpx client too
    client = openai.OpenAI(api_key=KEY, base_url="http://migrator.local/v1", max_retries=0, http_client=httpx.Client(transport=transport))
    assert client.chat.completions.create(model="gpt-4.1", messages=USER).choices[0].message.content == "Hello there."


def test_async_httpx_variant() -> None:
    source = Source(event_pieces())

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers=SSE, content=source.__aiter__())

    async def run() -> list[bytes]:
        transport = AsyncMigratorTransport("responses", upstream=httpx.MockTransport(answer), upstream_url=UPSTREAM)
        async with httpx.AsyncClient(transport=transport) as http, http.stream(
                "POST", "http://migrator.local/v1/chat/completions",
                json={"model": "gpt-4.1", "messages": USER, "stream": True}) as streamed:
            pieces = streamed.aiter_bytes()
            first = await pieces.__anext__()
            assert not source.finished and source.pulled < len(source.pieces) // 2
            return [first] + [piece async for piece in pieces]

    out = b"".join(asyncio.run(run()))
    assert source.finished and out.endswith(b"data: [DONE]\n\n")
    assert out.count(b'"content":"x"') == 40
