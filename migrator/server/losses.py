"""Losses as the client sees them: the ``x-migrator-losses`` header, and ``--strict``'s 400.

A translated answer says what it could not carry, so a client (or its logs) can tell
an exact answer from an approximate one without reading the server's access log.

The header's value is ``<count>`` alone when nothing was lost, else
``<count>; <path>, <path>, …``: the count of losses, then their JSON paths in the
order they were found, each once. It is plain ASCII, whatever the paths hold: a
character outside printable ASCII, and ``%``, ``,`` and ``;`` (the separators), are
percent-encoded as UTF-8 bytes (``$.metadata["a,b"]`` → ``$.metadata["a%2Cb"]``). It
stays under :data:`MAX_HEADER` characters: paths that do not fit are left out and the
list ends with ``, ...`` (the count still counts them all).
"""

from __future__ import annotations

from collections.abc import Sequence

from ..mapping import Loss

LOSSES_HEADER = "x-migrator-losses"
MAX_HEADER = 1024
_PLAIN = frozenset(chr(c) for c in range(0x20, 0x7F)) - {"%", ",", ";"}


def _quote(path: str) -> str:
    if all(ch in _PLAIN for ch in path):
        return path
    return "".join(ch if ch in _PLAIN else "".join(f"%{b:02X}" for b in ch.encode("utf-8", "surrogatepass")) for ch in path)


def unique_paths(losses: Sequence[Loss]) -> list[str]:
    """Each loss's path once, in the order found."""
    return list(dict.fromkeys(loss.path for loss in losses))


def header_value(losses: Sequence[Loss] | Sequence[str], count: int | None = None) -> str:
    """The header for ``losses`` (Loss objects, or their paths already listed)."""
    total = len(losses) if count is None else count
    if not total:
        return "0"
    paths = [p if isinstance(p, str) else p.path for p in losses]
    out = f"{total};"
    sep = " "
    for path in dict.fromkeys(paths):
        piece = sep + _quote(path)
        if len(out) + len(piece) > MAX_HEADER - 5:
            return out + ", ..."
        out += piece
        sep = ", "
    return out


def strict_message(losses: Sequence[Loss], api: str) -> str:
    """``--strict``'s refusal, naming every loss as the API names an unknown parameter."""
    listed = "; ".join(f"{loss.path} ({loss.kind}: {loss.reason})" for loss in losses)
    return (f"migrator serve runs with --strict, and this request cannot be carried exactly to the {api} API: "
            f"{len(losses)} loss{'es' if len(losses) != 1 else ''}: {listed}")
