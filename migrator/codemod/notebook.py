"""Jupyter notebooks: the code cells go through the same transform as a ``.py`` file.

The cells are joined into one module (a client made in one cell is used in another, and the
transformers trace receivers within a module), separated by comment lines, so the notebook costs
one parse. IPython lines that are not Python (``%magic``, ``!shell``, ``x = !cmd``, ``obj?``) are
masked as ``pass`` statements and put back afterwards; a cell magic (``%%bash``) makes the cell
not Python at all, so it is left out with a note. A cell that still does not parse is reported
and left out, and the other cells are migrated.

The JSON is written back the way the notebook was written (indent, key order, ASCII escaping,
final newline): a notebook that ``json.dumps`` cannot reproduce byte for byte is left unchanged
with an error, rather than reformatted around the one changed cell.
"""

from __future__ import annotations

import bisect
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from libcst import ParserSyntaxError

from .outcome import Options, Outcome, Site
from .source import syntax_error

Transform = Callable[[str, Options], Outcome]

_MAGIC = re.compile(
    r"[ \t]*(?:[%!]"  # %line magic, !shell
    r"|[A-Za-z_][\w.]*(?:[ \t]*,[ \t]*[A-Za-z_][\w.]*)*[ \t]*=[ \t]*[%!](?!=)"  # x = !ls, x = %time f()
    r"|\?{0,2}[A-Za-z_][\w.]*\?{0,2}[ \t]*$)"  # obj?, ??obj (checked below to carry a "?")
)
_MASK = "pass  # migrator-ipython-line {}"
_MASKED = re.compile(r"^([ \t]*)pass  # migrator-ipython-line (\d+)$", re.MULTILINE)
_BOUNDARY = "# migrator-notebook-cell {}\n"
_BOUNDARY_LINE = re.compile(r"^# migrator-notebook-cell (\d+)\n", re.MULTILINE)


@dataclass(frozen=True)
class CellNote:
    cell: int
    """0-based index among all the notebook's cells, as Jupyter's JSON lists them."""
    line: int
    column: int
    message: str


@dataclass(frozen=True)
class NotebookOutcome:
    text: str
    sites: tuple[tuple[Site, int], ...]
    """Each site with its cell; the site's line counts within that cell."""
    errors: tuple[CellNote, ...]
    notes: tuple[CellNote, ...]


class NotebookError(Exception):
    pass


@dataclass
class _Cell:
    index: int
    code: str
    lines: list[str]
    """The IPython lines a mask stands for, by mask number."""
    masked: bool


def transform_notebook(text: str, options: Options, transform: Transform) -> NotebookOutcome:
    try:
        nb = json.loads(text)
    except json.JSONDecodeError as exc:
        raise NotebookError(f"not a notebook: invalid JSON at line {exc.lineno}: {exc.msg}") from None
    cells_json = nb.get("cells") if isinstance(nb, dict) else None
    if not isinstance(cells_json, list):
        raise NotebookError("not a notebook this tool reads: no list of cells (nbformat 4)")
    language = _language(nb)
    if language not in (None, "python"):
        return NotebookOutcome(text, (), (), (CellNote(0, 1, 0, f"skipped: a {language} notebook"),))
    errors: list[CellNote] = []
    notes: list[CellNote] = []
    cells: list[tuple[int, str]] = []
    for index, cell in enumerate(cells_json):
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        source = cell.get("source", "")
        if isinstance(source, list) and all(isinstance(part, str) for part in source):
            source = "".join(source)
        if not isinstance(source, str):
            errors.append(CellNote(index, 1, 0, "skipped: its source is neither a string nor a list of strings"))
            continue
        if source.lstrip().startswith("%%"):
            magic = source.lstrip().split(None, 1)[0]
            notes.append(CellNote(index, 1, 0, f"skipped: the cell magic {magic} runs this cell, not Python"))
            continue
        cells.append((index, source))
    markdown_sites, changed = _markdown_cells(cells_json, options)
    rewritten = transform_cells(cells, options, transform)
    errors.extend(rewritten.errors)
    for index, restored in rewritten.sources.items():
        changed = True
        source = cells_json[index].get("source")
        cells_json[index]["source"] = _lines(restored) if isinstance(source, list) else restored
    return _finish(nb, text, (*rewritten.sites, *markdown_sites), changed, errors, notes)


