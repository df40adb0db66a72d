"""One document's code blocks, each migrated by its own language's rules; the prose only reported.

Markdown and reStructuredText differ only in how their blocks are found (blocks.py); what happens
to a block is the same: Python through the libcst transformer, JavaScript/TypeScript and shell
through their modules (imported on first use; a build without one leaves such blocks as they
are), JSON through the engine (json_block.py). A block that its language cannot read is that
block's note in the report, never the document's error. Only the changed lines of a block are
written anew, so the rest of the document stays byte for byte.
"""

from __future__ import annotations

import bisect
import difflib
import importlib
import json
import re
from collections.abc import Callable
from dataclasses import replace

from ...mapping.rules import TABLES, targets
from ..finder import SITE_TEXT
from ..outcome import Options, Outcome, Site, TooDeep, Verdict
from ..source import SourceError
from .blocks import Block, dedent, language_of, prefixed, strip
from .json_block import migrate_json

BlockTransform = Callable[[str, Options], Outcome]

_SUFFIX = {"javascript": "js", "typescript": "ts", "tsx": "tsx"}
"""The name a JS/TS block is passed under (the module picks the grammar; the suffix only names it)."""
_MODULES = {"shell": ".shell.curl", "javascript": ".js.javascript", "typescript": ".js.typescript", "tsx": ".js.tsx"}

(_TEXT,) = targets(TABLES["chat.completion_message"], "content")
_MENTIONS = re.compile(
    r"""choices?\[\d+\]\.(?:message|delta)(?:\.content)?|\[["']choices["']\]\[\d+\]\[["'](?:message|delta)["']\]"""
    r"""|(?:beta\.)?chat\.completions\.(?:create|parse|stream)|(?:/v1)?/chat/completions""", re.IGNORECASE)
MENTION = ("the prose names `{name}`, a Chat Completions name (a Response's text is `{text}`, its endpoint "
           "`/v1/responses`); prose is not edited: reword it by hand")


def _module_transform(language: str) -> BlockTransform | None:
    """The transform of a language whose module may not be in this build (None then)."""
    try:
        module = importlib.import_module(_MODULES[language], "migrator.codemod")
    except ModuleNotFoundError:
        return None
    if language == "shell":
        shell: BlockTransform = module.migrate_shell_block
        return shell

    def run(code: str, options: Options) -> Outcome:
        outcome: Outcome = module.transform(code, options, f"block.{_SUFFIX[language]}")
        return outcome

    return run


def _literal_language(code: str, highlight: str) -> str | None:
    """An rST ``::`` block's language: JSON or a shell command when its text is one, else the highlight's."""
    stripped = code.lstrip()
    if stripped[:1] in "{[":
        try:
            json.loads(code)
            return "json"
        except ValueError:
            pass
    if re.match(r"(?:\$\s+)?curl\b", stripped):
        return "shell"
    found = language_of(highlight)
    return found[0] if found is not None else None


def _migrate(block: Block, code: str, options: Options) -> tuple[str, list[Site]]:
    """The block's new code and its sites (lines within the block); the code unchanged when left."""
    language = block.language
    if language in ("json", "jsonc"):
        return _json(block, code, options)
    if language is None or language == "python" or SITE_TEXT.search(code) is None:
        return code, []
    fn = _module_transform(language)
    if fn is None:
        return code, []
    try:
        outcome = fn(code, options)
    except (SourceError, TooDeep) as exc:
        line, column = (exc.line, exc.column) if isinstance(exc, SourceError) else (1, 0)
        return code, [_unread(block, line, column, exc.message if isinstance(exc, SourceError) else str(exc))]
    return outcome.code, list(outcome.sites)


def _unread(block: Block, line: int, column: int, why: str) -> Site:
    return Site(line, column, "docs-block-unparsed", "left for a person", "display",
                (f"this {block.tag or block.language} block is left as it is: {why}",))


_IMPORTS_OPENAI = re.compile(r"^[ \t]*(?:import[ \t]+openai\b|from[ \t]+openai\b)", re.MULTILINE)


PROGRAM_LINES = 1000
"""A page's Python blocks are one program (a client made in any earlier block is traced) until it
reaches this many lines; then the next block that imports ``openai`` starts a new one."""


