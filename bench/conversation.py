"""The benchmark conversations, each deterministic and in both wire formats.

``conversations()`` gives four, in report order; each builds a Responses request
(``responses_body()``) and the equivalent Chat Completions request
(``chat_body()``) from the same script, so a correct translator maps one onto
the other, and the bench checks every contender's output against the other
dialect's body.

* ``tools`` — the original one: a system message and 20 turns cycling through
  three shapes (turn ``i % 4``): ``0``/``2`` user, assistant text, 1
  function_call, 1 output; ``1`` user, 2 parallel calls, 2 outputs; ``3`` user,
  1 call, 1 output. 81 Responses items, 66 Chat messages.
* ``null-content`` — an agent loop as the SDK records it: every turn is a pure
  tool call (Chat ``content: null`` + ``tool_calls``), the outputs, then the
  answer as its own assistant message. 91 items, 86 messages.
* ``multimodal`` — user turns whose content is a part list: text and an image
  every turn, a file (by ``file_id``) every other turn, in each dialect's
  shape (``input_image``/``input_file`` against ``image_url``/``file``); an
  answer each turn, a tool call every fourth. 51 items, 51 messages.
* ``long`` — the ``tools`` script over 200 turns: 801 items, 651 messages.

Assistant items are shaped as the API returns them (``type: message``, ``id``,
``status``, ``output_text`` parts), which is how a client replays
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
    """One user turn: the question, optional assistant text, the calls made, an optional answer after them.

    ``user`` is a string, or a list of parts in a dialect-neutral form: ``("text", str)``,
    ``("image", url)``, ``("file", file_id)``.
    """

    index: int
    user: str | list[tuple[str, str]]
    assistant_text: str | None
    calls: tuple[Call, ...]
    answer: str | None = None


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


def _question(i: int) -> str:
    return (
        f"Turn {i}: please check the latest numbers for {_CITIES[i % len(_CITIES)]} "
        f"and tell me whether anything needs attention."
    )


def script(turns: int = TURNS) -> list[Turn]:
    """The tool conversation: text before some calls, parallel calls in one turn of four (deterministic)."""
    out: list[Turn] = []
    for i in range(turns):
        shape = i % 4
        text = f"Let me look that up for turn {i}; I'll check the data first." if shape in (0, 2) else None
        n_calls = 2 if shape == 1 else 1
        out.append(Turn(i, _question(i), text, tuple(_call(i, k) for k in range(n_calls))))
    return out


def null_content_script(turns: int = TURNS) -> list[Turn]:
    """An agent loop as the SDK records it: a pure tool call (Chat ``content: null``), the outputs, then the answer."""
    out: list[Turn] = []
    for i in range(turns):
        n_calls = 2 if i % 4 == 1 else 1
        answer = f"Turn {i}: the numbers look normal; nothing needs attention (see the tool results)."
        out.append(Turn(i, _question(i), None, tuple(_call(i, k) for k in range(n_calls)), answer))
    return out


def multimodal_script(turns: int = TURNS) -> list[Turn]:
    """User turns with text, image and file parts; a tool call every fourth turn; an answer each turn."""
    out: list[Turn] = []
    for i in range(turns):
        parts: list[tuple[str, str]] = [
            ("text", f"Turn {i}: what does this dashboard show for {_CITIES[i % len(_CITIES)]}?"),
            ("image", f"https://img.example/dashboards/{i:03d}.png"),
        ]
        if i % 2 == 0:
            parts.append(("file", f"file-report{i:03d}abcdef"))
        calls = (_call(i, 0),) if i % 4 == 3 else ()
        answer = f"Turn {i}: the dashboard shows a steady trend; the report agrees."
        out.append(Turn(i, parts, None, calls, answer))
    return out


def responses_tools() -> list[dict[str, Any]]:
    """The tools as Responses function tools (flat)."""
    return [{"type": "function", **t, "strict": True} for t in _TOOLS]


def chat_tools() -> list[dict[str, Any]]:
    """The same tools as Chat Completions function tools (nested under ``function``)."""
    return [{"type": "function", "function": {**t, "strict": True}} for t in _TOOLS]


def _responses_user(user: str | list[tuple[str, str]]) -> Any:
    if isinstance(user, str):
        return user
    parts: list[dict[str, Any]] = []
    for kind, value in user:
        if kind == "text":
            parts.append({"type": "input_text", "text": value})
        elif kind == "image":
            parts.append({"type": "input_image", "image_url": value, "detail": "auto"})
        else:
            parts.append({"type": "input_file", "file_id": value})
    return parts


def _chat_user(user: str | list[tuple[str, str]]) -> Any:
    if isinstance(user, str):
        return user
    parts: list[dict[str, Any]] = []
    for kind, value in user:
        if kind == "text":
            parts.append({"type": "text", "text": value})
        elif kind == "image":
            parts.append({"type": "image_url", "image_url": {"url": value, "detail": "auto"}})
        else:
            parts.append({"type": "file", "file": {"file_id": value}})
    return parts


def _output_message(item_id: str, text: str) -> dict[str, Any]:
    """An assistant message item shaped as the API returns it (how a client replays ``response.output``)."""
    return {
        "type": "message",
        "id": item_id,
        "role": "assistant",
        "status": "completed",
        "content": [{"type": "output_text", "text": text, "annotations": []}],
    }


def responses_input(turns: list[Turn] | None = None) -> list[dict[str, Any]]:
    """The Responses input items of a script (the tool conversation by default: 81 items)."""
    items: list[dict[str, Any]] = [{"role": "system", "content": SYSTEM_PROMPT}]
    for t in script() if turns is None else turns:
        items.append({"role": "user", "content": _responses_user(t.user)})
        if t.assistant_text is not None:
            items.append(_output_message(f"msg_{t.index:03d}0123456789abcdef", t.assistant_text))
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
            items.append({"type": "function_call_output", "call_id": c.call_id, "output": c.output})
        if t.answer is not None:
            items.append(_output_message(f"msg_{t.index:03d}a123456789abcdef", t.answer))
    return items


def chat_messages(turns: list[Turn] | None = None) -> list[dict[str, Any]]:
    """The equivalent Chat messages: system, user, assistant (text or ``null`` + tool_calls), tool, answer."""
    messages: list[dict[str, Any]] = [{"role": "system", "content": SYSTEM_PROMPT}]
    for t in script() if turns is None else turns:
        messages.append({"role": "user", "content": _chat_user(t.user)})
        if t.calls:
            messages.append(
                {
                    "role": "assistant",
                    "content": t.assistant_text,
                    "tool_calls": [
                        {"id": c.call_id, "type": "function", "function": {"name": c.name, "arguments": c.arguments}}
                        for c in t.calls
                    ],
                }
            )
        elif t.assistant_text is not None:
            messages.append({"role": "assistant", "content": t.assistant_text})
        for c in t.calls:
            messages.append({"role": "tool", "tool_call_id": c.call_id, "content": c.output})
        if t.answer is not None:
            messages.append({"role": "assistant", "content": t.answer})
    return messages


def responses_body(turns: list[Turn] | None = None) -> dict[str, Any]:
    """A full Responses request body around the input items."""
    return {
        "model": MODEL,
        "input": responses_input(turns),
        "tools": responses_tools(),
        "tool_choice": "auto",
        "parallel_tool_calls": True,
        "temperature": 0.2,
        "max_output_tokens": 1024,
    }


def chat_body(turns: list[Turn] | None = None) -> dict[str, Any]:
    """The equivalent Chat Completions request body."""
    return {
        "model": MODEL,
        "messages": chat_messages(turns),
        "tools": chat_tools(),
        "tool_choice": "auto",
        "parallel_tool_calls": True,
        "temperature": 0.2,
        "max_completion_tokens": 1024,
    }


@dataclass(frozen=True)
class Expected:
    """Shape facts about a conversation that every sane translation keeps (counted from its bodies)."""

    turns: int
    items: int
    messages: int
    assistant_messages: int
    assistant_with_text_and_calls: int
    assistant_null_content: int
    tool_calls: int
    tool_messages: int
    image_parts: int
    file_parts: int
    tools: int


@dataclass(frozen=True)
class Conversation:
    """One benchmark conversation: its name, what it stands for, and the same script in both dialects."""

    key: str
    about: str
    turns: tuple[Turn, ...]

    def responses_body(self) -> dict[str, Any]:
        return responses_body(list(self.turns))

    def chat_body(self) -> dict[str, Any]:
        return chat_body(list(self.turns))

    def responses_input(self) -> list[dict[str, Any]]:
        return responses_input(list(self.turns))

    def chat_messages(self) -> list[dict[str, Any]]:
        return chat_messages(list(self.turns))

    def expected(self) -> Expected:
        msgs = self.chat_messages()
        asst = [m for m in msgs if m["role"] == "assistant"]
        parts = [p for m in msgs if isinstance(m["content"], list) for p in m["content"]]
        return Expected(
            turns=len(self.turns),
            items=len(self.responses_input()),
            messages=len(msgs),
            assistant_messages=len(asst),
            assistant_with_text_and_calls=sum(1 for m in asst if m["content"] and m.get("tool_calls")),
            assistant_null_content=sum(1 for m in asst if m["content"] is None),
            tool_calls=sum(len(m.get("tool_calls") or ()) for m in asst),
            tool_messages=sum(1 for m in msgs if m["role"] == "tool"),
            image_parts=sum(1 for p in parts if p["type"] == "image_url"),
            file_parts=sum(1 for p in parts if p["type"] == "file"),
            tools=len(_TOOLS),
        )


def conversations() -> list[Conversation]:
    """The four benchmark conversations, in report order."""
    return [
        Conversation("tools", "20 turns of a tool-using agent, text before half of the calls", tuple(script())),
        Conversation("null-content", "20 turns: pure tool calls (Chat content: null), outputs, then the answer",
                     tuple(null_content_script())),
        Conversation("multimodal", "20 user turns with text, image and file parts; answers; 5 tool calls",
                     tuple(multimodal_script())),
        Conversation("long", "the tool conversation over 200 turns", tuple(script(200))),
    ]


def expected() -> Expected:
    """The shape facts of the default (tool) conversation."""
    return conversations()[0].expected()


if __name__ == "__main__":
    for conv in conversations():
        print(conv.key, conv.expected())
    assert len(responses_input()) == expected().items == 81
