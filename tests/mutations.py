"""One value replaced inside a copy of a body: the move every fuzz and mutation test makes."""

from __future__ import annotations

import copy
from typing import Any


def replaced(body: Any, keys: tuple[Any, ...], new: Any) -> Any:
    """A deep copy of ``body`` with the value at ``keys`` (object keys and list indexes) set to ``new``."""
    if not keys:
        return new
    out = copy.deepcopy(body)
    node = out
    for key in keys[:-1]:
        node = node[key]
    node[keys[-1]] = new
    return out
