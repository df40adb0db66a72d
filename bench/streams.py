"""Benchmark: migrator's stream translation (chat.completion.chunk -> response.* events) against its peers.

Run from the repository root::

    python bench/streams.py                  # the stream bench alone
    python bench/streams.py --json out.json  # also write the results as JSON
    python bench/streams.py --quick          # a smoke test, not a measurement
    python bench/run.py                      # the request bench, then this one
    python bench/run.py --only streams       # this one through run.py

See bench/README.md ("Streams") for what is measured and how.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import gc
import json
import statistics
import sys
import time
import tracemalloc
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

# common puts migrator on the path (bench/ is sys.path[0] when this file is run as a script).
import common
from common import (
    Check,
    Skipped,
    Target,
    add_output_arguments,
    banner,
    environment,
    finish,
    fmt,
    gc_paused,
    get,
    migrator_version,
    percentile,
    print_check,
    print_skipped,
    ratio,
    run_check,
    sse_events,
)
from common import package_version as _version

MODEL = "gpt-4.1"
TEXT_DELTAS = 2_000  # content chunks of the text stream
TOOL_TEXT_DELTAS = 200  # content chunks before the calls in the tool-call stream
TOOL_CALLS = 4  # parallel calls
TOOL_FRAGMENTS = 449  # argument fragments per call (after the chunk that names the call)
MEMORY_SIZES = (2_000, 20_000, 200_000)  # text-stream lengths for the memory check
MEMORY_BIG_PIECE = 10  # the "fat" stream repeats each token this many times (same text, 1/10 the chunks)

# Content tokens of a few characters, cycled. "ü" keeps every string latin-1 (one byte
# per character in CPython) while exercising non-ASCII in the SSE path.
_TOKENS = (" the", " quick", " brown", " fox", " jumps", " über", " the", " lazy", " dog", ".", "\n", " It", " was", " 42", "%")


# --------------------------------------------------------------------------- #
# The streams
# --------------------------------------------------------------------------- #


@dataclass
class Stream:
    """One chat.completion.chunk stream and what a correct translation of it contains."""

    name: str
    frames: list[dict[str, Any]]
    content_chunks: int  # chunks whose delta carries text
    text: str  # the joined text
    calls: list[tuple[str, str, str]] = field(default_factory=list)  # (call_id, name, arguments) in order
    arg_fragments: int = 0  # chunks whose delta carries a non-empty arguments fragment

    @property
    def chunks(self) -> int:
        return len(self.frames)


def _frame(delta: dict[str, Any] | None, finish: str | None = None, usage: dict[str, Any] | None = None) -> dict[str, Any]:
    """One chunk as OpenAI sends it."""
    frame: dict[str, Any] = {
        "id": "chatcmpl-B3nchStr3amTranslat10n",
        "object": "chat.completion.chunk",
        "created": 1_760_000_000,
        "model": MODEL,
        "system_fingerprint": "fp_bench",
        "choices": [] if delta is None else [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
    }
    if usage is not None:
        frame["usage"] = usage
    return frame


def _usage(completion: int) -> dict[str, Any]:
    return {
        "prompt_tokens": 812,
        "completion_tokens": completion,
        "total_tokens": 812 + completion,
        "prompt_tokens_details": {"cached_tokens": 512, "audio_tokens": 0},
        "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0},
    }


def _tokens(n: int, repeat: int = 1) -> list[str]:
    return [_TOKENS[i % len(_TOKENS)] * repeat for i in range(n)]


def text_stream(deltas: int = TEXT_DELTAS, repeat: int = 1) -> Stream:
    """Role chunk, ``deltas`` content chunks, finish_reason stop, usage chunk."""
    pieces = _tokens(deltas, repeat)
    frames = [_frame({"role": "assistant", "content": "", "refusal": None})]
    frames += [_frame({"content": p}) for p in pieces]
    frames.append(_frame({}, "stop"))
    frames.append(_frame(None, usage=_usage(deltas)))
    return Stream(f"text {deltas:,}" + (f" x{repeat}" if repeat > 1 else ""), frames, deltas, "".join(pieces))


_CALL_ARGS = (
    ("get_weather", {"city": "Paris", "unit": "celsius", "note": ""}),
    ("search_docs", {"query": "rotate the signing keys", "limit": 10, "filters": {"team": "platform"}, "note": ""}),
    ("create_ticket", {"title": "Disk nearly full on db-7", "priority": "high", "note": ""}),
    ("get_weather", {"city": "Zürich", "unit": "fahrenheit", "note": ""}),
)


def _arguments(index: int, fragments: int) -> str:
    """JSON arguments long enough to split into ``fragments`` pieces of about 4 characters."""
    args = _CALL_ARGS[index % len(_CALL_ARGS)][1]
    base = json.dumps(args, ensure_ascii=False)
    pad = max(0, fragments * 4 - len(base))
    filler = f"call {index} of the benchmark; " * (pad // 20 + 1)
    return json.dumps({**args, "note": filler[:pad]}, ensure_ascii=False)


def _split(s: str, n: int) -> list[str]:
    return [s[i * len(s) // n : (i + 1) * len(s) // n] for i in range(n)]


def tool_stream(text_deltas: int = TOOL_TEXT_DELTAS, calls: int = TOOL_CALLS, fragments: int = TOOL_FRAGMENTS) -> Stream:
    """Some text, then parallel tool calls whose arguments arrive in many small fragments.

    As OpenAI streams them: the calls follow one another (index 0 complete, then
    index 1, ...); each opens with a chunk carrying its id, type and name and an
    empty ``arguments``, then one chunk per fragment.
    """
    pieces = _tokens(text_deltas)
    frames = [_frame({"role": "assistant", "content": "", "refusal": None})]
    frames += [_frame({"content": p}) for p in pieces]
    expected: list[tuple[str, str, str]] = []
    for i in range(calls):
        name = _CALL_ARGS[i % len(_CALL_ARGS)][0]
        call_id = f"call_{i}Xk2bench{i:04d}"
        args = _arguments(i, fragments)
        frames.append(
            _frame({"tool_calls": [{"index": i, "id": call_id, "type": "function", "function": {"name": name, "arguments": ""}}]})
        )
        frames += [_frame({"tool_calls": [{"index": i, "function": {"arguments": a}}]}) for a in _split(args, fragments)]
        expected.append((call_id, name, args))
    frames.append(_frame({}, "tool_calls"))
    frames.append(_frame(None, usage=_usage(text_deltas + calls * fragments)))
    return Stream(f"tool calls {calls}x{fragments}", frames, text_deltas, "".join(pieces), expected, calls * fragments)


def sse_bytes(frames: Iterable[dict[str, Any]]) -> list[bytes]:
    """The stream as OpenAI frames it on the wire: one ``data:`` event per network chunk, then [DONE]."""
    out = [b"data: " + json.dumps(f, ensure_ascii=False, separators=(",", ":")).encode() + b"\n\n" for f in frames]
    out.append(b"data: [DONE]\n\n")
    return out


# --------------------------------------------------------------------------- #
# Checking outputs
# --------------------------------------------------------------------------- #


def _type(event: Any) -> str:
    t = get(event, "type")
    return str(getattr(t, "value", t))


def check_events(stream: Stream, events: Sequence[Any]) -> Check:
    """Does a translation of ``stream`` carry its text and calls, delta by delta and at the end?"""
    problems: list[str] = []
    text_deltas = [get(e, "delta") for e in events if _type(e) == "response.output_text.delta"]
    if len(text_deltas) != stream.content_chunks:
        problems.append(f"{len(text_deltas)} output_text.delta events for {stream.content_chunks} content chunks")
    if "".join(text_deltas) != stream.text:
        problems.append("the joined output_text deltas differ from the joined input text")

    # Arguments: deltas grouped by the output_index that output_item.added gave each call.
    index_of: dict[str, int] = {}
    for e in events:
        item = get(e, "item")
        if _type(e) == "response.output_item.added" and get(item, "type") == "function_call":
            index_of[get(item, "call_id")] = get(e, "output_index")
    arg_deltas: dict[int, list[str]] = {}
    for e in events:
        if _type(e) == "response.function_call_arguments.delta":
            arg_deltas.setdefault(get(e, "output_index"), []).append(get(e, "delta"))
    n_arg_deltas = sum(len(v) for v in arg_deltas.values())
    if n_arg_deltas != stream.arg_fragments:
        problems.append(f"{n_arg_deltas} function_call_arguments.delta events for {stream.arg_fragments} fragments")
    for call_id, _name, args in stream.calls:
        if call_id not in index_of:
            problems.append(f"no output_item.added for {call_id}")
        elif "".join(arg_deltas.get(index_of[call_id], [])) != args:
            problems.append(f"the joined argument deltas of {call_id} differ from the input")

    terminal = events[-1] if events else None
    if _type(terminal) != "response.completed":
        problems.append(f"last event is {_type(terminal)}, not response.completed")
        final_text, final_calls = None, []
    else:
        output = get(get(terminal, "response"), "output") or []
        texts = [get(p, "text") for it in output if get(it, "type") == "message" for p in (get(it, "content") or [])]
        final_text = "".join(t for t in texts if isinstance(t, str))
        final_calls = [
            (get(it, "call_id"), get(it, "name"), get(it, "arguments")) for it in output if get(it, "type") == "function_call"
        ]
        if final_text != stream.text:
            problems.append("the final response's text differs from the joined input text")
        if final_calls != stream.calls:
            problems.append(f"the final response's calls differ: {len(final_calls)} calls, expected {len(stream.calls)}")
    summary = (
        f"{len(events)} events, {len(text_deltas)} text deltas ({len(''.join(text_deltas)):,} chars)"
        + (f", {len(index_of)} calls, {n_arg_deltas} argument deltas" if stream.calls else "")
        + f", final text {'==' if final_text == stream.text else '!='} input"
        + (f", final calls {'==' if final_calls == stream.calls else '!='} input" if stream.calls else "")
    )
    return Check(not problems, summary, problems)


# --------------------------------------------------------------------------- #
# Contenders
# --------------------------------------------------------------------------- #

Timed = tuple[int, int]  # (nanoseconds, events consumed)


@dataclass
class Contender:
    """One stream translator, wrapped to take its own form of the same logical stream."""

    key: str
    call: str
    make_input: Callable[[Stream], Any]  # built outside any timing
    timed: Callable[[Any], Timed]  # translate the whole stream, consume every event, time it
    collect: Callable[[Any], list[Any]]  # the events, for the check
    version: str | None = None
    baseline: bool = False  # a reference row, not a translator (no ratios, no targets)



async def _aiter(items: Iterable[Any]) -> AsyncIterator[Any]:
    for item in items:
        yield item


class _FakeStreamWrapper:
    """What LiteLLMCompletionStreamingIterator needs of a litellm.CustomStreamWrapper.

    The iterator reads ``logging_obj`` (None is accepted all the way down to
    ``stream_chunk_builder``) and pulls ``ModelResponseStream`` chunks with
    ``__next__`` / ``__anext__``; ``aclose`` is for the async close path.
    """

    logging_obj = None

    def __init__(self, chunks: Iterable[Any]) -> None:
        self._it = iter(chunks)

    def __iter__(self) -> _FakeStreamWrapper:
        return self

    def __next__(self) -> Any:
        return next(self._it)

    async def __anext__(self) -> Any:
        try:
            return next(self._it)
        except StopIteration:
            raise StopAsyncIteration from None

    async def aclose(self) -> None:
        return None


def agents_placeholder(created_at: float) -> Any:
    """The Response the Agents SDK starts a stream from, as OpenAIChatCompletionsModel._fetch_response builds it."""
    from agents.models.fake_id import FAKE_RESPONSES_ID
    from openai.types.responses import Response

    return Response(id=FAKE_RESPONSES_ID, created_at=created_at, model=MODEL, object="response", output=[],
                    tool_choice="auto", top_p=None, temperature=None, tools=[], parallel_tool_calls=False, reasoning=None)


def agents_events(response: Any, chunks: AsyncIterator[Any]) -> AsyncIterator[Any]:
    """The options OpenAIChatCompletionsModel.stream_response passes for the OpenAI endpoint."""
    from agents.models.chatcmpl_stream_handler import ChatCmplStreamHandler

    return ChatCmplStreamHandler.handle_stream(response, chunks, model=MODEL,  # type: ignore[arg-type]
                                               raise_on_length_truncation=True, require_finish_reason=True)


def litellm_events(chunks: Iterable[Any]) -> Any:
    """LiteLLM's Responses stream over chat chunks (a fake CustomStreamWrapper feeds them)."""
    from litellm.responses.litellm_completion_transformation.streaming_iterator import LiteLLMCompletionStreamingIterator

    return LiteLLMCompletionStreamingIterator(
        model=MODEL,
        litellm_custom_stream_wrapper=_FakeStreamWrapper(chunks),  # type: ignore[arg-type]
        request_input="What is in the logs?",
        responses_api_request={},
        custom_llm_provider="openai",
    )


