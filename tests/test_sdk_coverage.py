"""Every parameter and field of the installed ``openai`` SDK's types appears in some table.

The rule tables in ``mappings/`` name the SDK types they cover (``sdk``). This
test resolves each of those names against the installed SDK and fails when

* a name does not resolve (wrong module, class or attribute),
* a field of a named type has no rule in its table (a new SDK parameter that
  the engine would report as unknown instead of translating),
* a rule names a field that none of the table's SDK types has and that the
  table does not declare in ``extra_fields`` (a stale rule),
* a literal value of a named enum-like field has no rule in its value table,
* a top-level ``create`` parameter of either endpoint has no rule,
* a rule's target (``to``) is not a field path (for a value, a literal) of the target
  SDK types its table names (``target_sdk``).

So upgrading the SDK pin turns every API addition into a failing test that
names the table and the field.
"""

from __future__ import annotations

import collections.abc
import copy
import importlib
import json
import types
import typing
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from typing import Any

import pydantic
import pytest
import typing_extensions

from migrator.mapping.rules import FILES, mappings_dir

# ----------------------------------------------------------------------------- loading


@dataclass(frozen=True)
class Entry:
    file: str
    kind: str  # "tables" or "values"
    name: str
    sdk: tuple[str, ...]
    keys: frozenset[str]  # the table's fields, or the value table's values
    extra: frozenset[str]


def _entries() -> list[Entry]:
    out: list[Entry] = []
    for stem in FILES:
        raw = json.loads((mappings_dir() / f"{stem}.json").read_text(encoding="utf-8"))
        for name, t in raw.get("tables", {}).items():
            out.append(Entry(stem, "tables", name, tuple(t["sdk"]), frozenset(t["fields"]), frozenset(t.get("extra_fields", ()))))
        for name, t in raw.get("values", {}).items():
            out.append(Entry(stem, "values", name, tuple(t["sdk"]), frozenset(t["values"]), frozenset()))
    return out


ENTRIES = _entries()
TABLES = [e for e in ENTRIES if e.kind == "tables"]
VALUE_TABLES = [e for e in ENTRIES if e.kind == "values"]
TABLE_BY_NAME = {e.name: e for e in TABLES}


def _ids(entries: list[Entry]) -> list[str]:
    return [f"{e.file}:{e.name}" for e in entries]


# --------------------------------------------------------------------------- resolving


class Unresolved(LookupError):
    """An ``sdk`` reference that names nothing in the installed SDK."""


_UNION = frozenset({typing.Union, types.UnionType})
_SEQUENCE = frozenset({list, tuple, set, frozenset, collections.abc.Iterable, collections.abc.Sequence,
                       collections.abc.Collection, collections.abc.MutableSequence})
_WRAPPERS = frozenset({typing.Required, typing.NotRequired, typing_extensions.Required, typing_extensions.NotRequired,
                       typing_extensions.ReadOnly, typing.Annotated})
_ALIAS_TYPES = tuple({t for t in (getattr(typing, "TypeAliasType", None), typing_extensions.TypeAliasType) if isinstance(t, type)})


def alternatives(tp: Any) -> Iterator[Any]:
    """Each alternative of a type, with aliases, Annotated/Required wrappers and unions peeled off."""
    if _ALIAS_TYPES and isinstance(tp, _ALIAS_TYPES):
        yield from alternatives(tp.__value__)
        return
    origin = typing.get_origin(tp)
    if origin in _WRAPPERS:
        yield from alternatives(typing.get_args(tp)[0])
    elif origin in _UNION:
        for arg in typing.get_args(tp):
            yield from alternatives(arg)
    else:
        yield tp


def members(tp: Any) -> list[Any]:
    """The leaves of a type: unions, Optional, lists/iterables, Annotated and Required peeled off."""
    out: list[Any] = []
    for t in alternatives(tp):
        if typing.get_origin(t) in _SEQUENCE:
            args = typing.get_args(t)
            out.extend(m for m in (members(args[0]) if args else []) if m not in out)
        elif t not in out:
            out.append(t)
    return out


def is_record(tp: Any) -> bool:
    return typing_extensions.is_typeddict(tp) or (isinstance(tp, type) and issubclass(tp, pydantic.BaseModel))


@dataclass(frozen=True)
class Field:
    wire: str  # the key on the wire (a pydantic alias such as ``async``)
    attr: str  # the Python name (``async_``), which ``model_dump()`` without by_alias writes
    annotation: Any


