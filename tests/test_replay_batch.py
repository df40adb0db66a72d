"""``export-batch`` / ``import-batch``: Batch API input files from a corpus, and their outputs read back.

The Batch API itself is played by the offline model: the responses batch by
``migrator.server.offline.generate`` (its checks give the 400s), the chat batches by the
offline server in process (Starlette's TestClient). The output files are written as the Batch
API writes them: successes in the output file, failures in the error file, in any order.
"""

from __future__ import annotations

import io
import json
import os
import random
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any, get_args, get_type_hints

import pytest
from openai.types.batch_create_params import BatchCreateParams
from starlette.testclient import TestClient

from migrator.replay.batch import (
    BatchCase,
    BatchError,
    exchange_of,
    export_batch,
    export_cases,
    import_batch,
    import_run,
    safe_id,
)
from migrator.replay.model import Case, CorpusProblem, Exchange
from migrator.replay.store import iter_problems, iter_results
from migrator.server.app import create_app
from migrator.server.offline import OfflineRequestError, generate, validate
from migrator.server.run import ServeConfig, build_state
from tests.sdk_shapes import check_request

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "fixtures" / "corpus" / "sample.jsonl"
BATCH_ENDPOINTS = get_args(get_type_hints(BatchCreateParams)["endpoint"])  # Required[...] is peeled by get_type_hints
CUSTOM_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")


def sample_cases() -> list[Case]:
    """The sample corpus as Cases, read here by hand (the corpus reader is another module's job)."""
    cases: list[Case] = []
    for number, raw in enumerate(SAMPLE.read_text(encoding="utf-8").splitlines(), 1):
        try:
            line = json.loads(raw)
        except ValueError:
            continue  # the sample's cut line: the corpus reader reports it, never the export
        if "request" in line:
            cases.append({"id": line["id"], "source": str(SAMPLE), "line": number, "request": line["request"]})
        elif "custom_id" in line:
            cases.append({"id": line["custom_id"], "source": str(SAMPLE), "line": number, "request": line["body"]})
        else:
            cases.append({"id": f"line-{number}", "source": str(SAMPLE), "line": number, "request": line})
    return cases


def case(case_id: str, request: dict[str, Any], line: int = 1) -> Case:
    return {"id": case_id, "source": "corpus.jsonl", "line": line, "request": request}


def hello(text: str = "Hello", **extra: Any) -> dict[str, Any]:
    return {"model": "gpt-4.1-mini", "temperature": 0, "messages": [{"role": "user", "content": text}], **extra}


def read_lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def write_lines(path: Path, lines: list[dict[str, Any]]) -> None:
    path.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")


def arm_files(folder: Path, manifest: dict[str, Any], stem: str) -> list[Path]:
    return [folder / part["file"] for part in manifest["files"][stem]]


# ---------------------------------------------------------------------------- the Batch API, played offline


@pytest.fixture(scope="module")
def chat_server() -> Iterator[TestClient]:
    state = build_state(ServeConfig(access_log="-"))
    with TestClient(create_app(state), raise_server_exceptions=False) as client:
        yield client


def batch_answer(line: dict[str, Any], chat: TestClient, number: int) -> tuple[bool, dict[str, Any]]:
    """One input line's output line as the Batch API writes it, and whether it succeeded."""
    if line["url"] == "/v1/responses":
        try:
            validate(line["body"])
            status, body = 200, generate(line["body"])
        except OfflineRequestError as exc:
            status, body = exc.status, exc.body()
    else:
        answer = chat.post(line["url"], json=line["body"])
        status, body = answer.status_code, answer.json()
    out = {"id": f"batch_req_{number:06d}", "custom_id": line["custom_id"],
           "response": {"status_code": status, "request_id": f"req_{number:032x}", "body": body}, "error": None}
    return status < 400, out


