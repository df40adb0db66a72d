"""Benchmark: the latency `migrator serve` adds as a bridge, next to LiteLLM's proxy, on loopback.

Run from the repository root (LiteLLM's proxy needs its server packages, see bench/README.md#bridge)::

    python bench/serve.py                  # full run, 5-7 minutes
    python bench/serve.py --json out.json  # also write every number as JSON
    python bench/serve.py --quick          # a smoke test (~3 min, most of it starting the proxies), not a measurement
    python bench/run.py --only serve       # the same, from the bench runner

One offline ``migrator serve`` (no upstream) is the upstream. In front of it: a
``migrator serve --upstream-api chat`` bridge and LiteLLM's proxy with one worker
and with two. The same client code (one asyncio process) sends the same
chat-style request to every path under three loads: one client (service time),
arrivals at a fixed rate below what LiteLLM's proxy was measured to sustain
(paced), and 32 closed-loop clients (saturating). Batches rotate from round to
round; the latency a bridge adds is the difference of its percentiles and those
of the direct path in the same run, and each server's CPU per request is read
around every batch. See bench/README.md#bridge.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib.util
import json
import math
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from common import Target, add_output_arguments, child_env, environment, finish, fmt, percentile, print_targets, sse_events

MODEL = "migrator-offline"
SYSTEM = "You are a concise assistant. Answer in one sentence."
USER = "What is the capital of France, and what is it known for?"
READY = re.compile(r"migrator serve: listening on (http://\S+)")
KEEPALIVE_S = 4.0  # the client's idle-connection expiry: below the servers' 5 s
PROXY_VARS = ("http_proxy", "https_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY")


# --------------------------------------------------------------------------- #
# Requests and paths
# --------------------------------------------------------------------------- #


def request_body(endpoint: str, stream: bool) -> dict[str, Any]:
    """The chat-style request every path is sent, in Chat or Responses form (``store`` left to its default)."""
    chat = endpoint == "chat"
    body: dict[str, Any] = {
        "model": MODEL,
        "messages" if chat else "input": [{"role": "system", "content": SYSTEM}, {"role": "user", "content": USER}],
        "temperature": 0.2,
        "max_completion_tokens" if chat else "max_output_tokens": 256,
    }
    if stream:
        body["stream"] = True
    if stream and chat:
        # The bridges ask for the usage chunk when they stream from a chat
        # upstream; the direct request asks for it too, so the upstream does the same work.
        body["stream_options"] = {"include_usage": True}
    return body


@dataclass(frozen=True)
class BenchPath:
    """One way to the upstream's answer."""

    key: str  # e.g. "migrator responses stream"
    server: str  # "upstream", "migrator" or "litellm"
    endpoint: str  # "chat" or "responses"
    stream: bool
    what: str

    @property
    def url_path(self) -> str:
        return "/v1/chat/completions" if self.endpoint == "chat" else "/v1/responses"

    @property
    def baseline(self) -> str:
        return "direct chat stream" if self.stream else "direct chat"

    def body(self) -> bytes:
        return json.dumps(request_body(self.endpoint, self.stream), separators=(",", ":")).encode()


LITELLMS = {"litellm": 1, "litellm2": 2}  # server name -> LiteLLM proxy workers


def all_paths() -> list[BenchPath]:
    out: list[BenchPath] = []
    for stream in (False, True):
        tail = " stream" if stream else ""
        out += [
            BenchPath(f"direct chat{tail}", "upstream", "chat", stream, "upstream /v1/chat/completions"),
            BenchPath(f"migrator responses{tail}", "migrator", "responses", stream,
                      "bridge /v1/responses -> translated -> upstream chat"),
            BenchPath(f"migrator chat{tail}", "migrator", "chat", stream, "bridge /v1/chat/completions, native passthrough"),
            BenchPath(f"litellm responses{tail}", "litellm", "responses", stream,
                      "LiteLLM /v1/responses -> its chat bridge -> upstream chat"),
            BenchPath(f"litellm chat{tail}", "litellm", "chat", stream, "LiteLLM /v1/chat/completions -> upstream chat"),
            BenchPath(f"litellm2 responses{tail}", "litellm2", "responses", stream,
                      "the same LiteLLM path, proxy with 2 workers"),
            BenchPath(f"litellm2 chat{tail}", "litellm2", "chat", stream, "the same LiteLLM path, proxy with 2 workers"),
        ]
    return out


# --------------------------------------------------------------------------- #
# Servers
# --------------------------------------------------------------------------- #


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _child_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = child_env({k: v for k, v in os.environ.items() if k not in PROXY_VARS})
    env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"
    env.update(extra or {})
    return env


def _http_get(url: str, timeout: float = 2.0) -> int:
    """Status of a GET on loopback (no proxies), 0 when it cannot connect."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(url, timeout=timeout) as r:
            return int(r.status)
    except OSError as exc:
        code = getattr(exc, "code", None)
        return int(code) if isinstance(code, int) else 0


@dataclass
class Server:
    """A server the bench started: its command, CPUs, log and base URL."""

    name: str
    argv: list[str]
    cpus: list[int] | None
    log: Path
    env: dict[str, str] = field(repr=False, default_factory=dict)
    cwd: str | None = None
    base: str = ""
    ready_s: float | None = None
    error: str | None = None
    proc: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    def command(self) -> list[str]:
        if self.cpus is not None and shutil.which("taskset"):
            return ["taskset", "-c", ",".join(map(str, self.cpus)), *self.argv]
        return self.argv

    def start(self) -> None:
        preexec: Callable[[], None] | None = None
        if self.cpus is not None and not shutil.which("taskset"):
            cpus = set(self.cpus)

            def preexec() -> None:
                os.sched_setaffinity(0, cpus)

        with open(self.log, "wb") as out:
            self.proc = subprocess.Popen(self.command(), stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                         env=self.env, cwd=self.cwd, preexec_fn=preexec)

    def wait_ready(self, ready: Callable[[], str | None], timeout: float) -> bool:
        """Poll ``ready`` (it returns the base URL once the server is up) until ``timeout``."""
        t0 = time.perf_counter()
        while time.perf_counter() - t0 < timeout:
            assert self.proc is not None
            if self.proc.poll() is not None:
                self.error = f"exited with {self.proc.returncode} before it was ready: {self.tail()}"
                return False
            base = ready()
            if base:
                self.base = base
                self.ready_s = time.perf_counter() - t0
                return True
            time.sleep(0.05)
        self.error = f"not ready after {timeout:.0f} s: {self.tail()}"
        return False

    def tail(self, n: int = 600) -> str:
        try:
            text = self.log.read_text(errors="replace")
        except OSError:
            return ""
        return " ".join(text[-n:].split())

    def pids(self) -> list[int]:
        """The server's process and its descendants (CPU time is summed over them)."""
        if self.proc is None:
            return []
        parent: dict[int, int] = {}
        for d in Path("/proc").iterdir():
            if d.name.isdigit():
                try:
                    stat = (d / "stat").read_text()
                except OSError:
                    continue
                parent[int(d.name)] = int(stat[stat.rindex(")") + 2:].split()[1])
        found = [self.proc.pid]
        for pid in found:
            found += [c for c, p in parent.items() if p == pid and c not in found]
        return found

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=5)


