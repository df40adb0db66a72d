"""OpenAI's error shapes: the HTTP error body and the Responses stream's ``error`` event.

The engine, the streams, the bridge and the transport adapters all answer in these shapes, which
the SDK parses and raises on; building them in one place keeps their keys and order the same.
"""

from __future__ import annotations

from typing import Any


def error_body(message: str, type_: str = "server_error", code: str | None = None,
               param: str | None = None) -> dict[str, Any]:
    """The body of an error answer (``{"error": {...}}``), which both endpoints share."""
    return {"error": {"message": message, "type": type_, "param": param, "code": code}}


def failure_body(error: Any) -> dict[str, Any]:
    """The error body for what a failed Response (or a failing stream) says of its error: what it
    leaves out, or a value that is not an object, gets the API's defaults for a server-side failure."""
    err = error if type(error) is dict else {}
    return error_body(err.get("message") or "the response failed", err.get("type") or "server_error",
                      err.get("code") or "server_error", err.get("param"))


def error_event(message: str, code: str, sequence_number: int) -> dict[str, Any]:
    """The Responses stream's ``error`` event, which ends a stream that cannot go on."""
    return {"type": "error", "code": code, "message": message, "param": None, "sequence_number": sequence_number}
