"""The request fast paths and the checking converters agree on every body.

``messages_to_input`` and ``input_to_messages`` take common shapes inline and
send the rest through converters that check every field. A fast path that
widens can drift: drop a loss, accept a wrong type, or build a different item.
Here each body is translated twice, with the fast paths allowed and with
``content.FAST_PATH`` off, and the two outcomes (body, losses, problems) must
be identical.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from migrator import MappingError, StrictModeError, translate
from migrator.mapping import chat_request, content, responses_request
from migrator.mapping.context import Context
from tests import strategies as S

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "mapping"
_REQUEST_KEYS = ("messages", "input")


def _outcome(body: Any, to: str, options: dict[str, Any], *, fast: bool) -> tuple[str, Any]:
    """What translate gives, as comparable data: a body and its losses, or the failure."""
    saved = content.FAST_PATH
    content.FAST_PATH = fast
    try:
        result = translate(copy.deepcopy(body), to, **options)
    except MappingError as exc:
        return "problems", [(p.path, p.expected, p.found) for p in exc.problems]
    except StrictModeError as exc:
        return "strict", [(x.path, x.field, x.kind, x.reason) for x in exc.losses]
    finally:
        content.FAST_PATH = saved
    return "ok", (result.body, [(x.path, x.field, x.kind, x.reason) for x in result.losses])


def _assert_same(body: Any, to: str, options: dict[str, Any] | None = None) -> None:
    options = options or {}
    fast = _outcome(body, to, options, fast=True)
    checked = _outcome(body, to, options, fast=False)
    assert fast == checked, f"fast path and checking path differ on\n{json.dumps(body, default=repr)[:2000]}"


def _request_cases() -> Iterator[Any]:
    for file in sorted(FIXTURES.rglob("*.json")):
        data = json.loads(file.read_text())
        for n, case in enumerate(data if isinstance(data, list) else [data]):
            before = case.get("before")
            if isinstance(before, dict) and any(k in before for k in _REQUEST_KEYS):
                name = f"{file.parent.name}/{file.stem}#{case.get('name', n)}"
                yield pytest.param(before, case.get("to", "responses"), case.get("options", {}), id=name)


_CASES = list(_request_cases())


def test_the_fixtures_hold_requests_of_both_directions() -> None:
    """The parametrised test below has something to compare (a path mistake would make it vacuous)."""
    kinds = {"messages" in c.values[0] for c in _CASES}
    assert len(_CASES) > 50 and kinds == {True, False}


@pytest.mark.parametrize(("before", "to", "options"), _CASES)
def test_fixture_requests_translate_the_same_on_both_paths(before: Any, to: str, options: dict[str, Any]) -> None:
    _assert_same(before, to, options)
    # and the other way, whatever it gives (a body meant for one side, read as the other, is a good stress)
    _assert_same(before, "chat" if to == "responses" else "responses")


def test_the_switch_really_forces_the_checking_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """With the switch off, a plain message goes through the checking converter (else the test compares one path with itself)."""
    from migrator.mapping import chat_request, responses_request

    calls: list[str] = []
    real_chat, real_resp = chat_request._message, responses_request._message

    def spy_chat(*a: Any, **k: Any) -> Any:
        calls.append("chat")
        return real_chat(*a, **k)

    def spy_resp(*a: Any, **k: Any) -> Any:
        calls.append("responses")
        return real_resp(*a, **k)

    monkeypatch.setattr(chat_request, "_message", spy_chat)
    monkeypatch.setattr(responses_request, "_message", spy_resp)
    chat_body = {"model": "m", "messages": [{"role": "user", "content": "hi"}]}
    resp_body = {"model": "m", "input": [{"role": "user", "content": "hi"}]}
    translate(chat_body, "responses")
    translate(resp_body, "chat")
    assert calls == []  # the fast path took them
    _outcome(chat_body, "responses", {}, fast=False)
    _outcome(resp_body, "chat", {}, fast=False)
    assert calls == ["chat", "responses"]
    assert content.FAST_PATH is True  # restored


_SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@_SETTINGS
@given(st.one_of(S.chat_requests(), S.lossy_chat_requests().map(lambda t: t[0])))
def test_generated_chat_requests_translate_the_same_on_both_paths(body: dict[str, Any]) -> None:
    _assert_same(body, "responses")


@_SETTINGS
@given(st.one_of(S.responses_requests(), S.responses_requests(instructions=True),
                 S.lossy_responses_requests().map(lambda t: t[0])))
def test_generated_responses_requests_translate_the_same_on_both_paths(body: dict[str, Any]) -> None:
    _assert_same(body, "chat")


_SCALARS = st.none() | st.booleans() | st.integers(-2, 2) | st.text(max_size=4)
_VALUES = st.recursive(_SCALARS, lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=6), c, max_size=3),
                       max_leaves=6)


def _objects(node: Any, found: list[dict[str, Any]]) -> list[dict[str, Any]]:
    if type(node) is dict:
        found.append(node)
        for value in node.values():
            _objects(value, found)
    elif type(node) is list:
        for value in node:
            _objects(value, found)
    return found


@st.composite
def _perturbed(draw: st.DrawFn, bodies: st.SearchStrategy[dict[str, Any]], key: str) -> dict[str, Any]:
    """A valid body with one field of one object at any depth of its messages/items set to an odd value."""
    body = draw(bodies)
    objects = _objects(body.get(key), [])
    if not objects:
        return body
    target = draw(st.sampled_from(objects))
    extras = ["refusal", "annotations", "name", "type", "function", "id", "status", "detail", "x_extra"]
    field = draw(st.sampled_from([*target, *extras]))
    if draw(st.integers(0, 4)) == 0:
        target.pop(field, None)
    else:
        target[field] = draw(_VALUES)
    return body


@_SETTINGS
@given(_perturbed(S.chat_requests(), "messages"))
def test_perturbed_chat_requests_translate_the_same_on_both_paths(body: dict[str, Any]) -> None:
    _assert_same(body, "responses")


@_SETTINGS
@given(_perturbed(S.responses_requests(), "input"))
def test_perturbed_responses_requests_translate_the_same_on_both_paths(body: dict[str, Any]) -> None:
    _assert_same(body, "chat")


# Every shape a fast path takes, as a program sends it: each field at every depth of each is then
# set to wrong values (or removed), and both paths must still agree (an exhaustive, deterministic sweep).
_CHAT_SHAPES: list[dict[str, Any]] = [
    {"role": "user", "content": "hi"},
    {"role": "developer", "content": "be brief"},
    {"role": "system", "content": [{"type": "text", "text": "rules"}]},
    {"role": "user", "content": [{"type": "text", "text": "look"},
                                 {"type": "image_url", "image_url": {"url": "https://x/a.png", "detail": "high"}},
                                 {"type": "image_url", "image_url": {"url": "https://x/b.png"}},
                                 {"type": "file", "file": {"file_id": "file-1", "filename": "a.pdf"}}]},
    {"role": "assistant", "content": None, "tool_calls": [
        {"id": "call_1", "type": "function", "function": {"name": "f", "arguments": "{}"}}]},
    {"role": "assistant", "content": "done", "refusal": None},
    {"content": None, "refusal": None, "role": "assistant", "annotations": [], "audio": None, "function_call": None,
     "tool_calls": [{"id": "call_9", "function": {"arguments": "{}", "name": "g"}, "type": "function"}]},
    {"role": "assistant", "content": None, "refusal": "no"},
    {"role": "assistant", "content": [{"type": "text", "text": "a"}, {"type": "refusal", "refusal": "b"}]},
    {"role": "tool", "tool_call_id": "call_1", "content": "42"},
    {"role": "tool", "tool_call_id": "call_1", "content": [{"type": "text", "text": "42"}]},
]
_RESPONSES_SHAPES: list[dict[str, Any]] = [
    {"role": "user", "content": "hi"},
    {"role": "developer", "content": [{"type": "input_text", "text": "be brief"}]},
    {"role": "user", "content": [{"type": "input_text", "text": "look"},
                                 {"type": "input_image", "image_url": "https://x/a.png", "detail": "auto"},
                                 {"type": "input_image", "image_url": "https://x/b.png"},
                                 {"type": "input_file", "file_id": "file-1"},
                                 {"type": "input_file", "file_data": "data:application/pdf;base64,JVBERi0=", "filename": "a.pdf"}]},
    {"type": "message", "id": "msg_1", "role": "assistant", "status": "completed",
     "content": [{"type": "output_text", "text": "done", "annotations": []}]},
    {"type": "message", "id": "msg_2", "role": "assistant", "status": "completed",
     "content": [{"type": "refusal", "refusal": "no"}]},
    {"type": "function_call", "id": "fc_1", "call_id": "call_1", "name": "f", "arguments": "{}", "status": "completed"},
    {"type": "function_call", "call_id": "call_2", "name": "f", "arguments": "{}"},
    {"type": "function_call_output", "call_id": "call_1", "output": "42"},
    {"type": "function_call_output", "call_id": "call_2", "output": [{"type": "input_text", "text": "42"}]},
]
# What programs send, as they send it: the SDK echoes an answer it parsed from the API back into the
# next request as model_dump(exclude_unset=True, mode="json") (openai/_utils/_transform.py); a hand-written
# loop often calls model_dump() itself. Each shape must take the fast path, not only agree with the checking one.
def _sdk(cls: Any, api_json: dict[str, Any], **dump: Any) -> dict[str, Any]:
    return cls.model_validate(api_json).model_dump(mode="json", **dump)  # type: ignore[no-any-return]


def _sdk_chat_shapes() -> list[dict[str, Any]]:
    from openai.types.chat import ChatCompletionMessage

    calls = [{"id": "call_7", "type": "function", "function": {"name": "f", "arguments": "{\"a\": 1}"}}]
    api = [{"role": "assistant", "content": None, "refusal": None, "annotations": [], "tool_calls": calls},
           {"role": "assistant", "content": "done", "refusal": None, "annotations": []},
           {"role": "assistant", "content": None, "refusal": "I can't help with that.", "annotations": []}]
    return [_sdk(ChatCompletionMessage, a, **dump) for a in api for dump in ({"exclude_unset": True}, {})]


def _sdk_responses_shapes() -> list[dict[str, Any]]:
    from openai.types.responses import ResponseFunctionToolCall, ResponseOutputMessage, ResponseReasoningItem

    text = {"type": "output_text", "text": "done", "annotations": [], "logprobs": []}
    message = {"type": "message", "id": "msg_9", "role": "assistant", "status": "completed", "content": [text]}
    refused = dict(message, content=[{"type": "refusal", "refusal": "no"}])
    call = {"type": "function_call", "id": "fc_9", "call_id": "call_9", "name": "f", "arguments": "{}", "status": "completed"}
    reasoning = {"type": "reasoning", "id": "rs_9", "summary": [{"type": "summary_text", "text": "Thinking it over."}],
                 "encrypted_content": None}
    shapes = [_sdk(ResponseOutputMessage, m, exclude_unset=True) for m in (message, refused)]
    shapes += [_sdk(ResponseOutputMessage, message), _sdk(ResponseOutputMessage, message, exclude_none=True)]
    shapes += [_sdk(ResponseFunctionToolCall, call, exclude_unset=True), _sdk(ResponseReasoningItem, reasoning, exclude_unset=True),
               _sdk(ResponseReasoningItem, reasoning)]
    return shapes


_COMMON_CHAT = [*_CHAT_SHAPES, *_sdk_chat_shapes(),
                {"role": "developer", "content": [{"type": "text", "text": "be brief"}]},
                {"role": "assistant", "content": [{"type": "text", "text": "a"}], "tool_calls": [
                    {"id": "call_3", "type": "function", "function": {"name": "f", "arguments": "{}"}}]},
                {"role": "assistant", "content": "partly", "refusal": "the rest, no"}]
_COMMON_RESPONSES = [*_RESPONSES_SHAPES, *_sdk_responses_shapes(),
                     {"type": "message", "role": "assistant", "content": [
                         {"type": "output_text", "text": "a", "annotations": []}, {"type": "refusal", "refusal": "b"}]}]


_WRONG: list[Any] = [None, 5, 1.5, True, "", "x", [], [{"type": "text", "text": "t"}], {}, {"url": "u"}]
_EXTRA_KEYS = ["type", "role", "content", "text", "detail", "refusal", "annotations", "name", "id", "status", "x_extra"]


def _variants(shape: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield copy.deepcopy(shape)
    for n in range(len(_objects(shape, []))):
        for key in sorted({*_objects(shape, [])[n], *_EXTRA_KEYS}):
            for value in [*_WRONG, _MISSING]:
                variant = copy.deepcopy(shape)
                target = _objects(variant, [])[n]
                if value is _MISSING:
                    if key not in target:
                        continue
                    del target[key]
                else:
                    target[key] = value
                yield variant


_MISSING = object()


@pytest.mark.parametrize("shape", _COMMON_CHAT, ids=lambda s: json.dumps(s)[:60])
def test_every_fast_chat_shape_and_its_mistakes_agree(shape: dict[str, Any]) -> None:
    for variant in _variants(shape):
        # alone, and after a tool-calling turn (tool outputs answer it; assistant turns may merge)
        _assert_same({"model": "m", "messages": [variant]}, "responses")
        _assert_same({"model": "m", "messages": [_CHAT_SHAPES[4], variant]}, "responses")


@pytest.mark.parametrize("shape", _COMMON_RESPONSES, ids=lambda s: json.dumps(s)[:60])
def test_every_fast_responses_shape_and_its_mistakes_agree(shape: dict[str, Any]) -> None:
    for variant in _variants(shape):
        _assert_same({"model": "m", "input": [variant]}, "chat")
        _assert_same({"model": "m", "input": [_RESPONSES_SHAPES[3], variant]}, "chat")


@pytest.fixture
def checking_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every call of a checking converter (or of the table walk they use), by name."""
    calls: list[str] = []

    def spy(owner: Any, name: str) -> None:
        real = getattr(owner, name)

        def wrapper(*a: Any, **k: Any) -> Any:
            calls.append(name)
            return real(*a, **k)
        monkeypatch.setattr(owner, name, wrapper)

    for owner, names in ((chat_request, ("_message", "_assistant", "_tool_calls")), (responses_request, ("_message", "_call")),
                         (Context, ("check", "carry"))):
        for name in names:
            spy(owner, name)
    return calls


