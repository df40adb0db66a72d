"""The pieces requests, results and streams share (mapping/ids.py, api_error.py, finish.py, logprobs.py):
what each promises on its own, beside the fixtures and stream tests that run them in place."""

from __future__ import annotations

from openai.types.responses import ResponseErrorEvent

from migrator.mapping.api_error import error_body, error_event, failure_body
from migrator.mapping.context import Context
from migrator.mapping.finish import finish_reason, item_status, response_status
from migrator.mapping.ids import ctc_id, fc_id
from migrator.mapping.logprobs import chat_event_logprob, event_logprob, part_logprob
from migrator.mapping.rules import VALUES


def test_a_custom_call_id_differs_from_the_function_call_id_only_in_its_prefix() -> None:
    for call_id in ("call_1", "call with spaces", "ünïcode", ""):
        assert fc_id(call_id).startswith("fc_") and ctc_id(call_id).startswith("ctc_")
        assert ctc_id(call_id)[4:] == fc_id(call_id)[3:]


def test_the_error_event_is_the_sdk_event_and_the_error_bodies_share_one_key_order() -> None:
    event = error_event("it broke", "server_error", 7)
    assert ResponseErrorEvent.model_validate(event).model_dump() == event
    body = error_body("no such model", "invalid_request_error", "model_not_found", "model")
    assert list(body["error"]) == ["message", "type", "param", "code"]
    assert failure_body("not an object") == error_body("the response failed", "server_error", "server_error")
    assert failure_body({"message": "m", "param": "p"}) == error_body("m", "server_error", "server_error", "p")


def test_every_finish_reason_reads_back_as_itself_or_as_what_the_table_approximates() -> None:
    for finish, rule in VALUES["finish_reason"].items():
        ctx = Context()
        status, details = response_status(finish, finish == "tool_calls", ctx)
        assert status == rule.to and item_status(finish) == status
        assert (details is None) == (status != "incomplete")
        back = finish_reason(status, details, finish == "tool_calls", ctx)
        assert back == ("stop" if finish == "function_call" else finish), (finish, status, details, back)
        assert not ctx.problems


def test_a_stop_after_tool_calls_is_reported_and_unknown_endings_read_as_completed() -> None:
    ctx = Context()
    assert response_status("stop", True, ctx) == ("completed", None)
    assert [loss.field for loss in ctx.losses] == ["finish_reason"]
    ctx = Context()
    assert response_status("gave_up", False, ctx) == ("completed", None) and ctx.losses
    assert item_status("gave_up") == item_status(["length"]) == "completed"


def test_logprobs_carry_their_utf8_bytes_where_the_target_wants_them() -> None:
    chat = {"token": "é", "bytes": None, "logprob": -0.5, "top_logprobs": [{"token": "e", "bytes": None, "logprob": -1.0}]}
    part = part_logprob(chat)
    assert part["bytes"] == [0xC3, 0xA9] and part["top_logprobs"][0]["bytes"] == [0x65]
    event = event_logprob(chat)
    assert "bytes" not in event and "bytes" not in event["top_logprobs"][0]
    back = chat_event_logprob(event)
    assert back["bytes"] == [0xC3, 0xA9] and back["top_logprobs"] == [{"token": "e", "bytes": [0x65], "logprob": -1.0}]
