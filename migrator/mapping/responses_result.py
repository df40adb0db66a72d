"""A ``Response`` → a ``ChatCompletion`` (or the error body a failed response stands for)."""

from __future__ import annotations

import time
from typing import Any

from .api_error import failure_body
from .context import Context, usable_time
from .finish import finish_reason
from .ids import completion_id_of, mint, seed_of
from .logprobs import chat_logprob, check_logprobs
from .moderation import response_moderation
from .rules import DROP, TABLES, VALUES, targets
from .shapes import complete_completion
from .usage import responses_usage_to_chat

_RESPONSE = TABLES["response"]
_OUT_MESSAGE = TABLES["response.output.message"]
_OUT_TEXT = TABLES["response.output_text"]
_OUT_CALL = TABLES["response.output.function_call"]
_OUTPUT_TYPES = VALUES["output_types"]
_ANNOTATIONS = VALUES["annotation_types"]
_SERVICE_TIER = VALUES["service_tier"]
_ERROR = TABLES["response.error"]
_ANNOTATION = TABLES["response.annotation"]
# Target names as the tables state them (read once: as cheap as literals on the hot path).
_OUT_ID, _OBJECT, _CREATED, _CHOICES, _FINISH_REASON, _USAGE, _OUT_SERVICE_TIER, _MODERATION_OUT = targets(
    _RESPONSE, "id", "object", "created_at", "output", "status", "usage", "service_tier", "moderation")
_CONTENT, _REFUSAL, _MESSAGE_ANNOTATIONS = targets(_OUT_TEXT, "text", "refusal", "annotations")
_LOGPROBS, _LOGPROBS_CONTENT = _OUT_TEXT["logprobs"].to_parts
_ID, _ARGUMENTS = targets(_OUT_CALL, "call_id", "arguments")
_FUNCTION, _NAME = _OUT_CALL["name"].to_parts
_CUSTOM, _INPUT = _OUT_CALL["input"].to_parts
_CITATION = _ANNOTATION["url"].to_parts[0]
_URL, _TITLE, _START, _END = targets(_ANNOTATION, "url", "title", "start_index", "end_index")


def response_to_chat_completion(body: dict[str, Any], ctx: Context) -> dict[str, Any]:
    status = body.get("status", "completed")
    if status == "failed":
        ctx.check_types(body, _RESPONSE, "$")  # only the error goes on, but nothing is read unchecked
        error = body.get("error")
        if type(error) is dict:
            ctx.check(error, _ERROR, "$.error")
        return failure_body(error)
    if status in ("cancelled", "in_progress", "queued"):
        ctx.problem("$.status", "completed or incomplete (a finished response; fetch it again with GET /v1/responses/{id} once it is done)", status)
        return {}
    if status not in ("completed", "incomplete"):
        ctx.problem("$.status", "completed, incomplete or failed", status)
        return {}
    ctx.check(body, _RESPONSE, "$")
    response_id = body.get("id")
    created = body.get("created_at")
    if created is not None and not usable_time(created):
        ctx.problem("$.created_at", "a Unix time in seconds (a number)", created)
        created = None
    model = body.get("model")
    texts: list[str] = []
    refusals: list[str] = []
    annotations: list[dict[str, Any]] = []
    logprobs: list[Any] = []
    calls: list[dict[str, Any]] = []
    offset = 0
    output = body.get("output")
    if type(output) is not list:
        ctx.problem("$.output", "a list of output items", output)
        output = []
    for i, item in enumerate(output):
        p = f"$.output[{i}]"
        if type(item) is not dict:
            ctx.problem(p, "an output item object", item)
            continue
        itype = item.get("type")
        if itype == "message":
            ctx.check(item, _OUT_MESSAGE, p)
            parts = item.get("content")
            if type(parts) is not list:
                ctx.problem(f"{p}.content", "a list of output_text / refusal parts", parts)
                continue
            for j, part in enumerate(parts):
                offset = _part(part, f"{p}.content[{j}]", offset, texts, refusals, annotations, logprobs, ctx)
        elif itype == "output_text" or itype == "refusal":
            offset = _part(item, p, offset, texts, refusals, annotations, logprobs, ctx)
        elif itype == "function_call" or itype == "custom_tool_call":
            call = _call(item, itype, p, ctx)
            if call is not None:
                calls.append(call)
        elif type(itype) is not str:
            ctx.problem(f"{p}.type", "an output item type (a string)", itype)
        else:
            rule = _OUTPUT_TYPES.get(itype)
            if rule is not None and rule.do is DROP:
                ctx.loss(p, itype, rule.kind, rule.reason)
            else:
                ctx.loss(p, str(itype), "unsupported", f"{itype!r} is not an output item type migrator knows; it was not forwarded")
    message: dict[str, Any] = {"role": "assistant", _CONTENT: "".join(texts) if texts else None,
                               _REFUSAL: "".join(refusals) if refusals else None}
    if annotations:
        message[_MESSAGE_ANNOTATIONS] = annotations
    if calls:
        message["tool_calls"] = calls
    choice: dict[str, Any] = {"index": 0, "message": message, _FINISH_REASON: finish_reason(status, body.get("incomplete_details"), bool(calls), ctx),
                              _LOGPROBS: {_LOGPROBS_CONTENT: logprobs, "refusal": None} if logprobs else None}
    out: dict[str, Any] = {
        _OUT_ID: completion_id_of(response_id) if type(response_id) is str else mint("chatcmpl-", seed_of(body)),
        _OBJECT: "chat.completion",
        _CREATED: int(created) if isinstance(created, (int, float)) else int(time.time()),
        "model": model if type(model) is str else "unknown",
        _CHOICES: [choice],
    }
    usage = responses_usage_to_chat(body.get("usage"), "$.usage", ctx)
    if usage is not None:
        out[_USAGE] = usage
    tier = body.get("service_tier")
    if tier is not None:
        out[_OUT_SERVICE_TIER] = ctx.value(_SERVICE_TIER, tier, "$.service_tier", "service_tier")
    if body.get("metadata"):  # {} is what a Response carries when there is none: nothing to say
        out["metadata"] = body["metadata"]
    if body.get("moderation") is not None:
        out[_MODERATION_OUT] = response_moderation(body["moderation"], ctx)
    return complete_completion(out)


