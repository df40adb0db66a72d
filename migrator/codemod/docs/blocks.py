"""Where the code is in a document: fenced Markdown blocks and reStructuredText code/literal blocks.

A block is found by its lines only (no Markdown or rST parser): the rewrite is a splice of the
block's content lines, so everything around it (prose, tables, front matter, JSX) stays byte for
byte. A block's lines are dedented by the block's own indentation (a fence inside a list item)
before a language sees them, and indented again afterwards.
"""

from __future__ import annotations

import functools
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
    """What every content line starts with: the containers' prefix (``> `` of a blockquote, the
    indentation of a list item's content or of the directive's body), as a new line is written."""


_MARKER = re.compile(r"[ \t]*(?:>[ ]?|(?:[-+*]|\d{1,9}[.)])[ \t]+)")
"""One container marker before a fence on its line: a blockquote's ``>``, a list item's ``-`` or ``1.``."""
_FENCE = re.compile(r"^((?:[ \t]*(?:>[ ]?|(?:[-+*]|\d{1,9}[.)])[ \t]+))*[ \t]*)(`{3,}|~{3,})(.*)$")
_MYST_CODE = frozenset({"code-block", "code", "sourcecode", "code-cell"})
"""MyST directives whose fence holds code: ```` ```{code-block} python ````."""
_MYST_OPAQUE = frozenset({"eval-rst", "raw", "math", "mermaid", "csv-table", "list-table"})
"""MyST directives whose fence holds something else than Markdown; any other directive fence
(``{note}``, ``{tab-item}``) holds Markdown, whose own fences are code blocks."""
_OPTION_LINE = re.compile(r"^:[\w-]+:")


def language_of(info: str) -> tuple[str, str] | None:
    """``(language, tag)`` for an info string (``python title="x.py"``, ``{.python}``), or None."""
    word = info.strip().lstrip("{").split(None, 1)[0] if info.strip().lstrip("{") else ""
    word = word.lstrip(".").rstrip("}").split(",")[0].lower()
    language = LANGUAGES.get(word)
    return (language, word) if language is not None else None


@functools.lru_cache(maxsize=256)
def _container(prefix: str) -> tuple[str, re.Pattern[str], re.Pattern[str], re.Pattern[str]]:
    """A fence line's containers, from what stands before the fence: the prefix a content line is
    written with (list markers as blanks), the pattern a content line starts with, the pattern of a
    blank line inside the containers, and the pattern of the blockquote markers alone."""
    written: list[str] = []
    full: list[str] = []
    quotes: list[str] = []
    at = 0
    while (marker := _MARKER.match(prefix, at)) is not None and marker.end() > at:
        text = marker.group()
        if ">" in text:
            lead = text[: text.index(">")]
            written.append(text)
            full.append(rf"[ ]{{0,{3 + len(lead)}}}> ?")
            quotes.append(r"[ \t]*> ?")
        else:
            written.append(" " * len(text))
            full.append(rf"[ \t]{{{len(text)}}}")
        at = marker.end()
    rest = prefix[at:]
    written.append(rest)
    full.append(rf"[ \t]{{{len(rest)}}}")
    quoted = "".join(quotes)
    return "".join(written), re.compile("".join(full)), re.compile(quoted + r"[ \t]*$"), re.compile(quoted)


def strip(line: str, prefix: str) -> str:
    """A content line without its containers' prefix (a blank line inside them: nothing)."""
    _, inside, blank, _ = _container(prefix)
    found = inside.match(line)
    if found is not None:
        return line[found.end():]
    return "" if blank.match(line) else line.lstrip(" \t")


def prefixed(line: str, prefix: str) -> str:
    """A new content line with its containers' prefix (a blank one keeps only a blockquote's ``>``)."""
    return prefix + line if line.strip() else prefix.rstrip(" \t") + line


