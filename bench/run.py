"""Benchmark: migrator's request translation against its peers and a floor.

Run from the repository root::

    python bench/run.py                  # full run, plain-text table
    python bench/run.py --json out.json  # also write the results as JSON
    python bench/run.py --quick          # fewer samples, for a smoke test
    python bench/run.py --only requests  # the request bench alone (--only streams: the stream bench alone)
    python bench/run.py --only serve     # the bridge bench (bench/serve.py): migrator serve vs LiteLLM's proxy

See bench/README.md for what is measured and how.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

# bench/ is sys.path[0] when this file is run as a script; common puts migrator on the path.
import conversation as cv
import floor
import serve
import streams
from common import (
    REPO_ROOT,
    Check,
    Skipped,
    Target,
    add_output_arguments,
    banner,
    child_env,
    environment,
    finish,
    fmt,
    gc_paused,
    get,
    migrator_version,
    percentile,
    print_check,
    print_skipped,
    print_targets,
    ratio,
    run_check,
)
from common import package_version as _version

Body = dict[str, Any]
Fn = Callable[[Body], Any]


# --------------------------------------------------------------------------- #
# Copies
# --------------------------------------------------------------------------- #


def json_copy(value: Any) -> Any:
    """Deep copy of JSON-shaped data (dict/list/scalars); faster than copy.deepcopy."""
    if isinstance(value, dict):
        return {k: json_copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [json_copy(v) for v in value]
    return value


# --------------------------------------------------------------------------- #
# Normalising outputs for the sanity checks
# --------------------------------------------------------------------------- #


_TEXT_PARTS = frozenset(("text", "input_text", "output_text"))


def _text(content: Any) -> Any:
    """A message content in a dialect-neutral form: text parts joined; image and file parts as (kind, url or id)."""
    if content is None or isinstance(content, str):
        return content
    parts: list[tuple[str, Any]] = []
    for p in content:
        kind = get(p, "type")
        if kind in _TEXT_PARTS:
            parts.append(("text", get(p, "text")))
        elif kind in ("image_url", "input_image"):
            url = get(p, "image_url")
            parts.append(("image", url if isinstance(url, str) else get(url, "url")))
        elif kind in ("file", "input_file"):
            parts.append(("file", get(get(p, "file") if kind == "file" else p, "file_id")))
        else:
            parts.append((str(kind), None))
    if all(k == "text" for k, _ in parts):
        return "".join(t for _, t in parts if isinstance(t, str)) or None
    return tuple(parts)


def _chat_shape(messages: Sequence[Any]) -> list[tuple[Any, ...]]:
    """A comparable skeleton of Chat messages: role, text, tool calls, tool_call_id."""
    shape: list[tuple[Any, ...]] = []
    for m in messages:
        calls = tuple(
            (
                get(c, "id"),
                get(get(c, "function"), "name"),
                get(get(c, "function"), "arguments"),
            )
            for c in (get(m, "tool_calls") or ())
        )
        shape.append((get(m, "role"), _text(get(m, "content")), calls, get(m, "tool_call_id")))
    return shape


def _responses_shape(items: Sequence[Any]) -> list[tuple[Any, ...]]:
    """A comparable skeleton of Responses items (ids and statuses ignored)."""
    shape: list[tuple[Any, ...]] = []
    for it in items:
        kind = get(it, "type", "message")
        if kind == "function_call":
            shape.append((kind, get(it, "call_id"), get(it, "name"), get(it, "arguments")))
        elif kind == "function_call_output":
            shape.append((kind, get(it, "call_id"), _text(get(it, "output"))))
        else:
            shape.append(("message", get(it, "role"), _text(get(it, "content"))))
    return shape


def _diff(got: list[tuple[Any, ...]], want: list[tuple[Any, ...]], what: str) -> list[str]:
    problems: list[str] = []
    if len(got) != len(want):
        problems.append(f"{len(got)} {what}, expected {len(want)}")
    for i, (g, w) in enumerate(zip(got, want, strict=False)):
        if g != w:
            problems.append(f"{what}[{i}] differs: got {g!r:.120}, expected {w!r:.120}")
            break
    return problems


def check_chat_messages(conv: cv.Conversation, messages: Sequence[Any], tools: Sequence[Any] | None) -> Check:
    """Compare translated Chat messages (and tools, if produced) with the conversation's own Chat messages."""
    exp = conv.expected()
    shape = _chat_shape(messages)
    asst = [s for s in shape if s[0] == "assistant"]
    merged = sum(1 for s in asst if s[1] and s[2])
    n_calls = sum(len(s[2]) for s in asst)
    n_tool = sum(1 for s in shape if s[0] == "tool")
    summary = (
        f"{len(shape)} messages, {len(asst)} assistant ({merged} with text+tool_calls merged), "
        f"{n_calls} tool_calls, {n_tool} tool messages"
    )
    problems = _diff(shape, _chat_shape(conv.chat_messages()), "messages")
    if merged != exp.assistant_with_text_and_calls:
        problems.append(f"{merged} merged assistant messages, expected {exp.assistant_with_text_and_calls}")
    if tools is None:
        summary += ", tools not translated by this contender"
    else:
        names = [get(get(t, "function"), "name") for t in tools]
        want = [t["function"]["name"] for t in cv.chat_tools()]
        summary += f", {len(names)} tools"
        if names != want:
            problems.append(f"tools {names}, expected {want}")
    return Check(not problems, summary, problems)


