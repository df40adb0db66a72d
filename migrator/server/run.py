"""``migrator serve``: configuration at the edge (typed), the socket, the ready line, shutdown."""

from __future__ import annotations

import os
import socket
import sqlite3
import sys
from typing import IO

from pydantic import BaseModel, Field, field_validator

from ..mapping import Dialect
from .app import Limits, ServerState, create_app
from .capture import Capture
from .logs import AccessLog
from .store import ResponseStore, StoreLimits
from .upstream import HTTPBackend, RetryPolicy

KEEPALIVE_SECONDS = 75
"""How long an idle client connection is kept open. uvicorn's default, 5 s, equals the OpenAI SDK's
(httpx's) idle expiry and is below aiohttp's 15 s, so a client reusing a connection at that moment
races the server's close and fails; 75 s outlasts them and the 60 s idle timeout of common load
balancers in front."""


class ServeConfig(BaseModel):
    """What ``migrator serve`` runs with; pydantic names the exact bad option."""

    host: str = "127.0.0.1"
    port: int = Field(8080, ge=0, le=65535)
    upstream: str | None = None
    upstream_api: Dialect = "chat"
    upstream_key_env: str | None = None
    upstream_timeout: float = Field(600.0, gt=0)
    retries: int = Field(2, ge=0, le=10)
    store: str | None = None
    store_max_responses: int = Field(10_000, ge=1)
    store_retention_days: float = Field(30.0, gt=0)
    api_key_env: str | None = None
    max_body_mb: float = Field(16.0, gt=0)
    max_concurrency: int = Field(256, ge=1)
    latency_ms: float = Field(0.0, ge=0)
    sampling: bool = False  # offline model: another answer on every call when temperature is not 0
    access_log: str | None = None  # a file; stderr when None; "-" for none
    strict: bool = False  # a request that would lose a field is a 400 naming every loss
    graceful_timeout: float = Field(30.0, ge=0)
    capture: str | None = None  # append sampled chat requests to this file as replay corpus lines
    capture_rate: float = Field(1.0, ge=0, le=1)

    @field_validator("upstream")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError("must be an http(s) base URL with its version prefix, e.g. http://127.0.0.1:8080/v1")
        return value


class ConfigError(Exception):
    pass


def _secret(var: str | None, what: str) -> str | None:
    if var is None:
        return None
    value = os.environ.get(var)
    if not value:
        raise ConfigError(f"{what}: the environment variable {var} is not set (or empty)")
    return value


def build_state(config: ServeConfig, log_stream: IO[str] | None = None) -> ServerState:
    from .offline_backend import OfflineBackend

    if config.upstream is None:
        backend: object = OfflineBackend(config.latency_ms, sampling=config.sampling)
    else:
        try:
            backend = HTTPBackend(config.upstream, config.upstream_api, key=_secret(config.upstream_key_env, "--upstream-key-env"),
                                  timeout=config.upstream_timeout, retry=RetryPolicy(retries=config.retries))
        except ValueError as exc:  # no host, or a port out of range: said at startup, not on every request
            raise ConfigError(f"--upstream: {exc}") from None
    if config.access_log == "-":
        log = AccessLog(enabled=False)
    elif config.access_log:
        try:
            log = AccessLog(open(config.access_log, "a", encoding="utf-8"))
        except OSError as exc:
            raise ConfigError(f"--access-log: cannot open {config.access_log} for appending: {exc.strerror or exc}") from None
    else:
        log = AccessLog(log_stream)
    try:
        store = ResponseStore(config.store, StoreLimits(config.store_max_responses, config.store_retention_days * 86400))
    except sqlite3.Error as exc:
        raise ConfigError(f"--store: cannot open the SQLite file {config.store}: {exc}") from None
    capture = None
    if config.capture is None and config.capture_rate != 1.0:
        raise ConfigError("--capture-rate: it samples what --capture writes; give --capture FILE too")
    if config.capture is not None:
        try:
            capture = Capture(config.capture, config.capture_rate)
        except OSError as exc:
            raise ConfigError(f"--capture: cannot open {config.capture} for appending: {exc.strerror or exc}") from None
    return ServerState(
        backend=backend,  # type: ignore[arg-type]
        store=store,
        log=log,
        api_key=_secret(config.api_key_env, "--api-key-env"),
        offline=config.upstream is None,
        strict=config.strict,
        limits=Limits(int(config.max_body_mb * 1024 * 1024), config.max_concurrency),
        capture=capture,
    )


def serve(config: ServeConfig, out: IO[str] = sys.stdout) -> int:
    import uvicorn

    state = build_state(config)
    sock = socket.socket(socket.AF_INET6 if ":" in config.host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((config.host, config.port))
    except OSError as exc:
        raise ConfigError(f"cannot listen on {config.host}:{config.port}: {exc.strerror or exc}") from None
    sock.listen(2048)
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host

    class _Server(uvicorn.Server):
        async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
            await super().shutdown(sockets=sockets)
            # A SIGTERM/SIGINT that asked for this graceful stop is handled: uvicorn would raise it
            # again afterwards, and the process would die by the signal instead of exiting 0.
            self._captured_signals.clear()

        async def startup(self, sockets: list[socket.socket] | None = None) -> None:
            await super().startup(sockets=sockets)
            mode = f"bridge to {config.upstream} ({config.upstream_api} API)" if config.upstream else "offline model"
            out.write(f"migrator serve: listening on http://{shown}:{port}\n")
            out.flush()
            sys.stderr.write(f"migrator serve: {mode}; Ctrl-C or SIGTERM stops it after in-flight requests\n")

    # No proxy-headers middleware: nothing here reads the client's address or scheme, and it ran on every request.
    uv_config = uvicorn.Config(create_app(state), log_level="warning", access_log=False, lifespan="on", proxy_headers=False,
                               timeout_keep_alive=KEEPALIVE_SECONDS,
                               timeout_graceful_shutdown=int(config.graceful_timeout))
    server = _Server(uv_config)
    server.run(sockets=[sock])
    return 0
