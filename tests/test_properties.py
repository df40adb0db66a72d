"""Properties of the translation, checked on generated bodies (hypothesis).

* Lossless subset: chat → responses → chat (and responses → chat → responses)
  gives back the very same body, reports no loss, and every body on the way is
  one the API accepts (``check_request``).
* Everything else: each element the other API cannot carry gets a loss entry
  at its exact JSONPath, nothing else is reported, the translated body is
  still valid, and ``strict=True`` refuses it listing that path.
* Results: a ChatCompletion → Response is a valid Response, and back gives the
  same content, refusal, tool calls, finish_reason and token counts.

Minimal examples of what these properties found are kept below as regression
tests; the strategies leave out only forms the other API cannot give back
unchanged (see tests/strategies.py).
"""

from __future__ import annotations

import copy
import os
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from migrator import StrictModeError, translate
from tests import strategies as S
from tests.sdk_shapes import check_request, check_result

JsonDict = dict[str, Any]

# A few seconds for the whole file; MIGRATOR_PROPERTY_EXAMPLES=2000 for a long hunt.
PROPERTY = settings(max_examples=int(os.environ.get("MIGRATOR_PROPERTY_EXAMPLES", "60")), deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])


def _paths(losses: Any) -> set[str]:
    return {loss.path for loss in losses}


# ---------------------------------------------------------------- (a) chat round trip


@PROPERTY
@given(S.chat_requests())
def test_chat_request_round_trips_unchanged(body: JsonDict) -> None:
    original = copy.deepcopy(body)
    check_request(body, "chat")  # the generator draws only bodies the API accepts

    forward = translate(body, to="responses")
    assert forward.losses == []
    check_request(forward.body, "responses")

    back = translate(forward.body, to="chat")
    assert back.losses == []
    check_request(back.body, "chat")
    assert back.body == original
    assert body == original, "translate() changed its input"


# ------------------------------------------------------------ (b) chat lossy elements


@PROPERTY
@given(S.lossy_chat_requests())
def test_every_lossy_chat_element_is_reported_at_its_path(case: tuple[JsonDict, set[str]]) -> None:
    body, expected = case
    original = copy.deepcopy(body)

    result = translate(body, to="responses")
    reported = _paths(result.losses)
    assert expected <= reported, f"no loss entry at {sorted(expected - reported)}; reported {sorted(reported)}"
    assert reported <= expected, f"losses reported for lossless elements: {sorted(reported - expected)}"
    check_request(result.body, "responses")  # what is left is still a valid request

    with pytest.raises(StrictModeError) as refused:
        translate(body, to="responses", strict=True)
    assert expected <= _paths(refused.value.losses)
    for path in expected:
        assert path in str(refused.value)
    assert body == original


# ----------------------------------------------------------- (c) responses round trip


def _normalised(body: JsonDict) -> JsonDict:
    """Equal forms: a string input is one user message; function_call item ids are output-only and minted;
    an assistant message item may spell its ``type`` (the engine writes it) or leave it out."""
    out = copy.deepcopy(body)
    if isinstance(out.get("input"), str):
        out["input"] = [{"role": "user", "content": out["input"]}]
    for item in out.get("input", []):
        if item.get("type") == "function_call" and "id" in item:
            assert item["id"].startswith("fc_"), item
            del item["id"]
        if item.get("role") == "assistant" and item.get("type") == "message" and "id" not in item:
            del item["type"]
    return out


@PROPERTY
@given(S.responses_requests())
def test_responses_request_round_trips_unchanged(body: JsonDict) -> None:
    original = copy.deepcopy(body)
    check_request(body, "responses")

    forward = translate(body, to="chat")
    assert forward.losses == []
    check_request(forward.body, "chat")

    back = translate(forward.body, to="responses")
    assert back.losses == []
    check_request(back.body, "responses")
    assert _normalised(back.body) == _normalised(original)
    assert translate(forward.body, to="responses").body == back.body, "minted item ids are not deterministic"
    assert body == original, "translate() changed its input"


