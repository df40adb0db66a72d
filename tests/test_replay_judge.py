"""The replay judge: answers read into Records (normalize), text similarity, verdicts against the
P/S noise, the loss explanation table, and Diffy's per-field stats."""

from __future__ import annotations

import copy
import json
import random
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openai.types.chat import ChatCompletion
from openai.types.responses import Response

from migrator import translate
from migrator.errors import Problem
from migrator.replay import normalize as normalize_module
from migrator.replay.judge import (
    ABSOLUTE_THRESHOLD,
    RELATIVE_THRESHOLD,
    TEXT_TOLERANCE,
    explains,
    field_stats,
    judge,
    translation_failed,
)
from migrator.replay.model import VERDICTS, CaseResult, Exchange, Loss, Record
from migrator.replay.normalize import mask_model, normalize
from migrator.replay.similarity import LONG, similarity

ROOT = Path(__file__).resolve().parent.parent
SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# ------------------------------------------------------------------------------ helpers


def _completion(content: str | None = "Hi there", finish: str = "stop", usage: dict[str, int] | None = None,
                model: str = "gpt-4o-2024-08-06", **message: Any) -> dict[str, Any]:
    """A real chat.completion: validated by the SDK, then dumped as the API sends it."""
    body: dict[str, Any] = {
        "id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": model,
        "choices": [{"index": 0, "finish_reason": finish, "message": {"role": "assistant", "content": content, **message}}],
    }
    if usage is not None:
        body["usage"] = {**usage, "total_tokens": sum(usage.values())}
    return ChatCompletion.model_validate(body).model_dump()


def _response(completion: dict[str, Any]) -> dict[str, Any]:
    """A real Response for the same answer: the engine's translation, validated by the SDK."""
    return Response.model_validate(translate(completion, to="responses").body).model_dump()


def _exchange(body: Any, *, arm: str = "P", status: int | None = 200, error: Any = None,
              path: str = "/v1/chat/completions") -> Exchange:
    return {"arm": arm, "sample": 0, "path": path, "status": status, "body": body, "stream": None,  # type: ignore[typeddict-item]
            "error": error, "ttft_ms": None, "total_ms": 12.5, "attempts": 1, "cached": False}


def _record(text: str = "Hello there", **over: Any) -> Record:
    record: Record = {"ok": True, "status": 200, "error_type": None, "finish": "stop", "text": text, "refusal": None,
                      "tool_calls": [], "structured": None, "usage": {"input": 10, "output": 5}, "model": "gpt-4o",
                      "ttft_ms": None, "total_ms": 10.0, "choices": 1}
    record.update(over)  # type: ignore[typeddict-item]
    return record


def _failed(error_type: str, status: int | None = 400) -> Record:
    return _record("", ok=False, status=status, error_type=error_type, finish=None, usage={"input": None, "output": None}, model=None)


def _loss(field: str, path: str | None = None, kind: str = "unsupported") -> Loss:
    return {"path": path or f"$.{field}", "field": field, "kind": kind, "reason": f"{field} is not carried"}


def _arms(p: Record, c: Record, s: Record | None = None) -> dict[str, list[Record]]:
    return {"P": [p], "S": [s if s is not None else copy.deepcopy(p)], "C": [c]}


WEATHER = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"], "additionalProperties": False}


# ---------------------------------------------------------------------------- normalize


def test_a_chat_completion_and_its_response_read_alike() -> None:
    completion = _completion(usage={"prompt_tokens": 11, "completion_tokens": 3})
    p = normalize(_exchange(completion), {})
    c = normalize(_exchange(_response(completion), arm="C", path="/v1/responses"), {})
    assert p == c
    assert p["ok"] and p["finish"] == "stop" and p["text"] == "Hi there"
    assert p["usage"] == {"input": 11, "output": 3}
    assert p["model"] == "gpt-4o"  # date suffix masked
    assert p["choices"] == 1 and p["total_ms"] == 12.5


