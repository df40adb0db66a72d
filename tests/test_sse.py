"""The SSE codec: the incremental parser (bytes split anywhere) and the two dialects' writers."""

from __future__ import annotations

import itertools
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from migrator.streams import StreamError, translate_sse
from migrator.streams.sse import CHAT_DONE, SSEDecoder, encode_chat, encode_responses, iter_sse
from tests.stream_helpers import (
    base_response,
    chat_sse,
    chunk,
    decode_chat_sse,
    decode_responses_sse,
    message_item,
    response_events,
    responses_sse,
    split_frames,
    text_stream,
)

# Every feature of the format in one stream: a comment, CRLF, an event name, a two-byte
# character, a multi-line data field with an emoji, a field with no space after the colon,
# CR-only line ends, an id and a retry field, [DONE].
SAMPLE = (
    ": keep-alive\r\n\r\n"
    "event: response.output_text.delta\r\n"
    'data: {"delta": "é"}\r\n\r\n'
    "data: line one\n"
    "data: line two 😀\n\n"
    "data:no-space\r"
    "\r"
    "id: 7\n"
    "event: x\n"
    'data: {"a": 1}\n'
    "retry: 100\n\n"
    ": another comment\n"
    "data: [DONE]\n\n"
).encode()

EXPECTED = [
    ("response.output_text.delta", '{"delta": "é"}'),
    (None, "line one\nline two 😀"),
    (None, "no-space"),
    ("x", '{"a": 1}'),
    (None, "[DONE]"),
]


def parse(parts: list[bytes] | list[str]) -> list[tuple[str | None, str]]:
    decoder = SSEDecoder()
    events = []
    for part in parts:
        events += decoder.feed(part)
    events += decoder.close()
    return [(e.event, e.data) for e in events]


def test_sample_parses_whole() -> None:
    assert parse([SAMPLE]) == EXPECTED


@pytest.mark.parametrize("cut", range(1, len(SAMPLE)))
def test_every_split_point(cut: int) -> None:
    """One cut anywhere: mid-line, between \\r and \\n, inside é (2 bytes) and 😀 (4 bytes)."""
    assert parse([SAMPLE[:cut], SAMPLE[cut:]]) == EXPECTED


def test_the_sample_has_the_hard_split_points() -> None:
    """The parametrized cuts above include each hard case (so the sample stays honest)."""
    crlf = SAMPLE.index(b"\r\n") + 1
    assert SAMPLE[crlf - 1:crlf + 1] == b"\r\n"
    e_acute = SAMPLE.index("é".encode()) + 1
    assert len(SAMPLE[e_acute - 1:e_acute + 1].decode("utf-8", "ignore")) == 1  # a cut inside the character
    emoji = SAMPLE.index("😀".encode())
    assert [SAMPLE[:emoji + k].decode("utf-8", "replace")[-1] for k in (1, 2, 3)] == ["\ufffd"] * 3


def test_byte_by_byte() -> None:
    assert parse([SAMPLE[i:i + 1] for i in range(len(SAMPLE))]) == EXPECTED


def test_every_pair_of_cuts_in_the_crlf_and_utf8_region() -> None:
    """Two cuts at once, both within the region of \\r\\n and multi-byte characters."""
    start = SAMPLE.index(b"event: response")
    end = SAMPLE.index(b"data:no-space")
    for a in range(start, end):
        for b in range(a + 1, end + 1):
            assert parse([SAMPLE[:a], SAMPLE[a:b], SAMPLE[b:]]) == EXPECTED, (a, b)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.integers(0, len(SAMPLE)), max_size=12))
def test_any_splits(cuts: list[int]) -> None:
    bounds = [0, *sorted(cuts), len(SAMPLE)]
    assert parse([SAMPLE[a:b] for a, b in itertools.pairwise(bounds)]) == EXPECTED


