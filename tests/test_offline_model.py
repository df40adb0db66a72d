"""The offline model behind ``migrator serve``: deterministic, history-sensitive, SDK-valid."""

from __future__ import annotations

import copy
import glob
import importlib.util
import json
import subprocess
import sys
import typing
from pathlib import Path
from typing import Any

import jsonschema
import pydantic
import pytest
from openai.types.responses import Response, ResponseStreamEvent

import migrator
from migrator.mapping.rules import TABLES
from migrator.server import offline
from migrator.server.offline import (
    MODEL_ID,
    REFUSAL_TEXT,
    REFUSAL_TRIGGER,
    OfflineRequestError,
    count_tokens,
    generate,
    generate_events,
    normalize_conversation,
    validate,
)
from migrator.server.offline import checks as offline_checks
from migrator.server.offline import conversation as offline_conversation
from migrator.server.offline import model as offline_model
from tests.sdk_shapes import ShapeError, check_event, check_request, check_result

ROOT = Path(__file__).resolve().parent.parent
_EVENT = pydantic.TypeAdapter(ResponseStreamEvent)

WEATHER: dict[str, Any] = {
    "type": "function",
    "name": "get_weather",
    "description": "Current weather for a city.",
    "parameters": {
        "type": "object",
        "properties": {
            "city": {"type": "string"},
            "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
            "days": {"type": "integer", "minimum": 1, "maximum": 7},
            "hourly": {"type": "boolean"},
            "threshold": {"type": "number", "exclusiveMinimum": 0, "maximum": 0.5},
            "where": {
                "type": "object",
                "properties": {"lat": {"type": "number", "minimum": -90, "maximum": 90}, "tags": {"type": "array", "items": {"type": "string"}, "minItems": 2}},
                "required": ["lat", "tags"],
                "additionalProperties": False,
            },
        },
        "required": ["city", "unit"],
        "additionalProperties": False,
    },
    "strict": False,
}
CLOCK: dict[str, Any] = {
    "type": "function",
    "name": "lookup_time",
    "parameters": {"type": "object", "properties": {"zone": {"type": "string"}}, "required": ["zone"], "additionalProperties": False},
    "strict": True,
}


def run(request: dict[str, Any], **ids: Any) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Both forms, each checked against the SDK, the stream's end checked against the body."""
    body = generate(request, **ids)
    check_result(body, "responses")
    Response.model_validate(body)
    events = list(generate_events(request, **ids))
    for event in events:
        check_event(event)
        _EVENT.validate_python(event)
    assert [e["sequence_number"] for e in events] == list(range(len(events)))
    assert events[-1]["response"] == body
    assert json.dumps(events[-1]["response"]) == json.dumps(body)
    return body, events


def text_of(body: dict[str, Any]) -> str:
    return "".join(p["text"] for item in body["output"] if item["type"] == "message" for p in item["content"] if p["type"] == "output_text")


def calls_of(body: dict[str, Any]) -> list[dict[str, Any]]:
    return [item for item in body["output"] if item["type"] == "function_call"]


def user(text: str) -> dict[str, Any]:
    return {"role": "user", "content": text}


# ------------------------------------------------------------------------ determinism


def test_the_same_request_gives_the_same_bytes() -> None:
    request = {"model": "gpt-4.1", "instructions": "Be brief.", "input": "What is the weather in Busan?"}
    first, events = run(request)
    again, events_again = run(copy.deepcopy(request))
    assert json.dumps(first) == json.dumps(again)
    assert json.dumps(events) == json.dumps(events_again)
    assert first["id"].startswith("resp_")
    assert first["created_at"] == offline.DEFAULT_CREATED_AT
    assert text_of(first).startswith('Offline answer to "What is the weather in Busan?" (turn 1): ')


def test_caller_ids_change_only_ids() -> None:
    request = {"model": "gpt-4.1", "input": "Call get_weather for Busan", "tools": [WEATHER]}
    a, _ = run(request, response_id="resp_a", created_at=1.5)
    b, _ = run(request, response_id="resp_b", created_at=2.5)
    # created_at in whole seconds, as the API writes it (a clock's float is cut to an int)
    assert (a["id"], a["created_at"], b["id"], b["created_at"]) == ("resp_a", 1, "resp_b", 2)
    assert type(a["created_at"]) is int and type(a["completed_at"]) is int
    assert a["output"][0]["id"] != b["output"][0]["id"]  # item ids never shared between responses
    strip = [{k: v for k, v in item.items() if k != "id"} for item in a["output"]]
    assert strip == [{k: v for k, v in item.items() if k != "id"} for item in b["output"]]
    assert a["usage"] == b["usage"]


def test_non_content_fields_do_not_change_the_answer() -> None:
    plain = {"model": "gpt-4.1", "input": [user("hello there")]}
    noisy = {
        "model": "gpt-4.1", "store": True, "stream": False, "metadata": {"k": "v"}, "temperature": 0.3,
        "input": [{"type": "message", "id": "msg_1", "status": "completed", "role": "user", "content": [{"type": "input_text", "text": "hello there"}]}],
    }
    assert text_of(generate(plain)) == text_of(generate(noisy))
    assert generate(plain)["usage"] == generate(noisy)["usage"]


