"""The conversation as content only, and the model's tokens: what answers and usage depend on."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from typing import Any, Final

#: The tokenizer: a run of word characters, or one other non-space character.
#: Crude, but documented and cheap, and it makes truncation points predictable.
TOKEN_RE: Final = re.compile(r"\w+|[^\w\s]")


def _canonical(value: object) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _parts_text(content: object) -> str:
    """One string per message, so string content and text parts hash the same."""
    if isinstance(content, str):
        return content
    if not isinstance(content, list):
        return ""
    texts: list[str] = []
    for part in content:
        if not isinstance(part, dict):
            continue
        kind = part.get("type")
        if kind in ("input_text", "output_text", "text") and isinstance(part.get("text"), str):
            texts.append(part["text"])
        elif kind == "refusal" and isinstance(part.get("refusal"), str):
            texts.append(part["refusal"])
        elif kind == "input_image":
            texts.append(_placeholder("image", part.get("image_url") or part.get("file_id")))
        elif kind == "input_file":
            texts.append(_placeholder("file", part.get("filename") or part.get("file_id") or part.get("file_url")))
        elif kind == "input_audio":
            texts.append("[audio]")
    return "\n".join(texts)


def _placeholder(what: str, ref: object) -> str:
    """Media stand in as a marker naming their source, so two images differ."""
    return f"[{what} {ref}]" if isinstance(ref, str) and ref else f"[{what}]"


def _canonical_arguments(arguments: str) -> str:
    """Whitespace and key order in JSON arguments do not change their meaning."""
    try:
        return _canonical(json.loads(arguments))
    except ValueError:
        return arguments


def normalize_conversation(request: Mapping[str, Any]) -> list[dict[str, str]]:
    """The conversation as content only: what the answer and the hash depend on.

    Ids, statuses, ``store``, ``stream`` and every other non-content field are
    left out, ``instructions`` become a leading system message and
    ``developer`` reads as ``system``, so a chat request (system message,
    string content) and its hand-written Responses twin (``instructions``,
    ``input_text`` parts) normalize to the same list.  Empty messages are
    dropped because translators may or may not emit them.
    """
    conv: list[dict[str, str]] = []
    instructions = request.get("instructions")
    if isinstance(instructions, str) and instructions:
        conv.append({"kind": "message", "role": "system", "text": instructions})
    items = request.get("input")
    if isinstance(items, str):
        items = [{"role": "user", "content": items}]
    if not isinstance(items, list):
        return conv
    for item in items:
        if not isinstance(item, dict):
            continue
        kind = item.get("type", "message" if "role" in item else None)
        if kind == "message":
            text = _parts_text(item.get("content"))
            if text:
                role = item.get("role")
                role = "system" if role == "developer" else str(role)
                conv.append({"kind": "message", "role": role, "text": text})
        elif kind == "function_call":
            conv.append({
                "kind": "function_call",
                "name": str(item.get("name", "")),
                "arguments": _canonical_arguments(str(item.get("arguments", ""))),
            })
        elif kind == "function_call_output":
            output = item.get("output")
            conv.append({"kind": "function_call_output", "output": output if isinstance(output, str) else _parts_text(output)})
        elif kind == "custom_tool_call":
            conv.append({"kind": "custom_tool_call", "name": str(item.get("name", "")), "arguments": str(item.get("input", ""))})
        elif kind == "custom_tool_call_output":
            output = item.get("output")
            conv.append({"kind": "custom_tool_call_output", "output": output if isinstance(output, str) else _parts_text(output)})
        elif isinstance(kind, str) and kind not in ("reasoning", "item_reference"):
            rest = {k: v for k, v in item.items() if k not in ("id", "status", "call_id", "type")}
            conv.append({"kind": kind, "text": _canonical(rest)})
    return conv


def _render(conv: list[dict[str, str]]) -> str:
    """The text whose tokens are ``usage.input_tokens``: one line per entry."""
    lines: list[str] = []
    for entry in conv:
        if entry["kind"] == "message":
            lines.append(f"{entry['role']}: {entry['text']}")
        elif "name" in entry:
            lines.append(f"{entry['kind']} {entry['name']} {entry['arguments']}")
        elif "output" in entry:
            lines.append(f"{entry['kind']}: {entry['output']}")
        else:
            lines.append(f"{entry['kind']}: {entry['text']}")
    return "\n".join(lines)


def count_tokens(text: str) -> int:
    """Tokens as this model counts them (:data:`TOKEN_RE`), for usage and limits."""
    return sum(1 for _ in TOKEN_RE.finditer(text))


def _cut(text: str, tokens: int) -> str:
    """The prefix of ``text`` holding its first ``tokens`` tokens, no trailing space."""
    if tokens <= 0:
        return ""
    end = 0
    for n, match in enumerate(TOKEN_RE.finditer(text), 1):
        end = match.end()
        if n == tokens:
            break
    return text[:end]
