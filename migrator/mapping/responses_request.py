"""A ``responses.create`` body → a ``chat.completions.create`` body."""

from __future__ import annotations

from typing import Any

from . import content as _content
from . import tools as T
from .content import (
    CHAT_OUT_TEXT,
    fast_input_parts,
    fast_tool_output,
    input_parts_to_chat,
    output_parts_to_chat,
    tool_output_to_chat,
)
from .context import Context, Handler, dispatch, lead
from .fastpath import Positions, defaults_only
from .rules import DROP, TABLES, VALUES, targets, well_typed

_REQUEST = TABLES["responses.request"]
_STREAM_OPTIONS = TABLES["responses.stream_options"]
_REASONING = TABLES["responses.reasoning"]
_TEXT = TABLES["responses.text"]
_CACHE_OPTIONS = TABLES["responses.prompt_cache_options"]
_CACHE_TTL = VALUES["chat.prompt_cache_ttl"]
_ITEM_TYPES = VALUES["responses.item_types"]
_INCLUDE = VALUES["include"]
_SERVICE_TIER = VALUES["service_tier"]
_MESSAGE = TABLES["responses.item.message"]
_FUNCTION_CALL = TABLES["responses.item.function_call"]
_FUNCTION_OUTPUT = TABLES["responses.item.function_call_output"]
_CUSTOM_CALL = TABLES["responses.item.custom_tool_call"]
_CUSTOM_OUTPUT = TABLES["responses.item.custom_tool_call_output"]
_STATE = ("previous_response_id", "conversation", "prompt")
_MESSAGES = _REQUEST["input"].to or ""
_SYSTEM_MESSAGES = _REQUEST["instructions"].to or ""  # where the instructions' system message goes
_LEAD = ("model", _MESSAGES)  # what a Chat body reads first
_MESSAGE_ROLES = frozenset(("user", "assistant", "system", "developer"))
# output_text keys that carry nothing into chat history (annotations, logprobs are output-only)
_OUT_TEXT_QUIET = TABLES["responses.part.output_text"].quiet
# The declared types of each item's fields: a fast path that takes an object whole checks them first.
_CALL_TYPES = _FUNCTION_CALL.types_at[""]
_OUTPUT_TYPES = _FUNCTION_OUTPUT.types_at[""]
_MESSAGE_TYPES = _MESSAGE.types_at[""]
_MESSAGE_RULES = _MESSAGE.levels[""]
_OUT_TEXT_TYPES = TABLES["responses.part.output_text"].types_at[""]
# Target names as the tables state them (read once: as cheap as literals on the hot path).
_TOP_LOGPROBS, _PARALLEL, _OUT_SERVICE_TIER, _OUT_CACHE_OPTIONS, _RESPONSE_FORMAT, _TOOL_CHOICE, _OUT_STREAM_OPTIONS = targets(
    _REQUEST, "top_logprobs", "parallel_tool_calls", "service_tier", "prompt_cache_options", "text", "tool_choice",
    "stream_options")
_CALL_ID = _FUNCTION_CALL["call_id"].to_parts[-1]
_FUNCTION, _NAME = _FUNCTION_CALL["name"].to_parts
_ARGUMENTS = _FUNCTION_CALL["arguments"].to_parts[-1]
_CUSTOM_ID = _CUSTOM_CALL["call_id"].to_parts[-1]
_CUSTOM, _CUSTOM_NAME = _CUSTOM_CALL["name"].to_parts
_CUSTOM_INPUT = _CUSTOM_CALL["input"].to_parts[-1]
_TOOL_CALL_ID = _FUNCTION_OUTPUT["call_id"].to_parts[-1]
_CUSTOM_TOOL_CALL_ID = _CUSTOM_OUTPUT["call_id"].to_parts[-1]
_LOGPROBS = next(r.to for r in _INCLUDE.values() if r.to)  # the one include value chat has a parameter for


