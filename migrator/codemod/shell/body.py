"""The JSON text a curl body carries, and the same body written back in its own quoting.

Shell expansions inside the JSON (``"$MODEL"``, ``'"$MODEL"'``, make's ``$(MODEL)``) become
placeholder strings that pass through the engine unchanged and are put back as written.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .words import Expansion, Heredoc, Part, Reader, Segment, Word

HOLE = "__MIGRATOR_SH_{}__"


@dataclass
class Body:
    json: str  # the JSON text, holes for expansions
    style: str  # "single", "double", "heredoc", "quoted-heredoc"
    holes: dict[str, str] = field(default_factory=dict)  # placeholder → what goes back in its place
    make: bool = False

    def add(self, back: str) -> str:
        name = HOLE.format(len(self.holes))
        self.holes[name] = back
        return name

    def shown(self, text: str) -> str:
        """``text`` with the expansions as written (for a note)."""
        for name, back in self.holes.items():
            text = text.replace(name, back.strip("'"))
        return text

    def encode(self, text: str) -> str:
        if self.style == "single":
            out = text.replace("'", "'\\''")
            out = out.replace("$", "$$") if self.make else out
        elif self.style == "double":
            out = _escape(text, '$`"\\', self.make)
        elif self.style == "heredoc":
            out = _escape(text, "$`\\", self.make)
        else:
            out = text
        for name, back in self.holes.items():
            out = out.replace(name, back)
        return out


def _escape(text: str, special: str, make: bool) -> str:
    """Backslashes only where the shell would read one (``\\n`` in JSON stays ``\\n``)."""
    out: list[str] = []
    for i, c in enumerate(text):
        if c == "\\":
            nxt = text[i + 1:i + 2]
            out.append("\\\\" if nxt in special or nxt in ("", "\n") else "\\")
        elif c in special:
            out.append("\\$$" if c == "$" and make else "\\" + c)
        else:
            out.append(c)
    return "".join(out)


def _only_expansion(part: Part) -> Expansion | None:
    if len(part.segments) == 1 and isinstance(part.segments[0], Expansion):
        return part.segments[0]
    return None


def of_word(word: Word, source: str, make: bool) -> Body | str:
    """The body a ``-d`` word holds, or why it cannot be written back."""
    texts = [p for p in word.parts if _only_expansion(p) is None]
    if len(texts) == 1 and texts[0].kind == "double" and len(word.parts) == 1:
        body = Body("", "double", make=make)
        body.json = _joined(body, texts[0].segments)
        return body
    if not texts:
        return (f"the body is built elsewhere (`{word.value}`): translate the JSON it holds with "
                "`migrator translate --to responses`")
    if any(p.kind == "single" for p in texts) and all(p.kind in ("single", "bare") for p in texts):
        body = Body("", "single", make=make)
        pieces: list[str] = []
        for part in word.parts:
            if part.kind == "single" or _only_expansion(part) is None:  # a bare ``\'`` between quotes too
                pieces.append(_joined(body, part.segments))
            else:
                pieces.append(body.add("'" + source[part.start:part.end] + "'"))
        body.json = "".join(pieces)
        return body
    return "the body is not one quoted string (single quotes, or double quotes with `\\\"`)"


def _joined(body: Body, segments: list[Segment]) -> str:
    return "".join(s if isinstance(s, str) else body.add(s.source) for s in segments)


def of_heredoc(doc: Heredoc, source: str, make: bool) -> Body:
    raw = source[doc.start:doc.end]
    if doc.quoted:
        return Body(raw, "quoted-heredoc", make=make)
    body = Body("", "heredoc", make=make)
    reader = Reader(source, make)
    reader.i = doc.start
    pieces: list[str] = []
    while reader.i < doc.end:
        c = source[reader.i]
        if c == "\\" and source[reader.i + 1:reader.i + 2] in ("$", "`", "\\"):
            pieces.append(source[reader.i + 1])
            reader.i += 2
        elif c in "$`":
            got = reader._expansion()
            pieces.append(got if isinstance(got, str) else body.add(got.source))
        else:
            pieces.append(c)
            reader.i += 1
    body.json = "".join(pieces)
    return body
