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
from dataclasses import dataclass, field
from typing import IO, Any

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


_LINE = json.JSONEncoder(separators=(",", ":")).encode  # one encoder for every line (json.dumps makes one per call)


def line_of(record: AccessRecord) -> dict[str, Any]:
    """The fields of one log line, in their order (``note`` only when set, then the wall-clock ``time``).

    Written out field by field: ``dataclasses.asdict`` deep-copies every value and cost
    about four times as much, on every request.
    """
    data: dict[str, Any] = {
        "request_id": record.request_id, "method": record.method, "path": record.path, "endpoint": record.endpoint,
        "direction": record.direction, "status": record.status, "upstream_status": record.upstream_status,
        "latency_ms": record.latency_ms, "ttft_ms": record.ttft_ms, "tokens": record.tokens, "losses": record.losses,
        "loss_paths": list(record.loss_paths),
    }
    if record.note is not None:
        data["note"] = record.note
    data["time"] = round(time.time(), 3)
    return data


class AccessLog:
    """Writes records as JSON lines to a stream (stderr by default) or a file."""

    def __init__(self, stream: IO[str] | None = None, *, enabled: bool = True) -> None:
        self._stream = stream if stream is not None else sys.stderr
        self._lock = threading.Lock()
        self.enabled = enabled

    def write(self, record: AccessRecord) -> None:
        if not self.enabled:
            return
        line = _LINE(line_of(record))
        with self._lock:
            self._stream.write(line + "\n")
            self._stream.flush()
