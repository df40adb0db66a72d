"""The codemod has no keyword table of its own: change a rule in ``mappings/`` and its rewrites change.

A fresh interpreter loads the engine on a mutated copy of the tables (``MIGRATOR_MAPPINGS``) and
runs the codemod over fixture cases; every mutated target and reason must show in its output.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.test_fixtures import MAPPINGS

ROOT = Path(__file__).resolve().parent.parent / "fixtures" / "codemod"

_RUN = r"""
import sys
from pathlib import Path
from migrator.codemod.outcome import Options
from migrator.codemod.transform import transform_code
for path in sys.argv[1:]:
    print(transform_code(Path(path).read_text(encoding="utf-8"), Options()).code)
"""


def _mutate(folder: Path, stem: str, table: str, field: str, key: str, new: str) -> None:
    path = folder / f"{stem}.json"
    raw = json.loads(path.read_text(encoding="utf-8"))
    raw["tables"][table]["fields"][field][key] = new
    path.write_text(json.dumps(raw), encoding="utf-8")


@pytest.mark.slow
def test_the_codemods_renames_and_reasons_come_from_the_tables(tmp_path: Path) -> None:
    folder = tmp_path / "mappings"
    shutil.copytree(MAPPINGS, folder)
    _mutate(folder, "request", "chat.request", "max_tokens", "to", "max_output_tokens_T1")
    _mutate(folder, "request", "chat.request", "seed", "reason", "seeds are mutated [R2]")
    _mutate(folder, "results", "chat.usage", "prompt_tokens", "to", "input_tokens_T3")
    _mutate(folder, "results", "chat.completion_message", "content", "to", "output_text_T4")
    cases = [ROOT / "call" / "basic" / "before.py", ROOT / "call" / "dropped_arguments" / "before.py",
             ROOT / "http" / "httpx_reads" / "before.py"]
    env = {**os.environ, "MIGRATOR_MAPPINGS": str(folder)}
    done = subprocess.run([sys.executable, "-c", _RUN, *map(str, cases)], env=env, capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "max_output_tokens_T1=200" in out  # SDK keyword
    assert '"max_output_tokens_T1": 100' in out  # HTTP body key
    assert "seeds are mutated [R2]" in out
    assert "response.usage.input_tokens_T3" in out and 'data["usage"]["input_tokens_T3"]' in out
    assert "response.output_text_T4" in out
    for original in ("max_output_tokens=200", "usage.input_tokens,", "sampling is not reproducible"):
        assert original not in out
