"""Fuzzing the engine: whatever the body, ``translate`` returns a Translation or raises MappingError.

Arbitrary JSON (with the keys the tables know, so the converters are reached),
and the fixtures' bodies with one value replaced by anything (null, booleans,
huge integers, floats, lone surrogates, lists, objects, nesting hundreds of
levels deep), go through ``translate`` in both directions, for every body kind,
with and without ``request=`` and ``strict``. No other exception may escape: a
traceback is never the answer to bad input. The sizes are bounded so the
whole file runs in a few seconds.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from migrator import MappingError, StrictModeError, translate
from migrator.mapping.translate import Translation
from tests.mutations import replaced

pytestmark = pytest.mark.slow  # fuzzing: arbitrary input for robustness, the bulk of the suite's time

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures" / "mapping"
# MIGRATOR_FUZZ_EXAMPLES raises the bound for a longer hunt; CI runs the default.
SETTINGS = settings(max_examples=int(os.environ.get("MIGRATOR_FUZZ_EXAMPLES", "150")), deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def _known_keys() -> list[str]:
    """Every field and value name of the tables, so generated objects reach the converters."""
    names: set[str] = {"object", "type", "role", "content", "id", "call_id", "status", "text", "name", "arguments"}
    for path in sorted((ROOT / "mappings").glob("*.json")):
        if path.name == "schema.json":
            continue
        raw = json.loads(path.read_text(encoding="utf-8"))
        for table in raw.get("tables", {}).values():
            names.update(table["fields"])
        for table in raw.get("values", {}).values():
            names.update(table["values"])
    return sorted(names)


KEYS = _known_keys()
STRANGE_STRINGS = ["\ud800", "\udfff", "", "\x00", "a\u2028b", "💥" * 3, "x" * 300, "$.messages[0]", "'\"\\"]


def _bodies() -> list[tuple[dict[str, Any], str, dict[str, Any]]]:
    out = []
    for path in sorted(FIXTURES.rglob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        for case in data if isinstance(data, list) else [data]:
            out.append((case["before"], case["to"], case.get("options", {})))
    return out


BODIES = _bodies()
REQUESTS = [b for b, _, _ in BODIES if "messages" in b or "input" in b][:40]

scalars = st.one_of(
    st.none(), st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.sampled_from([10**40, -(10**40), 2**63, 10**300]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12), st.sampled_from(STRANGE_STRINGS), st.sampled_from(KEYS),
)
keys = st.one_of(st.sampled_from(KEYS), st.text(max_size=6), st.sampled_from(STRANGE_STRINGS))
json_values = st.recursive(
    scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(keys, inner, max_size=5), max_leaves=24,
)


def deep(depth: int, leaf: Any = "x", as_list: bool = True) -> Any:
    value = leaf
    for _ in range(depth):
        value = [value] if as_list else {"content": value}
    return value


values = st.one_of(
    json_values,
    st.builds(deep, st.integers(min_value=50, max_value=300), scalars, st.booleans()),
)


def check(body: Any, to: str, **options: Any) -> None:
    """The contract: a Translation, or MappingError (or StrictModeError in strict mode); nothing else."""
    try:
        result = translate(body, to, **options)  # type: ignore[arg-type]
    except MappingError as exc:
        assert exc.problems, "a MappingError lists its problems"
        str(exc)  # renders, whatever the values
        return
    except StrictModeError:
        assert options.get("strict"), "StrictModeError only in strict mode"
        return
    assert isinstance(result, Translation)
    assert isinstance(result.body, dict)


def _paths(value: Any, keys: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out: list[tuple[Any, ...]] = []
    if isinstance(value, dict):
        for k, v in value.items():
            out.append((*keys, k))
            out.extend(_paths(v, (*keys, k)))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out.append((*keys, i))
            out.extend(_paths(v, (*keys, i)))
    return out




@SETTINGS
@given(body=st.dictionaries(st.sampled_from(KEYS), json_values, max_size=8), to=st.sampled_from(["chat", "responses"]),
       strict=st.booleans())
def test_arbitrary_objects(body: dict[str, Any], to: str, strict: bool) -> None:
    check(body, to, strict=strict)


@SETTINGS
@given(body=json_values, to=st.sampled_from(["chat", "responses"]))
def test_arbitrary_json_values(body: Any, to: str) -> None:
    check(body, to)


@SETTINGS
@given(data=st.data(), case=st.sampled_from(BODIES), value=values, flip=st.booleans(), strict=st.booleans())
def test_fixture_mutations(data: st.DataObject, case: tuple[dict[str, Any], str, dict[str, Any]], value: Any,
                           flip: bool, strict: bool) -> None:
    """One value of a fixture body replaced; both directions (the other one validates the native body)."""
    before, to, options = case
    paths = _paths(before)
    keys = data.draw(st.sampled_from(paths)) if paths else None
    body = replaced(before, keys, value) if keys else before
    target = ("chat" if to == "responses" else "responses") if flip else to
    opts = {k: v for k, v in options.items() if k != "strict"}
    check(body, target, strict=strict, **opts)


@SETTINGS
@given(case=st.sampled_from([b for b in BODIES if "choices" in b[0]]), request_=st.one_of(
    json_values, st.sampled_from(REQUESTS),
    st.builds(lambda r, k, v: replaced(r, k, v) if k else r, st.sampled_from(REQUESTS), st.just(()), values),
))
def test_completions_with_any_request(case: tuple[dict[str, Any], str, dict[str, Any]], request_: Any) -> None:
    check(case[0], "responses", request=request_)


@SETTINGS
@given(data=st.data(), request_=st.sampled_from(REQUESTS), value=values)
def test_completions_with_a_mutated_request(data: st.DataObject, request_: dict[str, Any], value: Any) -> None:
    completion = next(b for b, _, _ in BODIES if "choices" in b)
    keys = data.draw(st.sampled_from(_paths(request_)))
    check(completion, "responses", request=replaced(request_, keys, value))


@pytest.mark.parametrize("depth", [1_000, 100_000])
@pytest.mark.parametrize("as_list", [True, False])
def test_nesting_far_deeper_than_the_recursion_limit(depth: int, as_list: bool) -> None:
    """Every top-level value of one body of each kind replaced by a structure nested ``depth`` levels deep."""
    nested = deep(depth, "x", as_list)
    kinds = {}
    for before, to, options in BODIES:
        kind = "messages" if "messages" in before else "input" if "input" in before else "choices" if "choices" in before \
            else "output"
        kinds.setdefault(kind, (before, to, options))
    for before, to, options in kinds.values():
        opts = {k: v for k, v in options.items() if k != "strict"}
        for key in before:
            for target in ("chat", "responses"):
                check({**before, key: nested}, target, **opts)
        check({**before, "model": "m", "messages" if "messages" in before else "input": [nested]}, to, **opts)
    completion = kinds["choices"][0]
    check(completion, "responses", request={"model": "m", "messages": nested})


@pytest.mark.parametrize("value", [math.nan, math.inf, 10**5000, "\ud800", {"\ud800": 1}], ids=["nan", "inf", "huge", "surrogate", "surrogate-key"])
def test_values_that_are_not_plain_json(value: Any) -> None:
    """NaN, infinities, huge integers and lone surrogates can reach the engine from Python callers."""
    for before, to, options in BODIES[:: max(1, len(BODIES) // 40)]:
        for keys in _paths(before)[:30]:
            check(replaced(before, keys, value), to, **{k: v for k, v in options.items() if k != "strict"})
