"""The replay corpus, read as a stream: one Case or one CorpusProblem at a time, never the whole file.

A path is a JSONL file (``-`` is stdin) or a folder whose ``*.json`` files (recursively, sorted by
relative path) each hold one request. A JSONL line is one of:

* a bare chat request body (it has ``messages``);
* ``{"id": ..., "request": {...}}`` (what ``migrator serve --capture`` writes);
* an OpenAI Batch API input line ``{"custom_id", "method", "url", "body"}``; ``method`` and ``url``
  may be missing (files cut down by hand), but when present they must say ``POST`` and the chat
  endpoint (with or without the leading slash, as some tools write it).

A line that cannot be read is a CorpusProblem naming its file, line and JSON path, and the reading
goes on; blank lines are skipped silently. Ids are the corpus's own (``id``, ``custom_id``; a number
becomes its decimal text) or ``line-<n>`` (a folder's file: its relative path). A repeated id is kept
apart, not refused: its second use becomes ``<id>#2``, its third ``<id>#3``, so every Case of a run has
its own id. Ids are remembered as 64-bit digests (migrator/replay/table.py), 16 to 32 bytes a line.

Shards split by a stable hash of the case id, not by line number, so adding lines to a corpus does
not move the other cases to other shards.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterable, Iterator, Sequence
from hashlib import blake2b
from pathlib import Path
from typing import IO, Any

from ..errors import MappingError, describe
from ..mapping import json_text
from .model import CHAT_PATH, Case, CorpusProblem
from .table import DigestTable

_BOM = b"\xef\xbb\xbf"
_CHAT_URLS = {CHAT_PATH, CHAT_PATH.lstrip("/")}
_SHARD = re.compile(r"\s*(\d+)\s*/\s*(\d+)\s*\Z")


def check_paths(paths: Sequence[str]) -> None:
    """Refuse, before a run starts, corpus paths that do not exist (a ValueError naming them)."""
    if not paths:
        raise ValueError("no corpus given: name a JSONL file, a folder of JSON files, or - for stdin")
    missing = [p for p in paths if p != "-" and not Path(p).exists()]
    if missing:
        raise ValueError(f"corpus not found: {', '.join(missing)} (expected a JSONL file, a folder of JSON files, or -)")


def read_corpus(paths: Sequence[str]) -> Iterator[Case | CorpusProblem]:
    """Every entry of the corpora in order; a file that cannot be opened is a problem at line 0."""
    seen = _Ids()
    for source in paths:
        if source == "-":
            yield from _read_lines(sys.stdin.buffer, source, seen)
            continue
        path = Path(source)
        try:
            if path.is_dir():
                yield from _read_folder(path, source, seen)
            else:
                with path.open("rb") as stream:
                    yield from _read_lines(stream, source, seen)
        except OSError as exc:
            yield _problem(source, 0, "$", f"a readable corpus file or folder, but {exc.strerror or exc}")


def _read_lines(stream: IO[bytes], source: str, seen: _Ids) -> Iterator[Case | CorpusProblem]:
    for number, raw in enumerate(stream, 1):
        if number == 1 and raw.startswith(_BOM):
            raw = raw[3:]
        if not raw.strip():
            continue
        yield _entry(raw, source, number, f"line-{number}", seen)


def _read_folder(folder: Path, source: str, seen: _Ids) -> Iterator[Case | CorpusProblem]:
    files = sorted((p.relative_to(folder).as_posix(), p) for p in folder.rglob("*.json") if p.is_file())
    if not files:
        yield _problem(source, 0, "$", "a folder of *.json request files, found none")
    for relative, path in files:
        where = str(Path(source) / relative)
        try:
            raw = path.read_bytes()
        except OSError as exc:
            yield _problem(where, 0, "$", f"a readable JSON file, but {exc.strerror or exc}")
            continue
        yield _entry(raw.removeprefix(_BOM), where, 0, relative, seen)


def _entry(raw: bytes, source: str, line: int, default_id: str, seen: _Ids) -> Case | CorpusProblem:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return _problem(source, line, "$", f"UTF-8 text, but byte {exc.start + 1} is not UTF-8")
    try:
        value = json_text.loads(text)
    except json.JSONDecodeError as exc:
        reason = exc.msg.removesuffix(" at")  # json's messages end "… at" when they say where
        return _problem(source, line, "$", f"one JSON value per line (column {exc.colno}: {reason[:1].lower()}{reason[1:]})")
    except MappingError as exc:
        first = exc.problems[0]
        return _problem(source, line, first.path, f"{first.expected}, found {first.found}")
    if type(value) is not dict:
        return _problem(source, line, "$", f"a JSON object (a chat request, {{id, request}} or a Batch API line), found {describe(value)}")
    found = _unwrap(value)
    if len(found) == 2:
        return _problem(source, line, found[0], found[1])
    given, request, where = found
    messages = request.get("messages")
    if "messages" not in request:
        return _problem(source, line, f"{where}.messages", "a chat request with a messages list, found no messages")
    if type(messages) is not list:
        return _problem(source, line, f"{where}.messages", f"a list of messages, found {describe(messages)}")
    return Case(id=seen.unique(given if given is not None else default_id), source=source, line=line, request=request)


def _unwrap(value: dict[str, Any]) -> tuple[str | None, dict[str, Any], str] | tuple[str, str]:
    """(given id, chat request, its JSON path) or (path, message) of what is wrong."""
    if "messages" in value:
        return None, value, "$"
    if "request" in value:
        id_key, body_key = "id", "request"
    elif "body" in value or "custom_id" in value:
        id_key, body_key = "custom_id", "body"
        method, url = value.get("method", "POST"), value.get("url", CHAT_PATH)
        if type(method) is not str or method.upper() != "POST":
            return "$.method", f"POST, found {describe(method)}"
        if type(url) is not str or url not in _CHAT_URLS:
            return "$.url", f"{CHAT_PATH} (a chat request; the replay sends the other endpoint itself), found {describe(url)}"
    else:
        return "$.messages", "a chat request with a messages list, or {id, request}, or a Batch API line; found no messages"
    given = value.get(id_key)
    if given is not None:
        if type(given) is int:
            given = str(given)
        elif type(given) is not str or not given:
            return f"$.{id_key}", f"a non-empty string or an integer, found {describe(given)}"
    body = value.get(body_key)
    if type(body) is not dict:
        return f"$.{body_key}", f"a chat request object, found {'nothing' if body_key not in value else describe(body)}"
    return given, body, f"$.{body_key}"


def _problem(source: str, line: int, path: str, expected: str) -> CorpusProblem:
    return CorpusProblem(source=source, line=line, path=path, message=f"expected {expected}")


class _Ids:
    """Makes ids unique in reading order: a repeat becomes ``<id>#2``, ``<id>#3``…"""

    __slots__ = ("_repeats", "_seen")

    def __init__(self) -> None:
        self._seen = DigestTable(values=False)
        self._repeats: dict[str, int] = {}  # only ids used more than once: few

    def unique(self, given: str) -> str:
        if self._seen.put(given, 1):
            return given
        n = self._repeats.get(given, 1)
        while True:
            n += 1
            candidate = f"{given}#{n}"
            if self._seen.put(candidate, 1):
                self._repeats[given] = n
                return candidate