def input_to_messages(items: Any, ctx: Context, path: str = "$.input") -> list[dict[str, Any]]:
    """Items → messages, merging function calls into the assistant turn they belong to.

    The common shapes (string messages, output messages of plain text, calls
    and outputs with no extra fields) take an inline fast path; anything else
    goes through the checking converters below, which build JSON paths and
    report losses. Both produce the same result for the same item.
    """
    if type(items) is str:
        return [{"role": "user", "content": items}]
    if type(items) is not list:
        ctx.problem(path, "a string or a list of input items", items)
        return []
    messages: list[dict[str, Any]] = []
    append = messages.append
    turn: dict[str, Any] | None = None  # the assistant message that following calls join
    turn_calls: list[dict[str, Any]] | None = None  # its tool_calls, once it has some
    call_quiet = _FUNCTION_CALL.quiet.issuperset
    output_quiet = _FUNCTION_OUTPUT.quiet.issuperset
    message_quiet = _MESSAGE.quiet.issuperset
    text_quiet = _OUT_TEXT_QUIET.issuperset
    fast = _content.FAST_PATH
    at: Positions | None = None  # made when a slow path first needs an index
    for item in items:  # no enumerate on the hot path: slow paths find the index
        if type(item) is not dict:
            at = at or Positions(items)
            i = at(item)
            ctx.problem(f"{path}[{i}]", "an input item object", item)
            continue
        itype = item.get("type")
        if itype is None:  # an untyped message (every user turn): skip the typed branches' comparisons
            pass
        elif itype == "function_call":
            try:  # subscripts beat .get() by a third; a missing key falls to the checking path
                call_id = item["call_id"]
                name = item["name"]
                args = item["arguments"]
                # Four keys are these four; six are these with the echoed id and status. Their types
                # in one chain (the table declares strings; a stricter test only sends more items to
                # the checking path). Anything else needs the table's look.
                n = len(item)
                plain = (n == 6 and str is type(call_id) is type(name) is type(args) is type(item["id"]) is type(item["status"])) \
                    or (n == 4 and str is type(call_id) is type(name) is type(args))
            except KeyError:
                call_id = name = args = None
                plain = False
            if fast and (plain or (str is type(call_id) is type(name) is type(args) and call_quiet(item) and well_typed(item, _CALL_TYPES))):
                call = {_CALL_ID: call_id, "type": "function", _FUNCTION: {_NAME: name, _ARGUMENTS: args}}
            else:
                at = at or Positions(items)
                checked = _call(item, itype, f"{path}[{at(item)}]", ctx)
                if checked is None:
                    continue
                call = checked
            if turn_calls is not None:
                turn_calls.append(call)
            elif turn is None:
                turn_calls = [call]
                turn = {"role": "assistant", "content": None, "tool_calls": turn_calls}
                append(turn)
            else:
                turn_calls = turn["tool_calls"] = [call]
            continue
        elif itype == "function_call_output":
            try:
                call_id = item["call_id"]
                output = item["output"]
            except KeyError:
                call_id = output = None
            if fast and type(call_id) is str and (len(item) == 3 or (output_quiet(item) and well_typed(item, _OUTPUT_TYPES))):
                if type(output) is not str:
                    output = fast_tool_output(output) if type(output) is list else None
                if output is not None:
                    append({"role": "tool", _TOOL_CALL_ID: call_id, "content": output})
                    turn = turn_calls = None
                    continue
        if (itype is None and "role" in item) or itype == "message":
            try:  # free unless raised: a missing key, or a list/object role (unhashable), takes the checking path
                role = item["role"]
                content = item["content"]
                # {role, content}, or an echoed output message {type, id, role, status, content}, its id
                # and status strings as the table declares: all known.
                n = len(item)
                plain = role in _MESSAGE_ROLES and (
                    n == 2 or (n == 5 and itype is not None and str is type(item["id"]) is type(item["status"]))
                    or ((message_quiet(item) or defaults_only(item, _MESSAGE.quiet, _MESSAGE_RULES))
                        and well_typed(item, _MESSAGE_TYPES)))
            except (KeyError, TypeError):
                role = content = None
                plain = False
            msg: dict[str, Any] | None = None
            if plain and fast:
                if type(content) is str:
                    msg = {"role": role, "content": content}
                elif type(content) is not list:
                    pass
                elif role != "assistant":
                    in_parts = fast_input_parts(content, role != "user")
                    if in_parts is not None:
                        msg = {"role": role, "content": in_parts}
                else:
                    parts = []
                    refused = False
                    for part in content:
                        try:  # a part that is not an object, or lacks a key, takes the checking path
                            ptype = part["type"]
                            if ptype == "output_text":
                                text = part["text"]
                                m = len(part)
                                # {type, text}, or with the annotations an output carries (a list, as declared)
                                if type(text) is not str or not ((m == 3 and type(part["annotations"]) is list) or m == 2
                                                                 or (text_quiet(part) and well_typed(part, _OUT_TEXT_TYPES))):
                                    break
                                parts.append({"type": CHAT_OUT_TEXT, "text": text})
                            elif ptype == "refusal" and type(part) is dict and len(part) == 2 and type(part["refusal"]) is str:
                                parts.append({"type": "refusal", "refusal": part["refusal"]})
                                refused = True
                            else:
                                break
                        except (KeyError, TypeError):
                            break
                    else:  # one refusal part is an echoed refused answer
                        msg = {"role": "assistant", "content": None, "refusal": parts[0]["refusal"]} \
                            if refused and len(parts) == 1 else {"role": "assistant", "content": parts}
            if msg is None:
                at = at or Positions(items)
                msg = _message(item, f"{path}[{at(item)}]", ctx)
                if msg is None:
                    continue
                role = msg["role"]
            append(msg)
            turn = msg if role == "assistant" else None
            turn_calls = None
            continue
        at = at or Positions(items)
        p = f"{path}[{at(item)}]"
        if itype is None:
            ctx.problem(f"{p}.type", "an item type (or a message with a role)", None)
        elif itype == "custom_tool_call":
            custom_call = _call(item, itype, p, ctx)
            if custom_call is None:
                continue
            if turn is None:
                turn = {"role": "assistant", "content": None}
                append(turn)
            turn_calls = turn.setdefault("tool_calls", [])
            turn_calls.append(custom_call)
        elif itype == "function_call_output" or itype == "custom_tool_call_output":
            call_id = item.get("call_id")
            if type(call_id) is not str:
                ctx.problem(f"{p}.call_id", "the call_id of the call this output answers", call_id)
                continue
            ctx.check(item, _FUNCTION_OUTPUT if itype == "function_call_output" else _CUSTOM_OUTPUT, p)
            content = tool_output_to_chat(item.get("output"), f"{p}.output", ctx)
            if content is None:
                continue
            key = _TOOL_CALL_ID if itype == "function_call_output" else _CUSTOM_TOOL_CALL_ID
            append({"role": "tool", key: call_id, "content": content})
            turn = turn_calls = None
        else:
            rule = _ITEM_TYPES.get(itype) if type(itype) is str else None
            if rule is not None and rule.do is DROP:
                ctx.loss(p, itype, rule.kind, rule.reason)
            elif type(itype) is str:
                ctx.loss(p, itype, "unsupported", f"{itype!r} is not an input item type migrator knows; it was not forwarded")
            else:
                ctx.problem(f"{p}.type", "an input item type", itype)
    return messages


