"""The request a Response echoes (``request=``): read, checked and translated in one place.

A Response repeats the parameters of the request that produced it. When a
ChatCompletion (whole or streamed) becomes a Response, the caller may hand over
that request: a chat request is translated to its Responses form first, a
responses request (a bridge has one) is checked and echoed as it is. Both
``translate`` and the stream translator call ``request_echo``, so they agree on
what is accepted; a problem in it names ``request: <JSON path>``.
"""

from __future__ import annotations

from typing import Any

from .chat_request import chat_request_to_responses
from .context import Context
from .errors import MappingError, Problem, describe
from .responses_request import responses_request_to_chat
from .rules import TABLES
from .shapes import RESPONSE

_WHERE = "request: "

#: Parameters a Response echoes that a Responses request has no place for (the penalties):
#: from a chat request they are echoed as they are.
_CHAT_ONLY_ECHO = tuple(key for key in RESPONSE.echo if key not in TABLES["responses.request"])


def request_echo(request: Any, *, default_store: bool = False) -> dict[str, Any] | None:
    """The Responses-form request whose parameters a Response echoes, or None without one.

    Raises ``MappingError`` when ``request`` is not a JSON object or cannot be
    read as a chat or responses request: an echo of a wrong value would
    invent parameters the client never sent.
    """
    if request is None:
        return None
    if type(request) is not dict:
        raise MappingError([Problem(_WHERE + "$", "a JSON object (the chat or responses request)", describe(request))])
    if "messages" in request:
        ctx = Context(default_store=default_store)
        echo = chat_request_to_responses(request, ctx)
        for key in _CHAT_ONLY_ECHO:  # the chat upstream used them, and a Response echoes them
            if key in request:
                echo[key] = request[key]
    else:  # read for its problems, in its own dialect (previous_response_id may stand for the input)
        ctx = Context(native=True)
        responses_request_to_chat(request, ctx)
        echo = request
    if ctx.problems:
        raise MappingError([Problem(_WHERE + p.path, p.expected, p.found) for p in ctx.problems])
    return echo