def test_another_history_gives_another_answer() -> None:
    base = [user("plan a trip"), {"role": "assistant", "content": "Where to?"}, user("somewhere warm")]
    other = [user("plan a trip"), {"role": "assistant", "content": "Which month?"}, user("somewhere warm")]
    a = text_of(generate({"model": "m", "input": base}))
    b = text_of(generate({"model": "m", "input": other}))
    c = text_of(generate({"model": "m", "instructions": "Answer in French.", "input": base}))
    assert len({a, b, c}) == 3
    for text in (a, b, c):  # same last question, same turn: only the hash words differ
        assert text.startswith('Offline answer to "somewhere warm" (turn 2): ')


# ----------------------------------------------------------------- chat ≡ responses


CHAT_REQUEST: dict[str, Any] = {
    "model": "gpt-4.1-mini",
    "messages": [
        {"role": "system", "content": "You are a concise API assistant."},
        {"role": "user", "content": [{"type": "text", "text": "What's the weather in Busan?"}]},
        {"role": "assistant", "content": None, "tool_calls": [
            {"id": "call_wx1", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\": \"Busan\"}"}},
        ]},
        {"role": "tool", "tool_call_id": "call_wx1", "content": "{\"temp_c\": 18, \"sky\": \"clear\"}"},
        {"role": "assistant", "content": "It is 18°C and clear."},
        {"role": "user", "content": "And should I call get_weather for Seoul too?"},
    ],
    "tools": [{"type": "function", "function": {"name": WEATHER["name"], "parameters": WEATHER["parameters"]}}],
}
HANDWRITTEN: dict[str, Any] = {
    "model": "gpt-4.1-mini",
    "instructions": "You are a concise API assistant.",
    "input": [
        {"role": "user", "content": "What's the weather in Busan?"},
        {"type": "function_call", "id": "fc_1", "call_id": "call_other", "name": "get_weather", "arguments": "{\"city\":\"Busan\"}", "status": "completed"},
        {"type": "function_call_output", "call_id": "call_other", "output": "{\"temp_c\": 18, \"sky\": \"clear\"}"},
        {"type": "message", "id": "msg_1", "status": "completed", "role": "assistant",
         "content": [{"type": "output_text", "text": "It is 18°C and clear.", "annotations": [], "logprobs": []}]},
        {"role": "developer", "content": [{"type": "input_text", "text": "And should I call get_weather for Seoul too?"}]},
    ],
    "tools": [WEATHER],
}


@pytest.mark.parametrize("hoist", [False, True])
def test_a_chat_request_and_its_responses_twin_get_the_same_content(hoist: bool) -> None:
    translated = migrator.translate(CHAT_REQUEST, "responses", hoist_system=hoist).body
    handwritten = copy.deepcopy(HANDWRITTEN)
    handwritten["input"][-1]["role"] = "user"
    a, a_events = run(translated, response_id="resp_x", created_at=7)
    b, b_events = run(handwritten, response_id="resp_x", created_at=7)
    assert normalize_conversation(translated) == normalize_conversation(handwritten)
    assert a["output"] == b["output"]
    assert a["usage"] == b["usage"]
    assert [e for e in a_events if "delta" in e] == [e for e in b_events if "delta" in e]
    call = calls_of(a)[0]
    assert json.loads(call["arguments"])["city"] == "Seoul"