def _message(item: dict[str, Any], p: str, ctx: Context) -> dict[str, Any] | None:
    role = item.get("role")
    if type(role) is not str or role not in _MESSAGE_ROLES:
        ctx.problem(f"{p}.role", "one of user, assistant, system, developer", role)
        return None
    ctx.check(item, _MESSAGE, p)
    content = item.get("content")
    if role == "assistant":
        if type(content) is str:
            return {"role": "assistant", "content": content}
        if type(content) is not list:
            ctx.problem(f"{p}.content", "a string or a list of output_text / refusal parts", content)
            return None
        parts, refused = output_parts_to_chat(content, f"{p}.content", ctx)
        if refused and len(parts) == 1:
            return {"role": "assistant", "content": None, "refusal": parts[0]["refusal"]}
        return {"role": "assistant", "content": parts}
    if type(content) is str:
        return {"role": role, "content": content}
    if type(content) is not list:
        ctx.problem(f"{p}.content", "a string or a list of content parts", content)
        return None
    parts = input_parts_to_chat(content, f"{p}.content", ctx, text_only=role != "user")
    return {"role": role, "content": parts} if parts or not content else None


def _call(item: dict[str, Any], itype: str, p: str, ctx: Context) -> dict[str, Any] | None:
    call_id = item.get("call_id")
    name = item.get("name")
    if type(call_id) is not str:
        ctx.problem(f"{p}.call_id", "a string", call_id)
        return None
    if type(name) is not str:
        ctx.problem(f"{p}.name", "a string", name)
        return None
    if itype == "function_call":
        args = item.get("arguments")
        if type(args) is not str:
            ctx.problem(f"{p}.arguments", "a JSON string", args)
            return None
        ctx.check(item, _FUNCTION_CALL, p)
        return {_CALL_ID: call_id, "type": "function", _FUNCTION: {_NAME: name, _ARGUMENTS: args}}
    data = item.get("input")
    if type(data) is not str:
        ctx.problem(f"{p}.input", "a string", data)
        return None
    ctx.check(item, _CUSTOM_CALL, p)
    return {_CUSTOM_ID: call_id, "type": "custom", _CUSTOM: {_CUSTOM_NAME: name, _CUSTOM_INPUT: data}}