def cpu_ns(pids: Sequence[int]) -> int:
    """CPU time (user + system, every thread) of these processes so far, in ns, from /proc/*/task/*/schedstat."""
    total = 0
    for pid in pids:
        try:
            tasks = list(Path(f"/proc/{pid}/task").iterdir())
        except OSError:
            continue
        for t in tasks:
            try:
                total += int((t / "schedstat").read_text().split()[0])
            except (OSError, ValueError, IndexError):
                continue
    return total


def machine_cpu_ns() -> tuple[int, int]:
    """The whole machine's busy and stolen CPU time so far (all CPUs), in ns, from /proc/stat; (0, 0) without it."""
    try:
        fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except (OSError, ValueError):
        return 0, 0
    tick = 1e9 / os.sysconf("SC_CLK_TCK")
    busy = fields[0] + fields[1] + fields[2] + fields[5] + fields[6]  # user nice system irq softirq
    steal = fields[7] if len(fields) > 7 else 0
    return int(busy * tick), int(steal * tick)


def migrator_argv(*extra: str) -> list[str]:
    return [sys.executable, "-m", "migrator.cli", "serve", "--host", "127.0.0.1", "--port", "0", *extra]


def start_migrator(server: Server, timeout: float = 30.0) -> bool:
    server.env = _child_env()
    server.start()

    def ready() -> str | None:
        try:
            m = READY.search(server.log.read_text(errors="replace"))
        except OSError:
            return None
        return m.group(1) if m else None

    return server.wait_ready(ready, timeout)


LITELLM_CONFIG = """\
model_list:
  - model_name: {model}
    litellm_params:
      model: custom_openai/{model}
      api_base: {api_base}
      api_key: dummy
litellm_settings:
  telemetry: false
  turn_off_message_logging: true
general_settings:
  disable_spend_logs: true
  disable_error_logs: true
  background_health_checks: false
"""


def litellm_env(master_key: str) -> dict[str, str]:
    """What the proxy runs with: no cost-map download, error-level logs (no access log), a master key."""
    return _child_env({
        "LITELLM_LOCAL_MODEL_COST_MAP": "True",
        "LITELLM_LOG": "ERROR",
        "LITELLM_MASTER_KEY": master_key,
        "LITELLM_DONT_SHOW_FEEDBACK_BOX": "True",
    })


def litellm_argv(config: Path, port: int, workers: int = 1) -> list[str] | str:
    """The proxy's command, or why it cannot run."""
    if importlib.util.find_spec("litellm") is None:
        return "litellm is not installed"
    missing = [m for m in ("fastapi", "backoff", "orjson", "apscheduler", "soundfile", "polars") if importlib.util.find_spec(m) is None]
    if missing:
        return (f"LiteLLM's proxy needs {', '.join(missing)} (its [proxy] extra; see bench/README.md#bridge for "
                "how to install it when litellm-proxy itself is not on the index)")
    script = Path(sys.executable).with_name("litellm")
    head = [str(script)] if script.exists() else [sys.executable, "-m", "litellm.proxy.proxy_cli"]
    return [*head, "--config", str(config), "--host", "127.0.0.1", "--port", str(port), "--num_workers", str(workers)]


def start_litellm(server: Server, master_key: str, timeout: float = 120.0) -> bool:
    server.env = litellm_env(master_key)
    server.start()
    port = server.argv[server.argv.index("--port") + 1]
    base = f"http://127.0.0.1:{port}"
    return server.wait_ready(lambda: base if _http_get(base + "/health/liveliness") == 200 else None, timeout)


# --------------------------------------------------------------------------- #
# The client: one asyncio process, the same code for every path
# --------------------------------------------------------------------------- #


class FirstToken:
    """Reads an SSE byte stream until its first content token: a chat delta with text, or an output_text delta."""

    def __init__(self, endpoint: str) -> None:
        self.chat = endpoint == "chat"
        self.buf = b""

    def feed(self, chunk: bytes) -> bool:
        self.buf = (self.buf + chunk).replace(b"\r\n", b"\n")
        while True:
            end = self.buf.find(b"\n\n")
            if end < 0:
                return False
            event, self.buf = self.buf[:end], self.buf[end + 2:]
            for line in event.split(b"\n"):
                if not line.startswith(b"data:"):
                    continue
                data = line[5:].strip()
                if not data or data == b"[DONE]":
                    continue
                if self._is_token(json.loads(data)):
                    return True

    def _is_token(self, obj: Any) -> bool:
        if not isinstance(obj, dict):
            return False
        if not self.chat:
            return obj.get("type") == "response.output_text.delta" and bool(obj.get("delta"))
        choices = obj.get("choices") or []
        return any(isinstance(c, dict) and (c.get("delta") or {}).get("content") for c in choices)


@dataclass
class Sample:
    ok: bool
    latency_ns: int
    ttft_ns: int | None = None
    error: str | None = None