@pytest.mark.parametrize(("model", "masked"), [("gpt-4o-2024-08-06", "gpt-4o"), ("gpt-4-0613", "gpt-4"), ("gpt-4o-mini", "gpt-4o-mini"),
                                               ("o3", "o3"), (None, None), (7, None)])
def test_model_date_suffix_is_masked(model: Any, masked: str | None) -> None:
    assert mask_model(model) == masked


def test_tool_calls_parse_their_arguments_and_check_the_tool_schema() -> None:
    request = {"model": "m", "messages": [{"role": "user", "content": "x"}], "tools": [{"type": "function", "function": {"name": "weather", "parameters": WEATHER}}]}
    calls = [
        {"id": "a", "type": "function", "function": {"name": "weather", "arguments": '{"city": "Oslo"}'}},
        {"id": "b", "type": "function", "function": {"name": "weather", "arguments": '{"town": "Oslo"}'}},  # schema-invalid
        {"id": "c", "type": "function", "function": {"name": "weather", "arguments": '{"city": '}},  # not JSON
        {"id": "d", "type": "function", "function": {"name": "other", "arguments": "[1]"}},  # no schema: JSON suffices
    ]
    completion = _completion(None, "tool_calls", tool_calls=calls)
    r = normalize(_exchange(completion), request)
    assert [(t["name"], t["arguments"], t["arguments_valid"]) for t in r["tool_calls"]] == [
        ("weather", {"city": "Oslo"}, True), ("weather", {"town": "Oslo"}, False), ("weather", '{"city": ', False), ("other", [1], True)]
    assert r["finish"] == "tool_calls"
    # the same calls as function_call items of a Response, checked against a responses request's tools
    responses_request = translate(request, to="responses").body
    c = normalize(_exchange(_response(completion), arm="C", path="/v1/responses"), responses_request)
    assert c["tool_calls"] == r["tool_calls"] and c["finish"] == "tool_calls"


@pytest.mark.parametrize(
    ("status", "details", "finish"),
    [
        ("incomplete", {"reason": "max_output_tokens"}, "length"),
        ("incomplete", {"reason": "content_filter"}, "content_filter"),
        ("incomplete", {"reason": "length"}, "length"),  # OGX writes chat's own name
        ("incomplete", None, "length"),  # no reason: the engine's reading (migrator/mapping/finish.py)
        ("incomplete", {"reason": "steered"}, "length"),  # an approximate rule of the table
        ("incomplete", {"reason": "gremlins"}, "incomplete:gremlins"),  # kept, never guessed
        ("completed", None, "stop"),  # llama.cpp: completed, no details, even when cut at the token limit
        (None, None, None),  # no status: no finish, never a guessed one
    ],
)
def test_a_responses_end_is_read_through_the_value_tables(status: str | None, details: Any, finish: str | None) -> None:
    body = _response(_completion())
    body["status"], body["incomplete_details"] = status, details
    assert normalize(_exchange(body, path="/v1/responses"), {})["finish"] == finish


def test_missing_usage_is_none_and_gateway_usage_is_read_as_given() -> None:
    body = _completion()
    assert "usage" not in body or body["usage"] is None
    assert normalize(_exchange(body), {})["usage"] == {"input": None, "output": None}
    fixed = _completion(usage={"prompt_tokens": 10, "completion_tokens": 20})  # LiteLLM's mock: always {10, 20, 30}
    assert normalize(_exchange(fixed), {})["usage"] == {"input": 10, "output": 20}
    response = _response(_completion())
    response["usage"] = {"prompt_tokens": 4, "completion_tokens": 2}  # a gateway answering a Response with chat's names
    assert normalize(_exchange(response, path="/v1/responses"), {})["usage"] == {"input": 4, "output": 2}
    response["usage"] = {"input_tokens": True, "output_tokens": "2"}  # wrong types: not counts, never coerced
    assert normalize(_exchange(response, path="/v1/responses"), {})["usage"] == {"input": None, "output": None}


