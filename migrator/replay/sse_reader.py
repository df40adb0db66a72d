"""Reading a streamed answer the way the SDK does, and keeping what the envelope looked like.

Servers disagree on the envelope (study §6.3): an ``event:`` line or none, ``data: [DONE]`` or
none, ``sequence_number`` or none, and output item ids that repeat. So the event type comes from
the JSON's ``type`` and nothing else, ``[DONE]`` ends the stream wherever it comes, and Responses
items are keyed by ``output_index`` (falling back to the item id only when the index is missing).
The final object is the terminal event's ``response`` when there is one; the text rebuilt from the
deltas is compared with it (a mismatch is a stream-integrity finding, not a content difference).
Chat streams are assembled into the ``chat.completion`` a non-streamed call would have returned.

Live answers and cassettes are fed through this same reader, so a cassette tests the parser.
"""

from __future__ import annotations

import json
from typing import Any

from ..streams.sse import DONE, SSEDecoder, SSEEvent
from .model import ErrorFacts, StreamFacts
from .secrets import Redactor

_decode = json.JSONDecoder().decode  # json.loads re-checks its argument's type on every event
_HEAD = ("id", "created", "model", "system_fingerprint", "service_tier")
_TERMINAL = frozenset({"response.completed", "response.incomplete", "response.failed"})
_FIRST_TOKEN = frozenset({"response.output_text.delta", "response.refusal.delta",
                          "response.function_call_arguments.delta"})


class StreamResult:
    __slots__ = ("body", "error", "facts", "ttft_ms")

    def __init__(self, body: Any, facts: StreamFacts, ttft_ms: float | None, error: ErrorFacts | None) -> None:
        self.body = body
        self.facts = facts
        self.ttft_ms = ttft_ms
        self.error = error


def frame_error(data: dict[str, Any], status: int | None) -> ErrorFacts:
    """An ``error`` event or a frame carrying ``error``: the API's failure, told mid-stream."""
    err = data.get("error") if data.get("type") != "error" or isinstance(data.get("error"), dict) else data
    if not isinstance(err, dict):
        err = {"message": err}
    code = err.get("code")
    kind = err.get("type")
    return {"kind": "api", "status": status, "type": kind if isinstance(kind, str) and kind != "error" else None,
            "code": None if code is None else str(code), "message": str(err.get("message") or "an error event in the stream")}