@cache
def record_fields(tp: Any) -> dict[str, Field]:
    """Wire key → field of one TypedDict (functional syntax too: ``async``) or pydantic model."""
    if typing_extensions.is_typeddict(tp):
        return {k: Field(k, k, v) for k, v in typing.get_type_hints(tp, include_extras=True).items()}
    tp.model_rebuild()
    out: dict[str, Field] = {}
    for name, info in tp.model_fields.items():
        wire = info.validation_alias if isinstance(info.validation_alias, str) else (info.alias or name)
        out[wire] = Field(wire, name, info.annotation)
    return out


def resolve_root(ref: str) -> tuple[Any, list[str]]:
    """``module:Class.a.b`` → (the class or type alias, [a, b])."""
    module_name, sep, rest = ref.partition(":")
    if not sep or not rest:
        raise Unresolved(f"{ref!r}: expected 'module:Class[.attr...]'")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise Unresolved(f"{ref!r}: module {module_name!r} does not import ({exc})") from None
    cls_name, *attrs = rest.split(".")
    if not hasattr(module, cls_name):
        raise Unresolved(f"{ref!r}: module {module_name!r} has no {cls_name!r}")
    return getattr(module, cls_name), attrs


def resolve_fields(ref: str) -> dict[str, Field]:
    """The fields of the record type (or union of record types) that ``ref`` names."""
    tp, attrs = resolve_root(ref)
    if attrs:
        raise Unresolved(f"{ref!r}: a table's sdk entry names a type ('module:Class'), not a field")
    records = [m for m in members(tp) if is_record(m)]
    if not records:
        raise Unresolved(f"{ref!r}: {tp!r} is neither a TypedDict nor a pydantic model (nor a union of them)")
    fields: dict[str, Field] = {}
    for record in records:
        for wire, field in record_fields(record).items():
            fields.setdefault(wire, field)
    return fields


def resolve_literals(ref: str) -> set[Any]:
    """The literal values of the field that ``module:Class.attr[.attr...]`` names.

    Each step looks the attribute up in every record member of the current type
    (a union of TypedDicts/models, possibly inside Optional/List/Iterable); at
    the last step, plain ``Literal`` members of the parent union count too, so
    ``tool_choice.type`` covers ``"none" | "auto" | "required"`` as well as the
    ``type`` of each object form.
    """
    tp, attrs = resolve_root(ref)
    if not attrs:
        raise Unresolved(f"{ref!r}: a value table's sdk entry names a field ('module:Class.attr'), not a type")
    current: list[Any] = [tp]
    values: set[Any] = set()
    for i, attr in enumerate(attrs):
        last = i == len(attrs) - 1
        nxt: list[Any] = []
        for t in current:
            for m in members(t):
                if is_record(m):
                    field = record_fields(m).get(attr)
                    if field is None:
                        # pydantic Python names (``async_``) resolve too
                        field = next((f for f in record_fields(m).values() if f.attr == attr), None)
                    if field is not None:
                        nxt.append(field.annotation)
                elif last and typing.get_origin(m) is typing.Literal:
                    values.update(typing.get_args(m))
        if not nxt:
            where = ".".join(attrs[:i]) or "the class"
            raise Unresolved(f"{ref!r}: no member of {where} has a field {attr!r}")
        current = nxt
    for t in current:
        for m in members(t):
            if typing.get_origin(m) is typing.Literal:
                values.update(typing.get_args(m))
    values.discard(None)
    if not values:
        shown = ", ".join(sorted({getattr(m, "__name__", repr(m)) for t in current for m in members(t)}))
        raise Unresolved(f"{ref!r}: not a Literal-typed field (its type is {shown})")
    return values


# -------------------------------------------------------------------------------- tests


def _all_refs() -> list[tuple[Entry, str]]:
    return [(e, ref) for e in ENTRIES for ref in e.sdk]


def test_every_sdk_reference_resolves() -> None:
    """One list of every reference in mappings/ that names nothing in the installed SDK."""
    broken: list[str] = []
    for entry, ref in _all_refs():
        try:
            if entry.kind == "tables":
                resolve_fields(ref)
            else:
                resolve_literals(ref)
        except Unresolved as exc:
            broken.append(f"{entry.file}.json {entry.kind}.{entry.name}: {exc}")
    assert not broken, "sdk references in mappings/ that do not resolve:\n  " + "\n  ".join(broken)


