"""migrator: move OpenAI Chat Completions traffic and code to the Responses API, and back.

``import migrator`` is cheap (plain dicts and the rule tables; no pydantic, no
HTTP stack), so gateways can call :func:`translate` on their hot path.
"""

from .mapping import Loss, MappingError, Problem, StrictModeError, Translation, detect, translate

__version__ = "0.1.0"

__all__ = ["Loss", "MappingError", "Problem", "StrictModeError", "Translation", "__version__", "detect", "translate"]
