"""A deterministic 20-turn, tool-using conversation in both wire formats.

``responses_body()`` is a Responses API request whose ``input`` holds exactly
81 items; ``chat_body()`` is the equivalent Chat Completions request. Both are
built from the same script, so a correct translator maps one onto the other.

Layout of the Responses ``input``:

* 1 system message;
* 20 turns, cycling through three shapes (turn index ``i % 4``):

  - ``0`` and ``2`` — user, assistant text, 1 function_call, 1 output (4 items);
  - ``1`` — user, 2 parallel function_calls, 2 outputs (5 items);
  - ``3`` — user, 1 function_call, 1 output (3 items).

Every 4 turns hold 16 items, so 20 turns hold 80, plus the system message: 81.
The assistant items are shaped as the API returns them (``type: message``,
``id``, ``status`` and ``output_text`` parts), which is how a client replays
``response.output`` into the next request.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

MODEL = "gpt-4.1"
TURNS = 20
SYSTEM_PROMPT = (
    "You are a careful operations assistant. Use the tools to look things up "
    "before answering, cite the tool results, and keep answers short."
)

_TOOLS: list[dict[str, Any]] = [
    {
        "name": "get_weather",
        "description": "Current weather for a city.",
        "parameters": {
            "type": "object",
            "properties": {
                "city": {"type": "string", "description": "City name, e.g. 'Paris'."},
                "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
            },
            "required": ["city", "unit"],
            "additionalProperties": False,
        },
    },
    {
        "name": "search_docs",
        "description": "Full-text search over the internal documentation.",
        "parameters": {
            "type": "object",
            "properties": {
                "query": {"type": "string"},
                "limit": {"type": "integer", "minimum": 1, "maximum": 50},
                "filters": {
                    "type": "object",
                    "properties": {
                        "team": {"type": "string"},
                        "after": {"type": "string", "format": "date"},
                    },
                    "required": ["team", "after"],
                    "additionalProperties": False,
                },
            },
            "required": ["query", "limit", "filters"],
            "additionalProperties": False,
        },
    },
    {
        "name": "run_sql",
        "description": "Run a read-only SQL query against the analytics warehouse.",
        "parameters": {
            "type": "object",
            "properties": {
                "sql": {"type": "string"},
                "params": {"type": "array", "items": {"type": ["string", "number"]}},
            },
            "required": ["sql", "params"],
            "additionalProperties": False,
        },
    },
    {
        "name": "create_ticket",
        "description": "Open a ticket in the issue tracker.",
        "parameters": {
            "type": "object",
            "properties": {
                "title": {"type": "string"},
                "priority": {"type": "string", "enum": ["low", "medium", "high"]},
                "labels": {"type": "array", "items": {"type": "string"}},
            },
            "required": ["title", "priority", "labels"],
            "additionalProperties": False,
        },
    },
]

_CITIES = ["Paris", "Lagos", "Osaka", "Lima", "Oslo", "Perth", "Quito", "Cairo"]


@dataclass(frozen=True)
class Call:
    """One function call of the script and the output it got."""

    call_id: str
    item_id: str
    name: str
    arguments: str
    output: str


@dataclass(frozen=True)
class Turn:
    """One user turn: the question, optional assistant text, the calls made."""

    index: int
    user: str
    assistant_text: str | None
    calls: tuple[Call, ...]


def _call(turn: int, k: int) -> Call:
    """The k-th call of a turn; the tool and its arguments cycle deterministically."""
    n = turn * 2 + k
    kind = n % 4
    city = _CITIES[n % len(_CITIES)]
    if kind == 0:
        name = "get_weather"
        args: dict[str, Any] = {
            "city": city,
            "unit": "celsius" if n % 3 else "fahrenheit",
        }
        out: Any = {"city": city, "temp": 10 + n % 17, "conditions": "partly cloudy"}
    elif kind == 1:
        name = "search_docs"
        args = {
            "query": f"runbook for incident {1000 + n}",
            "limit": 5,
            "filters": {"team": "sre", "after": "2024-01-01"},
        }
        out = {"hits": [{"title": f"Runbook {1000 + n} part {j}", "score": 0.9 - j / 10} for j in range(3)]}
    elif kind == 2:
        name = "run_sql"
        args = {
            "sql": "SELECT region, count(*) FROM orders WHERE day = ? GROUP BY 1",
            "params": [f"2024-05-{1 + n % 28:02d}"],
        }
        out = {"rows": [["emea", 120 + n], ["amer", 340 + n], ["apac", 95 + n]]}
    else:
        name = "create_ticket"
        args = {
            "title": f"Follow up on turn {turn}",
            "priority": "medium",
            "labels": ["ops", f"t{turn}"],
        }
        out = {
            "id": f"OPS-{4000 + n}",
            "url": f"https://tracker.example/OPS-{4000 + n}",
        }
    return Call(
        call_id=f"call_{turn:02d}_{k}_{n:04x}abcdef",
        item_id=f"fc_{turn:02d}{k}0123456789abcdef",
        name=name,
        arguments=json.dumps(args),
        output=json.dumps(out),
    )


def script() -> list[Turn]:
    """The 20 turns of the conversation (deterministic)."""
    turns: list[Turn] = []
    for i in range(TURNS):
        shape = i % 4
        user = (
            f"Turn {i}: please check the latest numbers for {_CITIES[i % len(_CITIES)]} "
            f"and tell me whether anything needs attention."
        )
        text = f"Let me look that up for turn {i}; I'll check the data first." if shape in (0, 2) else None
        n_calls = 2 if shape == 1 else 1
        turns.append(Turn(i, user, text, tuple(_call(i, k) for k in range(n_calls))))
    return turns


def responses_tools() -> list[dict[str, Any]]:
    """The tools as Responses function tools (flat)."""
    return [{"type": "function", **t, "strict": True} for t in _TOOLS]


def chat_tools() -> list[dict[str, Any]]:
    """The same tools as Chat Completions function tools (nested under ``function``)."""
    return [{"type": "function", "function": {**t, "strict": True}} for t in _TOOLS]


def responses_input() -> list[dict[str, Any]]:
    """The 81 Responses input items."""
    items: list[dict[str, Any]] = [{"role": "system", "content": SYSTEM_PROMPT}]
    for t in script():
        items.append({"role": "user", "content": t.user})
        if t.assistant_text is not None:
            items.append(
                {
                    "type": "message",
                    "id": f"msg_{t.index:02d}0123456789abcdef",
                    "role": "assistant",
                    "status": "completed",
                    "content": [
                        {
                            "type": "output_text",
                            "text": t.assistant_text,
                            "annotations": [],
                        }
                    ],
                }
            )
        for c in t.calls:
            items.append(
                {
                    "type": "function_call",
                    "id": c.item_id,
                    "call_id": c.call_id,
                    "name": c.name,
                    "arguments": c.arguments,
                    "status": "completed",
                }
            )
        for c in t.calls:
            items.append(
                {
                    "type": "function_call_output",
                    "call_id": c.call_id,
                    "output": c.output,
                }
            )
    return items


def chat_messages() -> list[dict[str, Any]]:
    """The equivalent Chat messages: system, user, assistant (text + tool_calls), tool."""
    messages: list[dict[str, Any]] = [{"role": "system", "content": SYSTEM_PROMPT}]
    for t in script():
        messages.append({"role": "user", "content": t.user})
        messages.append(
            {
                "role": "assistant",
                "content": t.assistant_text,
                "tool_calls": [
                    {
                        "id": c.call_id,
                        "type": "function",
                        "function": {"name": c.name, "arguments": c.arguments},
                    }
                    for c in t.calls
                ],
            }
        )
        for c in t.calls:
            messages.append({"role": "tool", "tool_call_id": c.call_id, "content": c.output})
    return messages


def responses_body() -> dict[str, Any]:
    """A full Responses request body around the 81 items."""
    return {
        "model": MODEL,
        "input": responses_input(),
        "tools": responses_tools(),
        "tool_choice": "auto",
        "parallel_tool_calls": True,
        "temperature": 0.2,
        "max_output_tokens": 1024,
    }


def chat_body() -> dict[str, Any]:
    """The equivalent Chat Completions request body."""
    return {
        "model": MODEL,
        "messages": chat_messages(),
        "tools": chat_tools(),
        "tool_choice": "auto",
        "parallel_tool_calls": True,
        "temperature": 0.2,
        "max_completion_tokens": 1024,
    }


@dataclass(frozen=True)
class Expected:
    """Shape facts about the conversation that every sane translation keeps."""

    items: int
    messages: int
    assistant_messages: int
    assistant_with_text_and_calls: int
    tool_calls: int
    tool_messages: int
    tools: int


def expected() -> Expected:
    """The shape facts, computed from the script rather than hard-coded."""
    turns = script()
    n_calls = sum(len(t.calls) for t in turns)
    n_text = sum(t.assistant_text is not None for t in turns)
    return Expected(
        items=1 + len(turns) + n_text + 2 * n_calls,
        messages=1 + 2 * len(turns) + n_calls,
        assistant_messages=len(turns),
        assistant_with_text_and_calls=n_text,
        tool_calls=n_calls,
        tool_messages=n_calls,
        tools=len(_TOOLS),
    )


if __name__ == "__main__":
    e = expected()
    assert len(responses_input()) == e.items == 81, e
    assert len(chat_messages()) == e.messages, e
    print(e)
