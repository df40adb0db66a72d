"""Chat chunks → Responses events, as they flow.

A state machine over plain dicts. Each chunk yields its events at once; items
get their ``output_index`` on first appearance and close in index order; the
terminal event waits for the trailing usage chunk (or the end of the input)
and carries the whole output. Ids come from the same derivations as the
non-streaming translation, so assembling a translated stream gives the same
Response as translating the assembled completion.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

from ..errors import StreamError
from ..mapping.chat_result import response_skeleton
from ..mapping.context import Context
from ..mapping.echo import request_echo
from ..mapping.errors import Loss, describe
from ..mapping.finish import item_status as finish_status
from ..mapping.finish import response_status
from ..mapping.ids import ctc_id, fc_id, output_id, response_id_of
from ..mapping.logprobs import event_logprob, part_logprob
from ..mapping.rules import TABLES
from ..mapping.usage import chat_usage_to_responses

_CHOICE = TABLES["chat.choice"]
_ERROR_CODES = frozenset({"server_error", "rate_limit_exceeded", "invalid_prompt"})




class _Pieces:
    """Text that arrives in pieces; every 256 pieces fold into one block, so memory stays near the text's size."""

    __slots__ = ("blocks", "pieces")

    def __init__(self) -> None:
        self.pieces: list[str] = []
        self.blocks: list[str] = []

    def add(self, piece: str) -> None:
        pieces = self.pieces
        pieces.append(piece)
        if len(pieces) >= 256:
            self.blocks.append("".join(pieces))
            pieces.clear()

    def value(self) -> str:
        return "".join(self.blocks) + "".join(self.pieces)


class _Text:
    """The open message item: its text and refusal parts as they accumulate."""

    __slots__ = ("content_index", "index", "item", "item_id", "logprobs", "refusal_index", "refusals", "text", "text_index")

    def __init__(self, item: dict[str, Any], index: int) -> None:
        self.item = item
        self.item_id: str = item["id"]
        self.index = index
        self.text = _Pieces()
        self.refusals = _Pieces()
        self.logprobs: list[Any] = []
        self.text_index = -1
        self.refusal_index = -1
        self.content_index = 0


class _Call:
    __slots__ = ("args", "call_id", "closed", "custom", "item", "item_id", "name", "output_index")

    def __init__(self) -> None:
        self.closed = False
        self.item_id = ""
        self.call_id: str | None = None
        self.name: str | None = None
        self.args = _Pieces()
        self.item: dict[str, Any] | None = None
        self.output_index = -1
        self.custom = False