def shard_of(key: str, n: int) -> int:
    """The 1-based shard of ``key`` among ``n``: a hash of the text, the same on every machine."""
    return int.from_bytes(blake2b(key.encode("utf-8", "surrogatepass"), digest_size=8).digest(), "big") % n + 1


def in_shard(entry: Case | CorpusProblem, i: int, n: int) -> bool:
    """Whether shard ``i`` of ``n`` owns ``entry``: a case by its id, a problem by file and line."""
    given = entry.get("id")
    key = given if isinstance(given, str) else f"{entry['source']}:{entry['line']}"
    return n == 1 or shard_of(key, n) == i


def shard(entries: Iterable[Case | CorpusProblem], i: int, n: int) -> Iterator[Case | CorpusProblem]:
    """The entries shard ``i`` (1-based) of ``n`` owns; every entry belongs to exactly one shard."""
    return (e for e in entries if in_shard(e, i, n))


def parse_shard(text: str) -> tuple[int, int]:
    """``"2/4"`` → ``(2, 4)``; anything else is a ValueError saying what was expected."""
    match = _SHARD.match(text)
    if not match:
        raise ValueError(f"--shard expects I/N (e.g. 2/4: the second of four shards), found {text!r}")
    i, n = int(match[1]), int(match[2])
    if n < 1 or not 1 <= i <= n:
        raise ValueError(f"--shard expects I/N with 1 <= I <= N, found {text!r}")
    return i, n
