"""Execution tests of the JavaScript codemod: Node programs run before and after it, against ``migrator serve``.

The Node counterpart of tests/test_codemod_programs.py, with the same judgement. Each folder of
``fixtures/codemod/node-programs/`` is one shape of openai-node, ``fetch`` or axios use
(``before.mjs`` / ``before.cjs``) with a hand migration beside it (``expected_after.*``). They
run with ``node`` (20 or newer) and the npm packages pinned in that folder's package-lock.json,
which ``install.sh`` there installs outside the repository (``.ci/run`` calls it); without node
or that install the tests are skipped, saying which is missing.

* ``expected_after`` must print what ``before`` printed, on ``/v1/responses`` only: that proves
  the references, and a difference shows where the offline model answers the two endpoints
  differently;
* ``migrator codemod --write`` on a copy of ``before`` must give a program that prints the same
  thing and sends every request to ``/v1/responses`` (the server's access log tells). Programs
  whose codemod output does not do that yet are strict xfails listed in :data:`NODE_PENDING`.
"""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from migrator.cli import main
from tests.program_runner import Run
from tests.serve_helpers import ROOT, ServerProcess, read_jsonl, wait_for
from tests.test_codemod_programs import CHAT_PATH, Observed, assert_behaves_like, assert_used_api

PROGRAMS_DIR = ROOT / "fixtures" / "codemod" / "node-programs"
INSTALL = PROGRAMS_DIR / "install.sh"
SUFFIXES = (".mjs", ".cjs", ".js")
NODE_MAJOR = 20
NODE_TIMEOUT = 30.0


def _before(folder: Path) -> Path | None:
    return next((folder / f"before{s}" for s in SUFFIXES if (folder / f"before{s}").is_file()), None)


PROGRAMS = sorted(p.name for p in PROGRAMS_DIR.iterdir() if p.is_dir() and _before(p) is not None)

NODE_PENDING: dict[str, str] = {
    # What the JS codemod still leaves.
}
"""Programs whose codemod output does not behave like ``before`` yet, with what each needs."""


def before_path(name: str) -> Path:
    path = _before(PROGRAMS_DIR / name)
    assert path is not None
    return path


def after_path(name: str) -> Path:
    before = before_path(name)
    return before.with_name("expected_after" + before.suffix)


# ---------------------------------------------------------------------------- node and the npm packages


def node_missing() -> str | None:
    """Why the programs cannot run here, or None when node and the pinned packages are in place."""
    node = shutil.which("node")
    if node is None:
        return "node is not on PATH (the Node execution tests need Node.js 20 or newer)"
    version = subprocess.run([node, "--version"], capture_output=True, text=True, timeout=30).stdout.strip()
    match = re.fullmatch(r"v(\d+)\..*", version)
    if match is None or int(match.group(1)) < NODE_MAJOR:
        return f"node {version or '(no version)'} is older than Node.js {NODE_MAJOR}"
    folder = packages_dir()
    stamp = folder / "installed.lock"
    if not stamp.is_file() or stamp.read_bytes() != (PROGRAMS_DIR / "package-lock.json").read_bytes():
        return f"the pinned npm packages are not installed in {folder}: run {INSTALL.relative_to(ROOT)} (.ci/run does)"
    return None


def packages_dir() -> Path:
    """The folder install.sh installs into: it alone says where (MIGRATOR_NODE_PROGRAMS_DIR overrides)."""
    where = subprocess.run(["bash", str(INSTALL), "--where"], capture_output=True, text=True, check=True, timeout=30)
    return Path(where.stdout.strip())


# ---------------------------------------------------------------------------- running programs


