"""Before/after fixtures for every rule in ``mappings/*.json``.

Each file under ``fixtures/mapping/<direction>/`` holds one case or a list of
cases::

    {"name": "...", "rule": "<table>.<field or value>" | [...], "to": "responses" | "chat",
     "options": {...}, "before": {...}, "after": {...},
     "losses": [{"path": ..., "field": ..., "kind": ...}, ...]}

``after`` is compared exactly (dict equality, JSON types respected: ``1`` is
not ``1.0`` is not ``true``), except for two kinds of placeholder:

* ``"<id:PREFIX>"``: any string that starts with ``PREFIX`` (a minted id);
  ``"<id:PREFIX#label>"`` also binds ``label``: every placeholder with the same
  label must be the same string, and different labels different strings (so a
  minted call_id is shown to be the one the answering output uses).
* ``"<time>"``: a ``created``/``created_at`` the engine took from the clock
  because the input had none.

Losses compare on path, field and kind, as a multiset; the reason is free
text. A case with ``"error": [paths]`` expects a ``MappingError`` whose
problems are at exactly those paths; ``"raises": "StrictModeError"`` expects
strict mode to refuse, listing ``losses``. A case with ``"xfail": "<why>"`` is
a known engine bug: it must fail (strictly: once the engine is fixed, the mark
has to go).

Every output is also checked against the SDK types (``tests/sdk_shapes.py``):
requests strictly, results with ``check_result``, error bodies as
``ErrorObject``.
"""

from __future__ import annotations

import copy
import json
import re
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from openai.types.shared import ErrorObject

from migrator import MappingError, StrictModeError, translate
from tests.sdk_shapes import check_request, check_result

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures" / "mapping"
MAPPINGS = ROOT / "mappings"

#: directory → (source kind, target kind) that ``translate`` must report.
DIRECTIONS: dict[str, tuple[str, str] | None] = {
    "chat_to_responses": ("chat.request", "responses.request"),
    "responses_to_chat": ("responses.request", "chat.request"),
    "completion_to_response": ("chat.completion", "response"),
    "response_to_completion": ("response", "chat.completion"),
    "passthrough": None,  # source == target
    "errors": None,  # no translation: MappingError / StrictModeError
}

CASE_KEYS = frozenset(
    {"name", "rule", "to", "options", "before", "after", "losses", "error", "raises", "xfail", "target", "allow_extra"}
)

#: Rules no fixture names, each with the reason it cannot have one. Empty: every rule of
#: mappings/ (and both model lists) has at least one case; keep it that way when adding rules.
UNCOVERED: dict[str, str] = {}

_ID = re.compile(r"<id:([A-Za-z_-]+?)(?:#(\w+))?>")
_TIME = "<time>"
_CLOCK_SLACK = 5.0


# ------------------------------------------------------------------------- loading


def _load_cases() -> list[Any]:
    params = []
    for path in sorted(FIXTURES.rglob("*.json")):
        rel = path.relative_to(FIXTURES)
        data = json.loads(path.read_text(encoding="utf-8"))
        for case in data if isinstance(data, list) else [data]:
            case_id = f"{rel.with_suffix('')}/{case.get('name', '?')}"
            params.append(pytest.param(rel.parts[0], case, id=case_id))
    return params


CASES = _load_cases()


def _rules_named(case: dict[str, Any]) -> list[str]:
    rule = case.get("rule", [])
    return [rule] if isinstance(rule, str) else list(rule)


def _all_rules() -> set[str]:
    """Every ``<table>.<field>`` and ``<value table>.<value>`` of mappings/, plus the model lists."""
    rules: set[str] = set()
    for path in sorted(MAPPINGS.glob("*.json")):
        if path.name == "schema.json":
            continue
        raw = json.loads(path.read_text(encoding="utf-8"))
        for name, table in raw.get("tables", {}).items():
            rules.update(f"{name}.{field}" for field in table["fields"])
        for name, table in raw.get("values", {}).items():
            rules.update(f"{name}.{value}" for value in table["values"])
        for key in ("responses_only", "chat_only"):
            if key in raw:
                rules.add(f"models.{key}")
    return rules


