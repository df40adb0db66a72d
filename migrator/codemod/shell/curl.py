"""One curl command to ``…/chat/completions`` → ``…/responses``, its JSON body by the engine.

The same rule as the Python codemod's raw HTTP posts (report id ``http``): the URL's path becomes
``/responses`` and the literal body is translated by ``migrator.translate``; a removed key is
named in a ``# migrator:`` line above the command. A body the codemod cannot read (``@file``, a
variable, shell expansions where JSON needs a literal) leaves the command as it was, with a note,
since a new URL with the old body would fail.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from ...errors import MappingError
from ...mapping import translate
from ...mapping.context import child
from ...mapping.rules import TABLES
from .. import json_layout
from ..outcome import NOTE_PREFIX, Options, Outcome, Site
from .body import Body, of_heredoc, of_word
from .words import Command, Word, line_of, read_commands

RULE = "http"
CHAT_PATH = "/chat/completions"
RESPONSES_PATH = "/responses"
DATA_OPTIONS = frozenset({"-d", "--data", "--data-raw", "--data-binary", "--data-ascii", "--json"})
SKIPPED_WORDS = frozenset({"if", "then", "else", "elif", "do", "while", "until", "!", "time", "exec", "command", "sudo"})
STREAM_NOTE = ("`\"stream\": true`: the answer is now a stream of Responses events (the text is in "
               "`response.output_text.delta` events' `delta`), not `chat.completion.chunk` lines ending in `data: [DONE]`")
READS_NOTE = ("the answer's JSON changed shape: `.choices[0].message.content` is now the `output_text` parts of the "
              "`message` items of `.output` (`.output[] | select(.type == \"message\") | .content[] | "
              "select(.type == \"output_text\") | .text` in jq)")
JQ_TEXT_READ = ".choices[0].message.content"
JQ_OUTPUT_TEXT = '([.output[] | select(.type == "message") | .content[] | select(.type == "output_text") | .text] | join(""))'
"""jq's spelling of the SDK's ``Response.output_text``: REST JSON has no such field."""
_REQUEST = TABLES["chat.request"]
_FOLD = re.compile(r"[ \t\r\n]+")
"""What a note line folds: the shell's own line breaks, not every Unicode space (a key may be one)."""


@dataclass
class Edits:
    """Splices into one text, and the note lines to put above commands."""

    text: str
    make: bool = False
    spans: list[tuple[int, int, str]] = field(default_factory=list)
    notes: dict[int, list[str]] = field(default_factory=dict)  # anchor offset → messages
    sites: list[Site] = field(default_factory=list)

    def note(self, anchor: int, message: str) -> None:
        self.notes.setdefault(anchor, []).append(message)

    def apply(self) -> str:
        inserts = [(anchor, anchor, self._note_lines(anchor, messages)) for anchor, messages in self.notes.items()]
        out = self.text
        for start, end, new in sorted(self.spans + inserts, key=lambda s: (s[0], s[1]), reverse=True):
            out = out[:start] + new + out[end:]
        return out

    def _note_lines(self, anchor: int, messages: list[str]) -> str:
        indent = self.text[anchor:len(self.text) - len(self.text[anchor:].lstrip(" \t"))]
        above = self.text[:anchor].split("\n")[:-1]
        present: set[str] = set()
        for line in reversed(above):
            if not line.lstrip().startswith("#"):
                break
            present.add(line.strip())
        lines = []
        for message in dict.fromkeys(messages):
            text = f"{NOTE_PREFIX} {_FOLD.sub(' ', message).strip()}"
            text = text.replace("$", "$$") if self.make else text
            if text not in present:
                lines.append(indent + text + "\n")
        return "".join(lines)


def curl_at(command: Command, make: bool) -> int | None:
    """The index of the ``curl`` word when the command runs curl."""
    for i, word in enumerate(command.words):
        value = word.value.lstrip("@-+") if make and i == 0 else word.value
        if value == "curl":
            return i
        if value in SKIPPED_WORDS or ("=" in value and value.split("=", 1)[0].isidentifier()):
            continue
        return None
    return None


def _attached(word: Word) -> Word | None:
    """``-d'{…}'``: the short option written against its quoted value."""
    first = word.parts[0]
    if first.kind == "bare" and first.segments == ["-d"] and len(word.parts) > 1:
        return Word(word.parts[1:])
    return None