def check_responses_items(conv: cv.Conversation, items: Sequence[Any], tools: Sequence[Any] | None,
                          instructions: Any = None) -> Check:
    """Compare translated Responses input items (and tools) with the conversation's own items."""
    shape = _responses_shape(items)
    note = ""
    if instructions and (not shape or shape[0][1] != "system"):
        # A translator may hoist the system message into `instructions`.
        shape.insert(0, ("message", "system", _text(instructions)))
        note = " (system hoisted to instructions)"
    n_fc = sum(1 for s in shape if s[0] == "function_call")
    n_fco = sum(1 for s in shape if s[0] == "function_call_output")
    summary = f"{len(items)} items{note}, {n_fc} function_call, {n_fco} function_call_output"
    problems = _diff(shape, _responses_shape(conv.responses_input()), "items")
    if tools is None:
        summary += ", tools not translated by this contender"
    else:
        names = [get(t, "name") for t in tools]
        want = [t["name"] for t in cv.responses_tools()]
        summary += f", {len(names)} flat tools"
        if names != want:
            problems.append(f"tools {names}, expected {want}")
    return Check(not problems, summary, problems)


# --------------------------------------------------------------------------- #
# Contenders
# --------------------------------------------------------------------------- #


@dataclass
class Contender:
    """One implementation under test, wrapped to take the whole request body."""

    key: str
    call: str
    fn: Fn
    check: Callable[[Any], Check]
    version: str | None = None


def migrator_contender(to: str, read: str, check: Callable[[Body], Check]) -> Contender:
    """migrator.translate towards ``to``; the call reads ``body[read]`` and the losses, as a caller would."""
    from migrator import translate

    def fn(body: Body) -> Any:
        t = translate(body, to=to)
        t.body[read]
        len(t.losses)
        return t

    return Contender("migrator", f'migrator.translate(body, to="{to}")', fn, lambda t: check(t.body), migrator_version())


