"""The offline model: a deterministic stand-in for OpenAI behind ``migrator serve``.

Without an upstream the server still has to answer both endpoints, and tests
of code that talks to it need answers that are *stable* (same request, same
bytes) yet *sensitive* (another history, another answer), that exercise the
hard parts of the API (tool calls, structured output, truncation, refusals,
streaming) and that the official SDK accepts.  Nothing here is learned: the
answer is a template filled from the conversation and from a hash of it.

The model only reads Responses API request bodies; the chat endpoint
translates its requests to this form and the results back, so equivalent
requests on either endpoint get the same content.

Documented behaviour (the server's docs point here):

* Text: ``Offline answer to "<last user message>" (turn <n>): <three words>.``
  where the words are picked by a SHA-256 of the normalized conversation
  (:func:`normalize_conversation`).  After tool outputs the answer quotes
  them: ``... (turn 2) based on get_weather: {"temp_c": 18}; <words>.``
* Tool calls: when function tools are offered and the last user message shares
  a content word with a tool's name or description ("What is the weather in
  Paris?" calls ``get_weather``; see :func:`_content_words`) or names it
  (case-insensitive; ``_``, ``-`` and spaces are interchangeable), or
  ``tool_choice`` is ``"required"`` (the first tool), names a function, or is
  ``allowed_tools`` in ``required`` mode, and the conversation does not end
  with tool outputs.  Several such tools give parallel calls unless
  ``parallel_tool_calls`` is false.  Arguments are built from the tool's JSON
  schema (:class:`_SchemaFiller`): ``prop: value`` in the message, else the
  user's words (proper nouns first), numbers from the message when in range.
* Structured output: ``text.format`` ``json_schema`` gives JSON valid against
  the schema, ``json_object`` a JSON object.
* Refusal: a last user message containing :data:`REFUSAL_TRIGGER` gets a
  ``refusal`` part saying :data:`REFUSAL_TEXT`.
* Tokens: :func:`count_tokens` (regex words and single punctuation marks).
  ``max_output_tokens`` truncates at that many tokens, status ``incomplete``.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Iterator, Mapping
from typing import Any, Final, Literal

from migrator.mapping.api_error import error_body
from migrator.mapping.rules import TABLES
from migrator.mapping.shapes import complete_response
from migrator.streams.finished import finished_events

__all__ = [
    "DEFAULT_CREATED_AT",
    "MODEL_ID",
    "REFUSAL_TEXT",
    "REFUSAL_TRIGGER",
    "OfflineRequestError",
    "count_tokens",
    "generate",
    "generate_events",
    "normalize_conversation",
    "validate",
]

MODEL_ID: Final = "migrator-offline"

#: A last user message containing this (case-insensitive) is refused.  Brackets
#: make it unlikely to appear by accident in real traffic replayed offline.
REFUSAL_TRIGGER: Final = "[[refuse]]"
REFUSAL_TEXT: Final = "I can't help with that."

#: ``created_at`` when the caller passes none: a clock would break byte-for-byte
#: determinism, so it is a fixed instant (2025-01-01T00:00:00Z).
DEFAULT_CREATED_AT: Final = 1_735_689_600

#: The tokenizer: a run of word characters, or one other non-space character.
#: Crude, but documented and cheap, and it makes truncation points predictable.
TOKEN_RE: Final = re.compile(r"\w+|[^\w\s]")

#: The API's own top-level parameters, as the mapping tables know them.
_ALLOWED_PARAMS: Final = frozenset(TABLES["responses.request"])

_WORDS: Final = (
    "amber", "harbor", "quiet", "silver", "meadow", "lantern", "river", "cedar",
    "copper", "willow", "ember", "granite", "velvet", "orchard", "tide", "maple",
    "falcon", "prairie", "cobalt", "thistle", "juniper", "glacier", "saffron", "harvest",
    "pebble", "summit", "marble", "breeze", "crimson", "hollow", "indigo", "canyon",
    "birch", "coral", "dune", "fern", "garnet", "heron", "ivory", "jasper",
    "kestrel", "lagoon", "mist", "nectar", "opal", "pine", "quartz", "raven",
    "sable", "timber", "umber", "valley", "wren", "yarrow", "zephyr", "aspen",
    "basalt", "clover", "delta", "echo", "flint", "grove", "hazel", "island",
)

_STOPWORDS: Final = frozenset(
    """a an the is are was were be been am do does did of in on at to for from by with
    and or but not no yes what whats what's which who whom whose when where why how
    please can could would should will shall may might must i me my we our you your it its
    this that these those there here tell give show get find call use using about into
    some any all let lets let's just also than then so as if up out""".split()
)