@dataclass(frozen=True)
class CellsOutcome:
    sources: dict[int, str]
    """The new source of each cell that changed, by its index."""
    sites: tuple[tuple[Site, int], ...]
    errors: tuple[CellNote, ...]


def transform_cells(sources: list[tuple[int, str]], options: Options, transform: Transform) -> CellsOutcome:
    """Pieces of Python that one program runs in turn (a notebook's code cells, a page's Python blocks),
    ``(index, code)`` each, transformed as one module: a client made in one piece is traced into the next."""
    errors: list[CellNote] = []
    cells = [_mask(index, code) for index, code in sources]
    outcome, kept = _transform_cells(cells, options, transform, errors)
    if outcome is None:
        return CellsOutcome({}, (), tuple(errors))
    new_sources = _split(outcome.code, kept)
    if new_sources is None:
        errors.append(CellNote(kept[0].index, 1, 0, "the rewrite crossed a cell boundary; the code cells are left unchanged"))
        return CellsOutcome({}, (), tuple(errors))
    changed: dict[int, str] = {}
    for cell, new_code in zip(kept, new_sources, strict=True):
        original = _unmask(cell.code, cell)
        restored = _unmask(new_code, cell) if new_code != cell.code else original
        if restored is None:
            errors.append(CellNote(cell.index, 1, 0, "the rewrite removed an IPython line; this cell is left unchanged"))
            continue
        if restored != original:
            changed[cell.index] = restored
    return CellsOutcome(changed, _place(outcome.sites, kept), tuple(errors))


def _finish(nb: Any, text: str, sites: tuple[tuple[Site, int], ...], changed: bool, errors: list[CellNote],
            notes: list[CellNote]) -> NotebookOutcome:
    placed = tuple(sorted(sites, key=lambda pair: (pair[1], pair[0].line, pair[0].column)))
    return NotebookOutcome(_dump_like(nb, text) if changed else text, placed, tuple(errors), tuple(notes))


def _markdown_cells(cells: list[Any], options: Options) -> tuple[tuple[tuple[Site, int], ...], bool]:
    """The markdown cells' code blocks, migrated as a Markdown document's are (docs/markdown.py)."""
    from .docs.markdown import transform_markdown

    sites: list[tuple[Site, int]] = []
    changed = False
    for index, cell in enumerate(cells):
        if not isinstance(cell, dict) or cell.get("cell_type") != "markdown":
            continue
        source = cell.get("source", "")
        text = "".join(source) if isinstance(source, list) and all(isinstance(p, str) for p in source) else source
        if not isinstance(text, str):
            continue
        outcome = transform_markdown(text, options)
        sites.extend((site, index) for site in outcome.sites)
        if outcome.code != text:
            changed = True
            cell["source"] = _lines(outcome.code) if isinstance(source, list) else outcome.code
    return tuple(sites), changed


def _language(nb: dict[str, Any]) -> str | None:
    meta = nb.get("metadata")
    if not isinstance(meta, dict):
        return None
    for key, field in (("kernelspec", "language"), ("language_info", "name")):
        section = meta.get(key)
        if isinstance(section, dict) and isinstance(section.get(field), str):
            return str(section[field]).lower()
    return None


def _mask(index: int, code: str) -> _Cell:
    lines = _lines(code)
    hidden: list[str] = []
    out: list[str] = []
    for line in lines:
        body = line.rstrip("\n")
        match = _MAGIC.match(body)
        if match and (match.end() != len(body) or "?" in body or body.lstrip()[:1] in "%!"):
            indent = body[: len(body) - len(body.lstrip(" \t"))]
            out.append(indent + _MASK.format(len(hidden)) + ("\n" if line.endswith("\n") else ""))
            hidden.append(body)
        else:
            out.append(line)
    return _Cell(index, "".join(out), hidden, bool(hidden))


