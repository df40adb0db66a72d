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


def test_every_error_shares_one_base_and_stays_a_value_error_where_it_was() -> None:
    from migrator.errors import MigratorError, StreamError
    from migrator.streams import StreamError as FromStreams
    from migrator.streams import translate_stream

    assert FromStreams is StreamError
    assert issubclass(MappingError, MigratorError) and issubclass(MappingError, ValueError)
    assert issubclass(StreamError, MigratorError) and issubclass(StreamError, ValueError)
    assert issubclass(StrictModeError, MigratorError)
    with pytest.raises(MigratorError):
        translate({"model": "m", "messages": "hi"}, "responses")
    with pytest.raises(MigratorError, match=r"^frame 1: "):
        list(translate_stream([42], "responses"))


def test_the_old_errors_module_is_the_same_objects() -> None:
    import migrator.errors
    import migrator.mapping.errors as old

    for name in ("Loss", "Problem", "MappingError", "StrictModeError", "describe"):
        assert getattr(old, name) is getattr(migrator.errors, name)


def test_mapping_error_with_source_names_the_input_in_its_message() -> None:
    from migrator.errors import Problem

    exc = MappingError([Problem("$.model", "a string", "null")])
    assert str(exc) == "1 problem:\n  $.model: expected a string, found null"
    same = exc.with_source("body.json")
    assert same is exc and exc.source == "body.json"
    assert str(exc) == "1 problem in body.json:\n  $.model: expected a string, found null"
    assert exc.problems[0].path == "$.model"


def test_detect_translation_and_the_stream_api_are_typed_with_kind_and_dialect() -> None:
    import typing

    from migrator import mapping as api
    from migrator import streams
    from migrator.streams import StreamTranslator, frame_dialect, translate_sse, translate_stream

    assert typing.get_args(api.Dialect) == ("chat", "responses")
    assert set(typing.get_args(api.Kind)) == {"chat.request", "responses.request", "chat.completion", "response", "error"}
    assert typing.get_type_hints(api.detect)["return"] == api.Kind
    fields = typing.get_type_hints(api.Translation)
    assert fields["source"] == api.Kind and fields["target"] == api.Kind
    assert typing.get_type_hints(api.translate)["to"] == api.Dialect
    for entry in (translate_stream, translate_sse, StreamTranslator.__init__):
        assert typing.get_type_hints(entry)["to"] == api.Dialect
    assert typing.get_type_hints(frame_dialect)["return"] == api.Dialect
    assert streams.Dialect is api.Dialect  # defined once, not once per package


@pytest.mark.parametrize("to", ["soap", ["chat"], None])
def test_translate_and_streams_refuse_a_target_that_is_no_api_alike(to: object) -> None:
    from migrator.streams import StreamTranslator

    with pytest.raises(ValueError, match="'chat' or 'responses'") as from_translate:
        translate({"model": "m", "messages": []}, to)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="'chat' or 'responses'") as from_streams:
        StreamTranslator(to)  # type: ignore[arg-type]
    assert str(from_translate.value) == str(from_streams.value)


def test_stream_entry_points_are_exported_but_load_on_first_use() -> None:
    code = ("import sys, migrator; before = 'migrator.streams' in sys.modules; from migrator import translate_sse;"
            " from migrator.streams import translate_sse as direct; print(before, translate_sse is direct,"
            " 'translate_stream' in dir(migrator))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "True", "True"]
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        migrator.nope  # type: ignore[attr-defined]  # noqa: B018


def test_the_package_is_marked_typed_and_the_wheel_ships_the_marker() -> None:
    # PEP 561: without migrator/py.typed, type checkers ignore the hints the classifier promises.
    # hatch puts every file of the packages it lists into the wheel (checked once by building it:
    # migrator/py.typed is there); this guards the marker and the rules that include it.
    from pathlib import Path

    tomllib = pytest.importorskip("tomllib")
    root = Path(migrator.__file__).parent
    assert (root / "py.typed").is_file()
    project = tomllib.loads((root.parent / "pyproject.toml").read_text(encoding="utf-8"))
    assert "Typing :: Typed" in project["project"]["classifiers"]
    wheel = project["tool"]["hatch"]["build"]["targets"]["wheel"]
    assert wheel["packages"] == ["migrator"]
    assert not any("py.typed" in rule or rule.rstrip("/") == "migrator" for rule in wheel.get("exclude", []))


def _documented_public_names() -> set[str]:
    import re
    from pathlib import Path

    readme = (Path(migrator.__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    section = readme.split("\n### Public API\n", 1)[1].split("\n#", 1)[0]
    # Each bullet names its exports before the dash; what follows explains them.
    heads = [line[2:].partition("—")[0] for line in section.splitlines() if line.startswith("- ")]
    return {name for head in heads for name in re.findall(r"`([A-Za-z_]\w*)`", head)}


def test_the_exported_names_are_exactly_the_documented_ones() -> None:
    documented = _documented_public_names()
    assert "translate_stream" in documented and "MigratorError" in documented
    assert len(migrator.__all__) == len(set(migrator.__all__))
    assert set(migrator.__all__) == documented


@pytest.mark.parametrize("name", sorted(migrator.__all__))
def test_each_exported_name_is_importable(name: str) -> None:
    namespace: dict[str, object] = {}
    exec(f"from migrator import {name}", namespace)
    assert namespace[name] is getattr(migrator, name)
    assert namespace[name] is not None
