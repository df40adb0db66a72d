"""Tools, tool_choice and structured-output formats, both directions.

Chat nests a tool's definition under its type (``{type, function: {...}}``);
Responses flattens it (``{type, name, ...}``). The same goes for named
tool choices, allowed_tools and json_schema formats.
"""

from __future__ import annotations

from typing import Any

from .context import Context, set_path
from .rules import ABSENT, DROP, RENAME, TABLES, VALUES, optional, targets

_C_FUNCTION = TABLES["chat.tool.function"]
_C_CUSTOM = TABLES["chat.tool.custom"]
_C_LEGACY_FN = TABLES["chat.function"]
_C_JSON_SCHEMA = TABLES["chat.response_format.json_schema"]
_C_WEB = TABLES["chat.web_search_options"]
_R_FUNCTION = TABLES["responses.tool.function"]
_R_CUSTOM = TABLES["responses.tool.custom"]
_R_WEB = TABLES["responses.tool.web_search"]
_R_JSON_SCHEMA = TABLES["responses.text.format.json_schema"]
_R_TOOL_TYPES = VALUES["responses.tool_types"]
_R_CHOICE_TYPES = VALUES["responses.tool_choice_types"]
_FORMAT_TYPES = VALUES["response_format_types"]
_C_NAMED = TABLES["chat.tool_choice.named"]
_C_ALLOWED = TABLES["chat.tool_choice.allowed"]
_C_FN_OPTION = TABLES["chat.function_call_option"]
_C_CUSTOM_FORMAT = TABLES["chat.custom_format"]
_C_LOCATION = TABLES["chat.web_search_options.user_location"]
_R_NAMED = TABLES["responses.tool_choice.named"]
_R_ALLOWED = TABLES["responses.tool_choice.allowed"]
_R_CUSTOM_FORMAT = TABLES["responses.custom_format"]
_PLAIN_FORMAT = TABLES["response_format.plain"]

_TOOL_CHOICE_STRINGS = ("none", "auto", "required")
# A function tool with only these keys maps field for field (see responses.tool.function): its fast
# path nests the tool as it is, so it is open only while the table renames each field to
# ``function.<the same name>`` (else every tool takes the checking path, which follows the table).
_FUNCTION_RENAMES = {k: r.to_parts for k, r in _R_FUNCTION.items() if r.do is RENAME}
_NESTS_AS_IS = all(parts == ("function", k) for k, parts in _FUNCTION_RENAMES.items())
_PLAIN_FUNCTION_KEYS = frozenset(_FUNCTION_RENAMES) | {"type"} if _NESTS_AS_IS else frozenset()
_FN_PARAMETERS, _FN_DESCRIPTION, _FN_STRICT = targets(_R_FUNCTION, "parameters", "description", "strict")
# The web search location's fields (flat in Responses) and where the table nests them.
_LOCATION_TARGETS = {k: r.to_parts for k, r in _R_WEB.levels["user_location"].items() if r.do is RENAME}
_APPROXIMATE = _R_WEB["city"].to_parts[0]
_ALLOWED, _ALLOWED_MODE = _R_ALLOWED["mode"].to_parts
(_ALLOWED_TOOLS,) = targets(_R_ALLOWED, "tools")
(_R_NAME,) = targets(_R_NAMED, "name")
_R_CUSTOM_FORMAT_AT = _R_CUSTOM["format"].to_parts
# Chat → Responses: where a named choice's name, an allowed_tools choice's mode and tools, a custom
# tool's format and a web search location go.
_C_NAME = {kind: targets(_C_NAMED, kind)[0] for kind in ("function", "custom")}
_C_MODE, _C_TOOLS = targets(_C_ALLOWED, "allowed_tools", "tools")
(_C_FORMAT,) = targets(_C_CUSTOM, "format")
(_C_USER_LOCATION,) = targets(_C_WEB, "user_location")
(_R_USER_LOCATION,) = targets(_R_WEB, "user_location")
# The declared types of the plain function fields (a missing one is fine): the fast paths check them.
_C_DESCRIPTION, _C_PARAMETERS, _C_STRICT = (optional(_C_FUNCTION.levels["function"][k].types)
                                            for k in ("description", "parameters", "strict"))
