"""The ``migrator`` command: output, exit codes (0 / 1 / 2), the losses file, errors without tracebacks."""

from __future__ import annotations

import contextlib
import io
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import migrator
from migrator.cli import EXIT_BROKEN_PIPE, main

LOSSY_CHAT = {
    "model": "gpt-4.1",
    "messages": [{"role": "user", "content": "hi", "name": "dana"}],
    "n": 3,
    "seed": 1,
}
CLEAN_CHAT = {"model": "gpt-4.1", "messages": [{"role": "user", "content": "hi"}], "store": False}


def run(argv: list[str], stdin: str = "") -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(argv, stdin=io.StringIO(stdin), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def write(tmp_path: Path, body: Any, name: str = "body.json") -> str:
    path = tmp_path / name
    path.write_text(body if isinstance(body, str) else json.dumps(body), encoding="utf-8")
    return str(path)


def test_translate_prints_json_and_warns_each_loss_by_path(tmp_path: Path) -> None:
    losses = tmp_path / "losses.json"
    code, out, err = run(["translate", write(tmp_path, LOSSY_CHAT), "--to", "responses", "--losses-json", str(losses)])
    assert code == 0
    body = json.loads(out)
    assert body["input"] == [{"role": "user", "content": "hi"}]
    assert body["store"] is False
    for path in ("$.n", "$.seed", "$.messages[0].name"):
        assert f"warning: {path}:" in err
    written = json.loads(losses.read_text())
    assert {entry["path"] for entry in written} == {"$.n", "$.seed", "$.messages[0].name"}
    assert set(written[0]) == {"path", "field", "kind", "reason"}


def test_losses_file_is_an_empty_list_when_nothing_is_lost(tmp_path: Path) -> None:
    losses = tmp_path / "losses.json"
    code, _, err = run(["translate", write(tmp_path, CLEAN_CHAT), "--to", "responses", "--losses-json", str(losses)])
    assert code == 0 and err == ""
    assert json.loads(losses.read_text()) == []


def test_stdin_is_read_with_dash() -> None:
    code, out, _ = run(["translate", "-", "--to", "chat"], stdin=json.dumps({"model": "m", "input": "hello"}))
    assert code == 0
    assert json.loads(out)["messages"] == [{"role": "user", "content": "hello"}]


def test_strict_refuses_with_exit_1_and_names_every_loss(tmp_path: Path) -> None:
    losses = tmp_path / "losses.json"
    code, out, err = run(["translate", write(tmp_path, LOSSY_CHAT), "--to", "responses", "--strict", "--losses-json", str(losses)])
    assert code == 1
    assert out == ""
    for path in ("$.n", "$.seed", "$.messages[0].name"):
        assert path in err
    assert len(json.loads(losses.read_text())) == 3


def test_strict_passes_a_lossless_body(tmp_path: Path) -> None:
    code, out, _ = run(["translate", write(tmp_path, CLEAN_CHAT), "--to", "responses", "--strict"])
    assert code == 0 and json.loads(out)["model"] == "gpt-4.1"


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ('{"model": "m", "messages": [', "invalid JSON"),
        ({"model": "m", "messages": "hi"}, "$.messages: expected a list of messages"),
        ({"model": "m", "messages": [{"role": "robot", "content": "x"}]}, "$.messages[0].role: expected one of"),
        ({"model": "m", "messages": [{"role": "tool", "content": "x"}]}, "$.messages[0].tool_call_id"),
        ({"model": "m", "messages": [{"role": "user", "content": ["x"]}]}, "$.messages[0].content[0]: expected a content part"),
        ([1, 2], "$: expected a JSON object"),
    ],
)
def test_bad_input_exits_2_naming_file_and_path(tmp_path: Path, body: Any, expected: str) -> None:
    name = write(tmp_path, body)
    code, out, err = run(["translate", name, "--to", "responses"])
    assert code == 2
    assert out == ""
    assert expected in err
    assert "body.json" in err
    assert "Traceback" not in err