def test_refusals_on_both_endpoints() -> None:
    completion = _completion(None, refusal="I can't help with that.")
    p = normalize(_exchange(completion), {})
    c = normalize(_exchange(_response(completion), path="/v1/responses"), {})
    assert p["refusal"] == c["refusal"] == "I can't help with that."


SCHEMA_FORMAT = {"type": "json_schema", "json_schema": {"name": "w", "schema": WEATHER, "strict": True}}


@pytest.mark.parametrize(
    ("fmt", "text", "valid"),
    [
        (SCHEMA_FORMAT, '{"city": "Oslo"}', True),
        (SCHEMA_FORMAT, '{"city": 3}', False),
        (SCHEMA_FORMAT, "Oslo", False),
        ({"type": "json_object"}, '{"any": 1}', True),
        ({"type": "json_object"}, "[1, 2]", False),
        ({"type": "text"}, "plain", None),
    ],
)
def test_structured_output_is_checked_against_the_requested_schema(fmt: dict[str, Any], text: str, valid: bool | None) -> None:
    chat = {"model": "m", "messages": [{"role": "user", "content": "x"}], "response_format": fmt}
    p = normalize(_exchange(_completion(text)), chat)
    c = normalize(_exchange(_response(_completion(text)), path="/v1/responses"), translate(chat, to="responses").body)
    for r in (p, c):
        if valid is None:
            assert r["structured"] is None
        else:
            assert r["structured"] is not None and r["structured"]["valid"] is valid
            assert (r["structured"]["error"] is None) is valid
    if valid is False and fmt is SCHEMA_FORMAT and text.startswith("{"):
        assert p["structured"] is not None and "$.city" in str(p["structured"]["error"])


def test_a_schema_is_compiled_once_and_the_cache_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(normalize_module, "_VALIDATORS", type(normalize_module._VALIDATORS)())
    monkeypatch.setattr(normalize_module, "_CACHE_SIZE", 3)
    chat = {"model": "m", "messages": [], "response_format": SCHEMA_FORMAT}
    normalize(_exchange(_completion('{"city": "a"}')), chat)
    first = next(iter(normalize_module._VALIDATORS.values()))
    reordered = {"model": "m", "messages": [], "response_format": {"type": "json_schema", "json_schema": {
        "name": "w", "schema": dict(reversed(list(WEATHER.items())))}}}
    normalize(_exchange(_completion('{"city": "b"}')), reordered)  # same schema, other key order
    assert list(normalize_module._VALIDATORS.values()) == [first]
    for i in range(5):
        schema = {"type": "object", "required": [f"k{i}"]}
        normalize(_exchange(_completion("{}")), {"response_format": {"type": "json_schema", "json_schema": {"schema": schema}}})
    assert len(normalize_module._VALIDATORS) == 3


def test_an_invalid_requested_schema_is_reported_not_raised() -> None:
    chat = {"response_format": {"type": "json_schema", "json_schema": {"name": "w", "schema": {"type": 12}}}}
    r = normalize(_exchange(_completion('{"a": 1}')), chat)
    assert r["structured"] is not None and r["structured"]["valid"] is False
    assert "not a valid JSON Schema" in str(r["structured"]["error"])


@pytest.mark.parametrize(
    ("exchange", "error_type"),
    [
        (_exchange({"error": {"message": "bad", "type": "invalid_request_error", "code": None}}, status=400,
                   error={"kind": "api", "status": 400, "type": "invalid_request_error", "code": None, "message": "bad"}),
         "invalid_request_error"),
        (_exchange(None, status=None, error={"kind": "timeout", "status": None, "type": None, "code": None, "message": "timed out"}), "timeout"),
        (_exchange({"error": {"type": "server_error"}}, status=503), "server_error"),  # no ErrorFacts: read from the body
        (_exchange("<html>bad gateway</html>", status=502), "api"),
        (_exchange("not json", status=200), "protocol"),
        (_exchange({"hello": 1}, status=200), "protocol"),
    ],
)
def test_errors_are_not_ok_and_name_their_type(exchange: Exchange, error_type: str) -> None:
    r = normalize(exchange, {})
    assert r["ok"] is False and r["error_type"] == error_type
    assert r["text"] == "" and r["tool_calls"] == []


