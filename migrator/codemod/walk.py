"""A read-only walk over libcst trees, several times cheaper than ``node.visit(visitor)``.

libcst's visitor looks up ``visit_<Node>``, ``visit_<Node>_<field>`` and their ``leave_`` twins by
name on every node and every field, and walks every whitespace node. The codemod's analyses walk a
function body once per question (where is this name read, which messages reach this list…), so
that overhead was most of its time. Here the hooks a visitor class defines are found once per
(visitor class, node class) and the fields that hold only whitespace and punctuation are not
walked at all: a visitor that needs comments (``has_comment``) keeps libcst's own walk.

The API is libcst's: ``visit_<Node>`` returning False skips the children; ``leave_<Node>``,
``visit_<Node>_<field>``, ``leave_<Node>_<field>``, and ``on_visit``/``on_leave`` overrides that
call ``super()``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import libcst as cst

_PUNCTUATION = frozenset({
    "lpar", "rpar", "comma", "leading_lines", "lines_after_decorators", "header", "footer", "semicolon", "dot",
    "equal", "colon", "lbracket", "rbracket", "lbrace", "rbrace", "star", "first_line", "empty_lines", "indent",
    "last_line", "newline", "trailing_whitespace", "default_indent", "default_newline", "encoding", "prefix",
    "quote", "whitespace_before_colon",
})
_FIELDS: dict[type, tuple[tuple[str, bool], ...]] = {}
_EVERY_FIELD: dict[type, tuple[str, ...]] = {}
Hook = Callable[[Any, Any], Any]  # an unbound method: (visitor, node)
_HOOKS: dict[tuple[type, type], tuple[Hook | None, Hook | None, tuple[tuple[str, Hook | None, Hook | None], ...]]] = {}


def _fields(cls: type) -> tuple[tuple[str, bool], ...]:
    """The fields that may hold nodes (not punctuation or whitespace), each with whether it is the
    text of a leaf (``Name.value``, a string's quotes and body): a leaf costs its two hooks and
    nothing more, unless a visitor hooks that field."""
    names = _FIELDS.get(cls)
    if names is None:
        names = tuple((f.name, f.type in (str, "str")) for f in dataclasses.fields(cls)
                      if f.name not in _PUNCTUATION and not f.name.startswith("whitespace"))
        _FIELDS[cls] = names
    return names


def _hooks(visitor: type, node: type) -> tuple[Hook | None, Hook | None, tuple[tuple[str, Hook | None, Hook | None], ...]]:
    found = _HOOKS.get((visitor, node))
    if found is None:
        name = node.__name__
        fields = tuple((field, before, after) for field, text in _fields(node)
                       for before, after in [(getattr(visitor, f"visit_{name}_{field}", None), getattr(visitor, f"leave_{name}_{field}", None))]
                       if not text or before is not None or after is not None)
        found = (getattr(visitor, f"visit_{name}", None), getattr(visitor, f"leave_{name}", None), fields)
        _HOOKS[(visitor, node)] = found
    return found


class Visitor:
    """Base of the codemod's analyses: libcst's visitor API over ``walk``."""

    def on_visit(self, node: cst.CSTNode) -> bool:
        visit = (_HOOKS.get((type(self), type(node))) or _hooks(type(self), type(node)))[0]
        return visit is None or visit(self, node) is not False

    def on_leave(self, node: cst.CSTNode) -> None:
        leave = (_HOOKS.get((type(self), type(node))) or _hooks(type(self), type(node)))[1]
        if leave is not None:
            leave(self, node)


def comments(node: cst.CSTNode) -> list[str]:
    """Every comment inside ``node``: the one question that needs the whitespace the walk passes over."""
    found: list[str] = []
    stack: list[Any] = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, cst.Comment):
            found.append(current.value)
            continue
        names = _EVERY_FIELD.get(type(current))
        if names is None:
            names = _EVERY_FIELD[type(current)] = tuple(f.name for f in dataclasses.fields(current))
        for name in names:
            value = getattr(current, name)
            if isinstance(value, cst.CSTNode):
                stack.append(value)
            elif isinstance(value, tuple | list):
                stack.extend(v for v in reversed(value) if isinstance(v, cst.CSTNode))
    return found


_NODE, _SEQUENCE, _OTHER = 1, 2, 0
_KINDS: dict[type, int] = {}
"""What a field's value is, by its type: ``isinstance`` against libcst's abstract base costs a call
into ``ABCMeta`` on every field of every node."""


def _kind(cls: type) -> int:
    kind = _KINDS.get(cls)
    if kind is None:
        kind = _KINDS[cls] = _NODE if issubclass(cls, cst.CSTNode) else _SEQUENCE if issubclass(cls, tuple | list) else _OTHER
    return kind


def walk(node: cst.CSTNode, visitor: Visitor) -> None:
    if not visitor.on_visit(node):
        visitor.on_leave(node)
        return
    kinds = _KINDS
    hooks = _HOOKS.get((type(visitor), type(node))) or _hooks(type(visitor), type(node))
    for field, before, after in hooks[2]:
        value = getattr(node, field)
        if before is not None:
            before(visitor, node)
        kind = kinds.get(type(value))
        if kind is None:
            kind = _kind(type(value))
        if kind == _NODE:
            walk(value, visitor)
        elif kind == _SEQUENCE:
            for item in value:
                if kinds.get(type(item)) == _NODE or (type(item) not in kinds and _kind(type(item)) == _NODE):
                    walk(item, visitor)
        if after is not None:
            after(visitor, node)
    visitor.on_leave(node)
