"""The engine's errors and reports, now at home in :mod:`migrator.errors` (kept importable here)."""

from ..errors import Loss, LossKind, MappingError, MigratorError, Problem, StreamError, StrictModeError, describe

__all__ = ["Loss", "LossKind", "MappingError", "MigratorError", "Problem", "StreamError", "StrictModeError", "describe"]
