"""A ``ChatCompletion`` → a ``Response``."""

from __future__ import annotations

import time
from typing import Any

from .context import Context, usable_time
from .finish import response_status
from .ids import ctc_id, fc_id, output_id, response_id_of
from .logprobs import check_logprobs, part_logprob
from .moderation import chat_moderation
from .rules import TABLES, targets
from .shapes import complete_response
from .usage import chat_usage_to_responses

_COMPLETION = TABLES["chat.completion"]
_CHOICE = TABLES["chat.choice"]
_MESSAGE = TABLES["chat.completion_message"]
_TOOL_CALL = TABLES["chat.completion_message.tool_call"]
_ANNOTATION = TABLES["chat.annotation"]
#: What a ChatCompletion says of itself that its Response carries as it is.
_KNOWN = ("service_tier", "metadata")
# Target names as the tables state them (read once: as cheap as literals on the hot path).
_ID, _OBJECT, _CREATED_AT, _OUTPUT, _USAGE, _MODERATION_OUT = targets(
    _COMPLETION, "id", "object", "created", "choices", "usage", "moderation")
_CALL_ID, _FUNCTION_NAME, _CUSTOM_NAME = targets(_TOOL_CALL, "id", "function", "custom")
_PART_LOGPROBS, _STATUS = targets(_CHOICE, "content", "finish_reason")
_ANNOTATIONS, _REFUSAL = targets(_MESSAGE, "annotations", "refusal")

def response_skeleton(response_id: str, created_at: float, model: str, echo: dict[str, Any] | None,
                      known: dict[str, Any] | None = None) -> dict[str, Any]:
    """An in-progress Response with every field (mappings/shapes.json).

    ``known`` holds what the answer itself says (service_tier, metadata): it wins
    over the request's echo, which wins over the API's defaults.
    """
    body: dict[str, Any] = {_ID: response_id, _OBJECT: "response", _CREATED_AT: created_at, "status": "in_progress",
                            "model": model, "output": []}
    if known:
        body.update(known)
    return complete_response(body, echo)


def chat_completion_to_response(body: dict[str, Any], ctx: Context, echo: dict[str, Any] | None = None) -> dict[str, Any]:
    ctx.check(body, _COMPLETION, "$")
    chat_id = body.get("id")
    if type(chat_id) is str:
        response_id = response_id_of(chat_id)
    else:
        import uuid  # only for a completion without an id: uuid loads platform and more at import

        response_id = "resp_" + uuid.uuid4().hex
    created = body.get("created")
    if created is not None and not usable_time(created):
        ctx.problem("$.created", "a Unix time in seconds (an integer)", created)
        created = None
    model = body.get("model")
    known = {key: body[key] for key in _KNOWN if body.get(key) is not None}
    out = response_skeleton(response_id, created if isinstance(created, (int, float)) else int(time.time()),
                            model if type(model) is str else "unknown", echo, known)
    if body.get("moderation") is not None:
        out[_MODERATION_OUT] = chat_moderation(body["moderation"], ctx)
    choices = body.get("choices")
    if type(choices) is not list:
        ctx.problem("$.choices", "a list of choices", choices)
        return out
    other = _CHOICE["index"]  # its kind and reason describe the choices a Response cannot hold
    for i in range(1, len(choices)):
        ctx.loss(f"$.choices[{i}]", "choices", other.kind, other.reason)
    status, details = "completed", None
    if choices:
        choice = choices[0]
        if type(choice) is not dict:
            ctx.problem("$.choices[0]", "a choice object", choice)
            return out
        ctx.check(choice, _CHOICE, "$.choices[0]")
        if type(choice.get("logprobs")) is dict:
            ctx.check(choice["logprobs"], _CHOICE, "$.choices[0].logprobs", at="logprobs")
            if type(choice["logprobs"].get("content")) is list:
                check_logprobs(choice["logprobs"]["content"], "$.choices[0].logprobs.content", "chat", ctx)
        finish = choice.get("finish_reason")
        if finish is None and "finish_reason" in choice:
            ctx.loss("$.choices[0].finish_reason", "finish_reason", "approximated",
                     "a null finish_reason says nothing of how the answer ended; it is read as completed")
        if finish is not None:
            message = choice.get("message")
            status, details = response_status(finish, type(message) is dict and bool(message.get("tool_calls")), ctx)
        out[_OUTPUT] = _output(choice, response_id, status, ctx)
    out[_STATUS] = status
    if details is not None:
        out["incomplete_details"] = details
    usage = chat_usage_to_responses(body.get("usage"), "$.usage", ctx)
    if usage is not None:
        out[_USAGE] = usage
    return out


