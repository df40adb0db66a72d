"""A conversation kept by hand in a list (``history.append({"role": "assistant", "content": reply})``).

The engine writes an earlier assistant text turn as ``{"type": "message", "role": "assistant",
"content": …}``, because strict servers (llama.cpp) refuse it untagged. The Responses API itself
takes the untagged dict (the SDK's ``EasyInputMessageParam`` makes ``type`` optional), so a literal
that the engine changes by that tag alone goes to ``input`` as it is written: the list then holds
the very dicts it held under Chat, and the code that appends them needs no edit.

Because those dicts do not change, the list's length means what it meant, and ``len(history)`` is
a use the codemod can follow. It stops meaning that once an answer's own message appended to the
list becomes ``extend(r.output)``: a turn is then one item or several (reasoning, function calls).
"""

from __future__ import annotations

from typing import Any

import libcst as cst

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


def size_read(call: cst.Call, name: str) -> cst.Name | None:
    """The ``name`` read by ``len(name)``; None for any other call."""
    func, args = call.func, call.args
    if not (isinstance(func, cst.Name) and func.value == "len" and len(args) == 1 and args[0].keyword is None
            and not args[0].star and isinstance(args[0].value, cst.Name) and args[0].value.value == name):
        return None
    return args[0].value


SIZE_CHANGES = "`len({name})` is read, and the answer appended to it would go in as its output items, which changes the count"
"""Why a list whose length is read stays left once an answer's message goes in as ``r.output``."""
