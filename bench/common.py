"""Pieces every benchmark script shares: where migrator comes from, statistics, checks, targets, reports.

One definition each, so that run.py, streams.py and serve.py compute a percentile or judge a
target the same way and a fix lands everywhere at once.
"""

from __future__ import annotations

import gc
import importlib.metadata
import importlib.util
import json
import os
import platform
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent

# Is migrator importable as installed (pip install -e .)? If not, fall back to the work tree,
# for this process and for the subprocesses a bench starts alike.
MIGRATOR_INSTALLED = importlib.util.find_spec("migrator") is not None
if not MIGRATOR_INSTALLED:
    sys.path.append(str(REPO_ROOT))

# LiteLLM downloads a model cost map at import unless told not to.
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")


def child_env(env: dict[str, str] | None = None) -> dict[str, str]:
    """The environment for a subprocess that imports migrator (the work tree on its path when not installed)."""
    env = dict(os.environ if env is None else env)
    if not MIGRATOR_INSTALLED:
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO_ROOT), env.get("PYTHONPATH", "")) if p)
    return env


@dataclass
class Skipped:
    """A contender that could not be loaded, and why."""

    key: str
    reason: str


def package_version(dist: str) -> str | None:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return None


def migrator_version() -> str | None:
    """The installed distribution's version, else the work tree's ``__version__``."""
    v = package_version("migrator")
    if v is None:
        import migrator

        v = getattr(migrator, "__version__", None)
    return v


def environment(packages: Sequence[str], **extra: Any) -> dict[str, Any]:
    """The machine and package versions, for a bench's JSON document."""
    return {
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
        **extra,
        "migrator_installed": MIGRATOR_INSTALLED,
        "packages": {d: package_version(d) for d in packages},
    }


def banner() -> str:
    return (
        f"python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} cpus; "
        f"migrator {'installed' if MIGRATOR_INSTALLED else 'from work tree (not installed)'}"
    )


# --------------------------------------------------------------------------- #
# Statistics and timing
# --------------------------------------------------------------------------- #


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """Linear-interpolated percentile of an already sorted sequence."""
    if len(sorted_values) == 1:
        return sorted_values[0]
    pos = (len(sorted_values) - 1) * q
    lo = int(pos)
    hi = min(lo + 1, len(sorted_values) - 1)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (pos - lo)


def ratio(a: float | None, b: float | None) -> float | None:
    """a / b, or None when either is missing or b is 0."""
    if a is None or b is None or b == 0:
        return None
    return a / b


@contextmanager
def gc_paused(keep_gc: bool) -> Iterator[None]:
    """A collection first, then (unless ``keep_gc``) no collector inside the block, as timeit does."""
    was_enabled = gc.isenabled()
    gc.collect()
    if not keep_gc:
        gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


# --------------------------------------------------------------------------- #
# Reading outputs
# --------------------------------------------------------------------------- #


def get(obj: Any, key: str, default: Any = None) -> Any:
    """Read a field of a dict or of an object (peers return either)."""
    if isinstance(obj, dict):
        return obj.get(key, default)
    return getattr(obj, key, default)


def sse_events(raw: bytes) -> list[dict[str, Any]]:
    """The JSON objects in SSE bytes (a plain reader, independent of migrator's); ``[DONE]`` skipped."""
    out: list[dict[str, Any]] = []
    for block in raw.replace(b"\r\n", b"\n").split(b"\n\n"):
        data = [line[5:].strip() for line in block.split(b"\n") if line.startswith(b"data:")]
        if data and data not in ([b""], [b"[DONE]"]):
            obj = json.loads(b"\n".join(data))
            if isinstance(obj, dict):
                out.append(obj)
    return out


@dataclass
class Check:
    """What a sanity check found about one contender's output."""

    ok: bool
    summary: str
    problems: list[str] = field(default_factory=list)

    @property
    def raised(self) -> bool:
        """The contender raised instead of answering: it is reported, not timed."""
        return self.summary.startswith("raised ")


def run_check(check: Callable[..., Check], *args: Any) -> Check:
    """``check(*args)``, or a failed Check naming what it raised."""
    try:
        return check(*args)
    except Exception as exc:  # report and carry on
        return Check(False, f"raised {type(exc).__name__}: {exc}")


def print_check(key: str, check: Check, note: str = "") -> None:
    print(f"  check {'ok  ' if check.ok else 'BAD '}{key:9} {check.summary}{note}")
    for p in check.problems[:4]:
        print(f"             ! {p}")


def print_skipped(skipped: Sequence[Skipped]) -> None:
    for s in skipped:
        print(f"  SKIP {s.key}: {s.reason}")


# --------------------------------------------------------------------------- #
# Targets and reports
# --------------------------------------------------------------------------- #


@dataclass
class Target:
    """One goal and whether this run met it."""

    name: str
    goal: str
    value: float | None
    status: str  # PASS, FAIL or SKIP
    hard: bool
    unit: str = "x"

    @classmethod
    def judged(cls, name: str, goal: str, value: float | None, ok: Callable[[float], bool], hard: bool = True,
               unit: str = "x") -> Target:
        """SKIP without a value, else PASS or FAIL as ``ok`` says."""
        return cls(name, goal, value, "SKIP" if value is None else ("PASS" if ok(value) else "FAIL"), hard, unit)


def fmt(v: float | None, spec: str = ".2f", suffix: str = "") -> str:
    return "-" if v is None else f"{v:{spec}}{suffix}"


def print_targets(targets: Sequence[Target], widths: tuple[int, int], spec: str | dict[str, str] = ".2f",
                  soft: str = "  (aim)") -> None:
    """One line a target; ``spec`` formats the value (per unit when a dict), ``soft`` marks a target that is not hard."""
    for t in targets:
        s = spec if isinstance(spec, str) else spec.get(t.unit, ".2f")
        val = fmt(t.value, s, "x" if t.unit == "x" else f" {t.unit}")
        print(f"  {t.status:<4}  {t.name:<{widths[0]}} {t.goal:<{widths[1]}} measured {val}{'' if t.hard else soft}")


def add_output_arguments(p: Any, quick: str) -> None:
    """--json, --quick (``quick`` is its help) and --strict, the same in every bench."""
    p.add_argument("--json", metavar="PATH", type=Path, help="also write the results as JSON to PATH")
    p.add_argument("--quick", action="store_true", help=quick)
    p.add_argument("--strict", action="store_true", help="exit 1 if a hard target fails or is skipped")


def finish(targets: Sequence[Target], doc: dict[str, Any], json_path: Path | None, strict: bool) -> int:
    """Write the JSON document if asked; the exit status (1 when ``strict`` and a hard target did not pass)."""
    if json_path:
        json_path.parent.mkdir(parents=True, exist_ok=True)
        json_path.write_text(json.dumps(doc, indent=2, default=str) + "\n")
        print(f"\nwrote {json_path}")
    return 1 if strict and any(t.hard and t.status != "PASS" for t in targets) else 0