def _programs(blocks: list[tuple[Block, str]]) -> list[list[tuple[int, str]]]:
    """The page's Python blocks as programs, ``(number, code)`` each. One program per page keeps
    every earlier client in reach (a page often sets ``openai = OpenAI()`` once, then shows an
    alternative setup, then calls the first); but tracing a site through a whole 1 MB page is
    quadratic in its size, so a long page is cut where a block imports ``openai`` anew."""
    programs: list[list[tuple[int, str]]] = []
    lines = 0
    for n, (_, code) in enumerate(blocks):
        if not programs or (lines >= PROGRAM_LINES and _IMPORTS_OPENAI.search(code)):
            programs.append([])
            lines = 0
        programs[-1].append((n, code))
        lines += code.count("\n") + 1
    return [program for program in programs if any(SITE_TEXT.search(code) for _, code in program)]


def _python_blocks(blocks: list[tuple[Block, str]], options: Options) -> dict[int, tuple[str, list[Site]]]:
    """The page's Python blocks, each program's as one module (a client made in one block is traced
    into the next, as in a notebook's cells): each block's new code and sites, by its number in ``blocks``."""
    if not any(SITE_TEXT.search(code) for _, code in blocks):
        return {}
    from ..notebook import transform_cells
    from ..transform import transform_code

    out: dict[int, tuple[str, list[Site]]] = {n: (code, []) for n, (_, code) in enumerate(blocks)}
    for program in _programs(blocks):
        try:
            result = transform_cells(program, options, transform_code)
        except TooDeep as exc:
            for n, code in program:
                if SITE_TEXT.search(code):
                    out[n][1].append(_unread(blocks[n][0], 1, 0, str(exc)))
            continue
        for n, code in result.sources.items():
            out[n] = (code, out[n][1])
        for site, n in result.sites:
            out[n][1].append(site)
        for error in result.errors:
            block, code = blocks[error.cell]
            if SITE_TEXT.search(code):
                out[error.cell][1].append(_unread(block, error.line, error.column, error.message.replace("cell ", "it ", 1)))
    return out


def _json(block: Block, code: str, options: Options) -> tuple[str, list[Site]]:
    jsonc = block.tag == "jsonc"
    comments = jsonc and re.search(r"^[ \t]*//", code, re.MULTILINE) is not None
    result = migrate_json(code, options.hoist_instructions) if not comments else migrate_json(
        re.sub(r"^[ \t]*//.*\n", "", code, flags=re.MULTILINE), options.hoist_instructions)
    if not result.rule:
        return code, []
    line = len(code) - len(code.lstrip("\n"))
    if result.left or result.text is None:
        return code, [Site(line + 1, 0, result.rule, "left for a person", "display", result.reasons)]
    if comments:
        why = "its comments have no place in the translated body; translate it by hand (`migrator translate --to responses`)"
        return code, [Site(line + 1, 0, result.rule, "left for a person", "display", (why, *result.reasons))]
    new = result.text
    if jsonc and result.reasons:
        indent = re.match(r"[ \t]*", code.lstrip("\n"))
        lead = indent.group() if indent else ""
        new = code[:line] + "".join(f"{lead}// migrator: {' '.join(r.split())}\n" for r in result.reasons) + new[line:]
    verdict: Verdict = "migrated with notes" if result.reasons else "migrated"
    return new, [Site(line + 1, 0, result.rule, verdict, "safe", result.reasons)]


def _prose_sites(text: str, lines: list[str], code_lines: set[int]) -> list[Site]:
    sites: list[Site] = []
    if _MENTIONS.search(text) is None:  # most pages: one scan, not one per line
        return sites
    for n, line in enumerate(lines):
        if n in code_lines:
            continue
        names = list(dict.fromkeys(m.group() for m in _MENTIONS.finditer(line)))
        if names:
            column = _MENTIONS.search(line).start()  # type: ignore[union-attr]
            sites.append(Site(n + 1, column, "docs-prose-mention", "left for a person", "display",
                              tuple(MENTION.format(name=name, text=_TEXT) for name in names)))
    return sites


def _splice(old: list[str], new_code: str, indent: str) -> list[str]:
    """The block's new lines: unchanged ones as they were written, changed ones with the block's prefix."""
    new = new_code.split("\n")
    if new and new[-1] == "":
        new.pop()
    out: list[str] = []
    for kept, i1, i2, j1, j2 in _align([strip(line, indent) for line in old], new, 0, len(old), 0, len(new)):
        out.extend(old[i1:i2] if kept else (prefixed(line, indent) for line in new[j1:j2]))
    return out


_SMALL = 250_000
"""Above this many line pairs, difflib's matcher (quadratic in the worst case, and near it on JSON
whose lines repeat) is only run between lines that occur once on each side."""