_R_DESCRIPTION, _R_PARAMETERS, _R_STRICT = (optional(_R_FUNCTION[k].types) for k in ("description", "parameters", "strict"))


def _name(obj: Any, path: str, ctx: Context) -> str | None:
    name = obj.get("name") if type(obj) is dict else None
    if type(name) is not str:
        ctx.problem(f"{path}.name", "a string", name)
        return None
    return name


# ---------------------------------------------------------------- chat → responses

def chat_tools(tools: Any, path: str, ctx: Context) -> list[dict[str, Any]]:
    if type(tools) is not list:
        ctx.problem(path, "a list of tools", tools)
        return []
    out: list[dict[str, Any]] = []
    fn_quiet = _C_FUNCTION.quiet.issuperset
    inner_quiet = _C_FUNCTION.quiet_at["function"].issuperset
    for i, tool in enumerate(tools):
        fn: Any = tool.get("function") if type(tool) is dict else None
        if type(fn) is dict and tool.get("type") == "function" and fn_quiet(tool) and inner_quiet(fn) \
                and type(fn.get("name")) is str and type(fn.get("description", ABSENT)) in _C_DESCRIPTION \
                and type(fn.get("parameters", ABSENT)) in _C_PARAMETERS and type(fn.get("strict", ABSENT)) in _C_STRICT:
            # The common shape: flatten it, writing the Chat defaults Responses would read otherwise.
            flat = {"type": "function", **fn}
            if flat.get("strict") is None:
                flat["strict"] = False
            flat.setdefault("parameters", None)
            out.append(flat)
            continue
        p = f"{path}[{i}]"
        if type(tool) is not dict:
            ctx.problem(p, "a tool object", tool)
            continue
        ttype = tool.get("type")
        if ttype == "function":
            fn = tool.get("function")
            name = _name(fn, f"{p}.function", ctx)
            if name is None:
                continue
            ctx.check(tool, _C_FUNCTION, p)
            new: dict[str, Any] = {"type": "function", "name": name}
            ctx.carry(fn, _C_FUNCTION, f"{p}.function", new, at="function")
            new.setdefault("parameters", None)
            if new.get("strict") is None:
                new["strict"] = False
            out.append(new)
        elif ttype == "custom":
            custom: Any = tool.get("custom")
            name = _name(custom, f"{p}.custom", ctx)
            if name is None:
                continue
            ctx.check(tool, _C_CUSTOM, p)
            new = {"type": "custom"}
            ctx.carry(custom, _C_CUSTOM, f"{p}.custom", new, at="custom")
            fmt = custom.get("format")
            if fmt is not None:
                new[_C_FORMAT] = _chat_custom_format(fmt, f"{p}.custom.format", ctx)
            out.append(new)
        else:
            ctx.problem(f"{p}.type", "function or custom", ttype)
    return out


def _chat_custom_format(fmt: Any, path: str, ctx: Context) -> Any:
    if type(fmt) is not dict:
        ctx.problem(path, "an object {type: text} or {type: grammar, grammar}", fmt)
        return fmt
    ctx.check(fmt, _C_CUSTOM_FORMAT, path, at="" if fmt.get("type") == "grammar" else "text")
    if fmt.get("type") == "grammar":
        grammar: Any = fmt.get("grammar")
        if type(grammar) is not dict:
            ctx.problem(f"{path}.grammar", "an object with definition and syntax", grammar)
            return fmt
        ctx.check(grammar, _C_CUSTOM_FORMAT, f"{path}.grammar", at="grammar")
        return {"type": "grammar", "definition": grammar.get("definition"), "syntax": grammar.get("syntax")}
    return {"type": fmt.get("type")}