@PROPERTY
@given(S.responses_requests(instructions=True))
def test_responses_instructions_round_trip_with_hoist_system(body: JsonDict) -> None:
    """instructions become a leading system message; hoist_system=True turns it back."""
    forward = translate(body, to="chat")
    assert forward.losses == []
    assert forward.body["messages"][0] == {"role": "system", "content": body["instructions"]}
    check_request(forward.body, "chat")

    back = translate(forward.body, to="responses", hoist_system=True)
    assert back.losses == []
    check_request(back.body, "responses")
    assert _normalised(back.body) == _normalised(body)


@PROPERTY
@given(S.lossy_responses_requests())
def test_every_lossy_responses_element_is_reported_at_its_path(case: tuple[JsonDict, set[str]]) -> None:
    body, expected = case
    result = translate(body, to="chat")
    reported = _paths(result.losses)
    assert expected <= reported, f"no loss entry at {sorted(expected - reported)}; reported {sorted(reported)}"
    assert reported <= expected, f"losses reported for lossless elements: {sorted(reported - expected)}"
    check_request(result.body, "chat")

    with pytest.raises(StrictModeError) as refused:
        translate(body, to="chat", strict=True)
    assert expected <= _paths(refused.value.losses)


# ----------------------------------------------------------------------- (d) results


def _usage_numbers(usage: JsonDict) -> dict[str, int]:
    prompt = usage.get("prompt_tokens_details") or {}
    completion = usage.get("completion_tokens_details") or {}
    return {
        "prompt_tokens": usage["prompt_tokens"],
        "completion_tokens": usage["completion_tokens"],
        "total_tokens": usage["total_tokens"],
        "cached_tokens": prompt.get("cached_tokens") or 0,
        "cache_write_tokens": prompt.get("cache_write_tokens") or 0,
        "reasoning_tokens": completion.get("reasoning_tokens") or 0,
    }


@PROPERTY
@given(S.chat_completions())
def test_chat_completion_round_trips_through_a_response(body: JsonDict) -> None:
    check_result(body, "chat")

    forward = translate(body, to="responses")
    assert forward.losses == []
    check_result(forward.body, "responses")
    usage = forward.body["usage"]
    assert (usage["input_tokens"], usage["output_tokens"], usage["total_tokens"]) == (
        body["usage"]["prompt_tokens"], body["usage"]["completion_tokens"], body["usage"]["total_tokens"])

    back = translate(forward.body, to="chat")
    assert back.losses == []
    check_result(back.body, "chat")

    sent, got = body["choices"][0], back.body["choices"][0]
    assert got["finish_reason"] == sent["finish_reason"]
    sent_message = dict(sent["message"])
    if sent_message.get("content") == "" and sent_message.get("tool_calls"):
        sent_message["content"] = None  # "" beside tool calls is no message item: it reads back as null, as OpenAI sends it
    for key in ("content", "refusal", "tool_calls", "annotations"):
        assert got["message"].get(key) == sent_message.get(key), key
    assert _usage_numbers(back.body["usage"]) == _usage_numbers(body["usage"])
    assert back.body["model"] == body["model"]
    assert back.body["created"] == body["created"]
    assert back.body["service_tier"] == body.get("service_tier", "default"), "a tier left unsaid reads back as the API's default"




@PROPERTY
@given(S.chat_completions(), S.chat_requests())
def test_chat_completion_with_its_request_is_a_valid_response(body: JsonDict, request: JsonDict) -> None:
    """With ``request=``, the Response echoes the request's parameters, as the API does."""
    result = translate(body, to="responses", request=request)
    assert result.losses == []
    check_result(result.body, "responses")
    forward = translate(request, to="responses").body
    for key in ("tools", "tool_choice", "temperature", "top_p", "text", "reasoning", "max_output_tokens"):
        if key in forward:
            assert result.body[key] == _as_echoed(key, forward[key]), key


def _as_echoed(key: str, value: Any) -> Any:
    """A request parameter as a Response echoes it: nested objects carry every field, null where unset."""
    if key == "tools":
        return [{"description": None, **t} if t.get("type") == "function" else t for t in value]
    if key == "text":
        text = {"format": {"type": "text"}, "verbosity": "medium", **{k: v for k, v in value.items() if v is not None}}
        if text["format"].get("type") == "json_schema":
            text["format"] = {"description": None, "strict": False, **{k: v for k, v in text["format"].items() if v is not None}}
        return text
    if key == "reasoning":
        return {"effort": None, "summary": None, **value}
    return value