def test_str_chunks_are_read_too() -> None:
    text = SAMPLE.decode()
    assert parse([text[i:i + 3] for i in range(0, len(text), 3)]) == EXPECTED


@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"])
def test_line_ends(newline: str) -> None:
    body = f"event: a{newline}data: 1{newline}data: 2{newline}{newline}data: 3{newline}{newline}"
    assert parse([body.encode()]) == [("a", "1\n2"), (None, "3")]


def test_cr_then_lf_in_the_next_chunk_is_one_line_end() -> None:
    assert parse([b"data: 1\r", b"\n", b"\r", b"\ndata: 2\r\n\r\n"]) == [(None, "1"), (None, "2")]


def test_a_lone_cr_then_an_empty_chunk_then_lf() -> None:
    assert parse([b"data: 1\r", b"", b"\n\r\n"]) == [(None, "1")]


def test_comments_and_unknown_fields_are_ignored() -> None:
    assert parse([b": keep-alive\n\n:\n\nfoo: bar\ndata: x\n\n"]) == [(None, "x")]


def test_event_name_resets_after_dispatch() -> None:
    assert parse([b"event: a\ndata: 1\n\ndata: 2\n\n"]) == [("a", "1"), (None, "2")]


def test_a_last_event_without_its_blank_line_is_dispatched_at_close() -> None:
    assert parse([b"data: 1\n\ndata: 2"]) == [(None, "1"), (None, "2")]
    assert parse([b"data: 1\n\ndata: 2\n"]) == [(None, "1"), (None, "2")]


def test_a_truncated_utf8_character_at_close_is_replaced_not_raised() -> None:
    assert parse([b"data: caf\xc3"]) == [(None, "caf\ufffd")]


def test_id_field_is_kept() -> None:
    decoder = SSEDecoder()
    events = decoder.feed(b"id: 42\ndata: x\n\n")
    assert events[0].id == "42"


def test_iter_sse_over_a_generator() -> None:
    events = list(iter_sse(iter([SAMPLE[:10], SAMPLE[10:]])))
    assert [(e.event, e.data) for e in events] == EXPECTED


def test_an_event_with_no_data_lines_is_not_dispatched() -> None:
    assert parse([b"event: ping\n\ndata: 1\n\n"]) == [(None, "1")]


def test_a_leading_byte_order_mark_is_skipped() -> None:
    assert parse(["\ufeffdata: 1\n\n".encode()]) == [(None, "1")]


# ------------------------------------------------------------------------ writers


def test_encode_chat_is_exactly_one_data_line_and_a_blank_line() -> None:
    frame = chunk({"content": "é\n😀"})
    raw = encode_chat(frame)
    assert raw.startswith(b"data: {") and raw.endswith(b"}\n\n") and raw.count(b"\n") == 2
    assert json.loads(raw[6:-2]) == frame
    assert "é".encode() in raw  # UTF-8, not \\u escapes
    assert CHAT_DONE == b"data: [DONE]\n\n"


def test_encode_responses_is_an_event_line_a_data_line_and_a_blank_line() -> None:
    event = {"type": "response.output_text.delta", "item_id": "msg_1", "output_index": 0, "content_index": 0,
             "delta": "line\nbreak", "logprobs": [], "sequence_number": 4}
    raw = encode_responses(event)
    head, data, blank, end = raw.split(b"\n")
    assert (head, blank, end) == (b"event: response.output_text.delta", b"", b"")
    assert data.startswith(b"data: ") and json.loads(data[6:]) == event


def _clean_chat_stream() -> list[dict[str, Any]]:
    return text_stream(["Hel", "lo"], usage={"prompt_tokens": 1, "completion_tokens": 2, "total_tokens": 3})


def test_responses_output_framing() -> None:
    """``event: <type>`` + ``data: {json with type and sequence_number}``, no [DONE]."""
    out = b"".join(translate_sse([chat_sse(_clean_chat_stream())], "responses"))
    assert b"[DONE]" not in out
    events = decode_responses_sse(out)
    assert [e["sequence_number"] for e in events] == list(range(len(events)))
    assert events[-1]["type"] == "response.completed"


