"""A translated request leads with its model and its messages/input, the rest in the body's order.

dispatch() reserves the places of those keys before anything is written (so lead() need not copy
the body); these tests pin the order that results, and that a reserved place nothing was written
to never shows in a result.
"""

from __future__ import annotations

from typing import Any, Literal

from migrator import translate


def keys(body: dict[str, Any], to: Literal["chat", "responses"], **options: Any) -> list[str]:
    return list(translate(body, to, **options).body)


def test_responses_to_chat_leads_with_model_and_messages() -> None:
    body = {"temperature": 0.2, "input": "hi", "max_output_tokens": 9, "model": "m", "tool_choice": "auto"}
    assert keys(body, "chat") == ["model", "messages", "temperature", "max_completion_tokens"]


def test_chat_to_responses_leads_with_model_instructions_input() -> None:
    body = {"temperature": 0.2, "messages": [{"role": "system", "content": "s"}, {"role": "user", "content": "u"}],
            "model": "m", "max_completion_tokens": 9}
    assert keys(body, "responses") == ["model", "input", "temperature", "max_output_tokens", "store"]
    assert keys(body, "responses", hoist_system=True) == ["model", "instructions", "input", "temperature", "max_output_tokens", "store"]


def test_a_key_written_after_dispatch_still_leads() -> None:
    # no input: the messages come from instructions, in the finishing pass
    assert keys({"temperature": 1, "instructions": "x", "model": "m"}, "chat") == ["model", "messages", "temperature"]


def test_no_reserved_place_is_left_empty() -> None:
    out = translate({"input": "hi"}, "chat").body
    assert list(out) == ["messages"]
    out = translate({"messages": [{"role": "user", "content": "u"}]}, "responses").body
    assert list(out) == ["input", "store"]
    assert all(v is not None for v in out.values())