def test_the_chat_endpoint_round_trip_keeps_the_content() -> None:
    """What the chat endpoint will do: translate in, generate, translate the Response back."""
    chat = {"model": "gpt-4.1-mini", "messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "hi"}]}
    body = generate(migrator.translate(chat, "responses").body)
    completion = migrator.translate(body, "chat").body
    assert completion["choices"][0]["message"]["content"] == text_of(body)
    assert completion["usage"]["completion_tokens"] == body["usage"]["output_tokens"]


# ------------------------------------------------------------------------- tool calls


def assert_valid_call(call: dict[str, Any], tool: dict[str, Any]) -> dict[str, Any]:
    args = json.loads(call["arguments"])
    jsonschema.Draft202012Validator(tool["parameters"]).validate(args)
    assert call["name"] == tool["name"]
    assert call["call_id"].startswith("call_") and call["id"].startswith("fc_")
    assert call["status"] == "completed"
    return typing.cast(dict[str, Any], args)


@pytest.mark.parametrize("ask", ["Please call get_weather for Busan", "use GET WEATHER in Busan, 3 days", "get-weather Busan?"])
def test_naming_a_tool_calls_it_with_schema_valid_arguments(ask: str) -> None:
    body, events = run({"model": "gpt-4.1", "input": ask, "tools": [WEATHER, CLOCK]})
    [call] = calls_of(body)
    args = assert_valid_call(call, WEATHER)
    assert args["city"] == "Busan"  # strings come from the user's words
    assert args["unit"] == "celsius"  # enums take their first value
    assert set(args) == set(WEATHER["parameters"]["properties"])  # optional properties too
    assert not text_of(body)
    deltas = "".join(e["delta"] for e in events if e["type"] == "response.function_call_arguments.delta")
    assert deltas == call["arguments"]
    assert body["usage"]["output_tokens"] == count_tokens(call["arguments"])


def test_numbers_in_the_message_are_used_when_the_schema_allows() -> None:
    body = generate({"model": "m", "input": "get_weather Busan for 3 days", "tools": [WEATHER]})
    assert json.loads(calls_of(body)[0]["arguments"])["days"] == 3
    body = generate({"model": "m", "input": "get_weather Busan for 30 days", "tools": [WEATHER]})
    assert 1 <= json.loads(calls_of(body)[0]["arguments"])["days"] <= 7


def test_a_property_named_in_the_message_takes_its_value() -> None:
    body = generate({"model": "m", "input": "lookup_time with zone: Asia/Seoul please", "tools": [CLOCK]})
    assert json.loads(calls_of(body)[0]["arguments"]) == {"zone": "Asia/Seoul"}


def test_several_named_tools_are_called_in_parallel_unless_disabled() -> None:
    ask = "get_weather in Busan and lookup_time there"
    body, events = run({"model": "m", "input": ask, "tools": [WEATHER, CLOCK]})
    calls = calls_of(body)
    assert [c["name"] for c in calls] == ["get_weather", "lookup_time"]
    assert len({c["call_id"] for c in calls}) == 2
    for call, tool in zip(calls, (WEATHER, CLOCK), strict=True):
        assert_valid_call(call, tool)
    assert [e["output_index"] for e in events if e["type"] == "response.output_item.done"] == [0, 1]
    single = generate({"model": "m", "input": ask, "tools": [WEATHER, CLOCK], "parallel_tool_calls": False})
    assert [c["name"] for c in calls_of(single)] == ["get_weather"]


@pytest.mark.parametrize(
    ("choice", "expected"),
    [
        ("required", ["get_weather"]),
        ({"type": "function", "name": "lookup_time"}, ["lookup_time"]),
        ({"type": "allowed_tools", "mode": "required", "tools": [{"type": "function", "name": "lookup_time"}]}, ["lookup_time"]),
        ("auto", []),
        ("none", []),
    ],
)
def test_tool_choice_forces_or_forbids_calls(choice: Any, expected: list[str]) -> None:
    body, _ = run({"model": "m", "input": "hello", "tools": [WEATHER, CLOCK], "tool_choice": choice})
    assert [c["name"] for c in calls_of(body)] == expected
    assert body["tool_choice"] == choice
    for call in calls_of(body):
        assert_valid_call(call, WEATHER if call["name"] == "get_weather" else CLOCK)


def test_tool_choice_none_beats_a_mention() -> None:
    body = generate({"model": "m", "input": "call get_weather", "tools": [WEATHER], "tool_choice": "none"})
    assert not calls_of(body) and text_of(body)


def test_the_answer_after_a_tool_output_uses_it() -> None:
    first = generate({"model": "m", "input": "get_weather for Busan", "tools": [WEATHER]})
    [call] = calls_of(first)
    follow = {
        "model": "m",
        "tools": [WEATHER],
        "tool_choice": "required",  # even forced, a conversation ending in outputs gets its answer
        "input": [
            user("get_weather for Busan"),
            call,
            {"type": "function_call_output", "call_id": call["call_id"], "output": "{\"temp_c\": 18, \"sky\": \"clear\"}"},
        ],
    }
    body, _ = run(follow)
    assert not calls_of(body)
    text = text_of(body)
    assert 'get_weather: {"temp_c": 18, "sky": "clear"}' in text
    assert text.startswith('Offline answer to "get_weather for Busan" (turn 1) based on ')


def test_parallel_outputs_are_all_quoted() -> None:
    body = generate({"model": "m", "tools": [WEATHER, CLOCK], "input": [
        user("get_weather and lookup_time for Busan"),
        {"type": "function_call", "call_id": "c1", "name": "get_weather", "arguments": "{}"},
        {"type": "function_call", "call_id": "c2", "name": "lookup_time", "arguments": "{}"},
        {"type": "function_call_output", "call_id": "c1", "output": "sunny"},
        {"type": "function_call_output", "call_id": "c2", "output": [{"type": "input_text", "text": "09:00 KST"}]},
    ]})
    assert "get_weather: sunny; lookup_time: 09:00 KST;" in text_of(body)


# ----------------------------------------------------------------- structured output

SCHEMAS: dict[str, dict[str, Any]] = {
    "flat": {"type": "object", "properties": {"summary": {"type": "string"}, "score": {"type": "integer", "minimum": 10, "maximum": 12}},
             "required": ["summary", "score"], "additionalProperties": False},
    "nested_and_arrays": {
        "type": "object",
        "properties": {
            "city": {"type": "object", "properties": {"name": {"type": "string", "minLength": 30}, "zip": {"type": "string", "maxLength": 3}},
                     "required": ["name", "zip"], "additionalProperties": False},
            "days": {"type": "array", "minItems": 3, "maxItems": 3, "items": {
                "type": "object", "properties": {"t": {"type": "number", "multipleOf": 0.5, "exclusiveMinimum": 40}, "sky": {"enum": ["clear", "rain"]}},
                "required": ["t", "sky"], "additionalProperties": False}},
            "tags": {"type": "array", "items": {"type": "string", "enum": ["a", "b", "c"]}, "uniqueItems": True, "minItems": 3},
            "pair": {"type": "array", "prefixItems": [{"type": "string"}, {"type": "boolean"}], "items": False},
        },
        "required": ["city", "days", "tags", "pair"],
        "additionalProperties": False,
    },
    "any_of_and_nullable": {
        "type": "object",
        "properties": {
            "value": {"anyOf": [{"type": "null"}, {"type": "object", "properties": {"n": {"type": "integer", "exclusiveMaximum": 0}},
                                                   "required": ["n"], "additionalProperties": False}]},
            "maybe": {"type": ["string", "null"], "format": "date-time"},
            "kind": {"const": "weather"},
            "either": {"oneOf": [{"type": "string", "format": "email"}, {"type": "integer"}]},
        },
        "required": ["value", "maybe", "kind", "either"],
        "additionalProperties": False,
    },
    "defs_and_recursion": {
        "$defs": {
            "node": {"type": "object", "properties": {"label": {"type": "string"}, "children": {"type": "array", "items": {"$ref": "#/$defs/node"}}},
                     "required": ["label", "children"], "additionalProperties": False},
            "link": {"anyOf": [{"$ref": "#/$defs/node"}, {"type": "null"}]},
        },
        "type": "object",
        "properties": {"root": {"$ref": "#/$defs/node"}, "next": {"$ref": "#/$defs/link"}},
        "required": ["root", "next"],
        "additionalProperties": False,
    },
    "all_of": {"allOf": [{"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"]},
                         {"properties": {"b": {"type": "integer", "minimum": 5}}, "required": ["b"]}]},
    "top_level_array": {"type": "array", "items": {"type": "number", "maximum": -3.5}, "minItems": 2},
}


