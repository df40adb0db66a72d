"""Hypothesis strategies for request and result bodies of both APIs.

The *lossless* strategies draw only the engine's canonical forms: bodies that
must come back unchanged (dict equality) from a round trip through the other
API. Each choice below that narrows a form says why (a form the other API
cannot give back unchanged); a defect the properties find gets its minimal
example in ``test_properties.py`` and a fix, not a narrowing here.

The *lossy* strategies add elements that the other API cannot carry and
return, with the body, the exact JSONPath at which a loss must be reported.
"""

from __future__ import annotations

import json
import re
import string
from typing import Any

from hypothesis import strategies as st

from migrator.mapping.rules import TABLES, VALUES
from tests.test_sdk_coverage import resolve_literals

JsonDict = dict[str, Any]


def literals(ref: str) -> list[Any]:
    """The SDK's literal values of a field, sorted (so examples shrink the same way every run)."""
    return sorted(resolve_literals(ref), key=str)


_CHAT = "openai.types.chat.completion_create_params:CompletionCreateParamsBase"
CHAT_SERVICE_TIERS = literals(f"{_CHAT}.service_tier")
REASONING_EFFORTS = literals(f"{_CHAT}.reasoning_effort")
VERBOSITIES = literals(f"{_CHAT}.verbosity")
IMAGE_DETAILS = literals("openai.types.chat.chat_completion_content_part_image_param:ImageURL.detail")
AUDIO_VOICES = literals("openai.types.chat.chat_completion_audio_param:ChatCompletionAudioParam.voice")
AUDIO_FORMATS = literals("openai.types.chat.chat_completion_audio_param:ChatCompletionAudioParam.format")
INPUT_AUDIO_FORMATS = literals("openai.types.chat.chat_completion_content_part_input_audio_param:InputAudio.format")
RESPONSES_SERVICE_TIERS = [
    v for v in literals("openai.types.responses.response_create_params:ResponseCreateParamsBase.service_tier")
    if VALUES["service_tier"][v].do == "copy"  # "ultrafast" is approximated by design
]

# Model names served by both endpoints (models.json reports the others as a loss).
MODELS = st.sampled_from(["gpt-4o", "gpt-4o-mini", "gpt-4.1", "gpt-4.1-mini", "gpt-5", "gpt-5-mini", "o3", "o4-mini"])

# ------------------------------------------------------------------------ building blocks

text = st.text(max_size=12)
nonempty_text = st.text(min_size=1, max_size=12)
short_ascii = st.text(alphabet=string.ascii_letters + string.digits + "_-", min_size=1, max_size=10)
function_names = st.from_regex(re.compile(r"[a-zA-Z_][a-zA-Z0-9_-]{0,15}"), fullmatch=True)

json_scalars = st.none() | st.booleans() | st.integers(-1000, 1000) | st.floats(allow_nan=False, allow_infinity=False) | text
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(text, inner, max_size=3),
    max_leaves=6,
)
json_schemas = st.fixed_dictionaries(
    {"type": st.just("object"), "properties": st.dictionaries(short_ascii, st.sampled_from([{"type": "string"}, {"type": "integer"}]),
                                                              max_size=3)},
    optional={"required": st.lists(short_ascii, max_size=2), "additionalProperties": st.booleans()},
)
metadata = st.dictionaries(st.text(min_size=1, max_size=16), st.text(max_size=24), max_size=3)
arguments = st.dictionaries(short_ascii, json_scalars, max_size=3).map(json.dumps)


# prompt_cache_breakpoint is carried on input parts; an assistant (output_text) part has none
# in Responses, so on assistant parts it is lossy (test_assistant_cache_breakpoint_is_reported).
cache_breakpoints = st.fixed_dictionaries(
    {"mode": st.just("explicit")},
    optional={"ttl": st.sampled_from(literals("openai.types.chat.chat_completion_content_part_text_param:PromptCacheBreakpoint.ttl"))},
)


