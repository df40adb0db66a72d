"""Where the code is in a document: fenced Markdown blocks and reStructuredText code/literal blocks.

A block is found by its lines only (no Markdown or rST parser): the rewrite is a splice of the
block's content lines, so everything around it (prose, tables, front matter, JSX) stays byte for
byte. A block's lines are dedented by the block's own indentation (a fence inside a list item)
before a language sees them, and indented again afterwards.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

LANGUAGES: dict[str, str] = {
    "python": "python", "py": "python", "python3": "python", "py3": "python",
    "js": "javascript", "javascript": "javascript", "node": "javascript", "nodejs": "javascript",
    "jsx": "javascript", "mjs": "javascript", "cjs": "javascript",
    "ts": "typescript", "typescript": "typescript", "mts": "typescript", "cts": "typescript",
    "tsx": "tsx",
    "sh": "shell", "bash": "shell", "shell": "shell", "console": "shell", "curl": "shell", "zsh": "shell",
    "shell-session": "shell",
    "json": "json", "jsonc": "jsonc",
}
"""A block's info string (its first word, lowercased) → the language that migrates it; a block of
any other language is left as it is."""


@dataclass(frozen=True)
class Block:
    language: str | None
    """A value of ``LANGUAGES``, ``literal`` for an rST ``::`` block (its content decides), or None for
    a language the codemod does not read (the block is still code, not prose)."""
    tag: str
    """The info string's word as written (``jsonc`` decides where losses go)."""
    start: int
    """0-based index of the block's first content line."""
    end: int
    """0-based index one past its last content line."""
    indent: str
    """What every content line starts with (the fence's or the directive body's indentation)."""


_FENCE = re.compile(r"^([ \t]*)(`{3,}|~{3,})(.*)$")


def language_of(info: str) -> tuple[str, str] | None:
    """``(language, tag)`` for an info string (``python title="x.py"``, ``{.python}``), or None."""
    word = info.strip().lstrip("{").split(None, 1)[0] if info.strip().lstrip("{") else ""
    word = word.lstrip(".").rstrip("}").split(",")[0].lower()
    language = LANGUAGES.get(word)
    return (language, word) if language is not None else None


def markdown_blocks(lines: list[str]) -> list[Block]:
    """The fenced blocks of a Markdown/MDX text (``lines`` without their newlines), in order.

    A fence closes only on the same character repeated at least as often, so a fence inside a
    longer one (a Markdown example in a four-backtick block) is content, not a block. An unclosed
    fence runs to the end of the document, as CommonMark reads it.
    """
    blocks: list[Block] = []
    i = 0
    while i < len(lines):
        match = _FENCE.match(lines[i])
        if match is None or (match.group(2)[0] == "`" and "`" in match.group(3)):
            i += 1
            continue
        indent, fence, info = match.groups()
        close = re.compile(rf"^[ \t]*{re.escape(fence[0])}{{{len(fence)},}}[ \t\r]*$")
        end = next((j for j in range(i + 1, len(lines)) if close.match(lines[j])), len(lines))
        language, tag = language_of(info) or (None, info.strip())
        blocks.append(Block(language, tag, i + 1, end, indent))
        i = end + 1
    return blocks


_DIRECTIVE = re.compile(r"^([ \t]*)\.\.[ \t]+(?:code-block|code|sourcecode)::[ \t]*(\S*)[ \t]*$")
_HIGHLIGHT = re.compile(r"^[ \t]*\.\.[ \t]+highlight::[ \t]*(\S+)")
_OPTION = re.compile(r"^[ \t]*:[\w-]+:")


def _width(line: str) -> int:
    return len(line) - len(line.lstrip(" \t"))


def _body(lines: list[str], i: int, outer: int) -> tuple[int, int, str] | None:
    """The indented body that follows line ``i - 1``: ``(start, end, indent)``, or None when there is none."""
    while i < len(lines) and not lines[i].strip():
        i += 1
    if i >= len(lines) or _width(lines[i]) <= outer:
        return None
    start = i
    end = i
    while i < len(lines) and (not lines[i].strip() or _width(lines[i]) > outer):
        if lines[i].strip():
            end = i + 1
        i += 1
    indent = min((lines[k][: _width(lines[k])] for k in range(start, end) if lines[k].strip()), key=len)
    return start, end, indent


def rst_blocks(lines: list[str]) -> list[Block]:
    """``.. code-block:: LANG`` / ``.. code:: LANG`` bodies, and ``::`` literal blocks in the language
    of the last ``.. highlight::`` (Python, Sphinx's default, when there is none)."""
    blocks: list[Block] = []
    highlight = "python"
    i = 0
    while i < len(lines):
        line = lines[i]
        directive = _DIRECTIVE.match(line)
        lighted = _HIGHLIGHT.match(line)
        if lighted is not None:
            highlight = lighted.group(1).lower()
        if directive is not None:
            j = i + 1
            while j < len(lines) and _OPTION.match(lines[j]) and _width(lines[j]) > _width(line):
                j += 1
            body = _body(lines, j, _width(line))
            found = language_of(directive.group(2) or highlight)
        elif line.rstrip().endswith("::") and not line.lstrip().startswith(".."):
            body = _body(lines, i + 1, _width(line))
            found = ("literal", highlight)
        else:
            i += 1
            continue
        if body is None:
            i += 1
            continue
        start, end, indent = body
        language, tag = found or (None, directive.group(2) if directive is not None else "")
        blocks.append(Block(language, tag, start, end, indent))
        i = end
    return blocks


def dedent(lines: list[str], indent: str) -> str:
    """The block's code: each line without the block's indentation (a blank line keeps nothing)."""
    return "".join((line[len(indent):] if line.startswith(indent) else line.lstrip(" \t")) + "\n" for line in lines)

