"""Fuzzing `migrator translate` end to end, in process: whatever the input, the exit code is
0, 1 or 2 and nothing raises (no traceback), and what goes to stdout is JSON or SSE a strict reader takes."""

from __future__ import annotations

import io
import json
import random
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from migrator.cli import main
from tests.mutations import replaced

pytestmark = pytest.mark.slow  # fuzzing: arbitrary input for robustness, the bulk of the suite's time

ROOT = Path(__file__).resolve().parent.parent
TARGETS = ("chat", "responses")


def run(raw: bytes, argv: list[str]) -> tuple[int, str]:
    """stdin as the console gives it: bytes under a text wrapper (the command reads the bytes)."""
    out, err = io.StringIO(), io.StringIO()
    code = main(["translate", "-", *argv], stdin=io.TextIOWrapper(io.BytesIO(raw), encoding="utf-8"), stdout=out, stderr=err)
    assert code in (0, 1, 2), err.getvalue()
    assert "Traceback" not in err.getvalue()
    if code == 2:  # warnings of what was already translated may come before the error
        assert any(line.startswith("migrator: error: ") for line in err.getvalue().splitlines())
    return code, out.getvalue()


def _strict(data: str) -> Any:
    def refuse(name: str) -> Any:
        raise AssertionError(f"not JSON in the output: {name}")
    return json.loads(data, parse_constant=refuse)


def _check_output(out: str) -> None:
    if not out:
        return
    if out.startswith(("data: ", "event: ")):
        for block in out.split("\n\n"):
            for line in block.split("\n"):
                if line.startswith("data: ") and line != "data: [DONE]":
                    _strict(line[6:])
    else:
        _strict(out)


def _bodies() -> list[dict[str, Any]]:
    """Every body of the mapping fixtures (requests and results of both APIs)."""
    found: list[dict[str, Any]] = []
    for path in sorted((ROOT / "fixtures" / "mapping").glob("*/*.json")):
        cases = json.loads(path.read_text(encoding="utf-8"))
        for case in cases if type(cases) is list else []:
            for key in ("before", "after"):
                if type(case) is dict and type(case.get(key)) is dict:
                    found.append(case[key])
    return found


BODIES = _bodies()

# Text that Python's json reads but JSON cannot carry, and text that is not JSON at all.
BAD_TEXT = ["NaN", "-Infinity", "1e999", "9" * 5000, '"\\ud800"', "[" * 150 + "]" * 150, "[" * 5000 + "]" * 5000, "{", '"\\x"']

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=6),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
        st.sampled_from(["model", "messages", "input", "role", "content", "type", "text", "choices", "message", "output",
                         "object", "tools", "function", "name", "id", "status", "usage", "response_format", "format"])
        | st.text(max_size=4), inner, max_size=4),
    max_leaves=12,
)


def _paths(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out: list[tuple[Any, ...]] = [path]
    if type(value) is dict:
        for key, item in value.items():
            out += _paths(item, (*path, key))
    elif type(value) is list:
        for i, item in enumerate(value):
            out += _paths(item, (*path, i))
    return out




MARK = "\u0000fuzz\u0000"
OPTIONS = st.sampled_from([[], ["--strict"], ["--compact"], ["--hoist-system", "--default-store"], ["--include-usage"]])


@settings(max_examples=200, deadline=None)
@given(json_values, st.sampled_from(TARGETS), OPTIONS)
def test_any_json_value_as_a_body(value: Any, to: str, options: list[str]) -> None:
    _check_output(run(json.dumps(value).encode(), ["--to", to, *options])[1])


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(BODIES), st.data(), st.sampled_from(BAD_TEXT), st.sampled_from(TARGETS))
def test_a_fixture_body_with_text_json_cannot_carry_anywhere_exits_2(body: Any, data: st.DataObject, text: str, to: str) -> None:
    path = data.draw(st.sampled_from(_paths(body)))
    raw = json.dumps(replaced(body, path, MARK)).replace(json.dumps(MARK), text)
    code, out = run(raw.encode(), ["--to", to])
    assert (code, out) == (2, "")
    _check_output(out)


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=40), st.sampled_from([b"", b'{"model": "m", "input": "', b"data: "]), st.sampled_from(TARGETS))
def test_bytes_that_are_not_json_or_not_utf8(tail: bytes, head: bytes, to: str) -> None:
    _check_output(run(head + tail, ["--to", to])[1])


STREAMS = sorted((ROOT / "fixtures" / "streams").glob("*.sse"))


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(STREAMS), st.integers(0, 10_000), st.sampled_from([*BAD_TEXT, "null", "[]", "{}", '"x"', "-1"]),
       st.sampled_from(TARGETS))
def test_a_fixture_stream_with_one_value_replaced(path: Path, where: int, text: str, to: str) -> None:
    """A value inside one frame replaced in the SSE text itself."""
    raw = path.read_bytes().decode("utf-8")
    frames = raw.split("\n")
    data_lines = [i for i, line in enumerate(frames) if line.startswith("data: {")]
    line = frames[data_lines[where % len(data_lines)]]
    frame = json.loads(line[6:])
    target = _paths(frame)[where % len(_paths(frame))]
    frames[data_lines[where % len(data_lines)]] = "data: " + json.dumps(replaced(frame, target, MARK)).replace(json.dumps(MARK), text)
    _check_output(run("\n".join(frames).encode(), ["--to", to])[1])


# ------------------------------------------------------------------ every field of every body, replaced

REPLACEMENTS: list[Any] = [None, 7, -1.5, "x", True, [], [1], {}, {"a": 1}]


def _mutations() -> list[tuple[int, tuple[Any, ...], int, str]]:
    """A fixed sample (the same every run) of the ~100,000 single-field mutations of the fixture bodies."""
    every = [(b, path, r, to) for b, body in enumerate(BODIES) for path in _paths(body)[1:]
             for r in range(len(REPLACEMENTS)) for to in TARGETS]
    return random.Random(7).sample(every, 400)


def _one_mutation(b: int, path: tuple[Any, ...], r: int, to: str) -> None:
    body = replaced(BODIES[b], path, REPLACEMENTS[r])
    _check_output(run(json.dumps(body).encode(), ["--to", to])[1])


def test_every_single_field_mutation_of_the_sample_exits_0_1_or_2() -> None:
    for mutation in _mutations():
        _one_mutation(*mutation)
    # an unhashable role crashed the engine with a TypeError before its values had types
    _one_mutation(next(i for i, body in enumerate(BODIES) if type(body.get("messages")) is list and body["messages"]),
                  ("messages", 0, "role"), REPLACEMENTS.index([]), "responses")
