"""Token usage: ``CompletionUsage`` ⇄ ``ResponseUsage``, every detail field carried."""

from __future__ import annotations

from typing import Any

from .context import Context
from .rules import TABLES

_CHAT = TABLES["chat.usage"]
_RESPONSES = TABLES["response.usage"]
# The target names, as the tables state them (read once: as cheap as literals on the hot path).
_IN, _OUT = _CHAT["prompt_tokens"].to or "", _CHAT["completion_tokens"].to or ""
_IN_D, _OUT_D = _CHAT["prompt_tokens_details"].to or "", _CHAT["completion_tokens_details"].to or ""
_PROMPT, _COMPLETION = _RESPONSES["input_tokens"].to or "", _RESPONSES["output_tokens"].to or ""
_PROMPT_D, _COMPLETION_D = _RESPONSES["input_tokens_details"].to or "", _RESPONSES["output_tokens_details"].to or ""


def _int(obj: Any, key: str) -> int:
    value = obj.get(key) if type(obj) is dict else None
    return value if type(value) is int else 0


def chat_usage_to_responses(usage: Any, path: str, ctx: Context) -> dict[str, Any] | None:
    """The Responses type requires every detail field, so unknown ones are written as 0."""
    if usage is None:
        return None
    if type(usage) is not dict:
        ctx.problem(path, "a usage object", usage)
        return None
    ctx.check(usage, _CHAT, path)
    prompt = usage.get("prompt_tokens_details")
    completion = usage.get("completion_tokens_details")
    if type(prompt) is dict:
        ctx.check(prompt, _CHAT, f"{path}.prompt_tokens_details", at="prompt_tokens_details")
    if type(completion) is dict:
        ctx.check(completion, _CHAT, f"{path}.completion_tokens_details", at="completion_tokens_details")
    inp = _int(usage, "prompt_tokens")
    outp = _int(usage, "completion_tokens")
    total = usage.get("total_tokens")
    return {
        _IN: inp,
        _IN_D: {"cached_tokens": _int(prompt, "cached_tokens"), "cache_write_tokens": _int(prompt, "cache_write_tokens")},
        _OUT: outp,
        _OUT_D: {"reasoning_tokens": _int(completion, "reasoning_tokens")},
        "total_tokens": total if type(total) is int else inp + outp,
    }


def responses_usage_to_chat(usage: Any, path: str, ctx: Context) -> dict[str, Any] | None:
    if usage is None:
        return None
    if type(usage) is not dict:
        ctx.problem(path, "a usage object", usage)
        return None
    ctx.check(usage, _RESPONSES, path)
    inp_d = usage.get("input_tokens_details")
    out_d = usage.get("output_tokens_details")
    if type(inp_d) is dict:
        ctx.check(inp_d, _RESPONSES, f"{path}.input_tokens_details", at="input_tokens_details")
    if type(out_d) is dict:
        ctx.check(out_d, _RESPONSES, f"{path}.output_tokens_details", at="output_tokens_details")
    inp = _int(usage, "input_tokens")
    outp = _int(usage, "output_tokens")
    total = usage.get("total_tokens")
    return {
        _PROMPT: inp,
        _COMPLETION: outp,
        "total_tokens": total if type(total) is int else inp + outp,
        _PROMPT_D: {"cached_tokens": _int(inp_d, "cached_tokens"), "cache_write_tokens": _int(inp_d, "cache_write_tokens")},
        _COMPLETION_D: {"reasoning_tokens": _int(out_d, "reasoning_tokens")},
    }
