"""A content-addressed cache of arm results, so a re-run does not resend what it already has.

A re-run with more cases, another judge or a fixed report sends only what is new: an Exchange is
found by the digest of what was sent (base URL, path, the body as canonical JSON), the arm and the
sample index. The arm is part of the key because P and S send the same body: without it the noise
arm S would be a copy of P and the noise floor would always be zero. Only answers worth keeping are
stored (status 2xx, no error); a failure is sent again next time.

Nothing secret is stored: the bodies sent carry no key, and headers are not part of an Exchange.

SQLite (standard library, one file, WAL) holds the entries. A put is an insert into a dict; the
rows are written in one transaction every half second or thousand rows, and on close. Measured at
300,000 entries (a 314 MB file) on a busy 2-core machine: a put 29-42 µs with its share of the
batched writes, a get 32-38 µs when found and 10-19 µs when not. Nothing is fsynced (a power cut may
break the file, which the next run replaces). A file that is not a cache (or breaks during the run)
is a warning and a fresh cache, never a failed run: it is only a cache.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
import warnings
from hashlib import sha256
from pathlib import Path
from typing import Any

from .model import Call, Exchange

FLUSH_ROWS = 1000
FLUSH_SECONDS = 0.5


class CacheWarning(UserWarning):
    """The cache file could not be used; the run goes on with a fresh (or no) cache."""


def key_of(base_url: str, call: Call) -> str:
    """The cache key of ``call`` sent to ``base_url``: sha256 hex of canonical JSON."""
    text = json.dumps(
        [base_url.rstrip("/"), call["path"], call["arm"], call["sample"], call["body"]],
        sort_keys=True, separators=(",", ":"), ensure_ascii=False,
    )
    return sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def cacheable(exchange: Exchange) -> bool:
    """Only a successful answer is kept: a 2xx status, no error, a body."""
    status = exchange.get("status")
    return type(status) is int and 200 <= status < 300 and exchange.get("error") is None and exchange.get("body") is not None


class ArmCache:
    """Exchanges by key in one SQLite file; safe to share between threads of one process."""

    key_of = staticmethod(key_of)

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self.warning: str | None = None
        self._lock = threading.Lock()
        self._pending: dict[bytes, str] = {}
        self._flushed = time.monotonic()
        self._db: sqlite3.Connection | None = self._open()

    def _open(self) -> sqlite3.Connection | None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            return _connect(self.path)
        except sqlite3.Error as exc:
            aside = self.path.with_name(self.path.name + ".corrupt")
            self._warn(f"the replay cache {self.path} cannot be read ({exc}); moved to {aside.name}, starting a fresh cache")
        try:
            for suffix in ("", "-wal", "-shm"):
                part = Path(f"{self.path}{suffix}")
                if part.exists():
                    part.replace(f"{aside}{suffix}")
            return _connect(self.path)
        except (OSError, sqlite3.Error) as exc:
            self._warn(f"the replay cache {self.path} cannot be created ({exc}); running without a cache")
            return None

    def get(self, key: str) -> Exchange | None:
        """The stored Exchange (marked ``cached``), or None."""
        digest = bytes.fromhex(key)
        with self._lock:
            text = self._pending.get(digest)
            if text is None and self._db is not None:
                try:
                    row = self._db.execute("SELECT key, value FROM exchanges WHERE h = ?", (_rowid(digest),)).fetchone()
                except sqlite3.Error as exc:
                    self._broken(exc)
                    return None
                text = row[1] if row and row[0] == digest else None
        if text is None:
            return None
        try:
            value = json.loads(text)
        except ValueError:
            return None
        if type(value) is not dict:
            return None
        value["cached"] = True
        return value  # type: ignore[return-value]

    def put(self, key: str, exchange: Exchange) -> bool:
        """Keep ``exchange`` when it is a success (True); a failure is not kept (False)."""
        if not cacheable(exchange) or self._db is None:
            return False
        stored = dict(exchange)
        stored["cached"] = False
        text = json.dumps(stored, ensure_ascii=False, separators=(",", ":"))
        with self._lock:
            self._pending[bytes.fromhex(key)] = text
            if len(self._pending) >= FLUSH_ROWS or time.monotonic() - self._flushed >= FLUSH_SECONDS:
                self._flush()
        return True

    def flush(self) -> None:
        with self._lock:
            self._flush()

    def close(self) -> None:
        with self._lock:
            self._flush()
            if self._db is not None:
                self._db.close()
                self._db = None

    def __enter__(self) -> ArmCache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __len__(self) -> int:
        self.flush()
        if self._db is None:
            return 0
        count: int = self._db.execute("SELECT count(*) FROM exchanges").fetchone()[0]
        return count

    def _flush(self) -> None:
        self._flushed = time.monotonic()
        if not self._pending or self._db is None:
            self._pending.clear()
            return
        rows: list[tuple[int, bytes, Any]] = [(_rowid(k), k, v) for k, v in self._pending.items()]
        self._pending.clear()
        try:
            with self._db:
                self._db.executemany("INSERT OR REPLACE INTO exchanges (h, key, value) VALUES (?, ?, ?)", rows)
        except sqlite3.Error as exc:
            self._broken(exc)

    def _broken(self, exc: sqlite3.Error) -> None:
        self._warn(f"the replay cache {self.path} failed during the run ({exc}); going on without it")
        if self._db is not None:
            try:
                self._db.close()
            except sqlite3.Error:
                pass
        self._db = None
        self._pending.clear()

    def _warn(self, message: str) -> None:
        self.warning = message
        warnings.warn(message, CacheWarning, stacklevel=3)


def _rowid(digest: bytes) -> int:
    """A key's first 8 bytes as a signed SQLite integer, the indexed column. Rows are appended in
    rowid order (a random primary key made every insert touch a random page of a file of hundreds of
    MB); the small index of integers stays in the page cache. The full key is stored and compared,
    so two keys that share the integer are a miss, never a wrong answer."""
    return int.from_bytes(digest[:8], "big", signed=True)


def _connect(path: Path) -> sqlite3.Connection:
    db = sqlite3.connect(path, timeout=10, check_same_thread=False, isolation_level=None)
    try:
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=OFF")  # a cache: a file broken by a power cut is replaced (see _open)
        db.execute("PRAGMA cache_size=-32000")  # 32 MB: the index of 300,000 keys fits
        db.execute("CREATE TABLE IF NOT EXISTS exchanges (h INTEGER NOT NULL UNIQUE, key BLOB NOT NULL, value TEXT NOT NULL)")
        db.execute("SELECT h, key, value FROM exchanges LIMIT 1").fetchall()
    except sqlite3.Error:
        db.close()
        raise
    db.isolation_level = "DEFERRED"  # `with db:` commits a batch as one transaction
    return db
