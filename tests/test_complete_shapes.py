"""Every Response and ChatCompletion migrator writes is complete, as the API sends it.

The checker below is the Open Responses spec's ``ResponseResource`` (openresponses/openresponses,
``public/openapi/openapi.json``), written out here on its own so that it can disagree with
``mappings/shapes.json``: every required field present, ``null`` only where the spec allows it,
integer timestamps, usage with both detail objects, function tools with ``description`` and
``strict``, message and function_call items with ``id`` and ``status``, every stream event with
``sequence_number`` (text and part events with ``item_id``, ``output_index``, ``content_index``).
It is applied to every place a Response comes from: ``translate`` with and without ``request=``,
stream snapshots, the offline model, and ``migrator serve`` in offline and bridge mode (its stored
responses too). Each body also passes the strict SDK walker (tests/sdk_shapes.py).
"""

from __future__ import annotations

import copy
import io
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from migrator import translate
from migrator.cli import main
from migrator.mapping.shapes import RESPONSE
from migrator.server import offline
from migrator.streams import StreamTranslator, iter_frames, translate_stream
from tests import strategies as S
from tests.sdk_shapes import check_chunk, check_event, check_result
from tests.serve_helpers import FakeUpstream, ServerProcess, fake_upstream
from tests.stream_helpers import assemble_chat, chat_streams, text_stream

JsonDict = dict[str, Any]
ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"

# ---------------------------------------------------------------------------- the spec's checker


def _null(check: Callable[[Any], bool]) -> Callable[[Any], bool]:
    return lambda v: v is None or check(v)


def _int(v: Any) -> bool:
    return type(v) is int


def _num(v: Any) -> bool:
    return type(v) in (int, float)


def _str(v: Any) -> bool:
    return type(v) is str


def _bool(v: Any) -> bool:
    return type(v) is bool


def _obj(v: Any) -> bool:
    return type(v) is dict


def _usage(v: Any) -> bool:
    return (_obj(v) and all(_int(v.get(k)) for k in ("input_tokens", "output_tokens", "total_tokens"))
            and _obj(v.get("input_tokens_details")) and _int(v["input_tokens_details"].get("cached_tokens"))
            and _obj(v.get("output_tokens_details")) and _int(v["output_tokens_details"].get("reasoning_tokens")))


def _format(v: Any) -> bool:
    """TextField.format: text, json_object, or json_schema with name, description (or null), schema and strict."""
    if not _obj(v) or v.get("type") not in ("text", "json_object", "json_schema"):
        return False
    return v["type"] != "json_schema" or (_str(v.get("name")) and "schema" in v and _null(_str)(v.get("description", 0))
                                          and _bool(v.get("strict")))


#: ResponseResource.required, with each field's type (the spec's, not the SDK's, which is looser).
SPEC_RESPONSE: dict[str, Callable[[Any], bool]] = {
    "id": _str,
    "object": lambda v: v == "response",
    "created_at": _int,
    "completed_at": _null(_int),
    "status": _str,
    "incomplete_details": _null(lambda v: _obj(v) and _str(v.get("reason"))),
    "model": _str,
    "previous_response_id": _null(_str),
    "instructions": _null(_str),
    "output": lambda v: type(v) is list,
    "error": _null(lambda v: _obj(v) and _str(v.get("code")) and _str(v.get("message"))),
    "tools": lambda v: type(v) is list,
    "tool_choice": lambda v: v in ("none", "auto", "required") or _obj(v),
    "truncation": lambda v: v in ("auto", "disabled"),
    "parallel_tool_calls": _bool,
    "text": lambda v: _obj(v) and _format(v.get("format")) and v.get("verbosity", "medium") in ("low", "medium", "high"),
    "top_p": _num,
    "presence_penalty": _num,
    "frequency_penalty": _num,
    "top_logprobs": _int,
    "temperature": _num,
    "reasoning": _null(lambda v: _obj(v) and "effort" in v and "summary" in v),
    "usage": _null(_usage),
    "max_output_tokens": _null(_int),
    "max_tool_calls": _null(_int),
    "store": _bool,
    "background": _bool,
    "service_tier": _str,
    "metadata": lambda v: _obj(v),
    "safety_identifier": _null(_str),
    "prompt_cache_key": _null(_str),
}

