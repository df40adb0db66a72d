"""Raw HTTP to ``…/chat/completions``, as gateway docs show it: ``requests.post(url, headers=…, json={…})``.

The same three pieces as an SDK call: the URL (its path becomes ``/responses``; the bearer header
is the same on both endpoints), the literal body (translated by the engine, through the same
planner as SDK arguments), and the reads of the JSON answer. REST JSON has no ``output_text``: the
text is the ``output_text`` parts of the ``message`` items, so a read of the message content
becomes the expression that joins them, as the SDK's ``output_text`` property does.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import libcst as cst

from .call import CallPlan, plan_arguments
from .literals import expression_with, string_value
from .names import UseVisitor
from .reads import ReadPlan, Segment, rewrite_segments, spelled

CHAT_PATH = "/chat/completions"
RESPONSES_PATH = "/responses"
HTTP_METHODS = frozenset({"post"})
RESPONSE_FIELDS = frozenset({"status_code", "ok", "headers", "raise_for_status", "reason", "reason_phrase", "elapsed", "url", "status"})
"""What an HTTP response (requests, httpx, aiohttp) offers besides its body: the same for both endpoints."""
TEXT_OF_OUTPUT = ('"".join(part["text"] for item in {data}["output"] if item["type"] == "message" '
                  'for part in item["content"] if part["type"] == "output_text")')
"""REST's spelling of the SDK's ``Response.output_text``."""


def chat_url(node: cst.BaseExpression) -> cst.BaseExpression | None:
    """``node`` with its path ``…/chat/completions`` made ``…/responses``; None when it is no such URL."""
    if isinstance(node, cst.SimpleString):
        text = string_value(node)
        if text is None or not text.endswith(CHAT_PATH):
            return None
        prefix = node.prefix
        return node.with_changes(value=prefix + node.quote + node.raw_value[: -len(CHAT_PATH)] + RESPONSES_PATH + node.quote)
    if isinstance(node, cst.ConcatenatedString):
        right = chat_url(node.right)
        return node.with_changes(right=right) if right is not None else None
    if isinstance(node, cst.FormattedString) and node.parts:
        last = node.parts[-1]
        if isinstance(last, cst.FormattedStringText) and last.value.endswith(CHAT_PATH):
            new_last = last.with_changes(value=last.value[: -len(CHAT_PATH)] + RESPONSES_PATH)
            return node.with_changes(parts=[*node.parts[:-1], new_last])
    return None


def url_of(call: cst.Call) -> cst.Arg | None:
    for i, arg in enumerate(call.args):
        if (arg.keyword is None and i == 0) or (arg.keyword is not None and arg.keyword.value == "url"):
            return arg
    return None


def url_literal(node: cst.BaseExpression, strings: Mapping[str, list[cst.BaseExpression]]) -> cst.BaseExpression | None:
    """The chat URL literal ``node`` is, or names (``url = "…/chat/completions"``; assigned once)."""
    if isinstance(node, cst.Name):
        held = strings.get(node.value, [])
        node = held[0] if len(held) == 1 else node
    return node if chat_url(node) is not None else None


def is_chat_post(call: cst.Call, strings: Mapping[str, list[cst.BaseExpression]]) -> bool:
    func = call.func
    if not (isinstance(func, cst.Attribute) and func.attr.value in HTTP_METHODS):
        return False
    arg = url_of(call)
    return arg is not None and url_literal(arg.value, strings) is not None


def names_chat_url(call: cst.Call) -> bool:
    """Any other call with a literal chat URL among its arguments: a helper that sends the request,
    a test that mocks the endpoint. Reported, not rewritten: its body and reads are not followed."""
    return any(chat_url(arg.value) is not None for arg in call.args)


@dataclass
class BodyPlan:
    new_body: cst.Dict | None
    plan: CallPlan


def plan_body(body: cst.Dict, indent: str, hoist: bool = False) -> BodyPlan:
    """The body's keys as arguments, through the SDK call's planner, and back into the dict."""
    args: list[cst.Arg] = []
    originals: dict[str, cst.DictElement] = {}
    for element in body.elements:
        key = string_value(element.key) if isinstance(element, cst.DictElement) else None
        if key is None or not key.isidentifier() or not isinstance(element, cst.DictElement):
            return BodyPlan(None, CallPlan(args=None, reasons=["the body has a key the codemod cannot read"]))
        originals[key] = element
        args.append(cst.Arg(keyword=cst.Name(key), value=element.value, comma=element.comma))
    plan = plan_arguments(args, "\n" in cst.Module([]).code_for_node(body), indent, hoist=hoist)
    if plan.args is None:
        return BodyPlan(None, plan)
    elements: list[cst.DictElement] = []
    quote = next((e.key.quote for e in originals.values() if isinstance(e.key, cst.SimpleString)), '"')
    template = next(iter(originals.values()), None)
    for arg in plan.args:
        assert arg.keyword is not None
        name = arg.keyword.value
        same = originals.get(name)
        if same is not None:
            elements.append(same.with_changes(value=arg.value, comma=arg.comma))
            continue
        new_key = cst.SimpleString(f"{quote}{name}{quote}")
        if template is not None:
            elements.append(template.with_changes(key=new_key, value=arg.value, comma=arg.comma))
        else:
            elements.append(cst.DictElement(key=new_key, value=arg.value, comma=arg.comma))
    return BodyPlan(body.with_changes(elements=elements), plan)


def json_chain(node: cst.BaseExpression) -> tuple[cst.BaseExpression, list[Segment]] | None:
    """``data["choices"][0]["message"]`` → (``data``, ["choices", 0, "message"])."""
    segments: list[Segment] = []
    current = node
    while isinstance(current, cst.Subscript):
        if len(current.slice) != 1 or not isinstance(current.slice[0].slice, cst.Index):
            return None
        index = current.slice[0].slice.value
        if isinstance(index, cst.Integer):
            segments.append(int(index.value))
        else:
            text = string_value(index)
            if text is None:
                return None
            segments.append(text)
        current = current.value
    segments.reverse()
    return current, segments


def rewrite_json_read(base: cst.BaseExpression, segments: list[Segment], text_field: str) -> cst.BaseExpression | str:
    """The Responses JSON read for a ChatCompletion JSON read, or why there is none."""
    new = rewrite_segments(segments)
    if isinstance(new, str):
        return new
    if new and new[0] == text_field:
        if new[1:]:
            return "the text is indexed further"
        return expression_with(TEXT_OF_OUTPUT, data=base)
    node = base
    for segment in new:
        key = cst.Integer(str(segment)) if isinstance(segment, int) else cst.SimpleString(f'"{segment}"')
        node = cst.Subscript(value=node, slice=[cst.SubscriptElement(cst.Index(key))])
    return node


class JsonUses(UseVisitor):
    """The uses of an HTTP response ``name``: its fields, ``name.json()`` reads, and names bound to the JSON."""

    def __init__(self, name: str) -> None:
        super().__init__()
        self.name = name
        self.reads: list[tuple[cst.BaseExpression, cst.BaseExpression, list[Segment]]] = []  # (node, json base, segments)
        self.printed: list[cst.Call] = []
        self.data_names: list[str] = []
        self.blockers: list[str] = []
        self._skip: set[cst.CSTNode] = set()

    def _is_json_call(self, node: cst.BaseExpression, names: tuple[str, ...]) -> bool:
        if isinstance(node, cst.Name):
            return node.value in names and node.value != self.name
        return (isinstance(node, cst.Call) and not node.args and isinstance(node.func, cst.Attribute)
                and node.func.attr.value == "json" and isinstance(node.func.value, cst.Name) and node.func.value.value == self.name)

    def visit_Subscript(self, node: cst.Subscript) -> bool:
        found = json_chain(node)
        if found is None:
            return True
        base, segments = found
        if self._is_json_call(base, tuple(self.data_names)):
            self.reads.append((node, base, segments))
            return False
        return True

    def visit_Assign(self, node: cst.Assign) -> None:
        if len(node.targets) == 1 and isinstance(node.targets[0].target, cst.Name) and self._is_json_call(node.value, ()):
            self.data_names.append(node.targets[0].target.value)
            self._skip.add(node.targets[0].target)
            self._skip.add(node.value)

    def visit_Call(self, node: cst.Call) -> bool:
        if isinstance(node.func, cst.Name) and node.func.value == "print" and len(node.args) == 1 \
                and self._is_json_call(node.args[0].value, tuple(self.data_names)):
            self.printed.append(node)
            return False
        return True

    def visit_Attribute(self, node: cst.Attribute) -> bool:
        if isinstance(node.value, cst.Name) and node.value.value == self.name:
            if node.attr.value in RESPONSE_FIELDS or node.attr.value == "json":
                return False
            self.blockers.append(f"`{self.name}.{node.attr.value}` reads the body in another form than JSON")
            return False
        return True

    def visit_Name(self, node: cst.Name) -> None:
        if not self.is_use(node):
            return
        if node in self._skip:
            return
        if node.value == self.name:
            self.blockers.append(f"the HTTP response `{self.name}` is used whole")
        elif node.value in self.data_names:
            self.blockers.append(f"the JSON `{node.value}` is used whole")

    def visit_AssignTarget(self, node: cst.AssignTarget) -> None:
        if isinstance(node.target, cst.Name) and node.target.value == self.name:
            self._skip.add(node.target)


def plan_json_reads(uses: JsonUses, text_field: str) -> ReadPlan:
    plan = ReadPlan(blockers=list(uses.blockers))
    for node, base, segments in uses.reads:
        new = rewrite_json_read(base, segments, text_field)
        if isinstance(new, str):
            plan.blockers.append(f"`[{spelled(segments)}]`: {new}")
        else:
            plan.replacements[node] = new
    if uses.printed:
        plan.notes.append("prints the Response JSON, whose fields differ (`output` items instead of `choices`)")
    return plan