# ------------------------------------------------------------- top-level handlers


def _is_object(v: Any, path: str, ctx: Context) -> bool:
    """An object parameter: null means absent, anything else not an object is a problem."""
    if v is None:
        return False
    if type(v) is not dict:
        ctx.problem(path, "an object", v)
        return False
    return True

def _h_input(v: Any, path: str, body: dict[str, Any], out: dict[str, Any], ctx: Context) -> None:
    out[_MESSAGES] = input_to_messages(v, ctx, path)


def _h_instructions(v: Any, path: str, body: dict[str, Any], out: dict[str, Any], ctx: Context) -> None:
    if v is None:
        return
    if type(v) is not str:
        ctx.problem(path, "a string", v)
        return
    out["_instructions"] = {"role": "system", "content": v}


def _h_top_logprobs(v: Any, path: str, body: dict[str, Any], out: dict[str, Any], ctx: Context) -> None:
    out[_TOP_LOGPROBS] = v
    if v is not None:
        out["logprobs"] = True


def _h_parallel(v: Any, path: str, body: dict[str, Any], out: dict[str, Any], ctx: Context) -> None:
    if v is not None:  # Chat types it as a bool; null means the default
        out[_PARALLEL] = v  # kept only if tools survive: see the finishing pass


def _h_service_tier(v: Any, path: str, body: dict[str, Any], out: dict[str, Any], ctx: Context) -> None:
    if v is None:
        out[_OUT_SERVICE_TIER] = None
        return
    tier = ctx.value(_SERVICE_TIER, v, path, "service_tier")
    if tier is not None:
        out[_OUT_SERVICE_TIER] = tier


def _h_cache_options(v: Any, path: str, body: dict[str, Any], out: dict[str, Any], ctx: Context) -> None:
    if not _is_object(v, path, ctx):
        return
    options: dict[str, Any] = {}
    ctx.carry(v, _CACHE_OPTIONS, path, options)
    if "ttl" in v:
        ttl = ctx.value(_CACHE_TTL, v["ttl"], f"{path}.ttl", "ttl")
        if ttl is not None:
            options["ttl"] = ttl
    out[_OUT_CACHE_OPTIONS] = options