@dataclass
class NodeHarness:
    """Runs programs one at a time with ``node``, so the access-log lines a run adds are that run's requests."""

    server: ServerProcess
    log: Path
    env: dict[str, str]
    scratch: Path  # holds a node_modules link to the install, so copies resolve `openai` as the fixtures do

    def idle(self) -> bool:
        # A stream's log line is written when its body ends, which can be just after the client has read it.
        return bool(httpx.get(f"{self.server.root}/health", timeout=5).json()["active_requests"] == 0)

    def run(self, path: Path) -> Observed:
        seen = len(read_jsonl(self.log))
        try:
            done = subprocess.run(["node", path.name], cwd=path.parent, env=self.env, stdin=subprocess.DEVNULL,
                                  capture_output=True, text=True, timeout=NODE_TIMEOUT)
            run = Run(done.returncode, done.stdout, done.stderr)
        except subprocess.TimeoutExpired as exc:
            run = Run("timeout", str(exc.stdout or ""), str(exc.stderr or ""))
        assert wait_for(self.idle, timeout=10), "the server still has requests in flight after the program ended"
        return Observed(run, read_jsonl(self.log)[seen:])

    def copy(self, name: str, folder: str) -> Path:
        """``name``'s before program copied to ``scratch/folder/name/``, where node finds the packages."""
        target = self.scratch / folder / name / before_path(name).name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(before_path(name), target)
        return target


@pytest.fixture(scope="module")
def harness(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NodeHarness]:
    missing = node_missing()
    if missing:
        pytest.skip(missing)
    scratch = tmp_path_factory.mktemp("node-programs")
    (scratch / "node_modules").symlink_to(packages_dir() / "node_modules", target_is_directory=True)
    log = scratch / "access.log"
    server = ServerProcess(["--access-log", str(log)], stderr_path=scratch / "server.stderr").start()
    try:
        server.wait_ready()
        env = {**os.environ, "OPENAI_BASE_URL": server.base_url, "OPENAI_API_KEY": "sk-node-programs",
               "NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost"}
        env.pop("NODE_OPTIONS", None)
        yield NodeHarness(server, log, env, scratch)
    finally:
        server.stop()


def codemod_flags(name: str) -> list[str]:
    """``options.json`` beside a program, as for the Python programs: ``unsafe_fixes``, ``responses_hosts``."""
    path = PROGRAMS_DIR / name / "options.json"
    raw = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    hosts = [flag for host in raw.get("responses_hosts", ()) for flag in ("--responses-host", host)]
    return ["--unsafe-fixes"] * bool(raw.get("unsafe_fixes")) + hosts


def codemod(mode: str, path: Path, name: str) -> tuple[int, str]:
    """``migrator codemod MODE`` on the folder of ``path`` (only that program), with ``name``'s options, in this
    process: the exit status and what it printed."""
    out, err = io.StringIO(), io.StringIO()
    status = main(["codemod", mode, str(path.parent), *codemod_flags(name)], stdin=io.StringIO(""), stdout=out, stderr=err)
    return status, out.getvalue() + err.getvalue()


@dataclass(frozen=True)
class Codemodded:
    """A program's copy after ``migrator codemod --write``, and what that run said."""

    path: Path
    status: int
    output: str

    def describe(self) -> str:
        return f"`migrator codemod --write` exited {self.status}:\n{self.output}--- {self.path.name} after it\n" + \
            self.path.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def codemodded(harness: NodeHarness) -> dict[str, Codemodded]:
    """Every program's codemod output, written once for the tests that run or re-check it."""
    results = {}
    for name in PROGRAMS:
        path = harness.copy(name, "codemod")
        results[name] = Codemodded(path, *codemod("--write", path, name))
    return results


@pytest.fixture(scope="module")
def before_runs(harness: NodeHarness) -> dict[str, Observed]:
    """Each before program runs once, for both tests that compare against it."""
    return {}


def run_before(name: str, harness: NodeHarness, cache: dict[str, Observed]) -> Observed:
    if name not in cache:
        observed = harness.run(harness.copy(name, "before"))
        assert_used_api(observed, CHAT_PATH, f"{name}/{before_path(name).name}")
        cache[name] = observed
    return cache[name]


# ---------------------------------------------------------------------------- the tests


