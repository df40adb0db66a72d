"""`migrator replay merge DIR… --out DIR`: the shards of one run joined into one run's folder.

Each shard's results.jsonl is copied line for line (no re-encoding), keeping the last line of each
key over the shards in the order given, so a shard run twice counts once. Shards run with different
settings (another model, another base URL, another repeat count) do not make one run: merging them
is refused, as is a set of shards cut in different ways (2/4 with 1/3). A shard whose meta.json is
missing or unreadable is merged on its results alone (an older run, a hand-made folder).

The merged folder gets its own meta.json (the shared settings and the folders merged), so a later
``--baseline`` or ``merge`` can read it; the lead's ``write_outputs`` then renders the reports.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from .store import META, PROBLEMS, RESULTS, last_lines, read_meta, write_json_atomic
from .table import DigestTable


def merge(dirs: Sequence[Path], out: Path) -> None:
    """Join the shards ``dirs`` into ``out``; a ValueError says why they cannot be joined."""
    if not dirs:
        raise ValueError("merge needs at least one replay output folder")
    folders = [Path(d) for d in dirs]
    out = Path(out)
    for folder in folders:
        if not (folder / RESULTS).is_file():
            raise ValueError(f"{folder} holds no {RESULTS}: not a replay output folder")
        if folder.resolve() == out.resolve():
            raise ValueError(f"--out {out} is one of the folders to merge; name a new folder")
    _refuse_run_in(out)
    settings = _same_settings(folders)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ValueError(f"--out {out} cannot be a folder: {exc.strerror or exc}") from None
    _replace(out / RESULTS, last_lines([f / RESULTS for f in folders]))
    _replace(out / PROBLEMS, _problem_lines([f / PROBLEMS for f in folders]))
    write_json_atomic(out / META, {"settings": settings, "shard": None, "merged": [str(f) for f in folders]})


def _refuse_run_in(out: Path) -> None:
    """A folder holding a run of its own (not an earlier merge) is not overwritten."""
    if (out / RESULTS).is_file() and (out / RESULTS).stat().st_size:
        meta = read_meta(out)
        if meta is None or "merged" not in meta:
            raise ValueError(f"--out {out} holds a replay run of its own; name a new folder for the merge")


def _same_settings(folders: list[Path]) -> dict[str, Any] | None:
    first: tuple[Path, dict[str, Any]] | None = None
    split: tuple[Path, int] | None = None
    for folder in folders:
        meta = read_meta(folder) or {}
        settings = meta.get("settings")
        if type(settings) is dict:
            settings = {k: v for k, v in settings.items() if k != "shard"}
            if first is None:
                first = folder, settings
            elif settings != first[1]:
                raise ValueError(
                    f"{first[0]} and {folder} were run with different settings ({_differences(first[1], settings)}); "
                    "only shards of one run can be merged"
                )
        shard = meta.get("shard")
        if type(shard) is list and len(shard) == 2 and type(shard[1]) is int:
            if split is None:
                split = folder, shard[1]
            elif shard[1] != split[1]:
                raise ValueError(
                    f"{split[0]} is a shard of {split[1]} and {folder} a shard of {shard[1]}; only shards of one split can be merged"
                )
    return first[1] if first else None


def _differences(a: dict[str, Any], b: dict[str, Any]) -> str:
    names = sorted(k for k in a.keys() | b.keys() if a.get(k, _MISSING) != b.get(k, _MISSING))
    shown = [f"{k}: {_short(a.get(k, _MISSING))} vs {_short(b.get(k, _MISSING))}" for k in names[:5]]
    return "; ".join(shown) + (f"; and {len(names) - 5} more" if len(names) > 5 else "")


_MISSING: Any = object()


def _short(value: Any) -> str:
    if value is _MISSING:
        return "not set"
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 60 else text[:57] + "..."


def _problem_lines(files: list[Path]) -> Iterator[bytes]:
    """The problems of every shard, each (file, line, path) once."""
    seen = DigestTable(values=False)
    for path in files:
        try:
            f = path.open("rb")
        except FileNotFoundError:
            continue
        with f:
            for raw in f:
                if not raw.endswith(b"\n"):
                    continue
                try:
                    value = json.loads(raw)
                except ValueError:
                    continue
                if type(value) is dict and seen.put(json.dumps([value.get("source"), value.get("line"), value.get("path")]), 1):
                    yield raw


def _replace(target: Path, lines: Iterable[bytes]) -> None:
    """Write ``lines`` to a temporary file beside ``target``, then put it in place."""
    fd, temp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            for raw in lines:
                f.write(raw)
        os.chmod(temp, 0o644)
        os.replace(temp, target)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