class StreamReader:
    """Feed the body's bytes as they come (with their time offset); :meth:`finish` gives the result."""

    def __init__(self, responses: bool, status: int | None = 200, redactor: Redactor | None = None) -> None:
        self.responses = responses
        self.redactor = redactor  # known secrets a server echoes in an event are removed before parsing
        self.status = status
        self._decoder = SSEDecoder()
        self.events = 0
        self.event_lines = False
        self.done = False
        self.sequence_numbers = responses
        self.ttft_ms: float | None = None
        self.error: ErrorFacts | None = None
        self.last_type: str | None = None
        # responses
        self.terminal: dict[str, Any] | None = None
        self.base: dict[str, Any] | None = None
        self.items: dict[Any, dict[str, Any]] = {}
        self.delta_text: list[str] = []
        # chat
        self.head: dict[str, Any] = {}
        self._head_open = True  # until a chunk gave id, created and model (then the rest are skipped)
        self.choices: dict[int, dict[str, Any]] = {}
        self.usage: Any = None
        self.finish_reason: str | None = None

    @property
    def over(self) -> bool:
        """``[DONE]`` or an error came: nothing after it counts."""
        return self.done or self.error is not None

    def feed(self, chunk: bytes, at_ms: float) -> None:
        if not self.over:
            self._events(self._decoder.feed(chunk), at_ms)

    def finish(self, at_ms: float) -> StreamResult:
        if not self.over:
            self._events(self._decoder.close(), at_ms)
        facts: StreamFacts = {"events": self.events, "event_lines": self.event_lines, "done": self.done,
                              "sequence_numbers": self.sequence_numbers and self.events > 0,
                              "terminal": None, "rebuilt_matches_terminal": None}
        if self.error is not None:
            facts["terminal"] = self.last_type if self.responses else self.finish_reason
            return StreamResult(None, facts, self.ttft_ms, self.error)
        if self.responses:
            facts["terminal"] = self.last_type
            if self.terminal is not None:
                facts["rebuilt_matches_terminal"] = "".join(self.delta_text) == output_text(self.terminal)
                body: Any = self.terminal
            else:
                body = self._rebuilt_response()
                if body is not None and self.redactor is not None and self.redactor.holds(json.dumps(body)):
                    body = self.redactor.value(body)  # a key the model echoed token by token
        else:
            facts["terminal"] = self.finish_reason
            body = self._chat_completion()
            if body is not None and self.redactor is not None and any(
                    self.redactor.holds(text) for text in self._chat_texts()):
                body = self.redactor.value(body)  # a key the model echoed token by token
        if body is None:
            return StreamResult(None, facts, self.ttft_ms, {
                "kind": "protocol", "status": self.status, "type": None, "code": None,
                "message": f"the stream ended after {self.events} event(s) without an answer"})
        return StreamResult(body, facts, self.ttft_ms, None)

    # ------------------------------------------------------------ frames

    def _events(self, events: list[SSEEvent], at_ms: float) -> None:
        for event in events:
            if event.event is not None:
                self.event_lines = True
            data = event.data
            if data.startswith(DONE):
                self.done = True
                return
            if not data.strip():
                continue
            if self.redactor is not None and self.redactor.holds(data):
                data = self.redactor.text(data)
            self.events += 1
            try:
                frame = _decode(data)
            except ValueError:
                self._protocol(f"stream event {self.events} is not JSON: {data[:80]!r}")
                return
            if not isinstance(frame, dict):
                self._protocol(f"stream event {self.events} is {type(frame).__name__}, expected an object")
                return
            kind = frame.get("type")
            if kind == "error" or ("error" in frame and frame["error"] is not None and kind is None):
                self.last_type = "error"
                self.error = frame_error(frame, self.status)
                return
            if self.responses:
                self._response_event(frame, kind, at_ms)
            else:
                self._chat_chunk(frame, at_ms)

    def _protocol(self, message: str) -> None:
        self.error = {"kind": "protocol", "status": self.status, "type": None, "code": None, "message": message}

    def _response_event(self, frame: dict[str, Any], kind: Any, at_ms: float) -> None:
        if not isinstance(kind, str):
            self._protocol(f"stream event {self.events} has no type")
            return
        self.last_type = kind
        if not isinstance(frame.get("sequence_number"), int):
            self.sequence_numbers = False
        if kind in _FIRST_TOKEN:
            delta = frame.get("delta")
            if self.ttft_ms is None and isinstance(delta, str) and delta:
                self.ttft_ms = at_ms
            if kind == "response.output_text.delta" and isinstance(delta, str):
                self.delta_text.append(delta)
        response = frame.get("response")
        if isinstance(response, dict):
            if kind in _TERMINAL:
                self.terminal = response
            else:
                self.base = response
            return
        if self.terminal is None:
            self._rebuild(frame, kind)

    def _rebuild(self, frame: dict[str, Any], kind: str) -> None:
        """Keep enough to rebuild the response when no terminal event comes."""
        index = frame.get("output_index", frame.get("item_id"))
        item = frame.get("item")
        if kind in ("response.output_item.added", "response.output_item.done") and isinstance(item, dict):
            if index is None:
                index = item.get("id", len(self.items))
            self.items[index] = dict(item) if kind.endswith("added") else item
            return
        target = self.items.get(index)
        if target is None:
            return
        delta = frame.get("delta")
        if kind == "response.output_text.delta" and isinstance(delta, str):
            target["_text"] = target.get("_text", "") + delta
        elif kind == "response.refusal.delta" and isinstance(delta, str):
            target["_refusal"] = target.get("_refusal", "") + delta
        elif kind == "response.function_call_arguments.delta" and isinstance(delta, str):
            target["arguments"] = target.get("arguments", "") + delta

    def _rebuilt_response(self) -> dict[str, Any] | None:
        if self.base is None and not self.items:
            return None
        response = dict(self.base or {"object": "response"})
        output = []
        for item in self.items.values():
            text = item.pop("_text", None)
            refusal = item.pop("_refusal", None)
            if item.get("type") == "message" and not item.get("content") and (text is not None or refusal is not None):
                part = ({"type": "output_text", "text": text, "annotations": []} if text is not None
                        else {"type": "refusal", "refusal": refusal})
                item["content"] = [part]
            output.append(item)
        response["output"] = output
        return response

    def _chat_chunk(self, frame: dict[str, Any], at_ms: float) -> None:
        if self._head_open:
            head = self.head
            for key in _HEAD:
                if head.get(key) is None and frame.get(key) is not None:
                    head[key] = frame[key]
            self._head_open = not ("id" in head and "created" in head and "model" in head)
        if frame.get("usage") is not None:
            self.usage = frame["usage"]
        choices = frame.get("choices")
        if not isinstance(choices, list):
            return
        for position, choice in enumerate(choices):
            if not isinstance(choice, dict):
                continue
            index = choice.get("index", position)
            state = self.choices.get(index)
            if state is None:
                state = self.choices[index] = {"role": None, "content": None, "refusal": None, "tools": [], "finish": None}
            delta = choice.get("delta") or {}
            if isinstance(delta, dict):
                self._chat_delta(state, delta, at_ms)
            finish = choice.get("finish_reason")
            if finish is not None:
                state["finish"] = self.finish_reason = finish

    def _chat_delta(self, state: dict[str, Any], delta: dict[str, Any], at_ms: float) -> None:
        if state["role"] is None and delta.get("role"):
            state["role"] = delta["role"]
        for key in ("content", "refusal"):
            piece = delta.get(key)
            if isinstance(piece, str):
                state[key] = piece if state[key] is None else state[key] + piece
                if piece and self.ttft_ms is None:
                    self.ttft_ms = at_ms
        calls = delta.get("tool_calls")
        if not isinstance(calls, list):
            return
        tools: list[dict[str, Any]] = state["tools"]
        for call in calls:
            if not isinstance(call, dict):
                continue
            target = _tool_slot(tools, call)
            if call.get("id") and not target.get("id"):
                target["id"] = call["id"]
            if call.get("type"):
                target["type"] = call["type"]
            function = call.get("function") or {}
            if isinstance(function, dict):
                if function.get("name"):
                    target["function"]["name"] += function["name"]
                arguments = function.get("arguments")
                if isinstance(arguments, str) and arguments:
                    target["function"]["arguments"] += arguments
                    if self.ttft_ms is None:
                        self.ttft_ms = at_ms

    def _chat_texts(self) -> list[str]:
        texts = []
        for state in self.choices.values():
            texts += [state["content"] or "", state["refusal"] or ""]
            texts += [tool["function"]["arguments"] for tool in state["tools"]]
        return texts

    def _chat_completion(self) -> dict[str, Any] | None:
        if not self.choices and not self.head:
            return None
        choices = []
        for index in sorted(self.choices, key=lambda i: (not isinstance(i, int), i if isinstance(i, int) else 0)):
            state = self.choices[index]
            message: dict[str, Any] = {"role": state["role"] or "assistant", "content": state["content"],
                                       "refusal": state["refusal"]}
            if state["tools"]:
                message["tool_calls"] = [{k: v for k, v in t.items() if k != "index"} for t in state["tools"]]
            choices.append({"index": index, "message": message, "finish_reason": state["finish"], "logprobs": None})
        completion: dict[str, Any] = {"id": self.head.get("id"), "object": "chat.completion",
                                      "created": self.head.get("created"), "model": self.head.get("model"),
                                      "choices": choices, "usage": self.usage}
        for key in ("system_fingerprint", "service_tier"):
            if key in self.head:
                completion[key] = self.head[key]
        return completion


def _tool_slot(tools: list[dict[str, Any]], call: dict[str, Any]) -> dict[str, Any]:
    """The tool call a delta continues: by ``index``; without one, by ``id``; else the last (or a new) one."""
    index = call.get("index")
    call_id = call.get("id")
    for tool in tools:
        if index is not None and tool.get("index") == index:
            return tool
    if index is None:
        for tool in tools:
            if call_id and tool.get("id") == call_id:
                return tool
        if not call_id and tools:
            return tools[-1]
    tool = {"index": index if index is not None else len(tools), "id": call_id, "type": "function",
            "function": {"name": "", "arguments": ""}}
    tools.append(tool)
    return tool


def output_text(response: dict[str, Any]) -> str:
    """The response's text: every ``output_text`` part of its message items, joined."""
    texts = []
    output = response.get("output")
    for item in output if isinstance(output, list) else ():
        if isinstance(item, dict) and item.get("type") == "message" and isinstance(item.get("content"), list):
            for part in item["content"]:
                if isinstance(part, dict) and part.get("type") == "output_text" and isinstance(part.get("text"), str):
                    texts.append(part["text"])
    return "".join(texts)