def _maybe_breakpoint(parts: st.SearchStrategy[JsonDict]) -> st.SearchStrategy[JsonDict]:
    return st.tuples(parts, st.none() | cache_breakpoints).map(
        lambda pb: pb[0] if pb[1] is None else {**pb[0], "prompt_cache_breakpoint": pb[1]})


text_part = st.builds(lambda t: {"type": "text", "text": t}, text)


def text_parts(min_size: int = 1, *, breakpoints: bool = True) -> st.SearchStrategy[list[JsonDict]]:
    return st.lists(_maybe_breakpoint(text_part) if breakpoints else text_part, min_size=min_size, max_size=3)


# The chat API's own constraints shape the lossless subset:
#  * content lists are not empty, and a file part carries file_data or file_id
#    (either empty form sends nothing; the engine drops them with no loss entry, see
#    test_empty_content_list_is_reported and test_empty_file_part_is_reported);
#  * an assistant message that has tool calls is answered by one tool message per
#    call, in order, before the conversation goes on;
#  * tool_choice and parallel_tool_calls appear only with tools (the API
#    rejects them without).
image_parts = _maybe_breakpoint(st.builds(
    lambda url, detail: {"type": "image_url", "image_url": {"url": url, "detail": detail}},
    st.sampled_from(["https://example.com/a.png", "data:image/png;base64,iVBORw0KGgo="]) | text,
    st.sampled_from(IMAGE_DETAILS),
))
file_parts = st.fixed_dictionaries(
    {},
    optional={"file_data": st.just("data:application/pdf;base64,JVBERi0="), "file_id": short_ascii.map("file-{}".format),
              "filename": nonempty_text},
).filter(lambda f: "file_data" in f or "file_id" in f).map(lambda f: {"type": "file", "file": f})
file_parts = _maybe_breakpoint(file_parts)
user_parts = st.lists(_maybe_breakpoint(text_part) | image_parts | file_parts, min_size=1, max_size=4)


@st.composite
def tool_calls(draw: st.DrawFn, ids: set[str]) -> list[JsonDict]:
    calls = []
    for _ in range(draw(st.integers(1, 3))):
        call_id = draw(short_ascii.map("call_{}".format).filter(lambda c: c not in ids))
        ids.add(call_id)
        calls.append({"id": call_id, "type": "function", "function": {"name": draw(function_names), "arguments": draw(arguments)}})
    return calls


@st.composite
def chat_messages(draw: st.DrawFn) -> list[JsonDict]:
    """A conversation in canonical form: 1–6 turns of any kind, tool calls answered in order."""
    messages: list[JsonDict] = []
    ids: set[str] = set()
    kinds = draw(st.lists(st.sampled_from(
        ["system", "developer", "user", "user_parts", "assistant", "assistant_parts", "assistant_refusal", "assistant_calls"]),
        min_size=1, max_size=6))
    for kind in kinds:
        if kind in ("system", "developer"):
            messages.append({"role": kind, "content": draw(text | text_parts())})
        elif kind == "user":
            messages.append({"role": "user", "content": draw(text)})
        elif kind == "user_parts":
            messages.append({"role": "user", "content": draw(user_parts)})
        elif kind == "assistant":
            messages.append({"role": "assistant", "content": draw(text)})
        elif kind == "assistant_parts":
            messages.append({"role": "assistant", "content": draw(text_parts(breakpoints=False))})
        elif kind == "assistant_refusal":
            messages.append({"role": "assistant", "content": None, "refusal": draw(text)})
        else:
            # Content next to tool calls is null or non-empty: an empty string says
            # nothing, and the engine writes no message item for it.
            content = draw(st.none() | nonempty_text)
            # A tool-call turn with null content right after another assistant message
            # cannot come back apart (Responses items carry no message boundary): a
            # lossy form, not a lossless one (test_tool_calls_after_assistant_message_merge).
            if content is None and messages and messages[-1]["role"] == "assistant":
                content = draw(nonempty_text)
            calls = draw(tool_calls(ids))
            messages.append({"role": "assistant", "content": content, "tool_calls": calls})
            for call in calls:
                messages.append({"role": "tool", "tool_call_id": call["id"], "content": draw(text | text_parts())})
    return messages