def markdown_blocks(lines: list[str], start: int = 0, stop: int | None = None) -> list[Block]:
    """The fenced blocks of a Markdown/MDX/MyST text (``lines`` without their newlines), in order.

    A fence may stand in a blockquote (``> ```python``), in a list item (``1. ```python``, or indented
    under one), or both. Its content lines carry the same containers; a line that does not (a line
    without the ``>``, a line indented less than the fence) ends the containers, and with them a
    fence left open, as CommonMark reads it. A fence closes only on the same character repeated at
    least as often, so a fence inside a longer one (a Markdown example in a four-backtick block) is
    content, not a block. Fences inside an HTML comment (``<!-- … -->``) are not code: the page
    never shows them, and a commented-out example is often kept old on purpose.
    """
    blocks: list[Block] = []
    stop = len(lines) if stop is None else stop
    i = start
    while i < stop:
        line = lines[i]
        opened = line.lstrip(" \t>").startswith("<!--")
        if opened and "-->" not in line[line.find("<!--") + 4:]:
            i = next((j for j in range(i + 1, stop) if "-->" in lines[j]), stop) + 1
            continue
        match = _FENCE.match(line)
        if opened or match is None or (match.group(2)[0] == "`" and "`" in match.group(3)):
            i += 1
            continue
        prefix, fence, info = match.groups()
        written, inside, blank, quotes = _container(prefix)
        close = re.compile(rf"[ \t]*{re.escape(fence[0])}{{{len(fence)},}}[ \t]*$")
        end = i + 1
        closed = False
        seen: dict[str, int] = {}  # the prefix as most content lines write it (``> `` where the fence has ``>``)
        while end < stop:
            here = lines[end]
            quoted = quotes.match(here)
            if quoted is not None and close.match(here, quoted.end()) is not None:
                closed = True
                break
            content = inside.match(here)
            if content is None and blank.match(here) is None:
                break
            if content is not None and here[content.end():].strip():
                seen[content.group()] = seen.get(content.group(), 0) + 1
            end += 1
        blocks.extend(_fenced(lines, i, end, max(seen, key=lambda p: (seen[p], len(p))) if seen else written, info))
        i = end + 1 if closed else end
    return blocks


def _fenced(lines: list[str], opener: int, end: int, prefix: str, info: str) -> list[Block]:
    """The block(s) of one fence: itself, or for a MyST directive fence holding Markdown, its own fences."""
    directive = re.match(r"\s*\{([\w-]+)\}\s*(.*)", info)
    if directive is None:
        language, tag = language_of(info) or (None, info.strip())
        return [Block(language, tag, opener + 1, end, prefix)]
    name, argument = directive.group(1).lower(), directive.group(2)
    if name in _MYST_OPAQUE:
        return [Block(None, name, opener + 1, end, prefix)]
    if name not in _MYST_CODE:
        return markdown_blocks(lines, opener + 1, end)
    start = opener + 1
    if start < end and strip(lines[start], prefix).strip() == "---":  # options as YAML
        start = next((j + 1 for j in range(start + 1, end) if strip(lines[j], prefix).strip() == "---"), start)
    while start < end and _OPTION_LINE.match(strip(lines[start], prefix)):  # options as ``:key: value`` lines
        start += 1
    language, tag = language_of(argument) or (None, argument.strip())
    return [Block(language, tag, start, end, prefix)]


_DIRECTIVE = re.compile(r"^([ \t]*)\.\.[ \t]+(?:code-block|code|sourcecode)::[ \t]*(\S*)[ \t]*$")
_HIGHLIGHT = re.compile(r"^[ \t]*\.\.[ \t]+highlight::[ \t]*(\S+)")
_COMMENT = re.compile(r"^[ \t]*\.\.(?:[ \t]*$|[ \t]+(?![_\[|])(?!\S*::))")
"""An rST comment: ``..`` alone, or followed by text that is no directive, target, footnote or substitution."""
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
    """``.. code-block:: LANG`` / ``.. code:: LANG`` / ``.. sourcecode:: LANG`` bodies (after their
    ``:linenos:``-style options), and ``::`` literal blocks in the language of the last
    ``.. highlight::``. Without one, a literal block's language is unknown (Sphinx guesses, and
    may show it as plain text), so it is left as it is."""
    blocks: list[Block] = []
    highlight = ""
    i = 0
    while i < len(lines):
        line = lines[i]
        directive = _DIRECTIVE.match(line)
        lighted = _HIGHLIGHT.match(line)
        if lighted is not None:
            highlight = lighted.group(1).lower()
        if _COMMENT.match(line) is not None:  # a comment's indented body is no code, a commented-out directive neither
            empty = not line.strip(" \t.") and (i + 1 >= len(lines) or not lines[i + 1].strip())  # ends at a blank line
            found_body = None if empty else _body(lines, i + 1, _width(line))
            i = found_body[1] if found_body is not None else i + 1
            continue
        if directive is not None:
            j = i + 1
            while j < len(lines) and _OPTION.match(lines[j]) and _width(lines[j]) > _width(line):
                j += 1
            body = _body(lines, j, _width(line))
            found = language_of(directive.group(2) or highlight)
        elif line.rstrip().endswith("::") and not line.lstrip().startswith(".."):
            body = _body(lines, i + 1, _width(line))
            found = ("literal", highlight) if highlight else None
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


def dedent(lines: list[str], prefix: str) -> str:
    """The block's code: each line without the block's prefix (a blank line keeps nothing)."""
    return "".join(strip(line, prefix) + "\n" for line in lines)

