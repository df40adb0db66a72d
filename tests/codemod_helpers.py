"""Stand-in transforms for the codemod's file-level tests, so they test files, not rewrite rules.

Top-level functions, so a process pool can pickle them by name (``--transform
tests.codemod_helpers:rename``). ``rename`` behaves as the real transform promises: it parses
(raising ``libcst.ParserSyntaxError``), rewrites ``.chat.completions.create(`` to
``.responses.create(``, reports one Site per rewrite, and a second run changes nothing.
"""

from __future__ import annotations

import re

import libcst as cst

from migrator.codemod.outcome import Options, Outcome, Site

CALL = re.compile(r"\.chat\.completions\.create\(")
SEEN: list[str] = []
"""Every code ``counting`` was given, in this process."""

SAMPLE = (
    "from openai import OpenAI\n"
    "\n"
    "client = OpenAI()\n"
    "r = client.chat.completions.create(model='gpt-4o', messages=[{'role': 'user', 'content': 'hi'}])\n"
    "print(r.choices[0].message.content)\n"
)
MIGRATED = SAMPLE.replace(".chat.completions.create(", ".responses.create(")
PLAIN = "import os\n\nprint(os.getcwd())\n"


def rename(code: str, options: Options) -> Outcome:
    cst.parse_module(code)
    sites = []
    for m in CALL.finditer(code):
        line_start = code.rfind("\n", 0, m.start()) + 1
        verdict = "migrated" if not options.unsafe_fixes else "migrated with notes"
        sites.append(Site(code.count("\n", 0, m.start()) + 1, m.start() - line_start, "call", verdict, "safe",
                          ("renamed",), "api.openai.com"))
    return Outcome(CALL.sub(".responses.create(", code), tuple(sites))


def counting(code: str, options: Options) -> Outcome:
    SEEN.append(code)
    return rename(code, options)


def broken(code: str, options: Options) -> Outcome:
    """A transformer bug: output that does not compile."""
    cst.parse_module(code)
    return Outcome(code.replace(".chat.completions.create(", ".responses.create((("), ())


def crashing(code: str, options: Options) -> Outcome:
    raise RuntimeError("transformer bug")


def notebook(cells: list[str], *, indent: int = 1, language: str = "python") -> str:
    """A notebook as Jupyter writes it (sorted keys, indent 1, raw UTF-8, final newline)."""
    import json

    nb = {
        "cells": [
            {"cell_type": "code", "execution_count": None, "id": f"c{i}", "metadata": {}, "outputs": [],
             "source": [line for line in re.findall(r"[^\n]*\n|[^\n]+$", src)]}
            for i, src in enumerate(cells)
        ],
        "metadata": {"kernelspec": {"display_name": "Python 3", "language": language, "name": "python3"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    return json.dumps(nb, sort_keys=True, indent=indent, ensure_ascii=False) + "\n"