def _output(choice: dict[str, Any], response_id: str, status: str, ctx: Context) -> list[dict[str, Any]]:
    msg = choice.get("message")
    p = "$.choices[0].message"
    if type(msg) is not dict:
        ctx.problem(p, "a message object", msg)
        return []
    ctx.check(msg, _MESSAGE, p)
    items: list[dict[str, Any]] = []
    reasoning = msg.get("reasoning_content") or msg.get("reasoning")
    if type(reasoning) is str and reasoning:
        items.append({"type": "reasoning", "id": output_id("rs_", response_id, "reasoning"), "summary": [],
                      "content": [{"type": "reasoning_text", "text": reasoning}]})
    content = msg.get("content")
    refusal = msg.get("refusal")
    parts: list[dict[str, Any]] = []
    if content is not None:
        if type(content) is not str:
            ctx.problem(f"{p}.content", "a string or null", content)
        else:
            part: dict[str, Any] = {"type": "output_text", "text": content,
                                    _ANNOTATIONS: _annotations(msg.get("annotations"), f"{p}.annotations", ctx)}
            logprobs = choice.get("logprobs")
            if type(logprobs) is dict and type(logprobs.get("content")) is list:
                part[_PART_LOGPROBS] = [part_logprob(lp) for lp in logprobs["content"]]
            parts.append(part)
    if type(refusal) is str:
        parts.append({"type": "refusal", _REFUSAL: refusal})
    calls = msg.get("tool_calls")
    has_calls = type(calls) is list and bool(calls)
    if parts and (content or refusal is not None or not has_calls):  # "" beside tool calls is no message, as in streams
        # A truncation cuts the last item: the text only when no call follows it.
        items.append({"type": "message", "id": output_id("msg_", response_id, "message"),
                      "status": "incomplete" if status == "incomplete" and not has_calls else "completed",
                      "role": "assistant", "content": parts})
    call_status = "incomplete" if status == "incomplete" else "completed"
    if type(calls) is list:
        for j, call in enumerate(calls):
            item = _call(call, f"{p}.tool_calls[{j}]", ctx, call_status)
            if item is not None:
                items.append(item)
    legacy = msg.get("function_call")
    if type(legacy) is dict:
        ctx.check(legacy, _TOOL_CALL, f"{p}.function_call", at="function")
        call_id = output_id("call_", response_id, "function_call")
        items.append({"type": "function_call", "id": fc_id(call_id), _CALL_ID: call_id,
                      _FUNCTION_NAME: legacy.get("name", ""), "arguments": legacy.get("arguments", ""), "status": call_status})
    return items


def _call(call: Any, path: str, ctx: Context, status: str) -> dict[str, Any] | None:
    if type(call) is not dict:
        ctx.problem(path, "a tool call object", call)
        return None
    if type(call.get("id")) is not str:
        ctx.problem(f"{path}.id", "a string (the call id)", call.get("id"))
        return None
    call_id = call["id"]
    ctx.check(call, _TOOL_CALL, path)
    if call.get("type", "function") == "custom":
        if type(call.get("custom", {})) is not dict:
            ctx.problem(f"{path}.custom", "an object with name and input", call["custom"])
            return None
        custom = call.get("custom") or {}
        ctx.check(custom, _TOOL_CALL, f"{path}.custom", at="custom")
        return {"type": "custom_tool_call", "id": ctc_id(call_id), _CALL_ID: call_id,
                _CUSTOM_NAME: custom.get("name", ""), "input": custom.get("input", "")}
    fn = call.get("function")
    if type(fn) is not dict:
        ctx.problem(f"{path}.function", "an object with name and arguments", fn)
        return None
    ctx.check(fn, _TOOL_CALL, f"{path}.function", at="function")
    return {"type": "function_call", "id": fc_id(call_id), _CALL_ID: call_id,
            _FUNCTION_NAME: fn.get("name", ""), "arguments": fn.get("arguments") or "", "status": status}


def _annotations(anns: Any, path: str, ctx: Context) -> list[dict[str, Any]]:
    """Nested chat url_citations → flat Responses ones."""
    if type(anns) is not list:
        return []
    out: list[dict[str, Any]] = []
    for i, ann in enumerate(anns):
        if type(ann) is not dict:
            ctx.problem(f"{path}[{i}]", "an annotation object", ann)
            continue
        cite = ann.get("url_citation")
        if ann.get("type") != "url_citation" or type(cite) is not dict:
            ctx.loss(f"{path}[{i}]", "annotations", "dropped", "only url_citation annotations have a Responses form")
            continue
        ctx.check(ann, _ANNOTATION, f"{path}[{i}]")
        ctx.check(cite, _ANNOTATION, f"{path}[{i}].url_citation", at="url_citation")
        out.append({"type": "url_citation", "url": cite.get("url"), "title": cite.get("title"),
                    "start_index": cite.get("start_index"), "end_index": cite.get("end_index")})
    return out
