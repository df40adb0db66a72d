"""What bench/corpus.py needs to read JavaScript/TypeScript, shell scripts and documents.

The Python side of the corpus check reads sources with ``ast`` and ``tokenize``; here each other
kind gets the same four answers, found without the codemod's own code (a check that used the
codemod's parser to judge the codemod would agree with it by construction):

* where a grep hit sits (code, string, comment, type position, code block of a language the codemod
  reads, another block, prose), so that only hits a correct codemod must report are expected;
* the lines of the statement (JS) or block (documents) around a hit, so a report may anchor a
  multi-line call at its first line;
* whether a text parses (tree-sitter, ``node --check`` for plain JavaScript, ``bash -n``);
* its comments, to tell a comment the rewrite lost.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
import textwrap
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

JS_SUFFIXES = {".js": "javascript", ".mjs": "javascript", ".cjs": "javascript", ".jsx": "javascript",
               ".ts": "typescript", ".mts": "typescript", ".cts": "typescript", ".tsx": "tsx"}
SHELL_SUFFIXES = frozenset((".sh", ".bash", ".zsh", ".mk"))
MAKEFILES = frozenset(("Makefile", "makefile", "GNUmakefile"))
DOC_SUFFIXES = frozenset((".md", ".mdx", ".markdown", ".rst"))
NODE_CHECKED = frozenset((".js", ".mjs", ".cjs"))

BLOCK_LANGUAGES = frozenset((
    "python", "py", "python3", "py3", "js", "javascript", "node", "nodejs", "jsx", "mjs", "cjs", "ts", "typescript",
    "mts", "cts", "tsx", "sh", "bash", "shell", "console", "curl", "zsh", "shell-session", "json", "jsonc",
))
"""Fenced-block languages issue #11 asks the docs codemod to migrate (Python, JS/TS, shell/cURL, JSON)."""

Spans = dict[int, list[tuple[int, int, str]]]


def kind_of(path: Path) -> str | None:
    """``py``, ``ipynb``, ``js``, ``shell`` or ``docs``; None for a file the corpus check does not read."""
    if path.suffix in (".py", ".ipynb"):
        return path.suffix[1:]
    if path.suffix in JS_SUFFIXES:
        return "js"
    if path.suffix in SHELL_SUFFIXES or path.name in MAKEFILES:
        return "shell"
    if path.suffix in DOC_SUFFIXES:
        return "docs"
    return None


def read_text(path: Path) -> str:
    return path.read_bytes().decode("utf-8", errors="replace")


# --------------------------------------------------------------------------- #
# JavaScript / TypeScript (tree-sitter)
# --------------------------------------------------------------------------- #


@cache
def _parser(grammar: str) -> Any:
    from tree_sitter import Language, Parser

    if grammar == "javascript":
        import tree_sitter_javascript

        return Parser(Language(tree_sitter_javascript.language()))
    import tree_sitter_typescript

    made = tree_sitter_typescript.language_tsx() if grammar == "tsx" else tree_sitter_typescript.language_typescript()
    return Parser(Language(made))


def js_tree(text: str, suffix: str) -> Any:
    return _parser(JS_SUFFIXES[suffix]).parse(text.encode("utf-8"))


TYPE_NODES = frozenset((
    "type_annotation", "type_alias_declaration", "interface_declaration", "type_arguments", "type_parameters",
    "import_statement", "ambient_declaration", "type_identifier", "nested_type_identifier",
))
"""Type positions and imports: a ``ChatCompletion…`` type or an ``openai/resources/chat/completions``
import is no call site (the JS codemod rewrites calls and reads; it does not retype)."""


def _walk(node: Any) -> Iterator[Any]:
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(reversed(current.children))


def _char_column(lines: list[bytes], row: int, byte_col: int) -> int:
    return len(lines[row][:byte_col].decode("utf-8", errors="replace")) if row < len(lines) else byte_col


def js_contexts(text: str, suffix: str) -> Spans | None:
    """Per 1-based line, the column spans of comments, strings and type positions; None: does not parse."""
    tree = js_tree(text, suffix)
    if tree.root_node.has_error:
        return None
    lines = text.encode("utf-8").split(b"\n")
    spans: Spans = {}

    def add(node: Any, kind: str) -> None:
        (r0, b0), (r1, b1) = node.start_point, node.end_point
        c0, c1 = _char_column(lines, r0, b0), _char_column(lines, r1, b1)
        for row in range(r0, r1 + 1):
            spans.setdefault(row + 1, []).append((c0 if row == r0 else 0, c1 if row == r1 else 1 << 30, kind))

    for node in _walk(tree.root_node):
        if node.type == "comment":
            add(node, "comment")
        elif node.type in ("string", "template_string"):
            add(node, "string")
        elif node.type in TYPE_NODES:
            add(node, "type")
    for items in spans.values():
        # the innermost span first: a string inside an import is a type position, a comment is a comment
        items.sort(key=lambda s: (s[2] not in ("comment",), s[2] != "type", s[1] - s[0]))
    return spans


