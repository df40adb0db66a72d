"""Stream translation, both ways: event order, ids, indexes, terminal events, incrementality,
breaks, shapes, the SDK's own stream readers, and the recorded-style fixtures through the CLI.

The minimal examples of defects found by the properties (test_stream_properties.py) stay at
the end of the file as regression tests; a new one is fixed, not marked xfail.
"""

from __future__ import annotations

import asyncio
import gc
import io
import json
import tracemalloc
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import openai
import pytest

from migrator import translate
from migrator.cli import main
from migrator.streams import (
    StreamError,
    StreamTranslator,
    atranslate_sse,
    atranslate_stream,
    translate_sse,
    translate_stream,
)
from migrator.streams.sse import iter_sse
from tests.sdk_shapes import check_event
from tests.stream_helpers import (
    CHAT_USAGE,
    CREATED,
    MODEL,
    RESPONSES_USAGE,
    Tripwire,
    assemble_chat,
    base_response,
    call_item,
    chat_sse,
    check_chat_stream,
    check_response_stream,
    chunk,
    decode_chat_sse,
    decode_responses_sse,
    message_item,
    message_view,
    response_events,
    responses_sse,
    sdk_client,
    terminal,
    text_stream,
    usage_chunk,
)

JsonDict = dict[str, Any]
FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "streams"


def to_responses(frames: list[JsonDict], **kw: Any) -> list[JsonDict]:
    events = list(translate_stream(frames, "responses", **kw))
    check_response_stream(events)
    return events


def to_chat(events: list[JsonDict], **kw: Any) -> list[JsonDict]:
    chunks = list(translate_stream(events, "chat", **kw))
    check_chat_stream(chunks, include_usage=kw.get("include_usage", False))
    return chunks


def types(events: list[JsonDict]) -> list[str]:
    return [e["type"].removeprefix("response.") for e in events]


def call_chunk(index: int, *, id: str | None = None, name: str | None = None, args: str = "") -> JsonDict:
    frag: JsonDict = {"index": index, "function": {"arguments": args}}
    if id is not None:
        frag.update(id=id, type="function")
        frag["function"]["name"] = name
    return chunk({"tool_calls": [frag]})


ROLE = chunk({"role": "assistant", "content": "", "refusal": None})
ROLE_NULL = chunk({"role": "assistant", "content": None, "refusal": None})


# ============================================================================ chat → responses


def test_text_stream_event_order() -> None:
    events = to_responses(text_stream(["Hel", "lo"], usage=CHAT_USAGE))
    assert types(events) == [
        "created", "in_progress",
        "output_item.added", "content_part.added", "output_text.delta", "output_text.delta",
        "output_text.done", "content_part.done", "output_item.done",
        "completed",
    ]
    assert [e["sequence_number"] for e in events] == list(range(10))
    deltas = [e for e in events if e["type"] == "response.output_text.delta"]
    assert [d["delta"] for d in deltas] == ["Hel", "lo"] and all(d["logprobs"] == [] for d in deltas)
    final = terminal(events)
    assert final["status"] == "completed" and final["model"] == MODEL and final["created_at"] == CREATED
    assert final["output"] == [{"id": final["output"][0]["id"], "type": "message", "status": "completed", "role": "assistant",
                                "content": [{"type": "output_text", "text": "Hello", "annotations": []}]}]
    assert final["usage"] == {"input_tokens": 19, "input_tokens_details": {"cached_tokens": 3, "cache_write_tokens": 0},
                              "output_tokens": 10, "output_tokens_details": {"reasoning_tokens": 4}, "total_tokens": 29}


def test_ids_are_derived_from_the_chunk_id_like_the_non_stream_translation() -> None:
    frames = text_stream(["Hi"])
    final = terminal(to_responses(frames))
    expected = translate(assemble_chat(frames), "responses").body
    assert final["id"] == expected["id"] and final["id"].startswith("resp_")
    assert final["output"][0]["id"] == expected["output"][0]["id"] and final["output"][0]["id"].startswith("msg_")
    other = terminal(to_responses([chunk({"content": "Hi"}, id="chatcmpl-other"), chunk({}, finish="stop", id="chatcmpl-other")]))
    assert other["id"] != final["id"] and other["output"][0]["id"] != final["output"][0]["id"]


def test_the_terminal_event_waits_for_the_trailing_usage_chunk() -> None:
    translator = StreamTranslator("responses")
    out = []
    for frame in text_stream(["Hi"]):
        out += translator.feed(frame)
    assert out[-1]["type"] == "response.output_item.done", "nothing terminal until the usage chunk (or the end) comes"
    after_usage = translator.feed(usage_chunk(CHAT_USAGE))
    assert types(after_usage) == ["completed"]
    assert after_usage[0]["response"]["usage"]["total_tokens"] == 29
    assert translator.finish() == []
    assert not translator.broken and not translator.failed


def test_without_a_usage_chunk_the_terminal_event_comes_at_the_end() -> None:
    translator = StreamTranslator("responses")
    for frame in text_stream(["Hi"]):
        assert all(e["type"] != "response.completed" for e in translator.feed(frame))
    end = translator.finish()
    assert types(end) == ["completed"] and end[0]["response"]["usage"] is None


def test_usage_on_the_finish_chunk_ends_at_once() -> None:
    translator = StreamTranslator("responses")
    translator.feed(ROLE)
    translator.feed(chunk({"content": "Hi"}))
    out = translator.feed(chunk({}, finish="stop", usage=CHAT_USAGE))
    assert types(out)[-1] == "completed" and out[-1]["response"]["usage"]["input_tokens"] == 19


def test_null_usage_on_every_chunk_is_not_a_usage_chunk() -> None:
    frames = [{**f, "usage": None} for f in text_stream(["a", "b"])]
    events = to_responses([*frames, usage_chunk(CHAT_USAGE)])
    assert terminal(events)["usage"]["output_tokens"] == 10


def test_logprobs_are_carried_on_deltas_and_into_the_part() -> None:
    """The values; their shapes are test_chat_logprobs_become_valid_event_logprobs. Events have no `bytes`."""
    lp = [{"token": "Hi", "logprob": -0.1, "bytes": [72, 105], "top_logprobs": []}]
    frames = [ROLE, chunk({"content": "Hi"}, logprobs={"content": lp, "refusal": None}), chunk({}, finish="stop")]
    events = list(translate_stream(frames, "responses"))
    delta = next(e for e in events if e["type"] == "response.output_text.delta")
    assert delta["logprobs"] == [{"token": "Hi", "logprob": -0.1, "top_logprobs": []}]
    assert terminal(events)["output"][0]["content"][0]["logprobs"] == lp