@pytest.mark.parametrize("name", sorted(SCHEMAS))
def test_json_schema_output_is_valid_against_the_schema(name: str) -> None:
    schema = SCHEMAS[name]
    fmt = {"type": "json_schema", "name": name, "schema": schema, "strict": True}
    body, events = run({"model": "m", "input": "Describe the weather in Busan", "text": {"format": fmt}})
    value = json.loads(text_of(body))
    jsonschema.Draft202012Validator(schema).validate(value)
    assert body["text"]["format"] == {**fmt, "description": None}  # echoed as the API does: description null when unset
    assert "".join(e["delta"] for e in events if e["type"] == "response.output_text.delta") == text_of(body)


def test_json_schema_output_follows_the_conversation() -> None:
    fmt = {"type": "json_schema", "name": "s", "schema": SCHEMAS["flat"]}
    a = json.loads(text_of(generate({"model": "m", "input": "first question", "text": {"format": fmt}})))
    b = json.loads(text_of(generate({"model": "m", "input": "second question", "text": {"format": fmt}})))
    assert a["summary"].startswith('Offline answer to "first question"') and a != b


def test_json_object_output_is_an_object() -> None:
    body, _ = run({"model": "m", "input": "json please", "text": {"format": {"type": "json_object"}}})
    value = json.loads(text_of(body))
    assert isinstance(value, dict) and value["turn"] == 1


def test_chat_response_format_reaches_the_model() -> None:
    chat = json.loads((ROOT / "migrator/examples/chat_request.json").read_text())
    body = generate(migrator.translate(chat, "responses").body)
    schema = chat["response_format"]["json_schema"]["schema"]
    jsonschema.Draft202012Validator(schema).validate(json.loads(text_of(body)))


# ------------------------------------------------------------------ truncation, usage


def test_max_output_tokens_truncates_at_the_limit() -> None:
    request: dict[str, Any] = {"model": "m", "input": "tell me a long story about harbors"}
    full = text_of(generate(request))
    assert count_tokens(full) > 5
    body, events = run({**request, "max_output_tokens": 5})
    text = text_of(body)
    assert full.startswith(text) and count_tokens(text) == 5
    assert body["status"] == "incomplete"
    assert body["incomplete_details"] == {"reason": "max_output_tokens"}
    assert body["output"][0]["status"] == "incomplete"
    assert body["completed_at"] is None
    assert body["usage"]["output_tokens"] == 5
    assert events[-1]["type"] == "response.incomplete"
    assert [e["item"]["status"] for e in events if e["type"] == "response.output_item.done"] == ["incomplete"]


def test_a_limit_that_fits_completes() -> None:
    request: dict[str, Any] = {"model": "m", "input": "short"}
    needed = count_tokens(text_of(generate(request)))
    body = generate({**request, "max_output_tokens": needed})
    assert body["status"] == "completed" and body["incomplete_details"] is None
    assert body["usage"]["output_tokens"] == needed


def test_truncation_also_cuts_tool_arguments_and_drops_later_calls() -> None:
    request: dict[str, Any] = {"model": "m", "input": "get_weather and lookup_time for Busan", "tools": [WEATHER, CLOCK]}
    first = calls_of(generate(request))[0]["arguments"]
    body, _ = run({**request, "max_output_tokens": 4})
    [call] = calls_of(body)
    assert first.startswith(call["arguments"]) and call["status"] == "incomplete"
    assert body["status"] == "incomplete" and body["usage"]["output_tokens"] == 4