# ---------------------------------------------------------------------- comparing


class _Matcher:
    """Compares an expected body (with placeholders) to an actual one, collecting every difference."""

    def __init__(self, t0: float, t1: float) -> None:
        self.t0, self.t1 = t0, t1
        self.bound: dict[str, str] = {}
        self.problems: list[str] = []

    def match(self, expected: Any, actual: Any, path: str = "$") -> None:
        if isinstance(expected, str):
            m = _ID.fullmatch(expected)
            if m:
                self._match_id(m.group(1), m.group(2), actual, path)
                return
            if expected == _TIME:
                ok = type(actual) in (int, float) and self.t0 - _CLOCK_SLACK <= actual <= self.t1 + _CLOCK_SLACK
                if not ok:
                    self.problems.append(f"{path}: expected the current time, found {actual!r}")
                return
        if type(expected) is not type(actual):
            self.problems.append(f"{path}: expected {expected!r}, found {actual!r}")
        elif isinstance(expected, dict):
            for key in expected.keys() - actual.keys():
                self.problems.append(f"{path}.{key}: missing (expected {expected[key]!r})")
            for key in actual.keys() - expected.keys():
                self.problems.append(f"{path}.{key}: unexpected key (found {actual[key]!r})")
            for key in expected.keys() & actual.keys():
                self.match(expected[key], actual[key], f"{path}.{key}")
        elif isinstance(expected, list):
            if len(expected) != len(actual):
                self.problems.append(f"{path}: expected {len(expected)} items, found {len(actual)}: {actual!r}")
            for i, (e, a) in enumerate(zip(expected, actual, strict=False)):
                self.match(e, a, f"{path}[{i}]")
        elif expected != actual:
            self.problems.append(f"{path}: expected {expected!r}, found {actual!r}")

    def _match_id(self, prefix: str, label: str | None, actual: Any, path: str) -> None:
        if not (isinstance(actual, str) and actual.startswith(prefix) and len(actual) > len(prefix)):
            self.problems.append(f"{path}: expected a minted id {prefix}…, found {actual!r}")
            return
        if label is None:
            return
        key = f"{prefix}#{label}"
        if key in self.bound:
            if self.bound[key] != actual:
                self.problems.append(f"{path}: expected the same id as <id:{key}> ({self.bound[key]!r}), found {actual!r}")
            return
        for other, value in self.bound.items():
            if value == actual:
                self.problems.append(f"{path}: <id:{key}> is {actual!r}, the same as <id:{other}>")
        self.bound[key] = actual


def _loss_keys(losses: list[Any]) -> Counter[tuple[str, str, str]]:
    out: Counter[tuple[str, str, str]] = Counter()
    for loss in losses:
        d = loss if isinstance(loss, dict) else loss.as_dict()
        out[(d["path"], d["field"], d["kind"])] += 1
    return out


def _loss_problems(expected: list[dict[str, str]], actual: list[Any]) -> list[str]:
    want, got = _loss_keys(expected), _loss_keys(actual)
    problems = [f"loss missing: {k}" for k in sorted((want - got).elements())]
    problems += [f"unexpected loss: {k}" for k in sorted((got - want).elements())]
    return problems


def _validate(body: dict[str, Any], target: str, allow_extra: frozenset[str]) -> None:
    if target == "chat.request":
        check_request(body, "chat")
    elif target == "responses.request":
        check_request(body, "responses")
    elif target == "chat.completion":
        check_result(body, "chat", allow_extra=allow_extra)
    elif target == "response":
        check_result(body, "responses", allow_extra=allow_extra)
    elif target == "error":
        assert list(body) == ["error"], f"an error body has the one key 'error', found {list(body)}"
        extra = body["error"].keys() - ErrorObject.model_fields.keys()
        assert not extra, f"unknown keys in the error object: {sorted(extra)}"
        ErrorObject.model_validate(body["error"], strict=True)
    else:  # pragma: no cover - a fixture bug
        raise AssertionError(f"unknown target kind {target!r}")


# -------------------------------------------------------------------------- tests