def _timed(events: Callable[[Any], Iterable[Any]], inp: Any) -> Timed:
    """Translate a whole stream (the translator made inside the timed region) and consume every event."""
    n = 0
    t0 = time.perf_counter_ns()
    for _ in events(inp):
        n += 1
    return time.perf_counter_ns() - t0, n


def contenders() -> tuple[list[Contender], list[Skipped]]:
    out: list[Contender] = []
    skipped: list[Skipped] = []
    clock = time.perf_counter_ns

    from migrator.streams import translate_sse, translate_stream

    version = migrator_version()
    to_responses = functools.partial(translate_stream, to="responses")
    sse_to_responses = functools.partial(translate_sse, to="responses")
    out.append(
        Contender(
            "migrator",
            'for e in migrator.streams.translate_stream(frames, to="responses")  (dicts in, dicts out)',
            lambda s: s.frames,
            functools.partial(_timed, to_responses),
            lambda f: list(to_responses(f)),
            version,
        )
    )
    out.append(
        Contender(
            "mig-sse",
            'for b in migrator.streams.translate_sse(sse_chunks, to="responses")  '
            "(SSE bytes in: parse + json.loads; SSE bytes out: json.dumps)",
            lambda s: sse_bytes(s.frames),
            functools.partial(_timed, sse_to_responses),
            lambda c: sse_events(b"".join(sse_to_responses(c))),
            version,
        )
    )

    def json_input(stream: Stream) -> tuple[list[bytes], list[dict[str, Any]]]:
        return sse_bytes(stream.frames), list(to_responses(stream.frames))

    def json_timed(inp: tuple[list[bytes], list[dict[str, Any]]]) -> Timed:
        chunks, events = inp
        loads, dumps = json.loads, json.dumps
        t0 = clock()
        for b in chunks[:-1]:
            loads(b[6:])
        for e in events:
            f"event: {e['type']}\ndata: {dumps(e, ensure_ascii=False, separators=(',', ':'))}\n\n".encode()
        return clock() - t0, len(events)

    out.append(
        Contender(
            "(json only)",
            "json.loads of every input chunk + json.dumps (SSE-framed, encoded) of every event migrator outputs: "
            "the JSON work in the mig-sse figure, no parsing or translation",
            json_input,
            json_timed,
            list,
            baseline=True,
        )
    )

    loop = asyncio.new_event_loop()

    def chunk_objects(stream: Stream) -> list[Any]:
        from openai.types.chat import ChatCompletionChunk

        return [ChatCompletionChunk.model_validate(f) for f in stream.frames]

    try:
        import agents.models.chatcmpl_stream_handler  # noqa: F401  (is the Agents SDK there?)
    except ImportError as exc:
        skipped.append(Skipped("agents", f"openai-agents not installed ({exc})"))
    else:

        async def agents_consume(response: Any, objs: list[Any]) -> Timed:
            n = 0
            t0 = clock()
            async for _ in agents_events(response, _aiter(objs)):
                n += 1
            return clock() - t0, n

        def agents_timed(objs: list[Any]) -> Timed:
            response = agents_placeholder(time.time())  # outside the timed region (the clock starts in the coroutine)
            return loop.run_until_complete(agents_consume(response, objs))

        async def agents_all(objs: list[Any]) -> list[Any]:
            return [e async for e in agents_events(agents_placeholder(time.time()), _aiter(objs))]

        out.append(
            Contender(
                "agents",
                "async for e in ChatCmplStreamHandler.handle_stream(response, <async gen of "
                "ChatCompletionChunk>, model=..., raise_on_length_truncation=True, require_finish_reason=True)",
                chunk_objects,
                agents_timed,
                lambda o: loop.run_until_complete(agents_all(o)),
                _version("openai-agents"),
            )
        )

        async def feed_consume(objs: list[Any]) -> Timed:
            n = 0
            t0 = clock()
            async for _ in _aiter(objs):
                n += 1
            return clock() - t0, n

        out.append(
            Contender(
                "(async feed)",
                "async for c in <async gen of ChatCompletionChunk>: the feeding alone, "
                "no translation (part of the agents figure)",
                chunk_objects,
                lambda o: loop.run_until_complete(feed_consume(o)),
                list,
                baseline=True,
            )
        )

    try:
        from litellm.types.utils import ModelResponseStream
    except ImportError as exc:
        skipped.append(Skipped("litellm", f"litellm not installed ({exc})"))
    else:

        def litellm_input(stream: Stream) -> list[Any]:
            return [ModelResponseStream(**json.loads(json.dumps(f))) for f in stream.frames]

        out.append(
            Contender(
                "litellm",
                "for e in LiteLLMCompletionStreamingIterator(model, <fake CustomStreamWrapper over "
                'ModelResponseStream chunks>, request_input, responses_api_request={}, custom_llm_provider="openai")',
                litellm_input,
                functools.partial(_timed, litellm_events),
                lambda o: list(litellm_events(o)),
                _version("litellm"),
            )
        )
    return out, skipped