def test_every_problem_is_listed_at_once(tmp_path: Path) -> None:
    body = {"model": "m", "messages": [{"role": "robot"}, {"role": "tool", "content": "x"}, 7]}
    code, _, err = run(["translate", write(tmp_path, body), "--to", "responses"])
    assert code == 2
    assert "3 problems" in err
    assert "$.messages[0].role" in err and "$.messages[1].tool_call_id" in err and "$.messages[2]" in err


def test_missing_file_exits_2(tmp_path: Path) -> None:
    code, _, err = run(["translate", str(tmp_path / "nope.json"), "--to", "chat"])
    assert code == 2 and "nope.json" in err and "cannot read" in err


def test_bad_input_still_writes_the_losses_file(tmp_path: Path) -> None:
    losses = tmp_path / "losses.json"
    code, _, _ = run(["translate", write(tmp_path, "{"), "--to", "chat", "--losses-json", str(losses)])
    assert code == 2
    assert json.loads(losses.read_text()) == []


def test_request_option_echoes_the_request_into_the_response(tmp_path: Path) -> None:
    completion = {"id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": "m",
                  "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": "ok"}}]}
    request = {"model": "m", "messages": [{"role": "user", "content": "hi"}], "temperature": 0.5,
               "tools": [{"type": "function", "function": {"name": "f", "parameters": {}}}]}
    code, out, _ = run(["translate", write(tmp_path, completion), "--to", "responses", "--request", write(tmp_path, request, "req.json")])
    assert code == 0
    body = json.loads(out)
    assert body["temperature"] == 0.5
    assert body["tools"] == [{"type": "function", "name": "f", "parameters": {}, "strict": False, "description": None}]


def test_demo_runs_offline_and_shows_losses() -> None:
    code, out, _ = run(["demo", "--json"])
    assert code == 0
    demo = json.loads(out)
    results = demo["translations"]
    assert {r["target"] for r in results} == {"responses.request", "chat.request", "response", "chat.completion"}
    codemod = demo["codemod"]
    assert "+    response = client.responses.create(" in codemod["diff"] and "+    return response.output_text" in codemod["diff"]
    assert "# migrator: removed `seed=7" in codemod["diff"]
    assert [s["verdict"] for s in codemod["sites"]] == ["migrated with notes"]
    seed = next(r for r in results if r["example"] == "response.json")
    assert seed["body"]["choices"][0]["message"]["content"] == '{"name":"email","type":"string"}'
    assert any(loss["path"] == "$.stop" for r in results for loss in r["losses"])


def test_demo_renders_for_people() -> None:
    code, out, _ = run(["demo"])
    assert code == 0
    assert "chat.request → responses.request" in out and "$.messages[1].name" in out
    assert "migrator codemod" in out and "client.responses.create(" in out