STATEMENT_SUFFIXES = ("statement", "declaration", "definition", "declarator")


def js_statement_lines(text: str, suffix: str) -> dict[int, range]:
    """For each 1-based line, the lines of the smallest statement (or a compound statement's header) holding it."""
    tree = js_tree(text, suffix)
    spans: dict[int, range] = {}
    for node in _walk(tree.root_node):
        if not node.type.endswith(STATEMENT_SUFFIXES) and node.type != "pair":
            continue
        start, end = node.start_point[0] + 1, node.end_point[0] + 1
        body = node.child_by_field_name("body")
        if body is not None and body.start_point[0] + 1 > start:
            end = body.start_point[0] + 1
        elif body is not None:
            end = start
        span = range(start, end + 1)
        for line in span:
            if line not in spans or len(span) < len(spans[line]):
                spans[line] = span
    return spans


def js_held_lines(text: str, suffix: str) -> dict[int, set[int]]:
    """``const url = "…/chat/completions"``: the declaration's lines -> the statements that read the
    name, where a report anchors the post that sends to it."""
    tree = js_tree(text, suffix)
    data = text.encode("utf-8")
    statements = js_statement_lines(text, suffix)
    reads: dict[str, list[int]] = {}
    declared: list[tuple[str, int, int]] = []
    for node in _walk(tree.root_node):
        if node.type == "identifier":
            reads.setdefault(data[node.start_byte:node.end_byte].decode("utf-8", "replace"), []).append(node.start_point[0] + 1)
        elif node.type == "variable_declarator":
            name, value = node.child_by_field_name("name"), node.child_by_field_name("value")
            if name is not None and name.type == "identifier" and value is not None and value.type in ("string", "template_string"):
                declared.append((data[name.start_byte:name.end_byte].decode("utf-8", "replace"),
                                 node.start_point[0] + 1, node.end_point[0] + 1))
    out: dict[int, set[int]] = {}
    for name, first, last in declared:
        lines = {line for use in reads.get(name, []) if use > last for line in statements.get(use, range(use, use + 1))}
        for line in range(first, last + 1):
            out.setdefault(line, set()).update(lines)
    return out


def js_parses(text: str, suffix: str) -> bool:
    return not js_tree(text, suffix).root_node.has_error


def node_checks(text: str, suffix: str, where: Path) -> bool | None:
    """``node --check`` on the text saved beside its original (so package.json's "type" applies); None without node."""
    node = shutil.which("node")
    if node is None:
        return None
    with tempfile.NamedTemporaryFile("w", suffix=suffix, dir=where, prefix=".corpus-check-", encoding="utf-8",
                                     delete=False) as f:
        f.write(text)
    try:
        proc = subprocess.run([node, "--check", f.name], capture_output=True, timeout=60)
    finally:
        os.unlink(f.name)
    return proc.returncode == 0


def js_comments(text: str, suffix: str) -> dict[str, list[frozenset[str]]]:
    """Each comment -> for each time it occurs, the leaf tokens of the code before it on its line."""
    tree = js_tree(text, suffix)
    data = text.encode("utf-8")
    leaves_by_row: dict[int, list[tuple[int, str]]] = {}
    out: dict[str, list[frozenset[str]]] = {}
    comments = []
    for node in _walk(tree.root_node):
        if node.type == "comment":
            comments.append(node)
        elif node.child_count == 0 and node.start_point[0] == node.end_point[0]:
            leaves_by_row.setdefault(node.start_point[0], []).append(
                (node.start_point[1], data[node.start_byte:node.end_byte].decode("utf-8", "replace")))
    for node in comments:
        row, col = node.start_point
        before = frozenset(t for c, t in leaves_by_row.get(row, []) if c < col and t.strip() and t.isidentifier())
        out.setdefault(data[node.start_byte:node.end_byte].decode("utf-8", "replace"), []).append(before)
    return out


# --------------------------------------------------------------------------- #
# Shell
# --------------------------------------------------------------------------- #


def shell_comment_spans(text: str) -> Spans:
    """Per 1-based line, where a ``#`` comment runs (quotes followed across lines; a heredoc body is code)."""
    spans: Spans = {}
    quote = ""
    heredoc: str | None = None
    for number, line in enumerate(text.splitlines(), 1):
        if heredoc is not None:
            if line.strip("\t") == heredoc:
                heredoc = None
            continue
        i = 0
        while i < len(line):
            ch = line[i]
            if quote:
                if ch == "\\" and quote == '"':
                    i += 2
                    continue
                if ch == quote:
                    quote = ""
            elif ch == "\\":
                i += 2
                continue
            elif ch in "'\"":
                quote = ch
            elif ch == "#" and (i == 0 or line[i - 1] in " \t;|&(") and not line[i - 1:i + 1] == "$#":
                spans.setdefault(number, []).append((i, 1 << 30, "comment"))
                break
            elif line.startswith("<<", i) and not line.startswith("<<<", i):
                m = re.match(r"<<-?\s*(['\"]?)(\w+)\1", line[i:])
                if m:
                    heredoc = m.group(2)
            i += 1
    return spans


