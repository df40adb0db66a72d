"""Values have types: a present value of the wrong JSON type is a ``MappingError`` naming its path.

The types are declared once, in ``mappings/*.json`` (each field rule's ``type``,
checked against the SDK by ``tests/test_sdk_coverage.py``). Here the engine is
held to them: every field of every fixture body is replaced, one at a time, by
a value of each other JSON type, and the translation must either fail with a
problem at (or under) that path or be one of the tolerated variants listed in
``TOLERATED`` below, each with its reason.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from migrator import MappingError, translate
from migrator.mapping.errors import describe
from tests.mutations import replaced
from tests.sdk_shapes import ShapeError, check_request, check_result

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures" / "mapping"

#: One value of each JSON type; lists and objects are not empty, so their insides are wrong too.
MUTANTS: dict[str, Any] = {
    "null": None, "boolean": True, "integer": 7, "number": 2.5, "string": "x", "array": ["x"], "object": {"x": 1},
}


def json_type(value: Any) -> str:
    if value is None:
        return "null"
    return {bool: "boolean", int: "integer", float: "number", str: "string", list: "array", dict: "object"}[type(value)]


# The tolerated variants: (body kinds, path pattern, mutant types, why). A wrongly typed value
# (one the SDK types reject) that the engine accepts must match one of these; the pattern is
# matched against the whole JSON path of the replaced value. Each says why nothing is invented
# or forwarded unchecked by accepting it.
_ANY = ("null", "boolean", "integer", "number", "string", "array", "object")
_ECHO = r"instructions|tools|tool_choice|parallel_tool_calls|temperature|top_p|top_logprobs|text|reasoning|truncation" \
        r"|max_output_tokens|max_tool_calls|previous_response_id|conversation|prompt|prompt_cache_key|prompt_cache_options" \
        r"|prompt_cache_retention|safety_identifier|user|background|store|image|access_programs|completed_at"
TOLERATED: list[tuple[tuple[str, ...], str, tuple[str, ...], str]] = [
    (("chat.request", "responses.request", "chat.completion", "response"), r".*\.metadata[.\[].*", _ANY,
     "inside metadata: a free-form object of strings, copied whole (its own type, object, is checked)"),
    (("chat.request", "responses.request", "chat.completion", "response"), r".*\.metadata", ("object",),
     "metadata replaced by another object: copied whole, as above"),
    (("chat.request",), r"\$\.(prompt_cache_options|moderation)[.\[].*", _ANY,
     "inside an object copied whole to the same-named Responses parameter, which has the same type (checked there)"),
    (("responses.request",), r"\$\.moderation[.\[].*", _ANY,
     "inside an object copied whole to the same-named Chat parameter"),
    (("chat.request", "responses.request"), r".*\.prompt_cache_breakpoint[.\[].*", _ANY,
     "inside a part's cache breakpoint, copied whole to the counterpart part"),
    (("responses.request",), r"\$\.input\[\d+\]\.content", ("string",),
     "a message's content may be a string beside id/status: the message table merges the SDK's message forms"),
    (("responses.request",), r"\$\.input\[\d+\]\.content\[\d+\]\.(annotations|logprobs)[.\[].*", _ANY,
     "inside the output-only fields of an echoed output_text part, which are omitted (never sent)"),
    (("response",), rf"\$\.({_ECHO})([.\[].*)?", ("object", "array"),
     "an object or list inside a request field a Response echoes; Chat has no place for it and it is omitted"),
    (("response",), rf"\$\.({_ECHO})[.\[].*", _ANY,
     "inside a request field a Response echoes; omitted from the ChatCompletion"),
    (("response",), r"\$\.(error|incomplete_details)", ("object",),
     "an object with unknown keys where the status says it is not read (a completed response)"),
    (("response", "chat.completion"), r".*\.bytes(\[\d+\])?", ("array", "string", "boolean", "number", "object", "null"),
     "the items of a token's bytes: the list (whose type is checked) is carried as it is, its items unread"),
    (("response", "chat.completion"), r"\$\.moderation\..*\.(categories|category_scores|category_applied_input_types)[.\[].*",
     _ANY, "inside a moderation result's category maps: objects carried whole (their type, object, is checked)"),
]


def _nullable_fields() -> frozenset[str]:
    """Field names some table declares null for (the SDK's Optional, an ``unless`` default, a variant)."""
    names: set[str] = set()
    for path in sorted((ROOT / "mappings").glob("*.json")):
        raw = json.loads(path.read_text(encoding="utf-8"))
        for table in raw.get("tables", {}).values():
            names.update(k for k, rule in table["fields"].items() if "null" in rule["type"])
    return frozenset(names)


NULLABLE = _nullable_fields()


def tolerated(kind: str, path: str, mutant: str) -> str | None:
    if mutant == "null" and re.search(r"\.(\w+)$", path) and path.rsplit(".", 1)[1] in NULLABLE:
        return "null where the tables declare null for the field (a default that loses nothing, or a listed variant)"
    for kinds, pattern, mutants, why in TOLERATED:
        if kind in kinds and mutant in mutants and re.fullmatch(pattern, path):
            return why
    return None


def _cases() -> Iterator[tuple[str, dict[str, Any]]]:
    for path in sorted(FIXTURES.rglob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        for case in data if isinstance(data, list) else [data]:
            if "error" in case or "raises" in case or "xfail" in case:
                continue
            yield f"{path.parent.name}/{path.stem}/{case['name']}", case


def _paths(value: Any, path: str = "$") -> Iterator[tuple[str, tuple[Any, ...]]]:
    """(JSON path, key path) of every value below the top level."""
    if isinstance(value, dict):
        for k, v in value.items():
            p = f"{path}.{k}" if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", k) else f"{path}['{k}']"
            yield p, (k,)
            for sub, keys in _paths(v, p):
                yield sub, (k, *keys)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            p = f"{path}[{i}]"
            yield p, (i,)
            for sub, keys in _paths(v, p):
                yield sub, (i, *keys)




def _get(body: Any, keys: tuple[Any, ...]) -> Any:
    for k in keys:
        body = body[k]
    return body


def _under(problem: str, path: str) -> bool:
    return problem == path or problem.startswith((path + ".", path + "["))


_KIND_OF_DIRECTORY = {
    "chat_to_responses": "chat.request", "responses_to_chat": "responses.request", "completion_to_response": "chat.completion",
    "response_to_completion": "response",
}


def sdk_problems(body: Any, kind: str) -> set[str]:
    """What the SDK types say is wrong with a body (the oracle: independent of the engine and the tables)."""
    try:
        if kind == "chat.request":
            check_request(body, "chat")
        elif kind == "responses.request":
            check_request(body, "responses")
        else:
            check_result(body, "chat" if kind == "chat.completion" else "responses")
    except ShapeError as exc:
        return set(exc.problems)
    return set()


def mutations() -> Iterator[tuple[str, str, str, str, dict[str, Any], dict[str, Any], bool]]:
    """Every single-field type mutation of the fixtures' bodies, once per body kind and path shape: (case
    id, body kind, path, mutant type, mutated body, translate options, whether the SDK types reject it)."""
    seen: set[tuple[str, tuple[str, Any], str]] = set()
    for case_id, case in _cases():
        kind = _KIND_OF_DIRECTORY.get(case_id.split("/")[0])
        if kind is None:
            continue
        options = {k: v for k, v in case.get("options", {}).items() if k != "strict"}
        options["to"] = case["to"]
        before = case["before"]
        baseline = sdk_problems(before, kind)
        for path, keys in _paths(before):
            original = json_type(_get(before, keys))
            parent = _get(before, keys[:-1])
            # A path shape once per body kind and shape of the object holding it (its keys): the
            # engine's fast paths choose by those keys, so each is reached.
            shape = (re.sub(r"\[\d+\]", "[]", path), tuple(sorted(parent)) if isinstance(parent, dict) else len(parent))
            for mutant_type, mutant in MUTANTS.items():
                if mutant_type == original or (kind, shape, mutant_type) in seen:
                    continue
                seen.add((kind, shape, mutant_type))
                body = replaced(before, keys, mutant)
                yield case_id, kind, path, mutant_type, body, options, bool(sdk_problems(body, kind) - baseline)


def outcome(body: dict[str, Any], path: str, options: dict[str, Any]) -> str:
    """"error" (a MappingError at or under path), "loss" (a loss there), "passed", or what else happened."""
    opts = dict(options)
    to = opts.pop("to")
    try:
        result = translate(body, to, **opts)
    except MappingError as exc:
        if any(_under(p.path, path) for p in exc.problems):
            return "error"
        return "error elsewhere: " + "; ".join(map(str, exc.problems))
    except Exception as exc:  # a crash is what this test reports
        return f"crash: {type(exc).__name__}: {exc}"
    if any(_under(loss.path, path) for loss in result.losses):
        return "loss"
    if any(_under(path, loss.path) for loss in result.losses):
        return "inside a loss"  # inside an item, tool or part dropped whole: nothing of it is forwarded
    return "passed"


def survey() -> tuple[int, int, list[str]]:
    """(mutations, those the SDK rejects, each one that is neither an error at its path nor tolerated)."""
    total = wrong = 0
    bad: list[str] = []
    for case_id, kind, path, mutant_type, body, options, rejected in mutations():
        total += 1
        result = outcome(body, path, options)
        if result.startswith("crash"):
            bad.append(f"{case_id}: {path} := {mutant_type}: {result}")
            continue
        if not rejected:
            continue  # a value of another type the SDK accepts (a union member): any answer but a crash
        wrong += 1
        if result in ("error", "inside a loss") or (result == "loss" and mutant_type in ("string", "array", "object")):
            continue  # an unknown enum string, or a list/object of unknown content, is reported as a loss
        if result in ("passed", "loss") and tolerated(kind, path, mutant_type):
            continue
        bad.append(f"{case_id}: {path} := {mutant_type}: {result}")
    return total, wrong, bad


def test_every_wrong_type_is_an_error_at_its_path_or_a_listed_variant() -> None:
    total, wrong, bad = survey()
    assert wrong > 1000
    assert not bad, f"{len(bad)} of {wrong} wrongly typed values (of {total} mutations):\n  " + "\n  ".join(bad[:80])


# ------------------------------------------------------------------- the examples


def _problems(body: dict[str, Any], to: str, **options: Any) -> dict[str, str]:
    with pytest.raises(MappingError) as info:
        translate(body, to, **options)  # type: ignore[arg-type]
    return {p.path: f"expected {p.expected}, found {p.found}" for p in info.value.problems}


def test_wrongly_typed_request_parameters_are_errors_naming_path_type_and_value() -> None:
    body = {"model": 123, "temperature": "hot", "max_completion_tokens": {"a": 1}, "stream": "yes", "metadata": [1, 2],
            "messages": [{"role": "user", "content": "Hi"}],
            "tools": [{"type": "function", "function": {"name": "f", "parameters": "notaschema", "strict": "maybe"}}]}
    assert _problems(body, "responses") == {
        "$.model": "expected a string, found 123",
        "$.temperature": "expected a number or null, found 'hot'",
        "$.max_completion_tokens": "expected an integer or null, found an object with keys {a}",
        "$.stream": "expected a boolean or null, found 'yes'",
        "$.metadata": "expected an object or null, found a list of 2",
        "$.tools[0].function.parameters": "expected an object, found 'notaschema'",
        "$.tools[0].function.strict": "expected a boolean or null, found 'maybe'",
    }


def test_wrongly_typed_responses_parameters_are_errors() -> None:
    body = {"model": "m", "input": "Hi", "temperature": True, "max_output_tokens": 1.5, "top_p": "1",
            "tools": [{"type": "function", "name": "f", "parameters": [], "strict": 1}]}
    assert set(_problems(body, "chat")) == {"$.temperature", "$.max_output_tokens", "$.top_p",
                                            "$.tools[0].parameters", "$.tools[0].strict"}


_COMPLETION = {"id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": "m",
               "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": "Hi"}}],
               "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}}