def _run_case(direction: str, case: dict[str, Any]) -> list[str]:
    """Every difference between the case and what the engine does (empty when it passes)."""
    before = case["before"]
    pristine = copy.deepcopy(before)
    options = case.get("options", {})
    problems: list[str] = []

    if "error" in case or "raises" in case:
        try:
            translate(before, case["to"], **options)
        except MappingError as exc:
            if "error" not in case:
                return [f"expected {case['raises']}, got MappingError: {exc}"]
            got = sorted(p.path for p in exc.problems)
            if got != sorted(case["error"]):
                problems.append(f"problem paths: expected {sorted(case['error'])}, found {got}\n{exc}")
        except StrictModeError as exc:
            if case.get("raises") != "StrictModeError":
                return [f"expected a MappingError, got StrictModeError: {exc}"]
            problems += _loss_problems(case.get("losses", []), exc.losses)
        else:
            problems.append("expected the translation to fail, it succeeded")
        if before != pristine:
            problems.append("translate modified its input")
        return problems

    t0 = time.time()
    result = translate(before, case["to"], **options)
    t1 = time.time()
    if before != pristine:
        problems.append("translate modified its input")

    expected_kinds = DIRECTIONS[direction]
    if expected_kinds is not None:
        source, target = expected_kinds
        target = case.get("target", target)
        if (result.source, result.target) != (source, target):
            problems.append(f"kinds: expected {source} → {target}, found {result.source} → {result.target}")
    elif result.source != result.target:
        problems.append(f"a passthrough must keep its kind, found {result.source} → {result.target}")

    matcher = _Matcher(t0, t1)
    matcher.match(case["after"], result.body)
    problems += matcher.problems
    problems += _loss_problems(case.get("losses", []), result.losses)

    if _TIME not in json.dumps(case["after"]):
        again = translate(copy.deepcopy(pristine), case["to"], **options)
        if again.body != result.body:
            problems.append("translating the same body twice gave different results (ids must be deterministic)")

    try:
        _validate(result.body, result.target, frozenset(case.get("allow_extra", ())))
    except AssertionError as exc:
        problems.append(f"the output does not match the SDK types: {exc}")
    return problems


@pytest.mark.parametrize(("direction", "case"), CASES)
def test_fixture(direction: str, case: dict[str, Any]) -> None:
    problems = _run_case(direction, case)
    if "xfail" in case:
        if problems:
            pytest.xfail(case["xfail"])
        pytest.fail(f"XPASS: the engine now does what this fixture expects; remove its xfail ({case['xfail']})")
    assert not problems, "\n".join(problems)


def test_fixture_files_are_well_formed() -> None:
    assert CASES, f"no fixtures found under {FIXTURES}"
    names: Counter[str] = Counter()
    for param in CASES:
        direction, case = param.values
        where = param.id
        assert direction in DIRECTIONS, f"{where}: unknown fixture directory {direction!r}"
        assert not case.keys() - CASE_KEYS, f"{where}: unknown case keys {sorted(case.keys() - CASE_KEYS)}"
        assert {"name", "rule", "to", "before"} <= case.keys(), f"{where}: name, rule, to and before are required"
        assert case["to"] in ("chat", "responses"), f"{where}: to must be chat or responses"
        fails = "error" in case or "raises" in case
        assert fails == (direction == "errors"), f"{where}: failing cases live in errors/, and only they"
        assert fails or "after" in case, f"{where}: a case needs an after (or an error)"
        names[param.id] += 1
    dupes = [n for n, c in names.items() if c > 1]
    assert not dupes, f"case names must be unique within a file: {dupes}"


def test_every_rule_has_a_fixture() -> None:
    """A rule added to mappings/ needs a fixture (or an entry in UNCOVERED saying why not)."""
    known = _all_rules()
    named: set[str] = set()
    for param in CASES:
        named.update(_rules_named(param.values[1]))
    unknown = sorted(named - known)
    assert not unknown, f"fixtures name rules that mappings/ does not have: {unknown}"
    stale = sorted(set(UNCOVERED) & named)
    assert not stale, f"rules in UNCOVERED now have a fixture; remove them from the list: {stale}"
    missing = sorted(known - named - set(UNCOVERED))
    assert not missing, f"{len(missing)} rules have no fixture: {missing}"
