"""A JSON example in a document: a chat request becomes its Responses request, a ChatCompletion a Response.

The engine decides every field (``migrator.translate``); the example's layout is kept by the
writer curl bodies use too (json_layout.py).

A translated completion is a whole Response (thirty fields, most of them defaults, and a creation
time of now when the example has none): the example keeps only the fields whose counterpart it had,
plus ``status``, so a three-key example stays a short one and a second run finds nothing to do.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from ...errors import MappingError
from ...mapping import translate
from ...mapping.rules import TABLES
from ...mapping.translate import detect
from ..call import why_lossless
from ..json_layout import JsonError, parse, rewrite, top_level

_REQUEST = TABLES["chat.request"]
_COMPLETION = TABLES["chat.completion"]


STREAMED = ("`stream: true`: the answer is a stream of typed Responses events (`response.output_text.delta` carries "
            "the text), not chat chunks; the code or text that reads it changes too")


@dataclass(frozen=True)
class JsonOutcome:
    text: str | None
    """The new example, or None when it is left as it was."""
    rule: str
    reasons: tuple[str, ...] = ()
    left: bool = False


def migrate_json(text: str, hoist: bool = False) -> JsonOutcome:
    """The Responses counterpart of a JSON example, by the engine; None as ``text`` for any other JSON."""
    try:
        body = json.loads(text)  # C speed: most JSON in a page is no API body, and is not read twice
        kind = detect(body)
    except MappingError as exc:
        if isinstance(body, dict) and ("choices" in body or body.get("object") == "chat.completion.chunk"):
            return JsonOutcome(None, "docs-json-chunk", (f"a Chat Completions stream chunk: {exc.problems[0].expected}; "
                                                         "a Responses stream sends typed events instead", ), left=True)
        return JsonOutcome(None, "")
    except ValueError:  # not JSON
        return JsonOutcome(None, "")
    if kind not in ("chat.request", "chat.completion"):
        return JsonOutcome(None, "")
    try:
        root = parse(text)
    except JsonError:  # what json.loads takes and JSON does not (``NaN``)
        return JsonOutcome(None, "")
    rule = "docs-json-request" if kind == "chat.request" else "docs-json-completion"
    known = _REQUEST if kind == "chat.request" else _COMPLETION
    foreign = [name for name in body if name not in known]
    if foreign:  # JSON has no comment to keep them in: the example stays whole rather than lose them
        names = ", ".join(f"`{name}`" for name in foreign)
        return JsonOutcome(None, rule, (f"{names}: not {'a parameter' if kind == 'chat.request' else 'a field'} of the "
                                        "OpenAI API (another server's extension?); a JSON block cannot carry a note, so "
                                        "the example is left as written",), left=True)
    try:
        result = translate(body, to="responses", hoist_system=hoist)
    except MappingError as exc:
        return JsonOutcome(None, rule, tuple(f"{p.path}: expected {p.expected}, found {p.found}" for p in exc.problems),
                           left=True)
    out = result.body
    rename = top_level(_REQUEST if kind == "chat.request" else _COMPLETION)
    if kind == "chat.completion":  # only what the example had a counterpart for
        keep = {rename(name, 0) for name in body if name in _COMPLETION} | {"status"}
        out = {k: v for k, v in out.items() if k in keep}
    reasons = [f"{loss.path[2:] or loss.field}: {loss.reason}" for loss in result.losses]
    if kind == "chat.request":
        lost = {loss.path[2:] for loss in result.losses}
        reasons += [f"removed `{name}`: {why_lossless(name, body[name])}" for name in body
                    if name in _REQUEST and name not in lost and rename(name, 0) not in out]
        if body.get("stream") is True:
            reasons.append(STREAMED)
    return JsonOutcome(rewrite(text, root, out, rename), rule, tuple(reasons))