@pytest.mark.parametrize(("change", "path"), [
    ({"created": "yesterday"}, "$.created"),
    ({"model": None}, "$.model"),
    ({"usage": {"prompt_tokens": "many", "completion_tokens": 1, "total_tokens": 2}}, "$.usage.prompt_tokens"),
])
def test_a_chat_completion_with_a_wrong_value_is_not_given_an_invented_one(change: dict[str, Any], path: str) -> None:
    assert path in _problems({**_COMPLETION, **change}, "responses")


@pytest.mark.parametrize("calls", [123, {"id": "x"}, "call"])
def test_tool_calls_of_the_wrong_type_are_errors_not_dropped_calls(calls: Any) -> None:
    choice = {"index": 0, "finish_reason": "tool_calls", "message": {"role": "assistant", "content": None, "tool_calls": calls}}
    assert "$.choices[0].message.tool_calls" in _problems({**_COMPLETION, "choices": [choice]}, "responses")


@pytest.mark.parametrize(("change", "path"), [
    ({"created_at": "now"}, "$.created_at"),
    ({"model": 4}, "$.model"),
    ({"usage": {"input_tokens": 1.5, "output_tokens": 1, "total_tokens": 2, "input_tokens_details": {"cached_tokens": 0},
                "output_tokens_details": {"reasoning_tokens": 0}}}, "$.usage.input_tokens"),
    ({"output": [{"type": "function_call", "call_id": "c", "name": "f", "arguments": {}}]}, "$.output[0].arguments"),
])
def test_a_response_with_a_wrong_value_is_an_error(change: dict[str, Any], path: str) -> None:
    response = {"id": "resp_1", "object": "response", "created_at": 1, "model": "m", "status": "completed",
                "output": [{"type": "message", "id": "msg_1", "role": "assistant", "status": "completed",
                            "content": [{"type": "output_text", "text": "Hi", "annotations": []}]}]}
    assert path in _problems({**response, **change}, "chat")


