"""``finish_reason`` read as a value: the migrated code says what Chat said, for every way an answer ends.

A program that reads ``finish_reason`` (printed, kept, in f-strings of either quote) runs once on a
ChatCompletion and once, migrated, on the Response the engine translates that completion into: both
must return the same. The execution test of ``programs/finish_reason`` never reaches its ``else``
branch (the offline model ends answers by ``length`` or ``stop``); this reaches every value.
"""

from __future__ import annotations

import copy
import json
from types import SimpleNamespace
from typing import Any

import pytest
from openai.types.chat import ChatCompletion
from openai.types.responses import Response

from migrator.codemod.finish_tests import FINISH_VALUE
from migrator.codemod.outcome import NOTE_PREFIX, Options
from migrator.codemod.transform import transform_code
from migrator.mapping import translate
from migrator.mapping.rules import VALUES

PROGRAM = '''
from openai import OpenAI

client = OpenAI()


def ended(question):
    reply = client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": question}])
    choice = reply.choices[0]
    kept = reply.choices[0].finish_reason
    return [kept, choice.finish_reason, f"{choice.finish_reason}", f'{reply.choices[0].finish_reason!r}', """{}""".format(kept)]
'''

_COMPLETION: dict[str, Any] = {
    "id": "chatcmpl-1", "object": "chat.completion", "created": 1764072000, "model": "gpt-4o-mini",
    "choices": [{"index": 0, "finish_reason": "stop", "logprobs": None,
                 "message": {"role": "assistant", "content": "Tides follow the moon.", "refusal": None}}],
    "usage": {"prompt_tokens": 9, "completion_tokens": 5, "total_tokens": 14},
}
_CALL = {"id": "call_a", "type": "function", "function": {"name": "get_weather", "arguments": json.dumps({"city": "Busan"})}}
LEGACY = "function_call"  # the deprecated `functions` parameter's: a Response's function_call item reads as tool_calls
ENDINGS = [(finish, called) for finish in VALUES["finish_reason"] if finish != LEGACY for called in (False, True)
           if not (finish == "tool_calls" and not called) and not (finish == "stop" and called)]


def _run(code: str, answer: object) -> list[str]:
    """``ended()`` of ``code``, its client answering ``answer`` on whichever resource the code calls."""
    namespace: dict[str, Any] = {}
    exec(compile(code, "<program>", "exec"), namespace)  # builds a client: no request is sent
    create = SimpleNamespace(create=lambda **_: answer)
    namespace["client"] = SimpleNamespace(chat=SimpleNamespace(completions=create), responses=create)
    result: list[str] = namespace["ended"]("How do tides work?")
    return result


UNSAFE = Options(unsafe_fixes=True)
"""The rewrite is long and approximates (any other incomplete reason reads as "length"): an unsafe fix."""


@pytest.fixture(autouse=True)
def _key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")


def test_the_read_is_rewritten_with_one_note() -> None:
    migrated = transform_code(PROGRAM, UNSAFE)
    assert "finish_reason" not in migrated.code.replace(FINISH_VALUE, "")
    assert migrated.code.count(f"{NOTE_PREFIX} {FINISH_VALUE}") == 1
    assert [site.verdict for site in migrated.sites] == ["migrated with notes"]


def test_without_unsafe_fixes_the_site_is_left_and_says_a_fix_exists() -> None:
    left = transform_code(PROGRAM, Options())
    assert left.code.count("chat.completions.create") == 1
    assert [(site.verdict, site.applicability) for site in left.sites] == [("left for a person", "unsafe")]
    assert "--unsafe-fixes" in left.sites[0].reasons[0]


@pytest.mark.parametrize(("finish", "called"), ENDINGS)
def test_the_migrated_read_says_what_chat_said(finish: str, called: bool) -> None:
    completion = copy.deepcopy(_COMPLETION)
    completion["choices"][0]["finish_reason"] = finish
    if called:
        completion["choices"][0]["message"]["tool_calls"] = [_CALL]
    response = translate(completion, "responses").body
    before = _run(PROGRAM, ChatCompletion.model_validate(completion))
    after = _run(transform_code(PROGRAM, UNSAFE).code, Response.model_validate(response))
    assert before == [finish, finish, finish, repr(finish), finish]
    assert after == before


@pytest.mark.parametrize("status", ["failed", "cancelled"])
def test_a_status_no_chat_answer_ends_with_reads_as_itself(status: str) -> None:
    response = translate(copy.deepcopy(_COMPLETION), "responses").body
    response["status"] = status
    after = _run(transform_code(PROGRAM, UNSAFE).code, Response.model_validate(response))
    assert after == [status, status, status, repr(status), status]


def test_inside_f_strings_of_both_quotes_the_site_is_left() -> None:
    code = PROGRAM.replace('f"{choice.finish_reason}"', '''f"{f'{choice.finish_reason}'}"''')
    migrated = transform_code(code, UNSAFE)
    assert [site.verdict for site in migrated.sites] == ["left for a person"]
    assert "both quotes" in migrated.sites[0].reasons[0]
