"""Helpers for the stream tests: frame builders, SSE writers, assemblers, invariant checks, generators.

* ``chunk`` / ``chat_sse`` / ``responses_sse`` build input streams (the latter with the
  gateway variants: no ``event:`` lines, no ``sequence_number``, a trailing ``[DONE]``).
* ``assemble_chat`` folds chat chunks into the ``ChatCompletion`` a client ends up with
  (the SDK's accumulation: strings concatenated, tool calls merged by ``index``,
  the last ``finish_reason`` and ``usage``).
* ``check_response_stream`` / ``check_chat_stream`` hold every invariant of an emitted
  stream (order, sequence numbers, ids, indexes, shapes against the SDK types).
* ``response_events`` writes the event sequence OpenAI streams for a final Response.
* ``Tripwire`` is a source that records how far it was read and fails if read too far.
* ``chat_streams`` / ``responses_streams`` are hypothesis strategies.
"""

from __future__ import annotations

import copy
import itertools
import json
from collections.abc import Iterable, Iterator
from typing import Any

import httpx
import openai
from hypothesis import strategies as st

from migrator.streams.sse import CHAT_DONE, encode_chat
from tests.sdk_shapes import check_chunk, check_event, check_result

JsonDict = dict[str, Any]

CHAT_ID = "chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT"
CREATED = 1_741_569_952
MODEL = "gpt-4.1-2025-04-14"

TERMINAL = ("response.completed", "response.incomplete", "response.failed")
ITEM_PREFIX = {"message": "msg_", "function_call": "fc_", "reasoning": "rs_", "custom_tool_call": "ctc_"}

_MISSING: Any = object()


# ------------------------------------------------------------------------ building input


def chunk(delta: JsonDict | None = None, *, finish: str | None = None, usage: Any = _MISSING, logprobs: Any = None,
          id: str = CHAT_ID, created: int = CREATED, model: str = MODEL, choices: bool = True, **top: Any) -> JsonDict:
    """One chat.completion.chunk as OpenAI writes it (``choices=False``: the trailing usage chunk)."""
    out: JsonDict = {"id": id, "object": "chat.completion.chunk", "created": created, "model": model, **top}
    out["choices"] = [{"index": 0, "delta": {} if delta is None else delta, "logprobs": logprobs, "finish_reason": finish}] if choices else []
    if usage is not _MISSING:
        out["usage"] = usage
    return out


def usage_chunk(usage: JsonDict, **kw: Any) -> JsonDict:
    return chunk(choices=False, usage=usage, **kw)


CHAT_USAGE: JsonDict = {
    "prompt_tokens": 19, "completion_tokens": 10, "total_tokens": 29,
    "prompt_tokens_details": {"cached_tokens": 3, "audio_tokens": 0},
    "completion_tokens_details": {"reasoning_tokens": 4, "audio_tokens": 0, "accepted_prediction_tokens": 0,
                                  "rejected_prediction_tokens": 0},
}


def text_stream(pieces: Iterable[str], *, finish: str = "stop", usage: JsonDict | None = None) -> list[JsonDict]:
    """A plain text chat stream: the role chunk, one chunk per piece, the finish chunk (and a usage chunk)."""
    frames = [chunk({"role": "assistant", "content": "", "refusal": None})]
    frames += [chunk({"content": p}) for p in pieces]
    frames.append(chunk({}, finish=finish))
    if usage is not None:
        frames.append(usage_chunk(usage))
    return frames


def chat_sse(frames: Iterable[JsonDict], *, done: bool = True) -> bytes:
    return b"".join(encode_chat(f) for f in frames) + (CHAT_DONE if done else b"")


