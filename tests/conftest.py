"""Hypothesis profiles: CI runs every property and fuzz test derandomized (the same examples on
every run, so a submission's result does not depend on luck); a developer's run explores new
examples each time. ``HYPOTHESIS_PROFILE=ci`` gives CI's behaviour locally.

The inner loop is ``python -m pytest -m "not slow"`` (about a third of the suite's time): the
``slow`` marker (registered in pyproject.toml, strict) goes on tests that start a process (a
``migrator serve`` server, an interpreter), measure memory, or fuzz with arbitrary input. CI
and the README's ``python -m pytest`` run everything, so a new test of that kind gets the mark."""

from __future__ import annotations

import os

from hypothesis import settings

settings.register_profile("ci", derandomize=True, database=None, print_blob=True)
settings.register_profile("dev", print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev"))