_MAX_DEPTH: Final = 6
_HARD_DEPTH: Final = 32
_QUOTE_CHARS: Final = 80
_OUTPUT_QUOTE_CHARS: Final = 120


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
    return OfflineRequestError(f"Unknown parameter: '{param}'.", param=param, code="unknown_parameter")


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

# Keys the SDK may send inside the items it knows.  Output-only fields (``id``,
# ``status``, ``annotations``, ``logprobs``) are here because clients replay
# response items as input verbatim, and the API accepts them there.
_MESSAGE_KEYS: Final = frozenset({"type", "role", "content", "id", "status", "phase"})
_FUNCTION_CALL_KEYS: Final = frozenset({"type", "id", "call_id", "name", "arguments", "status", "namespace", "caller", "async"})
_FUNCTION_OUTPUT_KEYS: Final = frozenset({"type", "id", "call_id", "output", "status", "name", "namespace", "caller"})
_PART_KEYS: Final[Mapping[str, frozenset[str]]] = {
    "input_text": frozenset({"type", "text", "prompt_cache_breakpoint"}),
    "output_text": frozenset({"type", "text", "annotations", "logprobs"}),
    "refusal": frozenset({"type", "refusal"}),
}
# The part types the SDK's input items can hold (openai.types.responses): a message's content
# (ResponseInputMessageContentListParam, and ResponseOutputMessageParam's for replayed
# assistant turns) and a function call output's list (ResponseFunctionCallOutputItemParam).
# tests/test_offline_model.py checks both against the pinned SDK.
_MESSAGE_PART_TYPES: Final = ("input_text", "input_image", "input_file", "output_text", "refusal")
_OUTPUT_PART_TYPES: Final = ("input_text", "input_image", "input_file")
_FUNCTION_TOOL_KEYS: Final = frozenset(
    {"type", "name", "description", "parameters", "strict", "async", "allowed_callers", "defer_loading", "output_schema"}
)
_ROLES: Final = ("assistant", "system", "developer", "user")
_TOOL_NAME_RE: Final = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _num(value: object) -> float | None:
    """A schema keyword's number, or None when absent or not a number."""
    return value if isinstance(value, (int, float)) and not isinstance(value, bool) else None


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
    for key in request:
        if key not in _ALLOWED_PARAMS:
            raise OfflineRequestError(f"Unrecognized request argument supplied: {key}", param=key, code="unknown_parameter")

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


# ------------------------------------------------------------------- normalization


def _canonical(value: object) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _parts_text(content: object) -> str:
    """One string per message, so string content and text parts hash the same."""
    if isinstance(content, str):
        return content
    if not isinstance(content, list):
        return ""
    texts: list[str] = []
    for part in content:
        if not isinstance(part, dict):
            continue
        kind = part.get("type")
        if kind in ("input_text", "output_text", "text") and isinstance(part.get("text"), str):
            texts.append(part["text"])
        elif kind == "refusal" and isinstance(part.get("refusal"), str):
            texts.append(part["refusal"])
        elif kind == "input_image":
            texts.append(_placeholder("image", part.get("image_url") or part.get("file_id")))
        elif kind == "input_file":
            texts.append(_placeholder("file", part.get("filename") or part.get("file_id") or part.get("file_url")))
        elif kind == "input_audio":
            texts.append("[audio]")
    return "\n".join(texts)


def _placeholder(what: str, ref: object) -> str:
    """Media stand in as a marker naming their source, so two images differ."""
    return f"[{what} {ref}]" if isinstance(ref, str) and ref else f"[{what}]"


def _canonical_arguments(arguments: str) -> str:
    """Whitespace and key order in JSON arguments do not change their meaning."""
    try:
        return _canonical(json.loads(arguments))
    except ValueError:
        return arguments