def r2c_contenders(conv: cv.Conversation) -> tuple[list[Contender], list[Skipped]]:
    """Responses -> Chat request translators, checked against ``conv``."""
    out = [migrator_contender("chat", "messages", lambda b: check_chat_messages(conv, b["messages"], b.get("tools")))]
    skipped: list[Skipped] = []

    try:
        from agents.models.chatcmpl_converter import Converter
    except ImportError as exc:
        skipped.append(Skipped("agents", f"openai-agents not installed ({exc})"))
    else:
        items_to_messages = Converter.items_to_messages

        def agents_r2c(body: Body) -> Any:
            return items_to_messages(body["input"])

        out.append(
            Contender(
                "agents",
                'Converter.items_to_messages(body["input"])',
                agents_r2c,
                lambda msgs: check_chat_messages(conv, msgs, None),
                _version("openai-agents"),
            )
        )

    try:
        from litellm.responses.litellm_completion_transformation.transformation import (
            LiteLLMCompletionResponsesConfig,
        )
    except ImportError as exc:
        skipped.append(Skipped("litellm", f"litellm not installed ({exc})"))
    else:
        to_chat = LiteLLMCompletionResponsesConfig.transform_responses_api_request_to_chat_completion_request

        def litellm_r2c(body: Body) -> Any:
            params = {k: v for k, v in body.items() if k not in ("model", "input")}
            return to_chat(
                model=body["model"],
                input=body["input"],
                responses_api_request=params,
                custom_llm_provider="openai",
            )

        out.append(
            Contender(
                "litellm",
                "LiteLLMCompletionResponsesConfig.transform_responses_api_request_to_chat_completion_request("
                'model, input, responses_api_request=<rest of body>, custom_llm_provider="openai")',
                litellm_r2c,
                lambda r: check_chat_messages(conv, r["messages"], r.get("tools")),
                _version("litellm"),
            )
        )

    out.append(
        Contender(
            "floor",
            "bench/floor.py responses_to_chat(body)",
            floor.responses_to_chat,
            lambda r: check_chat_messages(conv, r["messages"], r.get("tools")),
        )
    )
    return out, skipped


def c2r_contenders(conv: cv.Conversation) -> tuple[list[Contender], list[Skipped]]:
    """Chat -> Responses request translators, checked against ``conv``."""
    out = [migrator_contender("responses", "input",
                              lambda b: check_responses_items(conv, b["input"], b.get("tools"), b.get("instructions")))]
    skipped: list[Skipped] = []

    try:
        from litellm.completion_extras.litellm_responses_transformation.transformation import (
            LiteLLMResponsesTransformationHandler,
        )
    except ImportError as exc:
        skipped.append(Skipped("litellm", f"litellm not installed ({exc})"))
    else:
        handler = LiteLLMResponsesTransformationHandler()

        def litellm_c2r(body: Body) -> Any:
            params = {k: v for k, v in body.items() if k not in ("model", "messages")}
            return handler.transform_request(
                model=body["model"],
                messages=body["messages"],
                optional_params=params,
                litellm_params={"custom_llm_provider": "openai"},
                headers={},
                litellm_logging_obj=None,
            )

        out.append(
            Contender(
                "litellm",
                "LiteLLMResponsesTransformationHandler().transform_request(model, messages, "
                'optional_params=<rest of body>, litellm_params={"custom_llm_provider": "openai"}, '
                "headers={}, litellm_logging_obj=None)",
                litellm_c2r,
                lambda r: check_responses_items(conv, r["input"], r.get("tools"), r.get("instructions")),
                _version("litellm"),
            )
        )

    out.append(
        Contender(
            "floor",
            "bench/floor.py chat_to_responses(body)",
            floor.chat_to_responses,
            lambda r: check_responses_items(conv, r["input"], r.get("tools"), r.get("instructions")),
        )
    )
    return out, skipped


# --------------------------------------------------------------------------- #
# Timing
# --------------------------------------------------------------------------- #


@dataclass
class Stats:
    """Per-call timings of one contender, in microseconds."""

    n: int
    median_us: float
    p90_us: float
    mean_us: float
    min_us: float


def _stats(samples_ns: list[int]) -> Stats:
    s = sorted(x / 1000 for x in samples_ns)
    return Stats(len(s), statistics.median(s), percentile(s, 0.9), statistics.fmean(s), s[0])


