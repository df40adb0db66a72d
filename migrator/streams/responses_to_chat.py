"""Responses events → chat chunks, as they flow.

One chunk id for the whole stream, ``role: assistant`` on the first chunk,
tool-call indexes 0..k in the order calls appear, arguments back-filled from
``function_call_arguments.done`` when no delta came, ``finish_reason`` from the
terminal event, a usage chunk when the client asked for one. A failed
response or an ``error`` event becomes an error frame, never a clean finish.
"""

from __future__ import annotations

import time
from typing import Any

from ..errors import StreamError
from ..mapping.api_error import failure_body
from ..mapping.context import Context
from ..mapping.errors import Loss, describe
from ..mapping.finish import finish_reason
from ..mapping.ids import completion_id_of, mint
from ..mapping.logprobs import chat_event_logprob
from ..mapping.rules import VALUES
from ..mapping.shapes import CHUNK, complete_chat_usage
from ..mapping.usage import responses_usage_to_chat

_SERVICE_TIER = VALUES["service_tier"]
_TERMINAL = ("response.completed", "response.incomplete", "response.failed")
_CHUNK_DEFAULTS = CHUNK.defaults



class ResponsesToChat:
    """Feed response.* event dicts; collect chat.completion.chunk dicts (or an error frame)."""

    def __init__(self, *, include_usage: bool = False) -> None:
        self.include_usage = include_usage
        self._id: str | None = None
        self._created = 0
        self._model = "unknown"
        self._tier: Any = _CHUNK_DEFAULTS["service_tier"]  # until a snapshot says which tier served it
        self._role_sent = False
        self._calls: dict[str, list[Any]] = {}  # item_id → [index, saw_arguments, custom]
        self._parts_sent: set[tuple[str, int]] = set()  # (item_id, content_index) whose text went out
        self._frames = 0
        self.done = False
        self.failed = False
        self.broken = False
        self.losses: list[Loss] = []

    def _chunk(self, delta: dict[str, Any], finish: str | None = None, logprobs: Any = None,
               out: list[dict[str, Any]] | None = None) -> dict[str, Any]:
        if not self._role_sent:
            # The first chunk says who speaks. Before text it is its own chunk with content "" (as the API
            # sends it); before tool calls or a refusal it rides along with content null, so an answer
            # without text accumulates to content null, not "".
            self._role_sent = True
            if "content" in delta and delta["content"] is not None and out is not None:
                out.append(self._chunk({"role": "assistant", "content": "", "refusal": None}))
            else:
                delta = {"role": "assistant", **delta}
        return {"id": self._id, "object": "chat.completion.chunk", "created": self._created, "model": self._model,
                "service_tier": self._tier, "system_fingerprint": None,
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": logprobs}]}

    def _begin(self, response: Any) -> None:
        r = response if type(response) is dict else {}
        rid = r.get("id")
        self._id = completion_id_of(rid) if type(rid) is str else mint("chatcmpl-", f"stream:{time.time_ns()}")
        created = r.get("created_at")
        self._created = int(created) if isinstance(created, (int, float)) else int(time.time())
        model = r.get("model")
        if type(model) is str:
            self._model = model

    def _note(self, response: Any) -> None:
        tier = response.get("service_tier") if type(response) is dict else None
        if type(tier) is str:
            rule = _SERVICE_TIER.get(tier)
            self._tier = (rule.to or tier) if rule is not None else tier

    def _part_key(self, event: dict[str, Any]) -> tuple[str, int]:
        index = event.get("content_index", 0)
        if type(index) is not int:  # a list or an object here was a TypeError (unhashable)
            raise StreamError(self._frames, f"$.content_index: expected an integer, found {describe(index)}")
        return str(event.get("item_id")), index

    def feed(self, event: Any) -> list[dict[str, Any]]:
        self._frames += 1
        if type(event) is not dict:
            raise StreamError(self._frames, "expected a response stream event object")
        etype = event.get("type")
        if type(etype) is not str:
            raise StreamError(self._frames, "expected a `type` on the event")
        out: list[dict[str, Any]] = []
        if self.done:
            return out
        if self._id is None:
            self._begin(event.get("response"))
        if etype == "response.output_text.delta":
            self._parts_sent.add(self._part_key(event))
            lp = event.get("logprobs")
            if lp and type(lp) is not list:
                raise StreamError(self._frames, f"$.logprobs: expected a list of token logprobs, found {describe(lp)}")
            out.append(self._chunk({"content": event.get("delta", "")},
                                   logprobs={"content": [chat_event_logprob(e) for e in lp], "refusal": None} if lp else None, out=out))
        elif etype == "response.refusal.delta":
            self._parts_sent.add(self._part_key(event))
            out.append(self._chunk({"content": None, "refusal": event.get("delta", "")} if not self._role_sent
                                   else {"refusal": event.get("delta", "")}))
        elif etype in ("response.output_text.done", "response.refusal.done"):
            key = self._part_key(event)
            if key not in self._parts_sent:  # a model that sends the whole text only in .done
                self._parts_sent.add(key)
                if etype == "response.output_text.done" and event.get("text"):
                    out.append(self._chunk({"content": event["text"]}, out=out))
                elif etype == "response.refusal.done" and event.get("refusal"):
                    out.append(self._chunk({"refusal": event["refusal"]}))
        elif etype == "response.content_part.added":
            part = event.get("part")
            if not self._role_sent and type(part) is dict and part.get("type") == "output_text":
                self._role_sent = True  # the role chunk, as before text: so an empty text reads back as "", not null
                out.append(self._chunk({"role": "assistant", "content": "", "refusal": None}))
        elif etype == "response.output_item.added":
            item = event.get("item")
            if type(item) is dict and item.get("type") in ("function_call", "custom_tool_call"):
                self._start_call(item, event, out)
        elif etype in ("response.function_call_arguments.delta", "response.custom_tool_call_input.delta"):
            state = self._call_state(event)
            if state is not None:
                state[1] = True
                out.append(self._args_chunk(state, event.get("delta", "")))
        elif etype in ("response.function_call_arguments.done", "response.custom_tool_call_input.done"):
            state = self._call_state(event)
            if state is not None and not state[1]:
                state[1] = True
                whole = event.get("input") if state[2] else event.get("arguments")
                if type(whole) is str and whole:
                    out.append(self._args_chunk(state, whole))
        elif etype == "response.output_item.done":
            self._backfill(event, out)
        elif etype in _TERMINAL:
            self._note(event.get("response"))
            self._terminal(event, etype, out)
        elif etype == "error":
            self._error({"message": event.get("message"), "code": event.get("code")}, out)
        elif etype in ("response.created", "response.in_progress"):
            self._note(event.get("response"))
        return out

    def _start_call(self, item: dict[str, Any], event: dict[str, Any], out: list[dict[str, Any]]) -> list[Any]:
        custom = item["type"] == "custom_tool_call"
        index = len(self._calls)
        state = self._calls[str(item.get("id") or event.get("output_index"))] = [index, False, custom]
        call: dict[str, Any] = {"index": index, "id": item.get("call_id"), "type": "custom" if custom else "function"}
        call["custom" if custom else "function"] = {"name": item.get("name", ""), **({"input": ""} if custom else {"arguments": ""})}
        out.append(self._chunk({"content": None, "tool_calls": [call]} if not self._role_sent else {"tool_calls": [call]}))
        return state

    def _backfill(self, event: dict[str, Any], out: list[dict[str, Any]]) -> None:
        """An item that closes with content no event carried: send what it holds."""
        item = event.get("item")
        if type(item) is not dict:
            return
        itype = item.get("type")
        if itype in ("function_call", "custom_tool_call"):
            state = self._call_state({"item_id": item.get("id"), "output_index": event.get("output_index")})
            if state is None:
                state = self._start_call(item, event, out)
            if not state[1]:
                state[1] = True
                whole = item.get("input") if state[2] else item.get("arguments")
                if type(whole) is str and whole:
                    out.append(self._args_chunk(state, whole))
        elif itype == "message" and type(item.get("content")) is list:
            for k, part in enumerate(item["content"]):
                key = (str(item.get("id")), k)
                if key in self._parts_sent or type(part) is not dict:
                    continue
                self._parts_sent.add(key)
                if part.get("type") == "output_text" and part.get("text"):
                    out.append(self._chunk({"content": part["text"]}, out=out))
                elif part.get("type") == "refusal" and part.get("refusal"):
                    out.append(self._chunk({"refusal": part["refusal"]}))

    def _call_state(self, event: dict[str, Any]) -> list[Any] | None:
        return self._calls.get(str(event.get("item_id") or event.get("output_index")))

    def _args_chunk(self, state: list[Any], piece: str) -> dict[str, Any]:
        key, field = ("custom", "input") if state[2] else ("function", "arguments")
        return self._chunk({"tool_calls": [{"index": state[0], key: {field: piece}}]})

    def finish(self) -> list[dict[str, Any]]:
        """End of input without a terminal event: a break, reported as an error frame."""
        out: list[dict[str, Any]] = []
        if not self.done:
            self.broken = True
            self._error({"message": "the upstream stream ended before the response finished", "code": "server_error"}, out)
        return out

    def _terminal(self, event: dict[str, Any], etype: str, out: list[dict[str, Any]]) -> None:
        response = event.get("response")
        r = response if type(response) is dict else {}
        if etype == "response.failed":
            self._error(r.get("error"), out)
            return
        self.done = True
        # A throwaway context: this stream keeps no loss report for what the ending approximates.
        status = "incomplete" if etype == "response.incomplete" else "completed"
        finish = finish_reason(status, r.get("incomplete_details"), bool(self._calls), Context())
        out.append(self._chunk({}, finish))
        if self.include_usage:
            usage = responses_usage_to_chat(r.get("usage"), "$.usage", Context())
            out.append({"id": self._id, "object": "chat.completion.chunk", "created": self._created, "model": self._model,
                        "service_tier": self._tier, "system_fingerprint": None, "choices": [],
                        "usage": complete_chat_usage(usage) if usage is not None else None})

    def _error(self, error: Any, out: list[dict[str, Any]]) -> None:
        self.done = True
        self.failed = True
        out.append(failure_body(error))