def _fingerprint(value: Any) -> Any:
    """A comparable copy of an input (dicts, bytes, or pydantic objects), to detect mutation."""
    if isinstance(value, list):
        return [_fingerprint(v) for v in value]
    dump = getattr(value, "model_dump", None)
    if dump is not None:
        return dump()
    return json.loads(json.dumps(value)) if isinstance(value, dict) else value


# --------------------------------------------------------------------------- #
# Timing
# --------------------------------------------------------------------------- #


@dataclass
class Stats:
    n: int
    chunks: int
    events: int
    median_ms: float
    p90_ms: float
    min_ms: float
    us_per_chunk: float  # median / chunks


def _stats(samples_ns: list[int], chunks: int, events: int) -> Stats:
    s = sorted(x / 1e6 for x in samples_ns)
    med = statistics.median(s)
    return Stats(len(s), chunks, events, med, percentile(s, 0.9), s[0], med * 1000 / chunks)


def time_streams(
    cs: Sequence[Contender],
    inputs: dict[str, Any],
    fresh: dict[str, bool],
    stream: Stream,
    rounds: int,
    warmup: int,
    keep_gc: bool,
) -> dict[str, Stats]:
    """Each sample is one whole stream; contenders interleave round by round, the order rotating."""
    for c in cs:
        for _ in range(warmup):
            c.timed(inputs[c.key])
    samples: dict[str, list[int]] = {c.key: [] for c in cs}
    events: dict[str, int] = {}
    order = list(cs)
    for _ in range(rounds):
        order = order[1:] + order[:1]
        for c in order:
            inp = c.make_input(stream) if fresh[c.key] else inputs[c.key]
            with gc_paused(keep_gc):
                ns, n = c.timed(inp)
            samples[c.key].append(ns)
            events[c.key] = n
    return {k: _stats(v, stream.chunks, events[k]) for k, v in samples.items()}