def test_parallel_tool_calls_with_interleaved_fragments() -> None:
    frames = [
        ROLE_NULL,
        call_chunk(0, id="call_a", name="get_weather", args='{"ci'),
        call_chunk(1, id="call_b", name="get_time", args=""),
        call_chunk(1, args='{"tz": "Europe/'),
        call_chunk(0, args='ty": "Paris"}'),
        chunk({"tool_calls": [{"index": 1, "function": {"arguments": 'Paris"}'}}, {"index": 2, "id": "call_c", "type": "function",
                                                                                     "function": {"name": "noop", "arguments": "{}"}}]}),
        chunk({}, finish="tool_calls"),
        usage_chunk(CHAT_USAGE),
    ]
    events = to_responses(frames)
    added = [e for e in events if e["type"] == "response.output_item.added"]
    assert [(e["output_index"], e["item"]["id"], e["item"]["status"], e["item"]["arguments"]) for e in added] == [
        (0, "fc_call_a", "in_progress", ""), (1, "fc_call_b", "in_progress", ""), (2, "fc_call_c", "in_progress", "")]
    arg_deltas = [(e["output_index"], e["delta"]) for e in events if e["type"] == "response.function_call_arguments.delta"]
    assert arg_deltas == [(0, '{"ci'), (1, '{"tz": "Europe/'), (0, 'ty": "Paris"}'), (1, 'Paris"}'), (2, "{}")]
    dones = [(e["output_index"], e["arguments"]) for e in events if e["type"] == "response.function_call_arguments.done"]
    assert dones == [(0, '{"city": "Paris"}'), (1, '{"tz": "Europe/Paris"}'), (2, "{}")]
    final = terminal(events)
    assert final["status"] == "completed"
    assert [(o["call_id"], o["name"], o["arguments"], o["status"]) for o in final["output"]] == [
        ("call_a", "get_weather", '{"city": "Paris"}', "completed"), ("call_b", "get_time", '{"tz": "Europe/Paris"}', "completed"),
        ("call_c", "noop", "{}", "completed")]
    assert final == translate(assemble_chat(frames), "responses").body


def test_text_then_tool_call() -> None:
    frames = [ROLE, chunk({"content": "Let me look."}), call_chunk(0, id="call_x", name="lookup", args='{"q": 1}'),
              chunk({}, finish="tool_calls")]
    events = to_responses(frames)
    assert types(events)[2:] == [
        "output_item.added", "content_part.added", "output_text.delta", "output_text.done", "content_part.done", "output_item.done",
        "output_item.added", "function_call_arguments.delta", "function_call_arguments.done", "output_item.done", "completed"]
    assert terminal(events) == translate(assemble_chat(frames), "responses").body


def test_a_call_whose_name_comes_after_its_first_arguments() -> None:
    frames = [ROLE_NULL, chunk({"tool_calls": [{"index": 0, "id": "call_q", "type": "function", "function": {"arguments": '{"a"'}}]}),
              call_chunk(0, args=""), chunk({"tool_calls": [{"index": 0, "function": {"name": "f", "arguments": ": 1}"}}]}),
              chunk({}, finish="tool_calls")]
    final = terminal(to_responses(frames))
    assert [(o["name"], o["arguments"]) for o in final["output"]] == [("f", '{"a": 1}')]


def test_refusal_stream() -> None:
    frames = [ROLE_NULL, chunk({"refusal": "I can't"}), chunk({"refusal": " help with that."}), chunk({}, finish="stop")]
    events = to_responses(frames)
    assert types(events)[2:] == ["output_item.added", "content_part.added", "refusal.delta", "refusal.delta", "refusal.done",
                                 "content_part.done", "output_item.done", "completed"]
    part_added = events[3]["part"]
    assert part_added == {"type": "refusal", "refusal": ""}
    assert terminal(events)["output"][0]["content"] == [{"type": "refusal", "refusal": "I can't help with that."}]
    assert terminal(events) == translate(assemble_chat(frames), "responses").body


def test_custom_tool_calls_both_ways() -> None:
    """Custom (free-form) tool calls: custom_tool_call items and input events, and back.

    The chat side is compared by value only: the pinned SDK's ChoiceDeltaToolCall
    declares function calls alone (type "function", no ``custom`` key).
    """
    frames = [ROLE_NULL, chunk({"tool_calls": [{"index": 0, "id": "call_c", "type": "custom", "custom": {"name": "run", "input": "print("}}]}),
              chunk({"tool_calls": [{"index": 0, "custom": {"input": "1)"}}]}), chunk({}, finish="tool_calls")]
    events = list(translate_stream(frames, "responses"))
    for event in events:
        check_event(event)
    assert types(events)[2:] == ["output_item.added", "custom_tool_call_input.delta", "custom_tool_call_input.delta",
                                 "custom_tool_call_input.done", "output_item.done", "completed"]
    final = terminal(events)
    assert final["output"] == [{"type": "custom_tool_call", "id": "ctc_call_c", "call_id": "call_c", "name": "run", "input": "print(1)"}]
    assert final == translate(assemble_chat(frames), "responses").body
    back = assemble_chat(translate_stream(events, "chat"))
    assert back["choices"][0]["message"]["tool_calls"] == [{"id": "call_c", "type": "custom", "custom": {"name": "run", "input": "print(1)"}}]
    assert back["choices"][0]["finish_reason"] == "tool_calls"


@pytest.mark.parametrize("field", ["reasoning_content", "reasoning"])
def test_reasoning_content_becomes_a_reasoning_item(field: str) -> None:
    frames = [ROLE_NULL, chunk({field: "Think"}), chunk({field: "ing."}), chunk({"content": "Answer"}), chunk({}, finish="stop")]
    events = to_responses(frames)
    assert types(events)[2:] == [
        "output_item.added", "content_part.added", "reasoning_text.delta", "reasoning_text.delta", "reasoning_text.done",
        "content_part.done", "output_item.done",
        "output_item.added", "content_part.added", "output_text.delta", "output_text.done", "content_part.done", "output_item.done",
        "completed"]
    final = terminal(events)
    assert final["output"][0]["id"].startswith("rs_")
    assert final["output"][0]["content"] == [{"type": "reasoning_text", "text": "Thinking."}]
    if field == "reasoning_content":
        assert final == translate(assemble_chat(frames), "responses").body


@pytest.mark.parametrize(("finish", "reason"), [("length", "max_output_tokens"), ("content_filter", "content_filter")])
def test_incomplete(finish: str, reason: str) -> None:
    frames = text_stream(["Once upon"], finish=finish, usage=CHAT_USAGE)
    events = to_responses(frames)
    assert events[-1]["type"] == "response.incomplete"
    final = terminal(events)
    assert final["status"] == "incomplete" and final["incomplete_details"] == {"reason": reason}
    assert final["output"][0]["status"] == "incomplete" and final["usage"]["total_tokens"] == 29
    assert final == translate(assemble_chat(frames), "responses").body


def test_an_upstream_error_chunk_becomes_response_failed() -> None:
    error = {"error": {"message": "Rate limit reached", "type": "requests", "param": None, "code": "rate_limit_exceeded"}}
    events = list(translate_stream([ROLE, chunk({"content": "Hi"}), error], "responses"))
    check_response_stream(events)
    final = terminal(events)
    assert events[-1]["type"] == "response.failed" and final["status"] == "failed"
    assert final["error"] == {"code": "rate_limit_exceeded", "message": "Rate limit reached"}


