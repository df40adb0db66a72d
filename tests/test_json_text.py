"""JSON text as the API reads it: what Python's json accepts but JSON cannot carry is a
MappingError naming the JSON path; syntax errors stay json.JSONDecodeError; valid JSON reads as before."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from migrator.mapping import json_text
from migrator.mapping.context import child
from migrator.mapping.errors import MappingError

FAST = settings(max_examples=150, deadline=None)


def problem(raw: bytes | str) -> tuple[str, str, str]:
    with pytest.raises(MappingError) as exc:
        json_text.loads(raw)
    assert len(exc.value.problems) == 1
    p = exc.value.problems[0]
    return p.path, p.expected, p.found


# ------------------------------------------------------------------ each refusal, with its path

@pytest.mark.parametrize(("raw", "path", "found"), [
    ('{"a": [1, NaN]}', "$.a[1]", "NaN"),
    ('{"t": Infinity}', "$.t", "Infinity"),
    ('[-Infinity]', "$[0]", "-Infinity"),
    ("NaN", "$", "NaN"),
])
def test_nan_and_infinity_are_not_json(raw: str, path: str, found: str) -> None:
    assert problem(raw) == (path, "a finite number (NaN and Infinity are not JSON)", found)


def test_a_nan_inside_a_string_is_text() -> None:
    assert json_text.loads('{"a": "NaN Infinity"}') == {"a": "NaN Infinity"}


@pytest.mark.parametrize(("raw", "path"), [
    ('"\\ud800"', "$"),
    ('{"a": ["x", "\\udfff"]}', "$.a[1]"),
    ('{"a": "ok \\uDBFF"}', "$.a"),  # upper-case hex
    ('{"a": "\\udc00\\ud800"}', "$.a"),  # a low surrogate before a high one is no pair
    ('{"a": {"\\ud800": 1}}', "$.a"),  # in a key: the object holding it
])
@pytest.mark.parametrize("as_bytes", [False, True])
def test_a_lone_surrogate_escape_is_refused(raw: str, path: str, as_bytes: bool) -> None:
    got = problem(raw.encode() if as_bytes else raw)
    assert got[0] == path and got[1].startswith("valid Unicode text")


def test_a_raw_surrogate_is_refused_in_text_and_in_bytes() -> None:
    """Not an escape: a surrogate character in a str, or its CESU-8 bytes (json decodes bytes with surrogatepass)."""
    assert problem('{"a": "x\ud800"}')[0] == "$.a"
    assert problem(b'{"a": ["\xed\xa0\x80"]}')[0] == "$.a[0]"


@pytest.mark.parametrize("raw", ['"\\ud83d\\ude00"', '"\\\\ud800"', '"caf\u00e9 \U0001f600"', b'"\xed\x9f\xbf"', '"\\ud7ff\\ue000"'])
def test_pairs_escaped_backslashes_and_neighbours_of_the_surrogate_range_read(raw: bytes | str) -> None:
    value = json_text.loads(raw)
    assert value == json.loads(raw)


def test_bytes_that_are_not_utf8_are_a_problem_not_a_crash() -> None:
    assert problem(b'{"a": "\xff"}') == ("$", "UTF-8 text", "bytes that are not UTF-8")


def test_integers_up_to_python_s_limit_read_and_longer_ones_name_their_path() -> None:
    limit = json_text.MAX_INT_DIGITS
    assert json_text.loads("[" + "9" * limit + "]") == [int("9" * limit)]
    assert json_text.loads("-" + "9" * limit) == -int("9" * limit)
    assert problem('{"a": {"b": [0, ' + "9" * (limit + 1) + "]}}") == (
        "$.a.b[1]", f"an integer of at most {limit} digits", "a longer integer")
    assert problem("-" + "1" * 5000)[0] == "$"


def _nested(levels: int, inner: str = "") -> str:
    return "[" * levels + inner + "]" * levels


def test_depth_100_reads_and_101_is_refused_at_the_first_container_too_deep() -> None:
    assert json_text.loads(_nested(json_text.MAX_DEPTH, "1"))
    assert json_text.loads('{"a": ' * 100 + "0" + "}" * 100)
    path, expected, _ = problem(_nested(json_text.MAX_DEPTH + 1))  # the innermost container is empty
    assert path == "$" + "[0]" * json_text.MAX_DEPTH and expected == "JSON nested at most 100 levels deep"
    path, _, _ = problem('{"x": 1, "a": ' * 101 + "{}" + "}" * 101)
    assert path == "$" + ".a" * json_text.MAX_DEPTH


@pytest.mark.parametrize("levels", [1_000, 100_000])
def test_nesting_past_the_recursion_limit_is_a_problem_not_a_recursion_error(levels: int) -> None:
    path, expected, _ = problem('{"input": ' + _nested(levels) + "}")
    assert path == "$" and "100 levels" in expected


def test_brackets_inside_strings_do_not_count_as_nesting() -> None:
    assert json_text.loads(json.dumps({"a": "[" * 500 + "{" * 500})) == {"a": "[" * 500 + "{" * 500}


@pytest.mark.parametrize("raw", ["", "{", '{"a": }', "[1,]", "\ufeff{}", "{'a': 1}"])
def test_syntax_errors_stay_json_decode_errors(raw: str) -> None:
    with pytest.raises(json.JSONDecodeError):
        json_text.loads(raw)


def test_check_applies_the_same_rules_to_a_parsed_value() -> None:
    deep: Any = []
    for _ in range(json_text.MAX_DEPTH):
        deep = [deep]
    with pytest.raises(MappingError) as exc:
        json_text.check({"a": deep})
    assert exc.value.problems[0].path == "$.a" + "[0]" * (json_text.MAX_DEPTH - 1)
    with pytest.raises(MappingError) as exc:
        json_text.check({"a": ["\udfff", "ok", "\ud800"]})
    assert [p.path for p in exc.value.problems] == ["$.a[0]", "$.a[2]"]  # every bad string, in one pass
    json_text.check({"a": ["ok", 1, None, {"b": 2.5}]})


def test_nonfinite_finds_the_infinity_that_1e999_reads_as() -> None:
    value = json_text.loads('{"a": [1, {"b": 1e999}], "c": -1E+400}')
    assert json_text.nonfinite(value) == "$.a[1].b"
    assert json_text.nonfinite({"c": float("nan")}) == "$.c"
    assert json_text.nonfinite({"a": [1.5, 10**400, "inf"]}) is None


# ------------------------------------------------------------------ generated JSON

text = st.text(max_size=8)  # hypothesis leaves out surrogates: every string here is valid Unicode
scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | text
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(text, inner, max_size=3),
                      max_leaves=12)


@FAST
@given(values, st.booleans(), st.booleans())
def test_every_valid_json_value_reads_as_json_reads_it(value: Any, ascii_only: bool, as_bytes: bool) -> None:
    raw = json.dumps(value, ensure_ascii=ascii_only)
    assert json_text.loads(raw.encode() if as_bytes else raw) == json.loads(raw)


def _paths(value: Any, path: str = "$", depth: int = 0) -> list[tuple[str, int]]:
    out = [(path, depth)]
    if type(value) is dict:
        for key, item in value.items():
            out += _paths(item, child(path, key), depth + 1)
    elif type(value) is list:
        for i, item in enumerate(value):
            out += _paths(item, f"{path}[{i}]", depth + 1)
    return out


def _replace(value: Any, path: str, new: Any, here: str = "$") -> Any:
    if here == path:
        return new
    if type(value) is dict:
        return {k: _replace(v, path, new, child(here, k)) for k, v in value.items()}
    if type(value) is list:
        return [_replace(v, path, new, f"{here}[{i}]") for i, v in enumerate(value)]
    return value


MARK = "\x00mark\x00"
BAD = {  # the text put in place of a value, and what the problem must say
    "NaN": ("NaN", "a finite number"),
    "-Infinity": ("-Infinity", "a finite number"),
    "surrogate": ('"\\udbff"', "valid Unicode text"),
    "long integer": ("1" * 4301, "an integer of at most"),
    "too deep": (_nested(101), "JSON nested at most 100 levels"),
}


@FAST
@given(values.filter(lambda v: MARK not in json.dumps(v)), st.data(), st.sampled_from(sorted(BAD)), st.booleans())
def test_a_bad_value_anywhere_is_reported_at_its_path(value: Any, data: st.DataObject, kind: str, as_bytes: bool) -> None:
    path, depth = data.draw(st.sampled_from(_paths(value)))
    inserted, expected = BAD[kind]
    raw = json.dumps(_replace(value, path, MARK)).replace(json.dumps(MARK), inserted)
    with pytest.raises(MappingError) as exc:
        json_text.loads(raw.encode() if as_bytes else raw)
    (found,) = exc.value.problems
    assert found.expected.startswith(expected)
    if kind == "too deep":  # the first container past level 100, inside the inserted nesting
        assert found.path == path + "[0]" * (json_text.MAX_DEPTH - depth)
    else:
        assert found.path == path