def run_batch(inputs: list[Path], out_dir: Path, name: str, chat: TestClient, *, shuffle: int | None = 7) -> list[Path]:
    """Answer every input line; write ``name``.output.jsonl and ``name``.errors.jsonl, lines shuffled."""
    good: list[dict[str, Any]] = []
    bad: list[dict[str, Any]] = []
    for path in inputs:
        for number, line in enumerate(read_lines(path)):
            ok, out = batch_answer(line, chat, number)
            (good if ok else bad).append(out)
    if shuffle is not None:
        random.Random(shuffle).shuffle(good)
    written = []
    for suffix, lines in (("output", good), ("errors", bad)):
        path = out_dir / f"{name}.{suffix}.jsonl"
        write_lines(path, lines)
        written.append(path)
    return written


@pytest.fixture
def exported(tmp_path: Path) -> tuple[Path, dict[str, Any]]:
    folder = tmp_path / "export"
    return folder, export_batch(sample_cases(), folder, model=None, noise=True)


@pytest.fixture
def outputs(exported: tuple[Path, dict[str, Any]], tmp_path: Path, chat_server: TestClient) -> dict[str, list[Path]]:
    folder, manifest = exported
    return {stem: run_batch(arm_files(folder, manifest, stem), tmp_path, stem, chat_server)
            for stem in ("chat", "responses", "chat-noise")}


def collect(folder: Path, outputs: dict[str, list[Path]], *, noise: bool = True
            ) -> tuple[list[tuple[BatchCase, dict[str, list[Exchange]]]], list[CorpusProblem]]:
    problems: list[CorpusProblem] = []
    rows = list(import_batch(folder, outputs["chat"], outputs["responses"], outputs["chat-noise"] if noise else (),
                             on_problem=problems.append))
    return rows, problems


# ---------------------------------------------------------------------------- export


def test_every_line_is_a_batch_input_line_the_api_accepts(exported: tuple[Path, dict[str, Any]]) -> None:
    folder, manifest = exported
    assert manifest["cases"] == 11 and manifest["refused"] == 0 and manifest["problems"] == []
    ids: dict[str, list[str]] = {}
    for stem, api in (("chat", "chat"), ("responses", "responses"), ("chat-noise", "chat")):
        assert manifest["endpoints"][stem] in BATCH_ENDPOINTS  # the endpoint the batch is created with
        (path,) = arm_files(folder, manifest, stem)
        lines = read_lines(path)
        for line in lines:
            assert list(line) == ["custom_id", "method", "url", "body"]
            assert line["method"] == "POST" and line["url"] == manifest["endpoints"][stem]  # one endpoint a batch
            assert CUSTOM_ID.fullmatch(line["custom_id"])
            check_request(line["body"], api)  # exactly the SDK's request shape: no key the API refuses
        ids[stem] = [line["custom_id"] for line in lines]
        assert len(set(ids[stem])) == len(lines) == manifest["files"][stem][0]["lines"]
    assert ids["chat"] == ids["responses"] == ids["chat-noise"]
    assert ids["chat"][:3] == ["0-greeting-t0", "1-support-reply", "2-weather-tool"]
    on_disk = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert on_disk == {k: v for k, v in manifest.items() if k != "problems"}


def test_the_responses_line_is_the_engines_translation_and_its_losses_are_kept(exported: tuple[Path, dict[str, Any]]) -> None:
    import migrator

    folder, _ = exported
    chat = {line["custom_id"]: line["body"] for line in read_lines(folder / "chat.jsonl")}
    responses = {line["custom_id"]: line["body"] for line in read_lines(folder / "responses.jsonl")}
    losses = {line["custom_id"]: line for line in read_lines(folder / "losses.jsonl")}
    for custom_id, body in chat.items():
        translation = migrator.translate(body, to="responses")
        assert responses[custom_id] == translation.body
        assert losses[custom_id]["losses"] == [loss.as_dict() for loss in translation.losses]
    named = losses["5-named-speaker"]
    assert (named["id"], named["source"], named["line"]) == ("named-speaker", str(SAMPLE), 6)
    assert [loss["path"] for loss in named["losses"]] == ["$.seed", "$.messages[0].name"]