@dataclass
class Scenario:
    name: str
    what: str
    chunks: int
    contenders: dict[str, dict[str, Any]]
    skipped: dict[str, str]
    ratios: dict[str, float | None]


def _ratio(a: Stats | None, b: Stats | None) -> float | None:
    return ratio(a and a.median_ms, b and b.median_ms)


def run_scenario(
    stream: Stream, what: str, cs: list[Contender], skipped: list[Skipped], rounds: int, warmup: int, keep_gc: bool
) -> tuple[Scenario, dict[str, Stats]]:
    print(f"\n== stream: {stream.name} ({stream.chunks:,} chunks): {what}")
    print_skipped(skipped)
    inputs: dict[str, Any] = {}
    checks: dict[str, Check] = {}
    fresh: dict[str, bool] = {}
    runnable: list[Contender] = []
    for c in cs:
        inputs[c.key] = c.make_input(stream)
        if c.baseline:
            runnable.append(c)
            fresh[c.key] = False
            continue
        before = _fingerprint(inputs[c.key])
        checks[c.key] = run_check(lambda c, inp: check_events(stream, c.collect(inp)), c, inputs[c.key])
        fresh[c.key] = _fingerprint(inputs[c.key]) != before
        print_check(c.key, checks[c.key], "  [mutates its input: fresh copy per run]" if fresh[c.key] else "")
        if not checks[c.key].raised:
            runnable.append(c)
    gc.collect()
    gc.freeze()  # the prebuilt inputs stay out of the collections before each sample
    stats = time_streams(runnable, inputs, fresh, stream, rounds, warmup, keep_gc)
    del inputs
    results = {
        c.key: {
            "call": c.call,
            "version": c.version,
            "baseline": c.baseline,
            "mutates_input": fresh[c.key],
            "check": asdict(checks[c.key]) if c.key in checks else None,
            **asdict(stats[c.key]),
        }
        for c in runnable
    }
    ratios = {
        "agents/migrator": _ratio(stats.get("agents"), stats.get("migrator")),
        "litellm/migrator": _ratio(stats.get("litellm"), stats.get("migrator")),
        "mig-sse/migrator": _ratio(stats.get("mig-sse"), stats.get("migrator")),
    }
    # The same on the fastest runs: a check on noise (the targets use the medians).
    for key in ("agents", "litellm"):
        a, m = stats.get(key), stats.get("migrator")
        ratios[f"{key}/migrator on min"] = ratio(a and a.min_ms, m and m.min_ms)
    return Scenario(stream.name, what, stream.chunks, results, {s.key: s.reason for s in skipped}, ratios), stats