def normalize_conversation(request: Mapping[str, Any]) -> list[dict[str, str]]:
    """The conversation as content only: what the answer and the hash depend on.

    Ids, statuses, ``store``, ``stream`` and every other non-content field are
    left out, ``instructions`` become a leading system message and
    ``developer`` reads as ``system``, so a chat request (system message,
    string content) and its hand-written Responses twin (``instructions``,
    ``input_text`` parts) normalize to the same list.  Empty messages are
    dropped because translators may or may not emit them.
    """
    conv: list[dict[str, str]] = []
    instructions = request.get("instructions")
    if isinstance(instructions, str) and instructions:
        conv.append({"kind": "message", "role": "system", "text": instructions})
    items = request.get("input")
    if isinstance(items, str):
        items = [{"role": "user", "content": items}]
    if not isinstance(items, list):
        return conv
    for item in items:
        if not isinstance(item, dict):
            continue
        kind = item.get("type", "message" if "role" in item else None)
        if kind == "message":
            text = _parts_text(item.get("content"))
            if text:
                role = item.get("role")
                role = "system" if role == "developer" else str(role)
                conv.append({"kind": "message", "role": role, "text": text})
        elif kind == "function_call":
            conv.append({
                "kind": "function_call",
                "name": str(item.get("name", "")),
                "arguments": _canonical_arguments(str(item.get("arguments", ""))),
            })
        elif kind == "function_call_output":
            output = item.get("output")
            conv.append({"kind": "function_call_output", "output": output if isinstance(output, str) else _parts_text(output)})
        elif kind == "custom_tool_call":
            conv.append({"kind": "custom_tool_call", "name": str(item.get("name", "")), "arguments": str(item.get("input", ""))})
        elif kind == "custom_tool_call_output":
            output = item.get("output")
            conv.append({"kind": "custom_tool_call_output", "output": output if isinstance(output, str) else _parts_text(output)})
        elif isinstance(kind, str) and kind not in ("reasoning", "item_reference"):
            rest = {k: v for k, v in item.items() if k not in ("id", "status", "call_id", "type")}
            conv.append({"kind": kind, "text": _canonical(rest)})
    return conv


def _render(conv: list[dict[str, str]]) -> str:
    """The text whose tokens are ``usage.input_tokens``: one line per entry."""
    lines: list[str] = []
    for entry in conv:
        if entry["kind"] == "message":
            lines.append(f"{entry['role']}: {entry['text']}")
        elif "name" in entry:
            lines.append(f"{entry['kind']} {entry['name']} {entry['arguments']}")
        elif "output" in entry:
            lines.append(f"{entry['kind']}: {entry['output']}")
        else:
            lines.append(f"{entry['kind']}: {entry['text']}")
    return "\n".join(lines)


def count_tokens(text: str) -> int:
    """Tokens as this model counts them (:data:`TOKEN_RE`), for usage and limits."""
    return sum(1 for _ in TOKEN_RE.finditer(text))


def _cut(text: str, tokens: int) -> str:
    """The prefix of ``text`` holding its first ``tokens`` tokens, no trailing space."""
    if tokens <= 0:
        return ""
    end = 0
    for n, match in enumerate(TOKEN_RE.finditer(text), 1):
        end = match.end()
        if n == tokens:
            break
    return text[:end]


# ------------------------------------------------------------------------- the model


def _pick_words(seed: str, count: int, salt: str = "") -> list[str]:
    digest = hashlib.sha256(f"{seed}:{salt}".encode()).digest()
    return [_WORDS[digest[i] % len(_WORDS)] for i in range(count)]


