"""Python source ⇄ JSON values, so the engine (not a second table) decides what each argument becomes.

A call's arguments are read as a JSON body in which every piece that is not a literal (a name, a
call, an f-string) becomes a *hole*: a sentinel value the engine carries like any other. After the
translation, each sentinel found in the output is put back as the original expression; a sentinel
the engine had to look into (and so could not carry unseen) is missing from the output, and the
site is not rewritten. Code is written back from the original nodes wherever a value came through
unchanged, so formatting and comments survive; only values the engine changed are printed anew.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import libcst as cst

from .holes import Sentinels
from .walk import Visitor, comments, walk


class NotLiteral(Exception):
    """A value the codemod cannot read as JSON even with holes (a dict with a computed key, ``**`` spread)."""


@dataclass
class Holes(Sentinels[cst.BaseExpression]):
    """The expressions standing behind sentinels, by sentinel."""

    quote: str = '"'
    """The quote new strings get: the one the code around them uses."""
    stand_ins: dict[str, cst.BaseExpression] = field(default_factory=dict)

    def stand_in(self, expr: cst.BaseExpression) -> str:
        """A name that stands for ``expr`` in printed code until ``to_expr`` puts the very node back
        (the node, not a copy: other plans find their own replacements inside it by identity)."""
        name = f"__migrator_hole_{len(self.stand_ins)}__"
        self.stand_ins[name] = expr
        return name


def string_value(node: cst.BaseExpression) -> str | None:
    """The text of a plain or implicitly concatenated string literal (no f-string, no bytes)."""
    if isinstance(node, cst.SimpleString):
        value = node.evaluated_value
        return value if isinstance(value, str) else None
    if isinstance(node, cst.ConcatenatedString):
        left, right = string_value(node.left), string_value(node.right)
        return None if left is None or right is None else left + right
    return None


def to_value(node: cst.BaseExpression, holes: Holes, hole: Callable[[cst.BaseExpression], Any] | None = None) -> Any:
    """The JSON value ``node`` stands for, with a hole for each non-literal part."""
    text = string_value(node)
    if text is not None:
        return text
    if isinstance(node, cst.Integer):
        return int(node.evaluated_value)
    if isinstance(node, cst.Float):
        return float(node.evaluated_value)
    if isinstance(node, cst.UnaryOperation) and isinstance(node.operator, cst.Minus) and isinstance(node.expression, cst.Integer | cst.Float):
        inner = node.expression.evaluated_value
        return -inner
    if isinstance(node, cst.Name) and node.value in ("True", "False", "None"):
        return {"True": True, "False": False, "None": None}[node.value]
    if isinstance(node, cst.Dict):
        out: dict[str, Any] = {}
        for element in node.elements:
            if not isinstance(element, cst.DictElement):
                raise NotLiteral("a ** spread in a dict")
            key = string_value(element.key)
            if key is None:
                raise NotLiteral("a dict key that is not a string literal")
            out[key] = to_value(element.value, holes)
        return out
    if isinstance(node, cst.List | cst.Tuple):
        items: list[Any] = []
        for item in node.elements:
            if isinstance(item, cst.StarredElement):
                raise NotLiteral("a * spread in a list")
            items.append(to_value(item.value, holes))
        return items
    return hole(node) if hole is not None else holes.string(node)


def has_comment(node: cst.CSTNode) -> bool:
    """Printing a value anew would lose a comment inside it: such values are kept or the site is left."""
    return bool(comments(node))


class _FirstString(Visitor):
    def __init__(self) -> None:
        self.quote = ""

    def visit_SimpleString(self, node: cst.SimpleString) -> None:
        self.quote = self.quote or node.quote


def quote_of(nodes: Any) -> str:
    """``'`` when the first string literal among ``nodes`` is single-quoted, else ``"``."""
    first = _FirstString()
    for node in nodes:
        walk(node, first)
        if first.quote:
            break
    return "'" if first.quote == "'" else '"'


def to_expr(value: Any, holes: Holes, indent: str | None = "") -> cst.BaseExpression:
    """``to_code``, parsed, with the original expressions of the holes put back."""
    expr = cst.parse_expression(to_code(value, holes, indent))
    if not holes.stand_ins:
        return expr
    put_back = expr.visit(_PutBack(holes.stand_ins))
    assert isinstance(put_back, cst.BaseExpression)
    return put_back


def expression_with(template: str, **nodes: cst.BaseExpression) -> cst.BaseExpression:
    """``template`` parsed, with each ``{name}`` in it the very node given (not a printed copy, so
    the node's own replacements, an alias renamed, still find it)."""
    stand_ins = {f"__migrator_{key}__": node for key, node in nodes.items()}
    for key in nodes:
        template = template.replace("{" + key + "}", f"__migrator_{key}__")
    expr = cst.parse_expression(template).visit(_PutBack(stand_ins))
    assert isinstance(expr, cst.BaseExpression)
    return expr


