"""migrator: move OpenAI Chat Completions traffic and code to the Responses API, and back.

The public API is the names in ``__all__`` (listed in the README's "Python API"
section), plus the documented subpackages ``migrator.streams`` (the stream
machinery: decoders, encoders, per-frame helpers) and ``migrator.adapters``
(the httpx transports), each with its own ``__all__``. Every other module —
``migrator.mapping.*``, ``migrator.server.*``, ``migrator.cli`` — is internal:
its names may change in any release, so import from here instead (the one
exception: ``migrator.mapping.json_text.loads``, which the README offers to
programs that read JSON text themselves).

``import migrator`` is cheap (plain dicts and the rule tables; no pydantic, no
HTTP stack), so gateways can call :func:`translate` on their hot path. The
stream entry points are exported here too, but their modules load on first
use, so a program that only translates bodies never pays for them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .errors import Loss, MappingError, MigratorError, Problem, StreamError, StrictModeError
from .mapping import Dialect, Kind, Translation, detect, translate

if TYPE_CHECKING:
    from .streams import StreamTranslator, atranslate_sse, atranslate_stream, translate_sse, translate_stream

__version__ = "0.1.0"

__all__ = [
    "Dialect", "Kind", "Loss", "MappingError", "MigratorError", "Problem", "StreamError", "StreamTranslator",
    "StrictModeError", "Translation", "__version__", "atranslate_sse", "atranslate_stream", "detect", "translate",
    "translate_sse", "translate_stream",
]

_FROM_STREAMS = frozenset({"StreamTranslator", "atranslate_sse", "atranslate_stream", "translate_sse", "translate_stream"})


def __getattr__(name: str) -> Any:
    """The stream entry points, imported on first use (PEP 562) and then kept as plain attributes."""
    if name in _FROM_STREAMS:
        from . import streams

        value = getattr(streams, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | _FROM_STREAMS)