chat_function_tools = st.lists(
    st.builds(
        lambda name, params, strict, desc: {"type": "function", "function": {"name": name, "parameters": params, "strict": strict, **desc}},
        function_names, json_schemas, st.booleans(),
        st.just({}) | st.builds(lambda d: {"description": d}, text),
    ),
    min_size=1, max_size=3,
)

chat_response_formats = st.sampled_from([{"type": "text"}, {"type": "json_object"}]) | st.builds(
    lambda name, schema, extra: {"type": "json_schema", "json_schema": {"name": name, "schema": schema, **extra}},
    function_names, json_schemas,
    st.fixed_dictionaries({}, optional={"strict": st.booleans(), "description": text}),
)


@st.composite
def chat_requests(draw: st.DrawFn) -> JsonDict:
    """A chat.completions.create body from the lossless subset."""
    body: JsonDict = {"model": draw(MODELS), "messages": draw(chat_messages()), "store": draw(st.booleans())}
    optional = draw(st.fixed_dictionaries({}, optional={
        "temperature": st.floats(0, 2),
        "top_p": st.floats(0, 1),
        "max_completion_tokens": st.integers(1, 100_000),
        "metadata": metadata,
        "user": text,
        "safety_identifier": text,
        "prompt_cache_key": text,
        "verbosity": st.sampled_from(VERBOSITIES),
        "reasoning_effort": st.sampled_from(REASONING_EFFORTS),
        "response_format": chat_response_formats,
        "service_tier": st.sampled_from(CHAT_SERVICE_TIERS),
        "stream": st.just(False),
    }))
    body.update(optional)
    if draw(st.booleans()):
        body["logprobs"] = True
        if draw(st.booleans()):
            body["top_logprobs"] = draw(st.integers(0, 20))
    if draw(st.booleans()):
        tools = draw(chat_function_tools)
        body["tools"] = tools
        if draw(st.booleans()):
            body["tool_choice"] = draw(st.sampled_from(["none", "auto", "required"]) | st.sampled_from(tools).map(
                lambda t: {"type": "function", "function": {"name": t["function"]["name"]}}))
        if draw(st.booleans()):
            body["parallel_tool_calls"] = draw(st.booleans())
    return body


# ------------------------------------------------------------------ lossy chat elements


def _known(*tables: str) -> frozenset[str]:
    return frozenset(k for t in tables for k in TABLES[t])