class _PutBack(cst.CSTTransformer):
    def __init__(self, stand_ins: dict[str, cst.BaseExpression]) -> None:
        self.stand_ins = stand_ins

    def leave_Name(self, original_node: cst.Name, updated_node: cst.Name) -> cst.BaseExpression:
        return self.stand_ins.get(original_node.value, updated_node)


def to_code(value: Any, holes: Holes, indent: str | None = "", width: int = 88) -> str:
    """Python source for ``value`` with holes put back; one line when it fits (always, with no
    ``indent``: the call it goes into is on one line), else one item a line."""
    if indent is None or not isinstance(value, dict | list) or not value or holes.behind(value) is not None \
            or len(_flat(value, holes, measure=True)) + len(indent) <= width:
        return _flat(value, holes)
    inner = indent + "    "
    if isinstance(value, dict):
        lines = [f"{inner}{_string(k, holes.quote)}: {to_code(v, holes, inner, width)}," for k, v in value.items()]
        return "{\n" + "\n".join(lines) + f"\n{indent}}}"
    lines = [f"{inner}{to_code(v, holes, inner, width)}," for v in value]
    return "[\n" + "\n".join(lines) + f"\n{indent}]"


def _flat(value: Any, holes: Holes, measure: bool = False) -> str:
    """One line of code; ``measure``: with each hole's own code, to see whether it fits."""
    expr = holes.behind(value)
    if expr is not None:
        return cst.Module([]).code_for_node(expr) if measure else holes.stand_in(expr)
    if value is None or isinstance(value, bool):
        return repr(value)
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return _string(value, holes.quote)
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_string(k, holes.quote)}: {_flat(v, holes, measure)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_flat(v, holes, measure) for v in value) + "]"
    raise NotLiteral(f"a {type(value).__name__} in the output")


def _string(text: str, quote: str = '"') -> str:
    """A literal in the file's quote style (JSON's escapes are all valid in Python; ``repr`` is
    Python's own single-quoted form)."""
    return repr(text) if quote == "'" else json.dumps(text, ensure_ascii=False)


def rewrite(value: Any, original: Any, node: cst.BaseExpression, holes: Holes, indent: str | None) -> cst.BaseExpression:
    """``value`` as code, reusing ``node`` (the source of ``original``) wherever they agree, so that
    formatting and comments survive. A comment in a part that must be printed anew is an error
    (``NotLiteral``): the caller leaves the site rather than lose it."""
    expr = holes.behind(value)
    if expr is not None:
        return expr
    if type(value) is type(original) and value == original:
        return node
    if isinstance(value, list) and isinstance(original, list) and isinstance(node, cst.List | cst.Tuple) \
            and len(original) == len(node.elements):
        return _rewrite_list(value, original, node, holes, indent)
    if isinstance(value, dict) and isinstance(original, dict) and isinstance(node, cst.Dict):
        by_key: dict[str, cst.DictElement] = {}
        for el in node.elements:
            key = string_value(el.key) if isinstance(el, cst.DictElement) else None
            if key is None or not isinstance(el, cst.DictElement):
                raise NotLiteral("a dict the codemod cannot read")
            by_key[key] = el
        for key, kept in by_key.items():
            if key not in value and has_comment(kept):
                raise NotLiteral(f"a comment beside `{key}` would be lost")
        fresh: list[cst.DictElement] = []
        for key, v in value.items():
            same = by_key.get(key)
            if same is not None:
                fresh.append(same.with_changes(value=rewrite(v, original.get(key), same.value, holes, _deeper(indent))))
            else:
                moved = holes.behind(v) or _equal_inside(v, original, node)
                fresh.append(cst.DictElement(key=cst.SimpleString(_string(key, holes.quote)),
                                             value=moved if moved is not None else to_expr(v, holes, _deeper(indent)),
                                             whitespace_after_colon=cst.SimpleWhitespace(" ")))
        return node.with_changes(elements=with_commas(fresh, node.elements))
    if has_comment(node):
        raise NotLiteral("a comment inside a value the codemod must rewrite would be lost")
    return to_expr(value, holes, indent)


def _equal_inside(value: Any, original: Any, node: cst.BaseExpression, depth: int = 2) -> cst.BaseExpression | None:
    """The node, within ``node``, that wrote ``value`` already (a flattened tool's ``parameters``
    come from ``function.parameters``): reused as it was written rather than printed anew."""
    if not isinstance(original, dict) or not isinstance(node, cst.Dict) or depth == 0 or isinstance(value, str | int | float | bool):
        return None
    for element in node.elements:
        if not isinstance(element, cst.DictElement):
            continue
        key = string_value(element.key)
        if key is None or key not in original:
            continue
        if type(original[key]) is type(value) and original[key] == value:
            return element.value
        inner = _equal_inside(value, original[key], element.value, depth - 1)
        if inner is not None:
            return inner
    return None


