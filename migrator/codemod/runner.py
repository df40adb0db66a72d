"""Run the transform over many files: read and screen in this process, parse in a pool.

Each file is parsed once, by ``transform_code`` (the study measured a no-op libcst codemod
pass at 5× a parse, and bump-pydantic runs twelve). Reading and the byte screen stay in the
parent, where they cost microseconds a file; only files that may hold a site cross into the
pool, which starts only when there are enough of them to pay for it. A file's failure, a syntax
error or a transformer bug, is that file's result: the run goes on.
"""

from __future__ import annotations

import ast
import warnings
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field

from .files import Candidate, screen
from .languages import Language, language_of
from .outcome import Options, Outcome, Site, TooDeep
from .source import SourceError, decode, encode, syntax_error

Transform = Callable[[str, Options], Outcome]

POOL_MIN_FILES = 8
"""Fewer files to parse than this run in this process: a pool's start would cost more than it saves."""


@dataclass(frozen=True)
class Notice:
    """An error or note about a file (1-based line, 0-based column; ``cell`` for notebooks)."""

    line: int
    column: int
    message: str
    cell: int | None = None


@dataclass(frozen=True)
class FileResult:
    path: str
    """As shown to the user (``Candidate.shown``, or ``-``)."""
    old: bytes | None = None
    """The bytes read, kept only when the file changed (for the diff)."""
    new: bytes | None = None
    """The new bytes, only when the file changed."""
    sites: tuple[tuple[Site, int | None], ...] = ()
    errors: tuple[Notice, ...] = ()
    notes: tuple[Notice, ...] = ()
    skipped: str | None = None
    """Why the file was not parsed: no marker bytes, generated."""

    @property
    def changed(self) -> bool:
        return self.new is not None


def resolve(transform: Transform | None) -> Transform:
    if transform is not None:
        return transform
    from .transform import transform_code

    return transform_code


def transform_bytes(path: str, data: bytes, options: Options, transform: Transform | None = None,
                    notebook: bool = False) -> FileResult:
    """The work for one file, after the screen; also what the pool's workers run."""
    language = language_of(path)
    if transform is None and language is not None and language.module is not None:
        return _transform_other(path, data, options, language)
    from libcst import ParserSyntaxError  # here, not at the top: a run where no file passes the screen never loads libcst

    from .notebook import NotebookError, transform_notebook

    fn = resolve(transform)
    try:
        decoded = decode(data)
        if notebook:
            nb = transform_notebook(decoded.text, options, fn)
            sites: tuple[tuple[Site, int | None], ...] = tuple(nb.sites)
            errors = tuple(Notice(e.line, e.column, e.message, e.cell) for e in nb.errors)
            notes = tuple(Notice(n.line, n.column, n.message, n.cell) for n in nb.notes)
            new_text = nb.text
        else:
            outcome = fn(decoded.text, options)
            sites = tuple((s, None) for s in outcome.sites)
            errors = notes = ()
            new_text = outcome.code
            if new_text != decoded.text:
                broken = _does_not_parse(new_text, decoded.text)
                if broken is not None:
                    return FileResult(path, sites=sites, errors=(broken,))
        new = encode(new_text, decoded) if new_text != decoded.text else None
    except ParserSyntaxError as exc:
        line, column, message = syntax_error(decoded.text, exc)
        return FileResult(path, errors=(Notice(line, column, f"does not parse: {message}"),))
    except (SourceError, NotebookError, TooDeep) as exc:
        line, column = (exc.line, exc.column) if isinstance(exc, SourceError) else (1, 0)
        return FileResult(path, errors=(Notice(line, column, str(exc)),))
    except Exception as exc:  # a transformer bug must not end the run; it is that file's error
        return FileResult(path, errors=(Notice(1, 0, f"internal error, file left unchanged: {type(exc).__name__}: {exc}"),))
    if new is None or new == data:
        return FileResult(path, sites=sites, errors=errors, notes=notes)
    return FileResult(path, old=data, new=new, sites=sites, errors=errors, notes=notes)