def chat_functions(functions: Any, path: str, ctx: Context) -> list[dict[str, Any]]:
    """Legacy ``functions`` → function tools (non-strict, as they always were)."""
    if type(functions) is not list:
        ctx.problem(path, "a list of function definitions", functions)
        return []
    out: list[dict[str, Any]] = []
    for i, fn in enumerate(functions):
        p = f"{path}[{i}]"
        name = _name(fn, p, ctx)
        if name is None:
            continue
        new: dict[str, Any] = {"type": "function", "name": name}
        ctx.carry(fn, _C_LEGACY_FN, p, new)
        new.setdefault("parameters", None)
        new["strict"] = False
        out.append(new)
    return out


def _not_an_object(choice: Any, path: str, ctx: Context, objects: str) -> Any:
    """A tool choice that is no object: a mode string goes on as it is (a problem when unknown),
    anything else is a problem (None)."""
    if type(choice) is str:
        if choice not in _TOOL_CHOICE_STRINGS:
            ctx.problem(path, f"none, auto, required or {objects}", choice)
        return choice
    ctx.problem(path, "a string or a tool choice object", choice)
    return None


def chat_tool_choice(choice: Any, path: str, ctx: Context) -> Any:
    if type(choice) is not dict:
        return _not_an_object(choice, path, ctx, "a named tool choice")
    ctype = choice.get("type")
    if ctype == "function" or ctype == "custom":
        return {"type": ctype, _C_NAME[ctype]: _named(choice, ctype, path, ctx)}
    if ctype == "allowed_tools":
        allowed = choice.get("allowed_tools")
        if type(allowed) is not dict:
            ctx.problem(f"{path}.allowed_tools", "an object with mode and tools", allowed)
            return None
        if type(allowed.get("tools")) is not list:
            ctx.problem(f"{path}.allowed_tools.tools", "a list of tool references", allowed.get("tools"))
            return None
        ctx.check(choice, _C_ALLOWED, path)
        ctx.check(allowed, _C_ALLOWED, f"{path}.allowed_tools", at="allowed_tools")
        refs = []
        for i, ref in enumerate(allowed["tools"]):
            rp = f"{path}.allowed_tools.tools[{i}]"
            if type(ref) is not dict:
                ctx.problem(rp, "a tool reference object", ref)
                continue
            rtype = ref.get("type")
            if rtype in ("function", "custom"):
                refs.append({"type": rtype, _C_NAME[rtype]: _named(ref, rtype, rp, ctx)})
            else:
                ctx.problem(f"{rp}.type", "function or custom", rtype)
        return {"type": "allowed_tools", _C_MODE: allowed.get("mode"), _C_TOOLS: refs}
    ctx.problem(f"{path}.type", "function, custom or allowed_tools", ctype)
    return None


def _named(choice: dict[str, Any], ctype: str, path: str, ctx: Context) -> str | None:
    """The name in a chat named choice ({type, function: {name}}), every key checked against the table."""
    ctx.check(choice, _C_NAMED, path)
    inner = choice.get(ctype)
    if type(inner) is dict:
        ctx.check(inner, _C_NAMED, f"{path}.{ctype}", at=ctype)
    return _name(inner, f"{path}.{ctype}", ctx)


def chat_function_call(choice: Any, path: str, ctx: Context) -> Any:
    """Legacy ``function_call`` → tool_choice."""
    if choice in ("none", "auto"):
        return choice
    if type(choice) is dict:
        ctx.check(choice, _C_FN_OPTION, path)
    name = _name(choice, path, ctx)
    return {"type": "function", "name": name} if name is not None else None


def chat_response_format(fmt: Any, path: str, ctx: Context) -> dict[str, Any] | None:
    if type(fmt) is not dict:
        ctx.problem(path, "an object with type text, json_object or json_schema", fmt)
        return None
    ftype = fmt.get("type")
    if ftype == "json_schema":
        js = fmt.get("json_schema")
        name = _name(js, f"{path}.json_schema", ctx)
        if name is None:
            return None
        ctx.check(fmt, _C_JSON_SCHEMA, path)
        new: dict[str, Any] = {"type": "json_schema"}
        ctx.carry(js, _C_JSON_SCHEMA, f"{path}.json_schema", new, at="json_schema")
        if "schema" not in new:
            new["schema"] = {}
        return new
    if type(ftype) is str and ftype in _FORMAT_TYPES:
        ctx.check(fmt, _PLAIN_FORMAT, path)
        return {"type": ftype}
    ctx.problem(f"{path}.type", "text, json_object or json_schema", ftype)
    return None


