"""Raw HTTP posts to ``…/chat/completions``: ``fetch``, ``axios.post``, ``got.post``.

The URL's path becomes ``/responses``, the literal body (``JSON.stringify({…})``, axios' data
object, got's ``json:``) is translated like the SDK's request, and the reads of the parsed JSON
are renamed. REST has no ``output_text``: ``choices[0].message.content`` becomes the join of the
``output_text`` parts of the ``message`` items, as ``../http_calls.py`` writes it for Python.
"""

from __future__ import annotations

from tree_sitter import Node

from ..clients import client_for_url, host_reasons
from ..http_calls import CHAT_PATH, RESPONSES_PATH
from ..outcome import Options, Verdict
from ..reads import rewrite_segments, spelled
from .request import plan_request
from .scope import declaration_of, same, uses_of
from .sites import Decision, chain, left
from .splices import Edit
from .values import key_of, members, string_of, text_of

TEXT_OF_OUTPUT = ('.output.filter((item) => item.type === {q}message{q}).flatMap((item) => item.content)'
                  '.filter((part) => part.type === {q}output_text{q}).map((part) => part.text).join({q}{q})')
"""REST's spelling of the SDK's ``response.output_text``, after the JSON's expression."""
STREAMED = ("a streamed answer is parsed by hand (`data:` lines, `[DONE]`): Responses streams typed events "
            "(`event:` + `data:`, no `[DONE]`); rewrite the parser with the request")
PRINTED = "prints the Response JSON, whose fields differ (`output` items instead of `choices`)"
_FETCH_FIELDS = frozenset({"ok", "status", "statusText", "headers", "url"})
_POSTS = {"fetch": "fetch", "axios.post": "axios", "got.post": "got", "axios": "axios config", "axios.request": "axios config"}


def http_kind(call: Node) -> str | None:
    """``fetch`` / ``axios`` / ``got`` for a post whose literal URL ends in ``/chat/completions``
    (``axios config``: ``axios({ method: "post", url, data })``)."""
    function, arguments = call.child_by_field_name("function"), call.child_by_field_name("arguments")
    kind = _POSTS.get(text_of(function)) if function is not None else None
    given = members(arguments) if arguments is not None else []
    url = _url_of(kind, given)
    if kind is None or url is None or url_edit(_held(url)[0]) is None:
        return None
    return kind


def _url_of(kind: str | None, given: list[Node]) -> Node | None:
    if kind != "axios config":
        return given[0] if given else None
    config = given[0] if len(given) == 1 and given[0].type == "object" else None
    method = _pair(config, "method")
    posts = method is not None and (string_of(method) or "").lower() == "post"
    return _pair(config, "url") if posts else None


def _held(node: Node) -> tuple[Node, str | None]:
    """What an argument holds: for a name, the value of its ``const``/``let`` declaration in an
    enclosing block, with why that value cannot be rewritten for this call (read elsewhere too)."""
    found = declaration_of(node) if node.type == "identifier" else None
    value = found[0].child_by_field_name("value") if found is not None else None
    if found is None or value is None:
        return node, None
    uses = uses_of(text_of(node), found[0])
    if len(uses) == 1 and same(uses[0], node):
        return value, None
    return value, f"`{text_of(node)}` is read elsewhere too: rewrite its value for this post only by hand"


def url_edit(url: Node) -> Edit | None:
    """The splice that makes the URL's path ``…/responses``."""
    if url.type not in ("string", "template_string"):
        return None
    fragments = [c for c in url.children if c.type == "string_fragment"]
    last = fragments[-1] if fragments else None
    if last is None or last.end_byte != url.end_byte - 1 or not text_of(last).endswith(CHAT_PATH):
        return None
    return last.end_byte - len(CHAT_PATH), last.end_byte, RESPONSES_PATH


def _pair(obj: Node | None, name: str) -> Node | None:
    for member in members(obj) if obj is not None and obj.type == "object" else []:
        if member.type == "pair" and key_of(member) == name:
            return member.child_by_field_name("value")
    return None


def _body(kind: str, given: list[Node]) -> Node | str:
    """The object literal the post sends (inline, or held by a name only this post reads), or why there is none."""
    if kind == "axios":
        body = given[1] if len(given) > 1 else None
    elif kind == "axios config":
        body = _pair(given[0], "data")
    else:
        options = given[1] if len(given) > 1 else None
        body = _pair(options, "json") if kind == "got" else _pair(options, "body")
    if body is not None:
        body, shared = _held(body)
        if shared is not None:
            return shared
    if body is not None and kind != "got" and body.type != "object":
        function, arguments = body.child_by_field_name("function"), body.child_by_field_name("arguments")
        inner = members(arguments) if body.type == "call_expression" and arguments is not None else []
        body = inner[0] if function is not None and text_of(function) == "JSON.stringify" and len(inner) == 1 else None
        if body is not None:
            body, shared = _held(body)
            if shared is not None:
                return shared
        if body is None and kind == "fetch":
            return "the body is serialized by hand: pass `JSON.stringify({…})` of a literal to let it be rewritten"
    if body is None or body.type != "object":
        return "the body is not an object literal"
    return body


