"""Ids minted for translated items and bodies, in one place.

Requests, results and streams derive the same ids from the same inputs, so a body
translated whole and the same body streamed name their items alike; keeping each
derivation here is what keeps them in step.
"""

from __future__ import annotations

from typing import Any

from .errors import describe


def mint(prefix: str, seed: str) -> str:
    """A prefixed id derived from what the item carries.

    Deterministic on purpose: translating the same history twice yields the
    same item ids, so a growing conversation keeps a stable prefix (prompt
    caching) and fixtures stay comparable.
    """
    from hashlib import blake2b  # on first use: hashlib loads OpenSSL, a tenth of import migrator

    return prefix + blake2b(seed.encode("utf-8", "surrogatepass"), digest_size=24).hexdigest()


def seed_of(value: Any) -> str:
    """A deterministic seed for an id minted from a whole body (``repr``, unless the body is too deep or
    holds an integer too long to print: then its JSON shape, bounded)."""
    try:
        return repr(value)
    except (RecursionError, ValueError):
        return describe(value)


def fc_id(call_id: str) -> str:
    """The function_call item id for a call id: readable and stable when the call id is plain."""
    if call_id.isascii() and call_id.isidentifier():
        return "fc_" + call_id
    return mint("fc_", call_id)


def ctc_id(call_id: str) -> str:
    """The custom_tool_call item id for a call id: the function_call id's stem, so the two kinds of call
    made from one call id differ only in their prefix."""
    return "ctc_" + fc_id(call_id)[3:]


def response_id_of(chat_id: str) -> str:
    """The Response id for a chat completion (or chunk) id."""
    return mint("resp_", f"resp:{chat_id}")


def completion_id_of(response_id: str) -> str:
    """The chat completion (or chunk) id for a Response id."""
    return mint("chatcmpl-", f"chat:{response_id}")


def output_id(prefix: str, response_id: str, kind: str, n: int = 0) -> str:
    """The id of the ``n``-th output item of ``kind`` in a Response translated from a chat completion
    (``kind`` also names a call's slot): streamed or whole, the same item gets the same id."""
    return mint(prefix, f"{response_id}:{kind}" + (f":{n}" if n else ""))