def test_a_request_the_engine_refuses_is_reported_not_exported(tmp_path: Path) -> None:
    cases = [case("ok", hello()),
             case("odd-role", {"model": "m", "messages": [{"role": "wizard", "content": "x"}]}, line=2),
             case("no-model", {"messages": [{"role": "user", "content": "x"}]}, line=3),
             case("a-response", {"model": "m", "input": "hi"}, line=4)]
    manifest = export_batch(cases, tmp_path, model=None, noise=False)
    assert manifest["cases"] == 1 and manifest["refused"] == 3
    assert [(p["line"], p["path"]) for p in manifest["problems"]] == [(2, "$.messages[0].role"), (3, "$.model"), (4, "$")]
    assert "wizard" in manifest["problems"][0]["message"] and "--model" in manifest["problems"][1]["message"]
    assert "found a responses.request" in manifest["problems"][2]["message"]
    written = read_lines(tmp_path / "problems.jsonl")
    assert [line["id"] for line in written] == ["odd-role", "no-model", "a-response"]
    assert [line["custom_id"] for line in read_lines(tmp_path / "chat.jsonl")] == ["0-ok"]
    assert not (tmp_path / "chat-noise.jsonl").exists() and "chat-noise" not in manifest["files"]


def test_model_overrides_and_stream_is_taken_out_and_said(tmp_path: Path) -> None:
    cases = [case("a", hello(model="gpt-4o")), case("b", hello(stream=True, stream_options={"include_usage": True}))]
    mixed = export_batch(cases, tmp_path / "mixed", model=None, noise=False)
    assert mixed["models"] == {"gpt-4o": 1, "gpt-4.1-mini": 1} and mixed["stream_removed"] == 1
    assert any("2 models" in w for w in mixed["warnings"]) and any("stream" in w for w in mixed["warnings"])
    one = export_batch(cases, tmp_path / "one", model="gpt-4o-mini", noise=False)
    assert one["models"] == {"gpt-4o-mini": 2} and not any("models" in w for w in one["warnings"])
    for stem in ("chat", "responses"):
        for line in read_lines(tmp_path / "one" / f"{stem}.jsonl"):
            assert line["body"]["model"] == "gpt-4o-mini"
            assert "stream" not in line["body"] and "stream_options" not in line["body"]
    assert cases[1]["request"]["stream"] is True  # the corpus case itself is untouched


def test_custom_ids_are_safe_unique_and_name_the_case() -> None:
    odd = ["weather tool", "weather_tool", "ünïcode/🙂", "x" * 200, "same", "same", ""]
    ids = [safe_id(case_id, n) for n, case_id in enumerate(odd)]
    assert all(CUSTOM_ID.fullmatch(i) for i in ids) and len(set(ids)) == len(ids)
    assert ids[1] == "1-weather_tool" and ids[0].startswith("0-weather_tool_") and ids[0] != "0-weather_tool"
    assert ids[4] == "4-same" and ids[5] == "5-same"
    assert len(safe_id("y" * 500, 10**9)) == 64


