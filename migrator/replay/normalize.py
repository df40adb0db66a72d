"""One Exchange → one Record: what a chat.completion and a Response can be compared on.

Both endpoints' answers (and the gateways' variants of them) are read into the same small record
so the judge compares like with like. Reading is tolerant in one direction only: a missing field
becomes ``None`` (or an empty list), never a guessed value, and a present value is kept as it is
even when it is not one of the API's names, so a server's deviation shows up as a difference
instead of being smoothed over.

How a Response ended is read back into chat's ``finish_reason`` names through the value tables the
engine uses (``status`` and ``incomplete_reason`` in mappings/results.json), never a table of its own.
"""

from __future__ import annotations

import json
import re
from collections import OrderedDict
from typing import Any

from migrator.mapping.rules import VALUES

from .model import Exchange, Record, Structured, ToolCall, Usage

_STATUS = VALUES["status"]
_INCOMPLETE = VALUES["incomplete_reason"]
_FINISH = VALUES["finish_reason"]
#: chat's name for a completed Response (``"stop"``, from the status table).
_COMPLETED = _STATUS["completed"].to or "stop"

# A dated model snapshot (gpt-4o-2024-08-06, gpt-4-0613) names the same model as its alias: the two
# endpoints may answer with either, and that is not a difference worth reporting.
_DATE_SUFFIX = re.compile(r"-(?:\d{4}-\d{2}-\d{2}|\d{4})$")

_TEXT_PARTS = frozenset({"text", "output_text"})
_CACHE_SIZE = 256
_MESSAGE = 300  # characters of an error message kept in a Record


def mask_model(model: Any) -> str | None:
    """The model name without its date suffix; ``None`` when the answer names none."""
    if type(model) is not str:
        return None
    return _DATE_SUFFIX.sub("", model)


def normalize(exchange: Exchange, request: dict[str, Any]) -> Record:
    """Reduce one exchange to its Record. ``request`` is the body that was sent: it says whether
    structured output was asked for and which schemas the tool arguments must satisfy."""
    ex: dict[str, Any] = exchange if type(exchange) is dict else {}  # type: ignore[assignment]
    req = request if type(request) is dict else {}
    status = ex.get("status") if type(ex.get("status")) is int else None
    ttft, total = ex.get("ttft_ms"), ex.get("total_ms")
    record: Record = {
        "ok": False, "status": status, "error_type": None, "finish": None, "text": "", "refusal": None,
        "tool_calls": [], "structured": None, "usage": {"input": None, "output": None}, "model": None,
        "ttft_ms": float(ttft) if isinstance(ttft, (int, float)) and type(ttft) is not bool else None,
        "total_ms": float(total) if isinstance(total, (int, float)) and type(total) is not bool else 0.0,
        "choices": 0,
    }
    stream = ex.get("stream")
    if type(stream) is dict:
        record["stream"] = stream  # type: ignore[typeddict-item]
    if ex.get("timed") is False:
        record["timed"] = False
    body = ex.get("body")
    facts = ex.get("error")
    if type(facts) is dict:
        record["error_type"] = _error_type(facts, body)
        if type(facts.get("message")) is str and facts["message"]:
            # The type alone rarely says why: a timeout's is only in the message, and llama.cpp answers
            # invalid_request_error to a request it cannot read, naming the field only in the message.
            record["error_message"] = facts["message"][:_MESSAGE]
        return record
    if status is not None and not 200 <= status < 300:
        record["error_type"] = _body_error_type(body) or "api"
        return record
    if type(body) is not dict:
        record["error_type"] = "protocol"
        return record
    if "choices" in body or body.get("object") == "chat.completion":
        _read_chat(body, record)
    elif "output" in body or body.get("object") == "response":
        _read_response(body, record)
    else:
        record["error_type"] = _body_error_type(body) or "protocol"
        return record
    if record["error_type"] is None:
        record["ok"] = True
    record["usage"] = _usage(body.get("usage"))
    record["model"] = mask_model(body.get("model"))
    tools = _tool_schemas(req)
    for call in record["tool_calls"]:
        _check_arguments(call, tools)
    record["structured"] = _structured(req, record["text"]) if record["ok"] else None
    return record


# ----------------------------------------------------------------------------- errors


def _error_type(facts: dict[str, Any], body: Any) -> str:
    kind = facts.get("type")
    if type(kind) is str and kind:
        return kind
    return _body_error_type(body) or (facts["kind"] if type(facts.get("kind")) is str else "api")