@pytest.mark.parametrize("entry", TABLES, ids=_ids(TABLES))
def test_table_covers_every_sdk_field(entry: Entry) -> None:
    missing: dict[str, list[str]] = {}
    for ref in entry.sdk:
        try:
            fields = resolve_fields(ref)
        except Unresolved as exc:
            pytest.fail(f"{entry.file}.json table {entry.name!r}: {exc}")
        absent = sorted(set(fields) - entry.keys)
        if absent:
            missing[ref] = absent
    assert not missing, (
        f"{entry.file}.json table {entry.name!r} has no rule for these SDK fields:\n  "
        + "\n  ".join(f"{ref}: {', '.join(keys)}" for ref, keys in missing.items())
    )


@pytest.mark.parametrize("entry", TABLES, ids=_ids(TABLES))
def test_table_has_no_stale_fields(entry: Entry) -> None:
    """A rule for a field that none of the table's SDK types has (and is not an extra) is stale.

    Tables that merge several SDK types (a tool and its nested function
    definition) are checked against the union of their fields.
    """
    known: set[str] = set(entry.extra)
    for ref in entry.sdk:
        try:
            fields = resolve_fields(ref)
        except Unresolved as exc:
            pytest.fail(f"{entry.file}.json table {entry.name!r}: {exc}")
        known.update(fields)
        # A pydantic field's Python name (``async_``) is what ``model_dump()`` writes
        # without by_alias, so a rule for it reads SDK objects dumped that way.
        known.update(f.attr for f in fields.values())
    stale = sorted(entry.keys - known)
    assert not stale, (
        f"{entry.file}.json table {entry.name!r} has rules for fields that none of {list(entry.sdk)} has"
        f" (add them to extra_fields if they are meant to be there): {', '.join(stale)}"
    )


@pytest.mark.parametrize("entry", VALUE_TABLES, ids=_ids(VALUE_TABLES))
def test_value_table_covers_every_literal(entry: Entry) -> None:
    missing: dict[str, list[str]] = {}
    for ref in entry.sdk:
        try:
            literals = resolve_literals(ref)
        except Unresolved as exc:
            pytest.fail(f"{entry.file}.json value table {entry.name!r}: {exc}")
        absent = sorted(str(v) for v in literals if str(v) not in entry.keys)
        if absent:
            missing[ref] = absent
    assert not missing, (
        f"{entry.file}.json value table {entry.name!r} has no rule for these SDK values:\n  "
        + "\n  ".join(f"{ref}: {', '.join(values)}" for ref, values in missing.items())
    )


@pytest.mark.parametrize(
    ("table", "ref"),
    [
        ("chat.request", "openai.types.chat.completion_create_params:CompletionCreateParamsBase"),
        ("responses.request", "openai.types.responses.response_create_params:ResponseCreateParamsBase"),
    ],
)
def test_every_create_parameter_has_a_rule(table: str, ref: str) -> None:
    params = set(resolve_fields(ref)) | {"stream"}
    missing = sorted(params - TABLE_BY_NAME[table].keys)
    assert not missing, f"create parameters of {ref} with no rule in table {table!r}: {', '.join(missing)}"


# ------------------------------------------------------------- the resolver itself


def test_resolver_sees_functional_typeddict_keys_and_pydantic_aliases() -> None:
    """``async`` is only expressible with functional TypedDict syntax or a pydantic alias."""
    assert "async" in resolve_fields("openai.types.responses.function_tool_param:FunctionToolParam")
    fields = resolve_fields("openai.types.responses.response_function_tool_call:ResponseFunctionToolCall")
    assert fields["async"].attr == "async_"
    assert "async_" not in fields


def test_resolver_collects_union_members_and_plain_literals() -> None:
    roles = resolve_literals("openai.types.chat.chat_completion_message_param:ChatCompletionMessageParam.role")
    assert roles == {"system", "developer", "user", "assistant", "tool", "function"}
    choice = resolve_literals("openai.types.responses.response_create_params:ResponseCreateParamsBase.tool_choice.type")
    assert {"none", "auto", "required", "function", "allowed_tools"} <= choice
    items = resolve_literals("openai.types.responses.response_input_item_param:ResponseInputItemParam.type")
    assert {"message", "function_call", "function_call_output", "reasoning", "item_reference"} <= items