@pytest.mark.parametrize(
    "request_body",
    [
        {"model": "m", "instructions": "Be brief.", "input": "hello, world!"},
        {"model": "m", "input": "get_weather and lookup_time for Busan", "tools": [WEATHER, CLOCK]},
        {"model": "m", "input": "x", "text": {"format": {"type": "json_schema", "name": "n", "schema": SCHEMAS["nested_and_arrays"]}}},
        {"model": "m", "input": f"no {REFUSAL_TRIGGER}"},
    ],
)
def test_usage_is_consistent_with_what_was_sent(request_body: dict[str, Any]) -> None:
    body, events = run(request_body)
    usage = body["usage"]
    assert usage["input_tokens_details"] == {"cached_tokens": 0, "cache_write_tokens": 0}
    assert usage["output_tokens_details"] == {"reasoning_tokens": 0}
    assert usage["total_tokens"] == usage["input_tokens"] + usage["output_tokens"]
    assert usage["input_tokens"] == count_tokens(offline_conversation._render(normalize_conversation(request_body)))
    streamed = "".join(
        e["delta"] for e in events
        if e["type"] in ("response.output_text.delta", "response.refusal.delta", "response.function_call_arguments.delta")
    )
    assert usage["output_tokens"] == count_tokens(streamed)
    for e in events:
        if e["type"] == "response.output_text.delta":
            assert e["logprobs"] == [] and e["delta"].strip() and " " not in e["delta"].strip()  # one word each


def test_the_tokenizer_is_words_and_punctuation() -> None:
    assert count_tokens('Offline answer to "hi" (turn 1): amber.') == 13
    assert count_tokens("") == 0


def test_events_are_framed_like_openai() -> None:
    _, events = run({"model": "m", "input": "hi"})
    assert [e["type"] for e in events][:5] == [
        "response.created", "response.in_progress", "response.output_item.added", "response.content_part.added", "response.output_text.delta",
    ]
    assert [e["type"] for e in events][-4:] == [
        "response.output_text.done", "response.content_part.done", "response.output_item.done", "response.completed",
    ]
    for e in events[:2]:
        assert e["response"]["status"] == "in_progress" and e["response"]["output"] == [] and e["response"]["usage"] is None
    added = events[2]["item"]
    assert added["status"] == "in_progress" and added["content"] == []
    assert events[3]["part"] == {"type": "output_text", "text": "", "annotations": [], "logprobs": []}


# -------------------------------------------------------------------------- refusals


def test_the_trigger_gets_a_refusal_part() -> None:
    ask = f"Please call get_weather {REFUSAL_TRIGGER.upper()} now"
    body, events = run({"model": "m", "input": ask, "tools": [WEATHER], "text": {"format": {"type": "json_object"}}})
    assert body["output"][0]["content"] == [{"type": "refusal", "refusal": REFUSAL_TEXT}]
    assert not calls_of(body)
    types = [e["type"] for e in events]
    assert "response.refusal.done" in types and "response.output_text.delta" not in types
    assert "".join(e["delta"] for e in events if e["type"] == "response.refusal.delta") == REFUSAL_TEXT
    assert body["usage"]["output_tokens"] == count_tokens(REFUSAL_TEXT)
    completion = migrator.translate(body, "chat").body
    assert completion["choices"][0]["message"]["refusal"] == REFUSAL_TEXT


def test_only_the_last_user_message_can_trigger_a_refusal() -> None:
    body = generate({"model": "m", "input": [user(f"a {REFUSAL_TRIGGER}"), {"role": "assistant", "content": REFUSAL_TEXT}, user("ok then")]})
    assert text_of(body).startswith('Offline answer to "ok then" (turn 2)')


# ------------------------------------------------------------------------- validation


def error_for(request: Any) -> OfflineRequestError:
    with pytest.raises(OfflineRequestError) as exc:
        validate(request)
    with pytest.raises(OfflineRequestError):
        generate(request)
    with pytest.raises(OfflineRequestError):  # before the first event, not mid-stream
        generate_events(request)
    err = exc.value
    assert err.status == 400
    assert err.body() == {"error": {"message": err.message, "type": "invalid_request_error", "param": err.param, "code": err.code}}
    return err


def test_an_unknown_parameter_is_refused_like_the_api() -> None:
    err = error_for({"model": "m", "input": "hi", "foo": 1})
    assert (err.message, err.param, err.code) == ("Unrecognized request argument supplied: foo", "foo", "unknown_parameter")
    assert str(err) == err.message


def test_every_parameter_of_the_tables_is_known() -> None:
    request: dict[str, Any] = {key: None for key in TABLES["responses.request"]}
    validate({**request, "model": "m", "input": "hi"})
    assert "n" not in TABLES["responses.request"]  # a chat-only parameter stays unknown here
    assert error_for({"model": "m", "input": "hi", "n": 2}).param == "n"