def test_a_failed_response_is_an_error_with_its_code() -> None:
    body = _response(_completion())
    body["status"], body["error"] = "failed", {"code": "server_error", "message": "boom"}
    r = normalize(_exchange(body, path="/v1/responses"), {})
    assert r["ok"] is False and r["error_type"] == "server_error"
    body["error"] = None
    body["status"] = "cancelled"
    assert normalize(_exchange(body, path="/v1/responses"), {})["error_type"] == "response_cancelled"


def test_gateway_variants_are_read() -> None:
    parts = _completion()
    parts["choices"][0]["message"]["content"] = [{"type": "text", "text": "Hi "}, {"type": "text", "text": "there"}]
    assert normalize(_exchange(parts), {})["text"] == "Hi there"
    parsed = _completion(None, "tool_calls", tool_calls=[{"id": "a", "type": "function", "function": {"name": "f", "arguments": "{}"}}])
    parsed["choices"][0]["message"]["tool_calls"][0]["function"]["arguments"] = {"x": 1}  # already parsed
    assert normalize(_exchange(parsed), {})["tool_calls"] == [{"name": "f", "arguments": {"x": 1}, "arguments_valid": True}]
    n3 = _completion()
    n3["choices"] *= 3
    assert normalize(_exchange(n3), {})["choices"] == 3


JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
                    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3), max_leaves=12)
KEYS = st.sampled_from(["choices", "message", "content", "output", "type", "text", "status", "incomplete_details", "reason", "usage",
                        "tool_calls", "function", "arguments", "name", "refusal", "error", "model", "finish_reason", "response_format",
                        "json_schema", "schema", "tools", "parameters", "output_text", "custom", "input", "kind"])
SHAPED = st.recursive(JSON, lambda inner: st.dictionaries(KEYS, inner, max_size=5) | st.lists(inner, max_size=3), max_leaves=25)


@SETTINGS
@given(body=SHAPED, request=SHAPED, status=st.none() | st.integers(100, 599), error=st.none() | SHAPED,
       extra=st.dictionaries(st.sampled_from(["ttft_ms", "total_ms", "status"]), JSON, max_size=2))
def test_fuzz_normalize_never_raises_and_judge_always_decides(body: Any, request: Any, status: Any, error: Any, extra: Any) -> None:
    exchange: Any = {**_exchange(body, status=status, error=error if isinstance(error, dict) else None), **extra}
    record = normalize(exchange, request)
    assert set(record) >= {"ok", "status", "error_type", "finish", "text", "tool_calls", "usage", "model"}
    assert record["ok"] or record["error_type"] is not None
    json.dumps(record, default=repr)
    verdict = judge({"P": [record], "S": [record], "C": [normalize(exchange, {})]}, [], request if isinstance(request, dict) else {})
    assert verdict["verdict"] in VERDICTS and verdict["reason"]


# --------------------------------------------------------------------------- similarity


def test_similarity_is_one_exactly_for_equal_text_after_whitespace() -> None:
    assert similarity("the sea is calm", "  the sea\n is   calm ") == 1.0
    assert similarity("", "   ") == 1.0
    assert similarity("the sea is calm", "the sea is calm today") < 1.0
    assert similarity("the sea is calm", "") == 0.0
    assert similarity("alpha beta", "gamma delta") == 0.0
    assert 0.0 < similarity("the sea is calm tonight", "the sea is rough tonight") < 1.0


def test_long_texts_use_the_bag_of_words_and_stay_below_one_unless_equal() -> None:
    words = [f"w{i}" for i in range(LONG + 50)]
    assert similarity(" ".join(words), " ".join(reversed(words))) < 1.0
    assert similarity(" ".join(words), " ".join(words)) == 1.0
    assert similarity(" ".join(words), " ".join(f"x{i}" for i in range(LONG + 50))) == 0.0


