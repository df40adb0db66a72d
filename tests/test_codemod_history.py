"""A conversation kept by hand: which chat message literals Responses takes as they are written."""

from __future__ import annotations

import typing
from typing import Any

import libcst as cst
import pytest
from openai.types.responses import EasyInputMessageParam

from migrator.codemod.history import own_name, size_read, taken_as_is
from migrator.mapping import translate


def _items(message: dict[str, Any]) -> list[Any]:
    items = translate({"model": "m", "messages": [message]}, to="responses").body["input"]
    assert isinstance(items, list)
    return items


def test_the_sdk_makes_the_message_tag_optional() -> None:
    """The fact the rule stands on: an input message without ``type`` is an EasyInputMessage."""
    assert "type" in EasyInputMessageParam.__optional_keys__
    assert typing.get_type_hints(EasyInputMessageParam)["type"] == typing.Literal["message"]


@pytest.mark.parametrize("message", [
    {"role": "user", "content": "Hi"},
    {"role": "system", "content": "Be brief."},
    {"role": "developer", "content": "Be brief."},
    {"role": "assistant", "content": "Hello!"},
])
def test_a_text_message_goes_to_input_as_written(message: dict[str, Any]) -> None:
    assert taken_as_is(_items(message), message)


@pytest.mark.parametrize("message", [
    {"role": "assistant", "content": [{"type": "text", "text": "Hello!"}]},  # parts become an output message
    {"role": "assistant", "content": "Hello!", "name": "bot"},  # the name is dropped: the engine's item differs
    {"role": "tool", "tool_call_id": "call_1", "content": "17°C"},  # a function_call_output item
    {"role": "assistant", "content": None, "tool_calls": [
        {"id": "call_1", "type": "function", "function": {"name": "f", "arguments": "{}"}}]},
])
def test_a_message_whose_shape_changes_is_not_taken_as_written(message: dict[str, Any]) -> None:
    assert not taken_as_is(_items(message), message)


def test_the_tag_alone_is_forgiven_never_another_difference() -> None:
    message = {"role": "assistant", "content": "Hello!"}
    assert taken_as_is([{"type": "message", "role": "assistant", "content": "Hello!"}], message)
    assert not taken_as_is([{"type": "message", "role": "assistant", "content": "Hi"}], message)
    assert not taken_as_is([{"type": "other", "role": "assistant", "content": "Hello!"}], message)
    assert not taken_as_is([{"type": "message", "role": "assistant", "content": "Hello!", "id": "msg_1"}], message)
    assert not taken_as_is([{"type": "message", "role": "assistant"}], {"role": "assistant", "extra": 1})
    assert not taken_as_is([message, message], message)


@pytest.mark.parametrize(("code", "read"), [
    ("len(history)", True),
    ("len(other)", False),
    ("len(*history)", False),
    ("len(history, 1)", False),
    ("size(history)", False),
    ("history.count(1)", False),
])
def test_only_len_of_the_list_is_a_size_read(code: str, read: bool) -> None:
    call = cst.parse_expression(code)
    assert isinstance(call, cst.Call)
    assert (size_read(call, "history") is not None) is read


@pytest.mark.parametrize(("code", "own"), [
    ("def f(history):\n    history.append(1)\n", True),
    ("def f():\n    history = []\n    history.append(1)\n", True),
    ("def f():\n    for history in runs:\n        pass\n", True),
    ("def f():\n    with open(p) as history:\n        pass\n", True),
    ("def f():\n    (history := [])\n", True),
    ("def f():\n    a, *history = runs\n", True),
    ("def f():\n    def history():\n        pass\n", True),
    ("def f():\n    history.append(1)\n", False),
    ("def f():\n    print(len(history))\n", False),
    ("def f():\n    global history\n    history = []\n", False),
    ("def f():\n    nonlocal history\n    history += [1]\n", False),
    ("def f():\n    def g(history):\n        return history\n    return history\n", False),  # g's parameter is g's own
    ("class C:\n    history = []\n", True),
    ("class C:\n    def m(self, history):\n        history.append(1)\n", False),  # the class body reads it
])
def test_a_function_or_class_binding_the_name_has_its_own_variable(code: str, own: bool) -> None:
    statement = cst.parse_module(code).body[0]
    assert isinstance(statement, cst.FunctionDef | cst.ClassDef)
    assert own_name(statement, "history") is own