def test_chat_output_framing() -> None:
    """Exactly ``data: {json}\\n\\n`` frames, then ``data: [DONE]\\n\\n`` last."""
    final = base_response([message_item("Hello")])
    out = b"".join(translate_sse([responses_sse(response_events(final))], "chat"))
    assert out.endswith(b"\n\ndata: [DONE]\n\n")
    frames, done = decode_chat_sse(out)
    assert done and all(f["object"] == "chat.completion.chunk" for f in frames)
    assert all(not raw.startswith(b"event:") for raw in split_frames(out))


def test_output_is_one_frame_per_write() -> None:
    """Each yielded bytes object is whole frames (a proxy can flush it as is)."""
    for piece in translate_sse([chat_sse(_clean_chat_stream())], "responses"):
        assert piece.endswith(b"\n\n") and piece.startswith(b"event: ")
    final = base_response([message_item("Hello")])
    for piece in translate_sse([responses_sse(response_events(final))], "chat"):
        assert piece.endswith(b"\n\n") and piece.startswith(b"data: ")


# ------------------------------------------------------------------------ gateway variants


def _chat_of(raw: bytes) -> list[dict[str, Any]]:
    frames, done = decode_chat_sse(b"".join(translate_sse([raw], "chat")))
    assert done
    return frames


GATEWAY_VARIANTS = {
    "canonical": {},
    "no event lines": {"event_lines": False},
    "no sequence_number": {"sequence": False},
    "trailing [DONE]": {"done": True},
    "all three": {"event_lines": False, "sequence": False, "done": True},
    "CRLF": {"newline": "\r\n"},
    "CR": {"newline": "\r", "event_lines": False},
}


@pytest.mark.parametrize("variant", GATEWAY_VARIANTS, ids=list(GATEWAY_VARIANTS))
def test_gateway_variants_of_a_responses_stream_read_the_same(variant: str) -> None:
    final = base_response([message_item("Hi there")])
    events = response_events(final, text_splits={(0, 0): ["Hi", " there"]})
    canonical = _chat_of(responses_sse(events))
    raw = responses_sse(events, **GATEWAY_VARIANTS[variant])
    assert _chat_of(raw) == canonical
    # and split into 7-byte pieces
    assert b"".join(translate_sse([raw[i:i + 7] for i in range(0, len(raw), 7)], "chat")) == \
        b"".join(translate_sse([responses_sse(events)], "chat"))


def test_chat_stream_with_comments_and_crlf_reads_the_same() -> None:
    frames = _clean_chat_stream()
    canonical = b"".join(translate_sse([chat_sse(frames)], "responses"))
    noisy = b": keep-alive\r\n\r\n" + chat_sse(frames).replace(b"\n", b"\r\n").replace(b"data: {", b": ping\r\ndata: {", 1)
    assert b"".join(translate_sse([noisy], "responses")) == canonical


def test_nothing_after_done_is_read() -> None:
    raw = chat_sse(_clean_chat_stream()) + b"data: {not json\n\n"
    out = b"".join(translate_sse([raw], "responses"))
    assert decode_responses_sse(out)[-1]["type"] == "response.completed"


def test_chat_stream_without_done_still_finishes_cleanly_after_its_finish_reason() -> None:
    out = b"".join(translate_sse([chat_sse(_clean_chat_stream(), done=False)], "responses"))
    assert decode_responses_sse(out)[-1]["type"] == "response.completed"


def test_invalid_json_in_data_names_the_frame() -> None:
    raw = chat_sse(_clean_chat_stream()[:2], done=False) + b": comment, not a frame\n\ndata: {\"id\": \n\n"
    with pytest.raises(StreamError, match=r"^frame 3: invalid JSON in data") as info:
        list(translate_sse([raw], "responses"))
    assert info.value.frame == 3
