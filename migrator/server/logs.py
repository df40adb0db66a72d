"""Structured access logs: one JSON line per request, and never a secret.

Only fields that are set here are written; headers and bodies are never
logged, so an Authorization header or an API key cannot reach the log.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import IO

from ..mapping import Loss


@dataclass
class AccessRecord:
    request_id: str
    method: str
    path: str
    endpoint: str
    direction: str = "-"
    status: int = 0
    upstream_status: int | None = None
    latency_ms: float | None = None
    ttft_ms: float | None = None
    tokens: int | None = None
    losses: int = 0
    loss_paths: list[str] = field(default_factory=list)
    note: str | None = None
    started: float = field(default_factory=time.perf_counter, repr=False)

    def add_losses(self, losses: Sequence[Loss]) -> None:
        """Count them, and list each path once (the log says where, not only how many)."""
        if losses:
            self.losses += len(losses)
            seen = set(self.loss_paths)
            for loss in losses:
                if loss.path not in seen:
                    seen.add(loss.path)
                    self.loss_paths.append(loss.path)

    def first_token(self) -> None:
        if self.ttft_ms is None:
            self.ttft_ms = round((time.perf_counter() - self.started) * 1000, 3)

    def finish(self) -> None:
        if self.latency_ms is None:
            self.latency_ms = round((time.perf_counter() - self.started) * 1000, 3)


class AccessLog:
    """Writes records as JSON lines to a stream (stderr by default) or a file."""

    def __init__(self, stream: IO[str] | None = None, *, enabled: bool = True) -> None:
        self._stream = stream if stream is not None else sys.stderr
        self._lock = threading.Lock()
        self.enabled = enabled

    def write(self, record: AccessRecord) -> None:
        if not self.enabled:
            return
        data = asdict(record)
        del data["started"]
        if data["note"] is None:
            del data["note"]
        data["time"] = round(time.time(), 3)
        line = json.dumps(data, separators=(",", ":"))
        with self._lock:
            self._stream.write(line + "\n")
            self._stream.flush()
