"""The Python API: detection, strict mode, errors that list every problem, a cheap import."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

import migrator
from migrator import MappingError, StrictModeError, translate


@pytest.mark.parametrize(
    ("body", "kind"),
    [
        ({"model": "m", "messages": []}, "chat.request"),
        ({"model": "m", "input": "hi"}, "responses.request"),
        ({"model": "m", "instructions": "be brief", "previous_response_id": "resp_1"}, "responses.request"),
        ({"id": "chatcmpl-1", "object": "chat.completion", "choices": []}, "chat.completion"),
        ({"id": "resp_1", "status": "completed", "output": []}, "response"),
        ({"error": {"message": "nope", "type": "invalid_request_error"}}, "error"),
    ],
)
def test_detect(body: dict[str, object], kind: str) -> None:
    assert migrator.detect(body) == kind


def test_a_stream_frame_is_not_a_body() -> None:
    with pytest.raises(MappingError, match="stream frame"):
        migrator.detect({"type": "response.output_text.delta", "delta": "x"})


def test_strict_raises_one_error_listing_every_loss() -> None:
    body = {"model": "m", "messages": [{"role": "user", "content": "x", "name": "a"}], "n": 2, "stop": ["\n"]}
    with pytest.raises(StrictModeError) as exc:
        translate(body, "responses", strict=True)
    assert [loss.path for loss in exc.value.losses] == ["$.n", "$.stop", "$.messages[0].name"]
    assert "$.messages[0].name" in str(exc.value)


def test_translation_can_raise_for_losses_later() -> None:
    t = translate({"model": "m", "messages": [{"role": "user", "content": "hi"}], "seed": 3}, "responses")
    assert not t.lossless
    with pytest.raises(StrictModeError):
        t.raise_for_losses()


def test_mapping_error_lists_every_problem_with_paths() -> None:
    body = {"model": "m", "input": [{"type": "function_call", "name": "f"}, {"role": "robot", "content": "x"}, "?"]}
    with pytest.raises(MappingError) as exc:
        translate(body, "chat")
    paths = [p.path for p in exc.value.problems]
    assert paths == ["$.input[0].call_id", "$.input[1].role", "$.input[2]"]
    assert "expected" in str(exc.value)


def test_wrong_target_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="'chat' or 'responses'"):
        translate({"model": "m", "messages": []}, "soap")  # type: ignore[arg-type]


def test_error_bodies_pass_through_both_ways() -> None:
    err = {"error": {"message": "rate limited", "type": "rate_limit_error", "code": "rate_limit_exceeded"}}
    assert translate(err, "chat").body is err
    assert translate(err, "responses").body is err


def test_failed_response_becomes_an_error_not_a_stop() -> None:
    failed = {"id": "resp_1", "object": "response", "status": "failed", "output": [],
              "error": {"code": "server_error", "message": "upstream broke"}}
    t = translate(failed, "chat")
    assert t.target == "error"
    assert t.body["error"]["message"] == "upstream broke"
    assert "choices" not in t.body


def test_unfinished_response_cannot_be_translated() -> None:
    with pytest.raises(MappingError, match="status"):
        translate({"id": "resp_1", "object": "response", "status": "queued", "output": []}, "chat")


@pytest.mark.slow
def test_import_is_cheap_and_pulls_no_heavy_modules() -> None:
    code = ("import sys, migrator; heavy = [m for m in ('pydantic', 'httpx', 'jsonschema', 'openai', 'libcst', 'rich')"
            " if m in sys.modules]; print(heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert json.loads(out.replace("'", '"')) == []


def test_same_history_gets_the_same_item_ids() -> None:
    body = {"model": "m", "messages": [{"role": "assistant", "content": [{"type": "text", "text": "a"}],
                                        "tool_calls": [{"id": "call 1", "type": "function", "function": {"name": "f", "arguments": "{}"}}]}]}
    first = translate(body, "responses").body["input"]
    second = translate(body, "responses").body["input"]
    assert first == second
    assert first[0]["id"].startswith("msg_") and first[1]["id"].startswith("fc_")