def _unmask(code: str, cell: _Cell) -> str | None:
    if not cell.masked:
        return code
    found = [int(m.group(2)) for m in _MASKED.finditer(code)]
    if sorted(found) != list(range(len(cell.lines))):
        return None
    return _MASKED.sub(lambda m: cell.lines[int(m.group(2))], code)


def _unmasked(cell: _Cell) -> _Cell:
    """The cell as written: for a masked line that was Python after all (``% x`` continuing an expression)."""
    return _Cell(cell.index, _unmask(cell.code, cell) or cell.code, [], False)


def _transform_cells(cells: list[_Cell], options: Options, transform: Transform,
                     errors: list[CellNote]) -> tuple[Outcome | None, list[_Cell]]:
    """One transform over the joined cells; a cell that breaks the parse is unmasked, then dropped."""
    kept = list(cells)
    while kept:
        joined, starts = _join(kept)
        try:
            return transform(joined, options), kept
        except ParserSyntaxError as exc:
            line, column, message = syntax_error(joined, exc)
            at = max(bisect.bisect_right(starts, line) - 1, 0)
            bad = kept[at]
            if bad.masked:
                kept[at] = _unmasked(bad)
                continue
            errors.append(CellNote(bad.index, line - starts[at] + 1, column, f"cell does not parse: {message}"))
            del kept[at]
    return None, []


def _join(cells: list[_Cell]) -> tuple[str, list[int]]:
    """The cells as one module; ``starts[i]`` is the 1-based line where cell i begins."""
    parts: list[str] = []
    starts: list[int] = []
    line = 1
    for n, cell in enumerate(cells):
        parts.append(_BOUNDARY.format(n))
        line += 1
        starts.append(line)
        code = cell.code if cell.code.endswith("\n") or not cell.code else cell.code + "\n"
        parts.append(code)
        line += code.count("\n")
    return "".join(parts), starts


def _split(code: str, cells: list[_Cell]) -> list[str] | None:
    bounds = list(_BOUNDARY_LINE.finditer(code))
    if not bounds or [int(m.group(1)) for m in bounds] != list(range(len(cells))) or code[: bounds[0].start()].strip():
        return None
    out = []
    for n, (cell, m) in enumerate(zip(cells, bounds, strict=True)):
        end = bounds[n + 1].start() if n + 1 < len(bounds) else len(code)
        part = code[m.end():end]
        if not cell.code.endswith("\n") and part.endswith("\n"):
            part = part[:-1]
        out.append(part)
    return out


def _place(sites: tuple[Site, ...], cells: list[_Cell]) -> tuple[tuple[Site, int], ...]:
    _, starts = _join(cells)
    placed = []
    for site in sites:
        at = max(bisect.bisect_right(starts, site.line) - 1, 0)
        placed.append((replace(site, line=site.line - starts[at] + 1), cells[at].index))
    return tuple(placed)


def _lines(code: str) -> list[str]:
    """Split as Jupyter stores a cell's source: at ``\\n`` only, each line keeping it."""
    return re.findall(r"[^\n]*\n|[^\n]+$", code)


def _dump_like(nb: Any, original: str) -> str:
    """``nb`` written as ``original`` was (Jupyter: indent 1, raw UTF-8; other tools differ)."""
    second = original.split("\n", 2)[1] if original.count("\n") >= 2 else ""
    width = len(second) - len(second.lstrip(" "))
    indent: int | None = width if "\n" in original.strip() else None
    tail = original[len(original.rstrip()):]
    previous = json.loads(original)
    for ensure_ascii in (False, True):
        for separators in ((",", ": "), (", ", ": "), (",", ":")):
            if indent is None and separators == (",", ": "):
                continue
            kwargs: dict[str, Any] = {"indent": indent, "ensure_ascii": ensure_ascii, "separators": separators}
            if json.dumps(previous, **kwargs) + tail == original:
                return json.dumps(nb, **kwargs) + tail
    raise NotebookError("its JSON layout is not one json.dumps writes, so it cannot be rewritten without "
                        "reformatting; left unchanged")