ITEM_REQUIRED = {
    "message": ("type", "id", "status", "role", "content"),
    "function_call": ("type", "id", "call_id", "name", "arguments", "status"),
    "reasoning": ("type", "id", "summary"),
}
FUNCTION_TOOL_REQUIRED = ("type", "name", "description", "parameters", "strict")
PART_EVENTS = frozenset({
    "response.output_text.delta", "response.output_text.done", "response.refusal.delta", "response.refusal.done",
    "response.content_part.added", "response.content_part.done", "response.reasoning_text.delta", "response.reasoning_text.done",
})
SNAPSHOT_EVENTS = frozenset({"response.created", "response.in_progress", "response.completed", "response.incomplete",
                             "response.failed", "response.queued"})


def spec_problems(response: Any, where: str = "$") -> list[str]:
    """Every way ``response`` falls short of the spec's ResponseResource (empty when it does not)."""
    if type(response) is not dict:
        return [f"{where}: not an object"]
    problems = [f"{where}.{key}: missing" for key in SPEC_RESPONSE if key not in response]
    problems += [f"{where}.{key}: {response[key]!r} is not what the spec allows"
                 for key, ok in SPEC_RESPONSE.items() if key in response and not ok(response[key])]
    for i, item in enumerate(response.get("output") or []):
        required = ITEM_REQUIRED.get(item.get("type"), ()) if type(item) is dict else ()
        problems += [f"{where}.output[{i}].{key}: missing" for key in required if key not in item]
        if type(item) is dict and "status" in required and item.get("status") not in ("in_progress", "completed", "incomplete"):
            problems.append(f"{where}.output[{i}].status: {item.get('status')!r}")
    for i, tool in enumerate(response.get("tools") or []):
        if type(tool) is dict and tool.get("type") == "function":
            problems += [f"{where}.tools[{i}].{key}: missing" for key in FUNCTION_TOOL_REQUIRED if key not in tool]
    return problems


def check_complete(response: JsonDict) -> None:
    """The spec's ResponseResource, then the SDK's Response, both strictly."""
    problems = spec_problems(response)
    assert not problems, "\n".join(problems)
    check_result(response, "responses")


def check_complete_events(events: list[JsonDict]) -> None:
    snapshots = 0
    for i, event in enumerate(events):
        check_event(event)
        assert _int(event.get("sequence_number")), (i, event)
        if event["type"] in PART_EVENTS:
            assert _str(event.get("item_id")) and _int(event.get("output_index")) and _int(event.get("content_index")), event
        if event["type"] in SNAPSHOT_EVENTS:
            snapshots += 1
            problems = spec_problems(event["response"], f"{event['type']}.response")
            assert not problems, "\n".join(problems)
    assert snapshots >= 3, "created, in_progress and a terminal event"


def check_complete_completion(body: JsonDict) -> None:
    """A ChatCompletion as the API sends it: service_tier, system_fingerprint, usage with both detail objects."""
    for key in ("id", "object", "created", "model", "choices", "service_tier", "system_fingerprint", "usage"):
        assert key in body, key
    assert _int(body["created"])
    usage = body["usage"]
    if usage is not None:
        assert _obj(usage.get("prompt_tokens_details")) and _obj(usage.get("completion_tokens_details")), usage
    check_result(body, "chat")


# ---------------------------------------------------------------------------- the checker itself


def test_the_checker_is_the_spec_list_and_shapes_json_states_the_same() -> None:
    """shapes.json's ``required`` is the spec's list, in its order; nothing in it lacks a default or a writer."""
    assert list(RESPONSE.required) == list(SPEC_RESPONSE)
    always_written = {"id", "object", "created_at", "status", "model", "output"}
    assert set(RESPONSE.required) == always_written | set(RESPONSE.defaults)
    default = {key: copy.deepcopy(RESPONSE.defaults.get(key)) for key in RESPONSE.required}
    default.update(id="resp_1", object="response", created_at=1, status="completed", model="m", output=[])
    assert spec_problems(default) == [], "the defaults themselves are what the spec allows"


@pytest.mark.parametrize(("key", "value"), [("created_at", 1.5), ("completed_at", 2.0), ("temperature", None),
                                            ("store", None), ("service_tier", None), ("text", {"verbosity": "low"})])
def test_the_checker_fails_on_what_the_spec_refuses(key: str, value: Any) -> None:
    response = offline.generate({"model": "m", "input": "hi"})
    assert spec_problems(response) == []
    assert spec_problems({**response, key: value}), key
    missing = {k: v for k, v in response.items() if k != key}
    assert spec_problems(missing) == [f"$.{key}: missing"]