class Client:
    """POSTs a prebuilt body and times it; ``kind`` picks the HTTP library, the code around it is shared."""

    def __init__(self, kind: str, headers: dict[str, str], connections: int) -> None:
        self.kind = kind
        self.headers = headers
        self.connections = connections
        self._session: Any = None

    async def __aenter__(self) -> Client:
        if self.kind == "aiohttp":
            import aiohttp

            # Idle connections are dropped after 4 s, before the servers' own 5 s (uvicorn's default) runs out:
            # reusing one a server has just closed fails the request (seen while another path's batch ran long).
            connector = aiohttp.TCPConnector(limit=0, limit_per_host=self.connections, force_close=False,
                                             keepalive_timeout=KEEPALIVE_S)
            self._session = aiohttp.ClientSession(connector=connector, headers=self.headers, trust_env=False,
                                                  timeout=aiohttp.ClientTimeout(total=60), auto_decompress=False)
        else:
            import httpx

            limits = httpx.Limits(max_connections=self.connections * 4, max_keepalive_connections=self.connections * 4,
                                  keepalive_expiry=KEEPALIVE_S)
            self._session = httpx.AsyncClient(headers=self.headers, trust_env=False, timeout=60.0, limits=limits)
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self.kind == "aiohttp":
            await self._session.close()
        else:
            await self._session.aclose()

    async def request(self, url: str, body: bytes, stream: bool, endpoint: str) -> Sample:
        done_marker = b"[DONE]" if endpoint == "chat" else b"response.completed"
        first: FirstToken | None = FirstToken(endpoint) if stream else None
        ttft: int | None = None
        tail = b""
        seen_end = not stream
        size = 0
        t0 = time.perf_counter_ns()
        try:
            async with self._open(url, body) as (status, chunks):
                async for chunk in chunks:
                    size += len(chunk)
                    if first is not None and first.feed(chunk):
                        ttft = time.perf_counter_ns() - t0
                        first = None
                    if not seen_end:
                        seen_end = done_marker in tail + chunk
                        tail = chunk[-32:]
            t1 = time.perf_counter_ns()
        except Exception as exc:  # counted as an error, not a sample
            return Sample(False, time.perf_counter_ns() - t0, None, f"{type(exc).__name__}: {exc}"[:200])
        if status != 200:
            return Sample(False, t1 - t0, None, f"HTTP {status}")
        if stream and (ttft is None or not seen_end):
            return Sample(False, t1 - t0, None, "stream without a token or without its end")
        if size == 0:
            return Sample(False, t1 - t0, None, "empty body")
        return Sample(True, t1 - t0, ttft)

    @contextlib.asynccontextmanager
    async def _open(self, url: str, body: bytes) -> Any:
        headers = {"content-type": "application/json"}
        if self.kind == "aiohttp":
            async with self._session.post(url, data=body, headers=headers) as r:
                yield r.status, r.content.iter_any()
        else:
            async with self._session.stream("POST", url, content=body, headers=headers) as r:
                yield r.status_code, r.aiter_raw()

    async def fetch(self, url: str, body: bytes) -> tuple[int, bytes]:
        """Status and whole body, for the checks (not timed)."""
        data = b""
        async with self._open(url, body) as (status, chunks):
            async for chunk in chunks:
                data += chunk
        return status, data


# --------------------------------------------------------------------------- #
# Checks: each path answers the upstream's text, through exactly one upstream chat request
# --------------------------------------------------------------------------- #


def answer_text(p: BenchPath, raw: bytes) -> str | None:
    """The assistant text of an answer (for streams: the deltas joined), None when it has none."""
    if p.stream:
        events = sse_events(raw)
        if p.endpoint == "chat":
            parts = [(c.get("delta") or {}).get("content") or "" for e in events for c in e.get("choices") or []]
        else:
            parts = [e.get("delta") or "" for e in events if e.get("type") == "response.output_text.delta"]
        return "".join(parts) or None
    obj = json.loads(raw)
    if p.endpoint == "chat":
        return obj["choices"][0]["message"]["content"]
    texts = [c.get("text", "") for it in obj.get("output", []) if it.get("type") == "message" for c in it.get("content", [])]
    return "".join(texts) or None


@dataclass
class PathCheck:
    ok: bool
    summary: str


def _log_lines(log: Path) -> list[dict[str, Any]]:
    out = []
    for line in log.read_text(errors="replace").splitlines():
        with contextlib.suppress(ValueError):
            rec = json.loads(line)
            if isinstance(rec, dict) and "path" in rec:
                out.append(rec)
    return out


async def check_paths(client: Client, paths: Sequence[BenchPath], bases: dict[str, str], upstream_log: Path) -> dict[str, PathCheck]:
    """One request per path, one at a time: status, text, and what reached the upstream."""
    checks: dict[str, PathCheck] = {}
    expected: str | None = None
    for p in paths:
        before = len(_log_lines(upstream_log))
        try:
            status, raw = await client.fetch(bases[p.server] + p.url_path, p.body())
            text = answer_text(p, raw) if status == 200 else None
        except Exception as exc:  # report and drop the path
            checks[p.key] = PathCheck(False, f"raised {type(exc).__name__}: {exc}"[:300])
            continue
        await asyncio.sleep(0.05)  # the upstream writes its log line after the last byte of a stream
        new = _log_lines(upstream_log)[before:]
        if expected is None and p.key == "direct chat":
            expected = text
        problems = []
        if status != 200:
            problems.append(f"HTTP {status}: {raw[:200]!r}")
        elif text != expected:
            problems.append(f"text {text!r:.80} differs from the direct answer {expected!r:.80}")
        hits = [f"{r.get('path')} {r.get('status')}" for r in new]
        if hits != ["/v1/chat/completions 200"]:
            problems.append(f"upstream saw {hits or 'nothing'}, expected one /v1/chat/completions 200")
        summary = f"{len(raw)} bytes, text {len(text or '')} chars, upstream: {', '.join(hits) or '-'}"
        checks[p.key] = PathCheck(not problems, summary + ("" if not problems else "; " + "; ".join(problems)))
    return checks


# --------------------------------------------------------------------------- #
# Timing
# --------------------------------------------------------------------------- #


@dataclass
class Regime:
    """How a batch loads a path: ``clients`` closed-loop workers, or arrivals at ``rate`` per second."""

    name: str
    clients: int
    per_batch: int
    rate: float | None
    what: str


