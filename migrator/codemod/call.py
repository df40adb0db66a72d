"""The call itself: ``X.chat.completions.create(…)`` → ``X.responses.create(…)``, its arguments by the engine.

No keyword table here: the arguments are read as a chat request (holes for what is not a literal,
see literals.py), the engine translates it with the rules of ``mappings/``, and the arguments are
written back from its output. A removed argument is named in a note with its source text and the
table's reason (the words of the loss report). What the engine has to look into but cannot (a
``tool_choice`` held in a variable, ``**kwargs``) leaves the whole site as it was, with a note.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import libcst as cst

from ..errors import MappingError
from ..mapping import translate
from ..mapping.rules import DROP, TABLES
from .holes import Sentinels
from .literals import Holes, NotLiteral, quote_of, rewrite, to_value, with_commas
from .messages import MessagesPlan
from .notes import source_of
from .walk import comments

SDK_OPTIONS = frozenset({"extra_headers", "extra_query", "extra_body", "timeout"})
"""Keyword arguments of every SDK method that are not part of the request body: carried as they are."""

PARSE_FORMAT = ("response_format", "text_format")
"""``chat.completions.parse(response_format=Model)`` is ``responses.parse(text_format=Model)``: an SDK
helper's argument (a class, not JSON), so not a rule of ``mappings/``."""

PYDANTIC_TOOLS = ("`openai.pydantic_function_tool()` builds the Chat shape (`{\"type\": \"function\", \"function\": …}`), "
                  "which `responses.create` rejects; `responses.parse` and `responses.stream` convert it (the pinned SDK's "
                  "lib/_response_resources.py), so call `responses.parse` or write the tool flat")


def _pydantic_tools(node: cst.BaseExpression) -> bool:
    """``[openai.pydantic_function_tool(M), …]``: every element built by the SDK's Chat helper."""
    if not isinstance(node, cst.List | cst.Tuple) or not node.elements:
        return False
    for element in node.elements:
        value = element.value
        func = value.func if isinstance(value, cst.Call) else None
        name = func.attr.value if isinstance(func, cst.Attribute) else func.value if isinstance(func, cst.Name) else None
        if name != "pydantic_function_tool":
            return False
    return True


_REQUEST = TABLES["chat.request"]
_PLACEHOLDER_MESSAGES = [{"role": "user", "content": "x"}]


@dataclass
class CallPlan:
    args: list[cst.Arg] | None  # None: the site is left as it was
    notes: list[str] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)
    stream: bool | None = False  # None: decided at run time
    messages: MessagesPlan | None = None  # how a ``messages`` variable goes to ``input``
    constants: dict[str, tuple[cst.CSTNode, cst.CSTNode]] = field(default_factory=dict)
    """Literals held in names (``tools=TOOLS``) that the plan rewrites where they are defined: name → (old, new)."""

    def leave(self, reason: str) -> CallPlan:
        self.args = None
        self.reasons.append(reason)
        return self


def _typed_hole(holes: Holes, node: cst.BaseExpression, types: frozenset[type]) -> Any:
    if str in types:
        return holes.string(node)
    if int in types:
        return holes.integer(node)
    if dict in types:
        return {holes.string(node): 0}
    raise NotLiteral("no sentinel of its type")


def _not_literal(node: cst.BaseExpression) -> Any:
    raise NotLiteral("not a literal")


def translate_args(body: dict[str, Any], holes: Sentinels[Any] | None = None, hoist: bool = False) -> tuple[dict[str, Any], list[Any]] | str:
    """The engine's translation; a hole that stands where an object must be is retried as an object
    hole (``"schema": schema`` reads as a string hole first), once per hole."""
    for _ in range(8):
        try:
            result = translate(body, to="responses", hoist_system=hoist)
        except MappingError as exc:
            retried = holes is not None and any(_object_hole(body, p.path, holes) for p in exc.problems)
            if not retried:
                return "; ".join(f"{p.path[2:]}: expected {p.expected}" for p in exc.problems)
            continue
        return result.body, result.losses
    return "the arguments could not be read"


def _object_hole(body: dict[str, Any], path: str, holes: Sentinels[Any]) -> bool:
    parent: Any = None
    key: str | int | None = None
    node: Any = body
    for part in re.findall(r"\.([^.\[]+)|\[(\d+)\]", path[1:]):
        parent, key = node, part[0] if part[0] else int(part[1])
        try:
            node = node[key]
        except (KeyError, IndexError, TypeError):
            return False
    if parent is None or key is None or type(node) is not str or node not in holes.strings:
        return False
    parent[key] = {node: 0}
    return True