def test_a_boolean_is_not_a_number_and_an_integer_is() -> None:
    base = {"model": "m", "messages": [{"role": "user", "content": "Hi"}]}
    assert "$.temperature" in _problems({**base, "temperature": True}, "responses")
    assert "$.max_completion_tokens" in _problems({**base, "max_completion_tokens": 1.0}, "responses")
    assert translate({**base, "temperature": 1}, "responses").body["temperature"] == 1


# ---------------------------------------------------------------- unhashable enum values


@pytest.mark.parametrize("bad", [[], {}, ["user"], {"a": 1}])
@pytest.mark.parametrize(("body", "to", "path"), [
    ({"model": "m", "messages": [{"role": "<>", "content": "Hi"}]}, "responses", "$.messages[0].role"),
    ({"model": "m", "input": [{"role": "<>", "content": "Hi"}]}, "chat", "$.input[0].role"),
    ({"model": "m", "input": [{"type": "message", "role": "<>", "content": "Hi"}]}, "chat", "$.input[0].role"),
    ({"model": "m", "messages": [{"role": "user", "content": "Hi"}], "response_format": {"type": "<>"}}, "responses",
     "$.response_format.type"),
    ({"model": "m", "input": "Hi", "text": {"format": {"type": "<>"}}}, "chat", "$.text.format.type"),
    ({"model": "m", "input": "Hi", "service_tier": "<>"}, "chat", "$.service_tier"),
    ({"model": "m", "input": "Hi", "include": ["<>"]}, "chat", "$.include[0]"),
    ({"model": "m", "input": "Hi", "prompt_cache_options": {"ttl": "<>"}}, "chat", "$.prompt_cache_options.ttl"),
    ({"model": "m", "input": [{"type": "<>"}]}, "chat", "$.input[0].type"),
    ({"model": "m", "input": "Hi", "tools": [{"type": "<>"}]}, "chat", "$.tools[0].type"),
    ({"model": "m", "input": "Hi", "tool_choice": {"type": "<>"}}, "chat", "$.tool_choice.type"),
    ({"id": "c", "object": "chat.completion", "created": 1, "model": "m",
      "choices": [{"index": 0, "finish_reason": "<>", "message": {"role": "assistant", "content": "x"}}]}, "responses",
     "$.choices[0].finish_reason"),
    ({"id": "r", "object": "response", "created_at": 1, "model": "m", "status": "<>", "output": []}, "chat", "$.status"),
    ({"id": "r", "object": "response", "created_at": 1, "model": "m", "status": "incomplete", "output": [],
      "incomplete_details": {"reason": "<>"}}, "chat", "$.incomplete_details.reason"),
    ({"id": "r", "object": "response", "created_at": 1, "model": "m", "status": "completed", "output": [{"type": "<>"}]},
     "chat", "$.output[0].type"),
])
def test_an_unhashable_enum_value_is_a_mapping_error(body: dict[str, Any], to: str, path: str, bad: Any) -> None:
    """A list or object where an enum string belongs: a MappingError at its path, never TypeError."""
    mutated = json.loads(json.dumps(body).replace('"<>"', json.dumps(bad)))
    assert path in _problems(mutated, to)