def responses_sse(events: Iterable[JsonDict], *, event_lines: bool = True, sequence: bool = True, done: bool = False,
                  newline: str = "\n") -> bytes:
    """Responses events as SSE; the keyword arguments make the gateway variants."""
    out = []
    for event in events:
        if not sequence:
            event = {k: v for k, v in event.items() if k != "sequence_number"}
        data = json.dumps(event, ensure_ascii=False)
        text = (f"event: {event['type']}{newline}" if event_lines else "") + f"data: {data}{newline}{newline}"
        out.append(text.encode())
    if done:
        out.append(f"data: [DONE]{newline}{newline}".encode())
    return b"".join(out)


def split_frames(data: bytes) -> list[bytes]:
    """The canonical writers' frames: every frame ends with one blank line and nothing else sits between."""
    assert data.endswith(b"\n\n"), data[-40:]
    frames = [f + b"\n\n" for f in data[:-2].split(b"\n\n")]
    assert b"".join(frames) == data
    return frames


def decode_chat_sse(data: bytes) -> tuple[list[JsonDict], bool]:
    """Chat SSE bytes written by the engine → (frames, ended with [DONE]), checking the exact framing."""
    frames, done = [], False
    for raw in split_frames(data):
        assert not done, "a frame after data: [DONE]"
        assert raw.startswith(b"data: ") and raw.count(b"\n") == 2, raw
        payload = raw[6:-2].decode()
        if payload == "[DONE]":
            done = True
            continue
        frames.append(json.loads(payload))
    return frames, done


def decode_responses_sse(data: bytes) -> list[JsonDict]:
    """Responses SSE bytes written by the engine → events, checking ``event: <type>\\ndata: {json}\\n\\n``."""
    events = []
    for raw in split_frames(data):
        lines = raw[:-2].decode().split("\n")
        assert len(lines) == 2 and lines[0].startswith("event: ") and lines[1].startswith("data: "), raw
        event = json.loads(lines[1][6:])
        assert lines[0] == f"event: {event['type']}"
        events.append(event)
    return events


# ------------------------------------------------------------------------ assembling


def assemble_chat(chunks: Iterable[JsonDict]) -> JsonDict:
    """The ChatCompletion a client accumulates from chat chunks (as ``ChatCompletionStreamState`` does).

    Top-level fields come from the first chunk; content, refusal and reasoning_content
    concatenate (None until a string arrives, even ""); tool calls merge by ``index``
    (id/type from the first fragment that has them, name and arguments concatenated);
    the last non-null ``finish_reason`` and ``usage`` win (``usage`` is null without a
    usage chunk); logprobs lists concatenate.
    Error frames are not chunks: passing one is a test failure.
    """
    out: JsonDict | None = None
    message: JsonDict = {"role": "assistant", "content": None, "refusal": None}
    calls: dict[int, JsonDict] = {}
    finish = None
    logprobs: JsonDict | None = None
    usage = None
    for c in chunks:
        assert "error" not in c, f"an error frame is not a chunk: {c}"
        if out is None:
            out = {"id": c["id"], "object": "chat.completion", "created": c["created"], "model": c["model"]}
            for key in ("service_tier", "system_fingerprint"):
                if key in c:
                    out[key] = c[key]
        if c.get("usage") is not None:
            usage = c["usage"]
        for choice in c["choices"]:
            if choice.get("index", 0) != 0:
                continue
            delta = choice.get("delta") or {}
            for key in ("content", "refusal", "reasoning_content"):
                piece = delta.get(key)
                if isinstance(piece, str):
                    message[key] = (message.get(key) or "") + piece
            for frag in delta.get("tool_calls") or []:
                call = calls.setdefault(frag["index"], {"id": None, "type": "function"})
                if frag.get("id") and call["id"] is None:
                    call["id"] = frag["id"]
                if frag.get("type"):
                    call["type"] = frag["type"]
                key, field = ("custom", "input") if call["type"] == "custom" else ("function", "arguments")
                body = call.setdefault(key, {"name": "", field: ""})
                fn = frag.get(key) or {}
                body["name"] += fn.get("name") or ""
                body[field] += fn.get(field) or ""
            if choice.get("finish_reason") is not None:
                finish = choice["finish_reason"]
            lp = choice.get("logprobs")
            if lp is not None:
                logprobs = logprobs or {"content": None, "refusal": None}
                for key in ("content", "refusal"):
                    if lp.get(key):
                        logprobs[key] = (logprobs[key] or []) + lp[key]
    assert out is not None, "no chunks"
    if calls:
        message["tool_calls"] = [calls[i] for i in sorted(calls)]
    out["choices"] = [{"index": 0, "message": message, "finish_reason": finish, "logprobs": logprobs}]
    out["usage"] = usage
    return out