@pytest.mark.parametrize(
    ("request_body", "param", "code"),
    [
        ({"input": "hi"}, "model", "missing_required_parameter"),
        ({"model": 4, "input": "hi"}, "model", "invalid_type"),
        ({"model": "m"}, "input", "missing_required_parameter"),
        ({"model": "m", "input": {"role": "user"}}, "input", "invalid_type"),
        ({"model": "m", "input": ["hi"]}, "input[0]", "invalid_type"),
        ({"model": "m", "input": [{"role": "robot", "content": "x"}]}, "input[0].role", "invalid_value"),
        ({"model": "m", "input": [{"role": "user", "content": 3}]}, "input[0].content", "invalid_type"),
        ({"model": "m", "input": [{"role": "user", "content": "x", "foo": 1}]}, "input[0].foo", "unknown_parameter"),
        ({"model": "m", "input": [{"role": "user", "content": [{"type": "input_text", "text": "x", "annotations": []}]}]},
         "input[0].content[0].annotations", "unknown_parameter"),
        ({"model": "m", "input": [{"type": "function_call", "call_id": "c", "name": "f"}]}, "input[0].arguments", "missing_required_parameter"),
        ({"model": "m", "input": [{"type": "function_call_output", "call_id": "c", "output": 3}]}, "input[0].output", "invalid_type"),
        ({"model": "m", "input": "hi", "tools": {"type": "function"}}, "tools", "invalid_type"),
        ({"model": "m", "input": "hi", "tools": ["get_weather"]}, "tools[0]", "invalid_type"),
        ({"model": "m", "input": "hi", "tools": [{"type": "function"}]}, "tools[0].name", "missing_required_parameter"),
        ({"model": "m", "input": "hi", "tools": [{"type": "function", "name": "bad name"}]}, "tools[0].name", "invalid_value"),
        ({"model": "m", "input": "hi", "tools": [{"type": "function", "name": "f", "parameters": "{}"}]}, "tools[0].parameters", "invalid_type"),
        ({"model": "m", "input": "hi", "tools": [{"type": "function", "function": {"name": "f"}}]}, "tools[0].function", "unknown_parameter"),
        ({"model": "m", "input": "hi", "tool_choice": "always"}, "tool_choice", "invalid_value"),
        ({"model": "m", "input": "hi", "tool_choice": {"type": "function", "name": "f"}}, "tool_choice", "invalid_value"),
        ({"model": "m", "input": "hi", "max_output_tokens": "5"}, "max_output_tokens", "invalid_type"),
        ({"model": "m", "input": "hi", "max_output_tokens": True}, "max_output_tokens", "invalid_type"),
        ({"model": "m", "input": "hi", "max_output_tokens": 2.5}, "max_output_tokens", "invalid_type"),
        ({"model": "m", "input": "hi", "max_output_tokens": 0}, "max_output_tokens", "integer_below_min_value"),
        ({"model": "m", "input": "hi", "temperature": 3}, "temperature", "decimal_above_max_value"),
        ({"model": "m", "input": "hi", "parallel_tool_calls": "yes"}, "parallel_tool_calls", "invalid_type"),
        ({"model": "m", "input": "hi", "metadata": {"k": 1}}, "metadata.k", "invalid_type"),
        ({"model": "m", "input": "hi", "text": {"format": {"type": "json_schema", "name": "x"}}}, "text.format.schema", "missing_required_parameter"),
        ({"model": "m", "input": "hi", "text": {"format": {"type": "yaml"}}}, "text.format.type", "invalid_value"),
    ],
)
def test_bad_requests_name_the_parameter(request_body: dict[str, Any], param: str, code: str) -> None:
    err = error_for(request_body)
    assert (err.param, err.code) == (param, code)
    if code != "invalid_value":  # the API names the value there, the param only in `param`
        assert param in err.message


def test_messages_read_like_the_apis() -> None:
    assert error_for({"input": "hi"}).message == "Missing required parameter: 'model'."
    assert error_for({"model": "m", "input": "hi", "max_output_tokens": "5"}).message == (
        "Invalid type for 'max_output_tokens': expected an integer, but got a string instead."
    )
    assert error_for({"model": "m", "input": [{"role": "robot", "content": "x"}]}).message == (
        "Invalid value: 'robot'. Supported values are: 'assistant', 'system', 'developer', and 'user'."
    )
    assert error_for([]).param is None


def test_previous_response_id_stands_in_for_input() -> None:
    request = {"model": "m", "previous_response_id": "resp_1", "instructions": "Be brief."}
    validate(request)
    body, _ = run(request)
    assert text_of(body).startswith("Offline answer (turn 0): ")
    assert body["previous_response_id"] == "resp_1"


def test_output_items_echoed_back_as_input_are_accepted() -> None:
    """Clients replay ``response.output`` verbatim: ids, statuses, annotations, logprobs."""
    first = generate({"model": "m", "input": "get_weather in Busan", "tools": [WEATHER, CLOCK]})
    text = generate({"model": "m", "input": "hello"})
    refusal = generate({"model": "m", "input": REFUSAL_TRIGGER})
    replay = [
        user("hello"), *text["output"], user("get_weather in Busan"), *first["output"],
        {"type": "function_call_output", "id": "fco_1", "status": "completed", "call_id": calls_of(first)[0]["call_id"], "output": "rain"},
        user(REFUSAL_TRIGGER), *refusal["output"], user("thanks"),
    ]
    request = {"model": "m", "input": replay, "tools": [WEATHER, CLOCK]}
    check_request(request, "responses")
    validate(request)
    body, _ = run(request)
    assert text_of(body).startswith('Offline answer to "thanks" (turn 4)')


def test_allowed_item_keys_cover_the_sdks() -> None:
    """Never refuse a key the pinned SDK can send inside the items this model checks."""
    from openai.types.responses import (
        easy_input_message_param,
        function_tool_param,
        response_function_tool_call_param,
        response_input_item_param,
        response_input_text_param,
        response_output_message_param,
        response_output_refusal_param,
        response_output_text_param,
    )

    def keys(td: Any) -> set[str]:
        return set(typing.get_type_hints(td))

    assert keys(easy_input_message_param.EasyInputMessageParam) | keys(response_input_item_param.Message) <= offline_checks._MESSAGE_KEYS
    assert keys(response_output_message_param.ResponseOutputMessageParam) <= offline_checks._MESSAGE_KEYS
    assert keys(response_function_tool_call_param.ResponseFunctionToolCallParam) <= offline_checks._FUNCTION_CALL_KEYS
    assert keys(response_input_item_param.FunctionCallOutput) <= offline_checks._FUNCTION_OUTPUT_KEYS
    assert keys(response_input_text_param.ResponseInputTextParam) <= offline_checks._PART_KEYS["input_text"]
    assert keys(response_output_text_param.ResponseOutputTextParam) <= offline_checks._PART_KEYS["output_text"]
    assert keys(response_output_refusal_param.ResponseOutputRefusalParam) <= offline_checks._PART_KEYS["refusal"]
    assert keys(function_tool_param.FunctionToolParam) <= offline_checks._FUNCTION_TOOL_KEYS


