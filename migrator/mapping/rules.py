"""The mapping rules of ``mappings/``, loaded once and compiled for the hot path.

The JSON files are the single source of truth: the engine, the docs and the
SDK-coverage test all read them. Here they become small immutable ``Rule``
objects in plain dicts, so that applying a rule costs one dict lookup and one
identity comparison. No jsonschema here: validating the files is the tests'
job, and importing jsonschema would triple the cost of ``import migrator``.
"""

from __future__ import annotations

import json
import os
import re
import sys
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from pathlib import Path

COPY: Final = "copy"
RENAME: Final = "rename"
CONVERT: Final = "convert"
DROP: Final = "drop"
OMIT: Final = "omit"
APPROXIMATE: Final = "approximate"

FILES: Final = ("request", "messages", "tools", "results")

# A rule's declared JSON type (``"type"``) → the Python types ``json.loads`` gives for it. A
# bool is its own type (``type(True) is bool``), so true is never an integer; a number is an
# int or a float. The hot path asks ``type(value) in rule.types``: one set lookup.
_PY_TYPES: Final[dict[str, tuple[type, ...]]] = {
    "string": (str,), "integer": (int,), "number": (int, float), "boolean": (bool,),
    "object": (dict,), "array": (list,), "null": (type(None),),
}
_ARTICLES: Final = {"integer": "an integer", "object": "an object", "array": "an array", "null": "null"}


def mappings_dir() -> Path:
    """Where the rule files are: inside the wheel, or at the top of a source checkout.

    ``MIGRATOR_MAPPINGS`` points elsewhere: the tests load an engine on a mutated copy of the
    tables to prove the output follows them (read once, at import)."""
    from pathlib import Path  # not at import: pathlib (and urllib.parse under it) is for tools, not translate

    return Path(_mappings_folder())


def _mappings_folder() -> str:
    override = os.environ.get("MIGRATOR_MAPPINGS")
    if override:
        return override
    here = os.path.dirname(os.path.dirname(os.path.realpath(__file__)))
    packaged = os.path.join(here, "mappings")
    if os.path.isdir(packaged):
        return packaged
    return os.path.join(os.path.dirname(here), "mappings")


def read_mappings(name: str) -> Any:
    """One file of ``mappings/``, parsed."""
    with open(os.path.join(_mappings_folder(), name), encoding="utf-8") as f:
        return json.load(f)


class Rule:
    """One field's (or one value's) disposition, as stated in ``mappings/``."""

    __slots__ = ("at", "do", "expects", "how", "kind", "reason", "to", "to_parts", "types", "unless", "via")

    def __init__(self, raw: dict[str, Any]) -> None:
        self.do: str = sys.intern(raw["do"])  # rules compare by identity on the hot path
        self.to: str | None = raw.get("to")
        self.to_parts: tuple[str, ...] = tuple(self.to.split(".")) if self.to else ()
        self.via: str | None = raw.get("via")
        self.kind: str | None = raw.get("kind")
        if self.do == APPROXIMATE:
            self.kind = "approximated"
        self.reason: str = raw.get("reason", "")
        unless = raw.get("unless")
        self.unless: tuple[Any, ...] | None = tuple(unless) if unless is not None else None
        self.how: str = raw.get("how", "")
        at = raw.get("at", "")
        self.at: tuple[str, ...] = (at,) if isinstance(at, str) else tuple(at)
        declared = raw.get("type")
        names = () if declared is None else (declared,) if isinstance(declared, str) else tuple(declared)
        # Value rules have no type: every type is accepted there (their key is the value).
        self.types: frozenset[type] = frozenset(t for n in names for t in _PY_TYPES[n]) if names else ANY_TYPE
        self.expects: str = expected_text(names)

    def lossless_for(self, value: Any) -> bool:
        """A dropped field loses nothing when it holds its default (``unless``)."""
        if self.unless is None:
            return False
        return any(_same(value, v) for v in self.unless)

    def __repr__(self) -> str:
        return f"Rule({self.do!r}, to={self.to!r}, via={self.via!r})"


ANY_TYPE: Final[frozenset[type]] = frozenset(t for ts in _PY_TYPES.values() for t in ts)