def terminal(events: list[JsonDict]) -> JsonDict:
    """The Response the terminal event carries."""
    assert events and events[-1]["type"] in TERMINAL, [e["type"] for e in events[-3:]]
    response: JsonDict = events[-1]["response"]
    return response


def message_view(completion: JsonDict) -> JsonDict:
    """What a chat client reads of a completion: content, refusal, tool calls, finish_reason, usage."""
    choice = completion["choices"][0]
    msg = choice["message"]
    return {"content": msg.get("content"), "refusal": msg.get("refusal"), "tool_calls": msg.get("tool_calls"),
            "finish_reason": choice["finish_reason"], "usage": completion.get("usage")}


# ------------------------------------------------------------------------ invariants


def check_response_stream(events: list[JsonDict], *, allow_extra: frozenset[str] = frozenset()) -> None:
    """Every invariant of a Responses event stream the engine writes.

    Shapes (every event, and the Response inside created/in_progress/terminal events);
    ``response.created`` then ``response.in_progress`` first, one terminal event last;
    ``sequence_number`` 0, 1, 2, …; one response id (``resp_``); item ids unique and
    prefixed by type; items added at output_index 0, 1, 2, … and done in that order;
    each item's events between its added and done, in lifecycle order, with its
    item_id; the ``.done`` texts equal the deltas joined; the terminal output is the
    done items in order.
    """
    assert len(events) >= 3, events
    for i, event in enumerate(events):
        check_event(event, allow_extra=allow_extra)
        assert event["sequence_number"] == i, (i, event)
        if "response" in event:
            check_result(event["response"], "responses", allow_extra=allow_extra)
    assert [e["type"] for e in events[:2]] == ["response.created", "response.in_progress"]
    assert events[0]["response"]["status"] == "in_progress" and events[0]["response"]["output"] == []
    kinds = [e["type"] for e in events]
    assert kinds[-1] in TERMINAL and not any(k in TERMINAL for k in kinds[:-1]), kinds
    response_ids = {e["response"]["id"] for e in events if "response" in e}
    assert len(response_ids) == 1 and next(iter(response_ids)).startswith("resp_"), response_ids
    final = events[-1]["response"]

    added: list[JsonDict] = []
    done: dict[int, JsonDict] = {}
    texts: dict[tuple[int, int, str], list[str]] = {}
    stage: dict[tuple[int, int], str] = {}
    for event in events[2:-1]:
        kind = event["type"]
        if kind == "response.output_item.added":
            assert event["output_index"] == len(added), event
            item = event["item"]
            assert item["id"].startswith(ITEM_PREFIX[item["type"]]), item
            assert item["id"] not in {a["id"] for a in added}, item
            added.append(item)
            continue
        index = event["output_index"]
        assert index < len(added) and index not in done, (event, "an event outside its item's added…done")
        item_id = added[index]["id"]
        if "item_id" in event:
            assert event["item_id"] == item_id, event
        if kind == "response.output_item.done":
            assert index == len(done), (event, "output_item.done out of output_index order")
            assert event["item"]["id"] == item_id and event["item"]["type"] == added[index]["type"]
            done[index] = event["item"]
        elif kind == "response.content_part.added":
            key = (index, event["content_index"])
            assert key not in stage, event
            stage[key] = "open"
        elif kind in ("response.output_text.delta", "response.refusal.delta", "response.reasoning_text.delta"):
            assert stage.get((index, event["content_index"])) == "open", event
            texts.setdefault((index, event["content_index"], kind.rsplit(".", 1)[0]), []).append(event["delta"])
        elif kind in ("response.output_text.done", "response.refusal.done", "response.reasoning_text.done"):
            key = (index, event["content_index"])
            assert stage.get(key) == "open", event
            stage[key] = "text-done"
            field = {"response.output_text.done": "text", "response.refusal.done": "refusal",
                     "response.reasoning_text.done": "text"}[kind]
            assert event[field] == "".join(texts.get((*key, kind.rsplit(".", 1)[0]), [])), event
        elif kind == "response.content_part.done":
            key = (index, event["content_index"])
            assert stage.get(key) == "text-done", event
            stage[key] = "done"
        elif kind == "response.function_call_arguments.delta":
            texts.setdefault((index, -1, "args"), []).append(event["delta"])
        elif kind == "response.function_call_arguments.done":
            assert event["arguments"] == "".join(texts.get((index, -1, "args"), [])), event
        else:
            raise AssertionError(f"an event the engine should not write here: {event}")
    for index, item in done.items():
        if item["type"] == "message":
            assert [stage.get((index, j)) for j in range(len(item["content"]))] == ["done"] * len(item["content"]), item
    if final["status"] != "failed":
        assert len(done) == len(added), "every item is done before the terminal event"
    assert len(final["output"]) == len(added)
    for index, item in enumerate(final["output"]):
        assert item["id"] == added[index]["id"]
        if index in done:
            assert item == done[index], (item, done[index])


