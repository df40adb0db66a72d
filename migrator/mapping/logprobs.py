"""Token logprobs, between the shapes that carry them.

Chat's token logprob may leave ``bytes`` null; a Response's output_text part requires the list;
a Responses stream event has no ``bytes`` at all. Each direction, whole or streamed, converts
through here, and both results check entries the same way against their table.
"""

from __future__ import annotations

from typing import Any

from .context import Context
from .rules import TABLES

_TABLES = {"chat": TABLES["chat.logprob"], "responses": TABLES["response.logprob"]}
#: What a Response part's token logprob carries into chat's.
_CHAT_KEYS = ("token", "bytes", "logprob", "top_logprobs")


def check_logprobs(entries: list[Any], path: str, source: str, ctx: Context) -> None:
    """Every token logprob (and each of its top alternatives) in ``source``'s shape ("chat" or
    "responses") is an object of the declared field types."""
    table = _TABLES[source]
    for p, lp in ctx.objects(entries, path, "a token logprob object"):
        ctx.check(lp, table, p)
        top = lp.get("top_logprobs")
        if type(top) is list:
            for j, alt in enumerate(top):
                if type(alt) is not dict:
                    ctx.problem(f"{p}.top_logprobs[{j}]", "a token logprob object", alt)
                else:
                    ctx.check(alt, table, f"{p}.top_logprobs[{j}]")


def _utf8(token: Any) -> list[int] | None:
    """The bytes of a token, which both APIs give as a list of ints."""
    return list(token.encode("utf-8")) if type(token) is str else None


def part_logprob(lp: Any, nested: bool = False) -> Any:
    """Chat → a Response part: chat allows ``bytes: null``, Responses requires the list, so the token's
    UTF-8 bytes are written."""
    if type(lp) is not dict:
        return lp
    out = dict(lp)
    if out.get("bytes") is None and type(out.get("token")) is str:
        out["bytes"] = _utf8(out["token"])
    if not nested:
        top = out.get("top_logprobs")
        out["top_logprobs"] = [part_logprob(t, nested=True) for t in top] if type(top) is list else []
    return out


def event_logprob(entry: Any) -> Any:
    """Chat → a Responses stream event: events carry logprobs without ``bytes`` (the event type has no such field)."""
    if type(entry) is not dict:
        return entry
    out = {"token": entry.get("token"), "logprob": entry.get("logprob")}
    top = entry.get("top_logprobs")
    out["top_logprobs"] = [{"token": t.get("token"), "logprob": t.get("logprob")} for t in top if type(t) is dict] \
        if type(top) is list else []
    return out


def chat_logprob(entry: dict[str, Any]) -> dict[str, Any]:
    """A Response part's (checked) token logprob → chat's: the same fields, as they are."""
    return {key: entry[key] for key in _CHAT_KEYS if key in entry}


def chat_event_logprob(entry: Any) -> Any:
    """A Responses stream event's logprob (no ``bytes``) → chat's token logprob, which wants bytes and top_logprobs."""
    if type(entry) is not dict:
        return entry
    token = entry.get("token")
    raw = entry.get("bytes")
    out = {"token": token, "bytes": raw if raw is not None else _utf8(token), "logprob": entry.get("logprob")}
    top = entry.get("top_logprobs")
    out["top_logprobs"] = [{"token": t.get("token"), "bytes": _utf8(t.get("token")), "logprob": t.get("logprob")}
                           for t in top if type(t) is dict] if type(top) is list else []
    return out