def bool_passes_through(name: str, target: str, base: dict[str, Any]) -> bool:
    """Whether the engine writes a boolean argument unchanged (so a variable may stand in its place)."""
    for value in (True, False):
        out = translate_args({**base, name: value})
        if isinstance(out, str) or out[0].get(target) is not value:
            return False
    return True


def plan_call(call: cst.Call, indent: str, plain: Callable[[str], MessagesPlan] | None = None, parse: bool = False,
              hoist: bool = False, constants: Mapping[str, cst.BaseExpression] | None = None) -> CallPlan:
    return plan_arguments(call.args, "\n" in source_of(call), indent, plain, parse=parse, sdk=True, hoist=hoist,
                          constants=constants)


def plan_arguments(given: Sequence[cst.Arg], multiline: bool, indent: str, plain: Callable[[str], MessagesPlan] | None = None,
                   parse: bool = False, sdk: bool = False, hoist: bool = False,
                   constants: Mapping[str, cst.BaseExpression] | None = None) -> CallPlan:
    """The Responses arguments for chat request arguments (an SDK call's, or a JSON body's as ``Arg``s).

    ``plain(name)`` plans how a ``messages`` variable goes to ``input`` (or says why it may not);
    ``sdk`` keeps the SDK's own options (``timeout``, ``extra_body``…), which a JSON body has not;
    ``constants`` are the literals that names stand for, when every use of the name is an argument
    of a chat call: such an argument is translated from the literal, which is rewritten in place."""
    plan = CallPlan(args=[])
    layout: str | None = indent + "    " if multiline else None
    holes = Holes(quote=quote_of(given))
    body: dict[str, Any] = {}
    verbatim: dict[str, cst.Arg] = {}
    sources: dict[str, cst.Arg] = {}
    messages_expr: cst.BaseExpression | None = None
    dropped: list[cst.Arg] = []
    constant_of: dict[str, tuple[str, cst.BaseExpression]] = {}
    order: list[str] = []
    for arg in given:
        if arg.keyword is None:
            return plan.leave("passes arguments the codemod cannot see (positional or ** arguments); "
                              "rename them by the table in docs/mapping.md")
        name = arg.keyword.value
        order.append(name)
        sources[name] = arg
        if sdk and name in SDK_OPTIONS:
            verbatim[name] = arg
            continue
        if name == "tools" and _pydantic_tools(arg.value):
            if not parse:
                return plan.leave(PYDANTIC_TOOLS)
            verbatim[name] = arg  # ``responses.parse`` converts them itself (openai/lib/_response_resources.py)
            continue
        if parse and name == PARSE_FORMAT[0] and not isinstance(arg.value, cst.Dict):
            verbatim[name] = arg.with_changes(keyword=cst.Name(PARSE_FORMAT[1]))  # a pydantic model class
            continue
        rule = _REQUEST.get(name)
        try:
            body[name] = to_value(arg.value, holes, hole=_not_literal)
            continue
        except NotLiteral:
            pass
        if name == "messages":
            planned = plain(arg.value.value) if plain is not None and isinstance(arg.value, cst.Name) else None
            if planned is not None and planned.reason is None:
                verbatim[name] = arg.with_changes(keyword=cst.Name((rule.to if rule is not None else None) or "input"))
                body[name] = _PLACEHOLDER_MESSAGES
                plan.messages = planned
                continue
            messages_expr = arg.value
            plan.reasons.append(planned.reason if planned is not None and planned.reason else "`messages` is not a plain name")
            continue
        if rule is None:
            body[name] = holes.string(arg.value)
            continue
        if rule.do is DROP:
            dropped.append(arg)  # dropped whatever it holds: the engine need not see the value
            continue
        try:
            body[name] = _typed_hole(holes, arg.value, rule.types)
        except NotLiteral:
            target = (rule.to or name).split(".")[0]
            held_name = arg.value.value if isinstance(arg.value, cst.Name) else ""
            held = constants.get(held_name) if constants else None
            if held is not None and target == name:
                try:
                    body[name] = to_value(held, holes)
                    constant_of[name] = (held_name, held)
                    continue
                except NotLiteral:
                    pass
            if bool in rule.types and bool_passes_through(name, target, {"model": "m", "messages": _PLACEHOLDER_MESSAGES}):
                verbatim[name] = arg.with_changes(keyword=cst.Name(target))
                continue
            return plan.leave(f"`{name}` is not a literal, and the engine must read its value to convert it")
    if messages_expr is not None:
        return plan.leave(f"{plan.reasons.pop()}; `input` takes role/content text messages as they are, but tool "
                          "results, assistant tool calls and content parts change shape (docs/mapping.md)")
    if "messages" not in body:
        return plan.leave("the call has no `messages` argument")
    if "stream" in body:
        plan.stream = body["stream"] if type(body["stream"]) is bool else None
    elif "stream" in verbatim:
        plan.stream = None
    outcome = translate_args(body, holes, hoist)
    if isinstance(outcome, str):
        return plan.leave(f"the arguments are not a valid chat request: {outcome}")
    out, losses = outcome
    for loss in losses:
        field_path = loss.path[2:]
        removed_arg = sources.get(field_path)
        rule = _REQUEST.get(field_path)
        target = (rule.to if rule is not None and rule.to else field_path).split(".")[0]
        if removed_arg is not None and target not in out:
            plan.notes.append(f"removed `{_arg_text(removed_arg)}`: {loss.reason}")
        else:
            plan.notes.append(f"{field_path}: {loss.reason}")
    for arg in dropped:
        assert arg.keyword is not None
        plan.notes.append(f"removed `{_arg_text(arg)}`: {_REQUEST[arg.keyword.value].reason}")
    noted = {loss.path[2:] for loss in losses} | {a.keyword.value for a in dropped if a.keyword is not None}
    for name, arg in sources.items():
        rule = _REQUEST.get(name)
        if name in noted or name in verbatim or rule is None:
            continue
        target = (rule.to or name).split(".")[0]
        if target not in out:
            plan.notes.append(f"removed `{_arg_text(arg)}`: {why_lossless(name, body.get(name))}")
    emitted: set[str] = set()
    args: list[cst.Arg] = []

    def emit(key: str, source: cst.Arg | None) -> None:
        value = out[key]
        if source is not None and source.keyword is not None and source.keyword.value in constant_of:
            held_name, held = constant_of[source.keyword.value]
            multiline = "\n" in source_of(held)
            plan.constants[held_name] = (held, rewrite(value, body[source.keyword.value], held, holes, "" if multiline else None))
            args.append(source.with_changes(keyword=cst.Name(key)))
        elif source is not None and source.keyword is not None:
            expr = rewrite(value, body.get(source.keyword.value), source.value, holes, layout)
            args.append(source.with_changes(keyword=cst.Name(key), value=expr))
        else:
            expr = rewrite(value, None, cst.Name("None"), holes, layout)
            equal = cst.AssignEqual(whitespace_before=cst.SimpleWhitespace(""), whitespace_after=cst.SimpleWhitespace(""))
            args.append(cst.Arg(keyword=cst.Name(key), value=expr, equal=equal))
        emitted.add(key)

    try:
        for name in order:
            if name in verbatim:
                kept = verbatim[name]
                args.append(kept)
                emitted.add(kept.keyword.value if kept.keyword is not None else name)
                continue
            rule = _REQUEST.get(name)
            target = (rule.to if rule is not None and rule.to else name).split(".")[0]
            if target in out and target not in emitted:
                emit(target, sources[name])
        for key in out:
            if key not in emitted:
                emit(key, None)
    except NotLiteral as exc:
        return plan.leave(str(exc))
    plan.args = with_commas(args, given)
    return plan


def why_lossless(name: str, value: Any) -> str:
    """Why removing an argument the engine reported no loss for loses nothing, in the tables' words:
    a dropped parameter holding its default, or an object whose every field the Responses API implies."""
    rule = _REQUEST[name]
    if rule.do is DROP:
        return f"{rule.reason} (it held the default, so nothing changes)"
    inner = TABLES.get(f"chat.{name}")
    if inner is not None and isinstance(value, dict):
        reasons = [inner[key].reason for key in value if key in inner and inner[key].reason]
        if reasons:
            return "; ".join(dict.fromkeys(reasons))
    return rule.reason or rule.how or "nothing of it is carried, and nothing is lost"


def _arg_text(arg: cst.Arg) -> str:
    """``seed=42`` and the comment beside it, if any: what a removed argument's note keeps."""
    text = source_of(arg.with_changes(comma=cst.MaybeSentinel.DEFAULT)).strip()
    comment = _comment_of(arg.comma)
    return f"{text}  {comment}" if comment else text


def _comment_of(node: cst.CSTNode | cst.MaybeSentinel) -> str | None:
    if not isinstance(node, cst.CSTNode):
        return None
    return " ".join(comments(node)) or None