def mutates(fn: Fn, pristine: Body, calls: int = 3) -> bool:
    """Whether calling fn (several times on one copy) changes its input."""
    body = json_copy(pristine)
    for _ in range(calls):
        fn(body)
    return bool(body != pristine)


def _timer_overhead_ns() -> int:
    """Median cost of the timing harness around a no-op call."""

    def noop(_: Body) -> None:
        return None

    body: Body = {}
    samples = []
    clock = time.perf_counter_ns
    for _ in range(2000):
        t0 = clock()
        noop(body)
        samples.append(clock() - t0)
    return int(statistics.median(samples))


def time_contenders(
    contenders: Sequence[Contender],
    pristine: Body,
    *,
    rounds: int,
    per_round: int,
    warmup_s: float,
    fresh: bool,
    keep_gc: bool,
) -> dict[str, Stats]:
    """Time each contender call by call, interleaving contenders round by round.

    Every contender gets the same input. With ``fresh`` each call gets its own
    copy, made before the timed region of its round. Timer overhead is measured
    separately and reported, not subtracted.
    """
    clock = time.perf_counter_ns
    shared = json_copy(pristine)

    for c in contenders:  # warmup
        end = time.perf_counter() + warmup_s
        n = 0
        while n < 20 or time.perf_counter() < end:
            c.fn(json_copy(pristine) if fresh else shared)
            n += 1

    samples: dict[str, list[int]] = {c.key: [] for c in contenders}
    order = list(contenders)
    for r in range(rounds):
        order = order[1:] + order[:1]  # rotate who goes first
        for c in order:
            inputs = [json_copy(pristine) for _ in range(per_round)] if fresh else [shared] * per_round
            fn = c.fn
            out = samples[c.key]
            with gc_paused(keep_gc):
                for body in inputs:
                    t0 = clock()
                    fn(body)
                    out.append(clock() - t0)
            del inputs
        if r == 0 and not fresh and shared != pristine:
            raise RuntimeError("input was mutated although no contender mutated it in the probe")
    return {k: _stats(v) for k, v in samples.items()}


# --------------------------------------------------------------------------- #
# Import time
# --------------------------------------------------------------------------- #


@dataclass
class ImportTime:
    """Cost of `import migrator` in a fresh interpreter, in milliseconds."""

    runs: int
    bare_ms: float
    with_import_ms: float
    delta_ms: float
    importtime_cumulative_ms: float | None
    heaviest: list[tuple[str, float]]
    first_call_ms: float | None = None
    all_kinds_ms: float | None = None  # import + a request each way + a chat completion → Response
    error: str | None = None
    httpx_ms: float | None = None  # what `import httpx` adds over a bare interpreter, same runs
    httpx_error: str | None = None

    @property
    def share_of_httpx(self) -> float | None:
        """migrator's import cost as a fraction of httpx's (target: at most 0.25)."""
        return None if self.error or not self.httpx_ms else self.delta_ms / self.httpx_ms


