"""Replay io: the corpus reader (three formats, bad lines, folders, shards), the results store
(append, resume, last-wins), the arm cache and `merge`, each tested alone with hand-written dicts."""

from __future__ import annotations

import io
import json
import sqlite3
import sys
import tracemalloc
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from migrator.replay import store
from migrator.replay.cache import ArmCache, CacheWarning, key_of
from migrator.replay.corpus import check_paths, parse_shard, read_corpus, shard
from migrator.replay.merge import merge
from migrator.replay.model import CHAT_PATH, RESPONSES_PATH, Call, CaseResult, Exchange
from migrator.replay.store import ResultStore, RunExists, finished_keys, iter_problems, iter_results, write_json_atomic
from migrator.replay.table import DigestTable

FAST = settings(max_examples=200, deadline=None)
MSG = [{"role": "user", "content": "hi"}]
BODY = {"model": "gpt-4o", "messages": MSG}
CHAT_URL = "expected /v1/chat/completions (a chat request; the replay sends the other endpoint itself)"


def write(tmp_path: Path, lines: list[bytes | str | dict[str, Any]], name: str = "corpus.jsonl") -> str:
    path = tmp_path / name
    out = b""
    for line in lines:
        if isinstance(line, dict):
            line = json.dumps(line)
        out += (line.encode() if isinstance(line, str) else line) + b"\n"
    path.write_bytes(out)
    return str(path)


def entries(*paths: str) -> list[dict[str, Any]]:
    return [dict(e) for e in read_corpus(list(paths))]


# ------------------------------------------------------------------ corpus: the three formats

def test_each_format_is_a_case_with_its_id_and_line(tmp_path: Path) -> None:
    path = write(tmp_path, [
        BODY,
        {"id": "greet", "request": BODY},
        {"custom_id": "req-7", "method": "POST", "url": "/v1/chat/completions", "body": BODY},
        {"custom_id": 42, "body": BODY},  # the tolerated variant: no method, no url
        {"id": 5, "request": BODY},
        {"custom_id": "nolead", "method": "post", "url": "v1/chat/completions", "body": BODY},
    ])
    got = entries(path)
    assert [(c["id"], c["line"], c["source"]) for c in got] == [
        ("line-1", 1, path), ("greet", 2, path), ("req-7", 3, path), ("42", 4, path), ("5", 5, path), ("nolead", 6, path),
    ]
    assert all(c["request"] == BODY for c in got)


def test_blank_lines_bom_and_crlf(tmp_path: Path) -> None:
    raw = b"\xef\xbb\xbf" + json.dumps(BODY).encode() + b"\r\n\r\n   \n" + json.dumps(BODY).encode()  # no final newline
    path = tmp_path / "c.jsonl"
    path.write_bytes(raw)
    assert [(c["id"], c["line"]) for c in entries(str(path))] == [("line-1", 1), ("line-4", 4)]


def test_stdin(monkeypatch: pytest.MonkeyPatch) -> None:
    data = (json.dumps(BODY) + "\n" + "nope\n").encode()
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))
    got = entries("-")
    assert got[0]["id"] == "line-1" and got[0]["source"] == "-"
    assert got[1] == {"source": "-", "line": 2, "path": "$", "message": "expected one JSON value per line (column 1: expecting value)"}