# --------------------------------------------------------------------------- #
# Memory
# --------------------------------------------------------------------------- #


@dataclass
class Peak:
    contender: str
    mode: str  # "lazy": each frame decoded from JSON as it is fed; "list": a prebuilt list of dicts
    chunks: int
    text_chars: int
    peak_bytes: int

    @property
    def per_text_char(self) -> float:
        return self.peak_bytes / self.text_chars


def _traced_peak(run: Callable[[], None]) -> int:
    """tracemalloc peak of ``run`` above what was allocated when it started."""
    gc.collect()
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        run()
        return tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()


def migrator_peak(stream: Stream, mode: str) -> Peak:
    """Peak memory of migrator translating ``stream``, the output consumed and dropped event by event.

    The input is made before tracing starts. In "lazy" mode the tracing sees each
    frame decoded (as a server would, one at a time, from its JSON), so whatever the
    translator keeps of the frames counts; in "list" mode the frames are a prebuilt
    list and only the translator's own allocations count.
    """
    from migrator.streams import translate_stream

    payload: list[Any] = [json.dumps(f) for f in stream.frames] if mode == "lazy" else stream.frames

    def run() -> None:
        frames: Iterable[Any] = (json.loads(s) for s in payload) if mode == "lazy" else payload
        for _ in translate_stream(frames, to="responses"):
            pass

    run()  # warm: imports, caches
    return Peak("migrator", mode, stream.chunks, len(stream.text), _traced_peak(run))