def _url_edit(word: Word, text: str) -> tuple[int, int, str] | None:
    if not word.value.endswith(CHAT_PATH):
        return None
    raw = text[word.start:word.end]
    at = raw.rfind(CHAT_PATH)
    if at < 0 or raw[at + len(CHAT_PATH):].strip("'\"") != "":
        return None
    start = word.start + at
    return start, start + len(CHAT_PATH), RESPONSES_PATH


def _gate(url: str, options: Options) -> tuple[str | None, str | None, list[str]]:
    """The Python rule's host gate: ``(host, why the site stays, what the report says of the host)``.

    A literal host that is not OpenAI's may have no Responses API (``--responses-host`` says it
    has); a URL built from variables is migrated, and the report names the host it must reach."""
    from ..clients import client_for_url, host_reasons  # libcst: loaded only once a site is found

    literal = "$" not in url and "`" not in url
    client = client_for_url(url if "://" in url else f"http://{url}", url) if literal else client_for_url(None, url)
    refused, reasons = host_reasons(client, options)
    return client.host, refused, reasons


def rewrite(command: Command, at: int, edits: Edits, options: Options) -> None:
    """Plan the edits of one curl command (nothing when it does not post to a chat URL)."""
    text = edits.text
    url: tuple[Word, tuple[int, int, str]] | None = None
    bodies: list[Word] = []
    words = command.words[at + 1:]
    for i, word in enumerate(words):
        value = word.value
        if value in DATA_OPTIONS and i + 1 < len(words):
            bodies.append(words[i + 1])
        elif (attached := _attached(word)) is not None:
            bodies.append(attached)
        elif not value.startswith("-") or (i > 0 and words[i - 1].value == "--url"):
            found = _url_edit(word, text)
            if found is not None and url is None:
                url = (word, found)
    if url is None:
        return
    curl = command.words[at]
    line = line_of(text, curl.start)
    column = curl.start - (text.rfind("\n", 0, curl.start) + 1)
    host, refused, host_notes = _gate(url[0].value, options)

    def leave(reason: str) -> None:
        edits.note(command.anchor, f"left as it was: {reason}")
        edits.sites.append(Site(line, column, RULE, "left for a person", "safe", (reason,), host))

    if refused is not None:
        leave(refused)
        return
    if len(bodies) != 1:
        leave("the command has no JSON body" if not bodies else "the command sends more than one `-d` body")
        return
    word = bodies[0]
    span: tuple[int, int]
    body: Body | str
    if word.value.startswith("@"):
        heredoc = command.heredocs[0] if word.value == "@-" and command.heredocs else None
        if heredoc is None:
            leave(f"the body is read from `{word.value[1:]}`: translate that file with `migrator translate --to responses`")
            return
        body, span = of_heredoc(heredoc, text, edits.make), (heredoc.start, heredoc.end)
    else:
        body, span = of_word(word, text, edits.make), (word.start, word.end)
    if isinstance(body, str):
        leave(body)
        return
    planned = plan(body, options)
    if isinstance(planned, str):
        leave(planned)
        return
    new_json, notes = planned
    edits.spans.append(url[1])
    if span[0] == word.start:
        edits.spans.append((span[0], span[1], _requoted(text[span[0]:span[1]], body.encode(new_json), body.style)))
    else:
        edits.spans.append((span[0], span[1], body.encode(new_json)))
    for message in notes:
        edits.note(command.anchor, message)
    edits.sites.append(Site(line, column, RULE, "migrated with notes" if notes else "migrated", "safe",
                            (*notes, *host_notes), host))


def _requoted(old: str, inner: str, style: str) -> str:
    if style == "double":
        return '"' + inner + '"'
    out = "'" + inner + "'"
    return out.removeprefix("''") if not old.startswith("''") else out