@dataclass
class Collected:
    samples: list[Sample] = field(default_factory=list)
    wall_s: float = 0.0
    cpu_ns: dict[str, int] = field(default_factory=dict)
    primed: int = 0  # untimed requests that opened the batches' connections


async def run_batch(client: Client, url: str, body: bytes, p: BenchPath, regime: Regime, n: int, seed: int) -> list[Sample]:
    """``n`` requests: from ``regime.clients`` closed-loop workers (each sends its next request when
    its answer has ended), or, with a rate, arriving at that rate (gaps uniform in 0.5-1.5 x the mean)
    whatever the server does, so a server that cannot keep up builds a queue."""
    import random

    out: list[Sample] = []
    if regime.rate is None:
        left = [n]

        async def worker() -> None:
            while left[0] > 0:
                left[0] -= 1
                out.append(await client.request(url, body, p.stream, p.endpoint))

        await asyncio.gather(*(worker() for _ in range(min(regime.clients, n))))
        return out
    rng = random.Random(seed)
    tasks = []
    for _ in range(n):
        tasks.append(asyncio.ensure_future(client.request(url, body, p.stream, p.endpoint)))
        await asyncio.sleep(rng.uniform(0.5, 1.5) / regime.rate)
    return list(await asyncio.gather(*tasks))


async def idle_cpu(servers: dict[str, Server], seconds: float) -> dict[str, float]:
    """Each server's CPU time per second while nobody calls it (timers, housekeeping), in ns."""
    pids = {name: s.pids() for name, s in servers.items()}
    before = {name: cpu_ns(ps) for name, ps in pids.items()}
    t0 = time.perf_counter()
    await asyncio.sleep(seconds)
    wall = time.perf_counter() - t0
    return {name: max(0.0, (cpu_ns(ps) - before[name]) / wall) for name, ps in pids.items()}


async def time_paths(client: Client, paths: Sequence[BenchPath], bases: dict[str, str], regimes: Sequence[Regime],
                     servers: dict[str, Server], args: argparse.Namespace, idle: dict[str, float]
                     ) -> tuple[dict[tuple[str, str], Collected], int, dict[str, str], dict[str, float]]:
    """Rounds: every (regime, path) unit once per round, in an order that rotates.

    A server's CPU per batch is counted less what it spends idle over the batch's wall time
    (``idle``, ns per second), so a slow batch does not bill the requests for the server's timers.
    A server that exits is reported (with the end of its log) and its paths are not timed any further.
    """
    bodies = {p.key: p.body() for p in paths}
    urls = {p.key: bases[p.server] + p.url_path for p in paths}
    units = [(r, p) for r in regimes for p in paths]
    pids = {name: s.pids() for name, s in servers.items()}
    got: dict[tuple[str, str], Collected] = {(r.name, p.key): Collected() for r, p in units}
    t_start = time.perf_counter()
    rounds_done = 0
    dead: dict[str, str] = {}

    def reap(when: str) -> None:
        for name, srv in servers.items():
            if name not in dead and srv.proc is not None and srv.proc.poll() is not None:
                dead[name] = f"exited with {srv.proc.returncode} {when}; its log ends: {srv.tail(1500)}"
                print(f"  ! {name} {dead[name]}", flush=True)

    def ours() -> int:
        return sum(cpu_ns(ps) for name, ps in pids.items() if name not in dead) + time.process_time_ns()

    reap("during the warmup")
    (busy0, steal0), ours0 = machine_cpu_ns(), ours()
    for rnd in range(args.rounds):
        if rnd and time.perf_counter() - t_start > args.max_seconds:
            print(f"  stopped after {rnd} rounds: --max-seconds {args.max_seconds:g} reached")
            break
        shift = (rnd * 3) % len(units)
        order = units[shift:] + units[:shift]
        if rnd % 2:
            order.reverse()
        for r, p in order:
            if p.server in dead:
                continue
            c = got[(r.name, p.key)]
            # The batch starts on open connections, as a client that keeps them would: one untimed
            # request per connection it will use (the client drops idle ones after 4 s, and a
            # bridge's own hop upstream may have been closed meanwhile). Opening and closing
            # connections would otherwise be billed to the few requests of a short batch.
            prime = Regime("prime", r.clients if r.rate is None else 2, 0, None, "")
            n_prime = min(prime.clients, r.per_batch)
            await run_batch(client, urls[p.key], bodies[p.key], p, prime, n_prime, 0)
            c.primed += n_prime
            cpu0 = {name: cpu_ns(ps) for name, ps in pids.items() if name not in dead}
            cpu0["client"] = time.process_time_ns()
            t0 = time.perf_counter()
            c.samples += await run_batch(client, urls[p.key], bodies[p.key], p, r, r.per_batch, seed=rnd * 1000 + len(c.samples))
            wall = time.perf_counter() - t0
            c.wall_s += wall
            reap(f"in round {rnd + 1}")
            cpu1 = {name: cpu_ns(ps) for name, ps in pids.items() if name not in dead}
            cpu1["client"] = time.process_time_ns()
            for name in cpu1.keys() & cpu0.keys():
                c.cpu_ns[name] = c.cpu_ns.get(name, 0) + cpu1[name] - cpu0[name] - int(idle.get(name, 0.0) * wall)
        rounds_done = rnd + 1
        print(f"  round {rounds_done}/{args.rounds} done, {time.perf_counter() - t_start:.0f} s", flush=True)
    (busy1, steal1), ours1 = machine_cpu_ns(), ours()
    wall = (time.perf_counter() - t_start) * 1e9 * (os.cpu_count() or 1)
    load = {"machine_busy_pct": 100 * (busy1 - busy0) / wall, "bench_pct": 100 * (ours1 - ours0) / wall,
            "other_processes_pct": 100 * max(0, (busy1 - busy0) - (ours1 - ours0)) / wall,
            "steal_pct": 100 * (steal1 - steal0) / wall} if busy1 else {}
    return got, rounds_done, dead, load


# --------------------------------------------------------------------------- #
# Statistics
# --------------------------------------------------------------------------- #