@pytest.mark.parametrize(
    "ref",
    [
        "openai.types.chat.no_such_module:Foo",
        "openai.types.chat.chat_completion:NoSuchClass",
        "openai.types.chat.chat_completion:Choice.no_such_field",
        "openai.types.chat.chat_completion:Choice.index",  # an int, not a Literal
    ],
)
def test_resolver_rejects_broken_references(ref: str) -> None:
    with pytest.raises(Unresolved, match=r"'openai\.types\.chat\."):
        resolve_literals(ref) if "." in ref.partition(":")[2] else resolve_fields(ref)



# ------------------------------------------------------- types reached by conversion


_ROOTS = {
    "chat.request": "openai.types.chat.completion_create_params:CompletionCreateParamsBase",
    "responses.request": "openai.types.responses.response_create_params:ResponseCreateParamsBase",
    "chat.completion": "openai.types.chat.chat_completion:ChatCompletion",
    "response": "openai.types.responses.response:Response",
}


def _raw_tables() -> tuple[dict[str, Any], set[str]]:
    tables: dict[str, Any] = {}
    dropped: set[str] = set()
    for stem in FILES:
        raw = json.loads((mappings_dir() / f"{stem}.json").read_text(encoding="utf-8"))
        tables.update(raw.get("tables", {}))
        for table in raw.get("values", {}).values():
            dropped.update(v for v, rule in table["values"].items() if rule["do"] == "drop")
    return tables, dropped


def _shape(tp: Any) -> tuple[str, frozenset[str]]:
    """The SDK defines some TypedDicts twice (response_input_param.Message and
    response_input_item_param.Message); a table naming one covers its twin."""
    return tp.__name__, frozenset(record_fields(tp))


def _type_literals(tp: Any) -> set[Any]:
    field = record_fields(tp).get("type")
    if field is None:
        return set()
    return {v for m in members(field.annotation) if typing.get_origin(m) is typing.Literal for v in typing.get_args(m)}


def test_every_type_reached_through_a_convert_rule_has_a_table() -> None:
    """The engine takes apart what a `convert` rule reaches; each such SDK type needs a table of its fields.

    Starting from both create-params types and both result types, every field
    with a `convert` rule leads to the record types of its value. Each must be
    named by some table (else its fields appear in no table, and unknown keys in
    it are neither translated nor reported), except object forms whose `type`
    values are all dropped by a value table. Fields carried whole (copy, rename,
    drop, omit) are not entered.
    """
    tables, dropped = _raw_tables()
    named: dict[tuple[str, frozenset[str]], list[str]] = {}
    for name, table in tables.items():
        for ref in table["sdk"]:
            for member in members(resolve_root(ref)[0]):
                if is_record(member):
                    named.setdefault(_shape(member), []).append(name)
    gaps: dict[str, set[str]] = {}
    seen: set[Any] = set()
    stack = [resolve_root(ref)[0] for ref in _ROOTS.values()]
    while stack:
        record = stack.pop()
        if record in seen:
            continue
        seen.add(record)
        for field in record_fields(record).values():
            rules = [
                rule
                for t in named.get(_shape(record), [])
                if (rule := tables[t]["fields"].get(field.wire) or tables[t]["fields"].get(field.attr)) is not None
            ]
            if not rules or any(rule["do"] != "convert" for rule in rules):
                continue
            for member in members(field.annotation):
                if not is_record(member):
                    continue
                kinds = _type_literals(member)
                if kinds and kinds <= dropped:
                    continue
                if _shape(member) in named:
                    stack.append(member)
                else:
                    gaps.setdefault(f"{member.__module__}:{member.__name__}", set()).add(f"{record.__name__}.{field.wire}")
    assert not gaps, (
        "SDK types that a convert rule takes apart but no table names (their fields appear in no table):\n  "
        + "\n  ".join(f"{ref}  (reached from {', '.join(sorted(via))})" for ref, via in sorted(gaps.items()))
    )


# ------------------------------------------------------------ the declared JSON types


#: The JSON type names of mappings/schema.json's ``jsonType``, in the order they are written.
JSON_TYPES = ("string", "integer", "number", "boolean", "object", "array", "null")
_MAPPINGS = frozenset({dict, collections.abc.Mapping, collections.abc.MutableMapping})
_ANY = frozenset({object, typing.Any})


