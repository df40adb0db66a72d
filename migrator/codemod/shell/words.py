"""Shell words with their offsets: enough of POSIX quoting to splice edits into a command.

shlex gives the words but not where they are, and an edit must rewrite only the changed span.
This reads quotes (``'…'``, ``"…"``, ``$'…'``), backslash escapes and continuations, expansions
(``$X``, ``${…}``, ``$(…)``, backquotes), comments and heredocs; commands inside ``$(…)`` are read
too (``r=$(curl …)``). It is not a shell parser: keywords and redirections are plain words, which
is all a look for ``curl`` needs. In a Makefile recipe (``make=True``) ``$$`` is the shell's ``$``
and ``$(…)``/``${…}`` are make's own expansions, read even inside single quotes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..source import SourceError

OPERATORS = frozenset(";&|()")
_PLAIN = re.compile(r"[^\s;&|()<>'\"\\$`]+")
_PLAIN_DOUBLE = re.compile(r'[^"\\$`]+')
_PLAIN_SINGLE = re.compile(r"[^'\\$]+")
_SPACES = re.compile(r"[ \t]+")


@dataclass(frozen=True)
class Expansion:
    source: str  # as written, ``$MODEL`` or ``$(BASE)``


Segment = str | Expansion


@dataclass
class Part:
    kind: str  # "bare", "single", "double", "ansi"
    start: int
    end: int
    segments: list[Segment] = field(default_factory=list)


@dataclass
class Word:
    parts: list[Part]

    @property
    def start(self) -> int:
        return self.parts[0].start

    @property
    def end(self) -> int:
        return self.parts[-1].end

    @property
    def value(self) -> str:
        """The word as the shell sees it, expansions left as written."""
        return "".join(s if isinstance(s, str) else s.source for p in self.parts for s in p.segments)

    @property
    def literal(self) -> str:
        """The word's own text, without what its expansions hold (an ``$(…)``'s commands are read on their own)."""
        return "".join(s for p in self.parts for s in p.segments if isinstance(s, str))


@dataclass
class Heredoc:
    delimiter: str
    quoted: bool
    strip_tabs: bool
    start: int = 0  # the body's first character
    end: int = 0  # the start of the delimiter line


@dataclass
class Command:
    words: list[Word]
    anchor: int
    """Where the logical line holding the command starts: a note line goes there."""
    heredocs: list[Heredoc] = field(default_factory=list)


def line_of(text: str, pos: int) -> int:
    return text.count("\n", 0, pos) + 1


class Reader:
    def __init__(self, text: str, make: bool = False) -> None:
        self.text = text
        self.make = make
        self.i = 0
        self.commands: list[Command] = []
        self.anchor = 0
        self.pending: list[Heredoc] = []

    def fail(self, message: str, pos: int) -> SourceError:
        line = line_of(self.text, pos)
        return SourceError(message, line, pos - (self.text.rfind("\n", 0, pos) + 1))

    def read(self, end: int | None = None, closer: str | None = None, once: bool = False) -> int:
        """Read commands up to ``end``, or to the ``closer`` of a ``$(`` (returns its offset)."""
        text = self.text
        stop = len(text) if end is None else end
        words: list[Word] = []
        heredocs: list[Heredoc] = []
        top = closer is None

        def finish() -> None:
            nonlocal words, heredocs
            if words:
                self.commands.append(Command(words, self.anchor if top else anchor_of_nested, heredocs))
            words, heredocs = [], []

        anchor_of_nested = self.anchor
        while self.i < stop:
            c = text[self.i]
            if c in " \t":
                self.i = _SPACES.match(text, self.i).end()  # type: ignore[union-attr]
            elif c == "\\" and text.startswith("\n", self.i + 1):
                self.i += 2
            elif c == "\n":
                self.i += 1
                finish()
                self._bodies()
                if top:
                    self.anchor = self.i
                    if once:
                        return self.i
            elif c == "#":
                nl = text.find("\n", self.i)
                self.i = stop if nl < 0 or nl > stop else nl
            elif closer is not None and c == closer:
                finish()
                return self.i
            elif c in OPERATORS:
                self.i += 1
                finish()
            elif text.startswith("<<", self.i) and not text.startswith("<<<", self.i):
                heredocs.append(self._heredoc_operator())
            elif c in "<>":
                self.i += 3 if text.startswith("<<<", self.i) else 1  # a here-string is a word, not a heredoc
            else:
                words.append(self._word())
        finish()
        if closer is not None:
            raise self.fail(f"`{closer}` expected before the end", self.i)
        return self.i

    def _heredoc_operator(self) -> Heredoc:
        self.i += 2
        strip = self.text.startswith("-", self.i)
        if strip:
            self.i += 1
        while self.i < len(self.text) and self.text[self.i] in " \t":
            self.i += 1
        word = self._word()
        quoted = any(p.kind != "bare" for p in word.parts) or "\\" in self.text[word.start:word.end]
        doc = Heredoc(word.value, quoted, strip)
        self.pending.append(doc)
        return doc

    def _bodies(self) -> None:
        """The heredoc bodies that start after the newline just read."""
        text = self.text
        for doc in self.pending:
            doc.start = self.i
            while True:
                if self.i >= len(text):
                    raise self.fail(f"heredoc `{doc.delimiter}` is never closed", doc.start)
                nl = text.find("\n", self.i)
                line_end = len(text) if nl < 0 else nl
                line = text[self.i:line_end]
                if (line.lstrip("\t") if doc.strip_tabs else line) == doc.delimiter:
                    doc.end = self.i
                    self.i = line_end + (nl >= 0)
                    break
                self.i = line_end + 1
        self.pending = []

    def _word(self) -> Word:
        text = self.text
        parts: list[Part] = []
        bare: Part | None = None
        while self.i < len(text):
            c = text[self.i]
            if c in " \t\n" or c in OPERATORS or c in "<>":
                break
            if c == "'":
                bare = None
                parts.append(self._single(self.i + 1, "single"))
            elif c == '"':
                bare = None
                parts.append(self._double())
            elif c == "$" and text.startswith("'", self.i + 1) and not self.make:
                bare = None
                parts.append(self._single(self.i + 2, "ansi"))
            else:
                if bare is None:
                    bare = Part("bare", self.i, self.i)
                    parts.append(bare)
                if c == "\\":
                    if text.startswith("\n", self.i + 1):
                        self.i += 2
                    else:
                        bare.segments.append(text[self.i + 1:self.i + 2])
                        self.i += 2
                elif c == "$" or c == "`":
                    bare.segments.append(self._expansion())
                else:
                    self._run(_PLAIN, bare.segments)
                bare.end = self.i
        return Word(parts)

    def _run(self, plain: re.Pattern[str], segments: list[Segment]) -> None:
        """Characters with no meaning in this quoting, read at once (at least the one at ``i``)."""
        run = plain.match(self.text, self.i)
        end = run.end() if run is not None else self.i + 1
        segments.append(self.text[self.i:end])
        self.i = end

    def _single(self, body: int, kind: str) -> Part:
        text = self.text
        start = self.i
        self.i = body
        segments: list[Segment] = []
        while True:
            if self.i >= len(text):
                raise self.fail("a quote is never closed", start)
            c = text[self.i]
            if c == "'":
                self.i += 1
                return Part(kind, start, self.i, segments)
            if kind == "ansi" and c == "\\":
                segments.append(text[self.i:self.i + 2])
                self.i += 2
            elif self.make and c == "$" and text.startswith(("$(", "${"), self.i):
                segments.append(self._expansion())
            elif self.make and text.startswith("$$", self.i):
                segments.append("$")
                self.i += 2
            else:
                self._run(_PLAIN_SINGLE, segments)

    def _double(self) -> Part:
        text = self.text
        start = self.i
        self.i += 1
        segments: list[Segment] = []
        while True:
            if self.i >= len(text):
                raise self.fail("a quote is never closed", start)
            c = text[self.i]
            if c == '"':
                self.i += 1
                return Part("double", start, self.i, segments)
            if c == "\\":
                nxt = text[self.i + 1:self.i + 2]
                if nxt == "\n":
                    pass
                elif nxt in '$`"\\':
                    segments.append(nxt)
                else:
                    segments.append("\\" + nxt)
                self.i += 2
            elif c in "$`":
                segments.append(self._expansion())
            else:
                self._run(_PLAIN_DOUBLE, segments)

    def _expansion(self) -> Segment:
        """``$X``, ``${…}``, ``$(…)`` (its commands read as well), a backquote, or a lone ``$``."""
        text = self.text
        start = self.i
        if self.make:
            if text.startswith("$$", start):
                self.i += 2
                return self._shell_expansion(start, self.i) or "$"
            if text.startswith(("$(", "${"), start):
                self._balanced(start + 2, ")" if text[start + 1] == "(" else "}")
                return Expansion(text[start:self.i])
            self.i += 2  # ``$X``: a one-letter make variable
            return Expansion(text[start:self.i])
        self.i += 1
        return self._shell_expansion(start, self.i) or "$"

    def _shell_expansion(self, start: int, after: int) -> Segment | None:
        text = self.text
        if text[start] == "`":
            end = after
            while end < len(text) and text[end] != "`":
                end += 2 if text[end] == "\\" else 1  # ``\``` is a backquote of the inner command
            if end >= len(text):
                raise self.fail("a backquote is never closed", start)
            self.i = end + 1
            return Expansion(text[start:self.i])
        if text.startswith("((", after):
            self._balanced(after + 2, ")")
            self.i += 1 if text.startswith(")", self.i) else 0
            return Expansion(text[start:self.i])
        if text.startswith("(", after):
            self.i = after + 1
            self.read(closer=")")
            self.i += 1
            return Expansion(text[start:self.i])
        if text.startswith("{", after):
            self.i = self._braced(start, after + 1)
            return Expansion(text[start:self.i])
        j = after
        while j < len(text) and (text[j].isalnum() or text[j] == "_"):
            j += 1
        if j == after and j < len(text) and text[j] in "@*#?$!-0123456789":
            j += 1
        if j == after:
            return None
        self.i = j
        return Expansion(text[start:j])

    def _braced(self, start: int, j: int) -> int:
        """Past the ``}`` of a ``${…}`` that may hold quotes and other ``${…}`` (``${a="${b}/x"}``)."""
        text = self.text
        depth = 1
        while j < len(text):
            c = text[j]
            if c == "\\":
                j += 1
            elif c == "'" or c == '"':
                j += 1
                while j < len(text) and text[j] != c:
                    j += 2 if c == '"' and text[j] == "\\" else 1
            elif c == "{":
                depth += 1
            elif c == "}":
                depth -= 1
                if depth == 0:
                    return j + 1
            j += 1
        raise self.fail("`${` is never closed", start)

    def _balanced(self, pos: int, close: str) -> None:
        """Past the ``close`` that ends a make expansion or arithmetic, nested pairs counted."""
        opener = "(" if close == ")" else "{"
        depth = 1
        j = pos
        while j < len(self.text):
            if self.text[j] == opener:
                depth += 1
            elif self.text[j] == close:
                depth -= 1
                if depth == 0:
                    self.i = j + 1
                    return
            j += 1
        raise self.fail(f"`{close}` expected before the end", pos)


def read_commands(text: str, start: int = 0, end: int | None = None, make: bool = False, once: bool = False) -> list[Command]:
    reader = Reader(text, make)
    reader.i = reader.anchor = start
    reader.read(end, once=once)
    return reader.commands
