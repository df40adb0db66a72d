"""One JavaScript/TypeScript file: parse, decide each chat call, splice the edits and the notes."""

from __future__ import annotations

from tree_sitter import Node

from ..outcome import NOTE_PREFIX, Options, Outcome, Site
from ..source import SourceError
from .clients import find_clients
from .display import Display
from .grammar import Grammar, check, first_error, index, parse
from .http import decide_http, http_kind
from .sites import Decision, chat_call, decide, left, statement_of
from .splices import Edit, above_directives, apply, indent_at, line_start
from .together import Member, unmatched
from .zod import find_zod, import_edits

COMMENT = "//" + NOTE_PREFIX.removeprefix("#")
"""``// migrator:``: the Python codemod's note, in JavaScript's comment."""


def note_line(message: str) -> str:
    return f"{COMMENT} {' '.join(message.split())}"


def transform(text: str, options: Options, path: str, grammar: Grammar) -> Outcome:
    data = text.encode("utf-8")
    root = parse(data, grammar).root_node
    bad = first_error(root)
    if bad is not None:
        line, column, message = check(text, grammar) or (bad.start_point[0] + 1, bad.start_point[1], "does not parse")
        raise SourceError(f"not valid {grammar}: {message}", line, column)
    nodes = index(root, grammar)
    clients = find_clients(nodes)
    zod = find_zod(nodes)
    edits: list[Edit] = []
    notes: dict[int, list[str]] = {}
    sites: list[Site] = []
    display = Display()
    decided: list[tuple[Node, str, Decision]] = []
    for node in nodes.get("call_expression", []):
        found = chat_call(node)
        kind = http_kind(node) if found is None else None
        shown = None
        if found is not None:
            decision = decide(found, clients, options, data, zod)
        elif kind is not None:
            decision = decide_http(node, kind, options, data)
        elif (shown := display.call(node)) is not None:
            decision = shown.decision()
        else:
            continue
        if decision is None:
            continue
        rule = found.method if found is not None else shown.rule if shown is not None else "http"
        decided.append((node, rule, decision))
    partners = unmatched([Member(node.start_byte, decision.verdict, decision.shared.together) for node, _, decision in decided])
    for node, rule, decision in decided:
        if node.start_byte in partners:
            decision = left([partners[node.start_byte]], host=decision.host)
        statement = statement_of(node)
        if decision.verdict == "left for a person" and not decision.note:
            pass
        elif decision.verdict == "left for a person":
            notes.setdefault(statement.start_byte, []).extend(decision.reasons)
        else:
            edits.extend(decision.edits)
            zod.migrated.update(decision.zod)
            notes.setdefault(statement.start_byte, []).extend(decision.notes)
        row, column = node.start_point
        sites.append(Site(row + 1, column, rule, decision.verdict, decision.applicability, tuple(decision.reasons), decision.host))
    if clients.imports_openai:  # a hand-built ChatCompletion: noted only beside calls or mocks of the API, as in Python
        noted = any(site.rule not in ("url", "fixture") for site in sites)
        for shown in display.fixtures(root, data, grammar, noted):
            if shown.note:
                notes.setdefault(statement_of(shown.node).start_byte, []).append(shown.reason)
            row, column = shown.node.start_point
            sites.append(Site(row + 1, column, shown.rule, "left for a person", "display", (shown.reason,)))
        sites.sort(key=lambda site: (site.line, site.column))
    edits.extend(import_edits(zod))
    for start, messages in notes.items():
        _note(data, start, messages, edits)
    if not edits:
        return Outcome(text, tuple(sites))
    edits = list(dict.fromkeys(edits))  # calls migrated together make the same edits to what they share
    return Outcome(apply(data, edits).decode("utf-8"), tuple(sites))


def _note(data: bytes, start: int, messages: list[str], edits: list[Edit]) -> None:
    """The notes the statement at ``start`` does not carry yet, on their own lines above it."""
    first = line_start(data, start)
    present: set[str] = set()
    above = first
    while above > 0:
        prior = line_start(data, above - 1)
        line = data[prior:above].decode("utf-8").strip()
        if not line.startswith("//"):
            break
        present.add(line)
        above = prior
    indent = indent_at(data, start)
    lines = [note_line(m) for m in dict.fromkeys(messages)]
    text = "".join(f"{indent}{line}\n" for line in lines if line not in present)
    if text:
        at = above_directives(data, first)
        edits.append((at, at, text))