def test_files_split_into_aligned_parts_at_the_line_limit(tmp_path: Path) -> None:
    cases = [case(f"c{i}", hello(f"question {i}"), line=i + 1) for i in range(7)]
    manifest = export_batch(cases, tmp_path, model=None, noise=True, max_lines=3)
    for stem in ("chat", "responses", "chat-noise"):
        parts = manifest["files"][stem]
        assert [p["file"] for p in parts] == [f"{stem}.1.jsonl", f"{stem}.2.jsonl", f"{stem}.3.jsonl"]
        assert [p["lines"] for p in parts] == [3, 3, 1]
        assert [len(read_lines(tmp_path / p["file"])) for p in parts] == [3, 3, 1]
        assert all((tmp_path / p["file"]).stat().st_size == p["bytes"] for p in parts)
        assert not (tmp_path / f"{stem}.jsonl").exists()
    for k in (1, 2, 3):  # part k of each arm holds the same cases
        ids = [[line["custom_id"] for line in read_lines(tmp_path / f"{stem}.{k}.jsonl")] for stem in ("chat", "responses")]
        assert ids[0] == ids[1]
    again = export_batch(cases[:2], tmp_path, model=None, noise=False)  # a smaller export into the same folder
    assert [p["file"] for p in again["files"]["chat"]] == ["chat.jsonl"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["chat.jsonl", "losses.jsonl", "manifest.json",
                                                          "problems.jsonl", "responses.jsonl"]


def test_files_split_at_the_byte_limit_and_an_oversized_request_is_refused(tmp_path: Path) -> None:
    cases = [case(f"c{i}", hello("word " * 40), line=i + 1) for i in range(4)]
    cases.append(case("huge", hello("word " * 400), line=5))
    size = len(json.dumps({"custom_id": "0-c0", "method": "POST", "url": "/v1/responses", "body": cases[0]["request"]}))
    manifest = export_batch(cases, tmp_path, model=None, noise=False, max_bytes=2 * size + 60)
    assert [p["lines"] for p in manifest["files"]["chat"]] == [2, 2]
    assert all(p["bytes"] <= 2 * size + 60 for stem in ("chat", "responses") for p in manifest["files"][stem])
    (problem,) = manifest["problems"]
    assert problem["line"] == 5 and "batch file limit" in problem["message"]


def test_an_export_folder_that_cannot_be_made_is_a_batch_error(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    with pytest.raises(BatchError, match="cannot write an export there"):
        export_batch([case("a", hello())], tmp_path / "file" / "sub", model=None, noise=False)


# ---------------------------------------------------------------------------- import


def test_the_outputs_come_back_as_exchanges_per_arm_in_export_order(exported: tuple[Path, dict[str, Any]],
                                                                     outputs: dict[str, list[Path]]) -> None:
    folder, _ = exported
    rows, problems = collect(folder, outputs)
    assert problems == []
    assert [c["id"] for c, _ in rows] == [c["id"] for c in sample_cases()]
    for batch_case, exchanges in rows:
        assert set(exchanges) == {"P", "S", "C"}
        for arm, (exchange,) in exchanges.items():
            assert exchange["arm"] == arm and exchange["sample"] == 0
            assert exchange["path"] == ("/v1/responses" if arm == "C" else "/v1/chat/completions")
            assert exchange["ttft_ms"] is None and exchange["total_ms"] == 0 and exchange["timed"] is False
            assert exchange["stream"] is None and exchange["cached"] is False and exchange["attempts"] == 1
        assert batch_case["translated"]["input"]  # the responses request, for the report's side-by-side
    by_id = {c["id"]: (c, e) for c, e in rows}
    weather, arms = by_id["weather-tool"]
    assert weather["source"] == str(SAMPLE) and weather["line"] == 3 and weather["custom_id"] == "2-weather-tool"
    assert arms["P"][0]["status"] == 200 and arms["P"][0]["body"]["object"] == "chat.completion"
    assert arms["P"][0]["body"]["choices"][0]["message"]["tool_calls"][0]["function"]["name"] == "get_weather"
    assert arms["C"][0]["body"]["object"] == "response" and arms["C"][0]["body"]["output"][0]["name"] == "get_weather"
    named, _ = by_id["named-speaker"]
    assert [loss["path"] for loss in named["losses"]] == ["$.seed", "$.messages[0].name"]
    _, hot = by_id["too-hot"]  # temperature 5: both endpoints refuse it, from the error files
    for arm in ("P", "C"):
        exchange = hot[arm][0]
        assert exchange["status"] == 400 and exchange["body"] is None and exchange["error"] is not None
        assert exchange["error"]["kind"] == "api" and exchange["error"]["type"] == "invalid_request_error"
        assert "temperature" in exchange["error"]["message"]


def test_without_a_noise_batch_the_s_arm_is_absent(tmp_path: Path, chat_server: TestClient) -> None:
    folder = tmp_path / "export"
    manifest = export_batch(sample_cases()[:3], folder, model=None, noise=False)
    outputs = {stem: run_batch(arm_files(folder, manifest, stem), tmp_path, stem, chat_server)
               for stem in ("chat", "responses")}
    problems: list[CorpusProblem] = []
    rows = list(import_batch(folder, outputs["chat"], outputs["responses"], on_problem=problems.append))
    assert [sorted(exchanges) for _, exchanges in rows] == [["C", "P"]] * 3 and problems == []
    with pytest.raises(BatchError, match="without the noise arm"):
        import_batch(folder, outputs["chat"], outputs["responses"], outputs["chat"], on_problem=problems.append)


def test_split_exports_import_from_several_output_files(tmp_path: Path, chat_server: TestClient) -> None:
    folder = tmp_path / "export"
    cases = [case(f"c{i}", hello(f"question {i}"), line=i + 1) for i in range(5)]
    manifest = export_batch(cases, folder, model=None, noise=False, max_lines=2)
    outputs: dict[str, list[Path]] = {"chat": [], "responses": []}
    for stem in outputs:
        for k, part in enumerate(arm_files(folder, manifest, stem)):  # one batch per part, as they would be run
            outputs[stem] += run_batch([part], tmp_path, f"{stem}-{k}", chat_server, shuffle=k)
    outputs["chat"].reverse()
    rows, problems = collect(folder, {**outputs, "chat-noise": []}, noise=False)
    assert problems == [] and [c["id"] for c, _ in rows] == [f"c{i}" for i in range(5)]
    assert all(e["P"][0]["status"] == e["C"][0]["status"] == 200 for _, e in rows)


def drop_answer(path: Path, custom_id: str) -> Path:
    """The output file without the answer to ``custom_id``, as a batch that lost it would be."""
    write_lines(path, [line for line in read_lines(path) if line["custom_id"] != custom_id])
    return path


def test_a_custom_id_in_one_output_only_is_a_clear_problem(exported: tuple[Path, dict[str, Any]],
                                                           outputs: dict[str, list[Path]]) -> None:
    folder, _ = exported
    responses_out = drop_answer(outputs["responses"][0], "2-weather-tool")
    rows, problems = collect(folder, outputs)
    assert "weather-tool" not in [c["id"] for c, _ in rows] and len(rows) == 10
    (problem,) = problems
    assert problem["source"] == str(SAMPLE) and problem["line"] == 3
    message = problem["message"]
    assert "'2-weather-tool'" in message and "no usable answer in the responses output" in message
    assert str(responses_out) in message and "only in the chat and chat-noise output" in message
    assert "left out" in message


def test_a_missing_noise_answer_keeps_the_case_without_s(exported: tuple[Path, dict[str, Any]],
                                                         outputs: dict[str, list[Path]]) -> None:
    folder, _ = exported
    drop_answer(outputs["chat-noise"][0], "0-greeting-t0")
    rows, problems = collect(folder, outputs)
    first, arms = rows[0]
    assert first["id"] == "greeting-t0" and sorted(arms) == ["C", "P"]
    (problem,) = problems
    assert "without a noise arm" in problem["message"]


def test_unreadable_foreign_and_repeated_output_lines_are_named_by_file_and_line(
        exported: tuple[Path, dict[str, Any]], outputs: dict[str, list[Path]]) -> None:
    folder, _ = exported
    chat_out = outputs["chat"][0]
    lines = chat_out.read_text(encoding="utf-8").splitlines()
    first = json.loads(lines[0])
    extra = [
        "{this is not json",
        json.dumps({"id": "batch_req_x", "custom_id": "99-not-ours", "response": None, "error": {"code": "x", "message": "y"}}),
        json.dumps({"id": "batch_req_y", "response": None}),
        json.dumps(first),  # the same custom_id again: the later line wins, and it is said
    ]
    chat_out.write_text("\n".join(lines + extra) + "\n", encoding="utf-8")
    rows, problems = collect(folder, outputs)
    assert len(rows) == 11
    base = len(lines)
    assert [(p["source"], p["line"]) for p in problems] == [(str(chat_out), base + n) for n in (1, 2, 3, 4)]
    assert "not JSON" in problems[0]["message"]
    assert "'99-not-ours' is not one this export wrote" in problems[1]["message"]
    assert "expected a custom_id string, found null" in problems[2]["message"]
    assert f"also at {chat_out}:1; this later line is used" in problems[3]["message"]


def test_a_custom_id_echoed_inside_an_answer_does_not_mislead_the_scan(
        exported: tuple[Path, dict[str, Any]], outputs: dict[str, list[Path]]) -> None:
    """A Response echoes the request's metadata: a ``custom_id`` key there, before the line's own."""
    folder, _ = exported
    responses_out = outputs["responses"][0]
    lines = read_lines(responses_out)
    for line in lines:
        line["response"]["body"]["metadata"] = {"custom_id": "7-someone-else"}
    write_lines(responses_out, [{"response": line.pop("response"), **line} for line in lines])  # response first
    rows, problems = collect(folder, outputs)
    assert problems == [] and len(rows) == 11
    assert all(arms["C"][0]["body"]["metadata"] == {"custom_id": "7-someone-else"}
               for case_, arms in rows if arms["C"][0]["status"] == 200)


def test_error_file_lines_become_error_exchanges() -> None:
    expired = {"id": "batch_req_1", "custom_id": "0-a", "response": None,
               "error": {"code": "batch_expired", "message": "This request could not be executed before the batch expired."}}
    exchange = exchange_of(expired, "C")
    assert not isinstance(exchange, str)
    assert exchange["status"] is None and exchange["body"] is None and exchange["path"] == "/v1/responses"
    assert exchange["error"] == {"kind": "api", "status": None, "type": "batch_expired", "code": "batch_expired",
                                 "message": "This request could not be executed before the batch expired."}
    key = "sk-proj-Zq8vT3mW9xL2nR7pK4bY6cJ1"
    refused = {"custom_id": "0-a", "response": {"status_code": 401, "request_id": "r", "body": {"error": {
        "message": f"Incorrect API key provided: {key}.", "type": "invalid_request_error", "code": "invalid_api_key"}}}}
    exchange = exchange_of(refused, "P")
    assert not isinstance(exchange, str) and exchange["error"] is not None
    assert exchange["status"] == 401 and exchange["error"]["code"] == "invalid_api_key"
    assert key not in exchange["error"]["message"]  # ErrorFacts.message: secrets removed
    odd = exchange_of({"custom_id": "0-a", "response": {"status_code": 200, "body": "text"}}, "P")
    assert not isinstance(odd, str) and odd["error"] is not None and odd["error"]["kind"] == "protocol"
    assert "status_code" in str(exchange_of({"custom_id": "0-a", "response": {"status_code": "200"}}, "P"))
    assert "expected response" in str(exchange_of({"custom_id": "0-a", "response": None, "error": None}, "P"))


def test_a_bad_status_line_is_a_problem_and_the_case_is_left_out(exported: tuple[Path, dict[str, Any]],
                                                                  outputs: dict[str, list[Path]]) -> None:
    folder, _ = exported
    chat_out = outputs["chat"][0]
    lines = read_lines(chat_out)
    target = next(i for i, line in enumerate(lines) if line["custom_id"] == "1-support-reply")
    lines[target]["response"]["status_code"] = "200"
    write_lines(chat_out, lines)
    rows, problems = collect(folder, outputs)
    assert "support-reply" not in [c["id"] for c, _ in rows]
    assert (problems[0]["source"], problems[0]["line"], problems[0]["path"]) == (str(chat_out), target + 1, "$.response")
    assert "status_code" in problems[0]["message"] and "support-reply" in problems[1]["message"]


def test_an_export_that_is_missing_or_changed_is_a_batch_error(exported: tuple[Path, dict[str, Any]],
                                                               outputs: dict[str, list[Path]], tmp_path: Path) -> None:
    folder, _ = exported
    with pytest.raises(BatchError, match="manifest"):
        import_batch(tmp_path / "nowhere", outputs["chat"], outputs["responses"], on_problem=print)
    with pytest.raises(BatchError, match="cannot read this chat output file"):
        import_batch(folder, [tmp_path / "missing.jsonl"], outputs["responses"], on_problem=print)
    with pytest.raises(BatchError, match="no responses output files"):
        import_batch(folder, outputs["chat"], [], on_problem=print)
    chat = folder / "chat.jsonl"
    chat.write_text("".join(chat.read_text(encoding="utf-8").splitlines(keepends=True)[1:]), encoding="utf-8")
    with pytest.raises(BatchError, match="export was changed"):
        list(import_batch(folder, outputs["chat"], outputs["responses"], on_problem=print))


def open_files() -> int:
    return len(os.listdir("/proc/self/fd"))


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="counts descriptors in /proc")
def test_the_output_files_are_closed_however_the_import_ends(exported: tuple[Path, dict[str, Any]],
                                                              outputs: dict[str, list[Path]]) -> None:
    folder, _ = exported
    before = open_files()
    unread = import_batch(folder, outputs["chat"], outputs["responses"], on_problem=print)
    assert open_files() == before  # scanned and closed: nothing held until the first case is asked for
    partial = import_batch(folder, outputs["chat"], outputs["responses"], on_problem=print)
    next(partial)
    assert open_files() > before
    partial.close()
    assert open_files() == before
    assert len(list(unread)) == 11 and open_files() == before


def test_the_scan_keeps_two_integers_a_case_and_arm(exported: tuple[Path, dict[str, Any]],
                                                    outputs: dict[str, list[Path]]) -> None:
    """Memory O(cases) at 16 bytes per case and arm, whatever the size of the answers."""
    from migrator.replay.batch import _Arm

    _, manifest = exported
    arm = _Arm("P", outputs["chat"], manifest["cases"])
    arm.scan(print)
    assert arm.where.typecode == arm.line.typecode == "q" and len(arm.where) == len(arm.line) == 11
    assert vars(arm).keys() == {"arm", "files", "where", "line", "handles"} and arm.handles == []
    assert min(arm.where) >= 0 and sorted(arm.line) == sorted([*range(1, 11), 1])  # 10 answers, 1 error line


def test_an_imported_case_is_a_case(exported: tuple[Path, dict[str, Any]], outputs: dict[str, list[Path]]) -> None:
    folder, _ = exported
    rows, _ = collect(folder, outputs)
    batch_case, _ = rows[0]
    plain: Case = batch_case  # what the judge and the store take
    assert plain["request"] == json.loads(io.StringIO((folder / "chat.jsonl").read_text()).readline())["body"]


def test_unreadable_corpus_lines_pass_on_to_the_problems(tmp_path: Path) -> None:
    unreadable: CorpusProblem = {"source": "corpus.jsonl", "line": 2, "path": "$", "message": "expected JSON"}
    manifest = export_batch([case("a", hello()), unreadable, case("b", hello(), line=3)], tmp_path, model=None, noise=False)
    assert (manifest["cases"], manifest["unreadable"], manifest["refused"]) == (2, 1, 0)
    assert manifest["problems"] == [unreadable] and read_lines(tmp_path / "problems.jsonl") == [unreadable]
    assert [line["custom_id"] for line in read_lines(tmp_path / "chat.jsonl")] == ["0-a", "1-b"]


# ---------------------------------------------------------------------------- the commands' two steps


def test_export_cases_reads_the_corpus_as_a_stream_and_a_shard(tmp_path: Path) -> None:
    whole = export_cases([str(SAMPLE)], tmp_path / "all", model="gpt-4o-mini", noise=True)
    assert whole["cases"] == 11 and whole["unreadable"] == 1 and whole["problems"][0]["line"] == 12
    assert whole["models"] == {"gpt-4o-mini": 11}
    halves = [export_cases([str(SAMPLE)], tmp_path / f"s{i}", shard=(i, 2)) for i in (1, 2)]
    assert sum(h["cases"] for h in halves) == 11 and all(h["cases"] for h in halves)
    with pytest.raises(ValueError, match="not found"):
        export_cases([str(tmp_path / "nope.jsonl")], tmp_path / "x")


def test_import_run_writes_the_run_folder_a_replay_writes(exported: tuple[Path, dict[str, Any]],
                                                          outputs: dict[str, list[Path]], tmp_path: Path) -> None:
    folder, _ = exported
    told: list[CorpusProblem] = []
    meta = import_run(folder, outputs["chat"], outputs["responses"], outputs["chat-noise"], tmp_path / "run",
                      on_problem=told.append)
    assert meta["timed"] is False and meta["cases_run"] == 11
    assert json.loads((tmp_path / "run" / "meta.json").read_text(encoding="utf-8"))["cases_run"] == 11
    results = {r["id"]: r for r in iter_results(tmp_path / "run")}
    assert len(results) == 11 and list(iter_problems(tmp_path / "run")) == told == []
    assert results["greeting-t0"]["verdict"] == "equivalent"
    assert results["too-hot"]["verdict"] == "error"  # both endpoints refused it
    assert sorted(results["weather-tool"]["records"]) == ["C", "P", "S"]
    assert results["weather-tool"]["records"]["P"][0]["tool_calls"][0]["name"] == "get_weather"
    named = results["named-speaker"]
    assert [loss["path"] for loss in named["losses"]] == ["$.seed", "$.messages[0].name"]
    with pytest.raises(ValueError, match="already holds a run"):
        import_run(folder, outputs["chat"], outputs["responses"], (), tmp_path / "run")
    with pytest.raises(BatchError, match="cannot read this chat output file"):
        import_run(folder, [tmp_path / "missing.jsonl"], outputs["responses"], (), tmp_path / "never")
    assert not (tmp_path / "never").exists()  # the scan comes first: nothing written for an import that cannot run


def test_import_run_writes_every_problem_where_the_report_finds_it(exported: tuple[Path, dict[str, Any]],
                                                                   outputs: dict[str, list[Path]], tmp_path: Path) -> None:
    folder, _ = exported
    with (folder / "problems.jsonl").open("a", encoding="utf-8") as problems:  # as if the engine had refused one
        problems.write(json.dumps({"id": "x", "source": "c.jsonl", "line": 40, "path": "$.messages[0].role",
                                   "message": "the engine refuses it: expected a role"}) + "\n")
    chat_out = outputs["chat"][0]
    write_lines(chat_out, [*read_lines(chat_out), {"custom_id": "99-stranger", "response": None, "error": None}])
    drop_answer(outputs["responses"][0], "2-weather-tool")
    told: list[CorpusProblem] = []
    meta = import_run(folder, outputs["chat"], outputs["responses"], (), tmp_path / "run", on_problem=told.append)
    written = list(iter_problems(tmp_path / "run"))
    assert written == told and meta["cases_run"] == 10
    assert [(p["source"], p["line"]) for p in told] == [("c.jsonl", 40), (str(chat_out), 11), (str(SAMPLE), 3)]
    assert told[0]["message"] == "not exported: the engine refuses it: expected a role"
    assert "99-stranger" in told[1]["message"] and "weather-tool" in told[2]["message"]