def _part(part: Any, p: str, offset: int, texts: list[str], refusals: list[str],
          annotations: list[dict[str, Any]], logprobs: list[Any], ctx: Context) -> int:
    """Fold one output_text/refusal part in; returns the new text offset."""
    if type(part) is not dict:
        ctx.problem(p, "a content part object", part)
        return offset
    ptype = part.get("type")
    if ptype == "output_text":
        text = part.get("text")
        if type(text) is not str:
            ctx.problem(f"{p}.text", "a string", text)
            return offset
        ctx.check(part, _OUT_TEXT, p)
        anns = part.get("annotations")
        if type(anns) is list:
            for k, ann in enumerate(anns):
                _annotation(ann, f"{p}.annotations[{k}]", offset, annotations, ctx)
        lp = part.get("logprobs")
        if type(lp) is list:
            check_logprobs(lp, f"{p}.logprobs", "responses", ctx)
            logprobs.extend(chat_logprob(entry) for entry in lp if type(entry) is dict)
        texts.append(text)
        return offset + len(text)
    if ptype == "refusal":
        refusal = part.get("refusal")
        if type(refusal) is not str:
            ctx.problem(f"{p}.refusal", "a string", refusal)
            return offset
        refusals.append(refusal)
        return offset
    ctx.problem(f"{p}.type", "output_text or refusal", ptype)
    return offset


def _annotation(ann: Any, p: str, offset: int, out: list[dict[str, Any]], ctx: Context) -> None:
    if type(ann) is not dict:
        ctx.problem(p, "an annotation object", ann)
        return
    atype = ann.get("type")
    if type(atype) is not str:
        ctx.problem(f"{p}.type", "an annotation type (a string)", atype)
        return
    rule = _ANNOTATIONS.get(atype)
    if rule is None:
        ctx.loss(p, atype, "unsupported", "not an annotation type migrator knows; it was not forwarded")
        return
    if rule.do is DROP:
        ctx.loss(p, atype, rule.kind, rule.reason)
        return
    ctx.check(ann, _ANNOTATION, p)
    start, end = ann.get("start_index"), ann.get("end_index")
    out.append({"type": "url_citation", _CITATION: {
        _URL: ann.get("url"), _TITLE: ann.get("title"),
        _START: start + offset if type(start) is int else start,
        _END: end + offset if type(end) is int else end}})


def _call(item: dict[str, Any], itype: str, p: str, ctx: Context) -> dict[str, Any] | None:
    call_id = item.get("call_id")
    name = item.get("name")
    if type(call_id) is not str or type(name) is not str:
        bad = "call_id" if type(call_id) is not str else "name"
        ctx.problem(f"{p}.{bad}", "a string", item.get(bad))
        return None
    ctx.check(item, _OUT_CALL, p)
    if itype == "custom_tool_call":
        return {_ID: call_id, "type": "custom", _CUSTOM: {_NAME: name, _INPUT: item.get("input") or ""}}
    return {_ID: call_id, "type": "function", _FUNCTION: {_NAME: name, _ARGUMENTS: item.get("arguments") or ""}}
