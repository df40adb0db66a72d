"""Which cases changed verdict since an earlier run (``--baseline DIR``).

Cases are matched by source and id, as a person names them; the content key then tells whether
the request (or the run's settings) changed too, which separates "the same request now behaves
differently" from "the corpus line was edited". Cases present in only one run are not changes:
a sharded or extended corpus would otherwise drown the list.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..errors import MigratorError
from .rundir import Checked
from .store import RESULTS, iter_results


class BaselineError(MigratorError, ValueError):
    """The baseline folder holds no earlier run: bad input, so the CLI reports it and exits 2."""


def compare(out_dir: Path, baseline_dir: Path) -> list[dict[str, Any]]:
    """Verdict changes as ``{id, source, line, before, after, same_request, reason}``, in the current run's order."""
    baseline_file = Path(baseline_dir) / RESULTS
    if not baseline_file.is_file():
        raise BaselineError(f"{baseline_file}: no such file (--baseline expects the --out folder of an earlier run)")
    before = {(r["source"], r["id"]): (r["verdict"], r["key"]) for r in Checked(iter_results(baseline_dir))}
    changes: list[dict[str, Any]] = []
    for result in Checked(iter_results(out_dir)):
        earlier = before.get((result["source"], result["id"]))
        if earlier is None or earlier[0] == result["verdict"]:
            continue
        changes.append({
            "id": result["id"],
            "source": result["source"],
            "line": result["line"],
            "before": earlier[0],
            "after": result["verdict"],
            "same_request": earlier[1] == result["key"],
            "reason": result["reason"],
        })
    return changes