def chat_web_search(options: Any, path: str, ctx: Context) -> dict[str, Any] | None:
    if type(options) is not dict:
        ctx.problem(path, "an object", options)
        return None
    tool: dict[str, Any] = {"type": "web_search"}
    ctx.carry(options, _C_WEB, path, tool)
    location = options.get("user_location")
    if location is not None:
        if type(location) is not dict:
            ctx.problem(f"{path}.user_location", "an object {type, approximate}", location)
        else:
            flat: dict[str, Any] = {"type": location.get("type", "approximate")}
            ctx.check(location, _C_LOCATION, f"{path}.user_location")
            approx = location.get("approximate")
            if type(approx) is dict:
                ctx.carry(approx, _C_LOCATION, f"{path}.user_location.approximate", flat, at="approximate")
            tool[_C_USER_LOCATION] = flat
    return tool


# ---------------------------------------------------------------- responses → chat

def responses_tools(tools: Any, path: str, ctx: Context, out: dict[str, Any]) -> None:
    """Function/custom tools → ``out['tools']``; a web search tool → ``out['web_search_options']``."""
    if type(tools) is not list:
        ctx.problem(path, "a list of tools", tools)
        return
    chat_tools_out: list[dict[str, Any]] = []
    plain = _PLAIN_FUNCTION_KEYS.issuperset
    for i, tool in enumerate(tools):
        if type(tool) is dict and tool.get("type") == "function" and type(tool.get("name")) is str and plain(tool) \
                and type(tool.get("description", ABSENT)) in _R_DESCRIPTION \
                and type(tool.get("parameters", ABSENT)) in _R_PARAMETERS and type(tool.get("strict", ABSENT)) in _R_STRICT:
            # The common shape, with nothing to drop or report: nest it directly.
            fn = tool.copy()
            del fn["type"]
            for value in fn.values():
                if value is None:  # null description/parameters/strict: Chat wants them left out
                    fn = {k: v for k, v in fn.items() if v is not None}
                    break
            if "strict" not in fn:
                fn["strict"] = True
            chat_tools_out.append({"type": "function", "function": fn})
            continue
        p = f"{path}[{i}]"
        if type(tool) is not dict:
            ctx.problem(p, "a tool object", tool)
            continue
        ttype = tool.get("type")
        if type(ttype) is not str:
            ctx.problem(f"{p}.type", "a tool type (a string)", ttype)
            continue
        rule = _R_TOOL_TYPES.get(ttype)
        if rule is None:
            ctx.loss(p, str(ttype), "unsupported", f"{ttype!r} is not a Responses tool type migrator knows; it was not forwarded")
            continue
        if rule.do is DROP:
            ctx.loss(p, ttype, rule.kind, rule.reason)
            continue
        if ttype == "function":
            name = _name(tool, p, ctx)
            if name is None:
                continue
            new: dict[str, Any] = {"type": "function"}
            ctx.carry(tool, _R_FUNCTION, p, new)
            fn = new["function"]
            for key in (_FN_PARAMETERS, _FN_DESCRIPTION):
                if key in fn and fn[key] is None:
                    del fn[key]
            if fn.get(_FN_STRICT) is None:
                fn[_FN_STRICT] = True
            chat_tools_out.append(new)
        elif ttype == "custom":
            name = _name(tool, p, ctx)
            if name is None:
                continue
            new = {"type": "custom"}
            ctx.carry(tool, _R_CUSTOM, p, new)
            fmt = tool.get("format")
            if fmt is not None:
                set_path(new, _R_CUSTOM_FORMAT_AT, _responses_custom_format(fmt, f"{p}.format", ctx))
            chat_tools_out.append(new)
        else:  # a web search tool
            if "web_search_options" in out:
                ctx.loss(p, ttype, "unsupported", "Chat takes one web_search_options; this second web search tool was not forwarded")
                continue
            options: dict[str, Any] = {}
            ctx.carry(tool, _R_WEB, p, options)
            location = tool.get("user_location")
            if type(location) is dict:
                nested: dict[str, Any] = {"type": location.get("type", "approximate")}
                targets = _LOCATION_TARGETS
                approx = {targets[k][-1]: v for k, v in location.items() if k in targets and v is not None}
                ctx.check(location, _R_WEB, f"{p}.user_location", at="user_location")
                nested[_APPROXIMATE] = approx
                options[_R_USER_LOCATION] = nested
            out["web_search_options"] = options
    if chat_tools_out:
        out["tools"] = chat_tools_out