def check_chat_stream(chunks: list[JsonDict], *, include_usage: bool = False, allow_extra: frozenset[str] = frozenset()) -> None:
    """Every invariant of a chat chunk stream the engine writes (an error frame, if any, last)."""
    assert chunks
    error = chunks[-1] if "error" in chunks[-1] and "choices" not in chunks[-1] else None
    body = chunks[:-1] if error is not None else chunks
    if error is not None:
        assert set(error["error"]) >= {"message", "type", "code"}, error
        assert all(isinstance(error["error"][k], str) for k in ("message", "type", "code")), error
    for c in body:
        check_chunk(c, allow_extra=allow_extra)
    if not body:
        return
    assert len({c["id"] for c in body}) == 1, "one chunk id for the whole stream"
    assert body[0]["choices"][0]["delta"].get("role") == "assistant"
    assert all(c["choices"][0]["delta"].get("role") is None for c in body[1:] if c["choices"])
    seen: list[int] = []
    for c in body:
        for choice in c["choices"]:
            for frag in choice["delta"].get("tool_calls") or []:
                if frag["index"] not in seen:
                    assert frag["index"] == len(seen), "tool-call indexes are 0..k in order of appearance"
                    assert frag.get("id") and frag["function"]["name"], frag
                    seen.append(frag["index"])
    finishes = [ch["finish_reason"] for c in body for ch in c["choices"] if ch["finish_reason"] is not None]
    if error is not None:
        assert finishes == [], "an error frame is not a normal finish"
        return
    assert len(finishes) == 1, finishes
    usage_chunks = [c for c in body if not c["choices"]]
    if include_usage:
        assert usage_chunks == [body[-1]], "the usage chunk comes last"
        assert body[-2]["choices"][0]["finish_reason"] is not None
    else:
        assert usage_chunks == [] and body[-1]["choices"][0]["finish_reason"] is not None
        assert all(c.get("usage") is None for c in body)


# ------------------------------------------------------------------------ Responses events for a final Response


