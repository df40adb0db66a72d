"""One replay run: corpus → three arms per case → sender or cache → judge → results, then the outputs.

Why one case at a time per worker, arms in sequence: a server's prompt cache makes the second
identical prompt faster (the study measured 0.18 s then 0.06 s on llama.cpp), so arms of one case
sent together would race for it and the arm that happens to go second would look faster. The arms
of a case go one after the other in a random order, and ``--concurrency`` workers each carry one
case; that also bounds memory: at most ``2 × concurrency`` cases are read ahead of the workers.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import random
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol, cast

from .. import __version__
from ..errors import MappingError
from ..mapping.translate import translate
from .cache import ArmCache, key_of
from .corpus import read_corpus, shard
from .judge import judge, translation_failed
from .model import ARMS, CHAT_PATH, RESPONSES_PATH, Arm, Call, Case, CaseResult, CorpusProblem, Exchange, Loss, Record
from .normalize import normalize
from .store import ResultStore, finished_keys, read_meta, write_json_atomic


class Send(Protocol):
    async def send(self, call: Call) -> Exchange: ...


@dataclass(frozen=True)
class Settings:
    """What decides the arms of a case: part of every case's key, compared by ``replay merge``."""

    base_url: str
    model: str | None = None
    repeat: int = 1
    stream: bool = False
    seed: int = 0  # the arms' order: random per case, reproducible per run


@dataclass
class Options:
    """A run as the command line asked for it (the API key is passed separately, never stored)."""

    corpus: list[str]
    out: Path
    base_url: str | None = None
    model: str | None = None
    repeat: int = 1
    stream: bool = False
    concurrency: int = 8
    rpm: float | None = None
    timeout: float = 120.0
    resume: bool = False
    shard: tuple[int, int] | None = None
    record: Path | None = None
    from_cassette: Path | None = None
    cache: Path | None = None  # default: DIR/cache.sqlite
    seed: int = 0
    sampling: bool = True  # the auto-started offline server varies its words when temperature > 0
    meta: dict[str, Any] = field(default_factory=dict)