_COMMON = [pytest.param(shape, "messages", "responses", id="chat " + json.dumps(shape)[:60]) for shape in _COMMON_CHAT] \
    + [pytest.param(shape, "input", "chat", id="responses " + json.dumps(shape)[:60]) for shape in _COMMON_RESPONSES]


@pytest.mark.parametrize(("shape", "key", "to"), _COMMON)
def test_every_common_shape_takes_the_fast_path(shape: dict[str, Any], key: str, to: str, checking_calls: list[str]) -> None:
    body = {"model": "m", key: [{"role": "user", "content": "q"}, shape, {"role": "user", "content": "and?"}]}
    translate(copy.deepcopy(body), to)
    assert checking_calls == []
    _assert_same(body, to)
    if key == "messages":
        assert checking_calls  # the checking path ran for the comparison: the spies see it


def test_the_sdk_shapes_are_what_the_sdk_echoes() -> None:
    """The shapes above really carry the SDK's extra keys (a dump that dropped them would test nothing new)."""
    chat, responses = _sdk_chat_shapes(), _sdk_responses_shapes()
    assert {"refusal", "annotations", "audio", "function_call"} <= set(chat[1]) and chat[0]["tool_calls"]
    assert responses[2].get("phase", 0) is None and "logprobs" in responses[0]["content"][0]
    assert any(s["type"] == "reasoning" and s["summary"] for s in responses)


def test_many_items_that_need_their_index_stay_linear() -> None:
    """Refusals mint ids from their index and reasoning items report a path: past a few, the index is
    mapped once, and the answers are those of a scan (the first occurrence of that very object)."""
    from migrator.mapping.fastpath import Positions

    seq: list[Any] = [{"n": i % 3} for i in range(50)]
    shared = seq[7]
    seq.append(shared)
    at = Positions(seq)
    asked = [at(seq[i]) for i in (3, 10, 20, 49, 50)] + [at({"n": 0})]
    assert asked == [3, 10, 20, 49, 7, -1] and at.index is not None
    body = {"model": "m", "input": [{"type": "reasoning", "id": f"rs_{i}", "summary": []} for i in range(5)]
            + [{"role": "user", "content": "q"}]}
    losses = translate(body, "chat").losses
    assert [x.path for x in losses] == [f"$.input[{i}]" for i in range(5)]