# ---------------------------------------------------------------------------- translate


COMPLETION = json.loads((ROOT / "migrator" / "examples" / "chat_completion.json").read_text())
CHAT_REQUEST = json.loads((ROOT / "migrator" / "examples" / "chat_request.json").read_text())
RESPONSES_REQUEST = json.loads((ROOT / "migrator" / "examples" / "responses_request.json").read_text())


def _completion_fixtures() -> Iterator[Any]:
    for path in sorted((FIXTURES / "mapping" / "completion_to_response").glob("*.json")):
        data = json.loads(path.read_text())
        for case in data if type(data) is list else [data]:
            if "after" in case and "error" not in case and "raises" not in case:
                yield pytest.param(case["before"], case.get("options", {}).get("request"), id=f"{path.stem}/{case['name']}")


@pytest.mark.parametrize(("completion", "request_"), list(_completion_fixtures()))
def test_translate_of_every_completion_fixture_is_complete(completion: JsonDict, request_: JsonDict | None) -> None:
    check_complete(translate(completion, "responses", request=request_).body)
    check_complete(translate(completion, "responses").body)


@pytest.mark.parametrize("request_", [None, CHAT_REQUEST, RESPONSES_REQUEST], ids=["no-request", "chat-request", "responses-request"])
def test_translate_of_a_completion_is_complete(request_: JsonDict | None) -> None:
    body = translate(COMPLETION, "responses", request=request_).body
    check_complete(body)
    assert type(body["created_at"]) is int


def test_the_request_is_echoed_and_the_answer_wins_over_it() -> None:
    """Echo: the request's value where the answer says nothing, the answer's own where it does, never invented."""
    request = {**CHAT_REQUEST, "presence_penalty": 0.5, "frequency_penalty": 0.25, "store": True, "service_tier": "flex",
               "metadata": {"from": "request"}}
    completion = {**COMPLETION, "service_tier": "priority", "metadata": {"from": "answer"}}
    body = translate(completion, "responses", request=request).body
    check_complete(body)
    assert (body["presence_penalty"], body["frequency_penalty"], body["store"]) == (0.5, 0.25, True)
    assert body["service_tier"] == "priority" and body["metadata"] == {"from": "answer"}
    bare = translate({k: v for k, v in completion.items() if k != "service_tier"}, "responses", request=request).body
    assert bare["service_tier"] == "flex", "the request's tier when the answer has none"


def test_echo_does_not_change_the_request() -> None:
    request = {"model": "m", "input": "hi", "text": {"verbosity": "low"}, "reasoning": {"effort": "low"},
               "tools": [{"type": "function", "name": "f", "parameters": {}}]}
    before = copy.deepcopy(request)
    body = translate(COMPLETION, "responses", request=request).body
    check_complete(body)
    assert request == before
    assert body["text"] == {"verbosity": "low", "format": {"type": "text"}}
    assert body["reasoning"] == {"effort": "low", "summary": None}
    assert body["tools"] == [{"type": "function", "name": "f", "parameters": {}, "description": None, "strict": True}]


def test_a_json_schema_format_is_echoed_with_description_and_strict() -> None:
    request = {"model": "m", "messages": [{"role": "user", "content": "hi"}],
               "response_format": {"type": "json_schema", "json_schema": {"name": "x", "schema": {"type": "object"}}}}
    body = translate(COMPLETION, "responses", request=request).body
    check_complete(body)
    assert body["text"]["format"] == {"type": "json_schema", "name": "x", "schema": {"type": "object"}, "description": None,
                                      "strict": False}


def test_translate_of_a_response_is_a_complete_chat_completion() -> None:
    response = offline.generate({"model": "m", "input": "hi"})
    check_complete_completion(translate(response, "chat").body)
    bare = {k: v for k, v in response.items() if k not in ("service_tier", "usage")}
    body = translate(bare, "chat").body
    check_complete_completion(body)
    assert body["service_tier"] == "default" and body["usage"] is None and body["system_fingerprint"] is None


# ---------------------------------------------------------------------------- streams


def _sse_frames(name: str) -> list[JsonDict]:
    return list(iter_frames([(FIXTURES / "streams" / name).read_bytes()]))