def shell_comments(text: str) -> dict[str, list[frozenset[str]]]:
    out: dict[str, list[frozenset[str]]] = {}
    lines = text.splitlines()
    for number, items in shell_comment_spans(text).items():
        for c0, _c1, _kind in items:
            line = lines[number - 1]
            out.setdefault(line[c0:].rstrip(), []).append(frozenset(re.findall(r"[\w./-]+", line[:c0])))
    return out


def bash_checks(text: str) -> bool:
    proc = subprocess.run(["bash", "-n"], input=text.encode("utf-8"), capture_output=True, timeout=60)
    return proc.returncode == 0


# --------------------------------------------------------------------------- #
# Documents
# --------------------------------------------------------------------------- #

_FENCE = re.compile(r"^[ \t>]*(`{3,}|~{3,})(.*)$")
_DIRECTIVE = re.compile(r"^([ \t]*)\.\.[ \t]+(?:code-block|code|sourcecode)::[ \t]*(\S*)")


def doc_blocks(text: str, rst: bool) -> list[tuple[int, int, str, bool]]:
    """``(first line, last line, info word, closed)`` of each code block, 1-based and inclusive of its
    fences/directive (an unclosed fence runs to the end of the text)."""
    lines = text.splitlines()
    blocks = []
    i = 0
    while i < len(lines):
        if rst:
            m = _DIRECTIVE.match(lines[i])
            if m is None:
                i += 1
                continue
            width = len(m.group(1))
            j = i + 1
            while j < len(lines) and (not lines[j].strip() or len(lines[j]) - len(lines[j].lstrip()) > width):
                j += 1
            blocks.append((i + 1, j, m.group(2).lower(), True))
            i = j
            continue
        fence = _FENCE.match(lines[i])
        if fence is None or (fence.group(1)[0] == "`" and "`" in fence.group(2)):
            i += 1
            continue
        mark = fence.group(1)
        close = re.compile(rf"^[ \t>]*{re.escape(mark[0])}{{{len(mark)},}}[ \t\r]*$")
        end = next((j for j in range(i + 1, len(lines)) if close.match(lines[j])), None)
        info = fence.group(2).strip().lstrip("{").split(None, 1)
        word = info[0].lstrip(".").rstrip("}").split(",")[0].lower() if info else ""
        blocks.append((i + 1, (len(lines) if end is None else end + 1), word, end is not None))
        i = len(lines) if end is None else end + 1
    return blocks


def doc_contexts(text: str, rst: bool) -> tuple[Spans, dict[int, range]]:
    """Each line inside a block is ``block`` (a language the codemod reads) or ``other block``; the rest is prose."""
    spans: Spans = {}
    ranges: dict[int, range] = {}
    for first, last, word, _closed in doc_blocks(text, rst):
        kind = "block" if word in BLOCK_LANGUAGES else "other block"
        for line in range(first, last + 1):
            spans[line] = [(0, 1 << 30, kind)]
            ranges[line] = range(first, last + 1)
    return spans, ranges


def fence_outline(text: str, rst: bool) -> list[tuple[str, bool]]:
    """The info words of the blocks in order, and whether each is closed: a rewrite keeps the
    document's block structure."""
    return [(word, closed) for _, _, word, closed in doc_blocks(text, rst)]


BLOCK_SUFFIXES = {"python": ".py", "py": ".py", "python3": ".py", "py3": ".py", "js": ".js", "javascript": ".js",
                  "node": ".js", "nodejs": ".js", "jsx": ".jsx", "mjs": ".mjs", "cjs": ".cjs", "ts": ".ts",
                  "typescript": ".ts", "mts": ".ts", "cts": ".ts", "tsx": ".tsx", "sh": ".sh", "bash": ".sh",
                  "shell": ".sh", "zsh": ".sh", "curl": ".sh", "console": ".sh", "shell-session": ".sh"}
"""The file kind whose comment reader reads a block of that language."""


def block_sources(text: str, rst: bool) -> Iterator[tuple[str, str]]:
    """``(suffix, dedented code)`` of each code block in a language with comments."""
    lines = text.splitlines()
    for first, last, word, closed in doc_blocks(text, rst):
        suffix = BLOCK_SUFFIXES.get(word)
        if suffix is None:
            continue
        body = lines[first:last - 1] if closed and not rst else lines[first:last]
        yield suffix, textwrap.dedent("\n".join(line.lstrip(">") if line.lstrip().startswith(">") else line
                                                for line in body)) + "\n"