@SETTINGS
@given(a=st.text(max_size=60), b=st.text(max_size=60))
def test_similarity_is_a_symmetric_score_in_the_unit_interval(a: str, b: str) -> None:
    s = similarity(a, b)
    assert 0.0 <= s <= 1.0
    assert (s == 1.0) == (a.split() == b.split())
    assert abs(s - similarity(b, a)) < 1e-9 or len(a.split()) > LONG or len(b.split()) > LONG


# ------------------------------------------------------------------------------- verdicts


def test_equal_arms_are_equivalent() -> None:
    j = judge(_arms(_record(), _record()), [], {})
    assert j["verdict"] == "equivalent" and j["reason"] == "equivalent"
    assert j["fields"] == [] and j["noise"] == [] and j["scores"] == {"PC": [1.0], "PS": [1.0], "SC": [1.0]}


def test_the_chat_request_failing_is_an_error_and_says_whether_c_failed_alike() -> None:
    same = judge(_arms(_failed("invalid_request_error"), _failed("invalid_request_error")), [], {})
    assert same["verdict"] == "error"
    assert "invalid_request_error" in same["reason"] and "C failed the same way" in same["reason"]
    other = judge(_arms(_failed("invalid_request_error"), _record()), [], {})
    assert other["verdict"] == "error" and "C answered" in other["reason"]


@pytest.mark.parametrize("arm", ["P", "S", "C"])
def test_a_transport_failure_on_any_arm_is_an_error(arm: str) -> None:
    records = _arms(_record(), _record())
    records[arm] = [_failed("timeout", status=None)]
    j = judge(records, [], {})
    assert j["verdict"] == "error" and f"arm {arm}" in j["reason"] and "timeout" in j["reason"]


def test_a_failed_translation_is_an_error_naming_the_place() -> None:
    losses = translation_failed([Problem("$.messages[0].role", "a chat role", "'wizard'")])
    j = judge({"P": [_record()], "S": [_record()]}, losses, {})
    assert j["verdict"] == "error"
    assert j["reason"] == "translation failed: $.messages[0].role: expected a chat role, found 'wizard'"


def test_c_failing_where_p_answers_is_a_divergence() -> None:
    j = judge(_arms(_record(), _failed("invalid_request_error")), [], {})
    assert j["verdict"] == "divergent"
    assert {d["field"] for d in j["fields"]} == {"status", "error"}


def test_a_difference_a_loss_explains_is_labelled_with_it() -> None:
    request = {"model": "m", "messages": [{"role": "user", "content": "count"}], "stop": ["5"]}
    losses = [loss.as_dict() for loss in translate(request, to="responses").losses]
    p = _record("1 2 3 4", usage={"input": 10, "output": 4})
    c = _record("1 2 3 4 5 6 7 8 9 10 11 12", finish="length", usage={"input": 10, "output": 30})
    j = judge(_arms(p, c), losses, request)  # type: ignore[arg-type]
    assert j["verdict"] == "divergent"
    assert {d["field"] for d in j["fields"]} == {"finish", "text", "usage.output"}
    assert all(d["explained_by"] == losses for d in j["fields"])
    assert j["reason"] == "finish, usage.output and text differ because `$.stop` was dropped"


def test_an_unexplained_text_difference_names_similarity_and_floor() -> None:
    p, s = _record("the sea is calm and blue tonight"), _record("the sea is calm and grey tonight")
    c = _record("stock prices rose sharply on monday")
    j = judge(_arms(p, c, s), [_loss("logprobs")], {})  # logprobs explains nothing compared
    assert j["verdict"] == "divergent"
    (text,) = j["fields"]
    assert text["field"] == "text" and text["explained_by"] == []
    assert j["reason"].startswith("text differs beyond the noise (similarity 0.00, floor 0.86)")
    assert "text" in j["noise"]


