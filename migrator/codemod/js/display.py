"""Display rules: sites a person must move, reported with a ``// migrator:`` note and never edited.

The same rules, ids and words as the Python codemod (``../transform.py``): ``url`` (any other call
with a literal ``…/chat/completions`` argument: a helper that sends the request, a ``nock`` or
``msw`` mock of the endpoint), ``mock`` (a jest/vitest mock of ``chat.completions.create``, which
silently stops intercepting once the code calls ``responses``: the note names the new target) and
``fixture`` (an object literal shaped like a ChatCompletion, noted only in a file that also calls
or mocks the API, as in Python).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from tree_sitter import Node, Query, QueryCursor

from ..transform import FIXTURE, URL
from .grammar import Grammar, language
from .http import url_edit
from .sites import Decision, left
from .values import key_of, members, string_of, text_of

CHAT_METHODS = ("create", "parse", "stream")
_TARGET = re.compile(r"^(?:(.*)\.)?chat\s*\.\s*completions\s*\.\s*(create|parse|stream)$", re.S)
_SPIED = re.compile(r"^(?:(.*)\.)?chat\s*\.\s*completions$", re.S)
MOCK_WRAPPERS = frozenset({"expect", "vi.mocked", "jest.mocked", "mocked"})
MODULE_MOCKS = frozenset({"jest.mock", "vi.mock", "jest.doMock", "vi.doMock"})
FIXTURE_OBJECTS = frozenset({"chat.completion", "chat.completion.chunk"})
FIXTURE_SCREEN = re.compile(rb"chat\.completion(?:\.chunk)?[\"'`]")
_LONGEST_CALLEE = 300
MOCK = ("this mock stands in for `{old}`: once the code calls `{new}`, it is never called and what the test sets "
        "or asserts here sees nothing; mock `{new}` with a Response")


@dataclass(frozen=True)
class Shown:
    node: Node
    rule: str  # "url", "mock", "fixture"
    reason: str
    note: bool = True

    def decision(self) -> Decision:
        decision = left([self.reason])
        decision.note = self.note
        return decision


@dataclass
class Display:
    """What the display rules found in a file; a mock is noted once per function and receiver."""

    shown: list[Shown] = field(default_factory=list)
    _mocked: set[tuple[int, str]] = field(default_factory=set)

    def call(self, call: Node) -> Shown | None:
        found = _mock(call)
        if found is not None:
            receiver, method = found
            key = (_function_of(call), f"{receiver}.{method}")
            old = f"{receiver}.chat.completions.{method}" if receiver else f"chat.completions.{method}"
            new = f"{receiver}.responses.{method}" if receiver else f"responses.{method}"
            shown = Shown(call, "mock", MOCK.format(old=old, new=new), key not in self._mocked)
            self._mocked.add(key)
        elif _names_chat_url(call):
            shown = Shown(call, "url", URL)
        else:
            return None
        self.shown.append(shown)
        return shown

    def fixtures(self, root: Node, data: bytes, grammar: Grammar, noted: bool) -> list[Shown]:
        """Object literals shaped like a ChatCompletion (``object: "chat.completion"`` with ``choices``)."""
        if FIXTURE_SCREEN.search(data) is None:
            return []
        found: list[Shown] = []
        for pair in QueryCursor(_pairs(grammar)).captures(root).get("pair", []):
            obj = pair.parent
            value = pair.child_by_field_name("value")
            if key_of(pair) != "object" or value is None or string_of(value) not in FIXTURE_OBJECTS or obj is None:
                continue
            if any(m.type == "pair" and key_of(m) == "choices" for m in members(obj)):
                found.append(Shown(obj, "fixture", FIXTURE, noted))
        found.sort(key=lambda s: s.node.start_byte)
        self.shown.extend(found)
        return found


def _pairs(grammar: Grammar) -> Query:
    return _QUERIES.setdefault(grammar, Query(language(grammar), "(pair) @pair"))


_QUERIES: dict[Grammar, Query] = {}


def _names_chat_url(call: Node) -> bool:
    arguments = call.child_by_field_name("arguments")
    return arguments is not None and any(url_edit(arg) is not None for arg in members(arguments))


def _unwrapped(node: Node | None) -> Node | None:
    """``(x as jest.Mock)`` / ``(<Mock>x)`` / ``x!`` → ``x``."""
    while node is not None and node.type in ("parenthesized_expression", "as_expression", "satisfies_expression",
                                              "type_assertion", "non_null_expression"):
        node = node.named_children[0] if node.named_children else None
    return node


def _target(node: Node | None) -> tuple[str, str] | None:
    """``client.chat.completions.create`` (not called) → ("client", "create")."""
    node = _unwrapped(node)
    if node is None or node.type != "member_expression":
        return None
    match = _TARGET.match(text_of(node))
    return (match.group(1) or "", match.group(2)) if match else None


def _mock(call: Node) -> tuple[str, str] | None:
    """The receiver and method a jest/vitest mock stands in for, or None for any other call."""
    function = call.child_by_field_name("function")
    arguments = call.child_by_field_name("arguments")
    given = members(arguments) if arguments is not None else []
    if function is None or function.end_byte - function.start_byte > _LONGEST_CALLEE:
        return None  # an IIFE or a chain over a literal: not a mock, and not worth decoding
    name = text_of(function)
    if name.endswith(".spyOn") and len(given) >= 2:  # ``vi.spyOn(client.chat.completions, "create")``
        spied = _SPIED.match(text_of(given[0]))
        method = string_of(given[1])
        if spied and method in CHAT_METHODS:
            return spied.group(1) or "", method
        return None
    if name in MOCK_WRAPPERS and given:  # ``expect(client.chat.completions.create)``, ``vi.mocked(…)``
        return _target(given[0])
    if name in MODULE_MOCKS and len(given) >= 2 and string_of(given[0]) == "openai" \
            and re.search(r"completions\s*:", text_of(given[1])):
        return "", "create"
    if function.type == "member_expression":  # ``client.chat.completions.create.mockResolvedValue(…)``
        prop = function.child_by_field_name("property")
        if prop is not None and text_of(prop).startswith("mock"):
            return _target(function.child_by_field_name("object"))
    parent = call.parent  # ``client.chat.completions.create = vi.fn(…)``
    if parent is not None and parent.type == "assignment_expression" and name in ("vi.fn", "jest.fn"):
        return _target(parent.child_by_field_name("left"))
    return None


def _function_of(node: Node) -> int:
    current = node.parent
    while current is not None and current.type not in ("function_declaration", "function_expression", "arrow_function",
                                                         "method_definition", "function", "generator_function_declaration"):
        current = current.parent
    return current.start_byte if current is not None else -1
