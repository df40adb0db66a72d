"""The field-mapping engine: chat.completions ⇄ responses, requests and results."""

from .errors import Loss, MappingError, Problem, StrictModeError
from .translate import Dialect, Kind, Translation, detect, translate

__all__ = ["Dialect", "Kind", "Loss", "MappingError", "Problem", "StrictModeError", "Translation", "detect", "translate"]