def _rewrite_list(value: list[Any], original: list[Any], node: cst.List | cst.Tuple, holes: Holes,
                  indent: str | None) -> cst.List:
    """Same length: element by element. Otherwise each new item takes the next original element equal
    to it (a hoisted system message leaves the others as they were written) or is printed anew."""
    elements: list[cst.Element] = []
    if len(value) == len(original):
        elements = [el.with_changes(value=rewrite(v, o, el.value, holes, _deeper(indent)))  # type: ignore[misc]
                    for el, v, o in zip(node.elements, value, original, strict=True)]
    else:
        used: set[int] = set()
        start = 0
        for v in value:
            match = next((k for k in range(start, len(original)) if type(original[k]) is type(v) and original[k] == v), None)
            if match is not None:
                elements.append(node.elements[match])  # type: ignore[arg-type]
                used.add(match)
                start = match + 1
            else:
                elements.append(cst.Element(value=to_expr(v, holes, _deeper(indent))))
        for k, el in enumerate(node.elements):
            if k not in used and has_comment(el):
                raise NotLiteral("a comment beside a message the codemod moves would be lost")
        elements = with_commas(elements, node.elements)
    if isinstance(node, cst.List):
        return node.with_changes(elements=elements)
    return cst.List(elements=elements)


def with_commas(items: list[Any], original: Any) -> list[Any]:
    """Separators as the original sequence had them. An item keeps its comma, and with it the
    comment written after it; an item that moves to the end or away from it keeps its comment but
    takes the line break and indentation of its new place; a new item gets a plain separator (a
    trailing comma stays trailing, none stays none)."""
    if not items:
        return items
    original = list(original)
    default = cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))
    last_comma = original[-1].comma if original else cst.MaybeSentinel.DEFAULT
    inner = _no_comment(next((a.comma for a in original[:-1] if isinstance(a.comma, cst.Comma)), default))
    fixed = []
    for item in items[:-1]:
        comma = item.comma
        if comma is last_comma:
            fixed.append(item.with_changes(comma=_retarget(comma, inner)))
        elif isinstance(comma, cst.Comma):
            fixed.append(item)
        else:
            fixed.append(item.with_changes(comma=inner))
    final = items[-1]
    if final.comma is not last_comma:
        final = final.with_changes(comma=_retarget(final.comma, last_comma) if isinstance(final.comma, cst.Comma)
                                   else _no_comment(last_comma))
    fixed.append(final)
    return _comments_before_commas(fixed)


def _comments_before_commas(args: list[Any]) -> list[Any]:
    """``f(a, b=1  # why\n)`` given one more argument: the comment after ``b=1`` was written where no
    comma followed it; it moves after the comma that now does (``b=1,  # why``), and the line break
    before ``)`` goes to the new last argument, so the call keeps its shape."""
    moved: Any = None
    out = []
    for i, arg in enumerate(args):
        ws = getattr(arg, "whitespace_after_arg", None)
        if i < len(args) - 1 and isinstance(ws, cst.ParenthesizedWhitespace) and ws.first_line.comment is not None \
                and isinstance(arg.comma, cst.Comma):
            after = arg.comma.whitespace_after
            last_line = after.last_line if isinstance(after, cst.ParenthesizedWhitespace) else ws.last_line
            arg = arg.with_changes(whitespace_after_arg=cst.SimpleWhitespace(""), comma=arg.comma.with_changes(
                whitespace_before=cst.SimpleWhitespace(""),
                whitespace_after=ws.with_changes(last_line=last_line)))
            moved = ws
        out.append(arg)
    final = out[-1] if out else None
    if moved is not None and isinstance(final, cst.Arg) and isinstance(final.whitespace_after_arg, cst.SimpleWhitespace) \
            and not final.whitespace_after_arg.value and not isinstance(final.comma, cst.Comma):
        out[-1] = final.with_changes(whitespace_after_arg=moved.with_changes(
            first_line=cst.TrailingWhitespace(newline=moved.first_line.newline)))
    return out


def _comment_line(comma: Any) -> cst.TrailingWhitespace | None:
    ws = comma.whitespace_after if isinstance(comma, cst.Comma) else None
    if isinstance(ws, cst.ParenthesizedWhitespace) and ws.first_line.comment is not None:
        return ws.first_line
    return None


def _retarget(comma: Any, layout: Any) -> Any:
    """``comma``'s comment, with ``layout``'s line break and indentation."""
    line = _comment_line(comma)
    if line is None:
        return layout
    if isinstance(layout, cst.Comma) and isinstance(layout.whitespace_after, cst.ParenthesizedWhitespace):
        return layout.with_changes(whitespace_after=layout.whitespace_after.with_changes(first_line=line))
    return comma  # no line break to take: the comment keeps its own


def _no_comment(comma: Any) -> Any:
    line = _comment_line(comma)
    if line is None:
        return comma
    return comma.with_changes(whitespace_after=comma.whitespace_after.with_changes(
        first_line=cst.TrailingWhitespace(newline=line.newline)))


def _deeper(indent: str | None) -> str | None:
    return None if indent is None else indent + "    "