def response_events(response: JsonDict, *, text_splits: dict[tuple[int, int], list[str]] | None = None,
                    arg_splits: dict[int, list[str] | None] | None = None) -> list[JsonDict]:
    """The events OpenAI streams for ``response`` (a finished Response).

    ``text_splits[(output_index, content_index)]`` are the deltas of a text/refusal/summary
    part (default: one delta); ``arg_splits[output_index]`` the argument deltas of a
    function call, or None for a call whose arguments arrive only in
    ``function_call_arguments.done`` (default: one delta).
    """
    text_splits = text_splits or {}
    arg_splits = arg_splits or {}
    events: list[JsonDict] = []

    def emit(kind: str, **fields: Any) -> None:
        events.append({"type": kind, **fields, "sequence_number": len(events)})

    start = {**copy.deepcopy(response), "status": "in_progress", "output": [], "incomplete_details": None, "error": None}
    start.pop("usage", None)
    emit("response.created", response=start)
    emit("response.in_progress", response=copy.deepcopy(start))
    for i, item in enumerate(response["output"]):
        iid = item["id"]
        kind = item["type"]
        if kind == "message":
            emit("response.output_item.added", output_index=i, item={**item, "status": "in_progress", "content": []})
            for j, part in enumerate(item["content"]):
                field = "text" if part["type"] == "output_text" else "refusal"
                whole = part[field]
                pieces = text_splits.get((i, j), [whole] if whole else [])
                empty = {"type": "output_text", "text": "", "annotations": []} if field == "text" else {"type": "refusal", "refusal": ""}
                emit("response.content_part.added", item_id=iid, output_index=i, content_index=j, part=empty)
                for piece in pieces:
                    if field == "text":
                        emit("response.output_text.delta", item_id=iid, output_index=i, content_index=j, delta=piece, logprobs=[])
                    else:
                        emit("response.refusal.delta", item_id=iid, output_index=i, content_index=j, delta=piece)
                if field == "text":
                    emit("response.output_text.done", item_id=iid, output_index=i, content_index=j, text=whole, logprobs=[])
                else:
                    emit("response.refusal.done", item_id=iid, output_index=i, content_index=j, refusal=whole)
                emit("response.content_part.done", item_id=iid, output_index=i, content_index=j, part=part)
        elif kind == "function_call":
            emit("response.output_item.added", output_index=i, item={**item, "arguments": "", "status": "in_progress"})
            pieces = arg_splits.get(i, [item["arguments"]] if item["arguments"] else [])
            for piece in pieces or []:
                emit("response.function_call_arguments.delta", item_id=iid, output_index=i, delta=piece)
            emit("response.function_call_arguments.done", item_id=iid, output_index=i, arguments=item["arguments"])
        elif kind == "reasoning":
            emit("response.output_item.added", output_index=i, item={**item, "summary": []})
            for j, part in enumerate(item["summary"]):
                emit("response.reasoning_summary_part.added", item_id=iid, output_index=i, summary_index=j,
                     part={"type": "summary_text", "text": ""})
                for piece in text_splits.get((i, j), [part["text"]] if part["text"] else []):
                    emit("response.reasoning_summary_text.delta", item_id=iid, output_index=i, summary_index=j, delta=piece)
                emit("response.reasoning_summary_text.done", item_id=iid, output_index=i, summary_index=j, text=part["text"])
                emit("response.reasoning_summary_part.done", item_id=iid, output_index=i, summary_index=j, part=part)
        else:
            raise ValueError(kind)
        emit("response.output_item.done", output_index=i, item=item)
    kind = {"completed": "response.completed", "incomplete": "response.incomplete", "failed": "response.failed"}[response["status"]]
    emit(kind, response=response)
    return events


def base_response(output: list[JsonDict], *, status: str = "completed", usage: JsonDict | None = None, **extra: Any) -> JsonDict:
    """A finished Response with the SDK's required fields."""
    out: JsonDict = {
        "id": "resp_67ccd2bed1ec8190b14f964abc0542670bb6a6b452d3795b", "object": "response", "created_at": 1741476542,
        "status": status, "error": None, "incomplete_details": None, "instructions": None, "model": "gpt-5-2025-08-07",
        "output": output, "parallel_tool_calls": True, "tool_choice": "auto", "tools": [], **extra,
    }
    out["usage"] = usage
    return out


