"""The ``migrator`` command: output, exit codes (0 / 1 / 2), the losses file, errors without tracebacks."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from migrator.cli import main

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
    results = json.loads(out)
    assert {r["target"] for r in results} == {"responses.request", "chat.request", "response", "chat.completion"}
    seed = next(r for r in results if r["example"] == "response.json")
    assert seed["body"]["choices"][0]["message"]["content"] == '{"name":"email","type":"string"}'
    assert any(loss["path"] == "$.stop" for r in results for loss in r["losses"])


def test_demo_renders_for_people() -> None:
    code, out, _ = run(["demo"])
    assert code == 0
    assert "chat.request → responses.request" in out and "$.messages[1].name" in out


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
