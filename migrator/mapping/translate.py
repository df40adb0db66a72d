"""The one entry point: detect what a body is, translate it, report what was lost."""

from __future__ import annotations

from typing import Any, Literal, get_args

from .chat_request import chat_request_to_responses
from .context import Context, child
from .errors import Loss, MappingError, StrictModeError
from .params import unknown_parameters
from .responses_request import responses_request_to_chat
from .rules import TABLES

# The result converters (and the shapes and usage tables under them) load on the first result a
# program translates: a gateway that translates requests never pays for them at import.

Dialect = Literal["chat", "responses"]
"""An API: what ``translate``, the stream translators and the adapters translate to."""
Kind = Literal["chat.request", "responses.request", "chat.completion", "response", "error"]
"""What a body is, as ``detect`` reads it (an error body is the same in both APIs)."""

DIALECTS: frozenset[str] = frozenset(get_args(Dialect))

DIALECT: dict[Kind, Dialect] = {
    "chat.request": "chat", "chat.completion": "chat",
    "responses.request": "responses", "response": "responses",
}
_COUNTERPART: dict[Kind, Kind] = {
    "chat.request": "responses.request", "responses.request": "chat.request",
    "chat.completion": "response", "response": "chat.completion", "error": "error",
}
_REQUEST_TABLES: dict[Kind, Any] = {"chat.request": TABLES["chat.request"], "responses.request": TABLES["responses.request"]}


class Translation:
    """A translated body (a plain dict) and the losses it took to get there."""

    __slots__ = ("body", "losses", "source", "target")

    body: dict[str, Any]
    losses: list[Loss]
    source: Kind
    target: Kind

    def __init__(self, body: dict[str, Any], losses: list[Loss], source: Kind, target: Kind) -> None:
        self.body = body
        self.losses = losses
        self.source = source
        self.target = target

    @property
    def lossless(self) -> bool:
        return not self.losses

    def raise_for_losses(self) -> None:
        if self.losses:
            raise StrictModeError(self.losses)

    def __repr__(self) -> str:
        return f"<Translation {self.source} → {self.target}, {len(self.losses)} loss(es)>"


def detect(body: Any) -> Kind:
    """What a body is, from the keys each kind must have (read tolerantly)."""
    if type(body) is not dict:
        raise MappingError([_problem("$", "a JSON object", body)])
    obj = body.get("object")
    if "messages" in body:
        return "chat.request"
    if obj == "chat.completion" or ("choices" in body and obj != "chat.completion.chunk"):
        return "chat.completion"
    if obj == "response" or "output" in body:
        return "response"
    if "input" in body or ("model" in body and any(k in body for k in ("instructions", "prompt", "previous_response_id", "conversation"))):
        return "responses.request"
    if "error" in body and type(body["error"]) is dict:
        return "error"
    if obj == "chat.completion.chunk" or (type(body.get("type")) is str and body["type"].startswith("response.")):
        raise MappingError([_problem("$", "a whole body, not a stream frame (translate streams with translate_stream)", body)])
    raise MappingError([_problem("$", "a chat request (messages), a responses request (input), a chat completion (choices) or a response (output)", body)])


def check_dialect(to: object) -> None:
    """The one check of a target API (``translate``, the stream translators): a ValueError naming it."""
    try:
        if to in DIALECTS:
            return
    except TypeError:  # an unhashable value is no API either
        pass
    raise ValueError(f"to must be 'chat' or 'responses', not {to!r}")


def _problem(path: str, expected: str, found: Any) -> Any:
    from .errors import Problem, describe
    return Problem(path, expected, describe(found))


def translate(
    body: dict[str, Any],
    to: Dialect,
    *,
    strict: bool = False,
    hoist_system: bool = False,
    default_store: bool = False,
    request: dict[str, Any] | None = None,
) -> Translation:
    """Translate a request or a result into the other API.

    ``to`` names the target dialect. A body already in it is validated, not
    translated: a request loses its unknown top-level parameters (each reported,
    as the API would refuse them), a result is returned as it is.
    ``hoist_system`` moves a leading system/developer block into
    ``instructions``; ``default_store`` is the ``store`` written for a chat
    request that has none (Responses would otherwise store it). ``request``,
    for a chat completion, is the chat request that produced it: its
    parameters are echoed into the Response as the API does (a responses
    request is accepted there too, as a bridge has one).
    """
    check_dialect(to)
    kind = detect(body)
    ctx = Context(hoist_system=hoist_system, default_store=default_store)
    if kind == "error":
        return Translation(body, [], kind, kind)
    target: Kind
    if DIALECT[kind] == to:
        out = _validate_native(body, kind, ctx)
        target = kind
    else:
        target = _COUNTERPART[kind]
        if kind == "chat.request":
            out = chat_request_to_responses(body, ctx)
        elif kind == "responses.request":
            out = responses_request_to_chat(body, ctx)
        elif kind == "chat.completion":
            from .chat_result import chat_completion_to_response
            from .echo import request_echo

            out = chat_completion_to_response(body, ctx, request_echo(request, default_store=default_store))
        else:
            from .responses_result import response_to_chat_completion

            out = response_to_chat_completion(body, ctx)
            if "error" in out:
                target = "error"
    if ctx.problems:
        raise MappingError(ctx.problems)
    if strict and ctx.losses:
        raise StrictModeError(ctx.losses)
    return Translation(out, ctx.losses, kind, target)


def _validate_native(body: dict[str, Any], kind: Kind, ctx: Context) -> dict[str, Any]:
    """A body already in the target dialect: read it as if translating, keep it as it is.

    Reading it through the converter finds every structural problem; its
    losses describe the other direction and are discarded, except the fields
    that no table knows, which are removed and reported.
    """
    probe = Context(native=True)
    if kind == "chat.request":
        chat_request_to_responses(body, probe)
    elif kind == "responses.request":
        responses_request_to_chat(body, probe)
    elif kind == "chat.completion":
        from .chat_result import chat_completion_to_response

        chat_completion_to_response(body, probe)
    else:
        from .responses_result import response_to_chat_completion

        response_to_chat_completion(body, probe)
    ctx.problems.extend(probe.problems)
    if kind in _REQUEST_TABLES:
        ctx.check_model(body, DIALECT[kind])
    table = _REQUEST_TABLES.get(kind)
    if table is None:
        return body
    unknown = unknown_parameters(body, table)
    if not unknown:
        return body
    for key in unknown:
        ctx.loss(child("$", key), key, "unsupported", f"not a parameter of {table.title.split(' → ')[0]}; the API answers it with a 400")
    return {k: v for k, v in body.items() if k in table}
