"""A site as the finder sees it, and the decision the rules reach about it.

A decision is all or nothing: either its edits (the call, its arguments and the reads of its
result) are applied together, or none is and the site gets a note saying why.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import libcst as cst

from .clients import Scope
from .outcome import Applicability, Verdict

Kind = Literal["sdk", "http", "url", "mock", "fixture"]


@dataclass
class Found:
    """A ``.chat.completions.<method>`` call, an HTTP post to ``…/chat/completions``, a test's patch of the
    Chat Completions resource or a hand-built ``ChatCompletion``, before any decision."""

    call: cst.Call
    kind: Kind
    receiver: cst.BaseExpression
    method: str
    wrapper: str | None
    statement: cst.CSTNode
    scope: Scope
    function: cst.CSTNode
    bound: str | None = None  # the name the result is assigned to
    chained: cst.BaseExpression | None = None  # a read chained on the call itself
    escapes: bool = False  # the result goes somewhere the codemod cannot follow
    peers: list[Found] = field(default_factory=list)  # the chat calls of the same function, this one included
    constants: dict[str, cst.BaseExpression] = field(default_factory=dict)  # the module's literals only chat calls read


@dataclass
class Edits:
    replacements: dict[cst.CSTNode, cst.CSTNode] = field(default_factory=dict)
    notes: dict[cst.CSTNode, list[str]] = field(default_factory=dict)

    def note(self, statement: cst.CSTNode, message: str) -> None:
        self.notes.setdefault(statement, []).append(message)

    def merge(self, other: Edits) -> None:
        self.replacements.update(other.replacements)
        for statement, messages in other.notes.items():
            self.notes.setdefault(statement, []).extend(messages)


@dataclass
class Decision:
    verdict: Verdict
    applicability: Applicability
    reasons: list[str]
    edits: Edits = field(default_factory=Edits)
    host: str | None = None
    requires: set[str] = field(default_factory=set)
    """Names of answers (results of other calls of the function) whose migration this one needs:
    a ``messages`` list that takes their message whole must go to ``input`` with theirs."""
    messages: str | None = None  # the ``messages`` variable, shared with the other calls that pass it
    constants: set[str] = field(default_factory=set)  # literals held in names that this decision rewrites
    note: bool = True  # False: in the report only (a fixture in a file that neither calls nor patches the API)

def left(reasons: list[str], applicability: Applicability = "display", host: str | None = None) -> Decision:
    """The site stays as it was; its notes say why (a second run finds them and adds nothing)."""
    return Decision("left for a person", applicability, reasons, host=host)
