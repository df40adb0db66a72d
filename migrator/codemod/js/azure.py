"""Azure OpenAI's floor on the output limit: a literal limit below it is a 400 on ``responses``.

Chat accepted any positive ``max_tokens``; Azure's Responses API rejects a ``max_output_tokens``
below 16. The rule and its words are the Python codemod's (``../sdk_site.py``).
"""

from __future__ import annotations

from typing import Any

from ...mapping.rules import TABLES
from ..sdk_site import azure_limit_note

_LIMITS = [key for key, rule in TABLES["chat.request"].items() if rule.to == TABLES["chat.request"]["max_tokens"].to]


def azure_notes(body: dict[str, Any]) -> list[str]:
    """The note for a literal token limit (``max_tokens``, ``max_completion_tokens``) below Azure's floor."""
    for key in _LIMITS:
        value = body.get(key)
        if type(value) is int:
            return azure_limit_note(value)
    return []
