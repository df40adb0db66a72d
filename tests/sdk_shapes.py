"""Strict shape checks of plain JSON bodies against the installed ``openai`` SDK types.

The SDK is the closest thing we have to a machine-readable copy of the API
contract, but its own runtime validation is deliberately forgiving: request
params are ``TypedDict``s (never validated at runtime), response models allow
extra keys, and pydantic validates ``Iterable[...]`` lazily.  The real API is
not forgiving -- an undeclared key in a request is a 400 -- so the mapping
engine's tests need a checker that fails wherever the API would.

Public API::

    check_request(body, "chat" | "responses")
    check_result(body, "chat" | "responses", allow_extra=frozenset())
    check_chunk(body)      # chat.completion.chunk
    check_event(body)      # one Responses stream event

Each raises :class:`ShapeError` listing *every* problem as
``<JSON path>: <what was expected / what was found>``.

The same structural walker is used for TypedDicts and pydantic models so that
both directions get identical strictness (unknown keys, bool-vs-int, literal
values, required keys) and identical messages.  For results, chunks and events
the SDK's own pydantic validation (strict mode) runs afterwards as a safety net
for anything the walker does not model.
"""

from __future__ import annotations

import collections.abc
import json
import math
import sys
import types
import typing
from functools import cache
from pathlib import Path
from typing import Any, ClassVar, Literal, Union

import pydantic
import typing_extensions
from openai.types.chat import ChatCompletion, ChatCompletionChunk
from openai.types.chat.completion_create_params import (
    CompletionCreateParamsNonStreaming,
    CompletionCreateParamsStreaming,
)
from openai.types.responses import Response, ResponseStreamEvent
from openai.types.responses.response_create_params import (
    ResponseCreateParamsNonStreaming,
    ResponseCreateParamsStreaming,
)

#: Keys the live API sends in a Response that the pinned SDK model lacks (the Open Responses
#: spec requires them: ``store``, ``presence_penalty``, ``frequency_penalty``), as the rule
#: table for Responses declares them (``extra_fields``). Tolerated on a Response only.
UNDECLARED: dict[Any, frozenset[str]] = {
    Response: frozenset(
        json.loads((Path(__file__).resolve().parent.parent / "mappings" / "results.json").read_text(encoding="utf-8"))
        ["tables"]["response"].get("extra_fields", ())
    ),
}

__all__ = ["ShapeError", "check_chunk", "check_event", "check_request", "check_result"]

Api = Literal["chat", "responses"]

#: Keys used to pick a branch of a union of records before trying them all, in
#: the order they are consulted.  ``type`` is the API's discriminator almost
#: everywhere; chat messages discriminate on ``role`` instead.
_DISCRIMINATORS: tuple[str, ...] = ("type", "role")

#: Unions with more variants than this are abbreviated in messages, because
#: listing all 33 input-item types helps nobody.
_MAX_VARIANTS_SHOWN = 8

_REQUIRED_ORIGINS: frozenset[Any] = frozenset(
    {typing.Required, typing_extensions.Required}
)
_NOT_REQUIRED_ORIGINS: frozenset[Any] = frozenset(
    {typing.NotRequired, typing_extensions.NotRequired}
)
_READONLY_ORIGINS: frozenset[Any] = frozenset({typing_extensions.ReadOnly})
_SEQUENCE_ORIGINS: frozenset[Any] = frozenset(
    {
        list,
        collections.abc.Iterable,
        collections.abc.Sequence,
        collections.abc.Collection,
        collections.abc.MutableSequence,
    }
)
_MAPPING_ORIGINS: frozenset[Any] = frozenset(
    {dict, collections.abc.Mapping, collections.abc.MutableMapping}
)
_UNION_ORIGINS: frozenset[Any] = frozenset({Union, types.UnionType})
_TYPE_ALIAS_TYPES: tuple[type, ...] = tuple(
    {
        t
        for t in (
            getattr(typing, "TypeAliasType", None),
            typing_extensions.TypeAliasType,
        )
        if isinstance(t, type)
    }
)