def _body_error_type(body: Any) -> str | None:
    error = body.get("error") if type(body) is dict else None
    if type(error) is dict:
        for key in ("type", "code"):
            if type(error.get(key)) is str and error[key]:
                return str(error[key])
    return None


# ------------------------------------------------------------------------------- chat


def _read_chat(body: dict[str, Any], record: Record) -> None:
    choices = body.get("choices")
    if type(choices) is not list:
        return
    record["choices"] = len(choices)
    first = choices[0] if choices and type(choices[0]) is dict else {}
    finish = first.get("finish_reason")
    record["finish"] = finish if type(finish) is str else None
    message = first.get("message")
    if type(message) is not dict:
        return
    record["text"] = _chat_text(message.get("content"))
    refusal = message.get("refusal")
    record["refusal"] = refusal if type(refusal) is str else None
    calls = message.get("tool_calls")
    if type(calls) is list:
        for call in calls:
            if type(call) is not dict:
                continue
            if type(call.get("custom")) is dict:  # a custom tool's input is free text, not JSON
                record["tool_calls"].append(_custom_call(call["custom"].get("name"), call["custom"].get("input")))
            elif type(call.get("function")) is dict:
                record["tool_calls"].append(_call(call["function"].get("name"), call["function"].get("arguments")))
    legacy = message.get("function_call")
    if type(legacy) is dict:
        record["tool_calls"].append(_call(legacy.get("name"), legacy.get("arguments")))


def _chat_text(content: Any) -> str:
    if type(content) is str:
        return content
    if type(content) is list:  # some gateways answer with content parts
        return "".join(p["text"] for p in content if type(p) is dict and p.get("type") in _TEXT_PARTS and type(p.get("text")) is str)
    return ""


# ---------------------------------------------------------------------------- responses


def _read_response(body: dict[str, Any], record: Record) -> None:
    record["choices"] = 1
    texts: list[str] = []
    refusals: list[str] = []
    output = body.get("output")
    for item in output if type(output) is list else ():
        if type(item) is not dict:
            continue
        kind = item.get("type")
        if kind == "message":
            content = item.get("content")
            for part in content if type(content) is list else ():
                if type(part) is not dict:
                    continue
                if part.get("type") in _TEXT_PARTS and type(part.get("text")) is str:
                    texts.append(part["text"])
                elif part.get("type") == "refusal" and type(part.get("refusal")) is str:
                    refusals.append(part["refusal"])
        elif kind == "function_call":
            record["tool_calls"].append(_call(item.get("name"), item.get("arguments")))
        elif kind == "custom_tool_call":
            record["tool_calls"].append(_custom_call(item.get("name"), item.get("input")))
    if not texts and type(body.get("output_text")) is str:  # a gateway's convenience field, when no message item says more
        texts.append(body["output_text"])
    record["text"] = "".join(texts)
    record["refusal"] = "".join(refusals) if refusals else None
    status = body.get("status")
    if status == "completed":
        record["finish"] = "tool_calls" if record["tool_calls"] else _COMPLETED
    elif status == "incomplete":
        record["finish"] = _incomplete_finish(body.get("incomplete_details"))
    elif type(status) is str and status in _STATUS:  # failed, cancelled, in_progress, queued: no answer
        record["error_type"] = _body_error_type(body) or f"response_{status}"
    else:
        record["finish"] = status if type(status) is str else None


def _incomplete_finish(details: Any) -> str:
    reason = details.get("reason") if type(details) is dict else None
    if type(reason) is not str:
        # The engine's reading of an incomplete Response that gives no reason (migrator/mapping/finish.py).
        return "length"
    rule = _INCOMPLETE.get(reason)
    if rule is not None and rule.to:
        return rule.to
    # A gateway that writes chat's own name (OGX: "length") is read as that name; any other value
    # is kept as it is, so it shows as a difference rather than a guess.
    return reason if reason in _FINISH else f"incomplete:{reason}"


# -------------------------------------------------------------------------- tool calls


def _call(name: Any, arguments: Any) -> ToolCall:
    parsed: Any = arguments
    valid = False
    if type(arguments) is str:
        try:
            parsed = json.loads(arguments)
            valid = True
        except ValueError:
            parsed = arguments
    elif type(arguments) is dict:  # some gateways send the arguments already parsed
        valid = True
    return {"name": name if type(name) is str else "", "arguments": parsed, "arguments_valid": valid}


def _custom_call(name: Any, text: Any) -> ToolCall:
    return {"name": name if type(name) is str else "", "arguments": text if type(text) is str else "", "arguments_valid": type(text) is str}