def percentile_ci(sorted_values: Sequence[float], q: float) -> tuple[float, float]:
    """Distribution-free ~95% interval of a percentile, from the binomial ranks of the order statistics."""
    n = len(sorted_values)
    half = 1.96 * math.sqrt(n * q * (1 - q))
    lo = max(0, math.floor(n * q - half) - 1)
    hi = min(n - 1, math.ceil(n * q + half))
    return sorted_values[lo], sorted_values[hi]


@dataclass
class Dist:
    """Percentiles of one distribution in ms, with ~95% intervals of p50 and p99."""

    n: int
    p50: float
    p90: float
    p99: float
    mean: float
    max: float
    p50_ci: tuple[float, float]
    p99_ci: tuple[float, float]

    @classmethod
    def of(cls, values_ns: Sequence[int]) -> Dist | None:
        if not values_ns:
            return None
        s = sorted(v / 1e6 for v in values_ns)
        return cls(len(s), percentile(s, 0.5), percentile(s, 0.9), percentile(s, 0.99), sum(s) / len(s), s[-1],
                   percentile_ci(s, 0.5), percentile_ci(s, 0.99))


@dataclass
class Added:
    """Bridge minus direct: the difference of the percentiles, and a conservative ~95% range of it."""

    p50: float
    p99: float
    p50_range: tuple[float, float]
    p99_range: tuple[float, float]

    @classmethod
    def of(cls, bridge: Dist | None, direct: Dist | None) -> Added | None:
        if bridge is None or direct is None:
            return None
        return cls(bridge.p50 - direct.p50, bridge.p99 - direct.p99,
                   (bridge.p50_ci[0] - direct.p50_ci[1], bridge.p50_ci[1] - direct.p50_ci[0]),
                   (bridge.p99_ci[0] - direct.p99_ci[1], bridge.p99_ci[1] - direct.p99_ci[0]))


@dataclass
class PathResult:
    key: str
    what: str
    server: str
    endpoint: str
    stream: bool
    baseline: str
    requests: int
    errors: int
    error_examples: list[str]
    throughput_rps: float
    latency: Dist | None
    ttft: Dist | None
    added: Added | None
    added_ttft: Added | None
    cpu_us_per_request: dict[str, float]
    check_ok: bool = True


def summarize(paths: Sequence[BenchPath], got: dict[str, Collected], checks: dict[str, PathCheck]) -> dict[str, PathResult]:
    out: dict[str, PathResult] = {}
    dists: dict[str, tuple[Dist | None, Dist | None]] = {}
    for p in paths:
        c = got[p.key]
        ok = [s for s in c.samples if s.ok]
        dists[p.key] = (Dist.of([s.latency_ns for s in ok]), Dist.of([s.ttft_ns for s in ok if s.ttft_ns is not None]))
    for p in paths:
        c = got[p.key]
        lat, ttft = dists[p.key]
        base_lat, base_ttft = dists.get(p.baseline, (None, None))
        is_base = p.key == p.baseline
        errors = [s.error or "?" for s in c.samples if not s.ok]
        out[p.key] = PathResult(
            p.key, p.what, p.server, p.endpoint, p.stream, p.baseline, len(c.samples), len(errors), sorted(set(errors))[:3],
            len(c.samples) / c.wall_s if c.wall_s else 0.0, lat, ttft,
            None if is_base else Added.of(lat, base_lat), None if is_base else Added.of(ttft, base_ttft),
            {k: v / 1000 / len(c.samples) for k, v in c.cpu_ns.items()} if c.samples else {},
            checks[p.key].ok,
        )
    return out


# --------------------------------------------------------------------------- #
# Report
# --------------------------------------------------------------------------- #


def _range(r: tuple[float, float] | None) -> str:
    return "" if r is None else f"[{r[0]:+.2f},{r[1]:+.2f}]"


def _cpu(r: PathResult) -> str:
    c = r.cpu_us_per_request
    bridge = "-" if r.server == "upstream" else f"{c.get(r.server, 0):.0f}"
    return f"{c.get('upstream', 0):.0f}/{bridge}/{c.get('client', 0):.0f}"


def print_regime(regime: Regime, results: dict[str, PathResult]) -> None:
    print(f"\n== {regime.name}: {regime.what}")
    print(f"  {'path':<25}{'n':>6}{'err':>5}{'req/s':>7}{'p50 ms':>8}{'p90 ms':>8}{'p99 ms':>8}"
          f"{'+p50 ms':>9}{'(~95%)':>16}{'+p99 ms':>9}{'(~95%)':>16}  cpu µs/req up/bridge/client")
    for r in results.values():
        lat, add = r.latency, r.added
        print(f"  {r.key:<25}{r.requests:>6}{r.errors:>5}{r.throughput_rps:>7.0f}{fmt(lat and lat.p50):>8}{fmt(lat and lat.p90):>8}"
              f"{fmt(lat and lat.p99):>8}{fmt(add and add.p50, '+.2f'):>9}{_range(add and add.p50_range):>16}"
              f"{fmt(add and add.p99, '+.2f'):>9}{_range(add and add.p99_range):>16}  {_cpu(r)}"
              + ("" if r.check_ok else "  (output check FAILED)"))
        for e in r.error_examples:
            print(f"{'':29}! {e}")
    print(f"  {'first token (streams)':<25}{'':26}{'p50 ms':>8}{'p99 ms':>8}{'+p50 ms':>9}{'(~95%)':>16}{'+p99 ms':>9}{'(~95%)':>16}")
    for r in results.values():
        if not r.stream or r.ttft is None:
            continue
        add = r.added_ttft
        print(f"  {r.key:<25}{'':26}{r.ttft.p50:>8.2f}{r.ttft.p99:>8.2f}{fmt(add and add.p50, '+.2f'):>9}"
              f"{_range(add and add.p50_range):>16}{fmt(add and add.p99, '+.2f'):>9}{_range(add and add.p99_range):>16}")


