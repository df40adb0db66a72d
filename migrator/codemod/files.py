"""Which files a run looks at, and which of those are worth parsing.

The walk follows ruff's habits (users of bump-pydantic asked for each of them: #57, #146, #167):
``.gitignore`` files are obeyed at every level, virtualenvs, build output and tool caches are
never entered, and paths are resolved against the cwd once, so a run from another directory
sees the same files. A file passed by name is always looked at (a pre-commit hook passes
names); ``--exclude`` still applies to it.

Parsing is the cost (libcst reads ~0.8 MB/s), so a file is parsed only when its bytes contain
``BYTE_MARKER``: in an application most files never reach libcst.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from pathspec import GitIgnoreSpec

from .languages import language_of
from .outcome import BYTE_MARKER

DEFAULT_EXCLUDES = frozenset({
    ".bzr", ".direnv", ".eggs", ".git", ".git-rewrite", ".hg", ".ipynb_checkpoints", ".mypy_cache", ".nox",
    ".pants.d", ".pyenv", ".pytest_cache", ".pytype", ".ruff_cache", ".svn", ".tox", ".venv", ".vscode",
    "__pycache__", "__pypackages__", "_build", "buck-out", "build", "dist", "node_modules", "site-packages", "venv",
})
"""Directory names never entered (ruff's list, plus ``build`` and ``__pycache__``). A directory
holding ``pyvenv.cfg`` is a virtualenv whatever its name, and is skipped too."""

GENERATED_MARKER = b"@" + b"generated"
"""Spelled in two pieces so this module is not itself taken for a generated file."""

NO_MARKER = "no chat completions"
GENERATED = "generated (@" "generated)"


@dataclass(frozen=True)
class Candidate:
    path: str
    """Absolute, normalized, symlinks kept as named (a string: a walk of 10,000 files builds no Path)."""
    shown: str
    """How messages, diffs and the report name it: relative to the cwd when below it, else absolute."""


@dataclass(frozen=True)
class Discovery:
    files: tuple[Candidate, ...]
    problems: tuple[tuple[str, str], ...]
    """``(argument, message)`` for a PATH that does not exist or cannot be listed."""


def screen(data: bytes) -> str | None:
    """Why a file needs no parse (``None`` when it does): no marker bytes, or generated code."""
    if BYTE_MARKER not in data:
        return NO_MARKER
    if GENERATED_MARKER in data:
        return GENERATED
    return None


def discover(paths: Sequence[str], excludes: Sequence[str] = (), cwd: Path | None = None) -> Discovery:
    base = os.path.abspath(cwd or os.getcwd())
    exclude = GitIgnoreSpec.from_lines(excludes) if excludes else None
    found: list[Candidate] = []
    seen: set[str] = set()
    problems: list[tuple[str, str]] = []
    for arg in paths:
        target = os.path.normpath(os.path.join(base, arg))
        if os.path.isdir(target):
            try:
                walked = list(_walk(Path(target), exclude, base))
            except OSError as exc:
                problems.append((arg, f"cannot list: {exc.strerror or exc}"))
                continue
            candidates: Iterable[Candidate] = walked
        elif os.path.exists(target):
            shown = show(target, base)
            if exclude is not None and exclude.match_file(shown.lstrip("/")):
                continue
            candidates = [Candidate(target, shown)]
        else:
            problems.append((arg, "no such file or directory"))
            continue
        for cand in candidates:
            if cand.path not in seen:  # a file reached from two arguments is rewritten once
                seen.add(cand.path)
                found.append(cand)
    return Discovery(tuple(found), tuple(problems))


def show(path: str, base: str) -> str:
    """``path`` relative to ``base`` when below it, else absolute; ``/`` separators either way."""
    prefix = base.rstrip(os.sep) + os.sep
    shown = path[len(prefix):] if path.startswith(prefix) else path
    return shown.replace(os.sep, "/") if os.sep != "/" else shown


class _Ignores:
    """The ``.gitignore`` files that govern one directory, outermost first; the deepest match wins, as in git."""

    def __init__(self, layers: tuple[tuple[str, GitIgnoreSpec], ...] = ()) -> None:
        self.layers = layers

    def entering(self, directory: str) -> _Ignores:
        spec = _load(os.path.join(directory, ".gitignore"))
        return _Ignores((*self.layers, (directory + os.sep, spec))) if spec is not None else self

    def ignored(self, path: str, is_dir: bool) -> bool:
        for prefix, spec in reversed(self.layers):
            if not path.startswith(prefix):
                continue
            rel = path[len(prefix):].replace(os.sep, "/") + ("/" if is_dir else "")
            include = spec.check_file(rel).include
            if include is not None:
                return include
        return False


def _load(path: str) -> GitIgnoreSpec | None:
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            return GitIgnoreSpec.from_lines(fh.read().splitlines())
    except OSError:
        return None


def _outer_ignores(root: Path) -> _Ignores:
    """The ignore files above ``root`` up to its git work tree's top (and that repository's info/exclude)."""
    top = next((d for d in (root, *root.parents) if (d / ".git").exists()), None)
    if top is None:
        return _Ignores()
    exclude = _load(str(top / ".git" / "info" / "exclude"))
    ignores = _Ignores(((str(top) + os.sep, exclude),)) if exclude is not None else _Ignores()
    for directory in reversed(root.parents):
        if directory == top or top in directory.parents:
            ignores = ignores.entering(str(directory))
    return ignores


def _walk(root: Path, exclude: GitIgnoreSpec | None, base: str) -> Iterator[Candidate]:
    root_str = str(root)
    root_prefix = root_str + os.sep
    ignores_of = {root_str: _outer_ignores(root).entering(root_str)}

    def excluded(path: str, is_dir: bool) -> bool:
        if exclude is None:
            return False
        rel = path[len(root_prefix):].replace(os.sep, "/")
        return exclude.match_file(rel + "/" if is_dir else rel)

    def raise_error(exc: OSError) -> None:
        raise exc

    for dirpath, dirnames, filenames in os.walk(root_str, onerror=raise_error):
        ignores = ignores_of.pop(dirpath)
        kept = []
        for name in sorted(dirnames):
            sub = os.path.join(dirpath, name)
            if name in DEFAULT_EXCLUDES or ignores.ignored(sub, True) or excluded(sub, True):
                continue
            if os.path.exists(os.path.join(sub, "pyvenv.cfg")):
                continue
            ignores_of[sub] = ignores.entering(sub)
            kept.append(name)
        dirnames[:] = kept
        for name in sorted(filenames):
            if language_of(name) is None:
                continue
            path = os.path.join(dirpath, name)
            if ignores.ignored(path, False) or excluded(path, False):
                continue
            yield Candidate(path, show(path, base))