def peer_peak(key: str, stream: Stream) -> Peak | None:
    """The same measure, lazy mode, for a peer (its chunk objects are validated from JSON as fed)."""
    payload = [json.dumps(f) for f in stream.frames]
    run: Callable[[], None]
    if key == "agents":
        from openai.types.chat import ChatCompletionChunk

        async def agen() -> AsyncIterator[Any]:
            for s in payload:
                yield ChatCompletionChunk.model_validate_json(s)

        async def consume() -> None:
            async for _ in agents_events(agents_placeholder(0.0), agen()):
                pass

        loop = asyncio.new_event_loop()

        def run() -> None:
            loop.run_until_complete(consume())

    elif key == "litellm":
        from litellm.types.utils import ModelResponseStream

        def gen() -> Iterator[Any]:
            for s in payload:
                yield ModelResponseStream(**json.loads(s))

        def run() -> None:
            for _ in litellm_events(gen()):
                pass
    else:
        return None
    run()
    return Peak(key, "lazy", stream.chunks, len(stream.text), _traced_peak(run))


@dataclass
class Memory:
    peaks: list[Peak]
    growth: dict[str, Any]
    time_per_chunk_us: dict[str, float]  # migrator, untraced, by stream length
    bounded: bool | None


def _peak_line(p: Peak, note: str = "") -> str:
    return (
        f"  {p.contender:8} {p.mode:9} {p.chunks:>8,} chunks  text {p.text_chars:>9,} chars  peak {p.peak_bytes:>11,} B"
        f"  = {p.per_text_char:7.2f} B per text char{note}"
    )


