"""Stored responses in embedded SQLite, so ``previous_response_id`` and the
retrieve/delete/input_items endpoints work over a stateless upstream.

In memory for the server's lifetime by default, or in a file that survives
restarts. Each row keeps the whole Response and the full input that produced
it (the previous turns already expanded), so a chain of any length is
rebuilt from one row.

Each row belongs to an owner: a hash of the credential that created it (never
the credential). Every read, delete and continuation names the owner, so another
credential finds nothing: it gets the same 404 as for an id that never existed.
A file written before owners existed gains the column; its old rows get the
owner ``""``, which no request has, so they are kept (until they expire) but
served to no one rather than to everyone.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
import time
from dataclasses import dataclass
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS responses (
    id          TEXT PRIMARY KEY,
    created_at  REAL NOT NULL,
    response    TEXT NOT NULL,
    input_items TEXT NOT NULL,
    context     TEXT NOT NULL,
    owner       TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS responses_created ON responses (created_at);
"""

_DUMP = json.JSONEncoder(separators=(",", ":")).encode  # one encoder: json.dumps with options makes one per call

ANONYMOUS = "anonymous"
"""The owner of responses created without a bearer token: one shared owner, as documented."""


def owner_of(token: str | None) -> str:
    """The owner a bearer token stands for: its SHA-256, so the store never holds a credential."""
    if not token:
        return ANONYMOUS
    return "sha256:" + hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


@dataclass(frozen=True)
class StoreLimits:
    """Documented defaults: 10,000 responses, kept 30 days (as OpenAI keeps stored responses); enforced
    every 64 stores, so the table may run up to 63 rows over between two prunes."""

    max_responses: int = 10_000
    retention_seconds: float = 30 * 24 * 3600


class ResponseStore:
    def __init__(self, path: str | None = None, limits: StoreLimits | None = None) -> None:
        self.path = path or ":memory:"
        self.limits = limits or StoreLimits()
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        if self.path != ":memory:":
            self._db.execute("PRAGMA journal_mode=WAL")
        self._db.executescript(SCHEMA)
        columns = {row[1] for row in self._db.execute("PRAGMA table_info(responses)")}
        if "owner" not in columns:  # a file from before owners: its rows are served to no one
            self._db.execute("ALTER TABLE responses ADD COLUMN owner TEXT NOT NULL DEFAULT ''")
        self._puts = 0

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def put(self, response: dict[str, Any], input_items: list[dict[str, Any]], context: list[dict[str, Any]],
            owner: str, encoded: str | None = None) -> None:
        """Keep ``response``; ``input_items`` are this request's (listed by the API), ``context``
        the whole conversation that produced it (earlier turns expanded), which a follow-up continues.
        ``encoded`` is ``response`` as JSON when the caller has it already (the server encodes the
        answer once, for the client and for this row)."""
        created = time.time()  # retention counts from storing: an upstream's clock (or a fixed example time) is not ours
        row = (response["id"], created, _DUMP(response) if encoded is None else encoded, _DUMP(input_items), _DUMP(context), owner)
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO responses (id, created_at, response, input_items, context, owner) VALUES (?, ?, ?, ?, ?, ?)",
                row)
            self._puts += 1
            if self._puts % 64 == 1:  # pruning costs two queries; once every 64 stores keeps the limits within 64
                self._prune(time.time())

    def _prune(self, now: float) -> None:
        self._db.execute("DELETE FROM responses WHERE created_at < ?", (now - self.limits.retention_seconds,))
        (count,) = self._db.execute("SELECT COUNT(*) FROM responses").fetchone()
        excess = count - self.limits.max_responses
        if excess > 0:
            self._db.execute(
                "DELETE FROM responses WHERE id IN (SELECT id FROM responses ORDER BY created_at ASC LIMIT ?)", (excess,))

    def get(self, response_id: str, owner: str) -> dict[str, Any] | None:
        with self._lock:
            row = self._db.execute("SELECT response FROM responses WHERE id = ? AND owner = ?", (response_id, owner)).fetchone()
        return json.loads(row[0]) if row else None

    def input_items(self, response_id: str, owner: str) -> list[dict[str, Any]] | None:
        with self._lock:
            row = self._db.execute("SELECT input_items FROM responses WHERE id = ? AND owner = ?",
                                   (response_id, owner)).fetchone()
        return json.loads(row[0]) if row else None

    def history(self, response_id: str, owner: str) -> list[dict[str, Any]] | None:
        """The conversation a follow-up continues: the stored input, then the stored output."""
        with self._lock:
            row = self._db.execute("SELECT context, response FROM responses WHERE id = ? AND owner = ?",
                                   (response_id, owner)).fetchone()
        if row is None:
            return None
        items: list[dict[str, Any]] = json.loads(row[0])
        response = json.loads(row[1])
        items.extend(item for item in response.get("output", []) if item.get("type") != "reasoning" or item.get("encrypted_content"))
        return items

    def delete(self, response_id: str, owner: str) -> bool:
        with self._lock:
            cur = self._db.execute("DELETE FROM responses WHERE id = ? AND owner = ?", (response_id, owner))
        return cur.rowcount > 0

    def list_input_items(self, response_id: str, *, limit: int = 20, order: str = "desc", after: str | None = None,
                         owner: str) -> dict[str, Any] | None:
        """OpenAI's list shape: object, data, first_id, last_id, has_more."""
        items = self.input_items(response_id, owner)
        if items is None:
            return None
        ordered = list(reversed(items)) if order == "desc" else list(items)
        if after is not None:
            ids = [item.get("id") for item in ordered]
            ordered = ordered[ids.index(after) + 1:] if after in ids else []
        page = ordered[:limit]
        return {
            "object": "list",
            "data": page,
            "first_id": page[0].get("id") if page else None,
            "last_id": page[-1].get("id") if page else None,
            "has_more": len(ordered) > limit,
        }