def test_the_offline_checks_take_their_key_sets_from_the_tables(monkeypatch: pytest.MonkeyPatch) -> None:
    """A field the tables drop is refused and one they add is accepted: the model's key sets are
    the tables' (they were re-listed by hand, and would have kept accepting ``phase``)."""
    message = TABLES["responses.item.message"]
    tool = TABLES["responses.tool.function"]
    monkeypatch.setitem(message.levels, "", {k: r for k, r in message.levels[""].items() if k != "phase"})
    monkeypatch.setitem(tool.levels, "", {**tool.levels[""], "colour": tool["name"]})
    # A fresh copy of the checks, built from the changed tables (the imported one keeps its sets).
    spec = importlib.util.spec_from_file_location("migrator.server.offline._probe", offline_checks.__file__)
    assert spec is not None and spec.loader is not None
    probe = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(probe)
    with pytest.raises(probe.OfflineRequestError) as err:
        probe.validate({"model": "m", "input": [{"role": "user", "content": "hi", "phase": "final_answer"}]})
    assert (err.value.param, err.value.code) == ("input[0].phase", "unknown_parameter")
    probe.validate({"model": "m", "input": "hi", "tools": [{**WEATHER, "colour": "red"}]})


def _fixture_requests() -> list[tuple[str, dict[str, Any]]]:
    found: list[tuple[str, dict[str, Any]]] = []
    for path in sorted(glob.glob(str(ROOT / "fixtures/mapping/*/*.json"))):
        if path.endswith("errors.json"):
            continue
        for case in json.loads(Path(path).read_text(encoding="utf-8")):
            for side in ("before", "after"):
                body = case.get(side)
                if isinstance(body, dict) and ("input" in body or "previous_response_id" in body) and "messages" not in body:
                    try:
                        check_request(body, "responses")
                    except ShapeError:
                        continue
                    found.append((f"{Path(path).parent.name}/{case['name']}/{side}", body))
    return found


def test_every_valid_fixture_request_is_answered_with_sdk_valid_bodies() -> None:
    """The mapping fixtures are the widest sample of real request shapes we have."""
    requests = _fixture_requests()
    assert len(requests) > 100
    for name, body in requests:
        try:
            run(body)
            migrator.translate(generate(body), "chat")
        except Exception as exc:  # pragma: no cover - the message names the fixture
            raise AssertionError(f"{name}: {exc}") from exc


@pytest.mark.slow
def test_the_model_id_and_a_cheap_import() -> None:
    assert MODEL_ID == "migrator-offline"
    assert generate({"model": MODEL_ID, "input": "hi"})["model"] == MODEL_ID
    code = "import sys, migrator.server.offline; assert not {'openai', 'pydantic', 'jsonschema', 'httpx'} & set(sys.modules)"
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


# ------------------------------------------------------------------ choosing a tool by what the user asks


@pytest.mark.parametrize(("ask", "expected"), [
    ("What is the weather in Paris?", ["get_weather"]),  # shares "weather" with the name
    ("Is it raining? Tell me please", []),  # no word in common
    ("How is the city doing today?", ["get_weather"]),  # "city" is in the description
    ("What time is it in Seoul?", ["lookup_time"]),
    ("Weather and times in Busan", ["get_weather", "lookup_time"]),  # plural "times" is "time"
    ("get me something", []),  # "get" is a stop word, not a reason to call get_weather
    ("hello", []),
])
def test_a_tool_is_called_when_the_last_user_turn_shares_a_content_word_with_it(ask: str, expected: list[str]) -> None:
    body, _ = run({"model": "m", "input": ask, "tools": [WEATHER, CLOCK]})
    calls = calls_of(body)
    assert [c["name"] for c in calls] == expected
    for call in calls:
        assert_valid_call(call, WEATHER if call["name"] == "get_weather" else CLOCK)
    assert bool(text_of(body)) == (not expected)


def test_the_weather_question_calls_get_weather_for_the_city_it_names() -> None:
    body, _ = run({"model": "m", "input": "What is the weather in Paris?", "tools": [WEATHER]})
    [call] = calls_of(body)
    assert json.loads(call["arguments"])["city"] == "Paris"


@pytest.mark.parametrize("name", ["getWeather", "get-weather", "WeatherLookup", "get_current_weather_v2"])
def test_camel_snake_and_kebab_case_names_split_into_words(name: str) -> None:
    tool = {"type": "function", "name": name, "parameters": {"type": "object", "properties": {}}}
    body = generate({"model": "m", "input": "weather in Oslo?", "tools": [tool]})
    assert [c["name"] for c in calls_of(body)] == [name]
    assert offline_model._content_words(name) >= {"weather"}


