"""The Response the offline model answers with, whole or as the events of its stream."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, Final

from ...mapping.shapes import complete_response
from ...streams.finished import finished_events
from .checks import validate
from .conversation import _canonical, _cut, _render, _sha, count_tokens
from .model import _Context, _plan

MODEL_ID: Final = "migrator-offline"

#: ``created_at`` when the caller passes none: a clock would break byte-for-byte
#: determinism, so it is a fixed instant (2025-01-01T00:00:00Z).
DEFAULT_CREATED_AT: Final = 1_735_689_600


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