def test_a_text_within_the_noise_is_equivalent() -> None:
    p, s = _record("the sea is calm and blue tonight"), _record("the sea is calm and grey tonight")
    c = _record("the sea is calm and dark tonight")
    j = judge(_arms(p, c, s), [], {})
    assert j["verdict"] == "equivalent" and j["noise"] == ["text"]
    assert max(j["scores"]["PC"] + j["scores"]["SC"]) >= j["scores"]["PS"][0] - TEXT_TOLERANCE


def test_a_field_where_p_and_s_differ_is_noise_not_a_divergence() -> None:
    p, s, c = _record(finish="stop", model="a"), _record(finish="length", model="a"), _record(finish="content_filter", model="b")
    j = judge(_arms(p, c, s), [], {})
    assert "finish" in j["noise"] and "finish" not in {d["field"] for d in j["fields"]}
    assert {d["field"] for d in j["fields"]} == {"model"}  # the model is exact and not noisy


def test_parallel_tool_calls_compare_as_a_multiset_of_parsed_arguments() -> None:
    a = {"name": "weather", "arguments": {"city": "Oslo", "unit": "c"}, "arguments_valid": True}
    b = {"name": "time", "arguments": {"tz": "CET"}, "arguments_valid": True}
    a_reordered = {"name": "weather", "arguments": {"unit": "c", "city": "Oslo"}, "arguments_valid": True}
    p, c = _record("", finish="tool_calls", tool_calls=[a, b]), _record("", finish="tool_calls", tool_calls=[b, a_reordered])
    assert judge(_arms(p, c), [], {})["verdict"] == "equivalent"
    other = _record("", finish="tool_calls", tool_calls=[b, {**a, "arguments": {"city": "Bergen", "unit": "c"}}])
    j = judge(_arms(p, other), [], {})
    assert j["verdict"] == "divergent" and [d["field"] for d in j["fields"]] == ["tool_calls"]
    assert j["fields"][0]["C"] == [{"name": "time", "arguments": {"tz": "CET"}}, {"name": "weather", "arguments": {"city": "Bergen", "unit": "c"}}]


def test_structured_validity_and_input_tokens_are_exact() -> None:
    p = _record('{"city": "Oslo"}', structured={"valid": True, "error": None})
    c = _record('{"city": "Oslo"}', structured={"valid": False, "error": "$.city: bad"}, usage={"input": 11, "output": 5})
    j = judge(_arms(p, c), [], {})
    assert {d["field"] for d in j["fields"]} == {"structured", "usage.input"}


@pytest.mark.parametrize(
    ("p", "s", "c", "divergent"),
    [
        (100, 100, 109, False),  # P = S: ±10%
        (100, 100, 111, True),
        (5, 5, 7, False),  # ... but at least ±2 tokens
        (5, 5, 8, True),
        (100, 140, 175, False),  # a spread of 40 widens the band by 40 each side
        (100, 140, 185, True),
        (100, 140, 59, True),
    ],
)
def test_output_tokens_are_judged_by_a_band_around_the_p_s_spread(p: int, s: int, c: int, divergent: bool) -> None:
    j = judge(_arms(_record(usage={"input": 1, "output": p}), _record(usage={"input": 1, "output": c}), _record(usage={"input": 1, "output": s})), [], {})
    assert ("usage.output" in {d["field"] for d in j["fields"]}) is divergent
    assert ("usage.output" in j["noise"]) is (p != s)


def test_n_choices_is_a_choices_field_explained_by_the_n_loss() -> None:
    request = {"model": "m", "messages": [{"role": "user", "content": "hi"}], "n": 3}
    losses = [loss.as_dict() for loss in translate(request, to="responses").losses]
    j = judge(_arms(_record(choices=3), _record(choices=1)), losses, request)  # type: ignore[arg-type]
    (choices,) = j["fields"]
    assert choices["field"] == "choices" and choices["P"] == 3 and choices["C"] == 1
    assert [loss["field"] for loss in choices["explained_by"]] == ["n"]
    assert j["reason"] == "choices differs because `$.n` was dropped"
    # without n > 1 the count is not compared (a gateway's empty choices list shows in text and finish)
    assert judge(_arms(_record(choices=3), _record(choices=1)), [], {"model": "m", "messages": []})["verdict"] == "equivalent"


