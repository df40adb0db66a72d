"""From an answer's status, headers and bytes to what an Exchange holds: shared by the live sender
and the cassette player, so a recorded answer goes through exactly the code a live one does.

Error bodies come in the OpenAI shape (``{"error": {"type", "code", "message"}}``) and in the
variants gateways send instead (``{"error": "text"}``, FastAPI's ``{"detail": …}``, a top-level
``message``, plain text or HTML, SSE ``data:`` frames on a failed stream); each is read for what it
says, and nothing is invented where it says nothing.
"""

from __future__ import annotations

import json
from typing import Any

from .model import ErrorFacts
from .sse_reader import frame_error

_SHOWN = 300  # characters of an unreadable body quoted in a message


def _text(raw: bytes) -> str:
    return raw.decode("utf-8", "replace")


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _SHOWN else text[:_SHOWN] + "…"


def error_facts(status: int, raw: bytes) -> ErrorFacts:
    """An HTTP error answer's facts (the message is not yet redacted: the caller does that)."""
    text = _text(raw)
    try:
        data: Any = json.loads(text)
    except ValueError:
        data = _sse_error(text)
    facts: ErrorFacts = {"kind": "api", "status": status, "type": None, "code": None, "message": ""}
    if isinstance(data, dict):
        err = data.get("error")
        if isinstance(err, dict):
            facts = frame_error(data, status)
        elif isinstance(err, str) and err:
            facts["message"] = err
        elif "detail" in data:
            detail = data["detail"]
            facts["message"] = detail if isinstance(detail, str) else _short(json.dumps(detail, ensure_ascii=False))
        elif isinstance(data.get("message"), str):
            facts["message"] = data["message"]
            if isinstance(data.get("type"), str):
                facts["type"] = data["type"]
            if data.get("code") is not None:
                facts["code"] = str(data["code"])
        else:
            facts["message"] = _short(text)
    else:
        facts["message"] = _short(text)
    if not facts["message"]:
        facts["message"] = f"HTTP {status} with an empty body"
    return facts


def _sse_error(text: str) -> Any:
    """A failed stream sent as SSE (LiteLLM's 500: ``data: {"error": …}`` then ``[DONE]``): its first JSON frame."""
    for line in text.splitlines():
        if line.startswith("data:"):
            payload = line[5:].strip()
            if payload and not payload.startswith("[DONE]"):
                try:
                    return json.loads(payload)
                except ValueError:
                    return None
    return None


def json_answer(status: int, raw: bytes) -> tuple[Any, ErrorFacts | None]:
    """A 2xx answer read as the API's JSON object, or a protocol error saying what came instead."""
    try:
        body = json.loads(raw)
    except ValueError:
        return None, {"kind": "protocol", "status": status, "type": None, "code": None,
                      "message": f"a {status} answer that is not JSON: {_short(_text(raw)) or '(empty body)'}"}
    if not isinstance(body, dict):
        return None, {"kind": "protocol", "status": status, "type": None, "code": None,
                      "message": f"a {status} answer that is JSON {type(body).__name__}, expected an object"}
    if body.get("error") is not None and "choices" not in body and "output" not in body:
        return None, error_facts(status, raw)  # a gateway's error with a 200 status
    return body, None


def is_quota(error: ErrorFacts) -> bool:
    """A 429 that says the account has no credit left: waiting does not help, so it is not retried."""
    return "insufficient_quota" in (error["code"] or "", error["type"] or "")
