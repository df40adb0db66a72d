"""What a secret looks like, stated once for everything migrator writes: captures, cassettes, reports, errors.

A key the program was handed is removed by value (``replay/secrets.py``'s Redactor); these shapes
catch the ones nobody handed over — a key pasted into a message, a token a server echoes in an
error ("Incorrect API key provided: sk-…"), an ``Authorization`` value copied into a body.
"""

from __future__ import annotations

import re
from typing import Any

MASK = "[REDACTED]"

# A bearer token: RFC 6750's token68 characters, 8 or more (so "the bearer of bad news" stays as it is).
_BEARER = r"\b(?i:bearer)\s+[A-Za-z0-9._~+/=-]{8,}"
_KEYS = "|".join((
    r"(?<![A-Za-z0-9_-])sk-[A-Za-z0-9_-]{16,}",  # OpenAI (sk-, sk-proj-, sk-svcacct-, sk-admin-) and Anthropic (sk-ant-); not "sk-learn"
    r"\bAKIA[0-9A-Z]{16}\b",  # AWS access key id
    r"\bgh[pousr]_[A-Za-z0-9]{30,}",  # GitHub tokens
    r"\bxox[abprs]-[A-Za-z0-9-]{10,}",  # Slack tokens
    r"\bAIza[0-9A-Za-z_-]{35}",  # Google API keys
))
#: Group 1 is a bearer token, group 2 a key of a known shape.
SHAPES = re.compile(f"({_BEARER})|({_KEYS})")

#: JSON member names whose string value is a credential whatever it looks like (compared lower-case, ``-`` as ``_``).
SECRET_FIELDS = frozenset({
    "api_key", "apikey", "x_api_key", "authorization", "password", "passwd", "secret", "client_secret",
    "access_token", "refresh_token", "token",
})


def mask_shape(match: re.Match[str]) -> str:
    """The replacement for a SHAPES match: says what kind of secret stood there."""
    if match.group(1):
        return f"Bearer {MASK}"
    return f"sk-{MASK}" if match.group(2).startswith("sk-") else MASK


def redact_text(text: str) -> str:
    return SHAPES.sub(mask_shape, text) if SHAPES.search(text) else text


def secret_field(name: str) -> bool:
    return name.lower().replace("-", "_") in SECRET_FIELDS


def redact_value(value: Any) -> Any:
    """``value`` with every secret-shaped string and every credential member masked.

    Containers are copied only along a changed path, so a body with no secret (nearly all of them)
    costs one walk and no allocation.
    """
    if type(value) is str:
        return redact_text(value)
    if type(value) is dict:
        out: dict[str, Any] | None = None
        for key, item in value.items():
            new = MASK if type(item) is str and secret_field(key) else redact_value(item)
            if new is not item:
                if out is None:
                    out = dict(value)
                out[key] = new
        return value if out is None else out
    if type(value) is list:
        items: list[Any] | None = None
        for index, item in enumerate(value):
            new = redact_value(item)
            if new is not item:
                if items is None:
                    items = list(value)
                items[index] = new
        return value if items is None else items
    return value