def test_without_a_noise_arm_the_floor_is_exact_equality() -> None:
    j = judge({"P": [_record("a b c d e f g h i j")], "C": [_record("a b c d e f g h x y")]}, [], {})
    assert j["verdict"] == "divergent" and j["scores"]["PS"] == []
    assert "floor 1.00" in j["reason"]


# ---------------------------------------------------------------- K > 1: a paired decision


def test_k_samples_decide_on_the_median_against_the_lowest_noise_pair() -> None:
    ps = ["the sea is calm", "the sea is calm tonight", "the sea is very calm"]
    p = [_record(t) for t in ps]
    s = [_record(t) for t in reversed(ps)]
    # one odd C sample among good ones does not move the median
    c = [_record("the sea is calm"), _record("the sea is calm tonight"), _record("quarterly revenue grew")]
    j = judge({"P": p, "S": s, "C": c}, [], {})
    assert j["verdict"] == "equivalent" and len(j["scores"]["PC"]) == 9
    # a majority of odd C samples does
    c = [_record("quarterly revenue grew"), _record("stocks fell today"), _record("the sea is calm")]
    j = judge({"P": p, "S": s, "C": c}, [], {})
    assert j["verdict"] == "divergent" and "median similarity over 18 pairs" in j["reason"]


VOCAB_SEA = "the sea is calm blue grey waves roll softly under a quiet moon tonight and the tide".split()
VOCAB_OTHER = "markets rallied after earnings beat forecasts while bond yields slipped lower on friday".split()


def _noisy_model(rng: random.Random, vocab: list[str]) -> str:
    """A stand-in for a sampled LLM answer: a common opening, then a random walk through a vocabulary."""
    return " ".join(vocab[:4] + [rng.choice(vocab) for _ in range(rng.randint(6, 12))])


@pytest.mark.parametrize("k", [1, 3, 5])
def test_a_simulated_noisy_model_is_equivalent_to_itself_and_divergent_from_another(k: int) -> None:
    rng = random.Random(k)
    trials, same, different = 60, 0, 0
    for _ in range(trials):
        p = [_record(_noisy_model(rng, VOCAB_SEA)) for _ in range(k)]
        s = [_record(_noisy_model(rng, VOCAB_SEA)) for _ in range(k)]
        c_same = [_record(_noisy_model(rng, VOCAB_SEA)) for _ in range(k)]
        c_other = [_record(_noisy_model(rng, VOCAB_OTHER)) for _ in range(k)]
        same += judge({"P": p, "S": s, "C": c_same}, [], {})["verdict"] == "equivalent"
        different += judge({"P": p, "S": s, "C": c_other}, [], {})["verdict"] == "divergent"
    assert different == trials
    # one draw of the floor is itself noisy, so K = 1 misjudges a few (about 2%); K > 1 hardly any
    assert same >= (trials * 0.9 if k == 1 else trials * 0.97), same


# -------------------------------------------------------------------- the explanation table


def _request_loss_fields() -> tuple[set[str], set[str]]:
    """(fields of the chat→responses tables' drop/approximate rules, fields the fixtures' translations
    report that are no rule's: unknown parameters and fields, which fall under the default)."""
    named: set[str] = set()
    for stem in ("request", "messages", "tools"):
        doc = json.loads((ROOT / "mappings" / f"{stem}.json").read_text(encoding="utf-8"))
        for table in doc.get("tables", {}).values():
            if table.get("source") == "chat":
                named |= {k for k, rule in table["fields"].items() if rule["do"] in ("drop", "approximate")}
    unknown: set[str] = set()
    for path in sorted((ROOT / "fixtures" / "mapping" / "chat_to_responses").glob("*.json")):
        for case in json.loads(path.read_text(encoding="utf-8")):
            options = {k: v for k, v in case.get("options", {}).items() if k in ("hoist_system", "default_store")}
            for loss in translate(case["before"], to="responses", **options).losses:
                if "migrator knows" in loss.reason or "not a parameter of" in loss.reason:
                    unknown.add(loss.field)
                else:
                    named.add(loss.field)
    return named, unknown