# -------------------------------------------------------------- minimal examples


def _round_trip(body: JsonDict) -> JsonDict:
    return translate(translate(body, to="responses").body, to="chat").body


def test_tool_calls_after_assistant_message_merge() -> None:
    """Responses has no boundary between an assistant message and the calls after it: either the
    round trip keeps the two chat messages apart, or the merge is reported where it happens."""
    body = {"model": "gpt-4o", "store": False, "messages": [
        {"role": "assistant", "content": "a"},
        {"role": "assistant", "content": None, "tool_calls": [
            {"id": "call_1", "type": "function", "function": {"name": "f", "arguments": "{}"}}]},
        {"role": "tool", "tool_call_id": "call_1", "content": ""},
    ]}
    assert _round_trip(body) == body or "$.messages[1].tool_calls" in _paths(translate(body, to="responses").losses)


def test_unknown_key_paths_are_jsonpath() -> None:
    """Keys that are not identifiers get the bracket form, quoted as RFC 9535 normalized paths quote them."""
    body = {"model": "gpt-4o", "store": False, "messages": [{"role": "user", "content": "hi", "x-y": 1}], "a b": 1}
    assert _paths(translate(body, to="responses").losses) == {"$['a b']", "$.messages[0]['x-y']"}


@pytest.mark.parametrize(("key", "path"), [("it's", "$['it\\'s']"), ("a\\b", "$['a\\\\b']"), ("\x01", "$['\\u0001']"),
                                         ("\n", "$['\\n']"), ("é", "$['é']")])
def test_unknown_key_paths_quote_like_jsonpath(key: str, path: str) -> None:
    """RFC 9535 normalized paths: single quotes; quote, backslash and control characters escaped."""
    assert S.child_path("$", key) == path
    body = {"model": "gpt-4o", "store": False, "messages": [{"role": "user", "content": "hi"}], key: 1}
    assert _paths(translate(body, to="responses").losses) == {path}



def test_empty_content_list_is_reported() -> None:
    body = {"model": "gpt-4o", "store": False, "messages": [{"role": "user", "content": []}, {"role": "user", "content": "hi"}]}
    result = translate(body, to="responses")
    assert "$.messages[0].content" in _paths(result.losses) or len(result.body["input"]) == 2


def test_empty_file_part_is_kept_or_reported() -> None:
    body = {"model": "gpt-4o", "store": False,
            "input": [{"role": "user", "content": [{"type": "input_text", "text": "a"}, {"type": "input_file"}]}]}
    check_request(body, "responses")
    result = translate(body, to="chat")
    assert "$.input[0].content[1]" in _paths(result.losses) or result.body["messages"][0]["content"][1] == {"type": "file", "file": {}}


def _completion(message: JsonDict, finish_reason: str) -> JsonDict:
    return {"id": "chatcmpl-1", "object": "chat.completion", "created": 1_700_000_000, "model": "gpt-4o",
            "choices": [{"index": 0, "message": message, "finish_reason": finish_reason, "logprobs": None}]}


def test_stop_with_tool_calls_keeps_its_finish_reason() -> None:
    body = _completion({"role": "assistant", "content": None, "refusal": None, "tool_calls": [
        {"id": "call_1", "type": "function", "function": {"name": "f", "arguments": "{}"}}]}, "stop")
    forward = translate(body, to="responses")
    back = translate(forward.body, to="chat")
    assert back.body["choices"][0]["finish_reason"] == "stop" or forward.losses


def test_null_content_stays_null() -> None:
    body = _completion({"role": "assistant", "content": None, "refusal": None}, "content_filter")
    back = translate(translate(body, to="responses").body, to="chat")
    assert back.body["choices"][0]["message"]["content"] is None


def test_assistant_cache_breakpoint_is_reported() -> None:
    """An output_text part has no prompt_cache_breakpoint, so dropping one from assistant history is a loss."""
    body = {"model": "gpt-4o", "store": False, "messages": [
        {"role": "assistant", "content": [{"type": "text", "text": "a", "prompt_cache_breakpoint": {"mode": "explicit"}}]}]}
    check_request(body, "chat")
    assert "$.messages[0].content[0].prompt_cache_breakpoint" in _paths(translate(body, to="responses").losses)