_ALL_KINDS: frozenset[str] = frozenset(
    {"null", "bool", "int", "float", "str", "array", "object", "other"}
)


class ShapeError(AssertionError):
    """An ``AssertionError`` so pytest renders it as a test failure, not an error.

    ``problems`` keeps the individual findings so tests can assert on them
    without parsing the rendered message.
    """

    problems: list[str]

    def __init__(self, what: str, problems: list[str]) -> None:
        self.problems = list(problems)
        count = len(self.problems)
        lines = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(
            f"{what}: {count} shape problem{'s' if count != 1 else ''}:\n{lines}"
        )


class _Ctx:
    """Collects problems; a child context tries one union branch in isolation."""

    __slots__ = ("allow_extra", "problems")

    def __init__(self, allow_extra: frozenset[str]) -> None:
        self.allow_extra = allow_extra
        self.problems: list[str] = []

    def child(self) -> _Ctx:
        return _Ctx(self.allow_extra)

    def add(self, problem: str) -> None:
        self.problems.append(problem)


# ---------------------------------------------------------------------------- helpers


def _kind(value: object) -> str:
    """JSON kind of a Python value; lets unions discard impossible branches cheaply."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "str"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return "other"


def _show(value: object, limit: int = 80) -> str:
    """Short form of a found value; non-JSON containers are named (often the bug)."""
    kind = _kind(value)
    if kind == "other":
        text = f"{type(value).__name__} {value!r}"
    elif kind == "array":
        text = f"list {value!r}"
    elif kind == "object":
        text = f"object {value!r}"
    else:
        text = repr(value)
    if len(text) > limit:
        text = text[: limit - 3] + "..."
    return text


def _key_path(path: str, key: str) -> str:
    return f"{path}.{key}" if key.isidentifier() else f"{path}[{key!r}]"


def _literal_matches(value: object, literal: object) -> bool:
    """Equality respecting JSON types: ``1 == True`` in Python, not on the wire."""
    if literal is None or isinstance(literal, bool):
        return value is literal
    if isinstance(literal, int):
        return (
            isinstance(value, int) and not isinstance(value, bool) and value == literal
        )
    if isinstance(literal, str):
        return isinstance(value, str) and value == literal
    return bool(value == getattr(literal, "value", literal))


def _literal_kind(literal: object) -> str:
    return _kind(getattr(literal, "value", literal))


def _check_json(value: object, path: str, ctx: _Ctx) -> None:
    """Free-form values (``object``, ``Dict[str, object]``) must survive json.dumps."""
    kind = _kind(value)
    if kind == "float":
        if not math.isfinite(typing.cast(float, value)):
            ctx.add(
                f"{path}: expected a finite number (JSON has no NaN/Infinity),"
                f" found {_show(value)}"
            )
    elif kind == "array":
        for i, item in enumerate(typing.cast(list[object], value)):
            _check_json(item, f"{path}[{i}]", ctx)
    elif kind == "object":
        for key, item in typing.cast(dict[object, object], value).items():
            if not isinstance(key, str):
                ctx.add(f"{path}: expected string object keys, found key {key!r}")
                continue
            _check_json(item, _key_path(path, key), ctx)
    elif kind == "other":
        ctx.add(f"{path}: expected a JSON value, found {_show(value)}")


# ------------------------------------------------------------------------------ nodes


class _Node:
    """Compiled form of one type; compiled once per type and reused for every body."""

    kinds: frozenset[str] = _ALL_KINDS

    def describe(self) -> str:
        raise NotImplementedError

    def check(self, value: object, path: str, ctx: _Ctx) -> None:
        raise NotImplementedError


class _AnyNode(_Node):
    def describe(self) -> str:
        return "any JSON value"

    def check(self, value: object, path: str, ctx: _Ctx) -> None:
        _check_json(value, path, ctx)


class _ScalarNode(_Node):
    _NAMES: ClassVar[dict[str, str]] = {
        "null": "None",
        "bool": "bool",
        "int": "int",
        "float": "float",
        "str": "str",
    }

    def __init__(self, kind: str) -> None:
        self.kind = kind
        # JSON does not tell 1 from 1.0, so a float slot takes an int; not the reverse.
        self.kinds = (
            frozenset({"int", "float"}) if kind == "float" else frozenset({kind})
        )

    def describe(self) -> str:
        return self._NAMES[self.kind]

    def check(self, value: object, path: str, ctx: _Ctx) -> None:
        if _kind(value) not in self.kinds:
            ctx.add(f"{path}: expected {self.describe()}, found {_show(value)}")
        elif self.kind == "float" and not math.isfinite(typing.cast(float, value)):
            ctx.add(
                f"{path}: expected a finite number (JSON has no NaN/Infinity),"
                f" found {_show(value)}"
            )


class _LiteralNode(_Node):
    def __init__(self, values: tuple[object, ...]) -> None:
        self.values = values
        self.kinds = frozenset(_literal_kind(v) for v in values)
        self._strings = frozenset(v for v in values if isinstance(v, str))
        self._others = tuple(v for v in values if not isinstance(v, str))

    def matches(self, value: object) -> bool:
        if isinstance(value, str):
            return value in self._strings
        return any(_literal_matches(value, v) for v in self._others)

    def describe(self) -> str:
        return " | ".join(repr(getattr(v, "value", v)) for v in self.values)

    def check(self, value: object, path: str, ctx: _Ctx) -> None:
        if not self.matches(value):
            ctx.add(f"{path}: expected {self.describe()}, found {_show(value)}")


class _ListNode(_Node):
    kinds = frozenset({"array"})

    def __init__(self, item: _Node) -> None:
        self.item = item

    def describe(self) -> str:
        return f"list[{self.item.describe()}]"

    def check(self, value: object, path: str, ctx: _Ctx) -> None:
        # Only real lists: a generator would be consumed by this check (and cannot be
        # json.dumps'ed anyway); a tuple would make round-trip equality tests lie.
        if not isinstance(value, list):
            ctx.add(f"{path}: expected {self.describe()}, found {_show(value)}")
            return
        item = self.item
        for i, element in enumerate(value):
            item.check(element, f"{path}[{i}]", ctx)


class _DictNode(_Node):
    kinds = frozenset({"object"})

    def __init__(self, value: _Node) -> None:
        self.value = value

    def describe(self) -> str:
        return f"dict[str, {self.value.describe()}]"

    def check(self, value: object, path: str, ctx: _Ctx) -> None:
        if not isinstance(value, dict):
            ctx.add(f"{path}: expected {self.describe()}, found {_show(value)}")
            return
        for key, item in value.items():
            if not isinstance(key, str):
                ctx.add(f"{path}: expected string object keys, found key {key!r}")
                continue
            self.value.check(item, _key_path(path, key), ctx)


class _Field:
    __slots__ = ("node", "required")

    def __init__(self, node: _Node, required: bool) -> None:
        self.node = node
        self.required = required


class _RecordNode(_Node):
    """A TypedDict or a pydantic model: a closed set of wire keys, some required.

    Fields are filled in after the node is cached so recursive types terminate.
    """

    kinds = frozenset({"object"})

    def __init__(self, name: str, origin: Any) -> None:
        self.name = name
        self.origin = origin
        self.fields: dict[str, _Field] = {}
        self.required: tuple[str, ...] = ()
        #: literal values of discriminator keys (``type``/``role``); absent if the key
        #: is not declared or is not a literal (e.g. ``type: str``).
        self.disc: dict[str, _LiteralNode] = {}
        #: keys the live API sends that the pinned SDK does not declare (on this record only)
        self.undeclared: frozenset[str] = UNDECLARED.get(origin, frozenset())

    def finish(self, fields: dict[str, _Field]) -> None:
        self.fields = fields
        self.required = tuple(k for k, f in fields.items() if f.required)
        for key in _DISCRIMINATORS:
            field = fields.get(key)
            if field is None:
                continue
            lits = _literal_values(field.node)
            if lits is not None:
                self.disc[key] = _LiteralNode(lits)

    def describe(self) -> str:
        return self.name

    def compatible(self, key: str, value: dict[str, object]) -> bool:
        """Could this be the intended branch, judging only by discriminator ``key``?"""
        if key not in value:
            return key not in self.required
        if key not in self.fields:
            return False
        lits = self.disc.get(key)
        return lits is None or lits.matches(value[key])

    def check(self, value: object, path: str, ctx: _Ctx) -> None:
        if not isinstance(value, dict):
            ctx.add(f"{path}: expected {self.name} (an object), found {_show(value)}")
            return
        fields = self.fields
        for key, item in value.items():
            if not isinstance(key, str):
                ctx.add(
                    f"{path}: expected string object keys,"
                    f" found key {key!r} in {self.name}"
                )
                continue
            field = fields.get(key)
            if field is None:
                if key not in ctx.allow_extra and key not in self.undeclared:
                    ctx.add(f"{path}: unknown key {key!r} for {self.name}")
                continue
            field.node.check(item, _key_path(path, key), ctx)
        for key in self.required:
            if key not in value:
                ctx.add(f"{path}: missing required key {key!r} for {self.name}")


class _UnionNode(_Node):
    def __init__(self, branches: list[_Node]) -> None:
        self.branches = branches
        kinds: set[str] = set()
        for b in branches:
            kinds |= b.kinds
        self.kinds = frozenset(kinds)
        self._described: str | None = None

    def describe(self) -> str:
        if self._described is None:
            has_str = any(
                isinstance(b, _ScalarNode) and b.kind == "str" for b in self.branches
            )
            parts: list[str] = []
            for b in self.branches:
                # ``Union[str, Literal[<60 model names>]]`` is just ``str`` to a reader.
                if has_str and isinstance(b, _LiteralNode) and b.kinds == {"str"}:
                    continue
                parts.append(b.describe())
            if len(parts) > _MAX_VARIANTS_SHOWN:
                shown = " | ".join(parts[:_MAX_VARIANTS_SHOWN])
                parts = [f"{shown} | ... ({len(parts)} variants)"]
            self._described = " | ".join(parts)
        return self._described

    def _discriminate(
        self, value: dict[str, object], path: str, ctx: _Ctx, cands: list[_Node]
    ) -> list[_Node] | None:
        """Narrow records by ``type``, then ``role``, so errors name the branch."""
        for key in _DISCRIMINATORS:
            records = [c for c in cands if isinstance(c, _RecordNode)]
            declaring = [r for r in records if key in r.fields]
            if not declaring:
                continue
            kept = [
                c
                for c in cands
                if not isinstance(c, _RecordNode) or c.compatible(key, value)
            ]
            if kept:
                cands = kept
                continue
            if key in value:
                allowed: list[str] = []
                for r in declaring:
                    lits = r.disc.get(key)
                    for v in lits.values if lits else (str,):
                        text = "str" if v is str else repr(getattr(v, "value", v))
                        if text not in allowed:
                            allowed.append(text)
                ctx.add(
                    f"{_key_path(path, key)}: expected {' | '.join(allowed)}"
                    f" (discriminator over {len(declaring)} variants),"
                    f" found {_show(value[key])}"
                )
            else:
                ctx.add(
                    f"{path}: missing discriminator key {key!r},"
                    f" needed to pick one of {self.describe()}"
                )
            return None
        return cands

    def check(self, value: object, path: str, ctx: _Ctx) -> None:
        kind = _kind(value)
        cands = [b for b in self.branches if kind in b.kinds]
        if not cands:
            ctx.add(f"{path}: expected {self.describe()}, found {_show(value)}")
            return
        if kind == "object" and len(cands) > 1:
            narrowed = self._discriminate(
                typing.cast(dict[str, object], value), path, ctx, cands
            )
            if narrowed is None:
                return
            cands = narrowed
        if len(cands) == 1:
            cands[0].check(value, path, ctx)
            return
        best: tuple[_Node, list[str]] | None = None
        for branch in cands:
            sub = ctx.child()
            branch.check(value, path, sub)
            if not sub.problems:
                return
            if best is None or len(sub.problems) < len(best[1]):
                best = (branch, sub.problems)
        assert best is not None
        names = " | ".join(c.describe() for c in cands)
        ctx.add(f"{path}: matches none of {names}; closest is {best[0].describe()}:")
        ctx.problems.extend(best[1])


class _PydanticNode(_Node):
    """Last resort for types the walker does not model (dates, ...): ask pydantic."""

    def __init__(self, tp: Any) -> None:
        self.tp = tp
        self.adapter: pydantic.TypeAdapter[Any] = pydantic.TypeAdapter(tp)

    def describe(self) -> str:
        return getattr(self.tp, "__name__", repr(self.tp))

    def check(self, value: object, path: str, ctx: _Ctx) -> None:
        try:
            self.adapter.validate_python(value, strict=True)
        except pydantic.ValidationError as exc:
            for err in exc.errors():
                ctx.add(
                    f"{path}: expected {self.describe()}: {err['msg']},"
                    f" found {_show(value)}"
                )


def _literal_values(node: _Node) -> tuple[object, ...] | None:
    """Literal values of a (possibly Optional) literal field, else None."""
    if isinstance(node, _LiteralNode):
        return node.values
    if isinstance(node, _UnionNode):
        values: list[object] = []
        for b in node.branches:
            if isinstance(b, _LiteralNode):
                values.extend(b.values)
            elif isinstance(b, _ScalarNode) and b.kind == "null":
                values.append(None)
            else:
                return None
        return tuple(values)
    return None


# --------------------------------------------------------------------------- compiler

_CACHE: dict[Any, _Node] = {}
_ANY = _AnyNode()


def _compile(tp: Any) -> _Node:
    """Compile ``tp`` once; every later body reuses the analysis."""
    try:
        return _CACHE[tp]
    except KeyError:
        pass
    except TypeError:  # unhashable annotation: compile uncached
        return _build(tp)
    node = _build(tp)
    _CACHE.setdefault(tp, node)
    return _CACHE[tp]


def _resolve_forward_ref(ref: typing.ForwardRef) -> Any:
    module = getattr(ref, "__forward_module__", None)
    if module is None or module not in sys.modules:
        raise TypeError(f"cannot resolve {ref!r}: no module to evaluate it in")
    return eval(ref.__forward_arg__, vars(sys.modules[module]))


def _peel(hint: Any) -> tuple[Any, bool | None, str | None]:
    """Strip Required/NotRequired/ReadOnly/Annotated: (type, required?, wire alias)."""
    required: bool | None = None
    alias: str | None = None
    while True:
        origin = typing.get_origin(hint)
        if origin in _REQUIRED_ORIGINS:
            required = True
        elif origin in _NOT_REQUIRED_ORIGINS:
            required = False
        elif origin in _READONLY_ORIGINS:
            pass
        elif origin is typing.Annotated:
            for meta in hint.__metadata__:
                meta_alias = getattr(meta, "alias", None)
                if isinstance(meta_alias, str) and alias is None:
                    alias = meta_alias
            hint = hint.__origin__
            continue
        else:
            return hint, required, alias
        hint = typing.get_args(hint)[0]


def _build(tp: Any) -> _Node:
    if isinstance(tp, str):
        raise TypeError(f"unresolved string annotation {tp!r}")
    if isinstance(tp, typing.ForwardRef):
        return _compile(_resolve_forward_ref(tp))
    if tp is Any or tp is object or tp is typing_extensions.Any:
        return _ANY
    if tp is None or tp is type(None):
        return _ScalarNode("null")
    if tp is bool:
        return _ScalarNode("bool")
    if tp is int:
        return _ScalarNode("int")
    if tp is float:
        return _ScalarNode("float")
    if tp is str:
        return _ScalarNode("str")
    if _TYPE_ALIAS_TYPES and isinstance(tp, _TYPE_ALIAS_TYPES):
        return _compile(typing.cast(Any, tp).__value__)
    if isinstance(tp, typing.NewType):
        return _compile(tp.__supertype__)

    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if (
        origin is typing.Annotated
        or origin in _REQUIRED_ORIGINS
        or origin in _NOT_REQUIRED_ORIGINS
        or origin in _READONLY_ORIGINS
    ):
        return _compile(_peel(tp)[0])
    if origin in _UNION_ORIGINS:
        branches: list[_Node] = []
        for arg in args:
            node = _compile(arg)
            for b in node.branches if isinstance(node, _UnionNode) else [node]:
                if b not in branches:
                    branches.append(b)
        return branches[0] if len(branches) == 1 else _UnionNode(branches)
    if origin is Literal or origin is typing_extensions.Literal:
        return _LiteralNode(args)
    if origin in _SEQUENCE_ORIGINS or tp in _SEQUENCE_ORIGINS:
        return _ListNode(_compile(args[0]) if args else _ANY)
    if origin in _MAPPING_ORIGINS or tp in _MAPPING_ORIGINS:
        if args and args[0] is not str:
            raise TypeError(f"JSON objects only have string keys, cannot check {tp!r}")
        return _DictNode(_compile(args[1]) if args else _ANY)
    if typing_extensions.is_typeddict(tp):
        return _build_typeddict(tp)
    if isinstance(tp, type) and issubclass(tp, pydantic.BaseModel):
        return _build_model(tp)
    return _PydanticNode(tp)


def _build_typeddict(td: Any) -> _Node:
    node = _RecordNode(td.__name__, td)
    # Cached before the fields: params are recursive (tools inside input items).
    _CACHE[td] = node
    # ``__required_keys__`` is wrong for the SDK's string annotations (``from
    # __future__ import annotations`` hides ``Required[...]`` from the metaclass), so
    # it only tells the class totality for unwrapped keys; wrappers decide the rest.
    hints = typing.get_type_hints(td, include_extras=True)
    totality_required: frozenset[str] = td.__required_keys__
    fields: dict[str, _Field] = {}
    for name, hint in hints.items():
        inner, required, alias = _peel(hint)
        if required is None:
            required = name in totality_required
        fields[alias or name] = _Field(_compile(inner), required)
    node.finish(fields)
    return node


def _build_model(model: type[pydantic.BaseModel]) -> _Node:
    node = _RecordNode(model.__name__, model)
    _CACHE[model] = node
    model.model_rebuild()  # the SDK defers building; resolves forward references
    fields: dict[str, _Field] = {}
    for name, info in model.model_fields.items():
        wire = (
            info.validation_alias
            if isinstance(info.validation_alias, str)
            else (info.alias or name)
        )
        fields[wire] = _Field(_compile(info.annotation), info.is_required())
    node.finish(fields)
    return node


# ---------------------------------------------------------------- pydantic safety net


@cache
def _adapter(tp: Any) -> pydantic.TypeAdapter[Any]:
    return pydantic.TypeAdapter(tp)


def _pydantic_problems(tp: Any, body: object) -> list[str]:
    """Strict SDK validation, with error locations turned back into JSON paths."""
    try:
        _adapter(tp).validate_python(body, strict=True)
    except pydantic.ValidationError as exc:
        out: list[str] = []
        for err in exc.errors():
            path, cur, via = "$", body, []
            loc = err["loc"]
            for i, part in enumerate(loc):
                if isinstance(cur, dict) and isinstance(part, str) and part in cur:
                    path, cur = _key_path(path, part), cur[part]
                elif (
                    isinstance(cur, list)
                    and isinstance(part, int)
                    and 0 <= part < len(cur)
                ):
                    path, cur = f"{path}[{part}]", cur[part]
                elif (
                    err["type"] == "missing"
                    and i == len(loc) - 1
                    and isinstance(part, str)
                ):
                    path = _key_path(path, part)
                else:
                    via.append(str(part))  # a union branch tag, not a key
            branch = f" (as {'/'.join(via)})" if via else ""
            out.append(
                f"{path}: {err['msg']}{branch},"
                f" found {_show(err.get('input'))} [pydantic]"
            )
        return out
    return []


def _pydantic_target(node: _Node, tp: Any, body: object) -> Any:
    """The model the walker matched, so pydantic skips a 59-way smart union."""
    if isinstance(node, _UnionNode) and isinstance(body, dict):
        kind = body.get("type")
        hits = [
            b
            for b in node.branches
            if isinstance(b, _RecordNode)
            and (lits := b.disc.get("type")) is not None
            and lits.matches(kind)
        ]
        if len(hits) == 1:
            return hits[0].origin
    return tp


# ------------------------------------------------------------------------- public API


def _run(
    what: str, tp: Any, body: object, allow_extra: frozenset[str], *, pydantic_too: bool
) -> None:
    ctx = _Ctx(allow_extra)
    node = _compile(tp)
    node.check(body, "$", ctx)
    if not ctx.problems and pydantic_too:
        ctx.problems.extend(_pydantic_problems(_pydantic_target(node, tp, body), body))
    if ctx.problems:
        raise ShapeError(what, ctx.problems)


def _api(api: str) -> Api:
    if api not in ("chat", "responses"):
        raise ValueError(f"api must be 'chat' or 'responses', not {api!r}")
    return typing.cast(Api, api)


def check_request(body: dict[str, Any], api: Api) -> None:
    """Fail wherever the API would answer 400: undeclared/missing keys, wrong types."""
    api = _api(api)
    streaming = isinstance(body, dict) and bool(body.get("stream"))
    tp: Any
    if api == "chat":
        tp = (
            CompletionCreateParamsStreaming
            if streaming
            else CompletionCreateParamsNonStreaming
        )
    else:
        tp = (
            ResponseCreateParamsStreaming
            if streaming
            else ResponseCreateParamsNonStreaming
        )
    _run(f"{api} request ({tp.__name__})", tp, body, frozenset(), pydantic_too=False)


def check_result(
    body: dict[str, Any], api: Api, *, allow_extra: frozenset[str] = frozenset()
) -> None:
    """Validate a non-streamed result.

    ``allow_extra`` names keys tolerated anywhere although the SDK does not declare
    them, for fields the live API may already send but this SDK version lacks.
    """
    tp = ChatCompletion if _api(api) == "chat" else Response
    _run(f"{api} result ({tp.__name__})", tp, body, allow_extra, pydantic_too=True)


def check_chunk(
    body: dict[str, Any], *, allow_extra: frozenset[str] = frozenset()
) -> None:
    """Validate one ``chat.completion.chunk`` as the SDK stream parser sees it."""
    _run(
        "chat chunk (ChatCompletionChunk)",
        ChatCompletionChunk,
        body,
        allow_extra,
        pydantic_too=True,
    )


def check_event(
    body: dict[str, Any], *, allow_extra: frozenset[str] = frozenset()
) -> None:
    """Validate one Responses stream event; the ``type`` picks the event model."""
    _run(
        "responses event (ResponseStreamEvent)",
        ResponseStreamEvent,
        body,
        allow_extra,
        pydantic_too=True,
    )
