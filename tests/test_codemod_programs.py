"""Execution tests of the codemod: sample programs run before and after it, against ``migrator serve``.

Each folder of ``fixtures/codemod/programs/`` is one shape of ``chat.completions`` use
(``before.py``) with the migration a careful engineer would write by hand
(``expected_after.py``). Every program reads ``OPENAI_BASE_URL`` / ``OPENAI_API_KEY`` and
prints a deterministic summary (text, tool calls, token counts). They run with the real
openai SDK against one offline ``migrator serve``, whose model gives equivalent requests on
the two endpoints the same content, so:

* ``before.py`` and ``expected_after.py`` must print the same thing: that proves the
  references, and a difference shows where the offline model answers the endpoints differently;
* the codemod's output for ``before.py`` must parse, run, print what ``before.py`` printed
  and send every request to ``/v1/responses``. Programs whose codemod output does not do that
  yet are listed in :data:`CODEMOD_PENDING` and are strict xfails: when the codemod learns a
  shape, its test passes, the run fails (XPASS), and the entry is deleted. An ``options.json``
  beside a program gives its codemod options; programs with a literal leading system message
  also run migrated with ``--instructions``.

Printing the same thing is not enough on its own (an untouched program prints what it printed
before), so every run is also checked against the server's access log: the program made
requests, all answered 200, all on the endpoint its API should reach, as many as the original.
"""

from __future__ import annotations

import ast
import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from migrator.codemod.outcome import Options
from migrator.codemod.transform import transform_code
from tests.program_runner import ProgramRunner, Run
from tests.serve_helpers import ROOT, ServerProcess, read_jsonl, wait_for

PROGRAMS_DIR = ROOT / "fixtures" / "codemod" / "programs"
PROGRAMS = sorted(p.name for p in PROGRAMS_DIR.iterdir() if (p / "before.py").is_file())
CHAT_PATH = "/v1/chat/completions"
RESPONSES_PATH = "/v1/responses"

CODEMOD_PENDING: dict[str, str] = {
    "streaming_tools": "streamed tool-call deltas gathered by index: left; Responses has output_item.added + "
                       "function_call_arguments.delta events",
    "wrapper_kwargs": "a client on self, messages built in a variable and **kwargs forwarded (callers pass max_tokens): left",
}
"""Programs whose codemod output does not behave like ``before.py`` yet, with the rewrite each needs."""


# ---------------------------------------------------------------------------- running programs


@dataclass(frozen=True)
class Observed:
    """One program run and the requests the server logged for it."""

    run: Run
    requests: list[dict[str, Any]]

    def describe(self) -> str:
        calls = [(r["method"], r["path"], r["status"]) for r in self.requests]
        return f"status {self.run.status}, requests {calls}\n--- stdout\n{self.run.stdout}--- stderr\n{self.run.stderr}"


class Harness:
    """Runs programs one at a time, so the access-log lines a run adds are that run's requests."""

    def __init__(self, server: ServerProcess, log: Path, runner: ProgramRunner) -> None:
        self.server, self.log, self.runner = server, log, runner

    def idle(self) -> bool:
        # A stream's log line is written when its body ends, which can be just after the client has read it.
        return httpx.get(f"{self.server.root}/health", timeout=5).json()["active_requests"] == 0

    def run(self, path: Path) -> Observed:
        seen = len(read_jsonl(self.log))
        run = self.runner.run(path)
        assert wait_for(self.idle, timeout=10), "the server still has requests in flight after the program ended"
        return Observed(run, read_jsonl(self.log)[seen:])


@pytest.fixture(scope="module")
def harness(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Harness]:
    workdir = tmp_path_factory.mktemp("programs")
    log = workdir / "access.log"
    server = ServerProcess(["--access-log", str(log)], stderr_path=workdir / "server.stderr").start()
    runner: ProgramRunner | None = None
    try:
        server.wait_ready()
        pythonpath = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)
        env = {**os.environ, "OPENAI_BASE_URL": server.base_url, "OPENAI_API_KEY": "sk-programs",
               "PYTHONPATH": pythonpath, "NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost"}
        runner = ProgramRunner(env, workdir)
        harness = Harness(server, log, runner)
        assert wait_for(harness.idle, timeout=10)  # the runner's warm-up requests are all logged
        yield harness
    finally:
        if runner is not None:
            runner.close()
        server.stop()