RESPONSES_USAGE: JsonDict = {"input_tokens": 36, "input_tokens_details": {"cached_tokens": 0, "cache_write_tokens": 0}, "output_tokens": 87,
                             "output_tokens_details": {"reasoning_tokens": 64}, "total_tokens": 123}


def message_item(text: str | None = None, refusal: str | None = None, *, id: str = "msg_67ccd2bf17f0819081ff3bb2cf6508e6",
                 status: str = "completed") -> JsonDict:
    content: list[JsonDict] = []
    if text is not None:
        content.append({"type": "output_text", "text": text, "annotations": []})
    if refusal is not None:
        content.append({"type": "refusal", "refusal": refusal})
    return {"type": "message", "id": id, "status": status, "role": "assistant", "content": content}


def call_item(call_id: str, name: str, arguments: str, *, status: str = "completed") -> JsonDict:
    return {"type": "function_call", "id": "fc_" + call_id.removeprefix("call_"), "call_id": call_id, "name": name,
            "arguments": arguments, "status": status}


# ------------------------------------------------------------------------ driving streams


class Tripwire:
    """An input source that records how many items were pulled and fails if pulled past ``limit``.

    Translating from it proves incrementality: an output that comes out while the
    tripwire still holds was produced before the source reached its end.
    """

    def __init__(self, items: Iterable[Any], limit: int) -> None:
        self.items = list(items)
        self.limit = limit
        self.pulled = 0

    def __iter__(self) -> Iterator[Any]:
        for item in self.items:
            if self.pulled >= self.limit:
                raise AssertionError(f"the translator read item {self.pulled + 1} before yielding (limit {self.limit})")
            self.pulled += 1
            yield item

    async def _aiter(self) -> Any:
        for item in self:
            yield item

    def __aiter__(self) -> Any:
        return self._aiter()


def sdk_client(body: bytes, *, status: int = 200, seen: list[httpx.Request] | None = None) -> openai.OpenAI:
    """An OpenAI client whose every request is answered with ``body`` as an event stream."""

    def handler(request: httpx.Request) -> httpx.Response:
        if seen is not None:
            seen.append(request)
        return httpx.Response(status, content=body, headers={"content-type": "text/event-stream"})

    return openai.OpenAI(api_key="test", base_url="http://test/v1", max_retries=0,
                         http_client=httpx.Client(transport=httpx.MockTransport(handler)))


# ------------------------------------------------------------------------ hypothesis strategies

# Text with the characters that break naive codecs: multi-byte UTF-8, emoji, newlines, quotes.
stream_text = st.text(alphabet=st.sampled_from([*list('ab cdé\n"\\{}:,😀中'), "\u2028", "\r"]), min_size=1, max_size=24)
id_tokens = st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJ0123456789", min_size=6, max_size=12)
function_names = st.sampled_from(["get_weather", "lookup", "send_email", "search_docs"])
arguments_text = st.dictionaries(st.sampled_from(["city", "q", "n", "unit"]),
                                 st.one_of(st.integers(-5, 99), stream_text), max_size=3).map(lambda d: json.dumps(d, ensure_ascii=False))


def pieces(draw: st.DrawFn, text: str, *, allow_empty: bool = False) -> list[str]:
    """``text`` split at random points (an empty text gives no pieces)."""
    if not text:
        return [""] if allow_empty and draw(st.booleans()) else []
    cuts = sorted(draw(st.sets(st.integers(1, max(1, len(text) - 1)), max_size=min(6, len(text) - 1))) if len(text) > 1 else [])
    bounds = [0, *cuts, len(text)]
    return [text[a:b] for a, b in itertools.pairwise(bounds) if b > a]


chat_usages = st.builds(
    lambda p, c, cached, reasoning, details: {
        "prompt_tokens": p, "completion_tokens": c, "total_tokens": p + c,
        **({"prompt_tokens_details": {"cached_tokens": cached, "audio_tokens": 0},
            "completion_tokens_details": {"reasoning_tokens": reasoning, "audio_tokens": 0,
                                          "accepted_prediction_tokens": 0, "rejected_prediction_tokens": 0}} if details else {}),
    },
    st.integers(0, 5000), st.integers(0, 5000), st.integers(0, 100), st.integers(0, 100), st.booleans(),
)