def json_types(tp: Any) -> frozenset[str]:
    """The JSON types an SDK annotation admits on the wire ("any" for ``object``/``Any``).

    A ``float`` is a JSON number, which an integer also is; ``bool`` is only a
    boolean (JSON has no 1 for true), as in the engine's check.
    """
    out: set[str] = set()
    for t in alternatives(tp):
        origin = typing.get_origin(t)
        if origin is typing.Literal:
            for v in typing.get_args(t):
                out |= json_types(type(v))
        elif origin in _SEQUENCE or t in _SEQUENCE or getattr(origin, "__name__", "") == "SequenceNotStr":
            out.add("array")
        elif origin in _MAPPINGS or t in _MAPPINGS or is_record(t):
            out.add("object")
        elif t is type(None) or t is None:
            out.add("null")
        elif t is bool:
            out.add("boolean")
        elif t is int:
            out.add("integer")
        elif t is float:
            out.add("number")
        elif t is str:
            out.add("string")
        elif t in _ANY:
            out.add("any")
        else:
            raise Unresolved(f"no JSON type for {t!r}")
    if "number" in out:
        out.discard("integer")
    return frozenset(out)


def sdk_field_types(entry_sdk: tuple[str, ...], field: str) -> frozenset[str] | None:
    """The union of the JSON types of ``field`` in every SDK type a table names (None: in none of them)."""
    found: set[str] = set()
    seen = False
    for ref in entry_sdk:
        for f in resolve_fields(ref).values():
            if f.wire == field or f.attr == field:
                found |= json_types(f.annotation)
                seen = True
    return frozenset(found) if seen else None


_PY_JSON = {str: "string", int: "integer", float: "number", bool: "boolean", dict: "object", list: "array", type(None): "null"}


def _declared(rule: dict[str, Any]) -> frozenset[str]:
    declared = rule["type"]
    return frozenset([declared] if isinstance(declared, str) else declared)


def _raw_fields() -> list[Any]:
    out = []
    for stem in FILES:
        raw = json.loads((mappings_dir() / f"{stem}.json").read_text(encoding="utf-8"))
        for name, table in raw.get("tables", {}).items():
            out.append(pytest.param(name, tuple(table["sdk"]), table["fields"], id=f"{stem}:{name}"))
    return out


def type_mismatches(sdk: tuple[str, ...], fields: dict[str, Any]) -> list[str]:
    """Each rule's ``type`` must be exactly what the SDK annotates (over the table's SDK types), plus
    the types of its ``unless`` values: a default a client sends (``"name": null``) is a tolerated
    variant because the table says it loses nothing. A wider type needs a ``variant`` saying which
    client or gateway sends it. A field the SDK does not type (``extra_fields``)
    keeps its declared type as the only statement of it."""
    wrong: list[str] = []
    order = JSON_TYPES.index
    for field, rule in fields.items():
        sdk_types = sdk_field_types(sdk, field)
        if sdk_types is None:
            continue
        if "any" in sdk_types:
            wrong.append(f"{field}: the SDK admits any value, which the type grammar cannot say")
            continue
        want = set(sdk_types) | {_PY_JSON[type(v)] for v in rule.get("unless", ())}
        if "number" in want:
            want.discard("integer")
        if _declared(rule) != want and not ("variant" in rule and _declared(rule) > want):
            wrong.append(f"{field}: declared {sorted(_declared(rule), key=order)}, the SDK says {sorted(want, key=order)}")
    return wrong


@pytest.mark.parametrize(("name", "sdk", "fields"), _raw_fields())
def test_declared_types_are_the_sdk_types(name: str, sdk: tuple[str, ...], fields: dict[str, Any]) -> None:
    wrong = type_mismatches(sdk, fields)
    assert not wrong, f"table {name!r}: declared types that differ from the SDK's:\n  " + "\n  ".join(wrong)


def test_a_wrong_declared_type_fails_the_check() -> None:
    """The check can fail: a table that declares temperature a string, or forgets null, is caught."""
    (param,) = [p for p in _raw_fields() if p.id == "request:chat.request"]
    _, sdk, fields = param.values
    assert type_mismatches(sdk, fields) == []
    for wrong in ("string", "number", ["integer", "null"], ["boolean", "null"]):
        broken = {**fields, "temperature": {**fields["temperature"], "type": wrong}}
        assert [m.split(":")[0] for m in type_mismatches(sdk, broken)] == ["temperature"]
    assert json_types(bool) == {"boolean"} and json_types(list[int] | None) == {"array", "null"}