def expected_text(names: tuple[str, ...]) -> str:
    """``("number", "null")`` → ``"a number or null"``, as a Problem's ``expected``."""
    words = [_ARTICLES.get(n, f"a {n}") for n in names]
    if len(words) < 2:
        return words[0] if words else "any JSON value"
    return ", ".join(words[:-1]) + " or " + words[-1]


class _Absent:
    """The type of ``ABSENT``, a default no JSON value has: ``type(obj.get(key, ABSENT)) in optional(t)``
    accepts a missing key and a value of type ``t``, but not a null that ``t`` does not admit."""


ABSENT: Final = _Absent()


def optional(types: frozenset[type]) -> frozenset[type]:
    return types | {_Absent}


def well_typed(obj: dict[str, Any], types: dict[str, frozenset[type]]) -> bool:
    """Whether every known key of ``obj`` holds a value of its declared type (fast paths ask
    this before copying an object whole; when it is False, the checking path says where)."""
    for key, value in obj.items():
        if type(value) not in types.get(key, ANY_TYPE):
            return False
    return True


def _same(a: Any, b: Any) -> bool:
    """Equality where ``False`` is not ``0``: a JSON boolean never stands for a number."""
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    return bool(a == b)


class Table(dict[str, Rule]):
    """The rules for the fields of one object kind (or the values of one enum)."""

    name: str
    title: str
    source: str | None
    target: str | None
    quiet: frozenset[str]
    levels: dict[str, dict[str, Rule]]
    quiet_at: dict[str, frozenset[str]]
    types_at: dict[str, dict[str, frozenset[type]]]

    def __init__(self, name: str, raw: dict[str, Any], key: str) -> None:
        super().__init__({k: Rule(v) for k, v in raw[key].items()})
        self.name = name
        self.title = raw["title"]
        self.source = raw.get("source")
        self.target = raw.get("target")
        # A table may cover nested objects (or variants): each rule says where its field lives
        # (``at``), so a key is only known at its own level.
        self.levels: dict[str, dict[str, Rule]] = {}
        for k, r in self.items():
            for level in r.at:
                self.levels.setdefault(level, {})[k] = r
        # Precomputed for the hot paths: an object whose keys all fall in ``quiet`` has nothing
        # to report (no loss), and ``types_at`` holds what its values must be (``well_typed``).
        self.quiet_at = {level: frozenset(k for k, r in rules.items() if r.do in (COPY, RENAME, CONVERT, OMIT))
                         for level, rules in self.levels.items()}
        self.types_at = {level: {k: r.types for k, r in rules.items()} for level, rules in self.levels.items()}
        self.quiet = self.quiet_at.get("", frozenset())


def targets(table: Table, *keys: str) -> tuple[str, ...]:
    """The key each named rule writes (the last segment of its ``to``), read once at import so the
    converters write what the table says at the cost of a literal. A rule that names no target is a
    broken table: the import fails naming it, rather than a converter writing a key ``""``."""
    out = []
    for key in keys:
        parts = table[key].to_parts
        if not parts:
            raise ValueError(f"mappings/: {table.name}.{key} states no target (`to`), which the engine writes")
        out.append(parts[-1])
    return tuple(out)


def _load() -> tuple[dict[str, Table], dict[str, Table], dict[str, Any]]:
    tables: dict[str, Table] = {}
    values: dict[str, Table] = {}
    for stem in FILES:
        raw = read_mappings(f"{stem}.json")
        for name, t in raw.get("tables", {}).items():
            tables[name] = Table(name, t, "fields")
        for name, t in raw.get("values", {}).items():
            values[name] = Table(name, t, "values")
    models = read_mappings("models.json")
    return tables, values, models


TABLES, VALUES, _MODELS = _load()


def _model_matcher(entry: dict[str, Any]) -> tuple[re.Pattern[str], str]:
    alternation = "|".join(f"(?:{p})" for p in entry["patterns"])
    return re.compile(rf"(?:{alternation})(?:-\d{{4}}-\d{{2}}-\d{{2}})?"), entry["reason"]


RESPONSES_ONLY_MODELS = _model_matcher(_MODELS["responses_only"])
CHAT_ONLY_MODELS = _model_matcher(_MODELS["chat_only"])