# ------------------------------------------------------------------------------ request=


_CHAT_REQUEST = {"model": "m", "messages": [{"role": "user", "content": "Hi"}], "temperature": 0.5}


@pytest.mark.parametrize("request_", [[1], "req", 3, True, []])
def test_request_that_is_not_an_object_is_an_error(request_: Any) -> None:
    assert _problems(_COMPLETION, "responses", request=request_) == {
        "request: $": f"expected a JSON object (the chat or responses request), found {describe(request_)}"}


def test_request_is_checked_as_a_request_and_its_problems_say_so() -> None:
    problems = _problems(_COMPLETION, "responses", request={**_CHAT_REQUEST, "temperature": "hot"})
    assert problems == {"request: $.temperature": "expected a number or null, found 'hot'"}
    problems = _problems(_COMPLETION, "responses", request={"model": "m", "input": "Hi", "top_p": []})
    assert set(problems) == {"request: $.top_p"}


def test_a_chat_request_is_echoed_translated_and_a_responses_request_as_it_is() -> None:
    echoed = translate(_COMPLETION, "responses", request={**_CHAT_REQUEST, "max_completion_tokens": 9}).body
    assert echoed["temperature"] == 0.5 and echoed["max_output_tokens"] == 9
    echoed = translate(_COMPLETION, "responses", request={"model": "m", "input": "Hi", "top_p": 0.3}).body
    assert echoed["top_p"] == 0.3
    echoed = translate(_COMPLETION, "responses", request={"model": "m", "previous_response_id": "resp_0"}).body
    assert echoed["previous_response_id"] == "resp_0"


