"""The floor: the least work a request translator can do, as plain dicts.

No validation, no loss tracking, no copying of values that can be shared: map
each item/message to its counterpart, merge function calls into the preceding
assistant message (Responses -> Chat) or split them out (Chat -> Responses),
and flatten/nest the function tools. Only the shapes used by the benchmark
conversations are handled (text, image and file parts included); anything
else passes through or is dropped.
"""

from __future__ import annotations

from typing import Any

_PARAMS = ("tool_choice", "parallel_tool_calls", "temperature", "top_p", "user")  # the same name both ways


def _text(content: Any) -> Any:
    """A Responses content list becomes its joined text; a string stays a string."""
    if isinstance(content, str):
        return content
    return "".join(p.get("text", "") for p in content)


def _chat_parts(content: Any) -> Any:
    """Responses input parts as Chat parts (text, image, file); a string stays a string."""
    if isinstance(content, str):
        return content
    parts: list[dict[str, Any]] = []
    for p in content:
        kind = p["type"]
        if kind == "input_image":
            parts.append({"type": "image_url", "image_url": {"url": p["image_url"], "detail": p.get("detail", "auto")}})
        elif kind == "input_file":
            parts.append({"type": "file", "file": {"file_id": p["file_id"]}})
        else:
            parts.append({"type": "text", "text": p["text"]})
    return parts


def _responses_parts(content: Any) -> Any:
    """Chat user parts as Responses input parts; a string stays a string."""
    if isinstance(content, str):
        return content
    parts: list[dict[str, Any]] = []
    for p in content:
        kind = p["type"]
        if kind == "image_url":
            img = p["image_url"]
            parts.append({"type": "input_image", "image_url": img["url"], "detail": img.get("detail", "auto")})
        elif kind == "file":
            parts.append({"type": "input_file", "file_id": p["file"]["file_id"]})
        else:
            parts.append({"type": "input_text", "text": p["text"]})
    return parts


def responses_to_chat(body: dict[str, Any]) -> dict[str, Any]:
    """Translate a Responses request body into a Chat Completions request body."""
    messages: list[dict[str, Any]] = []
    instructions = body.get("instructions")
    if instructions:
        messages.append({"role": "system", "content": instructions})
    inp = body["input"]
    if isinstance(inp, str):
        inp = [{"role": "user", "content": inp}]
    assistant: dict[str, Any] | None = None
    for item in inp:
        kind = item.get("type", "message")
        if kind == "function_call":
            call = {
                "id": item["call_id"],
                "type": "function",
                "function": {"name": item["name"], "arguments": item["arguments"]},
            }
            if assistant is None:
                assistant = {"role": "assistant", "content": None, "tool_calls": [call]}
                messages.append(assistant)
            elif "tool_calls" in assistant:
                assistant["tool_calls"].append(call)
            else:
                assistant["tool_calls"] = [call]
        elif kind == "function_call_output":
            assistant = None
            messages.append(
                {
                    "role": "tool",
                    "tool_call_id": item["call_id"],
                    "content": _text(item["output"]),
                }
            )
        elif item["role"] == "assistant":
            assistant = {"role": "assistant", "content": _text(item["content"])}
            messages.append(assistant)
        else:
            assistant = None
            messages.append({"role": item["role"], "content": _chat_parts(item["content"])})
    out: dict[str, Any] = {"model": body["model"], "messages": messages}
    tools = body.get("tools")
    if tools:
        out["tools"] = [
            {
                "type": "function",
                "function": {k: v for k, v in t.items() if k != "type"},
            }
            for t in tools
        ]
    for key in _PARAMS:
        if key in body:
            out[key] = body[key]
    if "max_output_tokens" in body:
        out["max_completion_tokens"] = body["max_output_tokens"]
    return out


def chat_to_responses(body: dict[str, Any]) -> dict[str, Any]:
    """Translate a Chat Completions request body into a Responses request body."""
    items: list[dict[str, Any]] = []
    for m in body["messages"]:
        role = m["role"]
        if role == "tool":
            items.append(
                {
                    "type": "function_call_output",
                    "call_id": m["tool_call_id"],
                    "output": m["content"],
                }
            )
        elif role == "assistant":
            content = m.get("content")
            if content:
                items.append(
                    {
                        "type": "message",
                        "role": "assistant",
                        "content": [{"type": "output_text", "text": _text(content)}],
                    }
                )
            for c in m.get("tool_calls") or ():
                f = c["function"]
                items.append(
                    {
                        "type": "function_call",
                        "call_id": c["id"],
                        "name": f["name"],
                        "arguments": f["arguments"],
                    }
                )
        else:
            items.append({"role": role, "content": _responses_parts(m["content"])})
    out: dict[str, Any] = {"model": body["model"], "input": items}
    tools = body.get("tools")
    if tools:
        out["tools"] = [{"type": "function", **t["function"]} for t in tools]
    for key in _PARAMS:
        if key in body:
            out[key] = body[key]
    mx = body.get("max_completion_tokens", body.get("max_tokens"))
    if mx is not None:
        out["max_output_tokens"] = mx
    return out