@st.composite
def chat_streams(draw: st.DrawFn) -> list[JsonDict]:
    """A chat chunk stream as OpenAI (or a compatible upstream) sends it.

    Order: the role chunk, reasoning_content deltas, content deltas (with logprobs or
    not), refusal deltas, tool-call fragments, the finish_reason, an optional usage
    chunk. Each text is split at random points; tool-call argument fragments of
    parallel calls interleave at random, each call's first fragment (id and name)
    coming in index order, as OpenAI assigns indexes; a chunk may carry several
    fragments. Narrowings, each for a reason:

    * text comes before tool calls and reasoning before text (content after a tool
      call or reasoning after text are separate tests in test_streams.py).

    The role chunk's ``content`` is ``""`` or ``null`` (OpenAI sends ``""`` before text,
    ``null`` before tool calls; gateways vary), logprobs carry ``bytes`` as OpenAI
    sends them, and ``service_tier`` is any tier or absent.
    """
    cid = "chatcmpl-" + draw(id_tokens)
    top: JsonDict = {"id": cid, "created": draw(st.integers(1_600_000_000, 1_900_000_000)),
                     "model": draw(st.sampled_from(["gpt-4.1", "gpt-4o-mini", "o4-mini", "deepseek-reasoner"]))}
    if draw(st.booleans()):
        top["service_tier"] = draw(st.sampled_from(["default", "flex", "priority"]))
    if draw(st.booleans()):
        top["system_fingerprint"] = "fp_" + draw(id_tokens)
    null_usage = draw(st.booleans())  # include_usage upstreams put "usage": null on every chunk

    reasoning = draw(st.none() | stream_text)
    content = draw(st.none() | stream_text)
    refusal = draw(st.none() | stream_text) if content is None or draw(st.integers(0, 4)) == 0 else None
    ncalls = draw(st.integers(0, 3))
    calls = [("call_" + draw(id_tokens) + str(i), draw(function_names), draw(arguments_text)) for i in range(ncalls)]
    finish = draw(st.sampled_from(["tool_calls", "tool_calls", "stop", "length"] if calls else ["stop", "stop", "length", "content_filter"]))
    usage = draw(st.none() | chat_usages)
    logprobs = content is not None and draw(st.booleans())

    deltas: list[tuple[JsonDict, Any]] = []
    for piece in pieces(draw, reasoning or ""):
        deltas.append(({"reasoning_content": piece}, None))
    for piece in pieces(draw, content or ""):
        lp = {"content": [{"token": piece, "logprob": -0.25, "bytes": list(piece.encode()), "top_logprobs": []}],
              "refusal": None} if logprobs else None
        deltas.append(({"content": piece}, lp))
    for piece in pieces(draw, refusal or ""):
        deltas.append(({"refusal": piece}, None))
    queues: list[list[JsonDict]] = []
    for index, (call_id, name, args) in enumerate(calls):
        parts = pieces(draw, args) or [""]
        head = {"index": index, "id": call_id, "type": "function", "function": {"name": name, "arguments": parts[0]}}
        queues.append([head] + [{"index": index, "function": {"arguments": p}} for p in parts[1:]])
    started = 0
    while any(queues):
        eligible = [i for i, q in enumerate(queues) if q and (i < started or i == started)]
        i = draw(st.sampled_from(eligible))
        group = [queues[i].pop(0)]
        if i == started:
            started += 1
        if draw(st.integers(0, 3)) == 0:  # a second fragment in the same chunk
            more = [j for j, q in enumerate(queues) if q and j < started]
            if more:
                group.append(queues[draw(st.sampled_from(more))].pop(0))
        deltas.append(({"tool_calls": group}, None))

    role: JsonDict = {"role": "assistant", "content": "" if content is not None or draw(st.booleans()) else None, "refusal": None}
    frames = [chunk(role, **top)]
    for delta, lp in deltas:
        frames.append(chunk(delta, logprobs=lp, **top))
    if deltas and draw(st.booleans()):
        frames[-1]["choices"][0]["finish_reason"] = finish  # the finish_reason on the last delta's chunk
    else:
        frames.append(chunk({}, finish=finish, **top))
    if null_usage or usage is not None:
        for f in frames:
            f["usage"] = None
    if usage is not None:
        if draw(st.integers(0, 3)) == 0:
            frames[-1]["usage"] = usage  # some upstreams put usage on the finish chunk
        else:
            frames.append(usage_chunk(usage, **top))
    return frames