def _tool_schemas(request: dict[str, Any]) -> dict[str, Any]:
    """Tool name → its ``parameters`` schema, from a chat or a responses request (and chat's legacy ``functions``)."""
    found: dict[str, Any] = {}
    for key in ("tools", "functions"):
        tools = request.get(key)
        for tool in tools if type(tools) is list else ():
            if type(tool) is not dict:
                continue
            fn: dict[str, Any] = tool["function"] if type(tool.get("function")) is dict else tool
            name, params = fn.get("name"), fn.get("parameters")
            if type(name) is str and type(params) is dict:
                found[name] = params
    return found


def _check_arguments(call: ToolCall, schemas: dict[str, Any]) -> None:
    schema = schemas.get(call["name"])
    if schema is None or not call["arguments_valid"]:
        return
    call["arguments_valid"] = _schema_error(schema, call["arguments"]) is None


# -------------------------------------------------------------------------- structured


def _requested_format(request: dict[str, Any]) -> tuple[str, Any] | None:
    """("json_schema", schema) or ("json_object", None) when the request asked for structured output."""
    fmt: Any = request.get("response_format")
    if type(fmt) is dict:  # chat: response_format {type, json_schema: {name, schema}}
        inner = fmt.get("json_schema")
        schema = inner.get("schema") if type(inner) is dict else None
    else:
        text = request.get("text")
        fmt = text.get("format") if type(text) is dict else None
        if type(fmt) is not dict:
            return None
        schema = fmt.get("schema")  # responses: text.format {type, name, schema}
    kind = fmt.get("type")
    if kind == "json_schema":
        return kind, schema
    if kind == "json_object":
        return kind, None
    return None


def _structured(request: dict[str, Any], text: str) -> Structured | None:
    wanted = _requested_format(request)
    if wanted is None:
        return None
    kind, schema = wanted
    try:
        value = json.loads(text)
    except ValueError as exc:
        return {"valid": False, "error": f"not JSON: {exc}"}
    if kind == "json_object" or type(schema) is not dict:
        if type(value) is not dict:
            return {"valid": False, "error": "JSON, but not an object"}
        return {"valid": True, "error": None}
    error = _schema_error(schema, value)
    return {"valid": error is None, "error": error}


# ---------------------------------------------------------------------- schema checks

# Compiling a validator costs far more than using one, and a corpus repeats a handful of schemas:
# one validator per distinct schema (by canonical JSON), the least recently used dropped past the bound.
_VALIDATORS: OrderedDict[str, Any] = OrderedDict()


def _validator(schema: dict[str, Any]) -> Any:
    """A compiled validator for ``schema``, or the text of why the schema itself is unusable."""
    key = json.dumps(schema, sort_keys=True, separators=(",", ":"), default=str)
    found = _VALIDATORS.get(key)
    if found is not None:
        _VALIDATORS.move_to_end(key)
        return found
    import jsonschema  # type: ignore[import-untyped,unused-ignore]  # on first use: a tenth of a second to import

    try:
        cls = jsonschema.validators.validator_for(schema)
        cls.check_schema(schema)
        found = cls(schema)
    except (jsonschema.SchemaError, TypeError, ValueError, RecursionError) as exc:
        found = f"the requested schema is not a valid JSON Schema: {str(getattr(exc, 'message', exc))[:200]}"
    _VALIDATORS[key] = found
    if len(_VALIDATORS) > _CACHE_SIZE:
        _VALIDATORS.popitem(last=False)
    return found


def _schema_error(schema: dict[str, Any], value: Any) -> str | None:
    validator = _validator(schema)
    if type(validator) is str:
        return validator
    try:
        error = next(iter(validator.iter_errors(value)), None)
    except (RecursionError, TypeError, ValueError) as exc:  # a pathological schema ($ref loops, bad regex)
        return f"the requested schema could not be applied: {exc}"[:240]
    if error is None:
        return None
    where = "$" + "".join(f"[{p}]" if type(p) is int else f".{p}" for p in error.absolute_path)
    return f"{where}: {error.message}"[:240]


# ----------------------------------------------------------------------------- usage


def _usage(usage: Any) -> Usage:
    if type(usage) is not dict:
        return {"input": None, "output": None}
    # Either endpoint's names: gateways answer a Response with chat's usage names, and back.
    return {"input": _count(usage, "input_tokens", "prompt_tokens"), "output": _count(usage, "output_tokens", "completion_tokens")}


def _count(usage: dict[str, Any], *keys: str) -> int | None:
    for key in keys:
        if type(usage.get(key)) is int:
            return int(usage[key])
    return None