_KNOWN_TOP = _known("chat.request")
_KNOWN_IN_MESSAGES = _known(*(f"chat.message.{r}" for r in ("system", "developer", "user", "assistant", "tool", "function")))
# Unknown keys: mostly identifiers, but any text, so the bracket form is exercised too.
unknown_keys = st.from_regex(re.compile(r"x_[a-z0-9_]{1,10}"), fullmatch=True) | st.text(min_size=1, max_size=6)

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_ESCAPES = {"'": "\\'", "\\": "\\\\", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def child_path(path: str, key: str) -> str:
    """``path`` + ``key`` as JSONPath: ``.key`` for identifiers, else RFC 9535's normalized ``['key']``."""
    if _IDENTIFIER.fullmatch(key):
        return f"{path}.{key}"
    escaped = "".join(_ESCAPES.get(c) or (f"\\u{ord(c):04x}" if ord(c) < 0x20 else c) for c in key)
    return f"{path}['{escaped}']"


def _nonzero(lo: float, hi: float) -> st.SearchStrategy[float]:
    return st.floats(lo, hi, allow_nan=False).filter(lambda x: x != 0)


@st.composite
def lossy_chat_requests(draw: st.DrawFn) -> tuple[JsonDict, set[str]]:
    """A lossless chat request plus 1–3 elements Responses cannot carry, and their paths."""
    body = draw(chat_requests())
    paths: set[str] = set()
    kinds = draw(st.lists(st.sampled_from([
        "n", "stop", "seed", "frequency_penalty", "presence_penalty", "logit_bias", "audio", "modalities",
        "prediction", "name", "input_audio", "assistant_breakpoint", "unknown_top", "unknown_in_message",
    ]), min_size=1, max_size=3, unique=True))
    messages = body["messages"]
    for kind in kinds:
        if kind == "n":
            body["n"] = draw(st.integers(2, 8))
        elif kind == "stop":
            body["stop"] = draw(nonempty_text | st.lists(nonempty_text, min_size=1, max_size=4))
        elif kind == "seed":
            body["seed"] = draw(st.integers(-(2**31), 2**31))
        elif kind in ("frequency_penalty", "presence_penalty"):
            body[kind] = draw(_nonzero(-2, 2))
        elif kind == "logit_bias":
            body["logit_bias"] = draw(st.dictionaries(st.integers(0, 200_000).map(str), st.integers(-100, 100), min_size=1, max_size=3))
        elif kind == "audio":
            body["audio"] = {"voice": draw(st.sampled_from(AUDIO_VOICES)), "format": draw(st.sampled_from(AUDIO_FORMATS))}
        elif kind == "modalities":
            body["modalities"] = draw(st.sampled_from([["text", "audio"], ["audio"], ["audio", "text"]]))
        elif kind == "prediction":
            body["prediction"] = {"type": "content", "content": draw(text | text_parts(breakpoints=False))}
        elif kind == "unknown_top":
            key = draw(unknown_keys.filter(lambda k: k not in _KNOWN_TOP and k not in body))
            body[key] = draw(json_values)
            paths.add(child_path("$", key))
            continue
        elif kind == "name":
            named = [i for i, m in enumerate(messages) if m["role"] in ("system", "developer", "user", "assistant") and "name" not in m]
            if not named:
                continue
            i = draw(st.sampled_from(named))
            messages[i]["name"] = draw(text)
            paths.add(f"$.messages[{i}].name")
            continue
        elif kind == "input_audio":
            # not between tool calls and the tool messages that answer them
            i = draw(st.sampled_from([j for j in range(len(messages) + 1) if j == len(messages) or messages[j]["role"] != "tool"]))
            part = {"type": "input_audio", "input_audio": {"data": "UklGRg==", "format": draw(st.sampled_from(INPUT_AUDIO_FORMATS))}}
            before = draw(text_parts(min_size=0, breakpoints=False))
            messages.insert(i, {"role": "user", "content": [*before, part]})
            paths = {_shift(p, i) for p in paths}
            paths.add(f"$.messages[{i}].content[{len(before)}]")
            continue
        elif kind == "assistant_breakpoint":
            lists = [i for i, m in enumerate(messages) if m["role"] == "assistant" and isinstance(m["content"], list)]
            if not lists:
                messages.append({"role": "assistant", "content": draw(text_parts(breakpoints=False))})
                lists = [len(messages) - 1]
            i = draw(st.sampled_from(lists))
            j = draw(st.integers(0, len(messages[i]["content"]) - 1))
            messages[i]["content"][j]["prompt_cache_breakpoint"] = draw(cache_breakpoints)
            paths.add(f"$.messages[{i}].content[{j}].prompt_cache_breakpoint")
            continue
        else:  # unknown_in_message
            i = draw(st.integers(0, len(messages) - 1))
            key = draw(unknown_keys.filter(lambda k, m=messages[i]: k not in _KNOWN_IN_MESSAGES and k not in m))
            messages[i][key] = draw(json_values)
            paths.add(child_path(f"$.messages[{i}]", key))
            continue
        paths.add(f"$.{kind}")
    return body, paths


def _shift(path: str, inserted: int) -> str:
    """A path into messages after one was inserted at ``inserted``."""
    m = re.match(r"\$\.messages\[(\d+)\](.*)", path)
    if m is None or int(m.group(1)) < inserted:
        return path
    return f"$.messages[{int(m.group(1)) + 1}]{m.group(2)}"


# ------------------------------------------------------------------- responses requests


input_text_parts = st.lists(_maybe_breakpoint(st.builds(lambda t: {"type": "input_text", "text": t}, text)), min_size=1, max_size=3)
input_image_parts = _maybe_breakpoint(st.builds(
    lambda url, detail: {"type": "input_image", "image_url": url, "detail": detail},
    st.sampled_from(["https://example.com/a.png", "data:image/png;base64,iVBORw0KGgo="]) | text,
    st.sampled_from(IMAGE_DETAILS),
))
input_file_parts = _maybe_breakpoint(st.fixed_dictionaries(
    {},
    optional={"file_data": st.just("data:application/pdf;base64,JVBERi0="), "file_id": short_ascii.map("file-{}".format),
              "filename": nonempty_text},
).filter(lambda f: "file_data" in f or "file_id" in f).map(lambda f: {"type": "input_file", **f}))
input_parts = st.lists(input_text_parts.map(lambda ps: ps[0]) | input_image_parts | input_file_parts, min_size=1, max_size=4)


@st.composite
def responses_input(draw: st.DrawFn, *, leading_system: bool = True) -> Any:
    """``input`` in canonical form: a string, or EasyInputMessage items, function calls and outputs.

    Item ids are left out: they are output-only and minted anew on the way back.
    """
    if draw(st.booleans()):
        return draw(text)
    items: list[JsonDict] = []
    ids: set[str] = set()
    kinds = draw(st.lists(st.sampled_from(["system", "developer", "user", "user_parts", "assistant", "calls"]), min_size=1, max_size=6))
    if not leading_system:
        while kinds and kinds[0] in ("system", "developer"):
            kinds.pop(0)
        if not kinds:
            kinds = ["user"]
    for kind in kinds:
        if kind in ("system", "developer", "user"):
            items.append({"role": kind, "content": draw(text | input_text_parts)})
        elif kind == "user_parts":
            items.append({"role": "user", "content": draw(input_parts)})
        elif kind == "assistant":
            # Non-empty: an empty assistant message before function calls carries nothing
            # and is not written back (the chat side's canonical form).
            items.append({"role": "assistant", "content": draw(nonempty_text)})
        else:
            calls = []
            for _ in range(draw(st.integers(1, 3))):
                call_id = draw(short_ascii.map("call_{}".format).filter(lambda c: c not in ids))
                ids.add(call_id)
                calls.append(call_id)
                items.append({"type": "function_call", "call_id": call_id, "name": draw(function_names), "arguments": draw(arguments)})
            for call_id in calls:
                items.append({"type": "function_call_output", "call_id": call_id, "output": draw(text | input_text_parts)})
    return items


responses_function_tools = st.lists(
    st.builds(
        lambda name, params, strict, desc: {"type": "function", "name": name, "parameters": params, "strict": strict, **desc},
        function_names, st.none() | json_schemas, st.booleans(),
        st.just({}) | st.builds(lambda d: {"description": d}, text),
    ),
    min_size=1, max_size=3,
)
responses_text_formats = st.sampled_from([{"type": "text"}, {"type": "json_object"}]) | st.builds(
    lambda name, schema, extra: {"type": "json_schema", "name": name, "schema": schema, **extra},
    function_names, json_schemas,
    st.fixed_dictionaries({}, optional={"strict": st.booleans(), "description": text}),
)


@st.composite
def responses_requests(draw: st.DrawFn, *, instructions: bool = False) -> JsonDict:
    """A responses.create body from the lossless subset; with ``instructions``, input does not start with system items."""
    body: JsonDict = {"model": draw(MODELS), "input": draw(responses_input(leading_system=not instructions)),
                      "store": draw(st.booleans())}
    if instructions:
        body["instructions"] = draw(text)
    body.update(draw(st.fixed_dictionaries({}, optional={
        "temperature": st.floats(0, 2),
        "top_p": st.floats(0, 1),
        "max_output_tokens": st.integers(16, 100_000),
        "metadata": metadata,
        "user": text,
        "safety_identifier": text,
        "prompt_cache_key": text,
        "reasoning": st.builds(lambda e: {"effort": e}, st.sampled_from(REASONING_EFFORTS)),
        "text": st.fixed_dictionaries({}, optional={"format": responses_text_formats, "verbosity": st.sampled_from(VERBOSITIES)})
        .filter(bool),
        "service_tier": st.sampled_from(RESPONSES_SERVICE_TIERS),
        "stream": st.just(False),
    })))
    if draw(st.booleans()):
        # top_logprobs alone becomes logprobs: true in Chat, by design (responses.request.top_logprobs),
        # so it comes back with include; the canonical form sends both.
        body["include"] = ["message.output_text.logprobs"]
        if draw(st.booleans()):
            body["top_logprobs"] = draw(st.integers(0, 20))
    if draw(st.booleans()):
        tools = draw(responses_function_tools)
        body["tools"] = tools
        if draw(st.booleans()):
            body["tool_choice"] = draw(st.sampled_from(["none", "auto", "required"]) | st.sampled_from(tools).map(
                lambda t: {"type": "function", "name": t["name"]}))
        if draw(st.booleans()):
            body["parallel_tool_calls"] = draw(st.booleans())
    return body


_KNOWN_R_TOP = _known("responses.request")


@st.composite
def lossy_responses_requests(draw: st.DrawFn) -> tuple[JsonDict, set[str]]:
    """A lossless responses request plus 1–3 elements Chat cannot carry, and their paths."""
    body = draw(responses_requests())
    paths: set[str] = set()
    kinds = draw(st.lists(st.sampled_from([
        "previous_response_id", "conversation", "truncation", "background", "max_tool_calls", "prompt",
        "reasoning_summary", "builtin_tool", "reasoning_item", "unknown_top", "unknown_in_item", "include",
    ]), min_size=1, max_size=3, unique=True))
    if isinstance(body["input"], str):
        body["input"] = [{"role": "user", "content": body["input"]}]
    items = body["input"]
    for kind in kinds:
        if kind == "previous_response_id":
            body[kind] = draw(short_ascii.map("resp_{}".format))
        elif kind == "conversation":
            body[kind] = draw(short_ascii.map("conv_{}".format))
        elif kind == "truncation":
            body[kind] = "auto"
        elif kind == "background":
            body[kind] = True
        elif kind == "max_tool_calls":
            body[kind] = draw(st.integers(1, 50))
        elif kind == "prompt":
            body[kind] = {"id": draw(short_ascii.map("pmpt_{}".format))}
        elif kind == "reasoning_summary":
            body["reasoning"] = {**body.get("reasoning", {}), "summary": draw(st.sampled_from(["auto", "concise", "detailed"]))}
            paths.add("$.reasoning.summary")
            continue
        elif kind == "builtin_tool":
            tools = body.setdefault("tools", [])
            tools.append(_builtin(draw(st.sampled_from(["file_search", "code_interpreter", "image_generation"]))))
            paths.add(f"$.tools[{len(tools) - 1}]")
            continue
        elif kind == "reasoning_item":
            i = draw(st.integers(0, len(items)))
            items.insert(i, {"type": "reasoning", "id": "rs_" + draw(short_ascii), "summary": []})
            paths = {_shift_items(p, i) for p in paths}
            paths.add(f"$.input[{i}]")
            continue
        elif kind == "include":
            include = body.setdefault("include", [])
            include.append(draw(st.sampled_from(["reasoning.encrypted_content", "file_search_call.results", "message.input_image.image_url"])))
            paths.add(f"$.include[{len(include) - 1}]")
            continue
        elif kind == "unknown_top":
            key = draw(unknown_keys.filter(lambda k: k not in _KNOWN_R_TOP and k not in body))
            body[key] = draw(json_values)
            paths.add(child_path("$", key))
            continue
        else:  # unknown_in_item: only message items (the item tables differ by type)
            messages = [i for i, it in enumerate(items) if "role" in it]
            if not messages:
                items.append({"role": "user", "content": draw(text)})
                messages = [len(items) - 1]
            i = draw(st.sampled_from(messages))
            key = draw(unknown_keys.filter(lambda k, m=items[i]: k not in TABLES["responses.item.message"] and k not in m))
            items[i][key] = draw(json_values)
            paths.add(child_path(f"$.input[{i}]", key))
            continue
        paths.add(f"$.{kind}")
    return body, paths


def _builtin(kind: str) -> JsonDict:
    return {
        "file_search": {"type": "file_search", "vector_store_ids": ["vs_1"]},
        "code_interpreter": {"type": "code_interpreter", "container": {"type": "auto"}},
        "image_generation": {"type": "image_generation"},
    }[kind]


def _shift_items(path: str, inserted: int) -> str:
    m = re.match(r"\$\.input\[(\d+)\](.*)", path)
    if m is None or int(m.group(1)) < inserted:
        return path
    return f"$.input[{int(m.group(1)) + 1}]{m.group(2)}"


# ------------------------------------------------------------------------------ results

FINISH_FOR = {
    # finish_reason → what the message may hold.
    "stop": ("text",),  # with tool calls: test_stop_with_tool_calls_keeps_its_finish_reason
    "tool_calls": ("calls",),
    "length": ("text", "calls"),
    "content_filter": ("text", "calls"),
}


@st.composite
def chat_completions(draw: st.DrawFn) -> JsonDict:
    """A non-streamed ChatCompletion with one choice."""
    finish = draw(st.sampled_from(sorted(FINISH_FOR)))
    shape = draw(st.sampled_from(FINISH_FOR[finish]))
    message: JsonDict = {"role": "assistant", "content": None, "refusal": None}
    if shape == "text":
        refused = draw(st.booleans())
        message["content"] = draw(text) if not refused or draw(st.booleans()) else None
        if refused:
            message["refusal"] = draw(text)
        if message["content"] is None and message["refusal"] is None:
            message["content"] = ""  # null: test_null_content_stays_null
        if message["content"] and draw(st.booleans()):
            message["annotations"] = draw(st.lists(st.builds(
                lambda url, title, a, b: {"type": "url_citation",
                                          "url_citation": {"url": url, "title": title, "start_index": min(a, b), "end_index": max(a, b)}},
                st.just("https://example.com/") | short_ascii.map("https://{}.example/".format), text,
                st.integers(0, len(message["content"])), st.integers(0, len(message["content"]))), min_size=1, max_size=2))
    else:
        message["content"] = draw(st.none() | text)
        message["tool_calls"] = draw(tool_calls(set()))
    usage: JsonDict = {
        "prompt_tokens": draw(st.integers(0, 10**6)),
        "completion_tokens": draw(st.integers(0, 10**6)),
    }
    usage["total_tokens"] = usage["prompt_tokens"] + usage["completion_tokens"]
    if draw(st.booleans()):
        usage["prompt_tokens_details"] = draw(st.fixed_dictionaries(
            {"cached_tokens": st.integers(0, usage["prompt_tokens"])},
            optional={"audio_tokens": st.just(0), "cache_write_tokens": st.integers(0, 1000)}))
    if draw(st.booleans()):
        usage["completion_tokens_details"] = draw(st.fixed_dictionaries(
            {"reasoning_tokens": st.integers(0, usage["completion_tokens"])},
            optional={"audio_tokens": st.just(0), "accepted_prediction_tokens": st.just(0), "rejected_prediction_tokens": st.just(0)}))
    body: JsonDict = {
        "id": draw(short_ascii.map("chatcmpl-{}".format)),
        "object": "chat.completion",
        "created": draw(st.integers(1_600_000_000, 2_000_000_000)),
        "model": draw(MODELS),
        "choices": [{"index": 0, "message": message, "finish_reason": finish, "logprobs": None}],
        "usage": usage,
    }
    if draw(st.booleans()):
        body["service_tier"] = draw(st.sampled_from(CHAT_SERVICE_TIERS))
    return body