def _transform_other(path: str, data: bytes, options: Options, language: Language) -> FileResult:
    """A file of another language (languages.py): the same contract as Python's, through its module."""
    try:
        decoded = decode(data, python=False)
        module = language.load()
        outcome = module.transform(decoded.text, options, path)
        sites = tuple((s, None) for s in outcome.sites)
        new_text = outcome.code
        if new_text == decoded.text:
            return FileResult(path, sites=sites)
        broken = module.check(new_text)
        if broken is not None and module.check(decoded.text) is None:
            line, column, message = broken
            return FileResult(path, sites=sites, errors=(Notice(
                line, column, f"internal error, file left unchanged: the rewrite does not parse: {message}"),))
        new = encode(new_text, decoded)
    except SourceError as exc:
        return FileResult(path, errors=(Notice(exc.line, exc.column, str(exc)),))
    except Exception as exc:  # a transformer bug must not end the run; it is that file's error
        return FileResult(path, errors=(Notice(1, 0, f"internal error, file left unchanged: {type(exc).__name__}: {exc}"),))
    if new == data:
        return FileResult(path, sites=sites)
    return FileResult(path, old=data, new=new, sites=sites)


def _does_not_parse(new: str, old: str) -> Notice | None:
    """A rewrite that Python cannot compile is never written (checked only when the old code compiles)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # SyntaxWarnings of the user's own code are not ours to print
        try:
            ast.parse(new)
            return None
        except SyntaxError as exc:
            try:
                ast.parse(old)
            except SyntaxError:
                return None  # newer syntax than this Python's: nothing to compare against
            return Notice(exc.lineno or 1, max((exc.offset or 1) - 1, 0),
                          f"internal error, file left unchanged: the rewrite does not compile: {exc.msg}")


def read_and_screen(cand: Candidate) -> FileResult | bytes:
    """The file's bytes when it needs parsing, else its finished result."""
    try:
        with open(cand.path, "rb") as fh:
            data = fh.read()
    except OSError as exc:
        return FileResult(cand.shown, errors=(Notice(1, 0, f"cannot read: {exc.strerror or exc}"),), skipped="unreadable")
    reason = screen(data)
    if reason is not None:
        return FileResult(cand.shown, skipped=reason)
    return data


@dataclass
class _Pending:
    index: int
    cand: Candidate
    data: bytes
    future: Future[FileResult] | None = field(default=None)


def run(candidates: Sequence[Candidate], options: Options, *, jobs: int = 1,
        transform: Transform | None = None) -> Iterator[tuple[int, FileResult]]:
    """``(index into candidates, result)`` for every file, in the order they finish.

    Files are read in order and the pool starts once ``POOL_MIN_FILES`` need a parse, so the
    workers parse while this process is still reading the rest of the tree.
    """
    pool: ProcessPoolExecutor | None = None
    waiting: list[_Pending] = []
    try:
        for index, cand in enumerate(candidates):
            got = read_and_screen(cand)
            if isinstance(got, FileResult):
                yield index, got
                continue
            waiting.append(_Pending(index, cand, got))
            if pool is None and jobs > 1 and len(waiting) >= POOL_MIN_FILES:
                resolve(transform)  # libcst and the rules load once, here, and the forked workers inherit them
                pool = ProcessPoolExecutor(max_workers=jobs)
            if pool is not None:
                for item in waiting:
                    if item.future is None:
                        item.future = pool.submit(_work, item.cand, item.data, options, transform)
        for item in waiting:
            if item.future is None:
                yield item.index, _work(item.cand, item.data, options, transform)
        for item in waiting:
            if item.future is not None:
                yield item.index, _outcome_of(item)
    finally:
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)


def _work(cand: Candidate, data: bytes, options: Options, transform: Transform | None) -> FileResult:
    return transform_bytes(cand.shown, data, options, transform, notebook=cand.path.endswith(".ipynb"))


def _outcome_of(item: _Pending) -> FileResult:
    assert item.future is not None
    try:
        return item.future.result()
    except Exception as exc:  # the worker died (killed, out of memory): that file's error, not the run's
        return FileResult(item.cand.shown, errors=(Notice(1, 0, f"internal error, file left unchanged: {type(exc).__name__}: {exc}"),))


def run_all(candidates: Sequence[Candidate], options: Options, *, jobs: int = 1, transform: Transform | None = None,
            on_result: Callable[[FileResult], None] | None = None) -> list[FileResult]:
    """Every result, in the candidates' order whatever the pool's order (so ``--jobs`` never changes the output)."""
    results: list[FileResult | None] = [None] * len(candidates)
    for index, result in run(candidates, options, jobs=jobs, transform=transform):
        results[index] = result
        if on_result is not None:
            on_result(result)
    return [r for r in results if r is not None]