def measure_import(runs: int) -> ImportTime:
    """Median wall time of `python -c "import migrator"` minus `python -c "pass"`.

    Also runs `python -X importtime -c "import migrator"` and reports the
    median cumulative time of the top-level `migrator` entry, plus the modules
    with the largest self time (to show where an import budget goes).
    """
    env = child_env()
    # As installed: pip compiles every module to bytecode at install time (httpx's are), while a work
    # tree under PYTHONDONTWRITEBYTECODE would compile migrator from source on every run. The warm-up
    # run below writes migrator's __pycache__, so both sides load bytecode.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    exe = sys.executable

    def wall(code: str) -> float:
        t0 = time.perf_counter()
        proc = subprocess.run(
            [exe, "-c", code],
            check=False,
            env=env,
            capture_output=True,
            text=True,
            cwd=REPO_ROOT,
        )
        t = time.perf_counter() - t0
        if proc.returncode != 0:
            raise RuntimeError(proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else "failed")
        return t * 1000

    try:
        wall("import migrator")  # warm the file-system cache and .pyc files
    except RuntimeError as exc:
        return ImportTime(0, 0.0, 0.0, 0.0, None, [], error=str(exc))
    httpx_error: str | None = None
    try:
        wall("import httpx")
    except RuntimeError as exc:
        httpx_error = str(exc)
    bare: list[float] = []
    full: list[float] = []
    hx: list[float] = []
    for _ in range(runs):  # interleaved, so drift of the machine is shared
        bare.append(wall("pass"))
        full.append(wall("import migrator"))
        if httpx_error is None:
            hx.append(wall("import httpx"))

    cumulative: list[float] = []
    selfs: dict[str, list[float]] = {}
    for _ in range(max(3, runs // 2)):
        proc = subprocess.run(
            [exe, "-X", "importtime", "-c", "import migrator"],
            check=False,
            env=env,
            capture_output=True,
            text=True,
            cwd=REPO_ROOT,
        )
        for line in proc.stderr.splitlines():
            if not line.startswith("import time:") or "[us]" in line:
                continue
            self_us, cum_us, name = (p.strip() for p in line[len("import time:") :].split("|"))
            selfs.setdefault(name, []).append(int(self_us) / 1000)
            if name == "migrator":
                cumulative.append(int(cum_us) / 1000)
    heaviest = sorted(((n, statistics.median(v)) for n, v in selfs.items()), key=lambda x: -x[1])[:8]
    b, f = statistics.median(bare), statistics.median(full)

    # Import plus one small translation, to catch work deferred to the first call.
    first = [wall(_FIRST_CALL) for _ in range(max(3, runs // 2))]
    every = [wall(_EVERY_KIND) for _ in range(max(3, runs // 2))]
    return ImportTime(runs, b, f, f - b, statistics.median(cumulative) if cumulative else None, heaviest,
                      statistics.median(first) - b, statistics.median(every) - b, None,
                      statistics.median(hx) - b if hx else None, httpx_error)


_FIRST_CALL = "import migrator\nmigrator.translate({'model': 'm', 'input': [{'role': 'user', 'content': 'hi'}]}, to='chat')\n"
# What is deferred to first use (the result converters, hashlib for minted ids) shows here.
_EVERY_KIND = _FIRST_CALL + (
    "migrator.translate({'model': 'm', 'messages': [{'role': 'user', 'content': 'hi'}]}, to='responses')\n"
    "migrator.translate({'id': 'chatcmpl-1', 'object': 'chat.completion', 'created': 1, 'model': 'm', 'choices': [{'index': 0,"
    " 'message': {'role': 'assistant', 'content': 'hi'}, 'finish_reason': 'stop'}]}, to='responses')\n"
)


# --------------------------------------------------------------------------- #
# Report
# --------------------------------------------------------------------------- #


@dataclass
class Scenario:
    """One direction of translation, with its contenders' results."""

    name: str
    what: str
    fresh_copies: bool
    mutators: list[str]
    contenders: dict[str, dict[str, Any]]
    skipped: dict[str, str]
    ratios: dict[str, float | None]


def _ratio(a: Stats | None, b: Stats | None) -> float | None:
    return ratio(a and a.median_us, b and b.median_us)


def run_scenario(
    name: str,
    what: str,
    contenders: list[Contender],
    skipped: list[Skipped],
    pristine: Body,
    args: argparse.Namespace,
) -> tuple[Scenario, dict[str, Stats]]:
    """Check, then time, one direction; print what was found on the way."""
    print(f"\n== {name}: {what}")
    print_skipped(skipped)
    checks: dict[str, Check] = {}
    mutators: list[str] = []
    for c in contenders:
        checks[c.key] = run_check(lambda c, body: c.check(c.fn(body)), c, json_copy(pristine))
        if mutates(c.fn, pristine):
            mutators.append(c.key)
        print_check(c.key, checks[c.key])
    runnable = [c for c in contenders if not checks[c.key].raised]
    fresh = args.fresh == "always" or (args.fresh == "auto" and bool(mutators))
    if mutators:
        print(
            f"  input mutated by: {', '.join(mutators)} -> "
            f"{'every contender gets a fresh copy per call' if fresh else 'NOT copying (--fresh never)'}"
        )
    else:
        print(
            "  no contender mutates its input"
            + ("; fresh copies anyway (--fresh always)" if fresh else "; all share one input object")
        )
    stats = time_contenders(
        runnable,
        pristine,
        rounds=args.rounds,
        per_round=args.per_round,
        warmup_s=args.warmup,
        fresh=fresh,
        keep_gc=args.keep_gc,
    )
    results = {
        c.key: {
            "call": c.call,
            "version": c.version,
            "check": asdict(checks[c.key]),
            "mutates_input": c.key in mutators,
            **asdict(stats[c.key]),
        }
        for c in runnable
    }
    ratios = {
        "agents/migrator": _ratio(stats.get("agents"), stats.get("migrator")),
        "litellm/migrator": _ratio(stats.get("litellm"), stats.get("migrator")),
        "migrator/floor": _ratio(stats.get("migrator"), stats.get("floor")),
    }
    scen = Scenario(name, what, fresh, mutators, results, {s.key: s.reason for s in skipped}, ratios)
    return scen, stats


def print_table(scenarios: list[tuple[Scenario, dict[str, Stats]]]) -> None:
    """The side-by-side table of every scenario."""
    print("\n" + "=" * 78)
    print(f"{'contender':<11}{'median µs':>12}{'p90 µs':>12}{'min µs':>10}{'n':>7}{'x migrator':>12}{'x floor':>10}")
    for scen, stats in scenarios:
        print("-" * 78)
        print(f"{scen.name}  [{scen.what}]" + ("  (fresh copy per call)" if scen.fresh_copies else ""))
        mig = stats.get("migrator")
        flo = stats.get("floor")
        for key in ("migrator", "agents", "litellm", "floor"):
            st = stats.get(key)
            if st is None:
                reason = scen.skipped.get(key)
                if reason:
                    print(f"  {key:<9}  skipped: {reason}")
                continue
            bad = "" if scen.contenders[key]["check"]["ok"] else "  (output check FAILED)"
            print(
                f"  {key:<9}{st.median_us:>12.1f}{st.p90_us:>12.1f}{st.min_us:>10.1f}{st.n:>7}"
                f"{fmt(_ratio(st, mig), '.2f', 'x'):>12}{fmt(_ratio(st, flo), '.2f', 'x'):>10}{bad}"
            )
        print("  ratios: " + ", ".join(f"{k} = {fmt(v, '.2f', 'x')}" for k, v in scen.ratios.items()))
    print("=" * 78)


def evaluate(runs: Sequence[tuple[str, Scenario | None, Scenario | None]], imp: ImportTime | None) -> list[Target]:
    """The targets of the brief, per conversation, each PASS, FAIL or SKIP; then the import target."""
    out: list[Target] = []
    for key, r2c, c2r in runs:
        rr = r2c.ratios if r2c else {}
        cr = c2r.ratios if c2r else {}
        out += [
            Target.judged(f"[{key}] R->C vs Agents SDK", "agents/migrator >= 3x", rr.get("agents/migrator"), lambda v: v >= 3.0),
            Target.judged(f"[{key}] R->C vs LiteLLM", "litellm/migrator >= 8x", rr.get("litellm/migrator"), lambda v: v >= 8.0),
            Target.judged(f"[{key}] C->R vs LiteLLM", "litellm/migrator >= 8x", cr.get("litellm/migrator"), lambda v: v >= 8.0),
            Target.judged(f"[{key}] R->C vs floor", "migrator/floor <= 2x", rr.get("migrator/floor"), lambda v: v <= 2.0),
            Target.judged(f"[{key}] C->R vs floor", "migrator/floor <= 2x", cr.get("migrator/floor"), lambda v: v <= 2.0),
        ]
    share = None if imp is None else imp.share_of_httpx
    out.append(Target.judged("import migrator / httpx", "<= 0.25 of httpx's", share, lambda v: v <= 0.25))
    out.append(Target.judged("import migrator", "< 100 ms", None if imp is None or imp.error else imp.delta_ms,
                             lambda v: v <= 100.0, unit="ms"))
    return out


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_output_arguments(p, "few samples: a smoke test, not a measurement")
    p.add_argument("--rounds", type=int, default=200, help="interleaved rounds (default 200)")
    p.add_argument("--per-round", type=int, default=15, help="timed calls per contender per round (default 15)")
    p.add_argument("--warmup", type=float, default=0.3, help="warmup seconds per contender (default 0.3)")
    p.add_argument("--fresh", choices=("auto", "always", "never"), default="auto",
                   help="fresh input copy per call: auto = only if some contender mutates its input")
    p.add_argument("--keep-gc", action="store_true", help="leave the garbage collector on while timing")
    p.add_argument("--import-runs", type=int, default=11, help="subprocess runs for import time (default 11)")
    p.add_argument("--only", choices=("requests", "streams", "serve"),
                   help="run one bench only: requests (translate() of request bodies), streams (bench/streams.py) or "
                   "serve (bench/serve.py: the latency migrator serve adds as a bridge; not part of the default run)")
    p.add_argument("--stream-rounds", type=int, default=25,
                   help="timed runs of each stream per contender in the stream bench (default 25)")
    serve_options = p.add_argument_group("bridge bench (--only serve)")
    serve.add_arguments(serve_options, prefix="serve-")
    args = p.parse_args(argv)
    if args.quick:
        args.rounds, args.per_round, args.warmup, args.import_runs = 20, 5, 0.05, 3
        args.stream_rounds = 3

    print(banner())
    doc: dict[str, Any] = {
        "environment": environment(("migrator", "openai", "openai-agents", "litellm")),
        "config": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
    }
    targets: list[Target] = []
    if args.only == "serve":
        serve_args = argparse.Namespace(
            **{k[len("serve_"):]: v for k, v in vars(args).items() if k.startswith("serve_")}
        )
        if args.quick:
            serve.quick(serve_args)
        doc["serve"], serve_targets = serve.run(serve_args)
        targets += serve_targets
    if args.only in (None, "requests"):
        req_doc, req_targets = run_requests(args)
        doc.update(req_doc)
        targets += req_targets
    if args.only in (None, "streams"):
        stream_doc, stream_targets = streams.run(
            rounds=args.stream_rounds,
            warmup=1 if args.quick else 3,
            keep_gc=args.keep_gc,
            quick=args.quick,
        )
        doc["streams"] = stream_doc
        targets += stream_targets
    if args.only is None:
        print("\nall targets (requests, then streams):")
        print_request_targets(req_targets)
        streams.print_targets(stream_targets)
    doc["targets"] = [asdict(t) for t in targets]
    return finish(targets, doc, args.json, args.strict)


def print_request_targets(targets: Sequence[Target]) -> None:
    print_targets(targets, (33, 24), {"x": ".2f", "ms": ".1f"})


def run_requests(args: argparse.Namespace) -> tuple[dict[str, Any], list[Target]]:
    """The request bench: both directions of translate() on every conversation, and import time.

    Returns its JSON part and targets.
    """
    convs = cv.conversations()
    assert len(convs[0].responses_input()) == convs[0].expected().items == 81
    for conv in convs:
        print(f"conversation {conv.key}: {describe(conv)}")
    print(
        f"timing: {args.rounds} rounds x {args.per_round} calls per contender, each call timed "
        f"alone, contenders interleaved; warmup {args.warmup}s each; gc "
        f"{'on' if args.keep_gc else 'off while timing (as timeit)'}; "
        f"timer overhead ~{_timer_overhead_ns()} ns/call (not subtracted)"
    )

    t0 = time.perf_counter()
    r2c_contenders(convs[0])
    c2r_contenders(convs[0])
    print(f"peer imports took {time.perf_counter() - t0:.1f}s (not part of any timing)")
    # Move everything imported so far out of the collector's reach, so that the
    # gc.collect() before each timed batch stays cheap with big peers loaded.
    gc.collect()
    gc.freeze()

    table: list[tuple[Scenario, dict[str, Stats]]] = []
    runs: list[tuple[str, Scenario | None, Scenario | None]] = []
    for conv in convs:
        exp = conv.expected()
        r2c_list, r2c_skip = r2c_contenders(conv)
        c2r_list, c2r_skip = c2r_contenders(conv)
        r2c = run_scenario(
            f"[{conv.key}] Responses -> Chat",
            f"{exp.items} input items + {exp.tools} tools -> {exp.messages} messages",
            r2c_list, r2c_skip, conv.responses_body(), args,
        )
        c2r = run_scenario(
            f"[{conv.key}] Chat -> Responses",
            f"{exp.messages} messages + {exp.tools} tools -> {exp.items} input items",
            c2r_list, c2r_skip, conv.chat_body(), args,
        )
        table += [r2c, c2r]
        runs.append((conv.key, r2c[0], c2r[0]))

    print("\n== import migrator (and import httpx, same runs)")
    imp = measure_import(args.import_runs)
    if imp.error:
        print(f"  SKIP: {imp.error}")
    else:
        print(
            f"  python -c 'import migrator' minus python -c 'pass', median of {imp.runs}: "
            f"{imp.delta_ms:.1f} ms  (bare {imp.bare_ms:.1f} ms, with import {imp.with_import_ms:.1f} ms)"
        )
        print(f"  python -c 'import httpx' minus python -c 'pass': {fmt(imp.httpx_ms, '.1f', ' ms')}"
              + (f"  ({imp.httpx_error})" if imp.httpx_error else ""))
        print(f"  migrator / httpx: {fmt(imp.share_of_httpx, '.2f')}")
        print(f"  -X importtime cumulative for 'migrator': {fmt(imp.importtime_cumulative_ms, '.1f', ' ms')}")
        print("  largest self times: " + ", ".join(f"{n} {ms:.1f}ms" for n, ms in imp.heaviest[:6]))
        print(f"  import + first small translate() (deferred loading shows here): {fmt(imp.first_call_ms, '.1f', ' ms')}")
        print(f"  import + a request each way + a chat completion → Response: {fmt(imp.all_kinds_ms, '.1f', ' ms')}")

    print_table(table)
    if imp.error is None:
        print(f"import migrator: {imp.delta_ms:.1f} ms; import httpx: {fmt(imp.httpx_ms, '.1f', ' ms')}; "
              f"ratio {fmt(imp.share_of_httpx, '.2f')}")

    targets = evaluate(runs, imp)
    print("\ntargets:")
    print_request_targets(targets)
    doc = {
        "conversations": {conv.key: {"about": conv.about, **asdict(conv.expected())} for conv in convs},
        "scenarios": [asdict(scen) for scen, _ in table],
        "import": {**asdict(imp), "share_of_httpx": imp.share_of_httpx},
    }
    return doc, targets


def describe(conv: cv.Conversation) -> str:
    """One line about a benchmark conversation."""
    exp = conv.expected()
    extra = f", {exp.image_parts} image + {exp.file_parts} file parts" if exp.image_parts or exp.file_parts else ""
    return (
        f"{conv.about}: {exp.items} Responses items / {exp.messages} Chat messages, "
        f"{exp.tool_calls} function calls ({exp.assistant_null_content} assistant content: null){extra}, "
        f"{exp.tools} function tools"
    )


if __name__ == "__main__":
    sys.exit(main())
