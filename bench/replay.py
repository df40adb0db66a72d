"""The replay harness's own cost: cases per second and peak memory against the offline server.

    python bench/replay.py                 # 10,000 and 100,000 cases at concurrency 64
    python bench/replay.py --quick         # 2,000 and 10,000 cases: a smoke test, not a measurement

Each size is one `migrator replay` process (three arms a case, so 3 requests a case) against the
offline model that the harness starts itself, as a user's first run does. Cases per second is the
run phase only (meta.json's started → finished: from the first case read to the last result written;
the server's start and the report after it are timed apart). Peak memory is the harness process's
high-water RSS (VmHWM), read from /proc at the end of the run, the offline server's apart: the
target is that the harness's stays flat as the corpus grows tenfold.

The corpus mixes the shapes of fixtures/corpus/sample.jsonl (plain questions, tools, structured
output, truncation, refusals, n, seed, a request the API refuses), each with its own text so no two
cases share a cache entry.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import REPO_ROOT, child_env

TARGET_CASES_PER_SECOND = 300.0
TARGET_MEMORY_GROWTH = 1.25  # peak RSS at 10× the cases at most this many times the smaller run's
SHAPES = [json.loads(line)["request"] for line in (REPO_ROOT / "fixtures/corpus/sample.jsonl").read_text().splitlines()
          if line.startswith('{"id"') and '"too-hot"' not in line and '"broken-line"' not in line]
TOO_HOT = {"model": "gpt-4.1-mini", "temperature": 5, "messages": [{"role": "user", "content": "Write a poem."}]}
WORDS = "river lantern copper meadow signal harbor quiet ember orbit willow prism canyon".split()


def write_corpus(path: Path, cases: int, seed: int = 1) -> None:
    rng = random.Random(seed)
    with path.open("w", encoding="utf-8") as out:
        for i in range(cases):
            shape = TOO_HOT if i % 97 == 0 else SHAPES[i % len(SHAPES)]
            request = json.loads(json.dumps(shape))
            last = request["messages"][-1]
            last["content"] = f"{last['content']} ({' '.join(rng.choices(WORDS, k=3))} #{i})"
            out.write(json.dumps({"id": f"case-{i}", "request": request}) + "\n")


def _hwm_kb(pid: int) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def _children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def run_one(cases: int, concurrency: int, work: Path) -> dict[str, Any]:
    corpus = work / f"corpus-{cases}.jsonl"
    write_corpus(corpus, cases)
    out = work / f"out-{cases}"
    command = [sys.executable, "-m", "migrator.cli", "replay", str(corpus), "--concurrency", str(concurrency),
               "--out", str(out)]
    started = time.perf_counter()
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=child_env())
    peaks = {"harness": 0, "server": 0}

    def watch() -> None:
        while proc.poll() is None:
            peaks["harness"] = max(peaks["harness"], _hwm_kb(proc.pid) or 0)
            for child in _children(proc.pid):
                peaks["server"] = max(peaks["server"], _hwm_kb(child) or 0)
            time.sleep(0.2)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    _, stderr = proc.communicate()
    wall = time.perf_counter() - started
    watcher.join()
    if proc.returncode not in (0, 1):
        raise SystemExit(f"migrator replay exited {proc.returncode}:\n{stderr[-2000:]}")
    meta = json.loads((out / "meta.json").read_text())
    summary = json.loads((out / "summary.json").read_text())
    run_seconds = meta["finished"] - meta["started"]
    return {
        "cases": cases, "concurrency": concurrency, "run_seconds": round(run_seconds, 2), "wall_seconds": round(wall, 2),
        "cases_per_second": round(cases / run_seconds, 1), "requests_per_second": round(3 * cases / run_seconds, 1),
        "harness_peak_mb": round(peaks["harness"] / 1024, 1), "server_peak_mb": round(peaks["server"] / 1024, 1),
        "verdicts": summary.get("verdicts"),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="2,000 and 10,000 cases (a smoke test)")
    parser.add_argument("--sizes", type=int, nargs="+", help="corpus sizes (default 10000 100000)")
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--json", metavar="PATH", help="also write the figures as JSON")
    args = parser.parse_args(argv)
    sizes = args.sizes or ([2_000, 10_000] if args.quick else [10_000, 100_000])
    rows = []
    with tempfile.TemporaryDirectory(prefix="migrator-replay-bench-") as tmp:
        for size in sizes:
            row = run_one(size, args.concurrency, Path(tmp))
            rows.append(row)
            print(f"{row['cases']:>8,} cases  {row['cases_per_second']:>7.1f} cases/s ({row['requests_per_second']:.0f} req/s)"
                  f"  run {row['run_seconds']} s, wall {row['wall_seconds']} s"
                  f"  harness peak {row['harness_peak_mb']} MB, server peak {row['server_peak_mb']} MB  {row['verdicts']}",
                  flush=True)
    slowest = min(r["cases_per_second"] for r in rows)
    growth = rows[-1]["harness_peak_mb"] / rows[0]["harness_peak_mb"] if len(rows) > 1 else 1.0
    print(f"\ntarget ≥ {TARGET_CASES_PER_SECOND:.0f} cases/s: slowest {slowest:.1f} → {'met' if slowest >= TARGET_CASES_PER_SECOND else 'MISSED'}")
    print(f"target memory flat: peak ×{growth:.2f} for ×{rows[-1]['cases'] / rows[0]['cases']:.0f} the cases"
          f" → {'met' if growth <= TARGET_MEMORY_GROWTH else 'MISSED'} (at most ×{TARGET_MEMORY_GROWTH})")
    if args.json:
        Path(args.json).write_text(json.dumps({"rows": rows, "cpu_count": os.cpu_count()}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
