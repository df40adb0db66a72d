"""`migrator replay` on arbitrary corpora: whatever the lines hold, the run ends 0 or 1, every line
is accounted for (a result or a problem naming it), summary.json is JSON, and nothing is a traceback.

One offline ``migrator serve`` for the whole module (``--base-url``), so an example costs a run, not
a server start.
"""

from __future__ import annotations

import contextlib
import io
import itertools
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from migrator.cli import main

from .serve_helpers import ROOT, ServerProcess, running_server

pytestmark = pytest.mark.slow

SAMPLE_LINES = (ROOT / "fixtures" / "corpus" / "sample.jsonl").read_bytes().splitlines()
SAMPLE_VALUES = [json.loads(line) for line in SAMPLE_LINES[:-1]]  # the last one is cut on purpose

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)


@st.composite
def mutated_sample(draw: st.DrawFn) -> Any:
    """A sample line with one place replaced by an arbitrary value or removed."""
    value = json.loads(json.dumps(draw(st.sampled_from(SAMPLE_VALUES))))
    node: Any = value
    for _ in range(draw(st.integers(0, 4))):
        children = list(node.items()) if isinstance(node, dict) else list(enumerate(node)) if isinstance(node, list) else []
        containers = [(k, v) for k, v in children if isinstance(v, (dict, list)) and v]
        if not containers:
            break
        _, node = draw(st.sampled_from(containers))
    if isinstance(node, dict) and node:
        key = draw(st.sampled_from(sorted(node)))
        if draw(st.booleans()):
            del node[key]
        else:
            node[key] = draw(json_values)
    elif isinstance(node, list) and node:
        node[draw(st.integers(0, len(node) - 1))] = draw(json_values)
    return value


line_bytes = st.one_of(
    json_values.map(lambda v: json.dumps(v).encode()),
    mutated_sample().map(lambda v: json.dumps(v, ensure_ascii=False).encode()),
    st.binary(max_size=40),
    st.sampled_from(SAMPLE_LINES),
)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    folder = tmp_path_factory.mktemp("fuzz-serve")
    with running_server(["--access-log", "-"], stderr_path=folder / "serve.err") as s:
        yield s


@pytest.fixture(scope="module")
def folders(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    root = tmp_path_factory.mktemp("fuzz-runs")
    return (root / f"run{n}" for n in itertools.count())


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """By b"\\n" alone: str.splitlines would also cut at U+0085 and U+2028 inside a JSON string."""
    return [json.loads(line) for line in path.read_bytes().split(b"\n") if line]


def expected_lines(data: bytes) -> set[int]:
    """The line numbers the corpus reader must account for: every line that is not blank."""
    numbers = set()
    for number, raw in enumerate(io.BytesIO(data), 1):
        if number == 1 and raw.startswith(b"\xef\xbb\xbf"):
            raw = raw[3:]
        if raw.strip():
            numbers.add(number)
    return numbers


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow, HealthCheck.data_too_large])
@given(lines=st.lists(line_bytes, min_size=1, max_size=6), fail_on=st.sampled_from([None, "divergent", "error"]))
def test_any_corpus_ends_0_or_1_with_every_line_accounted_for(
        server: ServerProcess, folders: Iterator[Path], lines: list[bytes], fail_on: str | None) -> None:
    folder = next(folders)
    folder.mkdir()
    corpus = folder / "corpus.jsonl"
    data = b"\n".join(lines) + b"\n"
    corpus.write_bytes(data)
    out, err = io.StringIO(), io.StringIO()
    argv = ["replay", str(corpus), "--base-url", server.base_url, "--out", str(folder / "out"), "--concurrency", "4"]
    if fail_on:
        argv += ["--fail-on", fail_on]
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv, stdout=out, stderr=err)
    assert "Traceback" not in err.getvalue() and "Traceback" not in out.getvalue()
    assert code in (0, 1), err.getvalue()
    results, problems = (read_jsonl(folder / "out" / name) for name in ("results.jsonl", "problems.jsonl"))
    seen = sorted([r["line"] for r in results] + [p["line"] for p in problems])
    assert seen == sorted(expected_lines(data))  # each line once: a result or a problem
    assert not [r["reason"] for r in results if "internal error" in r["reason"]]  # a bug of ours, caught per case
    summary = json.loads((folder / "out" / "summary.json").read_text())
    assert summary["cases"] == len(results)
    if fail_on is None:
        assert code == 0
    elif fail_on == "error":
        assert code == (1 if any(r["verdict"] == "error" for r in results) else 0)
    else:
        assert code == (1 if any(r["verdict"] != "equivalent" for r in results) else 0)