def test_an_error_as_the_first_frame() -> None:
    translator = StreamTranslator("responses")
    events = translator.feed({"error": {"message": "The server had an error", "type": "server_error", "code": None}})
    events += translator.finish()
    check_response_stream(events)
    assert types(events) == ["created", "in_progress", "failed"]
    assert terminal(events)["error"]["code"] == "server_error"
    assert translator.failed and not translator.broken


def test_other_choices_are_left_out() -> None:
    frames = [ROLE, chunk({"content": "A"}), {**chunk({"content": "B"}), "choices": [{"index": 1, "delta": {"content": "B"}, "finish_reason": None}]},
              chunk({}, finish="stop")]
    assert terminal(to_responses(frames))["output"][0]["content"][0]["text"] == "A"


def test_without_request_the_documented_defaults() -> None:
    final = terminal(to_responses(text_stream(["Hi"])))
    assert (final["tool_choice"], final["tools"], final["parallel_tool_calls"], final["instructions"]) == ("auto", [], True, None)
    assert final["error"] is None and final["incomplete_details"] is None


CHAT_REQUEST: JsonDict = {
    "model": "gpt-4.1", "stream": True, "stream_options": {"include_usage": True},
    "messages": [{"role": "developer", "content": "Be brief."}, {"role": "user", "content": "Weather in Paris?"}],
    "tools": [{"type": "function", "function": {"name": "get_weather", "description": "Weather",
                                                "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}}],
    "tool_choice": "required", "parallel_tool_calls": False, "temperature": 0.2, "top_p": 0.9,
    "max_completion_tokens": 256, "user": "u-42",
}


def test_request_is_echoed_into_every_response_object() -> None:
    events = to_responses(text_stream(["Hi"]), request=CHAT_REQUEST)
    forward = translate(CHAT_REQUEST, "responses").body
    for event in events:
        if "response" in event:
            r = event["response"]
            for key in ("tools", "tool_choice", "parallel_tool_calls", "temperature", "top_p", "max_output_tokens", "user"):
                assert r[key] == forward[key], (event["type"], key)
            assert r["model"] == MODEL, "the model is the one that answered (the chunk's), not the requested alias"
    final = terminal(events)
    expected = translate(assemble_chat(text_stream(["Hi"])), "responses", request=CHAT_REQUEST).body
    assert final == expected


def test_a_responses_request_is_echoed_as_is() -> None:
    request = {"model": "gpt-4.1", "input": "hi", "instructions": "Be brief.", "tool_choice": "none",
               "tools": [{"type": "function", "name": "f", "parameters": {"type": "object", "properties": {}}, "strict": True}]}
    final = terminal(to_responses(text_stream(["Hi"]), request=request))
    assert final["instructions"] == "Be brief." and final["tool_choice"] == "none"
    assert final["tools"] == [{**request["tools"][0], "description": None}], "the tool as the API echoes it: description null"


# ============================================================================ responses → chat


TEXT_RESPONSE = base_response([message_item("Hello there")], usage=RESPONSES_USAGE)


def test_text_response_to_chunks() -> None:
    events = response_events(TEXT_RESPONSE, text_splits={(0, 0): ["Hel", "lo", " there"]})
    chunks = to_chat(events)
    assert [c["choices"][0]["delta"] for c in chunks] == [
        {"role": "assistant", "content": "", "refusal": None}, {"content": "Hel"}, {"content": "lo"}, {"content": " there"}, {}]
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop"
    expected = translate(TEXT_RESPONSE, "chat").body
    assert {c["id"] for c in chunks} == {expected["id"]} and expected["id"].startswith("chatcmpl-")
    assert all(c["created"] == TEXT_RESPONSE["created_at"] and c["model"] == TEXT_RESPONSE["model"] for c in chunks)
    assert all("usage" not in c for c in chunks)


def test_include_usage_adds_one_usage_chunk() -> None:
    chunks = to_chat(response_events(TEXT_RESPONSE), include_usage=True)
    assert chunks[-1]["choices"] == []
    assert chunks[-1]["usage"] == translate(TEXT_RESPONSE, "chat").body["usage"]
    assert chunks[-1]["usage"]["completion_tokens_details"]["reasoning_tokens"] == 64


def test_tool_calls_get_indexes_from_zero_and_back_filled_arguments() -> None:
    final = base_response([
        {"type": "reasoning", "id": "rs_1", "summary": [{"type": "summary_text", "text": "Two cities."}]},
        call_item("call_one", "get_weather", '{"city": "Paris"}'),
        call_item("call_two", "get_weather", '{"city": "Rome"}'),
    ])
    events = response_events(final, arg_splits={1: ['{"city"', ': "Paris"}'], 2: None})  # call_two: only .done
    chunks = to_chat(events)
    calls = [tc for c in chunks for tc in c["choices"][0]["delta"].get("tool_calls", [])]
    assert calls == [
        {"index": 0, "id": "call_one", "type": "function", "function": {"name": "get_weather", "arguments": ""}},
        {"index": 0, "function": {"arguments": '{"city"'}},
        {"index": 0, "function": {"arguments": ': "Paris"}'}},
        {"index": 1, "id": "call_two", "type": "function", "function": {"name": "get_weather", "arguments": ""}},
        {"index": 1, "function": {"arguments": '{"city": "Rome"}'}},
    ]
    assert chunks[-1]["choices"][0]["finish_reason"] == "tool_calls"
    assert assemble_chat(chunks)["choices"][0]["message"]["tool_calls"] == translate(final, "chat").body["choices"][0]["message"]["tool_calls"]


def test_reasoning_events_give_no_chunks() -> None:
    final = base_response([{"type": "reasoning", "id": "rs_1", "summary": [{"type": "summary_text", "text": "Hmm."}]}, message_item("Hi")])
    chunks = to_chat(response_events(final))
    assert [c["choices"][0]["delta"] for c in chunks][1:] == [{"content": "Hi"}, {}]


def test_refusal_deltas() -> None:
    final = base_response([message_item(refusal="I can't help with that.")])
    chunks = to_chat(response_events(final, text_splits={(0, 0): ["I can't", " help with that."]}))
    # No text comes first, so the role rides on the first refusal chunk with content null (not "").
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    assert chunks[0]["choices"][0]["delta"]["content"] is None
    assert [c["choices"][0]["delta"].get("refusal") for c in chunks[:-1]] == ["I can't", " help with that."]
    assert assemble_chat(chunks)["choices"][0]["message"]["refusal"] == "I can't help with that."
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop"


@pytest.mark.parametrize(("reason", "finish"), [("max_output_tokens", "length"), ("content_filter", "content_filter")])
def test_incomplete_finish_reasons(reason: str, finish: str) -> None:
    final = base_response([message_item("Once", status="incomplete")], status="incomplete",
                          incomplete_details={"reason": reason})
    chunks = to_chat(response_events(final))
    assert chunks[-1]["choices"][0]["finish_reason"] == finish == translate(final, "chat").body["choices"][0]["finish_reason"]


def test_response_failed_becomes_an_error_frame_and_no_done() -> None:
    failed = base_response([], status="failed")
    failed["error"] = {"code": "server_error", "message": "The model crashed."}
    events = response_events(base_response([message_item("Hi")]))[:-1]
    events.append({"type": "response.failed", "response": failed, "sequence_number": len(events)})
    chunks = list(translate_stream(events, "chat"))
    check_chat_stream(chunks)
    assert chunks[-1] == {"error": {"message": "The model crashed.", "type": "server_error", "param": None, "code": "server_error"}}
    assert [c["choices"][0]["delta"].get("content") for c in chunks[:-1]] == ["", "Hi"]
    frames, done = decode_chat_sse(b"".join(translate_sse([responses_sse(events)], "chat")))
    assert not done and frames[-1] == chunks[-1]
    translator = StreamTranslator("chat")
    for event in events:
        translator.feed(event)
    translator.finish()
    assert translator.failed and not translator.broken


def test_an_error_event_becomes_an_error_frame() -> None:
    events = response_events(TEXT_RESPONSE)[:5]
    events.append({"type": "error", "code": "rate_limit_exceeded", "message": "Slow down.", "param": None, "sequence_number": 5})
    raw = b"".join(translate_sse([responses_sse(events)], "chat"))
    frames, done = decode_chat_sse(raw)
    assert not done
    assert frames[-1]["error"] == {"message": "Slow down.", "type": "server_error", "param": None, "code": "rate_limit_exceeded"}
    assert all(f["choices"][0]["finish_reason"] is None for f in frames[:-1]), "no normal finish before the error"


def test_events_after_the_terminal_event_are_ignored() -> None:
    events = response_events(TEXT_RESPONSE)
    extra = {**events[-3], "sequence_number": len(events)}
    assert to_chat([*events, extra]) == to_chat(events)


# ============================================================================ pass-through and dialect detection


def test_a_stream_already_in_the_target_dialect_passes_through() -> None:
    frames = text_stream(["Hi"], usage=CHAT_USAGE)
    assert list(translate_stream(frames, "chat")) == frames
    events = response_events(TEXT_RESPONSE)
    assert list(translate_stream(events, "responses")) == events


def test_to_must_name_a_dialect() -> None:
    with pytest.raises(ValueError, match="to must be"):
        StreamTranslator("anthropic")  # type: ignore[arg-type]


# ============================================================================ incremental


def _first(iterator: Iterator[JsonDict], kind: str) -> JsonDict:
    for event in iterator:
        if event.get("type") == kind or (kind == "content" and event.get("choices") and event["choices"][0]["delta"].get("content")):
            return event
    raise AssertionError(f"no {kind}")


def test_chat_to_responses_yields_the_first_delta_before_the_source_ends() -> None:
    source = Tripwire([ROLE, chunk({"content": "Hel"}), chunk({"content": "lo"}), chunk({}, finish="stop")], limit=2)
    delta = _first(translate_stream(source, "responses"), "response.output_text.delta")
    assert delta["delta"] == "Hel" and source.pulled == 2


def test_responses_to_chat_yields_the_first_content_before_the_source_ends() -> None:
    events = response_events(TEXT_RESPONSE, text_splits={(0, 0): ["Hel", "lo there"]})
    first_delta = next(i for i, e in enumerate(events) if e["type"] == "response.output_text.delta")
    source = Tripwire(events, limit=first_delta + 1)
    c = _first(translate_stream(source, "chat"), "content")
    assert c["choices"][0]["delta"]["content"] == "Hel" and source.pulled == first_delta + 1


def test_every_fed_frame_yields_its_output_at_once() -> None:
    translator = StreamTranslator("responses")
    assert types(translator.feed(ROLE)) == ["created", "in_progress"]
    assert types(translator.feed(chunk({"content": "a"}))) == ["output_item.added", "content_part.added", "output_text.delta"]
    assert types(translator.feed(chunk({"content": "b"}))) == ["output_text.delta"]
    back = StreamTranslator("chat")
    events = response_events(TEXT_RESPONSE, text_splits={(0, 0): ["a", "b"]})
    outputs = [back.feed(e) for e in events]
    # The role waits for the first text part (so an answer without text keeps content null, and an
    # empty text reads back as ""): response.created gives nothing, content_part.added the role chunk.
    assert [len(o) for o in outputs] == [0, 0, 0, 1, 1, 1, 0, 0, 0, 1]


def _frames_as_bytes(raw: bytes, size: int) -> list[bytes]:
    return [raw[i:i + size] for i in range(0, len(raw), size)]


def test_translate_sse_over_a_byte_iterator_is_incremental_both_ways() -> None:
    raw = chat_sse([ROLE, chunk({"content": "Hel"}), chunk({"content": "lo"}), chunk({}, finish="stop")])
    first_frames = len(chat_sse([ROLE, chunk({"content": "Hel"})], done=False))
    pieces = _frames_as_bytes(raw, 16)
    source = Tripwire(pieces, limit=-(-first_frames // 16))
    for out in translate_sse(source, "responses"):
        if b"response.output_text.delta" in out:
            break
    else:
        raise AssertionError("no delta")
    assert source.pulled * 16 >= first_frames and source.pulled < len(pieces)

    events = response_events(TEXT_RESPONSE, text_splits={(0, 0): ["Hel", "lo there"]})
    raw = responses_sse(events)
    upto = len(responses_sse(events[:5]))  # created … first output_text.delta
    pieces = _frames_as_bytes(raw, 32)
    source = Tripwire(pieces, limit=-(-upto // 32))
    for out in translate_sse(source, "chat"):
        if b'"content":"Hel"' in out:
            break
    else:
        raise AssertionError("no content chunk")
    assert source.pulled < len(pieces)


def test_async_versions_match_and_are_incremental() -> None:
    frames = text_stream(["Hel", "lo"], usage=CHAT_USAGE)

    async def collect(it: AsyncIterator[Any]) -> list[Any]:
        return [x async for x in it]

    assert asyncio.run(collect(atranslate_stream(Tripwire(frames, len(frames)), "responses"))) == \
        list(translate_stream(frames, "responses"))
    raw = chat_sse(frames)
    assert asyncio.run(collect(atranslate_sse(Tripwire(_frames_as_bytes(raw, 9), 10**6), "responses"))) == \
        list(translate_sse(_frames_as_bytes(raw, 9), "responses"))

    async def first_delta() -> int:
        source = Tripwire(frames, limit=2)
        async for event in atranslate_stream(source, "responses"):
            if event["type"] == "response.output_text.delta":
                return source.pulled
        raise AssertionError

    assert asyncio.run(first_delta()) == 2
    events = response_events(TEXT_RESPONSE)
    assert asyncio.run(collect(atranslate_sse(Tripwire([responses_sse(events)], 1), "chat"))) == \
        list(translate_sse([responses_sse(events)], "chat"))


DELTA_KINDS = {
    "content": lambda p: {"content": p},
    "refusal": lambda p: {"refusal": p},
    "reasoning_content": lambda p: {"reasoning_content": p},
    "arguments": lambda p: {"tool_calls": [{"index": 0, "function": {"arguments": p}}]},
}


def _peak(n: int, kind: str) -> int:
    """Peak traced memory translating a stream of n deltas of 3 characters, each a fresh string as JSON decoding gives."""
    def chat_source() -> Iterator[JsonDict]:
        yield ROLE_NULL
        if kind == "arguments":
            yield call_chunk(0, id="call_m", name="write_file", args="")
        make = DELTA_KINDS[kind]
        for i in range(n):
            yield chunk(make(f"w{i % 10} "))
        yield chunk({}, finish="stop")

    def responses_source() -> Iterator[JsonDict]:
        yield {"type": "response.created", "response": {**TEXT_RESPONSE, "status": "in_progress", "output": []}, "sequence_number": 0}
        for i in range(n):
            yield {"type": "response.output_text.delta", "item_id": "msg_1", "output_index": 0, "content_index": 0,
                   "delta": f"w{i % 10} ", "logprobs": [], "sequence_number": i + 1}
        yield {"type": "response.completed", "response": TEXT_RESPONSE, "sequence_number": n + 1}

    gc.collect()
    tracemalloc.start()
    try:
        source, to = (responses_source(), "chat") if kind == "to chat" else (chat_source(), "responses")
        for _ in translate_stream(source, to):  # type: ignore[arg-type]
            pass
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.slow
@pytest.mark.parametrize("kind", list(DELTA_KINDS))
def test_memory_grows_with_the_text_only(kind: str) -> None:
    """20k deltas against 2k: the growth is the text (kept for the .done events), not a per-frame cost.

    The bound, 6x the text's bytes, separates keeping the text (a few copies) from keeping
    a str object per delta (~64 bytes each, 21x here) or the events (~1 kB each).
    """
    text_growth = 18_000 * 3
    growth = _peak(20_000, kind) - _peak(2_000, kind)
    assert growth < 6 * text_growth, f"{growth / 18_000:.1f} bytes per delta of 3 characters"


@pytest.mark.slow
def test_memory_of_responses_to_chat_does_not_grow() -> None:
    """Responses → chat keeps no text at all (the terminal event brings the whole output)."""
    assert _peak(20_000, "to chat") - _peak(2_000, "to chat") < 16_000


# ============================================================================ breaks and malformed input


def test_a_chat_stream_that_stops_before_its_finish_reason() -> None:
    frames = [ROLE, chunk({"content": "Hel"}), call_chunk(0, id="call_a", name="f", args='{"a"')]
    translator = StreamTranslator("responses")
    events = [e for f in frames for e in translator.feed(f)]
    events += translator.finish()
    check_response_stream(events)
    assert translator.broken
    assert types(events)[-8:] == ["output_text.done", "content_part.done", "output_item.done",  # the message closes at the call
                                  "output_item.added", "function_call_arguments.delta",
                                  "function_call_arguments.done", "output_item.done", "failed"]
    final = terminal(events)
    assert events[-1]["type"] == "response.failed"
    assert final["error"]["code"] == "server_error" and "finish_reason" in final["error"]["message"]
    assert final["output"][0]["content"][0]["text"] == "Hel", "what arrived is passed on"
    assert final["output"][1]["arguments"] == '{"a"'
    assert [o["status"] for o in final["output"]] == ["completed", "incomplete"], "the message was done when the call began"


def test_a_responses_stream_that_stops_before_its_terminal_event() -> None:
    events = response_events(TEXT_RESPONSE, text_splits={(0, 0): ["Hel", "lo"]})[:6]
    translator = StreamTranslator("chat")
    chunks = [c for e in events for c in translator.feed(e)]
    chunks += translator.finish()
    check_chat_stream(chunks)
    assert translator.broken
    assert [c["choices"][0]["delta"].get("content") for c in chunks[:-1]] == ["", "Hel", "lo"]
    assert chunks[-1]["error"]["code"] == "server_error"
    frames, done = decode_chat_sse(b"".join(translate_sse([responses_sse(events)], "chat")))
    assert not done and "error" in frames[-1]


def test_a_broken_chat_stream_over_sse_ends_with_response_failed() -> None:
    raw = chat_sse([ROLE, chunk({"content": "Hel"})], done=False)
    events = decode_responses_sse(b"".join(translate_sse([raw], "responses")))
    assert events[-1]["type"] == "response.failed" and events[-1]["response"]["error"]["code"] == "server_error"


def test_an_empty_stream() -> None:
    with pytest.raises(StreamError, match="empty"):
        list(translate_sse([b": keep-alive\n\n"], "responses"))


@pytest.mark.parametrize(("to", "frames", "number", "message"), [
    ("responses", [ROLE, [1, 2]], 2, "object"),
    ("responses", [ROLE, chunk({"content": "a"}), {**chunk(), "choices": {"0": {}}}], 3, "choices"),
    ("responses", [ROLE, {**chunk(), "choices": None}], 2, "choices"),
    ("responses", [ROLE, {**chunk(), "choices": ["x"]}], 2, "choice"),
    ("responses", [ROLE, chunk({"tool_calls": {"index": 0}})], 2, "tool_calls"),
    ("responses", ["hello"], 1, "object"),
    ("responses", [{"foo": 1}], 1, "chat.completion.chunk or a response"),
    ("chat", [{"type": "response.created", "response": {}}, {"delta": "x"}], 2, "type"),
    ("chat", [{"type": "response.created", "response": {}}, 7], 2, "object"),
])
def test_malformed_frames_name_the_frame(to: str, frames: list[Any], number: int, message: str) -> None:
    with pytest.raises(StreamError, match=rf"^frame {number}: .*{message}") as info:
        list(translate_stream(frames, to))  # type: ignore[arg-type]
    assert info.value.frame == number


# ============================================================================ the SDK reads the translated streams


def test_sdk_responses_create_stream_reads_a_translated_chat_stream() -> None:
    frames = text_stream(["Hel", "lo ", "😀"], usage=CHAT_USAGE)
    client = sdk_client(b"".join(translate_sse([chat_sse(frames)], "responses")))
    events = list(client.responses.create(model="gpt-4.1", input="hi", stream=True))
    assert [e.type for e in events][:2] == ["response.created", "response.in_progress"]
    assert events[-1].type == "response.completed"
    assert events[-1].response.output_text == "Hello 😀"
    assert events[-1].response.usage is not None and events[-1].response.usage.total_tokens == 29
    assert "".join(e.delta for e in events if e.type == "response.output_text.delta") == "Hello 😀"


def test_sdk_responses_stream_helper_final_response() -> None:
    frames = [ROLE, chunk({"content": "Checking."}), call_chunk(0, id="call_w", name="get_weather", args='{"city": '),
              call_chunk(0, args='"Oslo"}'), chunk({}, finish="tool_calls"), usage_chunk(CHAT_USAGE)]
    client = sdk_client(b"".join(translate_sse([chat_sse(frames)], "responses")))
    with client.responses.stream(model="gpt-4.1", input="weather?") as stream:
        seen = [event.type for event in stream]
        final = stream.get_final_response()
    assert seen[-1] == "response.completed"
    expected = translate(assemble_chat(frames), "responses").body
    assert final.output_text == "Checking."
    assert _without(final.model_dump(exclude_unset=True), {"parsed", "parsed_arguments"}) == json.loads(json.dumps(expected))


def _without(obj: Any, keys: set[str]) -> Any:
    """``obj`` less the keys the SDK's helpers add (``parsed``, ``parsed_arguments``)."""
    if isinstance(obj, dict):
        return {k: _without(v, keys) for k, v in obj.items() if k not in keys}
    if isinstance(obj, list):
        return [_without(v, keys) for v in obj]
    return obj


def test_sdk_chat_create_stream_reads_a_translated_responses_stream() -> None:
    final = base_response([message_item("Bonjour 🇫🇷"), call_item("call_x", "lookup", '{"q": "paris"}')], usage=RESPONSES_USAGE)
    client = sdk_client(b"".join(translate_sse([responses_sse(response_events(final))], "chat", include_usage=True)))
    chunks = list(client.chat.completions.create(model="gpt-5", messages=[{"role": "user", "content": "hi"}], stream=True,
                                                 stream_options={"include_usage": True}))
    assert chunks[0].choices[0].delta.role == "assistant"
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == "Bonjour 🇫🇷"
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "tool_calls"
    assert chunks[-1].choices == [] and chunks[-1].usage is not None and chunks[-1].usage.total_tokens == 123


def test_sdk_chat_stream_helper_accumulates_what_the_non_stream_translation_gives() -> None:
    final = base_response([message_item("Two calls:"), call_item("call_a", "get_weather", '{"city": "Oslo"}'),
                           call_item("call_b", "get_weather", '{"city": "Lima"}')], usage=RESPONSES_USAGE)
    events = response_events(final, text_splits={(0, 0): ["Two", " calls:"]}, arg_splits={1: ['{"city"', ': "Oslo"}'], 2: None})
    client = sdk_client(b"".join(translate_sse([responses_sse(events)], "chat", include_usage=True)))
    with client.chat.completions.stream(model="gpt-5", messages=[{"role": "user", "content": "hi"}],
                                        stream_options={"include_usage": True}) as stream:
        for _ in stream:
            pass
        got = stream.get_final_completion()
    want = translate(final, "chat").body
    msg = got.choices[0].message
    assert msg.content == want["choices"][0]["message"]["content"] == "Two calls:"
    assert [(c.id, c.function.name, c.function.arguments) for c in msg.tool_calls or []] == \
        [(c["id"], c["function"]["name"], c["function"]["arguments"]) for c in want["choices"][0]["message"]["tool_calls"]]
    assert got.choices[0].finish_reason == want["choices"][0]["finish_reason"] == "tool_calls"
    assert got.id == want["id"] and got.usage is not None and got.usage.model_dump(exclude_none=True) == want["usage"]


@pytest.mark.parametrize("how", ["response.failed", "error event", "broken"])
def test_sdk_raises_on_the_error_frame(how: str) -> None:
    events = response_events(TEXT_RESPONSE)[:5]
    if how == "response.failed":
        failed = {**TEXT_RESPONSE, "status": "failed", "error": {"code": "server_error", "message": "boom"}}
        events.append({"type": "response.failed", "response": failed, "sequence_number": 5})
    elif how == "error event":
        events.append({"type": "error", "code": "server_error", "message": "boom", "param": None, "sequence_number": 5})
    client = sdk_client(b"".join(translate_sse([responses_sse(events)], "chat")))
    stream = client.chat.completions.create(model="gpt-5", messages=[{"role": "user", "content": "hi"}], stream=True)
    got: list[Any] = []
    with pytest.raises(openai.APIError) as info:
        for c in stream:
            got.append(c)
    assert "".join(c.choices[0].delta.content or "" for c in got) == "Hello there", "what arrived came first"
    assert all(c.choices[0].finish_reason is None for c in got), "no normal finish"
    assert info.value.message == ("boom" if how != "broken" else "the upstream stream ended before the response finished")


def test_sdk_reads_a_broken_chat_stream_translated_to_responses_as_failed() -> None:
    client = sdk_client(b"".join(translate_sse([chat_sse([ROLE, chunk({"content": "Hel"})], done=False)], "responses")))
    events = list(client.responses.create(model="gpt-4.1", input="hi", stream=True))
    assert events[-1].type == "response.failed"
    assert events[-1].response.error is not None and events[-1].response.error.code == "server_error"


# ============================================================================ fixtures through the CLI


def cli(argv: list[str], stdin: str = "") -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(argv, stdin=io.StringIO(stdin), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def test_fixture_chat_text_with_usage() -> None:
    code, out, err = cli(["translate", str(FIXTURES / "chat_text_usage.sse"), "--to", "responses"])
    assert (code, err) == (0, "")
    events = decode_responses_sse(out.encode())
    check_response_stream(events)
    final = terminal(events)
    assert final["output"][0]["content"][0]["text"] == "The capital of France is Paris — «la Ville Lumière» 🗼."
    assert final["usage"]["total_tokens"] == 29 and final["model"] == "gpt-4.1-2025-04-14"
    chunks = [json.loads(line[6:]) for line in (FIXTURES / "chat_text_usage.sse").read_text().split("\n\n") if line.startswith("data: {")]
    expected = translate(assemble_chat(chunks), "responses").body
    assert final == expected


def test_fixture_chat_parallel_tool_calls() -> None:
    code, out, err = cli(["translate", str(FIXTURES / "chat_parallel_tools.sse"), "--to", "responses"])
    assert (code, err) == (0, "")
    events = decode_responses_sse(out.encode())
    check_response_stream(events)
    final = terminal(events)
    assert [(o["type"], o["call_id"], json.loads(o["arguments"])) for o in final["output"]] == [
        ("function_call", "call_9Wq3Lr0aYtKs2hC7pDxE4uNm", {"city": "Paris", "unit": "celsius"}),
        ("function_call", "call_Ud2vP8sHq1XbR5mJ0cLw7tZy", {"city": "東京", "unit": "celsius"})]


def test_fixture_chat_stream_with_its_request(tmp_path: Path) -> None:
    request = tmp_path / "request.json"
    request.write_text(json.dumps(CHAT_REQUEST))
    code, out, err = cli(["translate", str(FIXTURES / "chat_parallel_tools.sse"), "--to", "responses", "--request", str(request)])
    assert (code, err) == (0, "")
    events = decode_responses_sse(out.encode())
    check_response_stream(events)
    for event in (events[0], events[-1]):
        assert event["response"]["tool_choice"] == "required" and event["response"]["tools"][0]["name"] == "get_weather"


def _fixture_events(name: str) -> list[JsonDict]:
    return [json.loads(e.data) for e in iter_sse([(FIXTURES / name).read_bytes()]) if e.data != "[DONE]"]


def test_fixture_responses_reasoning_text_and_tool_call() -> None:
    code, out, err = cli(["translate", str(FIXTURES / "responses_reasoning_text_tool.sse"), "--to", "chat", "--include-usage"])
    assert (code, err) == (0, "")
    chunks, done = decode_chat_sse(out.encode())
    assert done
    check_chat_stream(chunks, include_usage=True)
    final = _fixture_events("responses_reasoning_text_tool.sse")[-1]["response"]
    got, want = assemble_chat(chunks), translate(final, "chat").body
    assert message_view(got) == message_view(want)
    assert got["choices"][0]["message"]["content"] == "Let me check the weather in Lyon for you."
    assert got["choices"][0]["message"]["tool_calls"][0]["function"]["arguments"] == '{"city":"Lyon","unit":"celsius"}'
    for event in _fixture_events("responses_reasoning_text_tool.sse"):  # the fixture itself is a valid stream
        check_event(event, allow_extra=frozenset({"obfuscation"}))


def test_fixture_responses_gateway_variant() -> None:
    code, out, err = cli(["translate", str(FIXTURES / "responses_gateway.sse"), "--to", "chat"])
    assert (code, err) == (0, "")
    chunks, done = decode_chat_sse(out.encode())
    assert done
    check_chat_stream(chunks)
    assert assemble_chat(chunks)["choices"][0]["message"]["content"] == "Bonjour ! Comment puis-je vous aider aujourd’hui ? 😊"
    assert b"\r" in (FIXTURES / "responses_gateway.sse").read_bytes() and b"event:" not in (FIXTURES / "responses_gateway.sse").read_bytes()


@pytest.mark.parametrize("name", ["chat_text_usage.sse", "chat_parallel_tools.sse"])
def test_fixture_round_trip_through_the_cli(name: str, tmp_path: Path) -> None:
    code, out, _ = cli(["translate", str(FIXTURES / name), "--to", "responses"])
    assert code == 0
    middle = tmp_path / "mid.sse"
    middle.write_text(out)
    code, back, err = cli(["translate", str(middle), "--to", "chat"])
    assert (code, err) == (0, "")
    chunks, done = decode_chat_sse(back.encode())
    original = [json.loads(line[6:]) for line in (FIXTURES / name).read_text().split("\n\n") if line.startswith("data: {")]
    # `or ""`: a tool-call-only answer comes back with content "" for null (test_tool_call_only_response_accumulates_null_content)
    assert done and (message_view(assemble_chat(chunks))["content"] or "") == (message_view(assemble_chat(original))["content"] or "")
    assert message_view(assemble_chat(chunks))["tool_calls"] == message_view(assemble_chat(original))["tool_calls"]


def test_fixture_from_stdin() -> None:
    code, out, err = cli(["translate", "-", "--to", "responses"], stdin=(FIXTURES / "chat_text_usage.sse").read_text())
    assert (code, err) == (0, "")
    assert terminal(decode_responses_sse(out.encode()))["status"] == "completed"


def test_cli_writes_bytes_when_stdout_has_a_buffer() -> None:
    raw = io.BytesIO()
    stdout = io.TextIOWrapper(raw, encoding="utf-8")
    code = main(["translate", str(FIXTURES / "chat_text_usage.sse"), "--to", "responses"], stdin=io.StringIO(), stdout=stdout,
                stderr=io.StringIO())
    stdout.flush()
    assert code == 0 and terminal(decode_responses_sse(raw.getvalue()))["status"] == "completed"


def test_cli_on_a_broken_stream_exits_non_zero_and_says_so() -> None:
    code, out, err = cli(["translate", str(FIXTURES / "chat_broken.sse"), "--to", "responses"])
    assert code == 2
    assert "ended before its terminal event" in err and "chat_broken.sse" in err and "Traceback" not in err
    events = decode_responses_sse(out.encode())
    check_response_stream(events)
    assert events[-1]["type"] == "response.failed"
    assert terminal(events)["output"][0]["content"][0]["text"] == "The capital of France is Paris"


def test_cli_on_a_broken_responses_stream() -> None:
    raw = (FIXTURES / "responses_gateway.sse").read_bytes().split(b"\r\n\r\n")
    code, out, err = cli(["translate", "-", "--to", "chat"], stdin=b"\r\n\r\n".join(raw[:8]).decode() + "\r\n\r\n")
    assert code == 2 and "ended before its terminal event" in err
    frames, done = decode_chat_sse(out.encode())
    assert not done and frames[-1]["error"]["code"] == "server_error"


def test_cli_on_an_upstream_failure_warns_and_exits_zero() -> None:
    events = response_events(TEXT_RESPONSE)[:3]
    events.append({"type": "error", "code": "server_error", "message": "boom", "param": None, "sequence_number": 3})
    code, out, err = cli(["translate", "-", "--to", "chat"], stdin=responses_sse(events).decode())
    assert code == 0 and "upstream stream reported a failure" in err
    assert decode_chat_sse(out.encode())[0][-1]["error"]["message"] == "boom"


@pytest.mark.parametrize(("raw", "number"), [
    (chat_sse([ROLE], done=False) + b"data: {oops\n\n", 2),
    (chat_sse([ROLE, chunk({"content": "a"})], done=False) + b"data: [1]\n\n", 3),
    (chat_sse([ROLE], done=False) + b'data: {"id": "x", "choices": 5}\n\n', 2),
    (b'data: "text"\n\n', 1),
])
def test_cli_on_a_malformed_frame_exits_2_naming_the_frame(raw: bytes, number: int) -> None:
    code, _, err = cli(["translate", "-", "--to", "responses"], stdin=raw.decode())
    assert code == 2
    assert f"frame {number}:" in err and "<stdin>" in err and "Traceback" not in err


# ============================================================================ regressions (each once a known engine bug)


@pytest.mark.parametrize("with_bytes", [True, False])
def test_chat_logprobs_become_valid_event_logprobs(with_bytes: bool) -> None:
    top = {"token": "Hi", "logprob": -0.1, **({"bytes": [72, 105]} if with_bytes else {})}
    lp = {"content": [{**top, "top_logprobs": [top]}], "refusal": None}
    check_response_stream(list(translate_stream([ROLE, chunk({"content": "Hi"}, logprobs=lp), chunk({}, finish="stop")], "responses")))


def test_responses_logprobs_become_valid_chunk_logprobs() -> None:
    events = response_events(TEXT_RESPONSE)
    delta = next(e for e in events if e["type"] == "response.output_text.delta")
    delta["logprobs"] = [{"token": "Hello there", "logprob": -0.5}]
    to_chat(events)


def test_content_after_a_tool_call_keeps_done_events_in_order() -> None:
    frames = [ROLE, chunk({"content": "A"}), call_chunk(0, id="call_1", name="f", args="{}"), chunk({"content": "B"}),
              chunk({}, finish="tool_calls")]
    to_responses(frames)


def test_reasoning_after_content_is_not_lost() -> None:
    frames = [chunk({"role": "assistant", "reasoning_content": "r1"}), chunk({"content": "A"}), chunk({"reasoning_content": "r2"}),
              chunk({}, finish="stop")]
    events = to_responses(frames)
    reasoning = "".join(p["text"] for o in terminal(events)["output"] if o["type"] == "reasoning" for p in o["content"])
    assert reasoning == "r1r2"


def test_an_error_chunk_mid_stream_keeps_what_arrived() -> None:
    error = {"error": {"message": "boom", "type": "server_error", "code": "server_error"}}
    events = list(translate_stream([ROLE, chunk({"content": "Hello"}), error], "responses"))
    check_response_stream(events)
    assert terminal(events)["output"][0]["content"] == [{"type": "output_text", "text": "Hello", "annotations": []}]
    assert "response.output_item.done" in [e["type"] for e in events]


def test_service_tier_is_carried_into_the_response() -> None:
    frames = [{**f, "service_tier": "default"} for f in text_stream(["Hi"])]
    assert terminal(to_responses(frames)).get("service_tier") == translate(assemble_chat(frames), "responses").body["service_tier"]


def test_service_tier_is_carried_into_the_chunks() -> None:
    final = {**TEXT_RESPONSE, "service_tier": "default"}
    got = assemble_chat(to_chat(response_events(final)))
    assert got.get("service_tier") == translate(final, "chat").body["service_tier"]


def test_length_with_tool_calls_commutes() -> None:
    frames = [ROLE_NULL, call_chunk(0, id="call_a", name="f", args='{"a": 1}'), call_chunk(1, id="call_b", name="g", args='{"b'),
              chunk({}, finish="length")]
    assert terminal(to_responses(frames)) == translate(assemble_chat(frames), "responses").body


def test_length_with_text_then_tool_calls_commutes() -> None:
    frames = [ROLE, chunk({"content": "Let me"}), call_chunk(0, id="call_a", name="f", args="{}"), chunk({}, finish="length")]
    got = terminal(to_responses(frames))
    want = translate(assemble_chat(frames), "responses").body
    assert got["output"][0]["status"] == want["output"][0]["status"]


def test_empty_content_role_chunk_commutes() -> None:
    frames = [ROLE, call_chunk(0, id="call_a", name="f", args="{}"), chunk({}, finish="tool_calls")]
    assert terminal(to_responses(frames)) == translate(assemble_chat(frames), "responses").body


def test_tool_call_only_response_accumulates_null_content() -> None:
    final = base_response([call_item("call_a", "f", "{}")])
    got = assemble_chat(to_chat(response_events(final)))
    assert got["choices"][0]["message"]["content"] == translate(final, "chat").body["choices"][0]["message"]["content"] is None


def test_arguments_only_in_output_item_done_are_back_filled() -> None:
    final = base_response([call_item("call_a", "f", '{"x": 1}')])
    events = [e for e in response_events(final) if not e["type"].startswith("response.function_call_arguments")]
    got = assemble_chat(list(translate_stream(events, "chat")))
    assert got["choices"][0]["message"]["tool_calls"][0]["function"]["arguments"] == '{"x": 1}'


def test_text_only_in_done_events_is_not_lost() -> None:
    events = [e for e in response_events(TEXT_RESPONSE) if e["type"] != "response.output_text.delta"]
    got = assemble_chat(list(translate_stream(events, "chat")))
    assert got["choices"][0]["message"]["content"] == "Hello there"


def test_legacy_function_call_ids_commute() -> None:
    frames = [ROLE_NULL, chunk({"function_call": {"name": "f", "arguments": '{"a"'}}), chunk({"function_call": {"arguments": ": 1}"}}),
              chunk({}, finish="function_call")]
    completion = assemble_chat(frames)
    completion["choices"][0]["message"]["function_call"] = {"name": "f", "arguments": '{"a": 1}'}
    assert terminal(to_responses(frames)) == translate(completion, "responses").body


def test_an_azure_prompt_filter_preamble_does_not_start_the_response() -> None:
    preamble = {"choices": [], "created": 0, "id": "", "model": "", "object": "", "prompt_filter_results": [
        {"prompt_index": 0, "content_filter_results": {"hate": {"filtered": False, "severity": "safe"}}}]}
    frames = text_stream(["Hi"])
    final = terminal(to_responses([preamble, *frames]))
    assert final == translate(assemble_chat(frames), "responses").body


def test_a_truncated_stream_passed_through_is_broken() -> None:
    raw = chat_sse([ROLE, chunk({"content": "Hel"})], done=False)
    translator = StreamTranslator("chat")
    out = b"".join(translate_sse([raw], "chat", translator=translator))
    assert translator.broken and not out.endswith(b"data: [DONE]\n\n")


def test_an_empty_answer_commutes() -> None:
    """content "" and nothing else is a message with an empty text, streamed or not (the widened strategy found it)."""
    frames = [ROLE, chunk({}, finish="stop")]
    final = terminal(to_responses(frames))
    assert final == translate(assemble_chat(frames), "responses").body
    assert final["output"][0]["content"] == [{"type": "output_text", "text": "", "annotations": []}]


def test_empty_content_then_a_refusal_commutes() -> None:
    frames = [ROLE, chunk({"refusal": "No."}), chunk({}, finish="stop")]
    assert terminal(to_responses(frames)) == translate(assemble_chat(frames), "responses").body


def test_an_empty_text_reads_back_as_empty_not_null() -> None:
    frames = [ROLE, chunk({}, finish="stop")]
    back = assemble_chat(list(translate_stream(to_responses(frames), "chat")))
    assert back["choices"][0]["message"]["content"] == "" == assemble_chat(frames)["choices"][0]["message"]["content"]


def test_stop_after_tool_calls_is_the_same_loss_streamed_or_not() -> None:
    frames = [ROLE_NULL, call_chunk(0, id="call_a", name="f", args="{}"), chunk({}, finish="stop")]
    translator = StreamTranslator("responses")
    for f in frames:
        translator.feed(f)
    translator.finish()
    whole = translate(assemble_chat(frames), "responses").losses
    assert [(x.path, x.kind) for x in translator.losses] == [(x.path, x.kind) for x in whole] == [
        ("$.choices[0].finish_reason", "approximated")]


def test_a_second_choice_is_a_loss_reported_once() -> None:
    frames = [ROLE, chunk({"content": "A"})]
    second = chunk({"content": "B"})
    second["choices"][0]["index"] = 1
    frames += [second, second, chunk({}, finish="stop")]
    translator = StreamTranslator("responses")
    for f in frames:
        translator.feed(f)
    translator.finish()
    assert [(x.path, x.field) for x in translator.losses] == [("$.choices[1]", "choices")]