def case_key(case: Case, settings: Settings) -> str:
    """The content address of a case's verdict: the request and every setting that changes what is sent."""
    material = json.dumps([case["id"], case["request"], asdict(settings)], sort_keys=True, ensure_ascii=False,
                          separators=(",", ":"), default=str)
    return hashlib.sha256(material.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def arm_bodies(request: dict[str, Any], settings: Settings) -> tuple[dict[str, Any], dict[str, Any] | None, list[Loss]]:
    """P's body (S sends the same), C's body (the engine's translation) and its losses.

    When the engine refuses the request there is no C: its problems stand in the losses (judge.py
    then names the place), and P and S are still sent, to tell a bad request from a bad translation.
    """
    chat = dict(request)
    if settings.model is not None:
        chat["model"] = settings.model
    if settings.stream:
        chat["stream"] = True
        # Without it a chat stream carries no usage, and usage is compared.
        options = chat.get("stream_options")
        chat["stream_options"] = {**(options if isinstance(options, dict) else {}), "include_usage": True}
    try:
        translation = translate(chat, to="responses")
    except MappingError as exc:
        return chat, None, translation_failed(exc.problems)
    losses: list[Loss] = [loss.as_dict() for loss in translation.losses]  # type: ignore[misc]
    return chat, translation.body, losses


def plan(case: Case, chat: dict[str, Any], responses: dict[str, Any] | None, settings: Settings) -> list[Call]:
    """Every arm × sample of a case, in the random order they are sent."""
    calls: list[Call] = []
    for sample in range(settings.repeat):
        for arm in ARMS:
            if arm == "C":
                if responses is None:
                    continue
                calls.append({"case": case["id"], "arm": arm, "sample": sample, "path": RESPONSES_PATH, "body": responses})
            else:
                calls.append({"case": case["id"], "arm": arm, "sample": sample, "path": CHAT_PATH, "body": chat})
    rng = random.Random(f"{settings.seed}:{case['id']}")
    rng.shuffle(calls)
    return calls


class Runner:
    """Carries a run's shared pieces (sender, cache, store) through its cases."""

    def __init__(self, settings: Settings, sender: Send, store: ResultStore, cache: ArmCache | None,
                 on_result: Callable[[CaseResult], None], on_problem: Callable[[CorpusProblem], None]) -> None:
        self.settings = settings
        self.sender = sender
        self.store = store
        self.cache = cache
        self.on_result = on_result
        self.on_problem = on_problem
        self.done = 0

    async def exchange(self, call: Call) -> Exchange:
        cache = self.cache
        if cache is None:
            return await self.sender.send(call)
        key = key_of(self.settings.base_url, call)
        hit = cache.get(key)
        if hit is not None:
            return {**hit, "arm": call["arm"], "sample": call["sample"], "cached": True}
        exchange = await self.sender.send(call)
        cache.put(key, exchange)
        return exchange

    async def case(self, case: Case, key: str) -> CaseResult:
        chat, responses, losses = arm_bodies(case["request"], self.settings)
        calls = plan(case, chat, responses, self.settings)
        records: dict[str, list[Record]] = {arm: [] for arm in ARMS}
        order: list[Arm] = []
        for call in sorted(calls, key=lambda c: c["sample"]):  # samples in turn, arms in their random order within one
            exchange = await self.exchange(call)
            record = normalize(exchange, call["body"])
            if exchange["attempts"] > 1 and not exchange["cached"]:  # retries are shown, not hidden (429s and 5xx are worth knowing of)
                record["attempts"] = exchange["attempts"]
            records[call["arm"]].append(record)
            if call["sample"] == 0:
                order.append(call["arm"])
        for arm in ARMS:
            if not records[arm]:
                del records[arm]
        judgement = judge(records, losses, chat)
        return {
            "id": case["id"], "key": key, "source": case["source"], "line": case["line"],
            "verdict": judgement["verdict"], "reason": judgement["reason"],
            "fields": judgement["fields"], "noise": judgement["noise"], "losses": losses, "order": order,
            "request": chat, "translated": responses, "records": records, "scores": judgement["scores"],
        }

    def failed(self, case: Case, key: str, exc: Exception) -> CaseResult:
        return {"id": case["id"], "key": key, "source": case["source"], "line": case["line"], "verdict": "error",
                "reason": f"internal error in migrator (please report it): {type(exc).__name__}: {exc}"[:500],
                "fields": [], "noise": [], "losses": [], "order": [], "request": case["request"], "translated": None,
                "records": {}, "scores": {}}

    async def worker(self, queue: asyncio.Queue[tuple[Case, str] | None]) -> None:
        while True:
            item = await queue.get()
            if item is None:
                return
            try:
                result = await self.case(*item)
            except Exception as exc:  # a bug of ours on one case: that case errs, the run goes on (and says so)
                result = self.failed(*item, exc)
            self.store.append(result)
            self.done += 1
            self.on_result(result)

    async def run(self, cases: Iterator[Case | CorpusProblem], skip: set[str], concurrency: int) -> None:
        queue: asyncio.Queue[tuple[Case, str] | None] = asyncio.Queue(maxsize=2 * concurrency)
        workers = [asyncio.create_task(self.worker(queue)) for _ in range(concurrency)]
        try:
            for item in cases:
                if "request" not in item:
                    self.store.problem(item)
                    self.on_problem(item)
                    continue
                case = cast(Case, item)
                key = case_key(case, self.settings)
                if key in skip:
                    continue
                await queue.put((case, key))
            for _ in workers:
                await queue.put(None)
            await asyncio.gather(*workers)
        finally:
            for task in workers:
                task.cancel()


@asynccontextmanager
async def _sender(options: Options, api_key: str | None) -> AsyncIterator[Send]:
    """The sender a run uses: a cassette, the given server, or an offline one started here."""
    from .cassette import CassettePlayer, CassetteWriter
    from .client import Sender

    if options.from_cassette is not None:
        async with CassettePlayer(options.from_cassette) as player:
            yield player
        return
    async with AsyncExitStack() as stack:
        base_url = options.base_url
        if base_url is None:
            from .autoserve import offline_server

            base_url = await stack.enter_async_context(offline_server(sampling=options.sampling))
        recorder = None
        if options.record is not None:
            recorder = CassetteWriter(options.record, [api_key])
            stack.callback(recorder.close)
        sender = await stack.enter_async_context(
            Sender(base_url, api_key, concurrency=options.concurrency, rpm=options.rpm, timeout=options.timeout,
                   recorder=recorder))
        yield sender


async def _check_reachable(base_url: str, timeout: float) -> None:
    """A wrong ``--base-url`` (a closed port, a host that does not resolve) is said at once, as bad input,
    not after every arm of every case has spent its retries on it (about 16 s a case)."""
    from ..transport.http1 import Pool

    pool = Pool(base_url)  # a malformed URL is its ValueError
    try:
        _, writer = await asyncio.wait_for(asyncio.open_connection(pool.host, pool.port), min(timeout, 10.0))
    except OSError as exc:  # TimeoutError is one
        reason = "no answer in time" if isinstance(exc, TimeoutError) else (exc.strerror or str(exc))
        raise ValueError(f"--base-url {base_url}: cannot connect to {pool.host}:{pool.port} ({reason})") from None
    writer.close()


def _base_label(options: Options) -> str:
    """The base URL as the settings name it: stable for the offline server, whose port changes per run."""
    if options.from_cassette is not None:
        return f"cassette:{options.from_cassette.name}"
    return options.base_url or "offline"


def _check_resume(out: Path, settings: Settings, shard: list[int] | None) -> None:
    """A resumed run must be the same run: other settings give other case keys, so every case would
    run again and the results would hold it twice."""
    meta = read_meta(out) or {}
    before = meta.get("settings")
    changed = [f"{name} {before[name]!r} → {value!r}" for name, value in asdict(settings).items()
               if isinstance(before, dict) and name in before and before[name] != value]
    if meta.get("shard") != shard and "shard" in meta:
        changed.append(f"shard {meta.get('shard')!r} → {shard!r}")
    if changed:
        raise ValueError(f"--resume: {out} was run with other settings ({'; '.join(changed)}); "
                         "resume with the same ones, or give another --out")


async def replay(options: Options, api_key: str | None, *, on_result: Callable[[CaseResult], None],
                 on_problem: Callable[[CorpusProblem], None]) -> dict[str, Any]:
    """Run every case not already finished; returns the meta written to DIR/meta.json."""
    settings = Settings(base_url=_base_label(options), model=options.model, repeat=options.repeat,
                        stream=options.stream, seed=options.seed)
    shard_list = list(options.shard) if options.shard else None
    if options.resume:
        _check_resume(options.out, settings, shard_list)
    if options.base_url is not None and options.from_cassette is None:
        await _check_reachable(options.base_url, options.timeout)
    store = ResultStore(options.out, resume=options.resume)
    skip = finished_keys(options.out) if options.resume else set()
    cases: Iterator[Case | CorpusProblem] = read_corpus(options.corpus)
    if options.shard is not None:
        cases = shard(cases, *options.shard)
    async with _sender(options, api_key) as sender:
        meta = {**options.meta, "settings": asdict(settings), "shard": shard_list,
                "corpus": options.corpus, "migrator": __version__, "started": time.time()}
        write_json_atomic(options.out / "meta.json", meta)
        use_cache = options.from_cassette is None
        cache = ArmCache(options.cache or options.out / "cache.sqlite") if use_cache else None
        runner = Runner(settings, sender, store, cache, on_result, on_problem)
        try:
            await runner.run(cases, skip, options.concurrency)
        finally:
            if cache is not None:
                cache.close()
            store.close()
        meta["finished"] = time.time()
        meta["cases_run"] = runner.done
        write_json_atomic(options.out / "meta.json", meta)
    return meta