@pytest.mark.parametrize("name", ["chat_text_usage.sse", "chat_parallel_tools.sse", "chat_broken.sse"])
@pytest.mark.parametrize("request_", [None, CHAT_REQUEST, RESPONSES_REQUEST], ids=["no-request", "chat-request", "responses-request"])
def test_stream_snapshots_are_complete(name: str, request_: JsonDict | None) -> None:
    events = list(translate_stream(_sse_frames(name), "responses", request=request_))
    check_complete_events(events)


def test_a_responses_stream_becomes_complete_chunks() -> None:
    frames = _sse_frames("responses_reasoning_text_tool.sse")
    chunks = list(translate_stream(frames, "chat", include_usage=True))
    for c in chunks:
        check_chunk(c)
        assert "service_tier" in c and "system_fingerprint" in c, c
    usage = chunks[-1]["usage"]
    assert usage is not None and "prompt_tokens_details" in usage and "completion_tokens_details" in usage
    check_complete_completion(assemble_chat(chunks))


def test_the_opening_events_carry_the_first_chunks_service_tier() -> None:
    """They are written from the first chunk, so a round trip keeps the tier on every chunk."""
    frames = [{**f, "service_tier": "flex"} for f in text_stream(["Hi", " there"])]
    events = list(translate_stream(frames, "responses"))
    assert [e["response"]["service_tier"] for e in events if "response" in e] == ["flex", "flex", "flex"]
    back = list(translate_stream(events, "chat"))
    assert {c["service_tier"] for c in back} == {"flex"}


def test_an_unknown_finish_reason_is_a_loss_not_a_silent_completion() -> None:
    """The stream ended cleanly, so the Response is completed, but the reading is a guess: it is a loss,
    the same one the non-stream translation reports."""
    frames = text_stream(["Hi"], finish="weird")
    translator = StreamTranslator("responses")
    events = [e for f in frames for e in translator.feed(f)] + translator.finish()
    check_complete_events(events)
    assert events[-1]["type"] == "response.completed"
    assert [(loss.path, loss.field, loss.kind) for loss in translator.losses] == [
        ("$.choices[0].finish_reason", "finish_reason", "unsupported")]
    whole = translate(assemble_chat(frames), "responses")
    assert [(x.path, x.kind) for x in whole.losses] == [(x.path, x.kind) for x in translator.losses]
    clean = StreamTranslator("responses")
    for f in text_stream(["Hi"]):
        clean.feed(f)
    clean.finish()
    assert clean.losses == []


def test_the_cli_warns_of_a_stream_loss(tmp_path: Path) -> None:
    frames = text_stream(["Hi"], finish="weird")
    path = tmp_path / "weird.sse"
    path.write_text("".join(f"data: {json.dumps(f)}\n\n" for f in frames) + "data: [DONE]\n\n")
    out, err = io.StringIO(), io.StringIO()
    code = main(["translate", str(path), "--to", "responses"], stdout=out, stderr=err)
    assert code == 0
    assert "finish_reason" in err.getvalue() and "unsupported" in err.getvalue()


# ---------------------------------------------------------------------------- the offline model