class ChatToResponses:
    """Feed chat.completion.chunk dicts; collect response.* event dicts."""

    def __init__(self, request: dict[str, Any] | None = None) -> None:
        self._echo = request
        self._seq = 0
        self._response: dict[str, Any] | None = None
        self._output: list[dict[str, Any]] = []  # final items by output_index (filled at close)
        self._text: _Text | None = None
        self._reasoning: dict[str, Any] | None = None
        self._reasoning_text = _Pieces()
        self._calls: dict[int, _Call] = {}
        self._finish: str | None = None
        self._empty_text = False  # content "" arrived (an empty answer is a message with empty text)
        self._usage: dict[str, Any] | None = None
        self._frames = 0
        self._done = False
        self.failed = False
        self.broken = False
        self._ctx = Context()  # what could not be carried, reported as the non-stream translation reports it
        self.losses: list[Loss] = self._ctx.losses

    # ------------------------------------------------------------------ events

    def _event(self, out: list[dict[str, Any]], event: dict[str, Any]) -> None:
        event["sequence_number"] = self._seq
        self._seq += 1
        out.append(event)

    def _start(self, chunk: dict[str, Any], out: list[dict[str, Any]]) -> None:
        """The opening events, written from the first chunk: what it says of itself (service_tier) is in them."""
        chunk_id = chunk.get("id")
        response_id = response_id_of(chunk_id) if type(chunk_id) is str and chunk_id else "resp_" + uuid.uuid4().hex
        created = chunk.get("created")
        model = chunk.get("model")
        echo = request_echo(self._echo)
        tier = chunk.get("service_tier")
        self._response = response_skeleton(response_id, created if isinstance(created, (int, float)) else int(time.time()),
                                           model if type(model) is str else "unknown", echo,
                                           {"service_tier": tier} if tier is not None else None)
        self._event(out, {"type": "response.created", "response": dict(self._response)})
        self._event(out, {"type": "response.in_progress", "response": dict(self._response)})

    def _snapshot(self, status: str) -> dict[str, Any]:
        assert self._response is not None
        response = dict(self._response)
        response["status"] = status
        response["output"] = list(self._output)
        return response

    # ------------------------------------------------------------------ feeding

    def feed(self, chunk: Any) -> list[dict[str, Any]]:
        self._frames += 1
        out: list[dict[str, Any]] = []
        if type(chunk) is not dict:
            raise StreamError(self._frames, "expected a chat.completion.chunk object")
        if self._done:
            return out
        if "error" in chunk and "choices" not in chunk:
            if self._response is None:
                self._start(chunk, out)
            self._close_all(out, status="incomplete")
            self._fail(out, chunk.get("error"))
            return out
        choices = chunk.get("choices")
        if type(choices) is not list:
            raise StreamError(self._frames, "expected `choices` to be a list")
        if self._response is None:
            if not choices and chunk.get("usage") is None:
                return out  # a preamble (Azure's prompt_filter_results): the response starts with the first real chunk
            self._start(chunk, out)
        tier = chunk.get("service_tier")
        if tier is not None and self._response is not None:
            self._response["service_tier"] = tier
        for choice in choices:
            if type(choice) is not dict:
                raise StreamError(self._frames, "expected each choice to be an object")
            index = choice.get("index", 0)
            if index != 0 or type(index) is not int:
                if type(index) is not int:
                    raise StreamError(self._frames, f"expected a choice's `index` to be an integer, found {describe(index)}")
                self._other_choice(index)
                continue  # a Response holds one generation
            delta = choice.get("delta")
            text = self._text
            if text is not None and text.text_index >= 0 and type(delta) is dict and len(delta) == 1 \
                    and not choice.get("logprobs"):
                content = delta.get("content")
                if type(content) is str:
                    # The bulk of a stream: one more piece of open text. Same event as _delta writes.
                    if content:
                        text.text.add(content)
                        out.append({"type": "response.output_text.delta", "item_id": text.item_id, "output_index": text.index,
                                    "content_index": text.text_index, "delta": content, "logprobs": [],
                                    "sequence_number": self._seq})
                        self._seq += 1
                    delta = None
            elif type(delta) is dict and len(delta) == 1:
                calls = delta.get("tool_calls")
                if type(calls) is list and len(calls) == 1:
                    fragment = calls[0]
                    if type(fragment) is dict and len(fragment) == 2:
                        index = fragment.get("index")
                        call = self._calls.get(index) if type(index) is int else None
                        fn = fragment.get("function")
                        if call is not None and call.item is not None and not call.custom and type(fn) is dict and len(fn) == 1:
                            args = fn.get("arguments")
                            if type(args) is str:
                                # More arguments for an open call: the other bulk of a tool-calling stream.
                                if args:
                                    call.args.add(args)
                                    out.append({"type": "response.function_call_arguments.delta", "item_id": call.item_id,
                                                "output_index": call.output_index, "delta": args, "sequence_number": self._seq})
                                    self._seq += 1
                                delta = None
            if delta is not None:
                if type(delta) is not dict:
                    raise StreamError(self._frames, "expected `delta` to be an object")
                self._delta(delta, choice, out)
            finish = choice.get("finish_reason")
            if finish is not None:
                self._finish = finish
                self._close_all(out)
        usage = chunk.get("usage")
        if usage is not None:
            self._usage = chat_usage_to_responses(usage, "$.usage", Context())
            if self._finish is not None:
                self._terminal(out)
        return out

    def _other_choice(self, index: Any) -> None:
        """A choice past the first (``n`` > 1): reported once, as the non-stream translation reports it."""
        path = f"$.choices[{index}]"
        if all(loss.path != path for loss in self.losses):
            rule = _CHOICE["index"]
            self._ctx.loss(path, "choices", rule.kind, rule.reason)

    def finish(self) -> list[dict[str, Any]]:
        """The end of the input: the terminal event, or ``response.failed`` for a broken stream."""
        out: list[dict[str, Any]] = []
        if self._done:
            return out
        if self._response is None:
            self._start({}, out)
        if self._finish is None:
            self.broken = True
            self._close_all(out, status="incomplete")
            self._fail(out, {"code": "server_error", "message": "the upstream stream ended before a finish_reason"})
        else:
            self._terminal(out)
        return out

    def _add_part(self, text: _Text, part: dict[str, Any], out: list[dict[str, Any]]) -> int:
        """Open the next content part of the message item; returns its content_index."""
        index = text.content_index
        text.content_index += 1
        self._event(out, {"type": "response.content_part.added", "item_id": text.item_id, "output_index": text.index,
                          "content_index": index, "part": part})
        return index

    def _delta(self, delta: dict[str, Any], choice: dict[str, Any], out: list[dict[str, Any]]) -> None:
        reasoning = delta.get("reasoning_content") or delta.get("reasoning")
        if type(reasoning) is str and reasoning:
            self._reason(reasoning, out)
        content = delta.get("content")
        if content == "":
            self._empty_text = True
        if type(content) is str and content:
            text = self._open_text(out)
            if text.text_index < 0:
                text.text_index = self._add_part(text, {"type": "output_text", "text": "", "annotations": []}, out)
            logprobs = choice.get("logprobs")
            lp = logprobs.get("content") if type(logprobs) is dict else None
            lp = lp if type(lp) is list else []
            text.text.add(content)
            text.logprobs.extend(lp)
            lp = [event_logprob(entry) for entry in lp]
            self._event(out, {"type": "response.output_text.delta", "item_id": text.item["id"],
                              "output_index": text.index, "content_index": text.text_index,
                              "delta": content, "logprobs": lp})
        refusal = delta.get("refusal")
        if type(refusal) is str and refusal:
            text = self._open_text(out)
            if text.refusal_index < 0:
                if self._empty_text and text.text_index < 0:  # content "" came first: its (empty) part comes first
                    text.text_index = self._add_part(text, {"type": "output_text", "text": "", "annotations": []}, out)
                text.refusal_index = self._add_part(text, {"type": "refusal", "refusal": ""}, out)
            text.refusals.add(refusal)
            self._event(out, {"type": "response.refusal.delta", "item_id": text.item["id"],
                              "output_index": text.index, "content_index": text.refusal_index, "delta": refusal})
        calls = delta.get("tool_calls")
        if calls:
            if type(calls) is not list:
                raise StreamError(self._frames, "expected `delta.tool_calls` to be a list")
            for fragment in calls:
                self._tool_fragment(fragment, out)
        legacy = delta.get("function_call")
        if type(legacy) is dict:
            self._tool_fragment({"index": -1, "function": legacy}, out)

    # ------------------------------------------------------------------ items

    def _add_item(self, item: dict[str, Any], out: list[dict[str, Any]]) -> int:
        index = len(self._output)
        self._output.append(item)  # replaced by the final item when it closes
        self._event(out, {"type": "response.output_item.added", "output_index": index, "item": dict(item)})
        return index

    def _reason(self, text: str, out: list[dict[str, Any]]) -> None:
        if self._reasoning is not None and self._reasoning.get("closed"):
            # Reasoning after tool calls began: a new reasoning item, after what is already closed.
            self._close_all_items(out, "completed")
            self._reasoning = None
            self._reasoning_text = _Pieces()
        if self._reasoning is None:
            assert self._response is not None
            n = sum(1 for item in self._output if item.get("type") == "reasoning")
            item = {"type": "reasoning", "id": output_id("rs_", self._response["id"], "reasoning", n), "summary": []}
            index = self._add_item(item, out)
            self._reasoning = {"item": item, "index": index}
            self._event(out, {"type": "response.content_part.added", "item_id": item["id"], "output_index": index,
                              "content_index": 0, "part": {"type": "reasoning_text", "text": ""}})
        r = self._reasoning
        self._reasoning_text.add(text)
        self._event(out, {"type": "response.reasoning_text.delta", "item_id": r["item"]["id"], "output_index": r["index"],
                          "content_index": 0, "delta": text})

    def _close_reasoning(self, out: list[dict[str, Any]]) -> None:
        r = self._reasoning
        if r is None or r.get("closed"):
            return
        r["closed"] = True
        text = self._reasoning_text.value()
        item_id, index = r["item"]["id"], r["index"]
        part = {"type": "reasoning_text", "text": text}
        self._event(out, {"type": "response.reasoning_text.done", "item_id": item_id, "output_index": index,
                          "content_index": 0, "text": text})
        self._event(out, {"type": "response.content_part.done", "item_id": item_id, "output_index": index,
                          "content_index": 0, "part": part})
        final = {"type": "reasoning", "id": item_id, "summary": [], "content": [part]}
        self._output[index] = final
        self._event(out, {"type": "response.output_item.done", "output_index": index, "item": final})

    def _open_text(self, out: list[dict[str, Any]]) -> _Text:
        if self._text is None:
            # Reasoning ends where the answer begins (as the API streams it), and text after tool
            # calls closes them first, so .done events stay in output_index order.
            self._close_reasoning(out)
            self._close_calls(out, "completed")
            assert self._response is not None
            n = sum(1 for item in self._output if item.get("type") == "message")
            item = {"id": output_id("msg_", self._response["id"], "message", n), "type": "message", "status": "in_progress", "content": [], "role": "assistant"}
            self._text = _Text(item, self._add_item(item, out))
        return self._text

    def _close_text(self, out: list[dict[str, Any]], status: str) -> None:
        self._close_reasoning(out)
        text = self._text
        if text is None:
            return
        self._text = None
        item_id, index = text.item["id"], text.index
        parts: list[tuple[int, dict[str, Any]]] = []
        if text.text_index >= 0:
            joined = text.text.value()
            part: dict[str, Any] = {"type": "output_text", "text": joined, "annotations": []}
            if text.logprobs:
                part["logprobs"] = [part_logprob(entry) for entry in text.logprobs]
            self._event(out, {"type": "response.output_text.done", "item_id": item_id, "output_index": index,
                              "content_index": text.text_index, "text": joined,
                              "logprobs": [event_logprob(entry) for entry in text.logprobs]})
            parts.append((text.text_index, part))
        if text.refusal_index >= 0:
            joined = text.refusals.value()
            part = {"type": "refusal", "refusal": joined}
            self._event(out, {"type": "response.refusal.done", "item_id": item_id, "output_index": index,
                              "content_index": text.refusal_index, "refusal": joined})
            parts.append((text.refusal_index, part))
        parts.sort(key=lambda p: p[0])
        for content_index, part in parts:
            self._event(out, {"type": "response.content_part.done", "item_id": item_id, "output_index": index,
                              "content_index": content_index, "part": part})
        final = {"id": item_id, "type": "message", "status": status, "content": [p for _, p in parts], "role": "assistant"}
        self._output[index] = final
        self._event(out, {"type": "response.output_item.done", "output_index": index, "item": final})

    def _tool_fragment(self, fragment: Any, out: list[dict[str, Any]]) -> None:
        if type(fragment) is not dict:
            raise StreamError(self._frames, "expected each tool call delta to be an object")
        index = fragment.get("index", 0)
        if type(index) is not int:  # a list or an object here was a TypeError (unhashable)
            raise StreamError(self._frames, f"expected the tool call's index to be an integer, found {describe(index)}")
        call = self._calls.get(index)
        if call is None:
            call = self._calls[index] = _Call()
        if type(fragment.get("id")) is str and call.call_id is None:
            call.call_id = fragment["id"]
        if fragment.get("type") == "custom" or "custom" in fragment:
            call.custom = True
        fn = fragment.get("custom") if call.custom else fragment.get("function")
        args = None
        if type(fn) is dict:
            if type(fn.get("name")) is str and fn["name"] and call.name is None:
                call.name = fn["name"]
            args = fn.get("input") if call.custom else fn.get("arguments")
        if call.item is None:
            if call.name is None:
                if type(args) is str:
                    call.args.add(args)  # held until the call has a name
                return
            self._close_reasoning(out)
            self._close_text(out, "completed")
            assert self._response is not None
            if call.call_id is None:  # the legacy function_call has no id; the same seed as the non-stream translation
                call.call_id = output_id("call_", self._response["id"], "function_call" if index == -1 else str(index))
            if call.custom:
                item = {"type": "custom_tool_call", "id": ctc_id(call.call_id), "call_id": call.call_id,
                        "name": call.name, "input": ""}
            else:
                item = {"type": "function_call", "id": fc_id(call.call_id), "call_id": call.call_id,
                        "name": call.name, "arguments": "", "status": "in_progress"}
            call.item = item
            call.item_id = item["id"]
            call.output_index = self._add_item(item, out)
            pending = call.args.value()
            call.args = _Pieces()
            if pending:
                self._args_delta(call, pending, out)
        if type(args) is str and args:
            self._args_delta(call, args, out)

    def _args_delta(self, call: _Call, piece: str, out: list[dict[str, Any]]) -> None:
        assert call.item is not None
        call.args.add(piece)
        kind = "response.custom_tool_call_input.delta" if call.custom else "response.function_call_arguments.delta"
        self._event(out, {"type": kind, "item_id": call.item["id"], "output_index": call.output_index, "delta": piece})

    def _close_all(self, out: list[dict[str, Any]], status: str | None = None) -> None:
        """Close every open item in output_index order (at finish_reason or a failure)."""
        item_status = status or finish_status(self._finish)
        if status is None and self._empty_text and not self._calls \
                and not any(item.get("type") == "message" for item in self._output):
            # The answer was "" and nothing else: a message whose text is empty, as translate() writes it.
            text = self._open_text(out)
            text.text_index = self._add_part(text, {"type": "output_text", "text": "", "annotations": []}, out)
        self._close_all_items(out, item_status)

    def _close_all_items(self, out: list[dict[str, Any]], item_status: str) -> None:
        self._close_reasoning(out)
        text = self._text
        calls_first = text is not None and any(c.item is not None and not c.closed and c.output_index < text.index
                                               for c in self._calls.values())
        if calls_first:
            self._close_calls(out, item_status)
        self._close_text(out, item_status)
        self._close_calls(out, item_status)

    def _close_calls(self, out: list[dict[str, Any]], item_status: str) -> None:
        for call in sorted(self._calls.values(), key=lambda c: c.output_index):
            if call.item is None or call.closed:
                continue
            call.closed = True
            joined = call.args.value()
            item_id = call.item_id
            if call.custom:
                self._event(out, {"type": "response.custom_tool_call_input.done", "item_id": item_id,
                                  "output_index": call.output_index, "input": joined})
                final = {"type": "custom_tool_call", "id": item_id, "call_id": call.call_id, "name": call.name, "input": joined}
            else:
                self._event(out, {"type": "response.function_call_arguments.done", "item_id": item_id,
                                  "output_index": call.output_index, "arguments": joined})
                final = {"type": "function_call", "id": item_id, "call_id": call.call_id, "name": call.name,
                         "arguments": joined, "status": item_status}
            self._output[call.output_index] = final
            self._event(out, {"type": "response.output_item.done", "output_index": call.output_index, "item": final})

    # ------------------------------------------------------------------ the end

    def _terminal(self, out: list[dict[str, Any]]) -> None:
        self._done = True
        finish = self._finish
        # An unknown finish_reason: the stream ended cleanly, so the Response is completed, but that
        # reading is a guess; the loss says so (as translate() does), and strict callers refuse on it.
        ctx = self._ctx
        called = any(call.item is not None for index, call in self._calls.items() if index != -1)  # tool_calls, not legacy
        status, details = response_status(finish, called, ctx)
        response = self._snapshot(status)
        if details is not None:
            response["incomplete_details"] = details
        if self._usage is not None:
            response["usage"] = self._usage
        kind = "response.incomplete" if status == "incomplete" else "response.completed"
        self._event(out, {"type": kind, "response": response})

    def _fail(self, out: list[dict[str, Any]], error: Any) -> None:
        self._done = True
        self.failed = True
        err = error if type(error) is dict else {}
        code = err.get("code")
        response = self._snapshot("failed")
        response["error"] = {"code": code if code in _ERROR_CODES else "server_error",
                             "message": str(err.get("message") or "the upstream stream failed")}
        if self._usage is not None:
            response["usage"] = self._usage
        self._event(out, {"type": "response.failed", "response": response})
