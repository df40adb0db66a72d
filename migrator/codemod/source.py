"""Source bytes to text and back, so a rewritten file differs from the old one only where code changed.

Users of earlier codemods lost their CRLF line endings (bump-pydantic #169) and their declared
encodings; here the encoding is what Python itself reads (PEP 263 cookie, BOM), and the newline
style of a CRLF file is restored after the transformers, which only ever see ``\\n``.
"""

from __future__ import annotations

import ast
import codecs
import io
import os
import stat
import tempfile
import tokenize
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # libcst loads only when some file needs a parse (0.4 s of a run's start)
    from libcst import ParserSyntaxError


class SourceError(Exception):
    """The bytes are not Python source this tool can read back unchanged (bad cookie, bad encoding)."""

    def __init__(self, message: str, line: int = 1, column: int = 0) -> None:
        super().__init__(message)
        self.message = message
        self.line = line
        self.column = column


@dataclass(frozen=True)
class Decoded:
    text: str
    """The code with ``\\n`` newlines (CRLF turned to LF when the whole file is CRLF)."""
    encoding: str
    """As ``tokenize.detect_encoding`` names it; ``utf-8-sig`` means a BOM, which encoding restores."""
    newline: str
    """``\\r\\n`` when every line of the file ended so, else ``\\n`` (mixed files are passed as they are)."""


def decode(data: bytes, python: bool = True) -> Decoded:
    """``python``: the encoding is what Python reads (cookie, BOM); other languages' files are UTF-8
    (a BOM kept), and their errors say so without Python's words."""
    if not python:
        encoding = "utf-8-sig" if data.startswith(codecs.BOM_UTF8) else "utf-8"
    else:
        try:
            encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
        except SyntaxError as exc:
            raise SourceError(f"cannot read the encoding: {exc.msg}", exc.lineno or 1) from None
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        bom = len(codecs.BOM_UTF8) if encoding == "utf-8-sig" and data.startswith(codecs.BOM_UTF8) else 0
        start = exc.start + bom  # the codec counts from after the BOM it took
        line = data.count(b"\n", 0, start) + 1
        column = start - (data.rfind(b"\n", 0, start) + 1)
        name = "utf-8" if encoding == "utf-8-sig" else encoding
        raise SourceError(f"not valid {name}: byte {data[start]:#04x} cannot be decoded", line, column) from None
    except LookupError:  # pragma: no cover - detect_encoding already rejects unknown codecs
        raise SourceError(f"unknown encoding {encoding!r}") from None
    crlf = text.count("\r\n")
    if crlf and crlf == text.count("\n"):
        return Decoded(text.replace("\r\n", "\n"), encoding, "\r\n")
    return Decoded(text, encoding, "\n")


def encode(text: str, like: Decoded) -> bytes:
    """``text`` in the original file's encoding, BOM and newline style.

    A rewrite that brings a character the declared encoding cannot hold (a note naming a
    non-Latin-1 string in a Latin-1 file) is an error for the file, not a silent substitution.
    """
    if like.newline != "\n":
        text = text.replace("\n", like.newline)
    try:
        return text.encode(like.encoding)
    except UnicodeEncodeError as exc:
        line = text.count("\n", 0, exc.start) + 1
        raise SourceError(f"the rewritten code has {text[exc.start]!r}, which {like.encoding} cannot encode", line) from None


def write_atomic(path: str | Path, data: bytes) -> None:
    """The whole new file or the old one, never half: a temporary file beside it, then a rename.

    The target's permission bits are carried over (an executable script stays executable), and a
    symlink is followed so the link itself stays a link.
    """
    target = Path(os.path.realpath(path))
    try:
        mode: int | None = stat.S_IMODE(os.stat(target).st_mode)
    except FileNotFoundError:
        mode = None  # a new file (the report): what open() would give it, not mkstemp's 0600
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".migrator-tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(tmp, mode if mode is not None else 0o666 & ~_umask())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


def syntax_error(code: str, exc: ParserSyntaxError) -> tuple[int, int, str]:
    """``(line, 0-based column, message)`` of a parse failure, in CPython's words where it agrees.

    libcst's native parser often places its error at the start of a line, or past it; CPython
    names the exact spot ("'(' was never closed") and is what users know from their tracebacks.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            ast.parse(code)
        except SyntaxError as err:
            return err.lineno or exc.raw_line, max((err.offset or 1) - 1, 0), err.msg
        except ValueError:  # null bytes
            pass
    return exc.raw_line, exc.raw_column, exc.message.removeprefix("parser error: ")
