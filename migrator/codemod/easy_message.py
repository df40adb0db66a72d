"""Whether a chat message literal goes to Responses ``input`` as it is written.

The engine spells out ``"type": "message"`` on an earlier assistant text turn (strict servers
such as llama.cpp refuse it untagged), but the Responses API takes the untagged dict: the SDK's
``EasyInputMessageParam`` makes ``type`` optional. So the codemods (Python and JavaScript) keep a
literal that the engine changes by that tag alone as it was written. Plain JSON values only: no
parser is loaded here.
"""

from __future__ import annotations

from typing import Any

_TAG, _MESSAGE = "type", "message"
"""The tag the engine spells out on an assistant turn and ``EasyInputMessageParam`` leaves optional."""


def taken_as_is(items: list[Any], message: Any) -> bool:
    """Whether the engine's ``items`` for one chat ``message`` literal are that literal, to Responses."""
    if items == [message]:
        return True
    if len(items) != 1 or type(items[0]) is not dict or type(message) is not dict or _TAG in message:
        return False
    item = items[0]
    return item.get(_TAG) == _MESSAGE and len(item) == len(message) + 1 and all(
        key == _TAG or (key in message and message[key] == value) for key, value in item.items())