responses_usages = st.builds(
    lambda i, o, cached, reasoning: {"input_tokens": i, "input_tokens_details": {"cached_tokens": cached, "cache_write_tokens": 0},
                                     "output_tokens": o,
                                     "output_tokens_details": {"reasoning_tokens": reasoning}, "total_tokens": i + o},
    st.integers(0, 5000), st.integers(0, 5000), st.integers(0, 100), st.integers(0, 100),
)


@st.composite
def responses_streams(draw: st.DrawFn) -> tuple[list[JsonDict], JsonDict]:
    """A Responses event stream and the final Response it delivers.

    Output: an optional reasoning item (summary parts), an optional message (output_text
    parts and/or a refusal part), 0-3 function calls; status completed or incomplete
    (max_output_tokens / content_filter); usage or none. Texts and arguments are
    split at random points; a call's arguments may come only in
    ``function_call_arguments.done`` (back-fill). Delta logprobs stay [] (Responses
    logprobs are pinned by ``test_responses_logprobs_become_valid_chunk_logprobs``).
    """
    rid = "resp_" + draw(id_tokens)
    output: list[JsonDict] = []
    text_splits: dict[tuple[int, int], list[str]] = {}
    arg_splits: dict[int, list[str] | None] = {}
    status = draw(st.sampled_from(["completed", "completed", "incomplete"]))
    if draw(st.booleans()):
        summary = draw(st.lists(stream_text, max_size=2))
        output.append({"type": "reasoning", "id": "rs_" + draw(id_tokens), "summary": [{"type": "summary_text", "text": s} for s in summary]})
        for j, s in enumerate(summary):
            text_splits[(len(output) - 1, j)] = pieces(draw, s)
    texts = draw(st.lists(stream_text, max_size=2))
    refusal = draw(st.none() | stream_text)
    if texts or refusal is not None:
        item = message_item(id="msg_" + draw(id_tokens), status="incomplete" if status == "incomplete" else "completed")
        item["content"] = [{"type": "output_text", "text": t, "annotations": []} for t in texts]
        if refusal is not None:
            item["content"].append({"type": "refusal", "refusal": refusal})
        output.append(item)
        for j, part in enumerate(item["content"]):
            text_splits[(len(output) - 1, j)] = pieces(draw, part.get("text", part.get("refusal", "")))
    for k in range(draw(st.integers(0, 3))):
        args = draw(arguments_text)
        output.append(call_item(f"call_{draw(id_tokens)}{k}", draw(function_names), args))
        arg_splits[len(output) - 1] = None if draw(st.integers(0, 3)) == 0 else pieces(draw, args)
    extra: JsonDict = {}
    if status == "incomplete":
        extra["incomplete_details"] = {"reason": draw(st.sampled_from(["max_output_tokens", "content_filter"]))}
    response = base_response(output, status=status, usage=draw(st.none() | responses_usages), **extra)
    response["id"] = rid
    response["created_at"] = draw(st.integers(1_600_000_000, 1_900_000_000))
    response["model"] = draw(st.sampled_from(["gpt-5", "gpt-4.1", "o3"]))
    response = {**response, **extra}
    return response_events(response, text_splits=text_splits, arg_splits=arg_splits), response
