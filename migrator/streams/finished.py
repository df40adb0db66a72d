"""The stream of a Response that is already whole.

The offline model answers whole and streams afterwards, and a bridge whose
upstream ignored ``stream: true`` holds a whole answer too: both send the events
the API would have sent for it. Text goes a word per delta and arguments a word
or punctuation run per delta, the granularity OpenAI's own streams show;
``obfuscation`` padding is left out (optional, and meaningless here).
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator
from typing import Any, Final

_DELTA_WORDS: Final = re.compile(r"\s*\S+|\s+")
_DELTA_JSON: Final = re.compile(r"\s*(?:\w+|[^\w\s]+)|\s+")



def finished_events(final: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """The events of ``final`` (a finished Response) as the API streams them, ending in ``final`` itself."""
    seq = 0

    def event(kind: str, **fields: Any) -> dict[str, Any]:
        nonlocal seq
        out = {"type": kind, **fields, "sequence_number": seq}
        seq += 1
        return out

    snapshot = {
        **copy.deepcopy(final), "status": "in_progress", "completed_at": None, "incomplete_details": None, "output": [], "usage": None,
    }
    yield event("response.created", response=snapshot)
    yield event("response.in_progress", response=copy.deepcopy(snapshot))
    for index, item in enumerate(final["output"]):
        item_id = item["id"]
        if item["type"] == "function_call":
            yield event("response.output_item.added", output_index=index, item={**item, "arguments": "", "status": "in_progress"})
            for chunk in _DELTA_JSON.findall(item["arguments"]):
                yield event("response.function_call_arguments.delta", item_id=item_id, output_index=index, delta=chunk)
            yield event("response.function_call_arguments.done", item_id=item_id, output_index=index, arguments=item["arguments"])
        else:
            yield event("response.output_item.added", output_index=index, item={**item, "status": "in_progress", "content": []})
            for c, part in enumerate(item["content"]):
                where = {"item_id": item_id, "output_index": index, "content_index": c}
                if part["type"] == "refusal":
                    yield event("response.content_part.added", **where, part={"type": "refusal", "refusal": ""})
                    for chunk in _DELTA_WORDS.findall(part["refusal"]):
                        yield event("response.refusal.delta", **where, delta=chunk)
                    yield event("response.refusal.done", **where, refusal=part["refusal"])
                else:
                    yield event("response.content_part.added", **where, part={**part, "text": "", "annotations": [], "logprobs": []})
                    for chunk in _DELTA_WORDS.findall(part["text"]):
                        yield event("response.output_text.delta", **where, delta=chunk, logprobs=[])
                    yield event("response.output_text.done", **where, text=part["text"], logprobs=[])
                yield event("response.content_part.done", **where, part=copy.deepcopy(part))
        yield event("response.output_item.done", output_index=index, item=copy.deepcopy(item))
    terminal = "response.incomplete" if final["status"] == "incomplete" else "response.completed"
    yield event(terminal, response=final)