def measure_memory(sizes: Sequence[int], peers: Sequence[str], peer_sizes: Sequence[int]) -> Memory:
    """Peaks by stream length; growth per chunk against text per chunk; peers in lazy mode for comparison."""
    print(
        "\n== memory: tracemalloc peak while translating text streams (input made before tracing; "
        "every event consumed and dropped)"
    )
    peaks = [migrator_peak(text_stream(n), mode) for mode in ("lazy", "list") for n in sizes]
    for p in peaks:
        print(_peak_line(p))
    # The text of the longest stream in a tenth of its chunks (each delta 10x longer): with the
    # two longest plain streams this splits the growth into a per-chunk and a per-text-char part.
    fat = text_stream(sizes[-1] // MEMORY_BIG_PIECE, MEMORY_BIG_PIECE)
    fat_peak = migrator_peak(fat, "lazy")
    fat_peak.mode = f"lazy x{MEMORY_BIG_PIECE}"
    print(_peak_line(fat_peak, f"  (deltas {MEMORY_BIG_PIECE}x longer)"))

    growth: dict[str, Any] = {}
    for mode in ("lazy", "list"):
        ps = [p for p in peaks if p.mode == mode]
        a, b = ps[0], ps[-1]
        d_chunks, d_text = b.chunks - a.chunks, b.text_chars - a.text_chars
        g = growth[mode] = {
            "from_chunks": a.chunks,
            "to_chunks": b.chunks,
            "bytes_per_chunk": (b.peak_bytes - a.peak_bytes) / d_chunks,
            "text_chars_per_chunk": d_text / d_chunks,
            "bytes_per_text_char": (b.peak_bytes - a.peak_bytes) / d_text,
            "peak_per_text_char": [p.per_text_char for p in ps],
        }
        print(
            f"  growth ({mode}) {a.chunks:,} -> {b.chunks:,} chunks: {g['bytes_per_chunk']:.1f} B per chunk "
            f"for {g['text_chars_per_chunk']:.2f} text chars per chunk = {g['bytes_per_text_char']:.2f} B per text char"
        )
    lazy = [p for p in peaks if p.mode == "lazy"]
    same_text, same_chunks = lazy[-1], lazy[-2]  # same text as fat / same chunk count as fat
    per_chunk = (same_text.peak_bytes - fat_peak.peak_bytes) / (same_text.chunks - fat_peak.chunks)
    per_char = (fat_peak.peak_bytes - same_chunks.peak_bytes) / (fat_peak.text_chars - same_chunks.text_chars)
    growth["split_lazy"] = {"bytes_per_chunk_whatever_its_length": per_chunk, "bytes_per_text_char_at_equal_chunks": per_char}
    print(
        f"  split (lazy): {per_chunk:.1f} B per chunk whatever its length (equal text, {same_text.chunks:,} vs "
        f"{fat_peak.chunks:,} chunks); {per_char:.2f} B per text char (equal chunk count, {MEMORY_BIG_PIECE}x the text)"
    )
    peaks.append(fat_peak)

    # Bounded: peak per text char must not grow with the stream length (a fixed cost
    # amortises, so it falls), in both modes; 5% slack for allocator noise.
    bounded = all(g["peak_per_text_char"][-1] <= g["peak_per_text_char"][0] * 1.05 for g in (growth["lazy"], growth["list"]))

    for key in peers:
        ps = []
        for n in peer_sizes:
            try:
                pp = peer_peak(key, text_stream(n))
            except Exception as exc:  # report, carry on
                print(f"  {key}: memory not measured ({type(exc).__name__}: {exc})")
                break
            if pp is not None:
                ps.append(pp)
                print(_peak_line(pp))
        peaks += ps
        if len(ps) >= 2:
            g = growth[key] = {
                "from_chunks": ps[0].chunks,
                "to_chunks": ps[-1].chunks,
                "bytes_per_chunk": (ps[-1].peak_bytes - ps[0].peak_bytes) / (ps[-1].chunks - ps[0].chunks),
                "peak_per_text_char": [p.per_text_char for p in ps],
            }
            print(f"  growth ({key}, lazy) {ps[0].chunks:,} -> {ps[-1].chunks:,} chunks: {g['bytes_per_chunk']:.1f} B per chunk")

    # Time per chunk with the stream length (untraced), migrator alone.
    from migrator.streams import translate_stream

    per_chunk_us: dict[str, float] = {}
    for n in sizes:
        frames = text_stream(n).frames
        reps = max(3, 20_000 // n)
        ts = []
        for _ in range(reps):
            with gc_paused(False):
                t0 = time.perf_counter_ns()
                for _ev in translate_stream(frames, to="responses"):
                    pass
                ts.append(time.perf_counter_ns() - t0)
        per_chunk_us[str(len(frames))] = statistics.median(ts) / 1000 / len(frames)
    print(
        "  migrator time per chunk by stream length (untraced): "
        + ", ".join(f"{int(k):,} chunks {v:.2f} µs" for k, v in per_chunk_us.items())
    )
    return Memory(peaks, growth, per_chunk_us, bounded)


# --------------------------------------------------------------------------- #
# Report
# --------------------------------------------------------------------------- #


def print_table(scenarios: Sequence[tuple[Scenario, dict[str, Stats]]]) -> None:
    print("\n" + "=" * 92)
    print(
        f"{'contender':<14}{'µs/chunk':>10}{'median ms':>11}{'p90 ms':>9}{'min ms':>9}{'runs':>6}{'events':>8}{'x migrator':>12}"
    )
    for scen, stats in scenarios:
        print("-" * 92)
        print(f"{scen.name} ({scen.chunks:,} chunks)  [{scen.what}]")
        mig = stats.get("migrator")
        for key in ("migrator", "mig-sse", "(json only)", "agents", "(async feed)", "litellm"):
            st = stats.get(key)
            if st is None:
                if key in scen.skipped:
                    print(f"  {key:<12}  skipped: {scen.skipped[key]}")
                continue
            check = scen.contenders[key]["check"]
            bad = "" if check is None or check["ok"] else "  (output check FAILED)"
            print(
                f"  {key:<12}{st.us_per_chunk:>10.2f}{st.median_ms:>11.2f}{st.p90_ms:>9.2f}{st.min_ms:>9.2f}{st.n:>6}"
                f"{st.events:>8}{fmt(_ratio(st, mig), '.1f', 'x'):>12}{bad}"
            )
        print(
            "  ratios (medians): " + ", ".join(f"{k} = {fmt(v, '.1f', 'x')}" for k, v in scen.ratios.items() if "min" not in k)
        )
        print(
            "  ratios (minimums): " + ", ".join(f"{k[:-7]} = {fmt(v, '.1f', 'x')}" for k, v in scen.ratios.items() if "min" in k)
        )
    print("=" * 92)


def evaluate(scenarios: Sequence[tuple[Scenario, dict[str, Stats]]], memory: Memory | None) -> list[Target]:
    targets: list[Target] = []
    text = next(((s, st) for s, st in scenarios if s.name.startswith("text")), None)
    tool = next(((s, st) for s, st in scenarios if s.name.startswith("tool")), None)

    mig_text = text[1].get("migrator") if text else None
    v = mig_text.us_per_chunk if mig_text else None
    targets.append(Target.judged("streams: text, migrator", "<= 5 µs per chunk", v, lambda x: x <= 5.0, unit="µs"))
    for label, sc in (("text", text), ("tools", tool)):
        r = sc[0].ratios.get("agents/migrator") if sc else None
        targets.append(Target.judged(f"streams: {label} vs Agents SDK", "agents/migrator >= 10x", r, lambda x: x >= 10.0))
    b = None if memory is None or memory.bounded is None else (1.0 if memory.bounded else 0.0)
    lazy = memory.growth.get("lazy", {}) if memory else {}
    targets.append(
        Target(
            "streams: memory flat",
            "peak / len(text) not growing with length",
            lazy.get("peak_per_text_char", [None])[-1] if memory else None,
            "SKIP" if b is None else ("PASS" if b else "FAIL"),
            True,
            "B/char",
        )
    )
    return targets


def print_targets(targets: Sequence[Target]) -> None:
    common.print_targets(targets, (28, 42))


def run(*, rounds: int, warmup: int, keep_gc: bool, quick: bool, memory: bool = True) -> tuple[dict[str, Any], list[Target]]:
    """The whole stream bench; returns the JSON document and the targets."""
    text, tool = text_stream(), tool_stream()
    print(
        f"\nstreams: chat.completion.chunk -> response.* events; text stream {text.chunks:,} chunks "
        f"(role, {text.content_chunks:,} content deltas of {min(map(len, _TOKENS))}-{max(map(len, _TOKENS))} chars, stop, usage); "
        f"tool stream {tool.chunks:,} chunks (role, {tool.content_chunks} content deltas, {len(tool.calls)} calls x "
        f"(1 naming chunk + {TOOL_FRAGMENTS} argument fragments), tool_calls, usage)"
    )
    print(
        f"timing: each run is one whole stream, every event consumed; {rounds} runs per contender, interleaved; "
        f"{warmup} warmup runs each; gc {'on' if keep_gc else 'off while timing'}"
    )
    t0 = time.perf_counter()
    cs, skipped = contenders()
    print(f"peer imports took {time.perf_counter() - t0:.1f}s (not part of any timing)")
    gc.collect()
    gc.freeze()

    scenarios = [
        run_scenario(text, "plain text answer", cs, skipped, rounds, warmup, keep_gc),
        run_scenario(tool, "text, then parallel tool calls", cs, skipped, rounds, warmup, keep_gc),
    ]
    mem: Memory | None = None
    if memory:
        sizes = MEMORY_SIZES[:2] if quick else MEMORY_SIZES
        peers = [c.key for c in cs if c.key in ("agents", "litellm")]
        mem = measure_memory(sizes, peers, (2_000,) if quick else (2_000, 20_000))
    print_table(scenarios)
    targets = evaluate(scenarios, mem)
    print("\nstream targets:")
    print_targets(targets)
    doc = {
        "streams": {
            "text": {"chunks": text.chunks, "content_chunks": text.content_chunks, "text_chars": len(text.text)},
            "tool": {
                "chunks": tool.chunks,
                "content_chunks": tool.content_chunks,
                "calls": len(tool.calls),
                "arg_fragments": tool.arg_fragments,
                "arg_chars": [len(c[2]) for c in tool.calls],
            },
        },
        "config": {"rounds": rounds, "warmup": warmup, "keep_gc": keep_gc, "quick": quick},
        "scenarios": [asdict(s) for s, _ in scenarios],
        "memory": None
        if mem is None
        else {
            "peaks": [{**asdict(p), "per_text_char": p.per_text_char} for p in mem.peaks],
            "growth": mem.growth,
            "migrator_us_per_chunk_by_length": mem.time_per_chunk_us,
            "bounded": mem.bounded,
        },
        "targets": [asdict(t) for t in targets],
    }
    return doc, targets


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_output_arguments(p, "a smoke test: few runs, shorter memory series")
    p.add_argument("--rounds", type=int, default=25, help="timed runs of each stream per contender (default 25)")
    p.add_argument("--warmup", type=int, default=3, help="untimed runs per contender first (default 3)")
    p.add_argument("--keep-gc", action="store_true", help="leave the garbage collector on while timing")
    p.add_argument("--no-memory", action="store_true", help="skip the tracemalloc section")
    args = p.parse_args(argv)
    if args.quick:
        args.rounds, args.warmup = 3, 1
    print(banner())
    doc, targets = run(rounds=args.rounds, warmup=args.warmup, keep_gc=args.keep_gc, quick=args.quick, memory=not args.no_memory)
    return finish(targets, {"environment": environment(("migrator", "openai", "openai-agents", "litellm")), **doc}, args.json,
                  args.strict)


if __name__ == "__main__":
    sys.exit(main())