def test_the_stream_translator_reads_request_with_the_same_function() -> None:
    from migrator.streams import StreamTranslator

    chunk = {"id": "c", "object": "chat.completion.chunk", "created": 1, "model": "m",
             "choices": [{"index": 0, "delta": {"role": "assistant", "content": "Hi"}, "finish_reason": None}]}
    for bad, path in (([1], "request: $"), ({**_CHAT_REQUEST, "temperature": "hot"}, "request: $.temperature")):
        with pytest.raises(MappingError) as info:
            StreamTranslator("responses", request=bad).feed(chunk)  # type: ignore[arg-type]
        assert [p.path for p in info.value.problems] == [path]
    events = StreamTranslator("responses", request=_CHAT_REQUEST).feed(chunk)
    assert events[0]["response"]["temperature"] == 0.5


# --------------------------------------------------------------------------- nothing to send


def test_a_chat_request_with_nothing_to_send_is_an_error() -> None:
    """The API answers ``messages: []`` with a 400 (empty_array); a list whose every message was dropped is the same."""
    assert _problems({"model": "m", "messages": []}, "responses") == {
        "$.messages": "expected a non-empty list of messages, found a list of 0"}
    video = {"model": "m", "messages": [{"role": "user", "content": [{"type": "video"}]}]}
    assert list(_problems(video, "responses")) == ["$.messages"]
    assert list(_problems({"model": "m", "messages": []}, "chat")) == ["$.messages"]  # validated as the API would