@pytest.mark.parametrize(("line", "path", "message"), [
    (b"{not json", "$", "expected one JSON value per line (column 2: expecting property name enclosed in double quotes)"),
    (b'{"messages": [], "x": 1} trailing', "$", "expected one JSON value per line (column 26: extra data)"),
    (b"[1, 2]", "$", "expected a JSON object (a chat request, {id, request} or a Batch API line), found a list of 2"),
    (b'"text"', "$", "expected a JSON object (a chat request, {id, request} or a Batch API line), found 'text'"),
    (b'{"model": "gpt-4o"}', "$.messages", "expected a chat request with a messages list, or {id, request}, or a Batch API line; found no messages"),
    (b'{"messages": "hi"}', "$.messages", "expected a list of messages, found 'hi'"),
    (b'{"id": "a", "request": [1]}', "$.request", "expected a chat request object, found a list of 1"),
    (b'{"id": "a", "request": {"model": "m"}}', "$.request.messages", "expected a chat request with a messages list, found no messages"),
    (b'{"id": {"x": 1}, "request": {"messages": []}}', "$.id", "expected a non-empty string or an integer, found an object with keys {x}"),
    (b'{"id": "", "request": {"messages": []}}', "$.id", "expected a non-empty string or an integer, found ''"),
    (b'{"id": true, "request": {"messages": []}}', "$.id", "expected a non-empty string or an integer, found true"),
    (b'{"custom_id": "a", "url": "/v1/embeddings", "body": {"messages": []}}', "$.url", f"{CHAT_URL}, found '/v1/embeddings'"),
    (b'{"custom_id": "a", "url": [], "body": {"messages": []}}', "$.url", f"{CHAT_URL}, found a list of 0"),
    (b'{"custom_id": "a", "method": "GET", "body": {"messages": []}}', "$.method", "expected POST, found 'GET'"),
    (b'{"custom_id": "a", "url": "/v1/chat/completions"}', "$.body", "expected a chat request object, found nothing"),
    (b'{"custom_id": "a", "body": {"messages": {}}}', "$.body.messages", "expected a list of messages, found an empty object"),
    (b'{"messages": [NaN]}', "$.messages[0]", "expected a finite number (NaN and Infinity are not JSON), found NaN"),
    (b'{"messages": ["\\ud800"]}', "$.messages[0]",
     "expected valid Unicode text (a lone UTF-16 surrogate cannot be encoded), found '\\ud800'"),
    (b'{"messages": ' + b"[" * 200 + b"]" * 200 + b"}", "$.messages" + "[0]" * 99, "expected JSON nested at most 100 levels deep, found deeper nesting"),
    (b'{"messages": ["caf\xe9"]}', "$", "expected UTF-8 text, but byte 19 is not UTF-8"),
])
def test_a_bad_line_is_a_problem_at_its_line_and_reading_goes_on(tmp_path: Path, line: bytes, path: str, message: str) -> None:
    source = write(tmp_path, [BODY, line, {"id": "after", "request": BODY}])
    got = entries(source)
    assert got[1] == {"source": source, "line": 2, "path": path, "message": message}
    assert [got[0]["id"], got[2]["id"]] == ["line-1", "after"]


def test_repeated_ids_are_made_unique(tmp_path: Path) -> None:
    source = write(tmp_path, [
        {"id": "a", "request": BODY}, {"id": "a", "request": BODY}, {"id": "a#3", "request": BODY}, {"id": "a", "request": BODY},
    ])
    other = write(tmp_path, [BODY], name="other.jsonl")
    first = write(tmp_path, [BODY], name="first.jsonl")
    ids = [c["id"] for c in entries(source, first, other)]
    assert ids == ["a", "a#2", "a#3", "a#4", "line-1", "line-1#2"]


@FAST
@given(st.lists(st.text(alphabet="a#23", min_size=1, max_size=4), max_size=30))
def test_ids_are_unique_and_a_first_use_keeps_its_id(given_ids: list[str]) -> None:
    import tempfile
    with tempfile.NamedTemporaryFile("w", suffix=".jsonl") as f:
        f.write("".join(json.dumps({"id": i, "request": BODY}) + "\n" for i in given_ids))
        f.flush()
        ids = [c["id"] for c in read_corpus([f.name])]
    assert len(ids) == len(set(ids)) == len(given_ids)
    assert all(got == given or got.startswith(given + "#") for got, given in zip(ids, given_ids, strict=True))
    first = {i: n for n, i in reversed(list(enumerate(given_ids)))}
    assert all(ids[n] == i for i, n in first.items() if i not in ids[:n])


