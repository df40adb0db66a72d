"""Input items in the shape the API stores and lists them: typed, with ids."""

from __future__ import annotations

from typing import Any

from ..mapping.ids import mint

_OUTPUT_ID_PREFIX = {"function_call_output": "fco_", "custom_tool_call_output": "ctco_", "function_call": "fc_",
                     "custom_tool_call": "ctc_", "reasoning": "rs_", "item_reference": "ref_"}


def normalize_input(value: Any, seed: str) -> list[dict[str, Any]]:
    """``input`` (a string or items) → items with ``type`` and ``id``, messages with part lists.

    Ids already present are kept; new ones derive from ``seed`` and the position, so
    listing the same stored response twice gives the same ids.
    """
    items = [{"role": "user", "content": value}] if isinstance(value, str) else list(value or [])
    out: list[dict[str, Any]] = []
    for i, given in enumerate(items):
        if not isinstance(given, dict):
            continue
        item: dict[str, Any] = dict(given)
        itype = item.setdefault("type", "message")
        if itype == "message":
            role = item.get("role", "user")
            content = item.get("content")
            if isinstance(content, str):
                part_type = "output_text" if role == "assistant" else "input_text"
                text_part: dict[str, Any] = {"type": part_type, "text": content}
                if role == "assistant":
                    text_part["annotations"] = []
                item["content"] = [text_part]
            item.setdefault("status", "completed")
        elif itype in ("function_call_output", "custom_tool_call_output", "function_call"):
            item.setdefault("status", "completed")
        if "id" not in item or not item["id"]:
            item["id"] = mint(_OUTPUT_ID_PREFIX.get(itype, "msg_"), f"{seed}:{i}")
        out.append(item)
    return out
