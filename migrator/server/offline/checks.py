"""The offline model's request checks: what the real API answers with a 400, it refuses too.

Checks stop at the first problem, as the API reports one at a time, and word
their messages, codes and ``param`` as the API does, so that offline tests of a
client catch the bad requests OpenAI would refuse.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any, Final

from ...mapping.api_error import error_body
from ...mapping.params import UNKNOWN_PARAMETER, unknown_parameters, unrecognized
from ...mapping.rules import TABLES

#: The API's own top-level parameters, as the mapping tables know them.
_ALLOWED_PARAMS: Final = frozenset(TABLES["responses.request"])


# ----------------------------------------------------------------------------- errors


class OfflineRequestError(ValueError):
    """A request the real API would answer with a 400, with the same fields.

    Raised rather than returned so that :func:`generate` cannot be called on a
    body the API would refuse; the server turns it into :meth:`body`.
    """

    def __init__(self, message: str, *, param: str | None, code: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.param = param
        self.code = code
        self.status = status

    def body(self) -> dict[str, Any]:
        """The HTTP error body, shaped as OpenAI's (``{"error": {...}}``)."""
        return error_body(self.message, "invalid_request_error", self.code, self.param)


def _type_name(value: object) -> str:
    """The API's wording for a JSON type in ``Invalid type`` messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a decimal"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return f"a {type(value).__name__}"


def _invalid_type(param: str, expected: str, value: object) -> OfflineRequestError:
    return OfflineRequestError(
        f"Invalid type for '{param}': expected {expected}, but got {_type_name(value)} instead.",
        param=param, code="invalid_type",
    )


def _missing(param: str) -> OfflineRequestError:
    return OfflineRequestError(f"Missing required parameter: '{param}'.", param=param, code="missing_required_parameter")


def _unknown_nested(param: str) -> OfflineRequestError:
    return OfflineRequestError(f"Unknown parameter: '{param}'.", param=param, code=UNKNOWN_PARAMETER)


def _empty_array(param: str) -> OfflineRequestError:
    return OfflineRequestError(
        f"Invalid '{param}': empty array. Expected an array with minimum length 1, but got an empty array instead.",
        param=param, code="empty_array",
    )


def _invalid_value(param: str, value: object, supported: tuple[str, ...]) -> OfflineRequestError:
    shown = f"'{value[:60]}'" if isinstance(value, str) else json.dumps(value, default=str)[:60]
    listed = ", ".join(repr(s) for s in supported[:-1]) + f", and {supported[-1]!r}" if len(supported) > 1 else repr(supported[0])
    return OfflineRequestError(
        f"Invalid value: {shown}. Supported values are: {listed}.", param=param, code="invalid_value"
    )


# ------------------------------------------------------------------------- validation


def _keys(table: str) -> frozenset[str]:
    """The fields the mapping tables know for one object kind, at its top level.

    The tables list every field the SDK may send, output-only ones included
    (``id``, ``status``, ``annotations``, ``logprobs``: clients replay response
    items as input verbatim, and the API accepts them there), so the model
    accepts what the translator reads, and both move with ``mappings/``.
    tests/test_offline_model.py checks them against the pinned SDK.
    """
    return frozenset(TABLES[table].levels.get("", {}))


_MESSAGE_KEYS: Final = _keys("responses.item.message")
_FUNCTION_CALL_KEYS: Final = _keys("responses.item.function_call")
_FUNCTION_OUTPUT_KEYS: Final = _keys("responses.item.function_call_output")
_FUNCTION_TOOL_KEYS: Final = _keys("responses.tool.function")
# The parts whose text the model reads are checked key by key; media parts (input_image,
# input_file) carry none, and the translator has vetted their keys.
_PART_KEYS: Final[Mapping[str, frozenset[str]]] = {
    kind: _keys(f"responses.part.{kind}") for kind in ("input_text", "output_text", "refusal")
}
# Hand-written, as no table says it: which part types each container may hold. The part tables
# (responses.part.*) list every part kind, not where each is allowed (a function call output
# takes no output_text), and the order here is the API's in "Supported values are: ..." messages.
# The types the SDK's input items can hold (openai.types.responses): a message's content
# (ResponseInputMessageContentListParam, and ResponseOutputMessageParam's for replayed
# assistant turns) and a function call output's list (ResponseFunctionCallOutputItemParam).
# tests/test_offline_model.py checks both against the pinned SDK.
_MESSAGE_PART_TYPES: Final = ("input_text", "input_image", "input_file", "output_text", "refusal")
_OUTPUT_PART_TYPES: Final = ("input_text", "input_image", "input_file")
# Hand-written too: the tables map fields, not the values of ``role`` (the chat.message.* tables
# are Chat's roles, with tool and function), ``tool_choice`` or ``text.format.type``.
_ROLES: Final = ("assistant", "system", "developer", "user")
_TOOL_NAME_RE: Final = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def validate(request: dict[str, Any]) -> None:
    """Refuse what the API refuses, so offline tests catch bad requests too.

    Checks stop at the first problem, as the API reports one at a time.  The
    allowed top-level set is the mapping tables', so it moves with them.
    ``max_output_tokens`` must be at least 1 rather than the Responses API's
    16, because chat requests (``max_tokens`` >= 1) arrive here translated.
    """
    if not isinstance(request, dict):
        raise OfflineRequestError(
            f"Invalid type for request body: expected an object, but got {_type_name(request)} instead.",
            param=None, code="invalid_type",
        )
    unknown = unknown_parameters(request, _ALLOWED_PARAMS)
    if unknown:
        raise OfflineRequestError(unrecognized(unknown[0]), param=unknown[0], code=UNKNOWN_PARAMETER)

    model = request.get("model")
    if model is None:
        raise _missing("model")
    if not isinstance(model, str):
        raise _invalid_type("model", "a string", model)

    _check_input(request)
    _check_optional(request, "instructions", str, "a string")
    _check_optional(request, "previous_response_id", str, "a string")
    _check_optional(request, "stream", bool, "a boolean")
    _check_optional(request, "store", bool, "a boolean")
    _check_optional(request, "parallel_tool_calls", bool, "a boolean")
    _check_range(request, "temperature", 0, 2, integer=False)
    _check_range(request, "top_p", 0, 1, integer=False)
    _check_range(request, "max_output_tokens", 1, None, integer=True)
    _check_metadata(request.get("metadata"))
    names = _check_tools(request.get("tools"))
    _check_tool_choice(request.get("tool_choice"), names)
    _check_text(request.get("text"))


def _check_optional(request: dict[str, Any], key: str, kind: type, expected: str) -> None:
    value = request.get(key)
    if value is None:
        return
    if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
        raise _invalid_type(key, expected, value)


def _check_range(request: dict[str, Any], key: str, low: float, high: float | None, *, integer: bool) -> None:
    value = request.get(key)
    if value is None:
        return
    if integer and not _is_int(value):
        raise _invalid_type(key, "an integer", value)
    if not integer and not _is_number(value):
        raise _invalid_type(key, "a number", value)
    noun = "integer" if integer else "decimal"
    if value < low:
        raise OfflineRequestError(
            f"Invalid '{key}': {noun} below minimum value. Expected a value >= {low}, but got {value} instead.",
            param=key, code=f"{noun}_below_min_value",
        )
    if high is not None and value > high:
        raise OfflineRequestError(
            f"Invalid '{key}': {noun} above maximum value. Expected a value <= {high}, but got {value} instead.",
            param=key, code=f"{noun}_above_max_value",
        )


def _check_metadata(metadata: object) -> None:
    if metadata is None:
        return
    if not isinstance(metadata, dict):
        raise _invalid_type("metadata", "an object", metadata)
    for key, value in metadata.items():
        if not isinstance(value, str):
            raise _invalid_type(f"metadata.{key}", "a string", value)


def _check_input(request: dict[str, Any]) -> None:
    items = request.get("input")
    if items is None:
        if request.get("previous_response_id") is None:
            raise _missing("input")
        return
    if isinstance(items, str):
        return
    if not isinstance(items, list):
        raise _invalid_type("input", "one of a string or array of input items", items)
    if not items:  # a translation that left nothing to send must not get an answer
        raise _empty_array("input")
    for i, item in enumerate(items):
        path = f"input[{i}]"
        kind = _kind(item, path, "an input item (an object)", "message" if isinstance(item, dict) and "role" in item else None)
        if kind == "message":
            _check_keys(item, _MESSAGE_KEYS, path)
            _check_message(item, path)
        elif kind == "function_call":
            _check_keys(item, _FUNCTION_CALL_KEYS, path)
            for key in ("call_id", "name", "arguments"):
                _check_string(item, key, path)
        elif kind == "function_call_output":
            _check_keys(item, _FUNCTION_OUTPUT_KEYS, path)
            _check_string(item, "call_id", path)
            output = item.get("output")
            if output is None:
                raise _missing(f"{path}.output")
            if isinstance(output, list):
                _check_parts(output, f"{path}.output", _OUTPUT_PART_TYPES)
            elif not isinstance(output, str):
                raise _invalid_type(f"{path}.output", "one of a string or array of content parts", output)
        # Other item types (built-in tool calls, reasoning, references...) carry no
        # content this model reads; the translator has vetted their shape.


def _check_keys(item: dict[str, Any], allowed: frozenset[str], path: str) -> None:
    for key in item:
        if key not in allowed:
            raise _unknown_nested(f"{path}.{key}")


def _check_string(item: dict[str, Any], key: str, path: str) -> None:
    value = item.get(key)
    if value is None:
        raise _missing(f"{path}.{key}")
    if not isinstance(value, str):
        raise _invalid_type(f"{path}.{key}", "a string", value)


def _check_message(item: dict[str, Any], path: str) -> None:
    role = item.get("role")
    if role is None:
        raise _missing(f"{path}.role")
    if role not in _ROLES:
        raise _invalid_value(f"{path}.role", role, _ROLES)
    content = item.get("content")
    if content is None:
        raise _missing(f"{path}.content")
    if isinstance(content, list):
        if not content:
            raise _empty_array(f"{path}.content")
        _check_parts(content, f"{path}.content", _MESSAGE_PART_TYPES)
    elif not isinstance(content, str):
        raise _invalid_type(f"{path}.content", "one of a string or array of content parts", content)


def _kind(obj: object, path: str, what: str, default: str | None = None) -> str:
    """The ``type`` of an object in the request, checked as the API checks it."""
    if not isinstance(obj, dict):
        raise _invalid_type(path, what, obj)
    kind = obj.get("type", default)
    if kind is None:
        raise _missing(f"{path}.type")
    if not isinstance(kind, str):
        raise _invalid_type(f"{path}.type", "a string", kind)
    return kind


def _check_parts(parts: list[Any], path: str, supported: tuple[str, ...]) -> None:
    for j, part in enumerate(parts):
        p = f"{path}[{j}]"
        kind = _kind(part, p, "a content part (an object)")
        if kind not in supported:  # {"type": "video"} is a 400 at the API, not an empty turn
            raise _invalid_value(f"{p}.type", kind, supported)
        allowed = _PART_KEYS.get(kind)
        if allowed is None:
            continue
        _check_keys(part, allowed, p)
        _check_string(part, "refusal" if kind == "refusal" else "text", p)


def _check_tools(tools: object) -> list[str]:
    """Also returns the function names, which ``tool_choice`` must come from."""
    if tools is None:
        return []
    if not isinstance(tools, list):
        raise _invalid_type("tools", "an array", tools)
    names: list[str] = []
    for i, tool in enumerate(tools):
        path = f"tools[{i}]"
        kind = _kind(tool, path, "a tool (an object)")
        if kind != "function":
            continue
        _check_keys(tool, _FUNCTION_TOOL_KEYS, path)
        _check_string(tool, "name", path)
        name = tool["name"]
        if not _TOOL_NAME_RE.match(name):
            raise OfflineRequestError(
                f"Invalid '{path}.name': string does not match pattern. Expected a string that matches the pattern '^[a-zA-Z0-9_-]+$'.",
                param=f"{path}.name", code="invalid_value",
            )
        for key, expected, kinds in (("parameters", "an object", dict), ("description", "a string", str), ("strict", "a boolean", bool)):
            value = tool.get(key)
            if value is not None and not isinstance(value, kinds):
                raise _invalid_type(f"{path}.{key}", expected, value)
        names.append(name)
    return names


def _check_tool_choice(choice: object, names: list[str]) -> None:
    if choice is None:
        return
    if isinstance(choice, str):
        if choice not in ("none", "auto", "required"):
            raise _invalid_value("tool_choice", choice, ("none", "auto", "required"))
        return
    if not isinstance(choice, dict):
        raise _invalid_type("tool_choice", "one of a string or object", choice)
    kind = choice.get("type")
    if not isinstance(kind, str):
        raise _missing("tool_choice.type") if kind is None else _invalid_type("tool_choice.type", "a string", kind)
    if kind == "function":
        name = choice.get("name")
        if name is None:
            raise _missing("tool_choice.name")
        if not isinstance(name, str):
            raise _invalid_type("tool_choice.name", "a string", name)
        if name not in names:
            raise OfflineRequestError(
                f"Tool choice 'function' not found in 'tools' parameter: no function named {name!r}.",
                param="tool_choice", code="invalid_value",
            )
    elif kind == "allowed_tools":
        mode = choice.get("mode")
        if mode not in ("auto", "required"):
            raise _missing("tool_choice.mode") if mode is None else _invalid_value("tool_choice.mode", mode, ("auto", "required"))
        allowed = choice.get("tools")
        if not isinstance(allowed, list):
            raise _missing("tool_choice.tools") if allowed is None else _invalid_type("tool_choice.tools", "an array", allowed)
        for i, tool in enumerate(allowed):
            if not isinstance(tool, dict):
                raise _invalid_type(f"tool_choice.tools[{i}]", "an object", tool)
            for key in ("type", "name"):
                if key in tool and not isinstance(tool[key], str):
                    raise _invalid_type(f"tool_choice.tools[{i}].{key}", "a string", tool[key])


def _check_text(text: object) -> None:
    if text is None:
        return
    if not isinstance(text, dict):
        raise _invalid_type("text", "an object", text)
    fmt = text.get("format")
    if fmt is None:
        return
    if not isinstance(fmt, dict):
        raise _invalid_type("text.format", "an object", fmt)
    kind = fmt.get("type")
    if kind not in ("text", "json_object", "json_schema"):
        raise _invalid_value("text.format.type", kind, ("text", "json_object", "json_schema"))
    if kind == "json_schema":
        _check_string(fmt, "name", "text.format")
        schema = fmt.get("schema")
        if schema is None:
            raise _missing("text.format.schema")
        if not isinstance(schema, dict):
            raise _invalid_type("text.format.schema", "an object", schema)