@pytest.mark.slow
def test_console_script_has_no_traceback_on_bad_json(tmp_path: Path) -> None:
    name = write(tmp_path, "not json")
    proc = subprocess.run([sys.executable, "-m", "migrator.cli", "translate", name, "--to", "chat"],
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 2
    assert "invalid JSON" in proc.stderr and "Traceback" not in proc.stderr


def test_usage_errors_exit_2() -> None:
    with pytest.raises(SystemExit) as exc:
        run(["translate", "x.json", "--to", "soap"])
    assert exc.value.code == 2


# Input that Python's json reads but the API refuses, or that crashed the command with a traceback.
DEEP = "[" * 1500 + "]" * 1500
HUGE_INT = '{"model": "m", "messages": [{"role": "user", "content": "hi"}], "seed": ' + "9" * 5000 + "}"


@pytest.mark.parametrize(
    ("text", "target", "expected"),
    [
        (DEEP, "responses", "$: expected JSON nested at most 100 levels deep"),
        ('{"model": "m", "input": ' + "[" * 1200 + "]" * 1200 + "}", "chat", "nested at most 100 levels"),
        (HUGE_INT, "responses", "$.seed: expected an integer of at most 4300 digits"),
        ('{"model": "m", "input": "\\ud800"}', "chat", "$.input: expected valid Unicode text"),
        ('{"model": "m", "input": [{"role": "user", "content": "x", "\\udfff": 1}]}', "chat", "$.input[0]: expected valid Unicode"),
        ('{"model": "m", "input": "x", "temperature": NaN}', "chat", "$.temperature: expected a finite number"),
        ('{"model": "m", "input": "x", "top_p": -Infinity}', "chat", "$.top_p: expected a finite number"),
        ('{"model": "m", "input": "x", "top_p": -1e999}', "chat", "$.top_p: expected a finite number, found a number beyond"),
        ('{"model": "m", "input": "x", "top_p": 1E+400}', "responses", "$.top_p: expected a finite number, found a number beyond"),
        ('{"model": "m", "messages": [{"role": [], "content": "x"}]}', "responses", "$.messages[0].role"),
        ('{"model": "m", "messages": [{"role": "user", "content": "x"}], "response_format": {"type": {}}}',
         "responses", "$.response_format.type"),
        ('{"model": "m", "input": "x", "text": {"format": {"type": []}}}', "chat", "$.text.format.type"),
    ],
)
def test_input_python_reads_but_the_api_refuses_exits_2_naming_file_and_path(
        tmp_path: Path, text: str, target: str, expected: str) -> None:
    code, out, err = run(["translate", write(tmp_path, text), "--to", target])
    assert (code, out) == (2, "")
    assert "body.json" in err and expected in err
    assert "Traceback" not in err


def test_a_body_from_a_text_stream_with_a_lone_surrogate_is_bad_input() -> None:
    """Text (not bytes) can hold a surrogate that no encoder can print; it is refused, not printed."""
    code, out, err = run(["translate", "-", "--to", "chat"], stdin='{"model": "m", "input": "\ud800"}')
    assert (code, out) == (2, "")
    assert "<stdin>" in err and "$.input: expected valid Unicode text" in err


def test_a_responses_stream_passed_through_needs_a_type_on_every_event(tmp_path: Path) -> None:
    """The type becomes the `event:` line: without one the writer crashed; with a line break it forged a frame."""
    created = {"type": "response.created", "sequence_number": 0, "response": {"id": "resp_1", "object": "response"}}
    for bad, found in (({"sequence_number": 1}, "null"), ({"type": "x\ndata: {}", "sequence_number": 1}, "'x\\ndata: {}'")):
        stream = _frame(json.dumps(created)) + _frame(json.dumps(bad))
        code, out, err = run(["translate", write(tmp_path, stream, "r.sse"), "--to", "responses"])
        assert code == 2 and out.count("event: ") == 1
        assert f"frame 2: $.type: expected the event's type, found {found}" in err


@pytest.mark.parametrize(
    ("request_text", "expected"),
    [
        (DEEP, "nested at most 100 levels"),
        ('{"model": "m", "messages": [], "seed": ' + "1" * 4400 + "}", "$.seed: expected an integer of at most 4300 digits"),
        ('{"model": "m", "messages": [{"role": "user", "content": "\\ud800"}]}', "$.messages[0].content: expected valid Unicode"),
        ('{"model": "m", "messages": [], "temperature": Infinity}', "$.temperature: expected a finite number"),
        ('{"model": "m", "messages": [], "temperature": 1e999}', "$.temperature: expected a finite number"),
    ],
)
@pytest.mark.parametrize("form", ["body", "stream"])
def test_a_bad_request_file_exits_2_naming_the_request_file(tmp_path: Path, request_text: str, expected: str, form: str) -> None:
    completion = {"id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": "m",
                  "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": "ok"}}]}
    chunk = {"id": "c", "object": "chat.completion.chunk", "created": 1, "model": "m",
             "choices": [{"index": 0, "delta": {"content": "ok"}, "finish_reason": "stop"}]}
    source = json.dumps(completion) if form == "body" else f"data: {json.dumps(chunk)}\n\ndata: [DONE]\n\n"
    code, out, err = run(["translate", write(tmp_path, source), "--to", "responses",
                          "--request", write(tmp_path, request_text, "req.json")])
    assert (code, out) == (2, "")
    assert "req.json" in err and expected in err
    assert "body.json" not in err and "Traceback" not in err