def _squash(text: str, limit: int) -> str:
    """One line, at most ``limit`` characters: quotes must stay readable."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


_WORD_RE: Final = re.compile(r"[^\W_]+")
_CAMEL_RE: Final = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+")


def _content_words(text: str) -> set[str]:
    """The words that say what a text is about, in a form two texts can share.

    snake_case, kebab-case and camelCase split into words (``getWeather`` and
    ``get_weather`` give ``get``, ``weather``); case is ignored, and so is a plural
    ``s``; stop words (:data:`_STOPWORDS`, "get" and "find" among them), numbers and
    words of one or two Latin letters say nothing about a tool and are left out.
    """
    words: set[str] = set()
    for token in _WORD_RE.findall(text):
        parts = _CAMEL_RE.findall(token) if token.isascii() and not token.islower() else [token]
        for part in parts:
            word = part.lower()
            if (len(word) > 2 or not word.isascii()) and word not in _STOPWORDS and not word.isdigit():
                words.add(word[:-1] if len(word) > 3 and word.endswith("s") and not word.endswith("ss") else word)
    return words


def _about(tool: Mapping[str, Any]) -> set[str]:
    description = tool.get("description")
    return _content_words(tool["name"]) | (_content_words(description) if isinstance(description, str) else set())


def _mentions(text: str, name: str) -> bool:
    """People write ``get weather`` or ``Get-Weather`` for ``get_weather``; all count."""
    parts = [re.escape(p) for p in re.split(r"[_\-\s]+", name) if p]
    if not parts:
        return False
    pattern = r"(?<![^\W_])" + r"[_\-\s]+".join(parts) + r"(?![^\W_])"
    return re.search(pattern, text, re.IGNORECASE) is not None


class _Context:
    """What the conversation offers to fill answers with, computed once."""

    def __init__(self, request: Mapping[str, Any], variant: int = 0) -> None:
        self.conv = normalize_conversation(request)
        self.seed = _sha(_canonical(self.conv) + (f":variant{variant}" if variant else ""))
        users = [e["text"] for e in self.conv if e["kind"] == "message" and e["role"] == "user"]
        self.turn = len(users)
        self.last_user: str | None = users[-1] if users else None
        trailing: list[str] = []
        for entry in reversed(self.conv):
            if entry["kind"] != "function_call_output":
                break
            trailing.append(entry["output"])
        self.tool_outputs = list(reversed(trailing))
        self.tool_output_names = self._output_names(request, len(trailing))
        self.words = _pick_words(self.seed, 3)
        tool_words = {w for t in _function_tools(request) for w in re.split(r"[_\W]+", t["name"].lower()) if w}
        self.user_words = self._salient(self.last_user or "", tool_words)
        self.numbers = re.findall(r"(?<![\w.])-?\d+(?:\.\d+)?(?![\w.])", self.last_user or "")

    @staticmethod
    def _output_names(request: Mapping[str, Any], count: int) -> list[str]:
        """Names of the functions whose outputs end the conversation, via ``call_id``."""
        items = request.get("input")
        if not isinstance(items, list) or count == 0:
            return []
        names: dict[str, str] = {}
        for item in items:
            if isinstance(item, dict) and item.get("type") == "function_call":
                names[str(item.get("call_id"))] = str(item.get("name"))
        outputs = [i for i in items if isinstance(i, dict) and i.get("type") == "function_call_output"][-count:]
        return [names.get(str(o.get("call_id")), "a tool") for o in outputs]

    @staticmethod
    def _salient(text: str, tool_words: set[str]) -> list[str]:
        """User words worth putting into arguments: proper nouns first, then the rest.

        Words of tool names are left out: "call get_weather for Busan" is about
        Busan, not about weather.  Bare numbers go to numeric fields instead.
        """
        words = re.findall(r"\w+(?:['-]\w+)*", text)
        content = [
            w for w in words
            if w.lower() not in _STOPWORDS and not w.isdigit() and not set(re.split(r"[_\W]+", w.lower())) <= tool_words
        ]
        proper = [w for i, w in enumerate(words) if w[:1].isupper() and i > 0 and w in content]
        rest = [w for w in reversed(content) if w not in proper]
        seen: list[str] = []
        for w in proper + rest:
            if w not in seen:
                seen.append(w)
        return seen

    def sentence(self) -> str:
        words = " ".join(self.words)
        if self.last_user is None:
            head = f"Offline answer (turn {self.turn})"
        else:
            head = f'Offline answer to "{_squash(self.last_user, _QUOTE_CHARS)}" (turn {self.turn})'
        if self.tool_outputs:
            used = "; ".join(
                f"{name}: {_squash(out, _OUTPUT_QUOTE_CHARS)}" for name, out in zip(self.tool_output_names, self.tool_outputs, strict=True)
            )
            return f"{head} based on {used}; {words}."
        return f"{head}: {words}."


class _SchemaFiller:
    """A deterministic instance of a JSON schema, filled from the conversation.

    Covers what function parameters and Structured Outputs use: types (also
    lists of types), properties/required/additionalProperties, items and
    prefixItems with min/maxItems, enum (first value) and const,
    anyOf/oneOf (first non-null branch), allOf (merged), local ``$ref``
    into ``$defs``/``definitions``, string length and common formats,
    numeric bounds and multipleOf.  ``pattern`` is not honoured.  Recursion
    stops growing at a fixed depth: only required properties, minItems
    items, and the null branch of a union when there is one.
    """

    def __init__(self, root: Mapping[str, Any], ctx: _Context, salt: str, *, sentence_first: bool) -> None:
        self.root = root
        self.ctx = ctx
        self.salt = salt
        self._sentence: str | None = ctx.sentence() if sentence_first else None
        self._next_word = 0

    def fill(self) -> Any:
        return self.value(self.root, "$", None, 0, 0)

    def _resolve(self, schema: Mapping[str, Any]) -> Mapping[str, Any]:
        seen = 0
        while isinstance(schema.get("$ref"), str) and seen < _HARD_DEPTH:
            ref: str = schema["$ref"]
            target: Any = self.root
            if ref.startswith("#"):
                for token in ref[1:].split("/"):
                    if not token:
                        continue
                    token = token.replace("~1", "/").replace("~0", "~")
                    target = target.get(token) if isinstance(target, Mapping) else None
            else:
                target = None
            merged = {k: v for k, v in schema.items() if k != "$ref"}
            schema = {**(target if isinstance(target, Mapping) else {}), **merged}
            seen += 1
        return schema

    def value(self, schema: object, path: str, key: str | None, depth: int, variant: int) -> Any:
        if not isinstance(schema, Mapping) or depth > _HARD_DEPTH:
            return self._string({}, path, key) if depth <= _HARD_DEPTH else None
        schema = self._resolve(schema)
        if "const" in schema:
            return schema["const"]
        enum = schema.get("enum")
        if isinstance(enum, list) and enum:
            return enum[variant % len(enum)]
        all_of = schema.get("allOf")
        if isinstance(all_of, list) and all_of:
            return self.value(self._merge(schema, all_of), path, key, depth, variant)
        for union in ("anyOf", "oneOf"):
            branches = schema.get(union)
            if isinstance(branches, list) and branches:
                base = {k: v for k, v in schema.items() if k != union}
                return self.value({**base, **self._resolve(self._branch(branches, depth))}, path, key, depth + 1, variant)
        kind = self._type(schema, depth)
        if kind == "null":
            return None
        if kind == "boolean":
            return int(_sha(f"{self.ctx.seed}:{self.salt}:{path}")[:2], 16) % 2 == 0
        if kind in ("integer", "number"):
            return self._number(schema, kind == "integer")
        if kind == "array":
            return self._array(schema, path, depth)
        if kind == "object":
            return self._object(schema, path, depth)
        return self._string(schema, path, key)

    def _merge(self, schema: Mapping[str, Any], parts: list[Any]) -> dict[str, Any]:
        merged: dict[str, Any] = {k: v for k, v in schema.items() if k != "allOf"}
        for part in parts:
            if not isinstance(part, Mapping):
                continue
            part = self._resolve(part)
            for k, v in part.items():
                if k == "properties" and isinstance(v, Mapping):
                    merged["properties"] = {**merged.get("properties", {}), **v}
                elif k == "required" and isinstance(v, list):
                    merged["required"] = [*merged.get("required", []), *(r for r in v if r not in merged.get("required", []))]
                else:
                    merged.setdefault(k, v)
        return merged

    def _branch(self, branches: list[Any], depth: int) -> Mapping[str, Any]:
        resolved = [self._resolve(b) if isinstance(b, Mapping) else {} for b in branches]
        nulls = [b for b in resolved if b.get("type") == "null"]
        others = [b for b in resolved if b.get("type") != "null"]
        if depth >= _MAX_DEPTH and nulls:
            return nulls[0]
        return others[0] if others else resolved[0]

    @staticmethod
    def _type(schema: Mapping[str, Any], depth: int) -> str:
        kind = schema.get("type")
        if isinstance(kind, list):
            real = [k for k in kind if k != "null"]
            if depth >= _MAX_DEPTH and "null" in kind:
                return "null"
            return str(real[0]) if real else "null"
        if isinstance(kind, str):
            return kind
        if "properties" in schema or "required" in schema or "additionalProperties" in schema:
            return "object"
        if "items" in schema or "prefixItems" in schema:
            return "array"
        if any(k in schema for k in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf")):
            return "number"
        return "string"

    def _object(self, schema: Mapping[str, Any], path: str, depth: int) -> dict[str, Any]:
        props = schema.get("properties")
        props = props if isinstance(props, Mapping) else {}
        required = [r for r in schema.get("required", []) if isinstance(r, str)] if isinstance(schema.get("required"), list) else []
        keys = [k for k in props if depth < _MAX_DEPTH or k in required]
        keys += [r for r in required if r not in keys]
        extra = schema.get("additionalProperties")
        out: dict[str, Any] = {}
        for k in keys:
            sub = props[k] if k in props else (extra if isinstance(extra, Mapping) else {})
            out[k] = self.value(sub, f"{path}.{k}", k, depth + 1, 0)
        return out

    def _array(self, schema: Mapping[str, Any], path: str, depth: int) -> list[Any]:
        prefix = schema.get("prefixItems")
        prefix = prefix if isinstance(prefix, list) else []
        items = schema.get("items")
        if isinstance(items, list):  # draft-04 tuple form
            prefix, items = items, schema.get("additionalItems", {})
        low = int(_num(schema.get("minItems")) or 0)
        high_items = _num(schema.get("maxItems"))
        high = None if high_items is None else int(high_items)
        wanted = max(low, len(prefix), 1 if depth < _MAX_DEPTH else 0)
        if items is False:
            wanted = min(wanted, len(prefix))
        if high is not None:
            wanted = min(wanted, high)
        unique = schema.get("uniqueItems") is True
        out: list[Any] = []
        for i in range(wanted):
            sub = prefix[i] if i < len(prefix) else (items if isinstance(items, Mapping) else {})
            out.append(self.value(sub, f"{path}[{i}]", None, depth + 1, i if unique else 0))
        return out

    def _number(self, schema: Mapping[str, Any], integer: bool) -> int | float:
        low, high = _num(schema.get("minimum")), _num(schema.get("maximum"))
        # draft-04 made exclusiveMinimum/Maximum flags on minimum/maximum
        ex_low = low if schema.get("exclusiveMinimum") is True else _num(schema.get("exclusiveMinimum"))
        ex_high = high if schema.get("exclusiveMaximum") is True else _num(schema.get("exclusiveMaximum"))
        step = _num(schema.get("multipleOf"))
        step = step if step is not None and step > 0 else None

        def ok(v: float) -> bool:
            if (low is not None and v < low) or (high is not None and v > high):
                return False
            if (ex_low is not None and v <= ex_low) or (ex_high is not None and v >= ex_high):
                return False
            if integer and v != int(v):
                return False
            return step is None or math.isclose(v / step, round(v / step), abs_tol=1e-9)

        for raw in self.ctx.numbers:
            v = float(raw)
            if ok(v):
                return int(v) if integer or v == int(v) else v
        guess = 1 + int(self.ctx.seed[:2], 16) % 9
        floor_ = max((b for b in (low, ex_low) if b is not None), default=None)
        ceil_ = min((b for b in (high, ex_high) if b is not None), default=None)
        candidates: list[float] = [guess]
        if floor_ is not None:
            candidates += [math.floor(floor_) + 1, float(floor_)]
        if ceil_ is not None:
            candidates += [math.ceil(ceil_) - 1, float(ceil_)]
        if floor_ is not None and ceil_ is not None:
            candidates.append((floor_ + ceil_) / 2)
        if step is not None:
            candidates = [m * step for c in candidates for m in (math.ceil(c / step), math.floor(c / step))] + candidates
        for v in candidates:
            if ok(v):
                return int(v) if integer or v == int(v) else v
        return int(floor_ or 0) if integer else float(floor_ or 0)

    def _string(self, schema: Mapping[str, Any], path: str, key: str | None) -> str:
        fmt = schema.get("format")
        by_format = {
            "date-time": "2025-01-01T00:00:00Z",
            "date": "2025-01-01",
            "time": "00:00:00Z",
            "email": "offline@example.com",
            "uri": "https://example.com/offline",
            "url": "https://example.com/offline",
            "hostname": "example.com",
            "ipv4": "192.0.2.1",
            "ipv6": "2001:db8::1",
            "uuid": "{}-{}-{}-{}-{}".format(*(self.ctx.seed[a:b] for a, b in ((0, 8), (8, 12), (12, 16), (16, 20), (20, 32)))),
        }
        if isinstance(fmt, str) and fmt in by_format:
            return by_format[fmt]
        text = self._text(path, key)
        low = _num(schema.get("minLength")) or 0
        high = _num(schema.get("maxLength"))
        while len(text) < low:
            text = f"{text} {self.ctx.words[len(text) % 3]}".strip()
        if high is not None and len(text) > high:
            text = text[: int(high)]
        return text

    def _text(self, path: str, key: str | None) -> str:
        if self._sentence is not None:
            text, self._sentence = self._sentence, None
            return text
        user = self.ctx.last_user or ""
        if key:
            spaced = re.escape(key.replace("_", " "))
            # "zone: Asia/Seoul", "city = Busan", 'title is "Dune"': the user named the value
            found = re.search(rf"(?i)\b(?:{re.escape(key)}|{spaced})\s*(?:[:=]|\bis\b)\s*(?:\"([^\"]+)\"|([^\s,;\"]+))", user)
            if found:
                value = found.group(1) or found.group(2).rstrip(".!?)")
                if value:
                    return value
        if self.ctx.user_words:
            word = self.ctx.user_words[self._next_word % len(self.ctx.user_words)]
            self._next_word += 1
            return word
        return " ".join(_pick_words(self.ctx.seed, 2, f"{self.salt}:{path}"))


_Kind = Literal["message", "refusal", "function_call"]


def _function_tools(request: Mapping[str, Any]) -> list[dict[str, Any]]:
    tools = request.get("tools")
    if not isinstance(tools, list):
        return []
    return [t for t in tools if isinstance(t, dict) and t.get("type") == "function" and isinstance(t.get("name"), str)]


def _calls_wanted(request: Mapping[str, Any], ctx: _Context) -> list[dict[str, Any]]:
    """The tools to call this turn, in the order they are offered."""
    tools = _function_tools(request)
    choice = request.get("tool_choice", "auto")
    if not tools or choice == "none" or ctx.tool_outputs:
        return []
    required = choice == "required"
    if isinstance(choice, dict):
        kind = choice.get("type")
        if kind == "function":
            return [t for t in tools if t["name"] == choice.get("name")][:1]
        if kind == "allowed_tools":
            allowed = {t.get("name") for t in choice.get("tools", []) if isinstance(t, dict) and t.get("type") == "function"}
            tools = [t for t in tools if t["name"] in allowed]
            required = choice.get("mode") == "required"
    asked = _content_words(ctx.last_user) if ctx.last_user is not None else set()
    named = [t for t in tools if ctx.last_user is not None and (asked & _about(t) or _mentions(ctx.last_user, t["name"]))]
    if not named and required and tools:
        named = tools[:1]
    if request.get("parallel_tool_calls") is False:
        named = named[:1]
    return named


def _plan(request: Mapping[str, Any], ctx: _Context) -> list[tuple[_Kind, str, str]]:
    """The whole answer before ids and limits: (kind, text or arguments, tool name)."""
    if ctx.last_user is not None and REFUSAL_TRIGGER in ctx.last_user.lower():
        return [("refusal", REFUSAL_TEXT, "")]
    calls = _calls_wanted(request, ctx)
    if calls:
        out: list[tuple[_Kind, str, str]] = []
        for tool in calls:
            params = tool.get("parameters")
            schema = params if isinstance(params, dict) else {"type": "object", "properties": {}}
            args = _SchemaFiller(schema, ctx, tool["name"], sentence_first=False).fill()
            out.append(("function_call", json.dumps(args, ensure_ascii=False, separators=(",", ":")), tool["name"]))
        return out
    text_cfg = request.get("text")
    fmt = text_cfg.get("format") if isinstance(text_cfg, dict) else None
    fmt_type = fmt.get("type") if isinstance(fmt, dict) else None
    if fmt_type == "json_schema" and isinstance(fmt, dict) and isinstance(fmt.get("schema"), dict):
        value = _SchemaFiller(fmt["schema"], ctx, "text", sentence_first=True).fill()
        return [("message", json.dumps(value, ensure_ascii=False), "")]
    if fmt_type == "json_object":
        value = {"answer": ctx.sentence(), "turn": ctx.turn, "words": ctx.words}
        return [("message", json.dumps(value, ensure_ascii=False), "")]
    return [("message", ctx.sentence(), "")]


def _item_id(prefix: str, response_id: str, index: int) -> str:
    return f"{prefix}_{_sha(f'{response_id}:{index}')[:48]}"


def _echo(request: Mapping[str, Any]) -> dict[str, Any]:
    """What the model itself says of the answer; the request's echo and the API's defaults come from
    ``complete_response`` (mappings/shapes.json), as for every Response migrator writes."""
    tier = request.get("service_tier")
    echo: dict[str, Any] = {
        "model": request.get("model", MODEL_ID),
        # The tier that served it: "auto" (or none) resolves to the project default, as the API reports.
        "service_tier": "default" if tier in (None, "auto") else tier,
        "user": request.get("user"),
    }
    if not isinstance(request.get("reasoning"), dict):
        echo["reasoning"] = {"effort": None, "summary": None}  # what the API writes for a model that does not reason
    conversation = request.get("conversation")
    if conversation is not None:
        echo["conversation"] = {"id": conversation} if isinstance(conversation, str) else conversation
    return echo


def _build(request: dict[str, Any], response_id: str | None, created_at: float | None, variant: int = 0) -> dict[str, Any]:
    validate(request)
    ctx = _Context(request, variant)
    rid = response_id if response_id is not None else f"resp_{_sha(_canonical(request))[:48]}"
    # Integer seconds, as the API writes them (callers pass time.time()).
    created = int(created_at) if created_at is not None else DEFAULT_CREATED_AT
    budget = request.get("max_output_tokens")
    incomplete = False
    output: list[dict[str, Any]] = []
    used = 0
    for index, (kind, text, name) in enumerate(_plan(request, ctx)):
        tokens = count_tokens(text)
        if budget is not None and used + tokens > budget:
            text, incomplete = _cut(text, budget - used), True
            tokens = count_tokens(text)
            if tokens == 0 and output:
                break
        used += tokens
        status = "incomplete" if incomplete else "completed"
        if kind == "function_call":
            output.append({
                "type": "function_call", "id": _item_id("fc", rid, index), "call_id": f"call_{_sha(f'{ctx.seed}:{name}:{index}')[:24]}",
                "name": name, "arguments": text, "status": status,
            })
        else:
            part = (
                {"type": "refusal", "refusal": text} if kind == "refusal"
                else {"type": "output_text", "text": text, "annotations": [], "logprobs": []}
            )
            output.append({"type": "message", "id": _item_id("msg", rid, index), "status": status, "role": "assistant", "content": [part]})
        if incomplete:
            break
    input_tokens = count_tokens(_render(ctx.conv))
    return complete_response({
        "id": rid,
        "object": "response",
        "created_at": created,
        "status": "incomplete" if incomplete else "completed",
        "completed_at": None if incomplete else created,
        "error": None,
        "incomplete_details": {"reason": "max_output_tokens"} if incomplete else None,
        "output": output,
        **_echo(request),
        "usage": {
            "input_tokens": input_tokens,
            "input_tokens_details": {"cached_tokens": 0, "cache_write_tokens": 0},
            "output_tokens": used,
            "output_tokens_details": {"reasoning_tokens": 0},
            "total_tokens": input_tokens + used,
        },
    }, dict(request))


def generate(request: dict[str, Any], *, response_id: str | None = None, created_at: float | None = None,
             variant: int = 0) -> dict[str, Any]:
    """The whole Response for a Responses request; raises :class:`OfflineRequestError`.

    Without ``response_id`` the id is a hash of the request and without
    ``created_at`` it is :data:`DEFAULT_CREATED_AT`, so the same request gives
    the same bytes; item ids derive from the response id so that two stored
    responses never share one. ``variant`` > 0 folds into the seed: another
    deterministic answer to the same request (chat's ``n`` choices).
    """
    return _build(request, response_id, created_at, variant)


def generate_events(
    request: dict[str, Any], *, response_id: str | None = None, created_at: float | None = None, variant: int = 0
) -> Iterator[dict[str, Any]]:
    """The same Response as OpenAI streams it, ending in ``generate``'s body.

    Validation happens here, before the first event, so a bad request fails
    when called rather than half-way through an HTTP stream.  Text is sent a
    word per delta and arguments a word or punctuation run per delta, the
    granularity OpenAI's own streams show; ``obfuscation`` padding is left out
    (optional, and meaningless offline).
    """
    final = _build(request, response_id, created_at, variant)
    return finished_events(final)
