"""Pieces every benchmark script shares: skipped contenders, package versions, targets."""

from __future__ import annotations

import importlib.metadata
from dataclasses import dataclass


@dataclass
class Skipped:
    """A contender that could not be loaded, and why."""

    key: str
    reason: str


def package_version(dist: str) -> str | None:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return None


@dataclass
class Target:
    """One goal and whether this run met it."""

    name: str
    goal: str
    value: float | None
    status: str  # PASS, FAIL or SKIP
    hard: bool
    unit: str = "x"
