"""A whole sample project, migrated by the real codemod: ``fixtures/codemod/project/before`` becomes
``after`` file for file, byte for byte (bump-pydantic's golden-tree test).

The project mixes what a repository holds: an SDK client with calls and reads, a tool loop over
a tools constant, a streamed loop, a raw gateway post, a notebook, a test that patches the chat
resource, a look-alike SDK, and code the walk must not enter (an ignored build folder, a
virtualenv), and a README whose prose is reported, not edited.
"""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import pytest

from migrator.cli import main

PROJECT = Path(__file__).resolve().parent.parent / "fixtures" / "codemod" / "project"


def _files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _codemod(*args: str) -> tuple[int, str]:
    out, err = io.BytesIO(), io.StringIO()
    stdout = io.TextIOWrapper(out, encoding="utf-8")
    code = main(["codemod", *args], stdin=io.StringIO(""), stdout=stdout, stderr=err)
    stdout.flush()
    return code, out.getvalue().decode("utf-8")


def test_the_sample_project_becomes_the_golden_tree_and_stays_there(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    work = tmp_path / "project"
    shutil.copytree(PROJECT / "before", work)
    monkeypatch.chdir(work)
    code, diff = _codemod(".", "--report", str(tmp_path / "report.json"))
    assert code == 1 and "+++ b/app/llm.py" in diff
    assert _files(work) == _files(PROJECT / "before"), "--diff wrote something"

    assert _codemod(".", "--write")[0] == 0
    assert _files(work) == _files(PROJECT / "after")
    assert _codemod(".", "--check")[0] == 0, "a second run would change something"

    report = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    by_file: dict[str, list[str]] = {}
    for site in report["sites"]:
        by_file.setdefault(Path(site["file"]).name, []).append(site["verdict"])
    assert by_file["llm.py"] == ["migrated with notes", "migrated"]
    assert by_file["agent.py"] == ["migrated with notes", "migrated with notes"]  # include=[reasoning.encrypted_content]
    assert by_file["test_llm.py"] == ["left for a person"]
    assert by_file["README.md"] == ["left for a person"]  # its prose names the call: reported, never edited
    assert {"generated.py", "site.py", "other_provider.py"}.isdisjoint(by_file)


def test_instructions_option_moves_the_leading_system_message() -> None:
    code = ('from openai import OpenAI\nclient = OpenAI()\nr = client.chat.completions.create(model="m", messages=['
            '{"role": "system", "content": "Be brief."}, {"role": "user", "content": "hi"}])\nprint(r.choices[0].message.content)\n')
    out, err = io.BytesIO(), io.StringIO()
    stdout = io.TextIOWrapper(out, encoding="utf-8")
    code_plain = main(["codemod", "-"], stdin=io.StringIO(code), stdout=stdout, stderr=err)
    stdout.flush()
    plain = out.getvalue().decode("utf-8")
    out2 = io.BytesIO()
    stdout2 = io.TextIOWrapper(out2, encoding="utf-8")
    code_hoisted = main(["codemod", "-", "--instructions"], stdin=io.StringIO(code), stdout=stdout2, stderr=err)
    stdout2.flush()
    hoisted = out2.getvalue().decode("utf-8")
    assert code_plain in (0, 1) and code_hoisted in (0, 1)
    assert "instructions=" not in plain and '"role": "system"' in plain
    assert 'instructions="Be brief."' in hoisted and '"role": "system"' not in hoisted


def test_source_nested_past_the_recursion_limit_is_that_files_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    deep = "[" * 400 + "]" * 400
    (tmp_path / "deep.py").write_text(
        f'from openai import OpenAI\nc = OpenAI()\nr = c.chat.completions.create(model="m", messages=[{{"role": "user", "content": {deep}}}])\n')
    (tmp_path / "fine.py").write_text('from openai import OpenAI\nc = OpenAI()\nr = c.chat.completions.create(model="m", messages=[])\n')
    monkeypatch.chdir(tmp_path)
    out, err = io.BytesIO(), io.StringIO()
    stdout = io.TextIOWrapper(out, encoding="utf-8")
    code = main(["codemod", ".", "--check"], stdin=io.StringIO(""), stdout=stdout, stderr=err)
    assert code == 2
    assert "deep.py:1:1: error: nested too deeply for the codemod to follow" in err.getvalue()
    assert "Traceback" not in err.getvalue() and "internal error" not in err.getvalue()
    assert "fine.py" in out.getvalue().decode("utf-8") + err.getvalue()  # the other file still ran