def test_only_the_last_user_turn_chooses_and_the_choice_is_deterministic() -> None:
    request = {"model": "m", "tools": [WEATHER], "input": [user("weather in Paris?"), {"role": "assistant", "content": "Sunny."},
                                                           user("thanks, bye")]}
    assert not calls_of(generate(request))
    asked = {"model": "m", "tools": [WEATHER, CLOCK], "input": "weather and time for Busan"}
    assert json.dumps(generate(asked)) == json.dumps(generate(copy.deepcopy(asked)))


def test_tool_choice_still_decides_before_the_words() -> None:
    ask = "What is the weather in Paris?"
    assert not calls_of(generate({"model": "m", "input": ask, "tools": [WEATHER], "tool_choice": "none"}))
    forced = generate({"model": "m", "input": ask, "tools": [WEATHER, CLOCK], "tool_choice": {"type": "function", "name": "lookup_time"}})
    assert [c["name"] for c in calls_of(forced)] == ["lookup_time"]
    allowed = {"type": "allowed_tools", "mode": "auto", "tools": [{"type": "function", "name": "lookup_time"}]}
    assert not calls_of(generate({"model": "m", "input": ask, "tools": [WEATHER, CLOCK], "tool_choice": allowed}))


# ------------------------------------------------------------------ nothing to answer is a 400, as at the API


@pytest.mark.parametrize(("request_body", "param", "message"), [
    ({"model": "m", "input": []}, "input",
     "Invalid 'input': empty array. Expected an array with minimum length 1, but got an empty array instead."),
    ({"model": "m", "input": [], "previous_response_id": "resp_1"}, "input", "Invalid 'input': empty array."),
    ({"model": "m", "input": [{"role": "user", "content": []}]}, "input[0].content", "Invalid 'input[0].content': empty array."),
    ({"model": "m", "input": [{"role": "user", "content": "hi"}, {"type": "message", "role": "user", "content": []}]},
     "input[1].content", "Invalid 'input[1].content': empty array."),
])
def test_an_empty_input_is_refused_like_the_api(request_body: dict[str, Any], param: str, message: str) -> None:
    err = error_for(request_body)
    assert (err.param, err.code, err.status) == (param, "empty_array", 400)
    assert err.message.startswith(message)


@pytest.mark.parametrize(("request_body", "param", "supported"), [
    ({"model": "m", "input": [{"role": "user", "content": [{"type": "video"}]}]}, "input[0].content[0].type",
     "'input_text', 'input_image', 'input_file', 'output_text', and 'refusal'"),
    ({"model": "m", "input": [{"role": "user", "content": [{"type": "input_text", "text": "x"}, {"type": "text", "text": "x"}]}]},
     "input[0].content[1].type", "'input_text', 'input_image', 'input_file', 'output_text', and 'refusal'"),
    ({"model": "m", "input": [{"type": "function_call_output", "call_id": "c", "output": [{"type": "output_text", "text": "x"}]}]},
     "input[0].output[0].type", "'input_text', 'input_image', and 'input_file'"),
])
def test_an_unknown_content_part_type_is_refused_like_the_api(request_body: dict[str, Any], param: str, supported: str) -> None:
    err = error_for(request_body)
    found = request_body["input"][0].get("content", request_body["input"][0].get("output"))[int(param.split("[")[-1][0])]["type"]
    assert (err.param, err.code) == (param, "invalid_value")
    assert err.message == f"Invalid value: '{found}'. Supported values are: {supported}."


def test_the_part_types_are_the_sdks() -> None:
    from openai.types.responses import response_function_call_output_item_param as output_item
    from openai.types.responses import response_input_message_content_list_param as content_list
    from openai.types.responses import response_output_message_param as output_message

    def types(union: Any) -> set[str]:  # Required[...] is stripped by get_type_hints
        return {value for member in typing.get_args(union) for value in typing.get_args(typing.get_type_hints(member)["type"])}

    assert set(offline_checks._MESSAGE_PART_TYPES) == types(content_list.ResponseInputContentParam) | types(output_message.Content)
    assert set(offline_checks._OUTPUT_PART_TYPES) == types(output_item.ResponseFunctionCallOutputItemParam)


@pytest.mark.parametrize(("choice", "param"), [
    ({"type": "allowed_tools", "mode": "auto", "tools": None}, "tool_choice.tools"),
    ({"type": "allowed_tools", "mode": "auto", "tools": [1]}, "tool_choice.tools[0]"),
    ({"type": "allowed_tools", "mode": "sometimes", "tools": []}, "tool_choice.mode"),
    ({"type": "allowed_tools", "tools": []}, "tool_choice.mode"),
    ({"type": "allowed_tools", "mode": "auto", "tools": [{"type": "function", "name": ["get_weather"]}]}, "tool_choice.tools[0].name"),
    ({"type": "allowed_tools", "mode": "auto", "tools": [{"type": {}, "name": "get_weather"}]}, "tool_choice.tools[0].type"),
])
def test_a_malformed_allowed_tools_choice_is_a_400_not_a_crash(choice: dict[str, Any], param: str) -> None:
    """``tools: null`` inside allowed_tools crashed the model with a TypeError (found by the server's fuzz test)."""
    body = {"model": "m", "input": "What is the weather in Paris?", "tool_choice": choice,
            "tools": [{"type": "function", "name": "get_weather", "parameters": {"type": "object", "properties": {}}}]}
    assert error_for(body).param == param