def ratios(results: dict[str, PathResult]) -> dict[str, dict[str, dict[str, float | None]]]:
    """LiteLLM-added / migrator-added per matched pair of paths and statistic.

    The ratio is None when migrator's added latency is not distinguishable from 0 (its ~95% range reaches 0 or below).
    """
    out: dict[str, dict[str, dict[str, float | None]]] = {}
    for proxy, kind in ((x, k) for x in LITELLMS for k in ("responses", "chat", "responses stream", "chat stream")):
        m, lt = results.get(f"migrator {kind}"), results.get(f"{proxy} {kind}")
        if m is None or lt is None:
            continue
        row: dict[str, dict[str, float | None]] = {}
        for label, attr in (("latency", "added"), ("first token", "added_ttft")):
            a, b = getattr(m, attr), getattr(lt, attr)
            if a is None or b is None:
                continue
            for stat in ("p50", "p99"):
                ma, la, lo = getattr(a, stat), getattr(b, stat), getattr(a, f"{stat}_range")[0]
                row[f"{label} {stat}"] = {"litellm_added_ms": la, "migrator_added_ms": ma,
                                          "ratio": la / ma if lo > 0 and ma > 0 else None}
        out[f"{kind} ({LITELLMS[proxy]} worker{'s' if LITELLMS[proxy] > 1 else ''})"] = row
    return out


def print_ratios(rs: dict[str, dict[str, dict[str, float | None]]]) -> None:
    if not rs:
        return
    print("  LiteLLM-added / migrator-added ('-': migrator's added latency is not distinguishable from 0):")
    for kind, row in rs.items():
        parts = [f"{stat} {v['litellm_added_ms']:+.1f}/{v['migrator_added_ms']:+.2f} ms = "
                 + ("-" if v["ratio"] is None else f"{v['ratio']:.0f}x") for stat, v in row.items()]
        print(f"    {kind:<30} " + "; ".join(parts))


def evaluate(results: dict[str, PathResult], regime: str, hard: bool) -> list[Target]:
    targets: list[Target] = []

    def at_most(name: str, goal: str, v: float | None, bound: float) -> None:
        targets.append(Target.judged(f"{name} [{regime}]", goal, v, lambda x: x < bound, hard, "ms"))

    def get(key: str, attr: str, stat: str) -> float | None:
        r = results.get(key)
        a = getattr(r, attr) if r is not None else None
        return None if a is None else float(getattr(a, stat))

    for kind in ("responses", "chat"):
        what = "translating" if kind == "responses" else "passthrough"
        at_most(f"migrator {kind} added p50", f"< 1 ms ({what})", get(f"migrator {kind}", "added", "p50"), 1.0)
        at_most(f"migrator {kind} added p99", f"< 5 ms ({what})", get(f"migrator {kind}", "added", "p99"), 5.0)
        at_most(f"migrator {kind} stream +TTFT p50", "<= 1 ms (first token)", get(f"migrator {kind} stream", "added_ttft", "p50"),
                1.0 + 1e-9)
    r = results.get("migrator responses")
    cpu = r.cpu_us_per_request if r is not None else {}
    share = cpu["migrator"] / cpu["upstream"] if cpu.get("upstream") and "migrator" in cpu else None
    targets.append(Target.judged(f"bridge CPU / upstream CPU, translated request [{regime}]", "<= 1 (aim 0.5)", share,
                                 lambda x: x <= 1.0, hard, "x"))
    return targets


# --------------------------------------------------------------------------- #
# The whole bench
# --------------------------------------------------------------------------- #


PIN_LAYOUTS = ("none", "client-alone", "bridge-alone")


def plan_cpus(pin: str) -> dict[str, list[int] | None]:
    """Which CPUs each party gets (None: any). With three or more CPUs every party gets one of its own."""
    cpus = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
    if pin == "none" or len(cpus) < 2:
        return {"client": None, "upstream": None, "bridges": None}
    if len(cpus) >= 3:
        return {"client": [cpus[0]], "upstream": [cpus[1]], "bridges": [cpus[2]]}
    if pin == "client-alone":
        return {"client": [cpus[0]], "upstream": [cpus[1]], "bridges": [cpus[1]]}
    return {"client": [cpus[0]], "upstream": [cpus[0]], "bridges": [cpus[1]]}


def default_regimes(args: argparse.Namespace, rate: float) -> list[Regime]:
    return [
        Regime("single", 1, args.single_per_batch, None,
               "1 client, closed loop: no queue anywhere, latency is service time"),
        Regime("paced", args.clients, args.paced_per_batch, rate,
               f"requests arrive at {rate:g}/s (gaps uniform 0.5-1.5x the mean) on every path, below what the slowest "
               "server sustains: latency is service time plus the little queueing of random arrivals"),
        Regime("saturating", args.clients, args.clients * args.per_client, None,
               f"{args.clients} clients, closed loop, no think time: the slowest server on the path sets the pace, "
               "latency is mostly queueing"),
    ]


async def capacity(client: Client, paths: Sequence[BenchPath], bases: dict[str, str], clients: int, n: int) -> dict[str, float]:
    """Requests per second each path serves under a closed loop of ``clients`` (what the paced rate must stay below)."""
    out: dict[str, float] = {}
    probe = Regime("probe", clients, n, None, "")
    for p in paths:
        t0 = time.perf_counter()
        samples = await run_batch(client, bases[p.server] + p.url_path, p.body(), p, probe, n, 0)
        out[p.key] = sum(s.ok for s in samples) / (time.perf_counter() - t0)
    return out