def test_folder_corpus_sorted_recursively_with_relative_ids(tmp_path: Path) -> None:
    folder = tmp_path / "corpus"
    (folder / "sub").mkdir(parents=True)
    (folder / "b.json").write_text(json.dumps(BODY))
    (folder / "a.json").write_bytes(b"\xef\xbb\xbf" + json.dumps({"id": "named", "request": BODY}).encode())
    (folder / "sub" / "c.json").write_text(json.dumps({"messages": 3}))
    (folder / "notes.txt").write_text("not read")
    got = entries(str(folder))
    assert [(e.get("id"), e["source"], e["line"]) for e in got] == [
        ("named", str(folder / "a.json"), 0), ("b.json", str(folder / "b.json"), 0), (None, str(folder / "sub" / "c.json"), 0),
    ]
    assert got[2]["path"] == "$.messages"


def test_a_folder_without_json_files_is_a_problem(tmp_path: Path) -> None:
    assert entries(str(tmp_path)) == [{"source": str(tmp_path), "line": 0, "path": "$",
                                       "message": "expected a folder of *.json request files, found none"}]


def test_missing_paths() -> None:
    with pytest.raises(ValueError, match=r"corpus not found: /no/such\.jsonl"):
        check_paths(["/no/such.jsonl", "-"])
    with pytest.raises(ValueError, match="no corpus given"):
        check_paths([])
    [problem] = entries("/no/such.jsonl")
    assert problem["line"] == 0 and "No such file" in problem["message"]


@FAST
@given(st.lists(st.binary(max_size=60).map(lambda b: b.replace(b"\n", b"")), max_size=8))
def test_arbitrary_bytes_lines_never_raise(lines: list[bytes]) -> None:
    raw = b"\n".join(lines)
    import tempfile
    with tempfile.NamedTemporaryFile(suffix=".jsonl") as f:
        f.write(raw)
        f.flush()
        got = list(read_corpus([f.name]))
    for e in got:
        assert set(e) in ({"id", "source", "line", "request"}, {"source", "line", "path", "message"})
        assert 1 <= e["line"] <= len(lines)
    assert len(got) == sum(1 for line in raw.removeprefix(b"\xef\xbb\xbf").split(b"\n") if line.strip())


@FAST
@given(st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=5),
                    lambda c: st.lists(c, max_size=3) | st.dictionaries(st.sampled_from(["messages", "id", "request", "body", "custom_id", "url", "method", "x"]), c, max_size=4),
                    max_leaves=12))
def test_arbitrary_json_lines_are_cases_or_problems(value: Any) -> None:
    import tempfile
    with tempfile.NamedTemporaryFile(suffix=".jsonl") as f:
        f.write(json.dumps(value).encode() + b"\n")
        f.flush()
        [got] = list(read_corpus([f.name]))
    if "request" in got:
        assert isinstance(got["request"], dict) and isinstance(got["request"]["messages"], list)
    else:
        assert got["message"].startswith("expected ") and got["path"].startswith("$")


@pytest.mark.slow
def test_memory_is_flat_in_corpus_size(tmp_path: Path) -> None:
    line = json.dumps({"id": "x", "request": {"model": "gpt-4o", "messages": [{"role": "user", "content": "y" * 180}]}})
    head, tail = line.split('"x"', 1)
    path = tmp_path / "big.jsonl"
    path.write_text("".join(f'{head}"case-{i}"{tail}\n' for i in range(200_000)))
    tracemalloc.start()  # one pass: tracing makes reading about seven times slower
    count = sum(1 for _ in read_corpus([str(path)]))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert count == 200_000
    # Nothing of a line is kept but its id's 64-bit digest in the id table (8 bytes a slot, a load
    # between 1/4 and 1/2, the old table beside the new one while it grows): about 32 bytes a line
    # at the peak, against the ~280 of the line itself (a corpus held in memory would be 56 MB of
    # text and more as objects).
    assert peak < 40 * count, peak
    assert peak < path.stat().st_size / 5, peak


# ------------------------------------------------------------------ shards

