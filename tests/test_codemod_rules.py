"""The codemod's rewrites, case by case: ``fixtures/codemod/<group>/<case>/before.py`` → ``after.py``.

Groups say what a case proves: ``call`` (rewritten), ``unsafe`` (rewritten only with
``--unsafe-fixes``, from ``options.json``), ``left`` (kept as it was, with a note), ``noop``
(byte-identical; a site there is in the report only). Every output parses and a second run changes
nothing.
"""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

from migrator.codemod.outcome import NOTE_PREFIX, Options
from migrator.codemod.transform import transform_code

ROOT = Path(__file__).resolve().parent.parent / "fixtures" / "codemod"
GROUPS = ("call", "http", "unsafe", "left", "noop")
CASES = sorted(p.parent for g in GROUPS for p in (ROOT / g).glob("*/before.py"))


def _options(case: Path) -> Options:
    path = case / "options.json"
    raw = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    return Options(unsafe_fixes=raw.get("unsafe_fixes", False), responses_hosts=frozenset(raw.get("responses_hosts", ())),
                   hoist_instructions=raw.get("hoist_instructions", False))


@pytest.mark.parametrize("case", CASES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_before_becomes_after(case: Path) -> None:
    before = (case / "before.py").read_text(encoding="utf-8")
    after = (case / "after.py").read_text(encoding="utf-8")
    options = _options(case)
    outcome = transform_code(before, options)
    assert outcome.code == after
    ast.parse(after)
    assert transform_code(after, options).code == after, "a second run changed the code"
    group = case.parent.name
    if group == "noop":
        assert after == before and all(s.verdict == "left for a person" for s in outcome.sites)
    elif group == "left":
        assert ("chat.completions" in after or "/chat/completions" in after) and NOTE_PREFIX in after
        assert outcome.sites and all(s.verdict == "left for a person" for s in outcome.sites)
        assert all(s.reasons for s in outcome.sites)
    else:
        assert outcome.sites and all(s.verdict != "left for a person" for s in outcome.sites)
        assert (".responses." in after or "/responses" in after) and "chat.completions" not in after and "chat/completions" not in after


def test_the_unsafe_case_is_left_without_the_flag() -> None:
    before = (ROOT / "unsafe" / "none_test_through_name" / "before.py").read_text(encoding="utf-8")
    outcome = transform_code(before, Options())
    assert outcome.code == (ROOT / "left" / "none_test_through_name" / "after.py").read_text(encoding="utf-8")
    assert [s.applicability for s in outcome.sites] == ["unsafe"]


def test_every_removed_argument_is_named_with_its_source_and_the_tables_reason() -> None:
    from migrator.mapping.rules import TABLES

    outcome = transform_code((ROOT / "call" / "dropped_arguments" / "before.py").read_text(encoding="utf-8"), Options())
    request = TABLES["chat.request"]
    for name, source in (("n", "n=1"), ("seed", "seed=42"), ("stop", 'stop=["\\n\\n"]'), ("frequency_penalty", "frequency_penalty=0.5"),
                         ("presence_penalty", "presence_penalty=0")):
        lines = [line for line in outcome.code.splitlines() if line.startswith(f"{NOTE_PREFIX} removed `{source}")]
        assert len(lines) == 1, name
        assert request[name].reason in lines[0]


def test_a_file_that_does_not_parse_raises_the_parser_error() -> None:
    import libcst

    with pytest.raises(libcst.ParserSyntaxError):
        transform_code("def broken(:\n    client.chat.completions.create()\n", Options())


def test_source_without_a_site_is_not_parsed() -> None:
    """The cheap text check: a file that only names ChatCompletion in an annotation is returned as it is."""
    code = "from openai.types.chat import ChatCompletion\n\ndef f(c: ChatCompletion) -> None: (\n"
    assert transform_code(code, Options()).code == code


def test_the_pinned_sdks_parse_converts_chat_pydantic_tools_and_create_takes_them_as_they_are() -> None:
    """Why `pydantic_function_tool` stays in a `responses.parse` call and leaves a `responses.create` one."""
    import inspect

    import openai
    from openai.lib import _response_resources
    from openai.resources.responses import Responses
    from pydantic import BaseModel

    class GetWeather(BaseModel):
        city: str

    converted = _response_resources._make_tools([openai.pydantic_function_tool(GetWeather)])
    assert isinstance(converted, list) and converted[0]["name"] == "GetWeather" and "function" not in converted[0]
    assert "_make_tools" not in inspect.getsource(Responses.create)


def test_the_stream_helpers_event_pairs_are_the_pinned_sdks() -> None:
    """Each chat helper event the codemod renames, and each attribute, exists in the pinned SDK."""
    import typing

    import pydantic
    from openai.lib.streaming.chat import _events as chat_events
    from openai.lib.streaming.responses import _events as responses_events

    from migrator.codemod.stream_helper import EVENTS

    def by_type(module: object) -> dict[str, set[str]]:
        out: dict[str, set[str]] = {}
        for value in vars(module).values():
            if isinstance(value, type) and issubclass(value, pydantic.BaseModel) and "type" in value.model_fields:
                for literal in typing.get_args(value.model_fields["type"].annotation):
                    out.setdefault(literal, set()).update(value.model_fields)
        return out

    chat, responses = by_type(chat_events), by_type(responses_events)
    for chat_type, (responses_type, renames) in EVENTS.items():
        assert chat_type in chat and responses_type in responses, (chat_type, responses_type)
        for old, new in renames.items():
            assert old in chat[chat_type] and new in responses[responses_type], (chat_type, old, new)


def test_sites_are_reported_at_their_line_and_column_even_when_two_read_alike() -> None:
    code = ("from openai import OpenAI\n\nclient = OpenAI()\n"
            "# client.chat.completions.create(model=\"m\", messages=[])\n"
            "a = client.chat.completions.create(model=\"m\", messages=[])\n"
            "if True:\n    b = client.chat.completions.create(model=\"m\", messages=[])\n"
            "def f():\n    c = client.chat.completions.create(\n        model=\"m\",\n        messages=[],\n    )\n")
    sites = transform_code(code, Options()).sites
    assert [(s.line, s.column) for s in sites] == [(5, 4), (7, 8), (9, 8)]