def decide_http(call: Node, kind: str, options: Options, data: bytes) -> Decision:
    arguments = call.child_by_field_name("arguments")
    assert arguments is not None
    given = members(arguments)
    given_url = _url_of(kind, given)
    assert given_url is not None
    url, shared = _held(given_url)
    text = string_of(url)
    client = client_for_url(text, text_of(url))
    refused, info = host_reasons(client, options)
    if refused is not None or shared is not None:
        return left([refused or shared or ""], host=client.host)
    body = _body(kind, given)
    if isinstance(body, str):
        return left([body], host=client.host)
    planned = plan_request(body, options, data)
    if isinstance(planned, str):
        return left([planned], host=client.host)
    writer, notes, applicability, chat = planned
    if chat.get("stream") is not False and "stream" in chat:
        return left([STREAMED], host=client.host)
    edit = url_edit(url)
    assert edit is not None
    writer.edits.append(edit)
    reads = _json_reads(call, "axios" if kind == "axios config" else kind, writer.edits, writer.style.quote)
    if isinstance(reads, str):
        return left([reads], host=client.host)
    notes.extend(reads)
    verdict: Verdict = "migrated with notes" if notes else "migrated"
    return Decision(verdict, applicability, [*notes, *info], writer.edits, notes, host=client.host)


def _awaited(node: Node) -> Node:
    parent = node.parent
    return parent if parent is not None and parent.type == "await_expression" else node


def _declared(node: Node) -> Node | None:
    """The ``const name = node`` declaration that binds ``node`` to a plain name."""
    parent = node.parent
    name = parent.child_by_field_name("name") if parent is not None and parent.type == "variable_declarator" else None
    return parent if name is not None and name.type == "identifier" else None


def _json_reads(call: Node, kind: str, edits: list[Edit], quote: str) -> list[str] | str:
    """The JSON of the answer, wherever it is read: each read renamed; notes, or why not."""
    result = _awaited(call)
    bases: list[Node] = []
    if kind == "got":
        parent = result.parent if result is call else None
        return "got's answer is read otherwise than by `.json()`" if parent is None else \
            _reads_of_json(_json_call(call), edits, quote)
    declaration = _declared(result)
    if declaration is None:
        return "the HTTP response is passed on where its JSON reads cannot be followed"
    name = text_of(declaration.child_by_field_name("name") or declaration)
    for use in uses_of(name, declaration):
        top, segments = chain(use)
        if kind == "axios" and segments[:1] == ["data"]:
            parent = use.parent
            assert parent is not None
            bases.append(parent)
        elif kind == "fetch" and segments == ["json"] and top.parent is not None and top.parent.type == "call_expression":
            bases.append(top.parent)
        elif not (segments and segments[0] in _FETCH_FIELDS):
            return f"the HTTP response `{name}` is used otherwise than for its JSON (`{spelled(segments)}`)"
    notes: list[str] = []
    for base in bases:
        found = _reads_of_json(base, edits, quote)
        if isinstance(found, str):
            return found
        notes.extend(found)
    return list(dict.fromkeys(notes))


def _json_call(call: Node) -> Node:
    """``got.post(…).json()``: the node that is the JSON (the call of ``.json``), or ``call`` itself."""
    member = call.parent
    if member is not None and member.type == "member_expression" and member.parent is not None \
            and member.parent.type == "call_expression":
        return member.parent
    return call


def _reads_of_json(json: Node, edits: list[Edit], quote: str) -> list[str] | str:
    """Rename the reads of one expression that evaluates to the answer's JSON (awaited or not)."""
    held = _awaited(json)
    if held.parent is not None and held.parent.type == "parenthesized_expression":
        return _read(held.parent, text_of(held.parent), edits, quote)
    declaration = _declared(held)
    if declaration is None:
        return _read(held, text_of(held), edits, quote)
    name = text_of(declaration.child_by_field_name("name") or declaration)
    notes: list[str] = []
    for use in uses_of(name, declaration):
        found = _read(use, name, edits, quote)
        if isinstance(found, str):
            return found
        notes.extend(found)
    return notes


def _read(use: Node, base: str, edits: list[Edit], quote: str) -> list[str] | str:
    top, segments = chain(use)
    if not segments:
        call = top.parent.parent if top.parent is not None and top.parent.type == "arguments" else None
        function = call.child_by_field_name("function") if call is not None else None
        if function is not None and text_of(function).startswith("console."):
            return [PRINTED]
        return "the answer's JSON is used whole (its fields differ: `output` items instead of `choices`)"
    new = rewrite_segments(segments)
    if isinstance(new, str):
        return new
    if new and new[0] == "output_text":
        if new[1:]:
            return "the text is indexed further"
        edits.append((use.end_byte, top.end_byte, TEXT_OF_OUTPUT.format(q=quote)))
    elif new != segments:
        edits.append((use.end_byte, top.end_byte, "." + spelled(new)))
    return []
