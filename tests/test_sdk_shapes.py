"""Proves the shape checker fails where the real API (or the SDK's parser) would.

A validator that passes everything is worse than none: every test of the
mapping engine leans on it.  So each rule gets a body that must fail, next to
realistic bodies that must pass.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openai.types.chat import ChatCompletion

from tests import sdk_shapes
from tests.sdk_shapes import (
    ShapeError,
    check_chunk,
    check_event,
    check_request,
    check_result,
)

JsonDict = dict[str, Any]

# --------------------------------------------------------------------------- fixtures

WEATHER_SCHEMA: JsonDict = {
    "type": "object",
    "properties": {"city": {"type": "string"}, "days": {"type": "integer"}},
    "required": ["city", "days"],
    "additionalProperties": False,
}

CHAT_MINIMAL: JsonDict = {
    "model": "gpt-4o-mini",
    "messages": [{"role": "user", "content": "hi"}],
}

CHAT_RICH: JsonDict = {
    "model": "gpt-4o",
    "messages": [
        {"role": "developer", "content": "Be terse."},
        {"role": "system", "content": [{"type": "text", "text": "Use metric units."}]},
        {
            "role": "user",
            "name": "ann",
            "content": [
                {"type": "text", "text": "What is in this picture and this file?"},
                {
                    "type": "image_url",
                    "image_url": {"url": "https://example.com/a.png", "detail": "high"},
                },
                {
                    "type": "file",
                    "file": {"file_id": "file-abc", "filename": "report.pdf"},
                },
                {
                    "type": "input_audio",
                    "input_audio": {"data": "UklGRg==", "format": "wav"},
                },
            ],
        },
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": '{"city":"Oslo"}'},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "call_1", "content": "12C, rain"},
        {
            "role": "assistant",
            "content": [{"type": "text", "text": "It rains."}],
            "refusal": None,
        },
    ],
    "tools": [
        {
            "type": "function",
            "function": {
                "name": "get_weather",
                "description": "Weather by city",
                "parameters": WEATHER_SCHEMA,
                "strict": True,
            },
        },
        {"type": "custom", "custom": {"name": "sql", "description": "Run SQL"}},
    ],
    "tool_choice": {"type": "function", "function": {"name": "get_weather"}},
    "response_format": {
        "type": "json_schema",
        "json_schema": {"name": "weather", "schema": WEATHER_SCHEMA, "strict": True},
    },
    "parallel_tool_calls": False,
    "temperature": 1,  # int where the SDK says float: JSON cannot tell them apart
    "top_p": 0.9,
    "max_completion_tokens": 256,
    "stop": ["\n\n", "END"],
    "metadata": {"run": "42"},
    "logit_bias": {"50256": -100},
    "reasoning_effort": "low",
    "seed": 7,
    "store": False,
    "user": "u-1",
}

CHAT_STREAMING: JsonDict = {
    **CHAT_MINIMAL,
    "stream": True,
    "stream_options": {"include_usage": True},
}

RESPONSES_MINIMAL: JsonDict = {"model": "gpt-4o-mini", "input": "hi"}

RESPONSES_RICH: JsonDict = {
    "model": "o4-mini",
    "instructions": "Be terse.",
    "input": [
        {"role": "developer", "content": "Use metric units."},
        {
            "type": "message",
            "role": "user",
            "content": [
                {
                    "type": "input_text",
                    "text": "Weather in Oslo? See picture and file.",
                },
                {
                    "type": "input_image",
                    "image_url": "https://example.com/a.png",
                    "detail": "auto",
                },
                {"type": "input_file", "file_id": "file-abc"},
            ],
        },
        {
            "type": "reasoning",
            "id": "rs_1",
            "summary": [{"type": "summary_text", "text": "Need the weather tool."}],
            "encrypted_content": "gAAAA",
        },
        {
            "type": "function_call",
            "id": "fc_1",
            "call_id": "call_1",
            "name": "get_weather",
            "arguments": '{"city":"Oslo"}',
            "status": "completed",
        },
        {"type": "function_call_output", "call_id": "call_1", "output": "12C, rain"},
        {
            "type": "function_call_output",
            "call_id": "call_2",
            "output": [{"type": "input_text", "text": "structured output"}],
        },
        {
            "type": "message",
            "role": "assistant",
            "id": "msg_1",
            "status": "completed",
            "content": [
                {"type": "output_text", "text": "It rains.", "annotations": []}
            ],
        },
        {"type": "item_reference", "id": "msg_0"},
    ],
    "tools": [
        {
            "type": "function",
            "name": "get_weather",
            "description": "Weather by city",
            "parameters": WEATHER_SCHEMA,
            "strict": True,
        },
        {
            "type": "web_search",
            "search_context_size": "low",
            "user_location": {"type": "approximate", "country": "NO"},
        },
    ],
    "tool_choice": {"type": "function", "name": "get_weather"},
    "text": {
        "format": {
            "type": "json_schema",
            "name": "weather",
            "schema": WEATHER_SCHEMA,
            "strict": True,
        },
        "verbosity": "low",
    },
    "reasoning": {"effort": "medium", "summary": "auto"},
    "include": ["reasoning.encrypted_content"],
    "max_output_tokens": 512,
    "parallel_tool_calls": True,
    "store": False,
    "temperature": 0.2,
    "metadata": {"run": "42"},
}

CHAT_COMPLETION: JsonDict = {
    "id": "chatcmpl-1",
    "object": "chat.completion",
    "created": 1_700_000_000,
    "model": "gpt-4o-2024-08-06",
    "choices": [
        {
            "index": 0,
            "finish_reason": "tool_calls",
            "logprobs": None,
            "message": {
                "role": "assistant",
                "content": None,
                "refusal": None,
                "annotations": [],
                "tool_calls": [
                    {
                        "id": "call_1",
                        "type": "function",
                        "function": {"name": "get_weather", "arguments": "{}"},
                    }
                ],
            },
        }
    ],
    "usage": {
        "prompt_tokens": 10,
        "completion_tokens": 5,
        "total_tokens": 15,
        "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
        "completion_tokens_details": {"reasoning_tokens": 0},
    },
    "service_tier": "default",
    "system_fingerprint": "fp_1",
}

RESPONSE: JsonDict = {
    "id": "resp_1",
    "object": "response",
    "created_at": 1_700_000_000,
    "status": "completed",
    "model": "o4-mini-2025-04-16",
    "output": [
        {
            "type": "reasoning",
            "id": "rs_1",
            "summary": [{"type": "summary_text", "text": "Thinking."}],
        },
        {
            "type": "message",
            "id": "msg_1",
            "role": "assistant",
            "status": "completed",
            "content": [
                {
                    "type": "output_text",
                    "text": "It rains.",
                    "annotations": [
                        {
                            "type": "url_citation",
                            "url": "https://met.no",
                            "title": "MET",
                            "start_index": 0,
                            "end_index": 9,
                        }
                    ],
                }
            ],
        },
        {
            "type": "function_call",
            "id": "fc_1",
            "call_id": "call_1",
            "name": "get_weather",
            "arguments": "{}",
            "status": "completed",
        },
    ],
    "parallel_tool_calls": True,
    "tool_choice": "auto",
    "tools": [
        {
            "type": "function",
            "name": "get_weather",
            "parameters": WEATHER_SCHEMA,
            "strict": True,
        }
    ],
    "text": {
        "format": {
            "type": "json_schema",
            "name": "weather",
            "schema": WEATHER_SCHEMA,
            "strict": True,
        }
    },
    "temperature": 1.0,
    "top_p": 1.0,
    "incomplete_details": None,
    "error": None,
    "usage": {
        "input_tokens": 20,
        "input_tokens_details": {"cached_tokens": 0, "cache_write_tokens": 0},
        "output_tokens": 8,
        "output_tokens_details": {"reasoning_tokens": 4},
        "total_tokens": 28,
    },
}

CHUNK: JsonDict = {
    "id": "chatcmpl-1",
    "object": "chat.completion.chunk",
    "created": 1_700_000_000,
    "model": "gpt-4o",
    "choices": [
        {
            "index": 0,
            "delta": {
                "role": "assistant",
                "tool_calls": [
                    {
                        "index": 0,
                        "id": "call_1",
                        "type": "function",
                        "function": {"name": "get_weather", "arguments": ""},
                    }
                ],
            },
            "finish_reason": None,
            "logprobs": None,
        }
    ],
    "obfuscation": "xyz",
}

TEXT_DELTA_EVENT: JsonDict = {
    "type": "response.output_text.delta",
    "item_id": "msg_1",
    "output_index": 1,
    "content_index": 0,
    "delta": "It ",
    "logprobs": [],
    "sequence_number": 5,
}

ITEM_ADDED_EVENT: JsonDict = {
    "type": "response.output_item.added",
    "output_index": 2,
    "sequence_number": 3,
    "item": {
        "type": "function_call",
        "id": "fc_1",
        "call_id": "call_1",
        "name": "get_weather",
        "arguments": "",
        "status": "in_progress",
    },
}

COMPLETED_EVENT: JsonDict = {
    "type": "response.completed",
    "sequence_number": 9,
    "response": RESPONSE,
}


def _problems(check: Callable[..., None], *args: Any, **kwargs: Any) -> list[str]:
    """Run a check that must fail and hand back its findings for precise assertions."""
    with pytest.raises(ShapeError) as info:
        check(*args, **kwargs)
    assert info.value.problems, "ShapeError without problems"
    return info.value.problems


def _mutated(body: JsonDict, edit: Callable[[JsonDict], object]) -> JsonDict:
    clone = copy.deepcopy(body)
    edit(clone)
    return clone


# ------------------------------------------------------------------ valid bodies pass


@pytest.mark.parametrize(
    ("body", "api"),
    [
        (CHAT_MINIMAL, "chat"),
        (CHAT_RICH, "chat"),
        (CHAT_STREAMING, "chat"),
        (RESPONSES_MINIMAL, "responses"),
        (RESPONSES_RICH, "responses"),
        ({**RESPONSES_RICH, "stream": True}, "responses"),
    ],
    ids=[
        "chat-min",
        "chat-rich",
        "chat-stream",
        "resp-min",
        "resp-rich",
        "resp-stream",
    ],
)
def test_valid_requests_pass(body: JsonDict, api: sdk_shapes.Api) -> None:
    check_request(body, api)


def test_valid_results_chunks_and_events_pass() -> None:
    check_result(CHAT_COMPLETION, "chat")
    check_result(RESPONSE, "responses")
    check_chunk(CHUNK)
    for event in (TEXT_DELTA_EVENT, ITEM_ADDED_EVENT, COMPLETED_EVENT):
        check_event(event)


def test_checking_does_not_mutate_bodies() -> None:
    before = copy.deepcopy(RESPONSES_RICH)
    check_request(RESPONSES_RICH, "responses")
    assert before == RESPONSES_RICH


# ---------------------------------------------------------------------- requests fail


def test_unknown_top_level_key_fails() -> None:
    problems = _problems(check_request, {**CHAT_MINIMAL, "input": "hi"}, "chat")
    assert problems == ["$: unknown key 'input' for CompletionCreateParamsNonStreaming"]
    problems = _problems(
        check_request, {**RESPONSES_MINIMAL, "messages": []}, "responses"
    )
    assert problems == [
        "$: unknown key 'messages' for ResponseCreateParamsNonStreaming"
    ]


def test_unknown_key_in_content_part_fails() -> None:
    body = _mutated(
        CHAT_RICH, lambda b: b["messages"][2]["content"][1].update(cache_control={})
    )
    assert _problems(check_request, body, "chat") == [
        (
            "$.messages[2].content[1]: unknown key 'cache_control'"
            " for ChatCompletionContentPartImageParam"
        )
    ]
    body = _mutated(
        RESPONSES_RICH,
        lambda b: b["input"][1]["content"][0].update(annotations=[]),
    )
    problems = _problems(check_request, body, "responses")
    assert (
        "$.input[1].content[0]: unknown key 'annotations' for ResponseInputTextParam"
        in problems
    )


def test_unknown_key_on_easy_message_names_the_closest_branch() -> None:
    body = _mutated(RESPONSES_RICH, lambda b: b["input"][0].update(annotations=[]))
    problems = _problems(check_request, body, "responses")
    assert "$.input[0]: unknown key 'annotations' for EasyInputMessageParam" in problems


def test_wrong_role_literal_fails() -> None:
    body = {**CHAT_MINIMAL, "messages": [{"role": "robot", "content": "beep"}]}
    (problem,) = _problems(check_request, body, "chat")
    assert problem.startswith("$.messages[0].role: expected 'developer' | 'system'")
    assert problem.endswith("found 'robot'")
    body = {**RESPONSES_MINIMAL, "input": [{"role": "robot", "content": "beep"}]}
    (problem,) = _problems(check_request, body, "responses")
    assert problem.startswith("$.input[0].role: expected 'user' | 'assistant'")


def test_wrong_type_discriminator_fails() -> None:
    body = _mutated(RESPONSES_RICH, lambda b: b["input"].append({"type": "bogus"}))
    (problem,) = _problems(check_request, body, "responses")
    assert problem.startswith("$.input[8].type: expected 'message' |")
    assert "'function_call_output'" in problem
    assert problem.endswith("found 'bogus'")


def test_missing_discriminator_is_named() -> None:
    body = {**CHAT_MINIMAL, "tool_choice": {"function": {"name": "get_weather"}}}
    (problem,) = _problems(check_request, body, "chat")
    assert problem.startswith(
        "$.tool_choice: missing discriminator key 'type', needed to pick one of"
    )


def test_shape_error_is_an_assertion_listing_every_problem() -> None:
    with pytest.raises(AssertionError) as info:
        check_request({"model": 4, "messages": [], "x": 1}, "chat")
    text = str(info.value)
    assert text.startswith("chat request (CompletionCreateParamsNonStreaming): 2 shape")
    assert "  - $.model: expected str, found 4" in text
    assert "  - $: unknown key 'x' for CompletionCreateParamsNonStreaming" in text


def test_missing_required_key_fails() -> None:
    body = _mutated(RESPONSES_RICH, lambda b: b["input"][1]["content"][1].pop("detail"))
    problems = _problems(check_request, body, "responses")
    assert (
        "$.input[1].content[1]: missing required key 'detail'"
        " for ResponseInputImageParam" in problems
    )
    assert _problems(check_request, {"model": "gpt-4o"}, "chat") == [
        "$: missing required key 'messages' for CompletionCreateParamsNonStreaming"
    ]


def test_bool_is_not_int_and_int_is_not_bool() -> None:
    body = {**CHAT_MINIMAL, "max_completion_tokens": True, "parallel_tool_calls": 1}
    assert _problems(check_request, body, "chat") == [
        "$.max_completion_tokens: expected int | None, found True",
        "$.parallel_tool_calls: expected bool, found 1",
    ]


def test_float_is_not_int_and_json_has_no_nan() -> None:
    body = {**CHAT_MINIMAL, "n": 1.0, "temperature": math.nan}
    problems = _problems(check_request, body, "chat")
    assert problems[0] == "$.n: expected int | None, found 1.0"
    assert problems[1].startswith("$.temperature: expected a finite number")


def test_wrong_scalar_names_expected_and_found() -> None:
    body = _mutated(CHAT_RICH, lambda b: b["tools"][0]["function"].update(strict="yes"))
    assert _problems(check_request, body, "chat") == [
        "$.tools[0].function.strict: expected bool | None, found 'yes'"
    ]


def test_every_problem_is_reported() -> None:
    body = _mutated(
        CHAT_RICH,
        lambda b: (
            b.update(bogus=1),
            b["messages"][0].update(role="robot"),
            b["tools"][0]["function"].pop("name"),
        ),
    )
    problems = _problems(check_request, body, "chat")
    assert len(problems) == 3
    assert any(p.startswith("$.messages[0].role:") for p in problems)
    assert "$: unknown key 'bogus' for CompletionCreateParamsNonStreaming" in problems
    assert (
        "$.tools[0].function: missing required key 'name' for FunctionDefinition"
        in problems
    )


def test_streaming_flag_selects_streaming_params() -> None:
    problems = _problems(check_request, {**CHAT_MINIMAL, "stream": 1}, "chat")
    assert problems == ["$.stream: expected True, found 1"]
    # stream_options only makes sense when streaming, but the SDK allows it on both.
    check_request({**CHAT_MINIMAL, "stream": False}, "chat")
    check_request({**CHAT_MINIMAL, "stream": None}, "chat")


def test_reserved_keyword_key_from_functional_typeddict() -> None:
    tool = {**RESPONSES_RICH["tools"][0], "async": True}
    check_request({**RESPONSES_MINIMAL, "tools": [tool]}, "responses")
    tool = {**RESPONSES_RICH["tools"][0], "async_": True}
    assert _problems(
        check_request, {**RESPONSES_MINIMAL, "tools": [tool]}, "responses"
    ) == ["$.tools[0]: unknown key 'async_' for FunctionToolParam"]


def test_iterables_must_be_real_lists_and_fully_checked() -> None:
    def messages() -> Iterator[JsonDict]:
        yield {"role": "user", "content": "hi"}

    problems = _problems(
        check_request, {**CHAT_MINIMAL, "messages": messages()}, "chat"
    )
    assert problems[0].startswith("$.messages: expected list[")
    assert "found generator" in problems[0]
    # the bad element sits last: a lazy check would never reach it
    many = [{"role": "user", "content": "hi"}] * 50 + [{"role": "user", "content": 3}]
    (problem,) = _problems(check_request, {**CHAT_MINIMAL, "messages": many}, "chat")
    assert problem.startswith("$.messages[50].content: expected str | list[")
    assert problem.endswith("found 3")


def test_free_form_json_must_be_json() -> None:
    body = _mutated(
        CHAT_RICH,
        lambda b: b["tools"][0]["function"].update(parameters={"enum": {"a", "b"}}),
    )
    (problem,) = _problems(check_request, body, "chat")
    assert problem.startswith(
        "$.tools[0].function.parameters.enum: expected a JSON value"
    )


def test_closest_branch_is_reported_when_no_discriminator_decides() -> None:
    # ``type: message`` fits three input-item variants; problems must stay precise.
    body = _mutated(
        RESPONSES_RICH, lambda b: b["input"][1]["content"][0].update(text=None)
    )
    problems = _problems(check_request, body, "responses")
    assert problems[0].startswith("$.input[1]: matches none of EasyInputMessageParam")
    assert "$.input[1].content[0].text: expected str, found None" in problems


def test_api_name_is_validated() -> None:
    with pytest.raises(ValueError, match="api must be"):
        check_request(CHAT_MINIMAL, "completions")  # type: ignore[arg-type]


# ----------------------------------------------------------------------- results fail


def test_chat_completion_with_unknown_message_key_fails() -> None:
    body = _mutated(
        CHAT_COMPLETION, lambda b: b["choices"][0]["message"].update(reasoning="...")
    )
    assert _problems(check_result, body, "chat") == [
        "$.choices[0].message: unknown key 'reasoning' for ChatCompletionMessage"
    ]
    check_result(body, "chat", allow_extra=frozenset({"reasoning"}))


def test_response_missing_cache_write_tokens_fails() -> None:
    body = _mutated(
        RESPONSE, lambda b: b["usage"]["input_tokens_details"].pop("cache_write_tokens")
    )
    assert _problems(check_result, body, "responses") == [
        (
            "$.usage.input_tokens_details: missing required key 'cache_write_tokens'"
            " for InputTokensDetails"
        )
    ]


def test_result_field_aliases_use_wire_names() -> None:
    # the SDK field is ``schema_`` with alias ``schema``; only the wire name is valid
    body = _mutated(
        RESPONSE,
        lambda b: b["text"]["format"].update(schema_=b["text"]["format"].pop("schema")),
    )
    problems = _problems(check_result, body, "responses")
    assert (
        "$.text.format: unknown key 'schema_' for ResponseFormatTextJSONSchemaConfig"
        in problems
    )
    assert (
        "$.text.format: missing required key 'schema'"
        " for ResponseFormatTextJSONSchemaConfig" in problems
    )


def test_result_type_errors() -> None:
    body = _mutated(CHAT_COMPLETION, lambda b: b.update(created=1.5, object="chat"))
    assert _problems(check_result, body, "chat") == [
        "$.object: expected 'chat.completion', found 'chat'",
        "$.created: expected int, found 1.5",
    ]


def test_pydantic_safety_net_maps_locations_to_json_paths() -> None:
    body = _mutated(CHAT_COMPLETION, lambda b: b["choices"][0].pop("index"))
    problems = sdk_shapes._pydantic_problems(ChatCompletion, body)
    (problem,) = problems
    assert problem.startswith("$.choices[0].index: Field required, found object {")
    assert problem.endswith("[pydantic]")


# ----------------------------------------------------------------------- streams fail


def test_chunk_failures() -> None:
    body = _mutated(
        CHUNK, lambda b: b["choices"][0]["delta"].update(reasoning_content="x")
    )
    assert _problems(check_chunk, body) == [
        "$.choices[0].delta: unknown key 'reasoning_content' for ChoiceDelta"
    ]
    body = _mutated(
        CHUNK, lambda b: b["choices"][0]["delta"]["tool_calls"][0].pop("index")
    )
    assert _problems(check_chunk, body) == [
        (
            "$.choices[0].delta.tool_calls[0]: missing required key 'index'"
            " for ChoiceDeltaToolCall"
        )
    ]
    assert _problems(check_chunk, {**CHUNK, "object": "chat.completion"}) == [
        "$.object: expected 'chat.completion.chunk', found 'chat.completion'"
    ]


def test_event_failures() -> None:
    (problem,) = _problems(
        check_event, {**TEXT_DELTA_EVENT, "type": "response.text.delta"}
    )
    assert problem.startswith("$.type: expected 'response.audio.delta' |")
    assert _problems(check_event, {**TEXT_DELTA_EVENT, "sequence_number": "5"}) == [
        "$.sequence_number: expected int, found '5'"
    ]
    body = _mutated(TEXT_DELTA_EVENT, lambda b: b.pop("logprobs"))
    assert _problems(check_event, body) == [
        "$: missing required key 'logprobs' for ResponseTextDeltaEvent"
    ]
    body = _mutated(ITEM_ADDED_EVENT, lambda b: b["item"].update(output="x"))
    assert _problems(check_event, body) == [
        "$.item: unknown key 'output' for ResponseFunctionToolCall"
    ]
    body = _mutated(
        COMPLETED_EVENT,
        lambda b: b["response"]["output"][1]["content"][0].pop("annotations"),
    )
    assert _problems(check_event, body) == [
        (
            "$.response.output[1].content[0]: missing required key 'annotations'"
            " for ResponseOutputText"
        )
    ]


def test_event_obfuscation_needs_allow_extra() -> None:
    # SDK quirk: the API sends ``obfuscation`` on delta events by default, the SDK
    # model for text deltas does not declare it.
    body = {**TEXT_DELTA_EVENT, "obfuscation": "abc"}
    assert _problems(check_event, body) == [
        "$: unknown key 'obfuscation' for ResponseTextDeltaEvent"
    ]
    check_event(body, allow_extra=frozenset({"obfuscation"}))


# ------------------------------------------------------------------------- robustness


_json = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)
    | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(
            st.sampled_from(["type", "role", "content", "text", "x"]), inner, max_size=3
        )
    ),
    max_leaves=8,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(messages=_json, tools=_json, item=_json)
def test_arbitrary_json_never_crashes_the_checker(
    messages: object, tools: object, item: object
) -> None:
    for check, body in (
        (
            lambda b: check_request(b, "chat"),
            {**CHAT_MINIMAL, "messages": messages, "tools": tools},
        ),
        (
            lambda b: check_request(b, "responses"),
            {**RESPONSES_MINIMAL, "input": [item], "tools": tools},
        ),
        (lambda b: check_result(b, "responses"), {**RESPONSE, "output": [item]}),
        (check_event, {**ITEM_ADDED_EVENT, "item": item}),
    ):
        try:
            check(body)
        except ShapeError as exc:
            assert exc.problems
            assert all(p.startswith("$") for p in exc.problems)
