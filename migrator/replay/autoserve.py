"""The offline server a replay run starts when it is given no ``--base-url``: ``migrator serve`` on a free port.

So ``migrator replay fixtures/corpus/sample.jsonl`` works on a fresh machine with no network and
no key. The server runs in its own session, so a Ctrl-C reaches the harness alone: the harness
stops the server after it has put away what finished, instead of watching in-flight calls fail
as the server dies under them. On Linux the server also dies with the harness if the harness is
killed outright, so no server is left behind.
"""

from __future__ import annotations

import asyncio
import contextlib
import http.client
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Iterator
from typing import IO

SAMPLING_FLAG = "--sampling"  # the offline model's opt-in noise (the lead's flag); passed only when serve has it
READY_TIMEOUT = 20.0
STOP_GRACE = 5.0
_TAIL = 2000  # characters of the server's stderr quoted when it fails to start


class AutoserveError(RuntimeError):
    """The offline server did not come up; the message quotes the end of its stderr."""


def serve_accepts(flag: str) -> bool:
    """Whether this migrator's ``serve`` knows ``flag`` (the sampling flag may not exist yet)."""
    from ..cli import _parser

    try:
        _, rest = _parser().parse_known_args(["serve", flag])
    except SystemExit:
        return False
    return not rest


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _die_with_parent() -> Callable[[], None] | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
    except OSError:
        return None

    def arm() -> None:
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG

    return arm


class OfflineServer:
    """One ``migrator serve`` subprocess (no upstream: the offline model) and its stderr."""

    def __init__(self, *, sampling: bool = True, extra: tuple[str, ...] = ()) -> None:
        self.port = _free_port()
        self.base_url = f"http://127.0.0.1:{self.port}/v1"
        self.command = [sys.executable, "-m", "migrator.cli", "serve", "--host", "127.0.0.1", "--port", str(self.port),
                        "--access-log", "-", *extra]
        if sampling and serve_accepts(SAMPLING_FLAG):
            self.command.append(SAMPLING_FLAG)
        self._stderr: IO[bytes] = tempfile.TemporaryFile()
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(self.command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=self._stderr, start_new_session=True, preexec_fn=_die_with_parent(),
                                     env={**os.environ, "PYTHONUNBUFFERED": "1"})

    def stderr_tail(self) -> str:
        self._stderr.seek(0)
        text = self._stderr.read().decode("utf-8", "replace")
        return text[-_TAIL:].strip() or "(nothing)"

    def ready(self) -> bool:
        """True once ``GET /v1/models`` answers 200; raises when the server has exited."""
        assert self.proc is not None
        code = self.proc.poll()
        if code is not None:
            raise AutoserveError(f"the offline server ({' '.join(self.command[1:])}) exited with status {code} "
                                 f"before it answered; its stderr: {self.stderr_tail()}")
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=1.0)
        try:
            conn.request("GET", "/v1/models")
            return conn.getresponse().status == 200
        except OSError:
            return False
        finally:
            conn.close()

    def timed_out(self, timeout: float) -> AutoserveError:
        tail = self.stderr_tail()
        self.stop()
        return AutoserveError(f"the offline server did not answer GET /v1/models within {timeout:g} s; "
                              f"its stderr: {tail}")

    def stop(self) -> None:
        """Terminate, then kill after a grace period; idempotent."""
        proc = self.proc
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(STOP_GRACE)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if not self._stderr.closed:
            self._stderr.close()


@contextlib.asynccontextmanager
async def offline_server(*, sampling: bool = True, timeout: float = READY_TIMEOUT,
                         extra: tuple[str, ...] = ()) -> AsyncIterator[str]:
    """``async with offline_server() as base_url:`` (``http://127.0.0.1:PORT/v1``); stopped on exit and on Ctrl-C.

    ``extra``: more ``migrator serve`` options (``--latency-ms 5``)."""
    server = OfflineServer(sampling=sampling, extra=extra)
    try:
        server.start()
        deadline = time.monotonic() + timeout
        while not await asyncio.to_thread(server.ready):
            if time.monotonic() >= deadline:
                raise server.timed_out(timeout)
            await asyncio.sleep(0.05)
        yield server.base_url
    finally:
        server.stop()  # blocking (at most the grace period): it must finish even while a Ctrl-C unwinds


@contextlib.contextmanager
def offline_server_sync(*, sampling: bool = True, timeout: float = READY_TIMEOUT,
                        extra: tuple[str, ...] = ()) -> Iterator[str]:
    """The same for code (and tests) without an event loop."""
    server = OfflineServer(sampling=sampling, extra=extra)
    try:
        server.start()
        deadline = time.monotonic() + timeout
        while not server.ready():
            if time.monotonic() >= deadline:
                raise server.timed_out(timeout)
            time.sleep(0.05)
        yield server.base_url
    finally:
        server.stop()