def _h_reasoning(v: Any, path: str, body: dict[str, Any], out: dict[str, Any], ctx: Context) -> None:
    if not _is_object(v, path, ctx):
        return
    ctx.carry(v, _REASONING, path, out)


def _h_text(v: Any, path: str, body: dict[str, Any], out: dict[str, Any], ctx: Context) -> None:
    if not _is_object(v, path, ctx):
        return
    ctx.carry(v, _TEXT, path, out)
    fmt = v.get("format")
    if fmt is not None:
        rf = T.responses_text_format(fmt, f"{path}.format", ctx)
        if rf is not None:
            out[_RESPONSE_FORMAT] = rf


def _h_tools(v: Any, path: str, body: dict[str, Any], out: dict[str, Any], ctx: Context) -> None:
    T.responses_tools(v, path, ctx, out)


def _h_tool_choice(v: Any, path: str, body: dict[str, Any], out: dict[str, Any], ctx: Context) -> None:
    choice = T.responses_tool_choice(v, path, ctx)
    if choice is not None:
        out[_TOOL_CHOICE] = choice


def _h_include(v: Any, path: str, body: dict[str, Any], out: dict[str, Any], ctx: Context) -> None:
    if v is None:
        return
    if type(v) is not list:
        ctx.problem(path, "a list of include values", v)
        return
    for i, value in enumerate(v):
        if ctx.value(_INCLUDE, value, f"{path}[{i}]", value if type(value) is str else "include") == _LOGPROBS:
            out[_LOGPROBS] = True


def _h_stream_options(v: Any, path: str, body: dict[str, Any], out: dict[str, Any], ctx: Context) -> None:
    if not _is_object(v, path, ctx):
        return
    options: dict[str, Any] = {}
    ctx.carry(v, _STREAM_OPTIONS, path, options)
    out[_OUT_STREAM_OPTIONS] = options


HANDLERS: dict[str, Handler] = {
    "input": _h_input,
    "instructions": _h_instructions,
    "top_logprobs": _h_top_logprobs,
    "parallel_tool_calls": _h_parallel,
    "service_tier": _h_service_tier,
    "prompt_cache_options": _h_cache_options,
    "reasoning": _h_reasoning,
    "text": _h_text,
    "tools": _h_tools,
    "tool_choice": _h_tool_choice,
    "include": _h_include,
    "responses_stream_options": _h_stream_options,
}


def responses_request_to_chat(body: dict[str, Any], ctx: Context) -> dict[str, Any]:
    out = dispatch(body, _REQUEST, HANDLERS, ctx, _LEAD)
    if "input" not in body and _MESSAGES not in out:
        out[_MESSAGES] = []
    system = out.pop("_instructions", None)
    if system is not None:
        out.setdefault(_SYSTEM_MESSAGES, []).insert(0, system)
    stateful = ctx.native and any(body.get(k) is not None for k in _STATE)  # Responses finds the input there
    if not out.get(_MESSAGES) and type(body.get("input", [])) in (list, str) and not ctx.problems and not stateful:
        # Chat needs at least one message (it answers [] with a 400); the state a Responses request
        # may point to instead (previous_response_id, conversation, prompt) does not reach Chat.
        given = body.get("input")
        ctx.problem("$.input", "input (a string or a non-empty list) or instructions" if not given else
                    "at least one input item that can be carried to Chat (every part was dropped: "
                    f"{ctx.dropped_under('$.input')})", given)
    if "tools" not in out:
        # Chat rejects tool settings without tools; without tools they mean nothing.
        out.pop(_PARALLEL, None)
        choice = out.pop(_TOOL_CHOICE, None)
        if choice not in (None, "none", "auto"):
            ctx.loss("$.tool_choice", "tool_choice", "dropped", "no tool survived the translation, so there is nothing to choose")
    if body.get("stream") is True:
        out.setdefault(_OUT_STREAM_OPTIONS, {})["include_usage"] = True
    ctx.check_model(body, "chat")
    return lead(out, _LEAD)