def _responses_custom_format(fmt: Any, path: str, ctx: Context) -> Any:
    if type(fmt) is not dict:
        ctx.problem(path, "an object {type: text} or {type: grammar, definition, syntax}", fmt)
        return fmt
    out: dict[str, Any] = {"type": fmt.get("type")}
    ctx.carry(fmt, _R_CUSTOM_FORMAT, path, out, at="" if fmt.get("type") == "grammar" else "text")
    return out


def responses_tool_choice(choice: Any, path: str, ctx: Context) -> Any:
    if type(choice) is not dict:
        return _not_an_object(choice, path, ctx, "a tool choice object")
    ctype = choice.get("type")
    rule = _R_CHOICE_TYPES.get(ctype) if type(ctype) is str else None
    if rule is None:
        ctx.problem(f"{path}.type", "a tool choice type", ctype)
        return None
    if rule.do is DROP:
        ctx.loss(path, ctype, rule.kind, rule.reason)
        return None
    if ctype == "function" or ctype == "custom":
        ctx.check(choice, _R_NAMED, path)
        return {"type": ctype, ctype: {_R_NAME: _name(choice, path, ctx)}}
    # allowed_tools
    ctx.check(choice, _R_ALLOWED, path)
    refs = []
    tools = choice.get("tools")
    if type(tools) is not list:
        ctx.problem(f"{path}.tools", "a list of tool references", tools)
        return None
    for i, ref in enumerate(tools):
        rp = f"{path}.tools[{i}]"
        if type(ref) is not dict:
            ctx.problem(rp, "a tool reference object", ref)
            continue
        rtype = ref.get("type")
        if rtype in ("function", "custom"):
            ctx.check(ref, _R_NAMED, rp)
            refs.append({"type": rtype, rtype: {_R_NAME: _name(ref, rp, ctx)}})
        elif type(rtype) is not str:
            ctx.problem(f"{rp}.type", "a tool type (a string)", rtype)
        else:
            r = _R_TOOL_TYPES.get(rtype)
            ctx.loss(rp, rtype, "unsupported", r.reason if r is not None and r.reason else "Chat can restrict the choice to function and custom tools only")
    if not refs:
        ctx.loss(path, "allowed_tools", rule.kind, rule.reason)
        return None
    return {"type": "allowed_tools", _ALLOWED: {_ALLOWED_MODE: choice.get("mode"), _ALLOWED_TOOLS: refs}}


def responses_text_format(fmt: Any, path: str, ctx: Context) -> dict[str, Any] | None:
    if type(fmt) is not dict:
        ctx.problem(path, "an object with type text, json_object or json_schema", fmt)
        return None
    ftype = fmt.get("type")
    if ftype == "json_schema":
        if _name(fmt, path, ctx) is None:
            return None
        new: dict[str, Any] = {"type": "json_schema"}
        ctx.carry(fmt, _R_JSON_SCHEMA, path, new)
        return new
    if type(ftype) is str and ftype in _FORMAT_TYPES:
        ctx.check(fmt, _PLAIN_FORMAT, path)
        return {"type": ftype}
    ctx.problem(f"{path}.type", "text, json_object or json_schema", ftype)
    return None