def test_shards_partition_and_are_stable_when_lines_are_added(tmp_path: Path) -> None:
    lines: list[bytes | str | dict[str, Any]] = [{"id": f"c{i}", "request": BODY} for i in range(300)] + ["bad"]
    before = write(tmp_path, lines)
    all_ids = [e.get("id", "problem") for e in read_corpus([before])]
    parts = {i: [e.get("id", "problem") for e in shard(read_corpus([before]), i, 4)] for i in range(1, 5)}
    assert sorted(x for p in parts.values() for x in p) == sorted(all_ids)
    assert all(len(p) > 40 for p in parts.values())  # a hash spreads them
    more = write(tmp_path, [{"id": "new-0", "request": BODY}, *lines, {"id": "new-1", "request": BODY}], name="more.jsonl")
    for i in range(1, 5):
        after = [e["id"] for e in shard(read_corpus([more]), i, 4) if "id" in e and not e["id"].startswith("new-")]
        assert after == [x for x in parts[i] if x != "problem"]
    assert [e.get("id") for e in shard(read_corpus([before]), 1, 1)] == [e.get("id") for e in read_corpus([before])]


@pytest.mark.parametrize(("text", "expected"), [("2/4", (2, 4)), (" 1 / 1 ", (1, 1)), ("4/4", (4, 4))])
def test_parse_shard(text: str, expected: tuple[int, int]) -> None:
    assert parse_shard(text) == expected


@pytest.mark.parametrize(("text", "message"), [
    ("5/4", "1 <= I <= N"), ("0/4", "1 <= I <= N"), ("1/0", "1 <= I <= N"), ("2", "expects I/N"), ("a/b", "expects I/N"), ("-1/3", "expects I/N"),
])
def test_parse_shard_refuses(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message) as exc:
        parse_shard(text)
    assert repr(text) in str(exc.value)


# ------------------------------------------------------------------ the results store

def result(case: str, verdict: str = "equivalent", **extra: Any) -> CaseResult:
    value: dict[str, Any] = {
        "id": case, "key": f"k-{case}", "source": "c.jsonl", "line": 1, "verdict": verdict, "reason": "", "fields": [],
        "noise": [], "losses": [], "order": ["P", "S", "C"], "request": BODY, "translated": None, "records": {}, "scores": {},
    }
    value.update(extra)
    return value  # type: ignore[return-value]


def test_append_read_back_and_refuse_a_second_fresh_run(tmp_path: Path) -> None:
    out = tmp_path / "run"
    with ResultStore(out) as s:
        s.append(result("a"))
        s.append(result("b", "divergent", reason="differs because $.stop was dropped \u2014 caf\u00e9"))
        s.problem({"source": "c.jsonl", "line": 3, "path": "$", "message": "expected JSON"})
    assert [r["id"] for r in iter_results(out)] == ["a", "b"]
    assert list(iter_results(out))[1]["reason"].endswith("caf\u00e9")
    assert list(iter_problems(out)) == [{"source": "c.jsonl", "line": 3, "path": "$", "message": "expected JSON"}]
    with pytest.raises(RunExists, match=r"already holds a run .*pass --resume to continue it, or --out with another folder"):
        ResultStore(out)
    assert [r["id"] for r in iter_results(out)] == ["a", "b"]  # untouched by the refusal


def test_an_empty_results_file_is_no_run(tmp_path: Path) -> None:
    (tmp_path / "results.jsonl").write_bytes(b"")
    ResultStore(tmp_path).close()


def test_resume_keys_with_a_truncated_last_line_and_errors_rerun(tmp_path: Path) -> None:
    with ResultStore(tmp_path) as s:
        for r in (result("a"), result("b", "error"), result("c", "divergent"), result("d", "error"), result("d")):
            s.append(r)
    path = tmp_path / "results.jsonl"
    full = path.read_bytes()
    path.write_bytes(full + store._line(result("e"))[:-40])  # killed in the middle of a write
    assert finished_keys(tmp_path) == {"k-a", "k-c", "k-d"}
    assert [r["id"] for r in iter_results(tmp_path)] == ["a", "b", "c", "d"]
    with ResultStore(tmp_path, resume=True) as s:
        s.append(result("b"))
    assert path.read_bytes().startswith(full)
    assert [json.loads(x)["id"] for x in path.read_bytes().splitlines()] == ["a", "b", "c", "d", "d", "b"]
    assert finished_keys(tmp_path) == {"k-a", "k-b", "k-c", "k-d"}


