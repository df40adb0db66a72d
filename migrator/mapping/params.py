"""The API's check of top-level parameters, in one place for the engine, the bridge and the offline model.

An endpoint answers a parameter it does not know with a 400 naming it; the bridge
does so for a body no native upstream will check, the offline model for every body
(with the same words, code and ``param`` as OpenAI), and ``translate`` reports the
unknown parameters of a body already in the target dialect. Standard library only.
"""

from __future__ import annotations

from collections.abc import Container, Iterable
from typing import Final

#: The error ``code`` of an unknown parameter, at the top level or nested.
UNKNOWN_PARAMETER: Final = "unknown_parameter"


def unknown_parameters(body: Iterable[str], known: Container[str]) -> list[str]:
    """The keys of ``body`` that ``known`` (a request table of ``mappings/``) lacks, in body order.

    The API names one at a time, the first; a translation reports them all.
    """
    return [key for key in body if key not in known]


def unrecognized(key: str) -> str:
    """The API's message for an unknown top-level parameter (``param`` is the key itself)."""
    return f"Unrecognized request argument supplied: {key}"
