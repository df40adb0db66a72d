"""The rule files in ``mappings/`` are well-formed: they validate against ``mappings/schema.json``.

The engine deliberately does not import jsonschema (it would triple the cost of
``import migrator``), so this is the only place a malformed rule is caught
before it misbehaves at run time.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from jsonschema import Draft202012Validator

from migrator.mapping import rules

REPO = Path(__file__).resolve().parent.parent
SOURCE_MAPPINGS = REPO / "mappings"
RULE_FILES = sorted(p.name for p in SOURCE_MAPPINGS.glob("*.json") if p.name != "schema.json")


def _load(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    return _load(SOURCE_MAPPINGS / "schema.json")


@pytest.fixture(scope="module")
def validator(schema: dict[str, Any]) -> Draft202012Validator:
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


def _errors(validator: Draft202012Validator, doc: Any) -> list[str]:
    return [
        f"{'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message}"
        for e in sorted(validator.iter_errors(doc), key=lambda e: list(map(str, e.absolute_path)))
    ]


def _rules(doc: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """(location, rule) for every field rule and value rule of a file."""
    for kind, key in (("tables", "fields"), ("values", "values")):
        for name, table in doc.get(kind, {}).items():
            for field, rule in table.get(key, {}).items():
                yield f"{kind}.{name}.{key}.{field}", rule


# ------------------------------------------------------------------------------ schema


def test_schema_is_a_valid_draft_2020_12_schema(schema: dict[str, Any]) -> None:
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    Draft202012Validator.check_schema(schema)


def test_every_rule_file_is_checked() -> None:
    assert set(RULE_FILES) == {f"{stem}.json" for stem in rules.FILES} | {"models.json", "shapes.json", "replay.json"}


@pytest.mark.parametrize("name", RULE_FILES)
def test_rule_file_validates_against_the_schema(name: str, validator: Draft202012Validator) -> None:
    errors = _errors(validator, _load(SOURCE_MAPPINGS / name))
    assert not errors, f"mappings/{name} does not match mappings/schema.json:\n  " + "\n  ".join(errors)


@pytest.mark.parametrize("name", RULE_FILES)
def test_convert_rules_name_their_converter(name: str) -> None:
    missing = [where for where, rule in _rules(_load(SOURCE_MAPPINGS / name)) if rule["do"] == "convert" and not rule.get("via")]
    assert not missing, f"mappings/{name}: convert rules without `via`: {missing}"


@pytest.mark.parametrize("name", RULE_FILES)
def test_drop_rules_say_what_and_why(name: str) -> None:
    bad = [
        where
        for where, rule in _rules(_load(SOURCE_MAPPINGS / name))
        if rule["do"] == "drop" and (rule.get("kind") not in ("dropped", "unsupported", "approximated") or not rule.get("reason"))
    ]
    assert not bad, f"mappings/{name}: drop rules without kind and reason: {bad}"


def test_a_table_dropped_whole_names_its_drop_and_maps_no_field() -> None:
    """``dropped_whole`` points at the value rule that drops the object (its one loss), and then no
    field of the table poses as a rule of its own: each is an ``omit``."""
    docs = [_load(SOURCE_MAPPINGS / f"{stem}.json") for stem in rules.FILES]
    values = {name: table["values"] for doc in docs for name, table in doc.get("values", {}).items()}
    wholes = {name: table for doc in docs for name, table in doc.get("tables", {}).items() if "dropped_whole" in table}
    assert wholes, "no table is dropped whole: the check would test nothing"
    bad = []
    for name, table in wholes.items():
        values_name, _, value = table["dropped_whole"].rpartition(".")
        if values.get(values_name, {}).get(value, {}).get("do") != "drop":
            bad.append(f"{name}: {table['dropped_whole']} is not a drop rule")
        bad += [f"{name}.{field}: {rule['do']}, not omit" for field, rule in table["fields"].items() if rule["do"] != "omit"]
    assert not bad, bad


@pytest.mark.parametrize("name", RULE_FILES)
def test_table_and_value_names_are_unique_across_files(name: str) -> None:
    """The engine loads all files into one dict of tables and one of value tables; a clash would shadow a table."""
    seen: dict[tuple[str, str], str] = {}
    clashes = []
    for other in RULE_FILES:
        doc = _load(SOURCE_MAPPINGS / other)
        for kind in ("tables", "values"):
            for table in doc.get(kind, {}):
                if (kind, table) in seen:
                    clashes.append(f"{kind}.{table} in {seen[kind, table]} and {other}")
                seen[kind, table] = other
    assert not clashes, clashes


# ----------------------------------------------------------- the package reads these


def test_installed_package_finds_the_same_files() -> None:
    found = rules.mappings_dir()
    assert found.is_dir(), found
    for name in [*RULE_FILES, "schema.json"]:
        assert _load(found / name) == _load(SOURCE_MAPPINGS / name), f"{found / name} differs from mappings/{name}"


def test_loaded_tables_are_the_files_tables() -> None:
    for stem in rules.FILES:
        doc = _load(SOURCE_MAPPINGS / f"{stem}.json")
        for name, table in doc.get("tables", {}).items():
            assert set(rules.TABLES[name]) == set(table["fields"]), name
        for name, table in doc.get("values", {}).items():
            assert set(rules.VALUES[name]) == set(table["values"]), name


# ---------------------------------------------------------- broken files are caught


def _validate_file(path: Path, validator: Draft202012Validator) -> None:
    jsonschema.validate(_load(path), validator.schema, cls=Draft202012Validator)


def _break(tmp_path: Path, mutate: Any) -> Path:
    doc = copy.deepcopy(_load(SOURCE_MAPPINGS / "request.json"))
    mutate(doc)
    path = tmp_path / "request.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("mutate", "names"),
    [
        pytest.param(lambda d: d["tables"]["chat.request"]["fields"]["n"].pop("reason"), ["reason", "n"], id="drop-without-reason"),
        pytest.param(lambda d: d["tables"]["chat.request"]["fields"]["n"].pop("kind"), ["kind", "n"], id="drop-without-kind"),
        pytest.param(lambda d: d["tables"]["chat.request"]["fields"]["tools"].pop("via"), ["via", "tools"], id="convert-without-via"),
        pytest.param(lambda d: d["tables"]["chat.request"]["fields"].__setitem__("seed", {"do": "delete"}), ["seed", "delete"],
                     id="unknown-do"),
        pytest.param(lambda d: d["tables"]["chat.request"]["fields"]["max_completion_tokens"].pop("to"),
                     ["to", "max_completion_tokens"], id="rename-without-to"),
        pytest.param(lambda d: d["tables"]["chat.request"]["fields"]["model"].__setitem__("tto", "x"), ["tto", "model"],
                     id="misspelt-key"),
        pytest.param(lambda d: d["tables"]["chat.request"].__setitem__("sdk", ["openai.types.chat:Not A Class"]), ["sdk"],
                     id="bad-sdk-ref"),
        pytest.param(lambda d: d["tables"]["chat.request"]["fields"]["n"].__setitem__("kind", "lost"), ["kind", "n", "lost"],
                     id="unknown-kind"),
    ],
)
def test_a_broken_rule_file_fails_naming_the_field(
    tmp_path: Path, validator: Draft202012Validator, mutate: Any, names: list[str]
) -> None:
    path = _break(tmp_path, mutate)
    errors = _errors(validator, _load(path))
    assert errors, "the broken file validated"
    text = "\n".join(errors)
    for name in names:
        assert name in text, f"{name!r} not named in:\n{text}"
    with pytest.raises(jsonschema.ValidationError):
        _validate_file(path, validator)
