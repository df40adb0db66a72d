"""Properties of the stream translation, over generated streams (tests/stream_helpers.py).

The central one is commutation: translating a stream and taking its terminal Response
gives what assembling the stream and translating the whole body gives. Nothing is set
aside: the stream derives the Response id from the chunk id (``mint("resp_", "resp:" + id)``),
item ids from it and from the call ids, and ``created_at`` from the chunk's ``created``,
exactly as the non-stream translation does from the completion, so the whole bodies
are compared. A divergence found here gets its minimal example in test_streams.py and
a fix, not a set-aside.

MIGRATOR_STREAM_EXAMPLES=2000 for a long hunt (the default keeps the file to a few seconds).
"""

from __future__ import annotations

import copy
import itertools
import os
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from migrator import translate
from migrator.streams import StreamTranslator, translate_sse, translate_stream
from tests import strategies as S
from tests.stream_helpers import (
    assemble_chat,
    chat_sse,
    chat_streams,
    check_chat_stream,
    check_response_stream,
    decode_chat_sse,
    decode_responses_sse,
    responses_sse,
    responses_streams,
    terminal,
)

JsonDict = dict[str, Any]

PROPERTY = settings(max_examples=int(os.environ.get("MIGRATOR_STREAM_EXAMPLES", "120")), deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

# ------------------------------------------------------------------------ chat → responses


@PROPERTY
@given(chat_streams())
def test_chat_stream_commutes_with_the_non_stream_translation(frames: list[JsonDict]) -> None:
    before = copy.deepcopy(frames)
    events = list(translate_stream(frames, "responses"))
    assert frames == before, "the input frames are not modified"
    check_response_stream(events)
    got = copy.deepcopy(terminal(events))
    want = translate(assemble_chat(frames), "responses").body
    assert got == want
    assert events[-1]["type"] == {"completed": "response.completed", "incomplete": "response.incomplete"}[got["status"]]


@PROPERTY
@given(chat_streams(), S.chat_requests())
def test_chat_stream_with_its_request_commutes(frames: list[JsonDict], request: JsonDict) -> None:
    """``request=`` echoes the request into every Response object as the non-stream ``request=`` does."""
    events = list(translate_stream(frames, "responses", request=request))
    check_response_stream(events)
    got = copy.deepcopy(terminal(events))
    want = translate(assemble_chat(frames), "responses", request=request).body
    assert got == want
    for event in events[:2]:
        started = {k: v for k, v in event["response"].items() if k not in ("status", "output", "usage", "incomplete_details")}
        assert started == {k: v for k, v in got.items() if k in started}, "created/in_progress echo what the terminal echoes"


@PROPERTY
@given(chat_streams(), st.data())
def test_any_byte_split_gives_the_same_responses_stream(frames: list[JsonDict], data: st.DataObject) -> None:
    raw = chat_sse(frames)
    cuts = sorted(data.draw(st.lists(st.integers(0, len(raw)), max_size=20)))
    bounds = [0, *cuts, len(raw)]
    out = b"".join(translate_sse([raw[a:b] for a, b in itertools.pairwise(bounds)], "responses"))
    assert decode_responses_sse(out) == list(translate_stream(frames, "responses"))


@PROPERTY
@given(chat_streams(), st.data())
def test_a_chat_stream_cut_before_its_finish_reason_fails_cleanly(frames: list[JsonDict], data: st.DataObject) -> None:
    finish_at = next(i for i, f in enumerate(frames) if any(c["finish_reason"] for c in f["choices"]))
    cut = data.draw(st.integers(1, finish_at))
    translator = StreamTranslator("responses")
    events = [e for f in frames[:cut] for e in translator.feed(f)]
    events += translator.finish()
    check_response_stream(events)
    assert translator.broken and events[-1]["type"] == "response.failed"
    assert terminal(events)["error"]["code"] == "server_error"
    streamed = "".join(e["delta"] for e in events if e["type"] == "response.output_text.delta")
    kept = "".join(p.get("text", "") for o in terminal(events)["output"] if o["type"] == "message" for p in o["content"])
    assert kept == streamed, "what arrived is in the failed response"


# ------------------------------------------------------------------------ responses → chat


@PROPERTY
@given(responses_streams())
def test_responses_stream_commutes_with_the_non_stream_translation(case: tuple[list[JsonDict], JsonDict]) -> None:
    events, final = case
    before = copy.deepcopy(events)
    chunks = list(translate_stream(events, "chat", include_usage=True))
    assert events == before, "the input events are not modified"
    check_chat_stream(chunks, include_usage=True)
    got = assemble_chat(chunks)
    want = translate(final, "chat").body
    assert got == want


@PROPERTY
@given(responses_streams(), st.sampled_from([{}, {"event_lines": False}, {"sequence": False}, {"done": True},
                                              {"event_lines": False, "sequence": False, "done": True, "newline": "\r\n"}]),
       st.data())
def test_any_gateway_variant_and_byte_split_gives_the_same_chat_stream(case: tuple[list[JsonDict], JsonDict], variant: JsonDict,
                                                                      data: st.DataObject) -> None:
    events, _ = case
    raw = responses_sse(events, **variant)
    cuts = sorted(data.draw(st.lists(st.integers(0, len(raw)), max_size=20)))
    bounds = [0, *cuts, len(raw)]
    out = b"".join(translate_sse([raw[a:b] for a, b in itertools.pairwise(bounds)], "chat", include_usage=True))
    frames, done = decode_chat_sse(out)
    assert done and frames == list(translate_stream(events, "chat", include_usage=True))


@PROPERTY
@given(responses_streams(), st.data())
def test_a_responses_stream_cut_before_its_terminal_event_fails_cleanly(case: tuple[list[JsonDict], JsonDict],
                                                                        data: st.DataObject) -> None:
    events, _ = case
    cut = data.draw(st.integers(1, len(events) - 1))
    translator = StreamTranslator("chat")
    chunks = [c for e in events[:cut] for c in translator.feed(e)]
    chunks += translator.finish()
    check_chat_stream(chunks)
    assert translator.broken and chunks[-1]["error"]["code"] == "server_error"


# ------------------------------------------------------------------------ round trip


@PROPERTY
@given(chat_streams())
def test_chat_stream_round_trips_like_the_non_stream_translation(frames: list[JsonDict]) -> None:
    """chat stream → responses stream → chat stream assembles to the completion the
    non-stream round trip gives, and keeps the original's content, refusal and calls."""
    events = list(translate_stream(frames, "responses"))
    back = list(translate_stream(events, "chat", include_usage=True))
    check_chat_stream(back, include_usage=True)
    got = assemble_chat(back)
    original = assemble_chat(frames)
    want = translate(translate(original, "responses").body, "chat").body
    if "usage" not in want:
        assert got.get("usage") is None
        got.pop("usage", None)
    assert got == want
    msg, before = got["choices"][0]["message"], original["choices"][0]["message"]
    assert (msg["content"] or "") == (before["content"] or "")
    assert msg["refusal"] == before["refusal"]
    assert msg.get("tool_calls") == before.get("tool_calls")