def run(args: argparse.Namespace) -> tuple[dict[str, Any], list[Target]]:
    """Start the servers, check and time every path, stop the servers; returns the JSON document and the targets."""
    if args.client == "aiohttp" and importlib.util.find_spec("aiohttp") is None:
        print("aiohttp is not installed: the client uses httpx")
        args.client = "httpx"
    plan = plan_cpus(args.pin)
    workdir = Path(tempfile.mkdtemp(prefix="bench-serve-"))
    master_key = "sk-bench-" + secrets.token_hex(16)
    upstream_log = workdir / "upstream-access.jsonl"
    servers: dict[str, Server] = {}
    skipped: dict[str, str] = {}
    old_affinity = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else None
    print(f"\nbridge latency: loopback, client {args.client}, {args.rounds} rounds; per path and round: "
          f"single {args.single_per_batch} requests, paced {args.paced_per_batch}, saturating "
          f"{args.clients} x {args.per_client}; {os.cpu_count()} cpus")
    print(f"pinning: {plan_summary(plan)}")
    try:
        up = Server("upstream", migrator_argv("--access-log", str(upstream_log)), plan["upstream"], workdir / "upstream.log", cwd=str(workdir))
        servers["upstream"] = up
        if not start_migrator(up):
            raise RuntimeError(f"the upstream did not start: {up.error} (logs in {workdir})")
        upstream_v1 = up.base + "/v1"
        br = Server("migrator", migrator_argv("--upstream", upstream_v1, "--upstream-api", "chat", "--access-log", "-"),
                    plan["bridges"], workdir / "migrator.log", cwd=str(workdir))
        servers["migrator"] = br
        if not start_migrator(br):
            raise RuntimeError(f"the migrator bridge did not start: {br.error} (logs in {workdir})")
        cfg = workdir / "litellm.yaml"
        cfg.write_text(LITELLM_CONFIG.format(model=MODEL, api_base=upstream_v1))
        for name, workers in LITELLMS.items():
            if args.no_litellm or (workers > 1 and args.no_litellm2):
                skipped[name] = "--no-litellm" if args.no_litellm else "--no-litellm2"
                continue
            argv = litellm_argv(cfg, _free_port(), workers)
            if isinstance(argv, str):
                skipped[name] = argv
                continue
            ll = Server(name, argv, plan["bridges"], workdir / f"{name}.log", cwd=str(workdir))
            servers[name] = ll
            if not start_litellm(ll, master_key):
                skipped[name] = f"the proxy did not start: {ll.error}"
                ll.stop()
                del servers[name]
        for s in servers.values():
            print(f"  {s.name:<9} {s.base}  ready in {s.ready_s:.1f} s: {' '.join(s.command())}")
        for name, why in skipped.items():
            print(f"  SKIP {name}: {why}")
        if plan["client"] is not None and hasattr(os, "sched_setaffinity"):
            os.sched_setaffinity(0, set(plan["client"]))
        doc, targets = asyncio.run(_measure(args, servers, skipped, upstream_log, master_key))
    finally:
        for s in reversed(list(servers.values())):
            s.stop()
        if old_affinity is not None:
            os.sched_setaffinity(0, old_affinity)
    doc["environment"] = environment(("migrator", "litellm", "aiohttp", "httpx", "uvicorn", "uvloop", "httptools", "starlette",
                                       "fastapi"), pinning=plan)
    doc["servers"] = {n: {"command": s.command(), "cpus": s.cpus, "ready_s": s.ready_s} for n, s in servers.items()}
    doc["litellm_config"] = LITELLM_CONFIG.format(model=MODEL, api_base="http://127.0.0.1:<upstream port>/v1")
    doc["litellm_env"] = {k: ("<random per run>" if k == "LITELLM_MASTER_KEY" else v)
                          for k, v in litellm_env("x").items() if k.startswith("LITELLM_")}
    doc["skipped"] = skipped
    if not args.keep_logs:
        shutil.rmtree(workdir, ignore_errors=True)
    else:
        print(f"server logs kept in {workdir}")
    return doc, targets


def plan_summary(plan: dict[str, list[int] | None]) -> str:
    if plan["client"] is None:
        return "none (client, upstream and bridges share every CPU)"
    return (f"client on CPU {plan['client']}, upstream on CPU {plan['upstream']}, the bridges on CPU {plan['bridges']} "
            "(only one bridge is loaded at a time; the other idles)")


async def _measure(args: argparse.Namespace, servers: dict[str, Server], skipped: dict[str, str],
                   upstream_log: Path, master_key: str) -> tuple[dict[str, Any], list[Target]]:
    bases = {name: s.base for name, s in servers.items()}
    paths = [p for p in all_paths() if p.server in bases]
    async with Client(args.client, {"authorization": f"Bearer {master_key}"}, args.clients) as client:
        print("\nchecks (one request per path, one at a time):")
        checks = await check_paths(client, paths, bases, upstream_log)
        for p in paths:
            c = checks[p.key]
            print(f"  {'ok  ' if c.ok else 'BAD '}{p.key:<25} {c.summary}")
        paths = [p for p in paths if checks[p.key].ok or not checks[p.key].summary.startswith("raised")]
        lines_before = len(_log_lines(upstream_log))
        warm = Regime("warmup", 4, args.warmup, None, "")
        for p in paths:
            await run_batch(client, bases[p.server] + p.url_path, p.body(), p, warm, args.warmup, 0)
        idle = await idle_cpu(servers, args.idle_seconds)
        print("\nidle CPU (ms per s, subtracted from each batch's CPU): "
              + ", ".join(f"{name} {v / 1e6:.1f}" for name, v in idle.items()))
        sent = len(paths) * args.warmup
        probed = [p for p in paths if p.endpoint == "responses" or p.server == "upstream"]
        print(f"\ncapacity: {args.probe_requests} requests per path from {args.clients} closed-loop clients (req/s):")
        cap = await capacity(client, probed, bases, args.clients, args.probe_requests)
        sent += len(probed) * args.probe_requests
        print("  " + ", ".join(f"{k} {v:.0f}" for k, v in cap.items()))
        slowest = [v for k, v in cap.items() if k.startswith("litellm ")] or list(cap.values())
        rate = args.rate or max(1.0, round(args.rate_share * min(slowest), 1))
        print(f"  paced rate: {rate:g} req/s" + ("" if args.rate else f" ({args.rate_share:g} x the slowest "
              + ("one-worker LiteLLM path" if any(k.startswith("litellm ") for k in cap) else "path") + ")"))
        regimes = [r for r in default_regimes(args, rate) if args.regime in ("all", r.name)]
        print(f"\ntiming: up to {args.rounds} rounds (at most {args.max_seconds:g} s); every (regime, path) once a round, "
              "order rotating")
        got, rounds_done, dead, load = await time_paths(client, paths, bases, regimes, servers, args, idle)
    upstream_lines = len(_log_lines(upstream_log)) - lines_before
    sent += sum(len(c.samples) + c.primed for c in got.values())
    all_results: dict[str, dict[str, PathResult]] = {}
    targets: list[Target] = []
    for r in regimes:
        results = summarize(paths, {p.key: got[(r.name, p.key)] for p in paths}, checks)
        all_results[r.name] = results
    print("\n" + "=" * 130)
    print("bridge latency, loopback; added = bridge percentile - direct percentile "
          "(same run); ~95% = conservative range from the order-statistic intervals of both percentiles")
    rat: dict[str, Any] = {}
    for r in regimes:
        print_regime(r, all_results[r.name])
        rat[r.name] = ratios(all_results[r.name])
        print_ratios(rat[r.name])
        targets += evaluate(all_results[r.name], r.name, hard=(r.name == args.target_regime))
    targets.append(Target("migrator bridge and upstream stay up", "no exit while timed", None,
                          "FAIL" if dead.keys() & {"migrator", "upstream"} else "PASS", True, unit=""))
    print("=" * 130)
    for name, why in dead.items():
        print(f"!! {name} {why.split('; its log ends')[0]}: its rows hold the batches before that, and their errors")
    errors = sum(1 for c in got.values() for s in c.samples if not s.ok)
    print(f"upstream requests during timing: {upstream_lines} for {sent} client requests (warmup and capacity included), "
          f"{errors} of which failed: " + ("one upstream request each" if upstream_lines == sent else
                                           f"{sent - upstream_lines} never reached the upstream"))
    if load:
        print(f"while timing, of all {os.cpu_count()} CPUs: busy {load['machine_busy_pct']:.0f}%, the bench's processes "
              f"{load['bench_pct']:.0f}%, other processes {load['other_processes_pct']:.0f}%, stolen by the host "
              f"{load['steal_pct']:.0f}%" + ("  <- other work competed with the bench: compare runs with care"
                                             if load["other_processes_pct"] > 5 else ""))
    if os.cpu_count() == 2:
        print("note: 2 CPUs: client, upstream and bridge compete for them (see the pinning above); "
              "absolute numbers are this machine's, the differences are the point")
    print("\nbridge targets:")
    print_targets(targets, (50, 26), "+.2f", "  (not the target regime)")
    doc = {
        "config": {k: v for k, v in vars(args).items() if k != "json"},
        "regimes": [asdict(r) for r in regimes],
        "capacity_rps": cap,
        "idle_cpu_ns_per_s": idle,
        "paced_rate_rps": rate,
        "requests": {"chat": request_body("chat", False), "responses": request_body("responses", False),
                     "stream": "the same with stream: true (chat: and stream_options.include_usage: true)"},
        "checks": {k: asdict(v) for k, v in checks.items()},
        "rounds_done": rounds_done,
        "priming_requests": sum(c.primed for c in got.values()),
        "servers_that_exited": dead,
        "cpu_while_timing": load,
        "upstream_requests": upstream_lines,
        "client_requests": sent,
        "results": {rn: {k: asdict(v) for k, v in res.items()} for rn, res in all_results.items()},
        "ratios_litellm_to_migrator_added": rat,
        "targets": [asdict(t) for t in targets],
    }
    return doc, targets


