"""In-process adapters: plug a transport into an HTTP client and its unchanged calls on one
OpenAI endpoint are served by an upstream that speaks the other, with no server to run.

``MigratorTransport`` / ``AsyncMigratorTransport`` are for ``httpx``;
``Migrator2Transport`` / ``AsyncMigrator2Transport`` for ``httpx2``, the client of the
current openai SDK (``openai.OpenAI(http_client=httpx2.Client(transport=...))``).
"""

from .transport import (
    LOSSES_HEADER,
    AsyncMigrator2Transport,
    AsyncMigratorTransport,
    LossCallback,
    Migrator2Transport,
    MigratorTransport,
    UpstreamAPI,
)

__all__ = [
    "LOSSES_HEADER", "AsyncMigrator2Transport", "AsyncMigratorTransport", "LossCallback", "Migrator2Transport",
    "MigratorTransport", "UpstreamAPI",
]
