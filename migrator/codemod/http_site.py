"""An HTTP site: a post to ``…/chat/completions``, its JSON body and the reads of its answer, decided together."""

from __future__ import annotations

import libcst as cst

from ..mapping.rules import TABLES
from .clients import client_for_url, host_reasons
from .http_calls import JsonUses, chat_url, plan_body, plan_json_reads, url_of
from .literals import string_value
from .names import UseVisitor, dotted, visit_body
from .notes import source_of
from .outcome import Options
from .site import Decision, Edits, Found, left

_TEXT_FIELD = TABLES["chat.completion_message"]["content"].to or ""


class _Assigned(UseVisitor):
    """The dict literals a name is assigned in one function, and how often the name is read."""

    def __init__(self, name: str) -> None:
        super().__init__()
        self.name = name
        self.dicts: list[cst.Dict] = []
        self.assignments = 0
        self.reads = 0
        self._targets: set[cst.CSTNode] = set()

    def visit_Assign(self, node: cst.Assign) -> None:
        for target in node.targets:
            if isinstance(target.target, cst.Name) and target.target.value == self.name:
                self.assignments += 1
                self._targets.add(target.target)
                if isinstance(node.value, cst.Dict):
                    self.dicts.append(node.value)

    def visit_Name(self, node: cst.Name) -> None:
        if not self.is_use(node):
            return
        if node.value == self.name and node not in self._targets:
            self.reads += 1

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        return False


def _body_dict(found: Found) -> tuple[cst.Dict | None, str | None]:
    """The literal dict the post sends, as ``json=`` or as ``data=json.dumps(…)``, or why there is none."""
    for arg in found.call.args:
        if arg.keyword is None or arg.keyword.value not in ("json", "data", "content"):
            continue
        value = arg.value
        if arg.keyword.value != "json":
            dumped = value.args[0].value if isinstance(value, cst.Call) and value.args and dotted(value.func) == "json.dumps" else None
            if dumped is None:
                return None, "the body is serialized by hand: pass the dict as `json=` (or `json.dumps` of it) to let it be rewritten"
            value = dumped
        if isinstance(value, cst.Dict):
            return value, None
        if isinstance(value, cst.Name):
            seen = _Assigned(value.value)
            visit_body(found.function, seen)
            if not seen.dicts and found.function is not None:
                held = found.constants.get(value.value)
                if isinstance(held, cst.Dict):
                    return held, None
            if len(seen.dicts) == 1 and seen.assignments == 1 and seen.reads == 1:
                return seen.dicts[0], None
            return None, f"the body `{value.value}` is not one dict literal used only by this request"
        return None, "the body is not a literal"
    return None, "the request has no `json=` body"


def decide_http(found: Found, options: Options, indent: str) -> Decision:
    url_arg = url_of(found.call)
    assert url_arg is not None
    url = url_arg.value
    constants: set[str] = set()
    if isinstance(url, cst.Name):
        held = found.constants.get(url.value)
        if held is None:
            return left([f"the URL `{url.value}` is also read elsewhere: move it to `/responses` with every request that uses it"])
        constants.add(url.value)
        url = held
    client = client_for_url(string_value(url), source_of(url))
    refused, reasons = host_reasons(client, options)
    if refused is not None:
        return left([refused], host=client.host)
    body, why = _body_dict(found)
    if body is None:
        return left([why or "no body"], host=client.host)
    planned = plan_body(body, indent, options.hoist_instructions)
    if planned.new_body is None:
        return left(planned.plan.reasons, host=client.host)
    if planned.plan.stream is not False:
        return left(["a streamed answer is parsed by hand (`data:` lines, `[DONE]`): Responses streams typed events "
                     "(`event:` + `data:`, no `[DONE]`); rewrite the parser with the request"], host=client.host)
    edits = Edits()
    new_url = chat_url(url)
    assert new_url is not None
    edits.replacements[url] = new_url
    edits.replacements[body] = planned.new_body
    notes = list(planned.plan.notes)
    if found.escapes or found.chained is not None:
        return left(["the HTTP response is passed on where its JSON reads cannot be followed"], host=client.host)
    if found.bound is not None:
        uses = JsonUses(found.bound)
        visit_body(found.function, uses)
        reads = plan_json_reads(uses, _TEXT_FIELD)
        if reads.blockers:
            return left(reads.blockers, host=client.host)
        notes.extend(reads.notes)
        edits.replacements.update(reads.replacements)
    for message in notes:
        edits.note(found.statement, message)
    return Decision("migrated with notes" if notes else "migrated", "safe", [*notes, *reasons], edits, client.host,
                    constants=constants)
