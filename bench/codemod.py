"""Benchmark: ``migrator codemod --check`` on a generated repository, against parsing every file.

Run from the repository root::

    python bench/codemod.py                  # 10,000 files, 1% of them calling the API
    python bench/codemod.py --json out.json  # also write every number as JSON
    python bench/codemod.py --quick          # 1,000 files, a smoke test

The baseline is what a codemod without a byte screen does (bump-pydantic, libcst's runner):
``libcst.parse_module`` on every file, in as many processes as the codemod gets. Both are timed
as whole commands (interpreter start included), on the same tree, in the same run.
See bench/README.md ("Codemod").
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

# common puts migrator on the path (bench/ is sys.path[0] when this file is run as a script).
from common import Target, add_output_arguments, banner, child_env, environment, finish, print_targets

WORDS = ("account", "batch", "cache", "report", "order", "client", "record", "config", "metric", "queue", "token",
         "frame", "model", "stage", "route", "event", "image", "vector", "sample", "ledger", "worker", "filter")

PARSE_ALL = r"""
import os, sys, time
from multiprocessing import Pool
import libcst

def parse(path):
    with open(path, "rb") as fh:
        libcst.parse_module(fh.read())
    return 1

if __name__ == "__main__":
    root, jobs = sys.argv[1], int(sys.argv[2])
    files = [os.path.join(d, f) for d, _, fs in os.walk(root) for f in fs if f.endswith(".py")]
    with Pool(jobs) as pool:
        print(sum(pool.imap_unordered(parse, files, chunksize=32)))
"""


def _name(rng: random.Random) -> str:
    return f"{rng.choice(WORDS)}_{rng.choice(WORDS)}"


def _function(rng: random.Random) -> str:
    name, a, b = _name(rng), rng.choice(WORDS), rng.choice(WORDS)
    return (
        f"def {name}({a}: dict[str, Any], {b}: list[int] | None = None, *, retries: int = {rng.randint(1, 9)}) -> list[str]:\n"
        f'    """Collect the {a} entries that pass the {b} filter, keeping their order.\n\n'
        f"    Entries without a key are skipped; a missing {b} list means every entry passes.\n"
        f'    """\n'
        f"    out: list[str] = []\n"
        f"    for key, value in sorted({a}.items()):\n"
        f"        if {b} is not None and len(key) not in {b}:\n"
        f"            continue  # not selected\n"
        f"        if isinstance(value, (list, tuple)):\n"
        f"            out.extend(str(v).strip() for v in value if v)\n"
        f"        elif value is None:\n"
        f"            logger.debug('skip %s after %d tries', key, retries)\n"
        f"        else:\n"
        f"            out.append(f\"{{key}}={{value!r:>{rng.randint(4, 20)}}}\")\n"
        f"    return [s for s in out if s and not s.startswith('#')]\n\n\n"
    )


def _class(rng: random.Random) -> str:
    name = "".join(w.title() for w in (rng.choice(WORDS), rng.choice(WORDS)))
    fields = sorted(set(rng.sample(WORDS, 4)))
    body = "".join(f"    {f}: {rng.choice(('int', 'str', 'float | None', 'list[str]'))}\n" for f in fields)
    return (
        f"@dataclass\nclass {name}:\n"
        f'    """A {fields[0]} as the {fields[-1]} service stores it."""\n\n{body}\n'
        f"    def as_dict(self) -> dict[str, Any]:\n"
        f"        return {{{', '.join(f'{f!r}: self.{f}' for f in fields)}}}\n\n"
        f"    @classmethod\n"
        f"    def from_row(cls, row: tuple[Any, ...]) -> {name!r}:\n"
        f"        if len(row) != {len(fields)}:\n"
        f"            raise ValueError(f'expected {len(fields)} columns, found {{len(row)}}')\n"
        f"        return cls(*row)\n\n\n"
    )


