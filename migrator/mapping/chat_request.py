"""A ``chat.completions.create`` body → a ``responses.create`` body."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from . import content as _content
from . import tools as T
from .content import (
    INPUT_TEXT,
    chat_parts_to_input,
    chat_text_parts_to_input,
    fast_assistant_parts,
    fast_chat_parts,
    fast_chat_text_parts,
)
from .context import Context, Handler, dispatch, lead, position
from .fastpath import Positions, defaults_only
from .ids import ctc_id, fc_id, mint
from .rules import OMIT, RENAME, TABLES, VALUES, targets

_REQUEST = TABLES["chat.request"]
_STREAM_OPTIONS = TABLES["chat.stream_options"]
_MESSAGE = {role: TABLES[f"chat.message.{role}"] for role in ("system", "developer", "user", "assistant", "tool", "function")}
_ROLES = VALUES["chat.roles"]
_CALL_FUNCTION = TABLES["chat.tool_call.function"]
_CALL_CUSTOM = TABLES["chat.tool_call.custom"]
_CALL_QUIET = _CALL_FUNCTION.quiet.issuperset
_CALL_FN_QUIET = _CALL_FUNCTION.quiet_at["function"].issuperset
_LEGACY_CALL = TABLES["chat.message.assistant.function_call"]
_LOGPROBS_INCLUDE = next(v for v, r in VALUES["include"].items() if r.do is RENAME)  # the one include chat has
_ROLE_LIST = ", ".join(_ROLES)
_INPUT = _REQUEST["messages"].to or ""
_LEAD = ("model", "instructions", _INPUT)  # what a Responses body reads first
# Roles whose string-content messages map one to one (a dict lookup gives the key check).
_PLAIN_QUIET = {role: _MESSAGE[role].quiet.issuperset for role in ("system", "developer", "user")}
# Target names as the tables state them (read once: as cheap as literals on the hot path).
_STORE, _MAX_OUTPUT, _TOOL_CHOICE, _FUNCTION_CHOICE, _OUT_STREAM_OPTIONS = targets(
    _REQUEST, "store", "max_tokens", "tool_choice", "function_call", "stream_options")
_TEXT, _FORMAT = _REQUEST["response_format"].to_parts
_OUTPUT_CALL_ID = _MESSAGE["tool"]["tool_call_id"].to_parts[-1]
_FUNCTION_OUTPUT = _MESSAGE["function"]["content"].to_parts[-1]
_CALL_ID = _CALL_FUNCTION["id"].to_parts[-1]
_CUSTOM_CALL_ID = _CALL_CUSTOM["id"].to_parts[-1]
_ASSISTANT_RULES = _MESSAGE["assistant"].levels[""]
_ASSISTANT_QUIET = _MESSAGE["assistant"].quiet
_ASSISTANT_QUIET_OF = _ASSISTANT_QUIET.issuperset
_TOOL_QUIET = _MESSAGE["tool"].quiet.issuperset
_ANNOTATIONS_TYPES = _ASSISTANT_RULES["annotations"].types if _ASSISTANT_RULES["annotations"].do is OMIT else frozenset()


def messages_to_input(messages: Any, ctx: Context, path: str = "$.messages") -> list[dict[str, Any]]:
    """One input item per message; assistant tool calls become items of their own.

    Plain messages (string content, function calls with nothing else on them)
    take an inline fast path; everything else goes through the checking
    converters, which build JSON paths and report losses. Both give the same
    result for the same message.
    """
    if type(messages) is not list:
        ctx.problem(path, "a list of messages", messages)
        return []
    items: list[dict[str, Any]] = []
    if not _content.FAST_PATH:
        for msg in messages:
            i = position(messages, msg)
            if type(msg) is dict:
                _message(msg, msg.get("role"), i, f"{path}[{i}]", ctx, items)
            else:
                ctx.problem(f"{path}[{i}]", "a message object", msg)
        return items
    append = items.append
    plain_quiet = _PLAIN_QUIET
    tool_quiet = _TOOL_QUIET
    assistant_quiet = _ASSISTANT_QUIET_OF
    custom_calls = ctx.custom_calls
    at: Positions | None = None  # made when a slow path first needs an index
    text_last = False  # the last item is assistant text: pure tool calls after it merge into its turn (a loss)
    for msg in messages:  # no enumerate on the hot path: slow paths (and minted ids) find the index
        if type(msg) is not dict:
            at = at or Positions(messages)
            ctx.problem(f"{path}[{at(msg)}]", "a message object", msg)
            continue
        try:  # subscripts beat .get(); free unless raised
            role: Any = msg["role"]
        except KeyError:
            role = None
        content = msg.get("content")
        if role == "tool":  # tool and assistant first: two comparisons are cheaper than a lookup
            try:
                call_id = msg["tool_call_id"]
            except KeyError:
                call_id = None
            if str is type(call_id) is type(content) and (len(msg) == 3 or tool_quiet(msg)):
                append({"type": "custom_tool_call_output" if call_id in custom_calls else "function_call_output",
                        _OUTPUT_CALL_ID: call_id, "output": content})
                text_last = False
                continue
            if type(content) is list and type(call_id) is str and (len(msg) == 3 or tool_quiet(msg)):
                output = fast_chat_text_parts(content)
                if output is not None:
                    append({"type": "custom_tool_call_output" if call_id in custom_calls else "function_call_output",
                            _OUTPUT_CALL_ID: call_id, "output": output})
                    text_last = False
                    continue
        elif role == "assistant":
            n = len(msg)
            if n == 2 and type(content) is str:  # {role, content}
                append(_assistant_said(content))
                text_last = True
                continue
            calls = msg.get("tool_calls")
            # {role, content, tool_calls} (or no content): the commonest turn, nothing else to look at
            if calls and type(calls) is list and (n == 2 or (n == 3 and (type(content) is str or "content" in msg))) \
                    and (content is None or type(content) is str):
                start = len(items)
                if content:
                    append(_assistant_said(content))
                if _append_calls(calls, append):
                    if text_last and not content:
                        at = at or Positions(messages)
                        _merged_turn(ctx, f"{path}[{at(msg)}].tool_calls")
                    text_last = False
                    continue
                del items[start:]
            elif assistant_quiet(msg) or defaults_only(msg, _ASSISTANT_QUIET, _ASSISTANT_RULES):
                at = at or Positions(messages)
                turn = _plain_assistant(msg, content, at, items)
                if turn is not None:
                    if turn is _CALLS and text_last:
                        _merged_turn(ctx, f"{path}[{at(msg)}].tool_calls")
                    if turn is not _NOTHING:
                        text_last = turn is _TEXT_LAST
                    continue
        else:
            try:  # free unless raised
                quiet = plain_quiet.get(role)
            except TypeError:  # a list or object role is unhashable: the checking path reports it
                quiet = None
            if quiet is not None and (len(msg) == 2 or quiet(msg)):  # two keys: role and content
                if type(content) is str:
                    append({"role": role, "content": content})
                    text_last = False
                    continue
                if type(content) is list:
                    parts = fast_chat_parts(content)
                    if parts is not None:
                        append({"role": role, "content": parts})
                        text_last = False
                        continue
        at = at or Positions(messages)
        i = at(msg)
        _message(msg, role, i, f"{path}[{i}]", ctx, items)
        text_last = bool(items) and _assistant_text(items[-1])
    return items


def _assistant_text(item: dict[str, Any]) -> bool:
    return item.get("role") == "assistant" and item.get("type") in (None, "message")


def _assistant_said(content: str) -> dict[str, Any]:
    """An earlier assistant text as an input item. ``type`` is optional for the API (EasyInputMessage),
    but servers that read items strictly (llama.cpp's llama-server) refuse an assistant item without it."""
    return {"type": "message", "role": "assistant", "content": content}


def _merged_turn(ctx: Context, path: str) -> None:
    rule = _MESSAGE["assistant"]["tool_calls"]
    ctx.loss(path, "tool_calls", rule.kind, rule.reason)


def _message_item(i: int, parts: list[dict[str, Any]]) -> dict[str, Any]:
    """An assistant turn that needs parts (a refusal, a part list) as an output message item, its id minted from them."""
    return {"type": "message", "id": mint("msg_", f"{i}:{parts!r}"), "role": "assistant", "status": "completed", "content": parts}


# What an assistant turn taken by the fast path ended with (the next turn's merge check needs it).
_NOTHING, _TEXT_LAST, _CALLS, _TEXT_AND_CALLS = "nothing", "text", "calls", "text and calls"


def _plain_assistant(msg: dict[str, Any], content: Any, at: Positions, items: list[dict[str, Any]]) -> str | None:
    """Append the items of an assistant turn of text, refusal and function calls only, and say what it
    ended with; or append nothing and return None to take the checking path."""
    if msg.get("function_call") is not None \
            or ("annotations" in msg and type(msg["annotations"]) not in _ANNOTATIONS_TYPES):  # omitted; a wrong type is the checking path's
        return None
    calls = msg.get("tool_calls")
    refusal = msg.get("refusal")
    if calls is not None and type(calls) is not list:
        return None
    start = len(items)
    if refusal is None and (type(content) is str or content is None):
        if content or (content == "" and not calls):
            items.append(_assistant_said(content))
    else:
        parts = fast_assistant_parts(content, refusal)
        if parts is None:
            return None
        if parts:
            items.append(_message_item(at(msg), parts))
    if not calls:
        return _TEXT_LAST if len(items) > start else _NOTHING
    texts = len(items) - start
    if not _append_calls(calls, items.append):
        del items[start:]
        return None
    return _TEXT_AND_CALLS if texts else _CALLS


def _append_calls(calls: list[Any], append: Callable[[dict[str, Any]], None]) -> bool:
    """Append the function_call items of plain function calls; False at the first other one
    (the caller takes back what was appended and sends the turn to the checking path)."""
    for call in calls:
        try:  # subscripts: a missing key or a non-object falls to the checking path
            fn = call["function"]
            call_id = call["id"]
            name = fn["name"]
            args = fn["arguments"]
            # {id, type, function} and {name, arguments} hold nothing else; otherwise the tables look.
            if call["type"] != "function" or not (str is type(call_id) is type(name) is type(args)) \
                    or not (len(call) == 3 or _CALL_QUIET(call)) or type(fn) is not dict or not (len(fn) == 2 or _CALL_FN_QUIET(fn)):
                return False
        except (KeyError, TypeError):
            return False
        append({"type": "function_call", "id": fc_id(call_id), _CALL_ID: call_id, "name": name, "arguments": args})
    return True


def _message(msg: dict[str, Any], role: Any, i: int, p: str, ctx: Context, items: list[dict[str, Any]]) -> None:
    """The checking converter for one message (the fast path's fallback)."""
    append = items.append
    table = _MESSAGE.get(role) if type(role) is str else None
    if table is None:
        ctx.problem(f"{p}.role", f"one of {_ROLE_LIST}", role)
        return
    ctx.check(msg, table, p)
    if role == "assistant":
        _assistant(msg, i, p, ctx, items)
    elif role == "tool":
        call_id = msg.get("tool_call_id")
        if type(call_id) is not str:
            ctx.problem(f"{p}.tool_call_id", "the id of the tool call this message answers", call_id)
            return
        output = _tool_content(msg.get("content"), f"{p}.content", ctx)
        if output is None:
            return
        kind = "custom_tool_call_output" if call_id in ctx.custom_calls else "function_call_output"
        append({"type": kind, _OUTPUT_CALL_ID: call_id, "output": output})
    elif role == "function":
        name = msg.get("name")
        if type(name) is not str:
            ctx.problem(f"{p}.name", "the name of the function this message answers", name)
            return
        call_id = ctx.legacy_calls.get(name)
        if call_id is None:
            ctx.problem(f"{p}.name", "the name of a function called by an earlier assistant function_call", name)
            return
        content = msg.get("content")
        append({"type": "function_call_output", "call_id": call_id, _FUNCTION_OUTPUT: content if type(content) is str else ""})
    else:
        content = msg.get("content")
        if type(content) is str:
            append({"role": role, "content": content})
        elif type(content) is list:
            parts = chat_parts_to_input(content, f"{p}.content", ctx)
            if parts or not content:  # an empty list stays; a list whose every part was dropped goes
                append({"role": role, "content": parts})
        else:
            ctx.problem(f"{p}.content", "a string or a list of content parts", content)


def _tool_content(content: Any, path: str, ctx: Context) -> Any:
    if type(content) is str:
        return content
    if type(content) is list:
        return chat_text_parts_to_input(content, path, ctx)
    ctx.problem(path, "a string or a list of text parts", content)
    return None


def _assistant(msg: dict[str, Any], i: int, p: str, ctx: Context, items: list[dict[str, Any]]) -> None:
    start = len(items)
    follows_text = start > 0 and _assistant_text(items[-1])
    content = msg.get("content")
    refusal = msg.get("refusal")
    tool_calls = msg.get("tool_calls")
    if refusal is not None and type(refusal) is not str:
        ctx.problem(f"{p}.refusal", "a string or null", refusal)
        refusal = None
    if type(content) is str and refusal is None:
        if content or (not tool_calls and msg.get("function_call") is None):
            items.append(_assistant_said(content))
    elif type(content) is list or type(content) is str or refusal is not None:
        if type(content) is list:
            parts = chat_parts_to_input(content, f"{p}.content", ctx, assistant=True)
        elif type(content) is str:
            parts = [{"type": "output_text", "text": content, "annotations": []}]
        else:
            parts = []
        if refusal is not None:
            parts.append({"type": "refusal", "refusal": refusal})
        if parts:
            items.append(_message_item(i, parts))
    elif content is not None:
        ctx.problem(f"{p}.content", "a string, a list of text/refusal parts, or null", content)
    if tool_calls is not None:
        before = len(items)
        _tool_calls(tool_calls, f"{p}.tool_calls", ctx, items)
        if follows_text and len(items) > before and before == start:
            _merged_turn(ctx, f"{p}.tool_calls")
    legacy = msg.get("function_call")
    if legacy is not None:
        if type(legacy) is dict:
            ctx.check(legacy, _LEGACY_CALL, f"{p}.function_call")
        name = legacy.get("name") if type(legacy) is dict else None
        if type(name) is not str:
            ctx.problem(f"{p}.function_call.name", "a string", name)
            return
        call_id = mint("call_", f"legacy:{i}:{name}")
        ctx.legacy_calls[name] = call_id
        items.append({"type": "function_call", "id": fc_id(call_id), "call_id": call_id, "name": name,
                      "arguments": legacy.get("arguments", "")})


def _call_strings(call: dict[str, Any], inner: str, second: str, cp: str, ctx: Context) -> tuple[str, str] | None:
    """The name and the ``second`` string (arguments, input) of a function or custom call's inner
    object, or None after reporting the first one missing or of another type."""
    body = call.get(inner)
    if type(body) is not dict:
        ctx.problem(f"{cp}.{inner}", f"an object with name and {second} (strings)", body)
        return None
    name = body.get("name")
    value = body.get(second)
    if type(name) is not str:
        ctx.problem(f"{cp}.{inner}.name", "a string", name)
        return None
    if type(value) is not str:
        ctx.problem(f"{cp}.{inner}.{second}", "a string", value)
        return None
    return name, value


def _tool_calls(calls: Any, path: str, ctx: Context, items: list[dict[str, Any]]) -> None:
    if type(calls) is not list:
        ctx.problem(path, "a list of tool calls", calls)
        return
    for cp, call in ctx.objects(calls, path, "a tool call object"):
        call_id = call.get("id")
        if type(call_id) is not str:
            ctx.problem(f"{cp}.id", "a string (the call id)", call_id)
            continue
        ctype = call.get("type", "function")
        if ctype == "function":
            read = _call_strings(call, "function", "arguments", cp, ctx)
            if read is None:
                continue
            name, args = read
            ctx.check(call, _CALL_FUNCTION, cp)
            ctx.check(call["function"], _CALL_FUNCTION, f"{cp}.function", at="function")
            items.append({"type": "function_call", "id": fc_id(call_id), _CALL_ID: call_id, "name": name, "arguments": args})
        elif ctype == "custom":
            read = _call_strings(call, "custom", "input", cp, ctx)
            if read is None:
                continue
            name, data = read
            ctx.check(call, _CALL_CUSTOM, cp)
            ctx.check(call["custom"], _CALL_CUSTOM, f"{cp}.custom", at="custom")
            ctx.custom_calls.add(call_id)
            items.append({"type": "custom_tool_call", "id": ctc_id(call_id), _CUSTOM_CALL_ID: call_id, "name": name, "input": data})
        else:
            ctx.problem(f"{cp}.type", "function or custom", ctype)


def _hoist(items: list[dict[str, Any]]) -> str | None:
    """The leading system/developer block as instructions (the ``hoist_system`` option)."""
    texts: list[str] = []
    while items and items[0].get("role") in ("system", "developer") and "type" not in items[0]:
        content = items[0]["content"]
        if type(content) is list:
            if any(part.get("type") != INPUT_TEXT or len(part) != 2 for part in content):
                break  # images, files or cache breakpoints have no place in instructions
            content = "\n\n".join(part["text"] for part in content)
        texts.append(content)
        items.pop(0)
    return "\n\n".join(texts) if texts else None


# ------------------------------------------------------------- top-level handlers

def _h_messages(v: Any, path: str, body: dict[str, Any], out: dict[str, Any], ctx: Context) -> None:
    items = messages_to_input(v, ctx, path)
    if ctx.hoist_system:
        instructions = _hoist(items)
        if instructions is not None:
            out["instructions"] = instructions
    out[_INPUT] = items


def _h_store(v: Any, path: str, body: dict[str, Any], out: dict[str, Any], ctx: Context) -> None:
    out[_STORE] = v


def _h_max_tokens(v: Any, path: str, body: dict[str, Any], out: dict[str, Any], ctx: Context) -> None:
    newer = body.get("max_completion_tokens")
    if newer is None:
        out[_MAX_OUTPUT] = v
    elif newer != v and v is not None:
        ctx.loss(path, "max_tokens", "dropped", "max_completion_tokens is also set and takes precedence")


def _h_response_format(v: Any, path: str, body: dict[str, Any], out: dict[str, Any], ctx: Context) -> None:
    fmt = T.chat_response_format(v, path, ctx)
    if fmt is not None:
        out.setdefault(_TEXT, {})[_FORMAT] = fmt


def _h_tools(v: Any, path: str, body: dict[str, Any], out: dict[str, Any], ctx: Context) -> None:
    out.setdefault("tools", []).extend(T.chat_tools(v, path, ctx))


def _h_functions(v: Any, path: str, body: dict[str, Any], out: dict[str, Any], ctx: Context) -> None:
    out.setdefault("tools", []).extend(T.chat_functions(v, path, ctx))


def _h_tool_choice(v: Any, path: str, body: dict[str, Any], out: dict[str, Any], ctx: Context) -> None:
    choice = T.chat_tool_choice(v, path, ctx)
    if choice is not None:
        out[_TOOL_CHOICE] = choice


def _h_function_call(v: Any, path: str, body: dict[str, Any], out: dict[str, Any], ctx: Context) -> None:
    choice = T.chat_function_call(v, path, ctx)
    if choice is not None and "tool_choice" not in body:
        out[_FUNCTION_CHOICE] = choice


def _h_logprobs(v: Any, path: str, body: dict[str, Any], out: dict[str, Any], ctx: Context) -> None:
    if v is True:
        out.setdefault("include", []).append(_LOGPROBS_INCLUDE)
    elif v is not False and v is not None:
        ctx.problem(path, "true or false", v)


def _h_web_search(v: Any, path: str, body: dict[str, Any], out: dict[str, Any], ctx: Context) -> None:
    tool = T.chat_web_search(v, path, ctx)
    if tool is not None:
        out.setdefault("tools", []).append(tool)


def _h_stream_options(v: Any, path: str, body: dict[str, Any], out: dict[str, Any], ctx: Context) -> None:
    if v is None:
        return
    if type(v) is not dict:
        ctx.problem(path, "an object", v)
        return
    options: dict[str, Any] = {}
    ctx.carry(v, _STREAM_OPTIONS, path, options)
    if options:
        out[_OUT_STREAM_OPTIONS] = options


HANDLERS: dict[str, Handler] = {
    "messages": _h_messages,
    "store": _h_store,
    "max_tokens": _h_max_tokens,
    "response_format": _h_response_format,
    "tools": _h_tools,
    "functions": _h_functions,
    "tool_choice": _h_tool_choice,
    "function_call": _h_function_call,
    "logprobs": _h_logprobs,
    "web_search_options": _h_web_search,
    "chat_stream_options": _h_stream_options,
}


def chat_request_to_responses(body: dict[str, Any], ctx: Context) -> dict[str, Any]:
    out = dispatch(body, _REQUEST, HANDLERS, ctx, _LEAD)
    messages = body.get("messages")
    if "messages" not in body:
        ctx.problem("$.messages", "a list of messages", None)
    elif type(messages) is list and not out.get(_INPUT) and "instructions" not in out and not ctx.problems:
        # Nothing to send: the API answers an empty messages list with a 400 (empty_array), and a
        # model asked about nothing answers nothing useful.
        ctx.problem("$.messages", "a non-empty list of messages" if not messages else
                    f"at least one message that can be carried (every part was dropped: {ctx.dropped_under('$.messages')})",
                    messages)
    if "store" not in body:
        out[_STORE] = ctx.default_store
    ctx.check_model(body, "responses")
    return lead(out, _LEAD)
