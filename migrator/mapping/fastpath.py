"""What the two request fast paths share: finding an index late, and the defaults a fast path may take."""

from __future__ import annotations

from typing import Any

from .context import position
from .rules import APPROXIMATE, DROP, Rule

_MAP_AFTER = 2  # scans before an index map pays for itself (a map costs about two scans)


class Positions:
    """``position(seq, obj)`` for one list, asked many times.

    The hot loops skip ``enumerate`` (it costs every item something) and ask for
    an index only when they must write a path or mint an id. A few asks scan the
    list; more build a map once, so a body with many such items (reasoning items,
    refusals) stays linear instead of quadratic. Same answer as ``position``:
    the first occurrence of that very object.
    """

    __slots__ = ("asked", "index", "seq")

    def __init__(self, seq: list[Any]) -> None:
        self.seq = seq
        self.asked = 0
        self.index: dict[int, int] | None = None

    def __call__(self, obj: Any) -> int:
        index = self.index
        if index is None:
            self.asked += 1
            if self.asked <= _MAP_AFTER:
                return position(self.seq, obj)
            index = self.index = {}
            for i, item in enumerate(self.seq):
                index.setdefault(id(item), i)
        return index.get(id(obj), -1)


def defaults_only(obj: dict[str, Any], quiet: frozenset[str], rules: dict[str, Rule]) -> bool:
    """Whether the keys of ``obj`` beyond the ``quiet`` ones hold what their rule drops without a
    loss (an SDK's ``model_dump()`` echo: ``audio: None``, ``phase: None``): then a fast path may
    take it. The quiet keys are the fast path's own to check."""
    for key, value in obj.items():
        if key in quiet:
            continue
        rule = rules.get(key)
        if rule is None or (rule.do is not DROP and rule.do is not APPROXIMATE) or type(value) not in rule.types \
                or not rule.lossless_for(value):
            return False
    return True