@pytest.fixture(scope="module")
def before_runs(harness: Harness) -> dict[str, Observed]:
    """``before.py`` runs once per program, for both tests that compare against it."""
    return {}


def before_source(name: str) -> str:
    return (PROGRAMS_DIR / name / "before.py").read_text(encoding="utf-8")


def run_before(name: str, harness: Harness, cache: dict[str, Observed]) -> Observed:
    if name not in cache:
        observed = harness.run(PROGRAMS_DIR / name / "before.py")
        assert_used_api(observed, CHAT_PATH, "before.py")
        cache[name] = observed
    return cache[name]


# ---------------------------------------------------------------------------- the judgement


def assert_used_api(observed: Observed, path: str, what: str) -> None:
    """The program ran cleanly, printed something, and every request it made was a 200 on ``path``."""
    assert observed.run.status == 0, f"{what} failed: {observed.describe()}"
    assert observed.run.stderr == "", f"{what} wrote to stderr: {observed.describe()}"
    assert observed.run.stdout.strip(), f"{what} printed nothing: {observed.describe()}"
    assert observed.requests, f"{what} made no request to the server: {observed.describe()}"
    wrong = [(r["method"], r["path"], r["status"]) for r in observed.requests if (r["method"], r["path"], r["status"]) != ("POST", path, 200)]
    assert not wrong, f"{what} should only POST {path} and get 200s; it also made {wrong}: {observed.describe()}"


def assert_behaves_like(before: Observed, after: Observed, what: str) -> None:
    assert_used_api(after, RESPONSES_PATH, what)
    assert after.run.stdout == before.run.stdout, (
        f"{what} printed something else than before.py\n--- before.py\n{before.run.stdout}--- {what}\n{after.run.stdout}")
    assert len(after.requests) == len(before.requests), (
        f"{what} made {len(after.requests)} requests, before.py {len(before.requests)}")


# ---------------------------------------------------------------------------- the tests


def test_every_program_is_complete() -> None:
    assert len(PROGRAMS) >= 30
    for name in PROGRAMS:
        for file in ("before.py", "expected_after.py"):
            source = (PROGRAMS_DIR / name / file).read_text(encoding="utf-8")
            ast.parse(source, f"{name}/{file}")
            assert "127.0.0.1" not in source and "api.openai.com" not in source, f"{name}/{file} names a host"
    assert set(CODEMOD_PENDING) <= set(PROGRAMS), f"stale entries: {set(CODEMOD_PENDING) - set(PROGRAMS)}"


@pytest.mark.slow
@pytest.mark.parametrize("name", PROGRAMS)
def test_reference_migration_prints_the_same(name: str, harness: Harness, before_runs: dict[str, Observed]) -> None:
    before = run_before(name, harness, before_runs)
    after = harness.run(PROGRAMS_DIR / name / "expected_after.py")
    assert_behaves_like(before, after, f"{name}/expected_after.py")


def _codemod_params() -> list[Any]:
    return [pytest.param(name, marks=pytest.mark.xfail(strict=True, reason=f"codemod pending: {CODEMOD_PENDING[name]}"))
            if name in CODEMOD_PENDING else name for name in PROGRAMS]


def run_codemod_output(name: str, options: Options, harness: Harness, tmp_path: Path) -> tuple[str, Observed]:
    migrated = transform_code(before_source(name), options).code
    ast.parse(migrated, f"{name}/before.py after the codemod")
    path = tmp_path / name / "before.py"
    path.parent.mkdir(parents=True)
    path.write_text(migrated, encoding="utf-8")
    return migrated, harness.run(path)


def program_options(name: str) -> Options:
    """``options.json`` beside a program, as in the rule fixtures: ``unsafe_fixes``, ``responses_hosts``."""
    path = PROGRAMS_DIR / name / "options.json"
    raw = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    return Options(unsafe_fixes=raw.get("unsafe_fixes", False), responses_hosts=frozenset(raw.get("responses_hosts", ())))


@pytest.mark.slow
@pytest.mark.parametrize("name", _codemod_params())
def test_codemod_output_prints_the_same(name: str, harness: Harness, before_runs: dict[str, Observed],
                                        tmp_path: Path) -> None:
    before = run_before(name, harness, before_runs)
    _, after = run_codemod_output(name, program_options(name), harness, tmp_path)
    assert_behaves_like(before, after, f"the codemod's {name}/before.py")


