"""Hypothesis profiles: CI runs every property and fuzz test derandomized (the same examples on
every run, so a submission's result does not depend on luck); a developer's run explores new
examples each time. ``HYPOTHESIS_PROFILE=ci`` gives CI's behaviour locally."""

from __future__ import annotations

import os

from hypothesis import settings

settings.register_profile("ci", derandomize=True, database=None, print_blob=True)
settings.register_profile("dev", print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev"))