def plan(body: Body, options: Options) -> tuple[str, list[str]] | str:
    """The new JSON text and the notes, or why the body is left."""
    try:
        root = json_layout.parse(body.json)
    except json_layout.JsonError as exc:
        where = "a shell expansion stands where JSON needs a literal" if body.holes else f"{exc} at character {exc.pos}"
        return f"the body is not JSON ({where})"
    request = root.value
    if not isinstance(request, dict) or "messages" not in request:
        return "the body is not a chat request (no `messages`)"
    try:
        result = translate(request, to="responses", hoist_system=options.hoist_instructions)
    except MappingError as exc:
        return "the body is not a valid chat request: " + "; ".join(f"{p.path[2:]}: expected {p.expected}" for p in exc.problems)
    out: dict[str, Any] = result.body
    notes: list[str] = []
    members = {key: (raw + colon + body.json[node.start:node.end]) for key, raw, colon, node in root.members}
    noted: set[str] = set()
    paths = {child("$", key): key for key in request}
    for loss in result.losses:
        key = paths.get(loss.path)
        rule = _REQUEST.get(key) if key is not None else None
        if key is not None and (rule.to if rule is not None and rule.to else key).split(".")[0] not in out:
            notes.append(f"removed `{body.shown(members[key])}`: {loss.reason}")
        else:
            notes.append(f"{body.shown(loss.path.removeprefix('$.'))}: {loss.reason}")
        noted.update(k for p, k in paths.items() if loss.path == p or loss.path.startswith((p + ".", p + "[")))
    for key in request:
        rule = _REQUEST.get(key)
        if key in noted or rule is None:
            continue
        if (rule.to or key).split(".")[0] not in out:
            from ..call import why_lossless

            notes.append(f"removed `{body.shown(members[key])}`: {why_lossless(key, request[key])}")
    if request.get("stream") is True:
        notes.append(STREAM_NOTE)
    return json_layout.rewrite(body.json, root, out, json_layout.top_level(_REQUEST)), notes


def may_hold(text: str) -> bool:
    """Whether ``text`` can hold a site at all: a file without both words is not read."""
    return CHAT_PATH in text and "curl" in text


def migrate(edits: Edits, commands: list[Command], options: Options) -> None:
    for command in commands:
        at = curl_at(command, edits.make)
        if at is not None:
            rewrite(command, at, edits, options)
    _note_reads(edits, commands)


def _note_reads(edits: Edits, commands: list[Command]) -> None:
    """A migrated command's answer read as chat JSON in its own pipeline (``| jq '.choices…'``).

    ``jq '.choices[0].message.content'`` in single quotes becomes the join of the ``output_text``
    parts (REST has no ``output_text``); any other read of ``.choices`` gets a note."""
    done = {s.line for s in edits.sites if s.verdict != "left for a person"}
    if not done:
        return
    for command in commands:
        reads = [w for w in command.words if ".choices" in w.literal]
        start = command.words[0].start
        if not reads or not any(line_of(edits.text, command.anchor) <= line <= line_of(edits.text, start) for line in done):
            continue
        for word in reads:
            raw = edits.text[word.start:word.end]
            simple = command.words[0].value == "jq" and len(word.parts) == 1 and word.parts[0].kind == "single"
            if simple and raw.replace(JQ_TEXT_READ, "").find(".choices") < 0:
                at = raw.find(JQ_TEXT_READ)
                while at >= 0:
                    edits.spans.append((word.start + at, word.start + at + len(JQ_TEXT_READ), JQ_OUTPUT_TEXT))
                    at = raw.find(JQ_TEXT_READ, at + 1)
            else:
                edits.note(command.anchor, READS_NOTE)


def migrate_shell_block(text: str, options: Options) -> Outcome:
    """A docs code block of shell: a script, or a console session whose commands follow ``$ `` prompts."""
    edits = Edits(text)
    if not may_hold(text):
        return Outcome(text)
    lines = text.split("\n")
    if any(line.lstrip().startswith("$ ") for line in lines):
        commands = []
        offset = 0
        covered = 0
        for line in lines:
            stripped = line.lstrip()
            if offset >= covered and stripped.startswith("$ "):
                start = offset + len(line) - len(stripped) + 2
                found = read_commands(text, start, once=True)
                for command in found:
                    if command.anchor == start:
                        command.anchor = offset
                commands.extend(found)
                covered = max([start, *(w.end for c in found for w in c.words), *(d.end for c in found for d in c.heredocs)])
            offset += len(line) + 1
    else:
        commands = read_commands(text)
    migrate(edits, commands, options)
    return Outcome(edits.apply(), tuple(edits.sites))


def check(text: str, make: bool = False) -> tuple[int, int, str] | None:
    """Whether the quotes, expansions and heredocs of ``text`` close: the cheap stand-in for ``bash -n``."""
    from ..source import SourceError

    try:
        read_commands(text, make=make)
    except SourceError as exc:
        return exc.line, exc.column, exc.message
    return None