def add_arguments(p: Any, prefix: str = "") -> None:
    """The bench's options on a parser or an argument group (``prefix`` namespaces them inside bench/run.py)."""
    p.add_argument(f"--{prefix}clients", type=int, default=32,
                   help="concurrent clients of the saturating regime and the capacity probe (default 32)")
    p.add_argument(f"--{prefix}rounds", type=int, default=3, help="rounds; each times every (regime, path) once (default 3)")
    p.add_argument(f"--{prefix}single-per-batch", type=int, default=16, help="single regime: requests per batch (default 16)")
    p.add_argument(f"--{prefix}paced-per-batch", type=int, default=24, help="paced regime: requests per batch (default 24)")
    p.add_argument(f"--{prefix}per-client", type=int, default=1, help="saturating regime: requests per client per batch (default 1)")
    p.add_argument(f"--{prefix}warmup", type=int, default=16, help="warmup requests per path, 4 at a time (default 16)")
    p.add_argument(f"--{prefix}probe-requests", type=int, default=96,
                   help="capacity probe: requests per /v1/responses path and direct path (default 96)")
    p.add_argument(f"--{prefix}rate", type=float, default=None,
                   help="paced regime: arrivals per second on every path (default: --rate-share x the capacity of the "
                        "slowest one-worker LiteLLM path, measured first)")
    p.add_argument(f"--{prefix}rate-share", type=float, default=0.5, help="see --rate (default 0.5)")
    p.add_argument(f"--{prefix}idle-seconds", type=float, default=3.0,
                   help="how long each server's idle CPU is measured, to subtract it from the batches (default 3)")
    p.add_argument(f"--{prefix}regime", choices=("all", "single", "paced", "saturating"), default="all", help="default all")
    p.add_argument(f"--{prefix}target-regime", choices=("single", "paced", "saturating"), default="paced",
                   help="the regime whose targets are hard (default paced; the others' are printed too)")
    p.add_argument(f"--{prefix}max-seconds", type=float, default=600.0, help="stop starting rounds after this (default 600)")
    p.add_argument(f"--{prefix}pin", choices=PIN_LAYOUTS, default="none",
                   help="CPU pinning on a 2-CPU machine: none (default), client-alone (upstream and bridges share the "
                        "other CPU) or bridge-alone (client and upstream share one CPU); with 3+ CPUs any pinning "
                        "gives each party a CPU of its own")
    p.add_argument(f"--{prefix}client", choices=("aiohttp", "httpx"), default="aiohttp", help="HTTP client library (default aiohttp)")
    p.add_argument(f"--{prefix}no-litellm", action="store_true", help="do not start LiteLLM's proxies")
    p.add_argument(f"--{prefix}no-litellm2", action="store_true", help="do not start the two-worker LiteLLM proxy")
    p.add_argument(f"--{prefix}keep-logs", action="store_true", help="keep the servers' logs and config (the path is printed)")


def quick(args: argparse.Namespace) -> None:
    args.rounds, args.single_per_batch, args.paced_per_batch, args.per_client = 1, 5, 8, 1
    args.warmup, args.probe_requests, args.idle_seconds = 4, 32, 1.0


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_output_arguments(p, "a smoke test, not a measurement")
    add_arguments(p)
    args = p.parse_args(argv)
    if args.quick:
        quick(args)
    doc, targets = run(args)
    return finish(targets, doc, args.json, args.strict)


if __name__ == "__main__":
    sys.exit(main())