def test_resume_keeps_a_complete_last_line_that_lost_its_newline(tmp_path: Path) -> None:
    path = tmp_path / "results.jsonl"
    path.write_bytes(store._line(result("a"))[:-1])
    assert finished_keys(tmp_path) == set()  # not yet known complete
    with ResultStore(tmp_path, resume=True) as s:
        s.append(result("b"))
    assert finished_keys(tmp_path) == {"k-a", "k-b"}


def test_last_wins_in_written_order(tmp_path: Path) -> None:
    with ResultStore(tmp_path) as s:
        for r in (result("a", "error"), result("b"), result("a", "divergent"), result("c"), result("b", "error")):
            s.append(r)
    assert [(r["id"], r["verdict"]) for r in iter_results(tmp_path)] == [("a", "divergent"), ("c", "equivalent"), ("b", "error")]
    assert finished_keys(tmp_path) == {"k-a", "k-c"}


def test_lines_of_another_form_are_read_in_full_and_junk_is_skipped(tmp_path: Path) -> None:
    lines = [
        json.dumps({"verdict": "equivalent", "key": "x", "id": "x"}),  # not written by the store: key not first
        json.dumps({"key": 'we"ird\\', "verdict": "divergent", "id": "w"}),  # escapes in the key
        "not json", "[1]", json.dumps({"key": 3}),
    ]
    (tmp_path / "results.jsonl").write_text("\n".join(lines) + "\n")
    assert finished_keys(tmp_path) == {"x", 'we"ird\\'}
    assert [r["id"] for r in iter_results(tmp_path)] == ["x", "w"]


@FAST
@given(st.lists(st.binary(max_size=80), max_size=6), st.booleans())
def test_arbitrary_bytes_in_a_results_file_never_raise(chunks: list[bytes], newline_at_end: bool) -> None:
    import tempfile
    with tempfile.TemporaryDirectory() as d:
        good = store._line(result("a"))
        (Path(d) / "results.jsonl").write_bytes(good + b"\n".join(chunks) + (b"\n" if newline_at_end else b""))
        keys = finished_keys(d)
        results = list(iter_results(d))
        assert "k-a" in keys and all(type(r) is dict and type(r["key"]) is str for r in results)
        with ResultStore(d, resume=True) as s:
            s.append(result("b"))
        assert {"k-a", "k-b"} <= finished_keys(d)
        assert [r["id"] for r in iter_results(d)][-1] == "b"