def test_every_loss_the_translation_can_report_is_in_the_explanation_table() -> None:
    table = json.loads((ROOT / "mappings" / "replay.json").read_text(encoding="utf-8"))["explains"]
    named, unknown = _request_loss_fields()
    assert {"stop", "n", "seed", "name", "logit_bias", "tool_calls", "model"} <= named  # the scan sees the tables and fixtures
    missing = sorted(named - set(table["losses"]))
    assert not missing, f"mappings/replay.json: losses with no entry (and no reason to fall under the default): {missing}"
    assert unknown - set(table["losses"]), "no unknown-field loss found: the default would go untested"
    for field in unknown - set(table["losses"]):
        assert explains(field) == frozenset(table["default"]["fields"])


@pytest.mark.parametrize(("loss", "fields"), [
    ("stop", {"text", "finish", "usage.output"}),
    ("n", {"choices", "usage.output"}),
    ("logprobs", set()),
    ("seed", {"text", "usage.output"}),
    ("name", {"text"}),
])
def test_explanations_the_issue_names(loss: str, fields: set[str]) -> None:
    assert fields <= explains(loss) if fields else explains(loss) == frozenset()


# ------------------------------------------------------------------------------ field stats


def _result(records: dict[str, list[Record]], losses: list[Loss] | None = None) -> CaseResult:
    j = judge(records, losses or [], {})
    return {"id": "x", "key": "k", "source": "c.jsonl", "line": 1, "verdict": j["verdict"], "reason": j["reason"], "fields": j["fields"],
            "noise": j["noise"], "losses": losses or [], "order": ["P", "S", "C"], "request": {}, "translated": {}, "records": records,
            "scores": j["scores"]}


def test_field_stats_counts_raw_and_noise_and_flags_by_diffys_thresholds() -> None:
    def results() -> Any:  # a generator: field_stats reads a stream
        for i in range(100):
            p = _record(f"answer {i}", finish="stop")
            s = _record(f"answer {i}" if i % 2 else f"other {i}")  # text noise in half the cases
            c = _record(f"answer {i}" if i % 3 else f"else {i}", finish="length" if i < 30 else "stop")
            yield _result(_arms(p, c, s), [_loss("stop")] if i < 10 else [])

    stats = {row["field"]: row for row in field_stats(results())}
    assert stats["finish"]["raw"] == 30 and stats["finish"]["noise"] == 0 and stats["finish"]["flagged"] is True
    assert stats["finish"]["divergent"] == 30 and stats["finish"]["explained"] == 10
    text = stats["text"]
    assert (text["raw"], text["noise"]) == (34, 50) and text["flagged"] is False  # raw below noise: not flagged
    assert stats["status"]["raw"] == 0 and stats["status"]["flagged"] is False
    assert all(row["cases"] == 100 for row in stats.values())
    assert RELATIVE_THRESHOLD == 20.0 and ABSOLUTE_THRESHOLD == 0.03


def test_field_stats_relative_threshold_keeps_a_near_noise_field_unflagged() -> None:
    def results(raw: int, noise: int) -> Any:
        for i in range(1000):
            p = _record(finish="stop")
            yield _result(_arms(p, _record(finish="length" if i < raw else "stop"), _record(finish="length" if i < noise else "stop")))

    close = {row["field"]: row for row in field_stats(results(110, 100))}["finish"]  # |10| / 210 = 4.8% < 20%
    assert close["raw"] == 110 and close["noise"] == 100 and close["flagged"] is False
    far = {row["field"]: row for row in field_stats(results(200, 100))}["finish"]  # 33% and 10%
    assert far["flagged"] is True