def _frame(data: str) -> str:
    return f"data: {data}\n\n"


CHUNK = json.dumps({"id": "c", "object": "chat.completion.chunk", "created": 1, "model": "m",
                    "choices": [{"index": 0, "delta": {"content": "hi"}, "finish_reason": None}]})


@pytest.mark.parametrize(
    ("bad_frame", "expected"),
    [
        ('{"choices": ' + "[" * 1500 + "]" * 1500 + "}", "frame 2: $: expected JSON nested at most 100 levels deep"),
        (CHUNK[:-1] + ', "x": ' + "7" * 5000 + "}", "frame 2: $.x: expected an integer of at most 4300 digits"),
        (CHUNK.replace('"hi"', '"\\ud800"'), "frame 2: $.choices[0].delta.content: expected valid Unicode text"),
        (CHUNK.replace('"created": 1', '"created": NaN'), "frame 2: $.created: expected a finite number"),
    ],
)
@pytest.mark.parametrize("target", ["responses", "chat"])
def test_a_bad_sse_frame_exits_2_naming_the_frame_and_path(tmp_path: Path, bad_frame: str, expected: str, target: str) -> None:
    stream = _frame(CHUNK) + _frame(bad_frame) + _frame("[DONE]")
    code, _, err = run(["translate", write(tmp_path, stream, "chat.sse"), "--to", target])
    assert code == 2
    assert f"migrator: error: {tmp_path / 'chat.sse'}: {expected}" in err
    assert "Traceback" not in err


@pytest.mark.parametrize("target", ["responses", "chat"])
def test_a_number_beyond_the_float_range_in_a_frame_exits_2(tmp_path: Path, target: str) -> None:
    """1e999 is JSON that Python reads as infinity; written back it would be `Infinity`, which is not JSON."""
    stream = _frame(CHUNK.replace('"created": 1', '"created": 1e999')) + _frame("[DONE]")
    code, out, err = run(["translate", write(tmp_path, stream, "chat.sse"), "--to", target])
    assert code == 2 and "Infinity" not in out
    assert "chat.sse: frame 1: $." in err and "expected a finite number, found one beyond the float range" in err


def test_version() -> None:
    out = io.StringIO()
    with pytest.raises(SystemExit) as exc, contextlib.redirect_stdout(out):
        main(["--version"])
    assert exc.value.code == 0
    assert out.getvalue().strip() == f"migrator {migrator.__version__}"


def _long_chat_stream(path: Path, chunks: int = 3000) -> str:
    """Far more than a pipe's buffer (64 KiB), so the writer meets the closed pipe mid-stream."""
    text = _frame(CHUNK) * chunks + _frame(CHUNK.replace("null", '"stop"')) + _frame("[DONE]")
    path.write_text(text, encoding="utf-8")
    return str(path)


@pytest.mark.slow
@pytest.mark.parametrize("target", ["chat", "responses"])
def test_a_closed_output_pipe_ends_quietly_like_head_expects(tmp_path: Path, target: str) -> None:
    """`migrator translate long.sse --to chat | head -1`: no traceback, the status of a tool stopped by SIGPIPE."""
    proc = subprocess.Popen([sys.executable, "-m", "migrator.cli", "translate", _long_chat_stream(tmp_path / "long.sse"),
                             "--to", target], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    first = proc.stdout.readline()
    proc.stdout.close()  # what head does after its line
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=60) == EXIT_BROKEN_PIPE == 141
    assert first.strip()
    assert err == ""


@pytest.mark.slow
def test_a_pipe_closed_before_the_output_is_flushed_ends_quietly(tmp_path: Path) -> None:
    """A small answer sits in stdout's buffer until exit; the reader has already gone (`| true`)."""
    proc = subprocess.Popen([sys.executable, "-m", "migrator.cli", "translate", write(tmp_path, CLEAN_CHAT), "--to", "responses"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # long before the interpreter has started
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=60) == EXIT_BROKEN_PIPE
    assert err == ""
