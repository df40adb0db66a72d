"""Fuzzing the stream translators: whatever the frames hold, the result is output or a StreamError.

The recorded fixtures (fixtures/streams/) are mutated one field at a time: each field of each
frame replaced by null, numbers, strings (a lone surrogate among them), lists, objects and deep
nesting, both as parsed frames (translate_stream, StreamTranslator) and as SSE text
(translate_sse, where the text itself can hold NaN, 1e999, escapes and nesting that Python's
json reads but JSON cannot carry). Hypothesis adds arbitrary JSON frames. Every SSE output
must be JSON that a strict reader takes.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from migrator.streams import StreamError, StreamTranslator, atranslate_sse, iter_frames, translate_sse, translate_stream
from tests.mutations import replaced

pytestmark = pytest.mark.slow  # fuzzing: arbitrary input for robustness, the bulk of the suite's time

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "streams"
STREAMS = {path.name: list(iter_frames([path.read_bytes()])) for path in sorted(FIXTURES.glob("*.sse"))}
TARGETS = ("chat", "responses")


def _deep(levels: int) -> Any:
    value: Any = []
    for _ in range(levels):
        value = [value]
    return value


REPLACEMENTS: list[Any] = [
    None, 0, -1, 2.5, 10**30, float("inf"), float("-inf"), float("nan"), True, "", "x", "\ud800", "response.completed",
    [], [1, "a"], {}, {"a": 1}, {"type": "function"}, _deep(150), _deep(3000),
]


def _fields(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    if type(value) is dict:
        for key, item in value.items():
            yield (*path, key)
            yield from _fields(item, (*path, key))
    elif type(value) is list:
        for i, item in enumerate(value):
            yield (*path, i)
            yield from _fields(item, (*path, i))




def _mutations() -> list[tuple[str, int, tuple[Any, ...]]]:
    return [(name, i, path) for name, frames in STREAMS.items() for i, frame in enumerate(frames) for path in _fields(frame)]


MUTATIONS = _mutations()


def _drain(frames: list[Any], to: str) -> list[dict[str, Any]]:
    try:
        return list(translate_stream(frames, to))  # type: ignore[arg-type]
    except StreamError:
        return []


def test_the_fixtures_give_many_fields_to_mutate() -> None:
    assert len(STREAMS) == 5 and len(MUTATIONS) > 500


@pytest.mark.parametrize("name", sorted(STREAMS))
def test_every_field_of_every_frame_replaced_by_anything_is_output_or_a_stream_error(name: str) -> None:
    """Exhaustive, not sampled: about 14,000 streams per run, in a few seconds."""
    frames = STREAMS[name]
    for i, frame in enumerate(frames):
        for path in _fields(frame):
            for new in REPLACEMENTS:
                mutated = [*frames[:i], replaced(frame, path, new), *frames[i + 1:]]
                for to in TARGETS:
                    _drain(mutated, to)
        for new in REPLACEMENTS:  # the whole frame replaced
            for to in TARGETS:
                _drain([*frames[:i], new, *frames[i + 1:]], to)


# ------------------------------------------------------------------ as SSE text

TEXT_REPLACEMENTS = [
    "null", "0", "-1.5e-3", "1e999", "-1E+400", "NaN", "Infinity", "-Infinity", "9" * 5000, '"\\ud800"', '"\\udc00x"',
    '"\\ud83d\\ude00"', '"a\\nb"', "[]", "{}", '{"type": "response.failed"}', "[" * 150 + "]" * 150, "[" * 3000 + "]" * 3000,
    '"data: [DONE]"', '"\\r\\n\\r\\nevent: x"',
]
MARK = "\u0000fuzz\u0000"


def _sse(frames: list[str]) -> bytes:
    return "".join(f"data: {data}\n\n" for data in frames).encode("utf-8", "surrogatepass")


def _strict_json(data: str) -> Any:
    def refuse(name: str) -> Any:
        raise AssertionError(f"not JSON in the output: {name}")
    return json.loads(data, parse_constant=refuse)


def _check_output(out: bytes, to: str) -> None:
    """The output frames are SSE with JSON a strict reader takes (no NaN/Infinity, valid UTF-8)."""
    text = out.decode("utf-8")
    for block in text.split("\n\n"):
        if not block:
            continue
        lines = block.split("\n")
        data = [line[6:] for line in lines if line.startswith("data: ")]
        assert len(data) == 1, block
        if data[0] != "[DONE]":
            frame = _strict_json(data[0])
            assert type(frame) is dict
            if to == "responses":
                assert lines == [f"event: {frame['type']}", f"data: {data[0]}"]


def _translate_sse(frames: list[str], to: str) -> None:
    out: list[bytes] = []
    try:
        for data in translate_sse([_sse(frames)], to):  # type: ignore[arg-type]
            out.append(data)
    except StreamError:
        pass
    _check_output(b"".join(out), to)


@settings(max_examples=250, deadline=None)
@given(st.sampled_from(MUTATIONS), st.sampled_from(TEXT_REPLACEMENTS), st.sampled_from(TARGETS))
def test_sse_text_with_any_field_replaced_is_output_or_a_stream_error(
        mutation: tuple[str, int, tuple[Any, ...]], text: str, to: str) -> None:
    name, i, path = mutation
    frames = [json.dumps(f, ensure_ascii=False) for f in STREAMS[name]]
    frames[i] = json.dumps(replaced(STREAMS[name][i], path, MARK), ensure_ascii=False).replace(json.dumps(MARK), text)
    _translate_sse(frames, to)


def test_the_text_replacements_that_json_cannot_carry_are_stream_errors_naming_frame_and_path() -> None:
    frames = [json.dumps(f) for f in STREAMS["chat_text_usage.sse"]]
    bad = {"NaN": "expected a finite number", "9" * 5000: "an integer of at most", '"\\ud800"': "valid Unicode text",
           "[" * 3000 + "]" * 3000: "nested at most 100 levels"}
    for text, expected in bad.items():
        mutated = [*frames[:2], re.sub(r'"created": \d+', '"created": ' + text.replace("\\", "\\\\"), frames[2]), *frames[3:]]
        assert mutated[2] != frames[2]
        with pytest.raises(StreamError, match=r"^frame 3: .*" + expected):
            list(translate_sse([_sse(mutated)], "responses"))


# ------------------------------------------------------------------ arbitrary frames

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=6)
    | st.sampled_from(["response.output_text.delta", "response.completed", "response.output_item.added", "function_call",
                       "chat.completion.chunk", "assistant", "stop", "tool_calls"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
        st.sampled_from(["type", "choices", "delta", "index", "content", "tool_calls", "function", "arguments", "id", "item",
                         "item_id", "output_index", "content_index", "response", "output", "usage", "finish_reason",
                         "logprobs", "role", "refusal", "error", "status", "text", "part", "name", "object"]) | st.text(max_size=4),
        inner, max_size=4),
    max_leaves=12,
)


@settings(max_examples=250, deadline=None)
@given(st.sampled_from(sorted(STREAMS)), st.integers(0, 40), st.lists(json_values, min_size=1, max_size=4), st.booleans(),
       st.sampled_from(TARGETS))
def test_arbitrary_json_frames_amid_a_real_stream_are_output_or_a_stream_error(
        name: str, at: int, extra: list[Any], keep_tail: bool, to: str) -> None:
    frames = STREAMS[name]
    at = min(at, len(frames))
    mutated = [*frames[:at], *extra, *(frames[at:] if keep_tail else [])]
    _drain(mutated, to)
    _translate_sse([json.dumps(f, ensure_ascii=False) for f in mutated], to)


@settings(max_examples=100, deadline=None)
@given(st.lists(json_values, min_size=1, max_size=5), st.sampled_from(TARGETS))
def test_a_stream_of_arbitrary_frames_is_output_or_a_stream_error(frames: list[Any], to: str) -> None:
    translator = StreamTranslator(to)  # type: ignore[arg-type]
    try:
        for frame in frames:
            translator.feed(frame)
        translator.finish()
    except StreamError:
        pass


def test_the_async_path_reads_and_refuses_the_same() -> None:
    async def chunks(data: bytes) -> AsyncIterator[bytes]:
        yield data

    async def run(data: bytes, to: str) -> bytes:
        return b"".join([out async for out in atranslate_sse(chunks(data), to)])  # type: ignore[arg-type]

    good = [json.dumps(f) for f in STREAMS["responses_reasoning_text_tool.sse"]]
    assert asyncio.run(run(_sse(good), "chat")).endswith(b"data: [DONE]\n\n")
    bad = [*good[:3], good[3][:-1] + ', "x": 1e999}', *good[4:]]
    with pytest.raises(StreamError, match="frame 4"):
        asyncio.run(run(_sse([*good[:3], good[3][:-1] + ', "x": NaN}', *good[4:]]), "chat"))
    asyncio.run(run(_sse(bad), "chat"))  # the extra key is read past: 1e999 never reaches the output