def _align(a: list[str], b: list[str], i1: int, i2: int, j1: int, j2: int,
           depth: int = 0) -> list[tuple[bool, int, int, int, int]]:
    """``a[i1:i2]`` against ``b[j1:j2]``: runs ``(kept, i1, i2, j1, j2)``, kept runs equal line for line."""
    runs: list[tuple[bool, int, int, int, int]] = []
    head = 0
    while i1 + head < i2 and j1 + head < j2 and a[i1 + head] == b[j1 + head]:
        head += 1
    tail = 0
    while i2 - tail > i1 + head and j2 - tail > j1 + head and a[i2 - tail - 1] == b[j2 - tail - 1]:
        tail += 1
    if head:
        runs.append((True, i1, i1 + head, j1, j1 + head))
    lo, hi, blo, bhi = i1 + head, i2 - tail, j1 + head, j2 - tail
    if (hi - lo) * (bhi - blo) <= _SMALL:
        matcher = difflib.SequenceMatcher(None, a[lo:hi], b[blo:bhi], autojunk=False)
        runs.extend((tag == "equal", lo + x1, lo + x2, blo + y1, blo + y2) for tag, x1, x2, y1, y2 in matcher.get_opcodes())
    else:
        anchors = _unique_anchors(a, b, lo, hi, blo, bhi) if depth < 4 else []
        at, bt = lo, blo
        for x, y in anchors:
            runs.extend(_align(a, b, at, x, bt, y, depth + 1))
            runs.append((True, x, x + 1, y, y + 1))
            at, bt = x + 1, y + 1
        if at < hi or bt < bhi:
            runs.extend(_align(a, b, at, hi, bt, bhi, depth + 1) if anchors else [(False, at, hi, bt, bhi)])
    if tail:
        runs.append((True, i2 - tail, i2, j2 - tail, j2))
    return [run for run in runs if run[1] < run[2] or run[3] < run[4]]


def _unique_anchors(a: list[str], b: list[str], lo: int, hi: int, blo: int, bhi: int) -> list[tuple[int, int]]:
    """The lines found once in ``a[lo:hi]`` and once in ``b[blo:bhi]``, as the longest run of them in
    the same order on both sides (patience diff's anchors)."""
    seen_a: dict[str, int] = {}
    for x in range(lo, hi):
        seen_a[a[x]] = -1 if a[x] in seen_a else x
    seen_b: dict[str, int] = {}
    for y in range(blo, bhi):
        seen_b[b[y]] = -1 if b[y] in seen_b else y
    pairs = [(x, seen_b[line]) for line, x in seen_a.items() if x >= 0 and seen_b.get(line, -1) >= 0]
    pairs.sort()
    tops: list[int] = []  # the smallest last y of an increasing run of each length
    links: list[int] = []  # each pair's predecessor in its run
    ends: list[int] = []  # the pair that ends the run of each length
    for k, (_, y) in enumerate(pairs):
        at = bisect.bisect_left(tops, y)
        links.append(ends[at - 1] if at else -1)
        if at == len(tops):
            tops.append(y)
            ends.append(k)
        else:
            tops[at], ends[at] = y, k
    chain: list[tuple[int, int]] = []
    k = ends[-1] if ends else -1
    while k >= 0:
        chain.append(pairs[k])
        k = links[k]
    return chain[::-1]


def transform_document(text: str, options: Options, blocks: list[Block]) -> Outcome:
    lines = text.split("\n")
    sites: list[Site] = []
    code_lines: set[int] = set()
    edits: list[tuple[int, int, list[str]]] = []
    read: list[tuple[Block, str]] = []
    for block in blocks:
        code_lines.update(range(block.start - 1, block.end + 1))  # with the fences
        if block.language is not None:
            code = dedent(lines[block.start:block.end], block.indent)
            if block.language == "literal":
                block = replace(block, language=_literal_language(code, block.tag))
            read.append((block, code))
    python = {n: k for k, n in enumerate(n for n, (block, _) in enumerate(read) if block.language == "python")}
    migrated = _python_blocks([read[n] for n in python], options)
    for n, (block, code) in enumerate(read):
        old = lines[block.start:block.end]
        if n in python:
            new_code, block_sites = migrated.get(python[n], (code, []))
        else:
            new_code, block_sites = _migrate(block, code, options)
        sites.extend(replace(site, line=site.line + block.start, column=site.column + len(block.indent))
                     for site in block_sites)
        if new_code != code:
            edits.append((block.start, block.end, _splice(old, new_code, block.indent)))
    sites.extend(_prose_sites(text, lines, code_lines))
    for start, end, new_lines in reversed(edits):
        lines[start:end] = new_lines
    sites.sort(key=lambda site: (site.line, site.column))
    return Outcome("\n".join(lines), tuple(sites))


def check(text: str) -> tuple[int, int, str] | None:
    """A document always reads (its code blocks are checked by their own languages when migrated)."""
    return None