# ------------------------------------------------------------- the targets, in the target SDK


#: Rules whose ``to`` names a place no SDK type holds, each with the reason.
UNTYPED_TARGETS: dict[str, str] = {
    "response.error": "a failed Response becomes the API's error body {error: ErrorObject}: the SDK types the "
                      "object (ErrorObject) but not the body around it, which it raises as an APIError",
}


def field_path_resolves(ref: str, parts: list[str]) -> bool:
    """Whether the dotted field path ``parts`` exists in the type ``ref`` names (through unions, lists
    and optional values; a pydantic Python name such as ``async_`` counts as its wire key). Last on
    the path, a property of an SDK model counts too (``Response.output_text``, what the codemod
    rewrites a read to)."""
    tp, attrs = resolve_root(ref)
    current: list[Any] = [tp]
    path = [*attrs, *parts]
    for i, part in enumerate(path):
        nxt: list[Any] = []
        for t in current:
            for m in members(t):
                if is_record(m):
                    fields = record_fields(m)
                    field = fields.get(part) or next((f for f in fields.values() if f.attr == part), None)
                    if field is not None:
                        nxt.append(field.annotation)
                    elif i == len(path) - 1 and isinstance(getattr(m, part, None), property):
                        nxt.append(Any)
        if not nxt:
            return False
        current = nxt
    return True


def target_resolves(ref: str, to: str, *, value: bool) -> bool:
    """A field rule's ``to`` is a field path of the type; a value rule's is a literal of the field
    ``ref`` names, or (``ref`` a type) a field of it: an include value that becomes a parameter."""
    if value and "." in ref.partition(":")[2]:
        return to in resolve_literals(ref)
    return field_path_resolves(ref, to.split("."))


def unresolved_targets(raw_files: list[dict[str, Any]]) -> list[str]:
    bad: list[str] = []
    for raw in raw_files:
        for section, key in (("tables", "fields"), ("values", "values")):
            for name, table in raw.get(section, {}).items():
                targets = {k: r["to"] for k, r in table[key].items() if r.get("to") and f"{name}.{k}" not in UNTYPED_TARGETS}
                if not targets:
                    continue
                refs = table.get("target_sdk")
                if not refs:
                    bad.append(f"{name}: its rules state targets but the table names no target_sdk")
                    continue
                for k, to in targets.items():
                    try:
                        ok = any(target_resolves(ref, to, value=section == "values") for ref in refs)
                    except Unresolved as exc:
                        bad.append(f"{name}: {exc}")
                        break
                    if not ok:
                        bad.append(f"{name}.{k}: to {to!r} is in none of {refs}")
    return bad


def _raw_files() -> list[dict[str, Any]]:
    return [json.loads((mappings_dir() / f"{stem}.json").read_text(encoding="utf-8")) for stem in FILES]


def test_every_target_exists_in_the_target_sdk() -> None:
    """Every rename, convert and approximate ``to`` (fields and values, both directions) resolves
    against the target SDK types its table names: a target the API does not have fails here."""
    bad = unresolved_targets(_raw_files())
    assert not bad, "targets in mappings/ that the target SDK types do not have:\n  " + "\n  ".join(bad)
    rules = {f"{n}.{k}" for raw in _raw_files() for s, key in (("tables", "fields"), ("values", "values"))
             for n, t in raw.get(s, {}).items() for k, r in t[key].items() if r.get("to")}
    assert not set(UNTYPED_TARGETS) - rules, "UNTYPED_TARGETS names rules with no target"


@pytest.mark.parametrize(
    ("section", "table", "rule", "to"),
    [
        ("tables", "chat.request", "max_completion_tokens", "max_tokens_out"),  # no such parameter
        ("tables", "response.output.function_call", "name", "function.nom"),  # a wrong nested field
        ("tables", "chat.usage", "prompt_tokens", "bogus_tokens"),
        ("values", "chat.part_types", "image_url", "input_picture"),  # not a Responses part type
    ],
)
def test_a_target_the_sdk_lacks_fails_the_check(section: str, table: str, rule: str, to: str) -> None:
    files = copy.deepcopy(_raw_files())
    (raw,) = [raw for raw in files if table in raw.get(section, {})]
    raw[section][table]["fields" if section == "tables" else "values"][rule]["to"] = to
    assert unresolved_targets(files) == [f"{table}.{rule}: to {to!r} is in none of {raw[section][table]['target_sdk']}"]