def test_a_hoisted_system_message_alone_is_something_to_send() -> None:
    body = {"model": "m", "messages": [{"role": "system", "content": "Say hi."}]}
    assert translate(body, "responses", hoist_system=True).body["instructions"] == "Say hi."


def test_a_responses_request_with_nothing_chat_can_be_sent_is_an_error() -> None:
    assert list(_problems({"model": "m", "input": []}, "chat")) == ["$.input"]
    assert list(_problems({"model": "m", "input": [{"type": "item_reference", "id": "msg_1"}]}, "chat")) == ["$.input"]
    assert list(_problems({"model": "m", "previous_response_id": "resp_1"}, "chat")) == ["$.input"]
    only_instructions = translate({"model": "m", "input": [], "instructions": "Say hi."}, "chat").body
    assert only_instructions["messages"] == [{"role": "system", "content": "Say hi."}]


def test_a_responses_request_that_points_to_stored_state_is_valid_for_responses() -> None:
    """Native validation: Responses takes the input from previous_response_id, conversation or prompt."""
    for key, value in (("previous_response_id", "resp_1"), ("conversation", "conv_1"), ("prompt", {"id": "pmpt_1"})):
        assert translate({"model": "m", key: value}, "responses").body[key] == value
    assert list(_problems({"model": "m", "input": []}, "responses")) == ["$.input"]


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_nan_and_infinity_are_not_numbers(value: float) -> None:
    """They are not JSON; a Python caller can still hand them over."""
    base = {"model": "m", "messages": [{"role": "user", "content": "Hi"}]}
    assert _problems({**base, "temperature": value}, "responses")["$.temperature"].startswith("expected a finite number")
    usage = {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2, "prompt_tokens_details": {"cached_tokens": value}}
    assert "$.usage.prompt_tokens_details.cached_tokens" in _problems({**_COMPLETION, "usage": usage}, "responses")
    assert "$.created" in _problems({**_COMPLETION, "created": value}, "responses")


def test_a_fraction_where_an_integer_belongs_says_integer() -> None:
    tool = {"type": "web_search", "user_location": {"type": "approximate", "city": 1.5}}
    assert _problems({"model": "m", "input": "Hi", "tools": [tool]}, "chat") == {
        "$.tools[0].user_location.city": "expected a string or null, found 1.5"}
    assert _problems({**_COMPLETION, "usage": {"prompt_tokens": 1.5, "completion_tokens": 1, "total_tokens": 2}},
                     "responses") == {"$.usage.prompt_tokens": "expected an integer, found 1.5"}


def test_a_null_finish_reason_is_the_one_variant_read_as_completed_and_reported() -> None:
    """Declared ``string | null`` with a variant: servers have sent null in a whole completion."""
    choice = {"index": 0, "finish_reason": None, "message": {"role": "assistant", "content": "Hi"}}
    result = translate({**_COMPLETION, "choices": [choice]}, "responses")
    assert result.body["status"] == "completed"
    assert [(loss.path, loss.kind) for loss in result.losses] == [("$.choices[0].finish_reason", "approximated")]
    assert "$.choices[0].finish_reason" in _problems({**_COMPLETION, "choices": [{**choice, "finish_reason": 0}]}, "responses")
