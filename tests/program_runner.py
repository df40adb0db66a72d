"""Run sample programs as ``python program.py`` would, without paying for ``import openai`` each time.

The execution tests of the codemod run about forty small programs; in a fresh interpreter each
spends most of its time importing the SDK (about 1 s of a 1.5-2 s run on CI-sized machines).
So one long-lived process (``python -m tests.program_runner``) imports the heavy modules once,
makes one request of each kind to the server the programs will use (filling the SDK's lazy
imports and caches), and forks a child per program: the child points fds 0/1/2 at /dev/null and two files, then runs
the file with ``runpy.run_path(..., run_name="__main__")``, so the program sees what a script
sees (its own globals, ``__name__ == "__main__"``, ``sys.argv[0]``, its folder on ``sys.path``);
only ``sys.modules`` is warm. The child leaves with ``os._exit`` (status 0, the program's
``SystemExit`` code, or 1 after printing the traceback), after flushing what it printed.

Protocol: one JSON object per line on stdin (``path``, ``stdout``, ``stderr``, ``timeout``),
one JSON object per line on stdout (``status``: the exit code, or ``"timeout"`` after the
child was killed). :class:`ProgramRunner` is the test side.
"""

from __future__ import annotations

import asyncio
import importlib
import json
import os
import queue
import runpy
import signal
import subprocess
import sys
import threading
import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PRELOAD = ("asyncio", "json", "typing", "httpx", "httpx2", "requests", "pydantic", "openai")
"""Imported once by the runner; :func:`_warm_up` then loads what the SDK loads lazily."""

RUNNER_TIMEOUT = 30.0


# ---------------------------------------------------------------------------- the runner process


def _child(job: dict[str, Any]) -> None:
    """Runs in the forked child; never returns."""
    status = 0
    try:
        null = os.open(os.devnull, os.O_RDONLY)
        out = os.open(job["stdout"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        err = os.open(job["stderr"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        for fd, target in ((null, 0), (out, 1), (err, 2)):
            os.dup2(fd, target)
            os.close(fd)
        sys.stdin = open(0, encoding="utf-8", closefd=False)
        path = job["path"]
        sys.argv = [path]
        sys.path[0] = os.path.dirname(os.path.abspath(path))
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        runpy.run_path(path, run_name="__main__")
    except SystemExit as exc:
        code = exc.code
        if code is None:
            status = 0
        elif isinstance(code, int):
            status = code
        else:
            print(code, file=sys.stderr)
            status = 1
    except BaseException:
        traceback.print_exc()
        status = 1
    finally:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except Exception:
                status = status or 1
        os._exit(status)


def _wait(pid: int, timeout: float) -> int | str:
    deadline = time.monotonic() + timeout
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status)
        if time.monotonic() >= deadline:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            return "timeout"
        time.sleep(0.005)


def _warm_up() -> None:
    """One request of each kind, so the SDK's lazy imports and validator caches are filled before the
    forks (another 0.3-0.5 s per program otherwise). Its own clients, closed: a child never shares a
    connection with the runner, and the module-level ``openai`` client is never touched here."""
    import openai
    from pydantic import BaseModel

    class Probe(BaseModel):
        word: str

    user = [{"role": "user", "content": "warm up"}]
    with openai.OpenAI(max_retries=0) as client:
        client.chat.completions.create(model="warm-up", messages=user)  # type: ignore[arg-type]
        client.responses.create(model="warm-up", input="warm up")
        for _ in client.chat.completions.create(model="warm-up", messages=user, stream=True):  # type: ignore[arg-type]
            pass
        for _ in client.responses.create(model="warm-up", input="warm up", stream=True):
            pass
        client.chat.completions.parse(model="warm-up", messages=user, response_format=Probe)  # type: ignore[arg-type]
        client.responses.parse(model="warm-up", input="warm up", text_format=Probe)

    async def both() -> None:
        async with openai.AsyncOpenAI(max_retries=0) as client:
            await client.chat.completions.create(model="warm-up", messages=user)  # type: ignore[arg-type]
            await client.responses.create(model="warm-up", input="warm up")

    asyncio.run(both())


def serve() -> None:
    for name in PRELOAD:
        importlib.import_module(name)
    try:
        _warm_up()
    except Exception:  # the programs will fail with a clear message of their own
        traceback.print_exc()
    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        job = json.loads(line)
        pid = os.fork()
        if pid == 0:
            _child(job)
        print(json.dumps({"status": _wait(pid, float(job["timeout"]))}), flush=True)


# ---------------------------------------------------------------------------- the test side


@dataclass(frozen=True)
class Run:
    status: int | str
    stdout: str
    stderr: str


class ProgramRunner:
    """The runner process, started with ``env`` (where the programs' SDK and HTTP calls go)."""

    def __init__(self, env: dict[str, str], workdir: Path) -> None:
        self.workdir = workdir
        self._count = 0
        self._replies: queue.Queue[str | None] = queue.Queue()
        root = str(Path(__file__).resolve().parent.parent)
        with open(workdir / "runner.stderr", "w", encoding="utf-8") as log:
            self.proc = subprocess.Popen([sys.executable, "-m", "tests.program_runner"], cwd=root, env=env, text=True,
                                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log)
        threading.Thread(target=self._drain, daemon=True).start()
        self._reply(RUNNER_TIMEOUT)

    def _drain(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self._replies.put(line)
        self._replies.put(None)

    def _reply(self, timeout: float) -> dict[str, Any]:
        try:
            line = self._replies.get(timeout=timeout)
        except queue.Empty:
            raise RuntimeError(f"the program runner did not answer within {timeout:g} s") from None
        if line is None:
            raise RuntimeError(f"the program runner exited: {(self.workdir / 'runner.stderr').read_text()[-2000:]}")
        reply: dict[str, Any] = json.loads(line)
        return reply

    def run(self, path: Path, timeout: float = 20.0) -> Run:
        self._count += 1
        out, err = self.workdir / f"run{self._count}.out", self.workdir / f"run{self._count}.err"
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps({"path": str(path), "stdout": str(out), "stderr": str(err), "timeout": timeout}) + "\n")
        self.proc.stdin.flush()
        status = self._reply(timeout + 5)["status"]
        return Run(status, out.read_text(encoding="utf-8"), err.read_text(encoding="utf-8"))

    def close(self) -> None:
        from tests.serve_helpers import end  # the parent's side only: the child never loads the server helpers

        if self.proc.stdin is not None:
            self.proc.stdin.close()
        end(self.proc)


if __name__ == "__main__":
    serve()