def test_every_program_is_complete() -> None:
    """Each folder has a before and an expected_after of one kind, names no host, and the packages are pinned."""
    assert len(PROGRAMS) >= 6
    for name in PROGRAMS:
        for path in (before_path(name), after_path(name)):
            source = path.read_text(encoding="utf-8")
            assert "127.0.0.1" not in source and "api.openai.com" not in source, f"{name}/{path.name} names a host"
            assert "OPENAI_BASE_URL" in source or "new OpenAI(" in source, f"{name}/{path.name} builds no client"
    assert set(NODE_PENDING) <= set(PROGRAMS), f"stale entries: {set(NODE_PENDING) - set(PROGRAMS)}"
    manifest = (PROGRAMS_DIR / "package.json").read_text(encoding="utf-8")
    lock = (PROGRAMS_DIR / "package-lock.json").read_text(encoding="utf-8")
    pins = dict(re.findall(r'"(openai|zod|axios)": "([^"]+)"', manifest))
    assert set(pins) == {"openai", "zod", "axios"}
    for package, version in pins.items():
        assert re.fullmatch(r"\d+\.\d+\.\d+", version), f"{package} is pinned as {version!r}, not an exact version"
        assert re.search(rf'"node_modules/{package}": {{\s*"version": "{re.escape(version)}"', lock), \
            f"package-lock.json does not hold {package} {version}: run `npm install --package-lock-only` beside package.json"
    assert "resolved" not in lock, "package-lock.json names download addresses"


@pytest.mark.slow
@pytest.mark.parametrize("name", PROGRAMS)
def test_reference_migration_prints_the_same(name: str, harness: NodeHarness, before_runs: dict[str, Observed]) -> None:
    before = run_before(name, harness, before_runs)
    target = harness.scratch / "expected" / name / after_path(name).name
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(after_path(name), target)
    assert_behaves_like(before, harness.run(target), f"{name}/{target.name}")


def _codemod_params() -> list[object]:
    return [pytest.param(name, marks=pytest.mark.xfail(strict=True, reason=f"codemod pending: {NODE_PENDING[name]}"))
            if name in NODE_PENDING else name for name in PROGRAMS]


@pytest.mark.slow
@pytest.mark.parametrize("name", _codemod_params())
def test_codemod_output_prints_the_same(name: str, harness: NodeHarness, before_runs: dict[str, Observed],
                                        codemodded: dict[str, Codemodded]) -> None:
    before = run_before(name, harness, before_runs)
    migrated = codemodded[name]
    changed = migrated.path.read_bytes() != before_path(name).read_bytes()
    assert changed, f"the codemod left {name} as it was\n{migrated.describe()}"
    after = harness.run(migrated.path)
    try:
        assert_behaves_like(before, after, f"the codemod's {name}/{migrated.path.name}")
    except AssertionError as exc:
        raise AssertionError(f"{exc}\n{migrated.describe()}") from None


@pytest.mark.slow
@pytest.mark.parametrize("name", PROGRAMS)
def test_codemod_output_is_left_alone_by_a_second_run(name: str, codemodded: dict[str, Codemodded]) -> None:
    """``--check`` after ``--write`` finds nothing more to do, migrated or left with notes."""
    status, output = codemod("--check", codemodded[name].path, name)
    assert status == 0, f"a second run would still change {name}:\n{output}"


@pytest.mark.slow
def test_the_harness_tells_a_failing_program(harness: NodeHarness) -> None:
    """A program that throws is a failed run with its stderr, not a pass."""
    folder = harness.scratch / "harness"
    folder.mkdir()
    (folder / "boom.mjs").write_text("console.log('partial');\nthrow new Error('boom');\n", encoding="utf-8")
    (folder / "quiet.mjs").write_text("import OpenAI from 'openai';\nconsole.log(typeof OpenAI);\n", encoding="utf-8")
    boom = harness.run(folder / "boom.mjs")
    assert boom.run.status == 1 and boom.run.stdout == "partial\n" and "Error: boom" in boom.run.stderr
    quiet = harness.run(folder / "quiet.mjs")  # the packages resolve from a copy outside the fixtures
    assert quiet.run == Run(0, "function\n", "") and quiet.requests == []
    with pytest.raises(AssertionError, match="made no request"):
        assert_used_api(quiet, CHAT_PATH, "quiet.mjs")