def _api_use(rng: random.Random) -> str:
    var = rng.choice(("client", "llm", "oai"))
    return (
        f"{var} = OpenAI()\n\n\n"
        f"def ask_{rng.choice(WORDS)}(question: str, history: list[dict[str, str]]) -> str:\n"
        f"    response = {var}.chat.completions.create(\n"
        f"        model=\"gpt-4o-mini\",\n"
        f"        messages=[{{\"role\": \"system\", \"content\": \"Answer briefly.\"}}, *history,\n"
        f"                  {{\"role\": \"user\", \"content\": question}}],\n"
        f"        temperature={rng.randint(0, 10) / 10},\n"
        f"        max_tokens={rng.choice((256, 512, 1024))},\n"
        f"    )\n"
        f"    return response.choices[0].message.content or \"\"\n\n\n"
    )


def _module(rng: random.Random, uses_api: bool) -> str:
    target = rng.randint(2048, 8192)
    parts = [
        f'"""The {rng.choice(WORDS)} {rng.choice(WORDS)} helpers: parsing, checks and the glue between them."""\n\n',
        "from __future__ import annotations\n\nimport logging\nfrom dataclasses import dataclass\nfrom typing import Any\n",
        "\nfrom openai import OpenAI\n" if uses_api else "",
        "\nlogger = logging.getLogger(__name__)\n\n\n",
    ]
    if uses_api:
        parts.append(_api_use(rng))
    size = sum(map(len, parts))
    while size < target:
        part = _class(rng) if rng.random() < 0.3 else _function(rng)
        parts.append(part)
        size += len(part)
    return "".join(parts).rstrip("\n") + "\n"