HOISTABLE = [name for name in PROGRAMS if name not in CODEMOD_PENDING
             and re.search(r'(messages=|"messages": )\[\s*\{"role": "(system|developer)", "content": "', before_source(name))]
"""Migrated programs whose first message is a literal system or developer message."""


@pytest.mark.slow
@pytest.mark.parametrize("name", HOISTABLE)
def test_codemod_output_with_instructions_prints_the_same(name: str, harness: Harness, before_runs: dict[str, Observed],
                                                          tmp_path: Path) -> None:
    """``--instructions`` moves the leading system message into ``instructions=``: the answers must not change."""
    before = run_before(name, harness, before_runs)
    migrated, after = run_codemod_output(name, Options(hoist_instructions=True), harness, tmp_path)
    assert "instructions" in migrated and migrated != transform_code(before_source(name), Options()).code
    assert_behaves_like(before, after, f"the codemod's {name}/before.py with --instructions")


# ---------------------------------------------------------------------------- the harness itself


def _observed(status: int | str = 0, stdout: str = "hello\n", stderr: str = "",
              paths: tuple[tuple[str, int], ...] = ((RESPONSES_PATH, 200),)) -> Observed:
    return Observed(Run(status, stdout, stderr), [{"method": "POST", "path": p, "status": s} for p, s in paths])


@pytest.mark.parametrize(("candidate", "complaint"), [
    (_observed(paths=()), "made no request"),
    (_observed(paths=((CHAT_PATH, 200),)), "should only POST /v1/responses"),
    (_observed(paths=((RESPONSES_PATH, 200), (CHAT_PATH, 200))), "should only POST /v1/responses"),
    (_observed(paths=((RESPONSES_PATH, 400),)), "should only POST /v1/responses"),
    (_observed(status=1), "failed"),
    (_observed(status="timeout"), "failed"),
    (_observed(stderr="DeprecationWarning: …\n"), "wrote to stderr"),
    (_observed(stdout=" \n"), "printed nothing"),
    (_observed(stdout="bye\n"), "printed something else"),
    (_observed(paths=((RESPONSES_PATH, 200), (RESPONSES_PATH, 200))), "made 2 requests"),
])
def test_the_judgement_refuses_a_program_that_did_not_do_the_same(candidate: Observed, complaint: str) -> None:
    """A program that does nothing, fails, stays on chat, or differs in output or request count is caught."""
    with pytest.raises(AssertionError, match=complaint):
        assert_behaves_like(_observed(paths=((CHAT_PATH, 200),)), candidate, "candidate")
    assert_behaves_like(_observed(paths=((CHAT_PATH, 200),)), _observed(), "the same")


@pytest.mark.slow
def test_the_runner_runs_a_file_as_python_would(harness: Harness, tmp_path: Path) -> None:
    """``__name__``, ``sys.argv``, the script's folder on ``sys.path``, empty stdin, exit codes, tracebacks, timeouts."""
    folder = tmp_path / "prog"
    folder.mkdir()
    (folder / "helper_mod.py").write_text("VALUE = 'from the script folder'\n", encoding="utf-8")
    programs = {
        "ok.py": "import sys, helper_mod\nprint(__name__, sys.argv[0].endswith('ok.py'), helper_mod.VALUE, repr(sys.stdin.read()))\n",
        "exit3.py": "import sys\nprint('partial', end='')\nsys.exit(3)\n",
        "boom.py": "raise ValueError('boom')\n",
        "hang.py": "import time\ntime.sleep(60)\n",
    }
    for name, code in programs.items():
        (folder / name).write_text(code, encoding="utf-8")
    runner = harness.runner
    assert runner.run(folder / "ok.py") == Run(0, "__main__ True from the script folder ''\n", "")
    assert runner.run(folder / "exit3.py") == Run(3, "partial", "")
    boom = runner.run(folder / "boom.py")
    assert boom.status == 1 and boom.stderr.rstrip().endswith("ValueError: boom")
    assert runner.run(folder / "hang.py", timeout=0.5).status == "timeout"
    assert runner.run(folder / "ok.py").status == 0  # the runner survives all of that
