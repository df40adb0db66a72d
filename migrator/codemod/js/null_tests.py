"""``null`` tests on a completion's text, which a Response answers with ``""``.

Chat's ``message.content`` is ``null`` when the answer holds only tool calls; the Response's
``output_text`` is then ``""``, so a renamed ``=== null`` test would never pass. A test written on
the read itself becomes the Response's own test (is there an ``output_text`` part in a message
item?), as ``../reads.py`` writes it for Python; a name that holds the text and is tested against
``null`` (or given a ``??`` fallback) elsewhere makes the fix unsafe, with a note. Truthiness
(``!content``, ``content || "…"``) means the same on both sides and is renamed as it is.
"""

from __future__ import annotations

from tree_sitter import Node

from ..finish_tests import OUTPUT
from ..reads import CONTENT, Segment
from .scope import same, uses_of
from .values import text_of

_EQUALITY = ("===", "==", "!==", "!=")
NO_TEXT = ("{base}.{output}.some((item) => item.type === {q}message{q} && "
           "item.content.some((part) => part.type === {q}output_text{q}))")
HELD = ("`{name}` now holds `output_text`, which is \"\" where `message.content` was null (a tool-call-only answer): "
        "its {test} here never {does}; test the output for text instead")


def _compared_with_null(read: Node) -> tuple[Node, bool] | None:
    """``read === null`` / ``null != read`` → (the comparison, negated)."""
    comparison = read.parent
    operator = comparison.child_by_field_name("operator") if comparison is not None else None
    if comparison is None or comparison.type != "binary_expression" or operator is None \
            or text_of(operator) not in _EQUALITY:
        return None
    left, right = comparison.child_by_field_name("left"), comparison.child_by_field_name("right")
    other = right if same(left, read) else left
    if other is None or other.type != "null":
        return None
    return comparison, text_of(operator).startswith("!")


def _falls_back(read: Node) -> bool:
    """``read ?? "…"``: a fallback for null, which ``""`` never takes (``?? ""`` gives the same either way)."""
    parent = read.parent
    operator = parent.child_by_field_name("operator") if parent is not None else None
    if parent is None or parent.type != "binary_expression" or operator is None or text_of(operator) != "??" \
            or not same(parent.child_by_field_name("left"), read):
        return False
    fallback = parent.child_by_field_name("right")
    return fallback is None or text_of(fallback) not in ('""', "''", "``")  # ``?? ""`` gives "" on both sides


def null_test(read: Node, base: str, quote: str) -> tuple[Node, str] | None:
    """``base.choices[0].message.content === null`` → the comparison and the Response's test for "no text"."""
    found = _compared_with_null(read)
    if found is None:
        return None
    comparison, negate = found
    test = NO_TEXT.format(base=base, output=OUTPUT, q=quote)
    return comparison, test if negate else f"!{test}"


def held_null_notes(read: Node, segments: list[Segment], base: str) -> list[str]:
    """Why renaming ``read`` (a content read) is unsafe: a ``??`` on it, or the name it is stored in
    tested against ``null``."""
    if segments != CONTENT:
        return []
    if _falls_back(read):
        return [f"`{base}.output_text` is \"\" where `message.content` was null (a tool-call-only answer): its `??` "
                "fallback here never applies; test the output for text instead"]
    declarator = read.parent
    if declarator is None or declarator.type != "variable_declarator" or not same(declarator.child_by_field_name("value"), read):
        return []
    name = declarator.child_by_field_name("name")
    if name is None or name.type != "identifier":
        return []
    for use in uses_of(text_of(name), declarator):
        if _compared_with_null(use) is not None:
            return [HELD.format(name=text_of(name), test="null test", does="passes")]
        if _falls_back(use):
            return [HELD.format(name=text_of(name), test="`??` fallback", does="applies")]
    return []