@pytest.mark.slow
def test_a_killed_writer_loses_nothing_it_finished(tmp_path: Path) -> None:
    import signal
    import subprocess
    import time
    script = (
        "import sys\n"
        "from migrator.replay.store import ResultStore\n"
        "s = ResultStore(sys.argv[1])\n"
        "i = 0\n"
        "while True:\n"
        "    s.append({'id': str(i), 'key': f'k{i}', 'verdict': 'equivalent', 'pad': 'x' * 5000})\n"
        "    print(i, flush=True)\n"
        "    i += 1\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", script, str(tmp_path)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    reported = [proc.stdout.readline() for _ in range(200)]  # each line printed after its result was written
    time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    finished = {f"k{int(n)}" for n in reported}
    assert finished <= finished_keys(tmp_path)
    with ResultStore(tmp_path, resume=True) as s:
        s.append(result("after"))
    lines = (tmp_path / "results.jsonl").read_bytes().splitlines()
    assert all(json.loads(line) for line in lines)  # no partial line left in the middle
    assert json.loads(lines[-1])["id"] == "after"


def test_a_nan_in_a_result_is_a_clear_error(tmp_path: Path) -> None:
    with ResultStore(tmp_path) as s, pytest.raises(ValueError, match=r"NaN or infinity\) at \$\.scores\.PC\[1\]"):
        s.append(result("a", scores={"PC": [0.5, float("nan")]}))


def test_write_json_atomic(tmp_path: Path) -> None:
    target = tmp_path / "deep" / "summary.json"
    write_json_atomic(target, {"a": 1})
    write_json_atomic(target, {"verdicts": {"equivalent": 2}})
    assert json.loads(target.read_text()) == {"verdicts": {"equivalent": 2}}
    assert (target.stat().st_mode & 0o777) == 0o644
    with pytest.raises(ValueError):
        write_json_atomic(target, {"x": float("inf")})
    assert json.loads(target.read_text()) == {"verdicts": {"equivalent": 2}}
    assert sorted(p.name for p in target.parent.iterdir()) == ["summary.json"]


# ------------------------------------------------------------------ the arm cache

def call(arm: str = "P", sample: int = 0, body: dict[str, Any] | None = None, path: str = CHAT_PATH) -> Call:
    return {"case": "c", "arm": arm, "sample": sample, "path": path, "body": body or BODY}  # type: ignore[typeddict-item]


def exchange(status: int | None = 200, error: Any = None, body: Any = None) -> Exchange:
    return {"arm": "P", "sample": 0, "path": CHAT_PATH, "status": status, "body": {"id": "x", "choices": []} if body is None and status == 200 else body,
            "stream": None, "error": error, "ttft_ms": None, "total_ms": 12.5, "attempts": 1, "cached": False}


def test_key_of_is_canonical_and_tells_arms_samples_and_servers_apart() -> None:
    base = key_of("http://127.0.0.1:8000/", call())
    assert base == key_of("http://127.0.0.1:8000", call(body={"messages": MSG, "model": "gpt-4o"}))  # key order
    others = {key_of("http://127.0.0.1:8000", c) for c in (call(arm="S"), call(sample=1), call(path=RESPONSES_PATH),
                                                          call(body={**BODY, "seed": 1}))}
    others.add(key_of("http://127.0.0.1:9000", call()))
    assert base not in others and len(others) == 5
    assert len(base) == 64 and ArmCache.key_of is key_of


def test_cache_round_trip_across_reopen_and_only_successes(tmp_path: Path) -> None:
    path = tmp_path / "cache.sqlite"
    with ArmCache(path) as cache:
        k = key_of("u", call())
        assert cache.get(k) is None
        assert cache.put(k, exchange())
        assert cache.get(k) == {**exchange(), "cached": True}  # before the batch is written
        for i, failed in enumerate([exchange(429, {"kind": "api", "status": 429, "type": "rate_limit_error", "code": None, "message": "slow"}),
                                    exchange(None, {"kind": "timeout", "status": None, "type": None, "code": None, "message": "t"}),
                                    exchange(500), exchange(200, {"kind": "protocol", "status": 200, "type": None, "code": None, "message": "p"})]):
            assert not cache.put(key_of("u", call(sample=i + 1)), failed)
            assert cache.get(key_of("u", call(sample=i + 1))) is None
    with ArmCache(path) as cache:
        assert cache.get(k) == {**exchange(), "cached": True}
        assert len(cache) == 1
    assert b"sk-" not in path.read_bytes()


def test_a_corrupt_cache_file_is_a_warning_and_a_fresh_cache(tmp_path: Path) -> None:
    path = tmp_path / "cache.sqlite"
    path.write_bytes(b"this is not a database" * 100)
    with pytest.warns(CacheWarning, match="cannot be read .*moved to cache.sqlite.corrupt, starting a fresh cache"):
        cache = ArmCache(path)
    assert cache.put("ab" * 32, exchange())
    cache.close()
    assert (tmp_path / "cache.sqlite.corrupt").exists()
    with ArmCache(path) as again:
        assert again.get("ab" * 32) is not None


def test_a_cache_that_breaks_during_the_run_is_a_warning_not_a_crash(tmp_path: Path) -> None:
    cache = ArmCache(tmp_path / "cache.sqlite")
    assert cache.put("ab" * 32, exchange())
    cache.flush()
    assert cache._db is not None
    cache._db.close()  # stands for a disk that went away
    with pytest.warns(CacheWarning, match="failed during the run"):
        assert cache.get("cd" * 32) is None
    assert not cache.put("cd" * 32, exchange())
    cache.close()


def test_concurrent_puts_from_threads(tmp_path: Path) -> None:
    import threading
    cache = ArmCache(tmp_path / "cache.sqlite")

    def work(t: int) -> None:
        for i in range(300):
            cache.put(key_of("u", call(sample=t * 1000 + i)), exchange())

    threads = [threading.Thread(target=work, args=(t,)) for t in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(cache) == 1200
    cache.close()
    with sqlite3.connect(tmp_path / "cache.sqlite") as db:
        assert db.execute("SELECT count(*) FROM exchanges").fetchone()[0] == 1200


# ------------------------------------------------------------------ merge

def shard_dir(tmp_path: Path, name: str, results: list[CaseResult], settings: Any = None, shard_of: Any = None,
              problems: list[dict[str, Any]] | None = None) -> Path:
    d = tmp_path / name
    with ResultStore(d) as s:
        for r in results:
            s.append(r)
        for p in problems or []:
            s.problem(p)  # type: ignore[arg-type]
    if settings is not None:
        write_json_atomic(d / "meta.json", {"settings": settings, "shard": shard_of})
    return d


def test_merge_joins_shards_last_wins(tmp_path: Path) -> None:
    settings_ = {"model": "gpt-4o", "repeat": 1}
    p = {"source": "c.jsonl", "line": 9, "path": "$", "message": "expected JSON"}
    a = shard_dir(tmp_path, "a", [result("1"), result("2", "error")], settings_, [1, 2], [p])
    b = shard_dir(tmp_path, "b", [result("3", "divergent")], {**settings_, "shard": [2, 2]}, [2, 2], [p])
    again = shard_dir(tmp_path, "a2", [result("2")], None)  # no meta.json: merged on its results alone
    out = tmp_path / "merged"
    merge([a, b, again], out)
    assert [(r["id"], r["verdict"]) for r in iter_results(out)] == [("1", "equivalent"), ("3", "divergent"), ("2", "equivalent")]
    assert len((out / "results.jsonl").read_bytes().splitlines()) == 3
    assert list(iter_problems(out)) == [p]
    meta = json.loads((out / "meta.json").read_text())
    assert meta["settings"] == settings_ and meta["merged"] == [str(a), str(b), str(again)]
    merge([a], out)  # an earlier merge is replaced
    assert [r["id"] for r in iter_results(out)] == ["1", "2"]


def test_merge_refuses_different_settings(tmp_path: Path) -> None:
    a = shard_dir(tmp_path, "a", [result("1")], {"model": "gpt-4o", "repeat": 1}, [1, 2])
    b = shard_dir(tmp_path, "b", [result("2")], {"model": "gpt-4.1", "repeat": 1}, [2, 2])
    with pytest.raises(ValueError, match=r"were run with different settings \(model: \"gpt-4o\" vs \"gpt-4.1\"\); only shards of one run"):
        merge([a, b], tmp_path / "out")
    assert not (tmp_path / "out").exists()
    c = shard_dir(tmp_path, "c", [result("2")], {"model": "gpt-4o", "repeat": 1}, [2, 3])
    with pytest.raises(ValueError, match=r"a shard of 2 and .* a shard of 3"):
        merge([a, c], tmp_path / "out")


def test_merge_refuses_bad_folders(tmp_path: Path) -> None:
    a = shard_dir(tmp_path, "a", [result("1")])
    with pytest.raises(ValueError, match=r"holds no results\.jsonl"):
        merge([a, tmp_path / "nothing"], tmp_path / "out")
    with pytest.raises(ValueError, match="is one of the folders to merge"):
        merge([a], a)
    run = shard_dir(tmp_path, "run", [result("9")])
    with pytest.raises(ValueError, match="holds a replay run of its own"):
        merge([a], run)
    (tmp_path / "afile").write_text("x")
    with pytest.raises(ValueError, match="afile cannot be a folder"):
        merge([a], tmp_path / "afile")
    with pytest.raises(ValueError, match="at least one"):
        merge([], tmp_path / "out")


# ------------------------------------------------------------------ the digest table

def test_digest_table_grows_and_keeps_values() -> None:
    table = DigestTable(4)
    for i in range(5000):
        assert table.put(f"k{i}", i)
    assert not table.put("k7", -7)
    assert len(table) == 5000 and table.get("k7") == -7 and table.get("k4999") == 4999 and table.get("absent") is None