def generate(root: Path, files: int, seed: int, share: float = 0.01) -> dict[str, Any]:
    """A package tree of ``files`` modules, 100 a package, ``share`` of them calling the API (evenly spread)."""
    rng = random.Random(seed)
    every = round(1 / share)
    total = 0
    for i in range(files):
        pkg = root / "src" / f"pkg_{i // 100:03}"
        if i % 100 == 0:
            pkg.mkdir(parents=True)
            (pkg / "__init__.py").write_text("")
        text = _module(rng, uses_api=i % every == every // 2)
        (pkg / f"mod_{i % 100:03}.py").write_text(text)
        total += len(text)
    (root / ".gitignore").write_text("build/\n*.egg-info/\n")
    return {"files": files, "matching": len(range(every // 2, files, every)), "bytes": total}


def _timed(cmd: list[str], ok: tuple[int, ...] = (0,)) -> tuple[float, float]:
    """Wall seconds, and CPU seconds of the command and every process it waited for (its pool)."""
    env = child_env()
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(Path(__file__).resolve().parent), env.get("PYTHONPATH")) if p)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, check=False)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode not in ok:
        sys.exit(f"{' '.join(cmd[:4])}… exited {proc.returncode}: {proc.stderr.decode()[-2000:]}")
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def parse_only(code: str, options: Any) -> Any:
    """The least a libcst transform does: parse, and hand the code back."""
    import libcst

    from migrator.codemod.outcome import Outcome

    libcst.parse_module(code)
    return Outcome(code)


def per_core_rate(root: Path, repeat: int) -> tuple[float, float, int]:
    """Matching files a second of one process's CPU: read, screen, parse and transform (the runner's own loop),
    with the real transform and with ``parse_only`` (the floor: what the runner and libcst's parse cost).

    CPU time, not wall time: on a machine shared with other work the wall clock measures the
    neighbours too."""
    from migrator.codemod.files import discover
    from migrator.codemod.outcome import BYTE_MARKER, Options
    from migrator.codemod.runner import run_all

    matching = [c for c in discover([str(root)]).files if BYTE_MARKER in Path(c.path).read_bytes()]
    rates = []
    for transform in (None, parse_only):
        run_all(matching, Options(), jobs=1, transform=transform)  # warm: imports, caches
        times = []
        for _ in range(repeat):
            start = time.process_time()
            run_all(matching, Options(), jobs=1, transform=transform)
            times.append(time.process_time() - start)
        rates.append(len(matching) / statistics.median(times))
    return rates[0], rates[1], len(matching)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--files", type=int, default=10_000, help="modules in the generated tree (default 10000)")
    p.add_argument("--seed", type=int, default=20260, help="the generator's seed (default 20260)")
    p.add_argument("--jobs", type=int, default=2, help="processes for both contenders (default 2)")
    p.add_argument("--runs", type=int, default=3, help="codemod runs; the median is reported (default 3)")
    p.add_argument("--keep", metavar="DIR", type=Path, help="generate into DIR and keep it")
    add_output_arguments(p, "1,000 files and one run: a smoke test, not a measurement")
    args = p.parse_args(argv)
    if args.quick:
        args.files, args.runs = 1_000, 1
    print(banner())
    with tempfile.TemporaryDirectory(prefix="migrator-bench-codemod-") as tmp:
        root = args.keep or Path(tmp) / "repo"
        if root.exists() and any(root.iterdir()):
            sys.exit(f"{root}: not empty")
        root.mkdir(parents=True, exist_ok=True)
        start = time.perf_counter()
        tree = generate(root, args.files, args.seed)
        print(f"generated {tree['files']:,} files ({tree['bytes'] / 2**20:.1f} MiB, {tree['matching']} call the API) "
              f"in {time.perf_counter() - start:.1f} s")
        codemod_cmd = [sys.executable, "-m", "migrator.cli", "codemod", "--check", "--jobs", str(args.jobs), str(root)]
        timed = [_timed(codemod_cmd, ok=(0, 1)) for _ in range(args.runs)]
        runs = [w for w, _ in timed]
        codemod, codemod_cpu = statistics.median(runs), statistics.median(c for _, c in timed)
        print(f"migrator codemod --check --jobs {args.jobs}: {codemod:.2f} s wall (median of {len(runs)}: "
              f"{', '.join(f'{r:.2f}' for r in runs)}), {codemod_cpu:.2f} s CPU")
        floor, floor_cpu = _timed([*codemod_cmd, "--transform", "codemod:parse_only"])
        print(f"the same with a parse-only transform (the runner's floor): {floor:.2f} s wall, {floor_cpu:.2f} s CPU")
        parse_all, parse_all_cpu = _timed([sys.executable, "-c", PARSE_ALL, str(root), str(args.jobs)])
        print(f"libcst.parse_module on every file, {args.jobs} processes: {parse_all:.2f} s wall, {parse_all_cpu:.2f} s CPU")
        rate, floor_rate, matching = per_core_rate(root, repeat=args.runs)
    speedup = parse_all / codemod
    end_to_end = matching / codemod / args.jobs
    print(f"ratio: {speedup:.1f}x faster than parsing everything (wall); {parse_all_cpu / codemod_cpu:.1f}x in CPU time; "
          f"with the parse-only transform {parse_all / floor:.1f}x (wall), {parse_all_cpu / floor_cpu:.1f}x (CPU)")
    print(f"matching files per second per core: {rate:.0f} (one process's CPU, the runner on the {matching} matching files); "
          f"{floor_rate:.0f} with a parse-only transform (the floor); whole command: {end_to_end:.0f} "
          f"(matching files / wall / {args.jobs} processes, interpreter start included)")
    targets = [
        Target.judged("codemod vs parse-everything", ">= 20x", speedup, lambda v: v >= 20),
        Target.judged("matching files / s / core", ">= 100", rate, lambda v: v >= 100, unit="files/s"),
    ]
    print("\ntargets:")
    print_targets(targets, (28, 8), spec={"x": ".1f", "files/s": ".0f"})
    doc = {
        "environment": environment(["libcst", "pathspec"], jobs=args.jobs),
        "tree": tree | {"seed": args.seed},
        "codemod_check_s": codemod,
        "codemod_check_runs_s": runs,
        "codemod_check_cpu_s": codemod_cpu,
        "parse_only_transform_s": floor,
        "parse_only_transform_cpu_s": floor_cpu,
        "parse_all_s": parse_all,
        "parse_all_cpu_s": parse_all_cpu,
        "ratio_cpu": parse_all_cpu / codemod_cpu,
        "ratio": speedup,
        "matching_files_per_s_per_core": rate,
        "matching_files_per_s_per_core_parse_only": floor_rate,
        "matching_files_per_s_per_process_end_to_end": end_to_end,
        "targets": [t.__dict__ for t in targets],
        "command": [*codemod_cmd[1:-1], "<tree>"],
    }
    return finish(targets, doc, args.json, args.strict)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    sys.exit(main())