OFFLINE_REQUESTS = [
    {"model": "m", "input": "hi"},
    {"model": "m", "input": "Call get_weather for Busan", "tools": [
        {"type": "function", "name": "get_weather", "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}]},
    {"model": "m", "input": "[[refuse]] please", "store": False, "temperature": 0.2},
    {"model": "m", "input": "tell me a long story", "max_output_tokens": 3, "text": {"verbosity": "low"}},
]


@pytest.mark.parametrize("request_", OFFLINE_REQUESTS)
def test_the_offline_model_writes_complete_responses(request_: JsonDict) -> None:
    check_complete(offline.generate(request_, created_at=1_700_000_000.9))
    events = list(offline.generate_events(request_, created_at=1_700_000_000.9))
    check_complete_events(events)
    assert events[0]["response"]["created_at"] == 1_700_000_000


# ---------------------------------------------------------------------------- migrator serve


def _post(server: ServerProcess, body: JsonDict) -> JsonDict:
    r = httpx.post(f"{server.base_url}/responses", json=body, headers={"authorization": "Bearer sk-test"}, timeout=20)
    assert r.status_code == 200, r.text
    result: JsonDict = r.json()
    return result


def _stream(server: ServerProcess, body: JsonDict) -> list[JsonDict]:
    with httpx.stream("POST", f"{server.base_url}/responses", json={**body, "stream": True},
                      headers={"authorization": "Bearer sk-test"}, timeout=20) as r:
        assert r.status_code == 200
        raw = b"".join(r.iter_bytes())
    return list(iter_frames([raw]))


def _get(server: ServerProcess, response_id: str) -> JsonDict:
    r = httpx.get(f"{server.base_url}/responses/{response_id}", headers={"authorization": "Bearer sk-test"}, timeout=20)
    assert r.status_code == 200, r.text
    result: JsonDict = r.json()
    return result


@pytest.fixture(scope="module")
def upstream() -> Iterator[FakeUpstream]:
    with fake_upstream() as fake:
        yield fake


@pytest.fixture(scope="module", params=["offline", "bridge-chat"])
def served(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    workdir = tmp_path_factory.mktemp("shapes")
    # The fake upstream's answers are dated 2023: a long retention keeps them in the store.
    args = ["--store-retention-days", "36500"] + ([] if request.param == "offline" else [
        "--upstream", request.getfixturevalue("upstream").base_url, "--upstream-api", "chat", "--retries", "0"])
    server = ServerProcess(args, stderr_path=workdir / "serve.stderr").start()
    try:
        yield server.wait_ready()
    finally:
        server.stop()


@pytest.mark.slow
def test_served_responses_are_complete_and_stored_as_written(served: ServerProcess) -> None:
    body = {"model": "gpt-4.1", "input": "What is the weather in Paris?", "temperature": 0.4}
    answer = _post(served, body)
    check_complete(answer)
    assert answer["temperature"] == 0.4 and answer["store"] is True
    assert _get(served, answer["id"]) == answer
    events = _stream(served, body)
    check_complete_events(events)
    final = events[-1]["response"]
    check_complete(_get(served, final["id"]))
    unstored = _post(served, {**body, "store": False})
    check_complete(unstored)
    assert unstored["store"] is False


@pytest.mark.slow
@pytest.mark.parametrize("served", ["offline"], indirect=True)  # a chat upstream's own chat answers pass through as they are
def test_served_chat_completions_are_complete(served: ServerProcess) -> None:
    """The chat endpoint over the offline model (a Response translated to chat) answers as the API does."""
    body = {"model": "gpt-4.1", "messages": [{"role": "user", "content": "What is the weather in Paris?"}]}
    r = httpx.post(f"{served.base_url}/chat/completions", json=body, headers={"authorization": "Bearer sk-test"}, timeout=20)
    assert r.status_code == 200, r.text
    check_complete_completion(r.json())
    with httpx.stream("POST", f"{served.base_url}/chat/completions", json={**body, "stream": True,
                      "stream_options": {"include_usage": True}}, headers={"authorization": "Bearer sk-test"}, timeout=20) as s:
        raw = b"".join(s.iter_bytes())
    chunks = list(iter_frames([raw]))
    for c in chunks:
        check_chunk(c)
        assert "service_tier" in c and "system_fingerprint" in c, c
    usage = chunks[-1]["usage"]
    assert usage is not None and "prompt_tokens_details" in usage and "completion_tokens_details" in usage


# ---------------------------------------------------------------------------- over generated bodies

PROPERTY = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@PROPERTY
@given(S.chat_completions(), st.none() | S.chat_requests() | S.responses_requests())
def test_every_translated_completion_is_complete(completion: JsonDict, request_: JsonDict | None) -> None:
    body = translate(completion, "responses", request=request_).body
    assert spec_problems(body) == []
    check_result(body, "responses")
    check_complete_completion(translate(body, "chat").body)


@PROPERTY
@given(chat_streams(), st.none() | S.chat_requests())
def test_every_translated_stream_snapshot_is_complete(frames: list[JsonDict], request_: JsonDict | None) -> None:
    check_complete_events(list(translate_stream(frames, "responses", request=request_)))


def test_the_sdk_walker_tolerates_the_spec_fields_on_a_response_only() -> None:
    """store / presence_penalty / frequency_penalty are what the pinned SDK lacks on a Response; elsewhere they stay unknown."""
    response = offline.generate({"model": "m", "input": "hi"})
    check_result(response, "responses")
    item = {**response["output"][0], "store": True}
    with pytest.raises(AssertionError, match="unknown key 'store'"):
        check_result({**response, "output": [item]}, "responses")
