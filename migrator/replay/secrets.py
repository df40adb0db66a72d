"""Secret removal for everything a replay run writes or says: error messages, cassettes, logs.

The key is known (it was handed to the sender), so it is removed by value, and by its JSON-escaped
spelling too, because cassette lines are redacted as serialized text. Keys the run was not told
about still leak through headers and error bodies a server echoes ("Incorrect API key provided:
sk-…"), so anything after ``Bearer`` and any ``sk-``-shaped token go as well.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any

from ..secrets import MASK, SHAPES, mask_shape

_MIN_SECRET = 4  # a shorter "secret" would blank ordinary words everywhere



class Redactor:
    """Replaces secrets in text and in JSON-able values; cheap when there is nothing to replace."""

    def __init__(self, secrets: Iterable[str | None] = ()) -> None:
        spellings: set[str] = set()
        for secret in secrets:
            if secret and len(secret) >= _MIN_SECRET:
                spellings.add(secret)
                spellings.add(json.dumps(secret, ensure_ascii=True)[1:-1])
                spellings.add(json.dumps(secret, ensure_ascii=False)[1:-1])
        # Longest first, so a secret that contains another is replaced whole.
        known = [re.escape(s) for s in sorted(spellings, key=len, reverse=True)]
        self._known = re.compile("|".join(known)) if known else None
        self._plain = tuple(spellings)
        self._plain_bytes = tuple(s.encode() for s in spellings)

    def text(self, text: str) -> str:
        if self._known is not None:
            text = self._known.sub(MASK, text)
        return SHAPES.sub(mask_shape, text)

    def holds(self, text: str) -> bool:
        """Whether a known secret is in ``text``: a plain substring search, cheap enough for every answer."""
        return any(secret in text for secret in self._plain)

    def answer(self, raw: bytes) -> bytes:
        """An answer's bytes with the known secrets removed (a server may echo the key back in its text)."""
        if any(secret in raw for secret in self._plain_bytes):
            return self.text(raw.decode("utf-8", "replace")).encode()
        return raw

    def value(self, value: Any) -> Any:
        """A copy of a JSON-able value with every string (keys included) redacted."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {self.text(k) if isinstance(k, str) else k: self.value(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [self.value(v) for v in value]
        return value

    def headers(self, headers: Iterable[tuple[str, str]], drop: frozenset[str] = frozenset()) -> dict[str, str]:
        """Headers as a dict (lower-case names), ``drop``ped names left out, credentials masked whole."""
        kept: dict[str, str] = {}
        for name, value in headers:
            key = name.lower()
            if key in drop:
                continue
            if key in CREDENTIAL_HEADERS:
                value = f"Bearer {MASK}" if value.lower().startswith("bearer") else MASK
            else:
                value = self.text(value)
            kept[key] = f"{kept[key]}, {value}" if key in kept else value
        return kept


CREDENTIAL_HEADERS = frozenset({"authorization", "proxy-authorization", "api-key", "x-api-key", "cookie"})

