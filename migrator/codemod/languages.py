"""Which files the codemod reads, and which module rewrites each kind.

Python (``.py``, ``.ipynb``) is the libcst transformer of this package. Every other kind is a
module under ``migrator/codemod/`` with the same two-function contract, so the runner, the diff,
the atomic write, the report and the exit codes are shared by every language:

* ``transform(text: str, options: Options, path: str) -> Outcome`` — the rewritten text and its
  sites; raises ``SourceError(message, line, column)`` for text it cannot parse (the run reports
  that file and goes on);
* ``check(text: str) -> tuple[int, int, str] | None`` — ``(line, column, message)`` when ``text``
  does not parse: a rewrite that fails it is never written (the Python side's ``ast.parse`` check).

A module is imported only when a file of its kind passes the byte screen, so a Python-only
repository never loads a JavaScript grammar.
"""

from __future__ import annotations

import importlib
import os
from dataclasses import dataclass
from types import ModuleType
from typing import Protocol, cast

from .outcome import Options, Outcome


class LanguageModule(Protocol):
    def transform(self, text: str, options: Options, path: str) -> Outcome: ...

    def check(self, text: str) -> tuple[int, int, str] | None: ...


@dataclass(frozen=True)
class Language:
    name: str
    module: str | None  # None: the Python transformer (transform.py / notebook.py)

    def load(self) -> LanguageModule:
        assert self.module is not None
        module: ModuleType = importlib.import_module(self.module, __package__)
        return cast(LanguageModule, module)


PYTHON = Language("python", None)
NOTEBOOK = Language("notebook", None)
JAVASCRIPT = Language("javascript", ".js.javascript")
TYPESCRIPT = Language("typescript", ".js.typescript")
TSX = Language("tsx", ".js.tsx")
SHELL = Language("shell", ".shell.script")
MAKEFILE = Language("makefile", ".shell.makefile")
MARKDOWN = Language("markdown", ".docs.markdown")
RST = Language("rst", ".docs.rst")

BY_SUFFIX: dict[str, Language] = {
    ".py": PYTHON, ".ipynb": NOTEBOOK,
    ".js": JAVASCRIPT, ".mjs": JAVASCRIPT, ".cjs": JAVASCRIPT, ".jsx": JAVASCRIPT,
    ".ts": TYPESCRIPT, ".mts": TYPESCRIPT, ".cts": TYPESCRIPT, ".tsx": TSX,
    ".sh": SHELL, ".bash": SHELL, ".zsh": SHELL,
    ".mk": MAKEFILE,
    ".md": MARKDOWN, ".mdx": MARKDOWN, ".markdown": MARKDOWN,
    ".rst": RST,
}
BY_NAME: dict[str, Language] = {"Makefile": MAKEFILE, "makefile": MAKEFILE, "GNUmakefile": MAKEFILE}


def language_of(path: str) -> Language | None:
    """The kind of file at ``path`` by its name, or None for a file the codemod does not read."""
    name = os.path.basename(path)
    return BY_NAME.get(name) or BY_SUFFIX.get(os.path.splitext(name)[1].lower())
