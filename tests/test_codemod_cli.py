"""``migrator codemod`` as a user runs it: modes, exit codes, streams, the report, the pool.

The rewrite itself is a stand-in (tests/codemod_helpers.py, passed with the hidden
``--transform``), so these tests hold whatever the real transformers do.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from migrator.cli import main
from tests import codemod_helpers as h

FAKE = ["--transform", "tests.codemod_helpers:rename"]
ROOT = Path(__file__).resolve().parent.parent


class Run:
    def __init__(self, code: int, out: bytes, err: str) -> None:
        self.code, self.out, self.err = code, out, err


def codemod(*args: str, stdin: bytes = b"") -> Run:
    out, err = io.BytesIO(), io.StringIO()
    stdout = io.TextIOWrapper(out, encoding="utf-8")
    code = main(["codemod", *args, *FAKE], stdin=io.TextIOWrapper(io.BytesIO(stdin), encoding="utf-8"),
                stdout=stdout, stderr=err)
    stdout.flush()
    return Run(code, out.getvalue(), err.getvalue())


def _repo(root: Path, n_sites: int = 2) -> Path:
    (root / "pkg").mkdir(parents=True)
    for i in range(n_sites):
        (root / "pkg" / f"uses_{i}.py").write_text(h.SAMPLE)
    (root / "pkg" / "plain.py").write_text(h.PLAIN)
    (root / "nb.ipynb").write_text(h.notebook(["from openai import OpenAI\nclient = OpenAI()\n",
                                               "client.chat.completions.create(model='m', messages=[])\n"]))
    return root


def test_diff_is_the_default_exits_1_and_writes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(_repo(tmp_path))
    run = codemod(".")
    assert run.code == 1
    assert run.out.count(b"\n--- a/") + run.out.startswith(b"--- a/") == 3
    assert b"+++ b/pkg/uses_0.py\n" in run.out and b"+r = client.responses.create(" in run.out
    assert (tmp_path / "pkg/uses_0.py").read_text() == h.SAMPLE
    assert "3 would change" in run.err


@pytest.mark.slow
def test_git_apply_accepts_the_diff(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    git = shutil.which("git")
    if git is None:
        pytest.skip("git is not installed")
    repo = _repo(tmp_path)
    (repo / "crlf.py").write_bytes(h.SAMPLE.replace("\n", "\r\n").encode())
    (repo / "noeol.py").write_text(h.SAMPLE.rstrip("\n"))
    (repo / "latin.py").write_bytes(("# coding: latin-1\n# \xe9\n" + h.SAMPLE).encode("latin-1"))
    subprocess.run([git, "init", "-q", str(repo)], check=True)
    monkeypatch.chdir(repo)
    run = codemod(".")
    assert run.code == 1
    (tmp_path / "out.patch").write_bytes(run.out)
    check = subprocess.run([git, "apply", "--check", "-v", str(tmp_path / "out.patch")], capture_output=True, text=True)
    assert check.returncode == 0, check.stderr
    subprocess.run([git, "apply", str(tmp_path / "out.patch")], check=True)
    assert codemod(".").code == 0  # applying the diff leaves nothing pending
    assert (repo / "crlf.py").read_bytes() == h.MIGRATED.replace("\n", "\r\n").encode()
    assert (repo / "noeol.py").read_text() == h.MIGRATED.rstrip("\n")


def test_write_then_a_second_run_changes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(_repo(tmp_path))
    first = codemod(".", "--write")
    assert first.code == 0 and first.out == b""
    assert "rewrote pkg/uses_0.py" in first.err and "3 rewritten" in first.err
    assert (tmp_path / "pkg/uses_1.py").read_text() == h.MIGRATED
    snapshot = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    second = codemod(".", "--write")
    assert second.code == 0 and "0 rewritten" in second.err
    assert {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()} == snapshot
    assert codemod(".", "--check").code == 0


def test_check_lists_the_files_and_exits_1_when_changes_are_pending(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(_repo(tmp_path))
    run = codemod("--check", ".")
    assert run.code == 1
    assert run.out.decode().splitlines() == ["nb.ipynb", "pkg/uses_0.py", "pkg/uses_1.py"]
    assert codemod("--check", "pkg/plain.py").code == 0


def test_a_syntax_error_among_good_files_exits_2_and_the_others_are_migrated(tmp_path: Path,
                                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(_repo(tmp_path))
    (tmp_path / "pkg/bad.py").write_text(h.SAMPLE + "def broken(:\n")
    run = codemod(".", "--write", "--report", "report.json")
    assert run.code == 2
    assert "pkg/bad.py:6:12: error: does not parse: invalid syntax" in run.err
    assert (tmp_path / "pkg/uses_0.py").read_text() == h.MIGRATED
    assert (tmp_path / "pkg/bad.py").read_text() == h.SAMPLE + "def broken(:\n"
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["errors"] == [{"file": "pkg/bad.py", "cell": None, "line": 6, "column": 11,
                                 "message": "does not parse: invalid syntax"}]
    assert report["summary"]["changed"] == 3


def test_errors_win_over_pending_changes_and_missing_paths_are_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(_repo(tmp_path))
    run = codemod(".", "missing.py")
    assert run.code == 2 and "missing.py: error: no such file or directory" in run.err
    assert b"+++ b/pkg/uses_0.py" in run.out  # the run went on


@pytest.mark.parametrize("args, message", [
    (["-", "x.py"], "cannot be mixed"),
    (["--jobs", "0", "."], "--jobs: expected 1 or more, found 0"),
])
def test_bad_arguments_exit_2_with_a_message(args: list[str], message: str) -> None:
    run = codemod(*args)
    assert run.code == 2 and message in run.err


def test_stdin_is_filtered_to_stdout() -> None:
    run = codemod("-", stdin=h.SAMPLE.encode())
    assert (run.code, run.out) == (0, h.MIGRATED.encode())
    untouched = h.PLAIN.encode() + b"\xe9"  # never decoded: no marker
    assert codemod("-", stdin=untouched).out == untouched
    assert codemod("-", "--check", stdin=h.SAMPLE.encode()).code == 1
    broken = codemod("-", stdin=b"x.chat.completions.create(\n")
    assert broken.code == 2 and broken.out == b"x.chat.completions.create(\n" and broken.err.startswith("-:1:")


@pytest.mark.slow
def test_stdin_through_a_real_pipe_keeps_crlf_bytes() -> None:
    data = h.SAMPLE.replace("\n", "\r\n").encode()
    proc = subprocess.run([sys.executable, "-m", "migrator.cli", "codemod", "-", *FAKE], input=data, capture_output=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, check=False)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == h.MIGRATED.replace("\n", "\r\n").encode()


def test_paths_from_another_cwd_give_the_same_changes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = _repo(tmp_path / "repo")
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(repo)
    inside = codemod("--check", ".").out.decode().splitlines()
    monkeypatch.chdir(tmp_path / "elsewhere")
    relative = codemod("--check", "../repo").out.decode().splitlines()
    absolute = codemod("--check", str(repo)).out.decode().splitlines()
    assert [os.path.normpath(tmp_path / "elsewhere" / p) for p in relative] == [str(repo / p) for p in inside] == absolute


def test_exclude_and_gitignore_reach_the_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(_repo(tmp_path))
    (tmp_path / ".gitignore").write_text("pkg/uses_1.py\n")
    assert codemod("--check", ".", "--exclude", "*.ipynb").out.decode().splitlines() == ["pkg/uses_0.py"]


REPORT_KEYS = {"tool", "version", "report_version", "mode", "options", "summary", "files", "sites", "errors", "notes", "skipped"}
SITE_KEYS = {"file": str, "cell": (int, type(None)), "line": int, "column": int, "rule": str, "verdict": str,
             "applicability": str, "reasons": list, "host": (str, type(None))}


def test_the_report_lists_every_site_with_its_place_rule_verdict_and_host(tmp_path: Path,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(_repo(tmp_path))
    (tmp_path / "gen.py").write_text("# @" "generated\n" + h.SAMPLE)
    assert codemod(".", "--report", "out/r.json").code == 2  # out/ does not exist: a clear error, not a traceback
    run = codemod(".", "--check", "--unsafe-fixes", "--responses-host", "llm.internal", "--report", "r.json")
    assert run.code == 1
    report: dict[str, Any] = json.loads((tmp_path / "r.json").read_text())
    assert set(report) == REPORT_KEYS
    assert report["mode"] == "check"
    assert report["options"] == {"unsafe_fixes": True, "responses_hosts": ["llm.internal"], "instructions": False}
    assert report["skipped"] == [{"file": "gen.py", "reason": "generated (@" "generated)"}]
    assert [(s["file"], s["cell"], s["line"], s["column"]) for s in report["sites"]] == [
        ("nb.ipynb", 1, 1, 6), ("pkg/uses_0.py", None, 4, 10), ("pkg/uses_1.py", None, 4, 10)]
    for site in report["sites"]:
        assert {k: type(v) for k, v in site.items()}.keys() == SITE_KEYS.keys()
        assert all(isinstance(site[k], t) for k, t in SITE_KEYS.items())
        assert (site["rule"], site["verdict"], site["applicability"], site["host"]) == (
            "call", "migrated with notes", "safe", "api.openai.com")
    assert report["summary"] | {"verdicts": None} == {
        "files": 5, "parsed": 3, "changed": 3, "skipped_generated": 1, "errors": 0, "files_with_errors": 0, "sites": 3,
        "verdicts": None}
    assert report["summary"]["verdicts"] == {"migrated": 0, "migrated with notes": 3, "left for a person": 0}


def test_the_summary_in_a_pipe_is_plain_text(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(_repo(tmp_path))
    err = codemod("--check", ".").err
    assert "\x1b[" not in err
    assert err.splitlines()[-2].split() == ["call", "3", "0", "0"]
    assert err.splitlines()[-1].startswith("migrator codemod: 4 files, 3 parsed, 3 would change")


@pytest.mark.slow
def test_jobs_2_gives_what_jobs_1_gives(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from migrator.codemod.runner import POOL_MIN_FILES

    repo = _repo(tmp_path, n_sites=POOL_MIN_FILES * 3)
    (repo / "pkg/bad.py").write_text(h.SAMPLE + "def broken(:\n")
    monkeypatch.chdir(repo)
    one = codemod(".", "--jobs", "1", "--report", "one.json")
    two = codemod(".", "--jobs", "2", "--report", "two.json")
    assert (one.code, one.out, one.err) == (two.code, two.out, two.err)
    reports = [json.loads((repo / n).read_text()) for n in ("one.json", "two.json")]
    assert reports[0] == reports[1] and reports[0]["summary"]["changed"] == POOL_MIN_FILES * 3 + 1


def test_the_pre_commit_hooks_run_this_command() -> None:
    yaml = pytest.importorskip("yaml")
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    assert {hook["id"] for hook in hooks} == {"migrator-codemod", "migrator-codemod-check"}
    for hook in hooks:
        words = hook["entry"].split()
        assert words[:2] == ["migrator", "codemod"]
        assert {"python", "jupyter"} == set(hook["types_or"])
        from migrator.cli import _parser

        _parser().parse_args([*words[1:], *hook.get("args", []), "x.py"])


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_terminal_gets_rich_progress_and_table(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(_repo(tmp_path))
    (tmp_path / "pkg/bad.py").write_text("x.chat.completions.create(\n")
    err = _Terminal()
    code = main(["codemod", "--check", ".", *FAKE], stdin=io.StringIO(), stdout=io.StringIO(), stderr=err)
    assert code == 2
    text = err.getvalue()
    assert "sites by rule" in text and "pkg/bad.py:1:" in text and "migrator codemod: 5 files" in text


def test_an_unreadable_file_is_an_error_and_the_run_goes_on(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(_repo(tmp_path))
    (tmp_path / "pkg/dangling.py").symlink_to(tmp_path / "gone.py")
    run = codemod("--check", ".")
    assert run.code == 2 and "pkg/dangling.py:1:1: error: cannot read: No such file or directory" in run.err
    assert b"pkg/uses_0.py" in run.out
    assert "3 parsed, 3 would change, 1 with errors" in run.err


@pytest.mark.slow
def test_a_run_where_no_file_passes_the_screen_never_loads_libcst(tmp_path: Path) -> None:
    """Start-up is most of a CI run on a migrated repository: libcst's import alone is ~0.4 s."""
    (tmp_path / "plain.py").write_text(h.PLAIN)
    code = ("import io, sys\nfrom migrator.cli import main\n"
            f"rc = main(['codemod', '--check', {str(tmp_path)!r}], stdout=io.StringIO(), stderr=io.StringIO())\n"
            "print(rc, 'libcst' in sys.modules)\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.stdout.split() == ["0", "False"], proc.stderr


def test_a_file_that_cannot_be_written_is_an_error_and_the_others_are_written(tmp_path: Path,
                                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    from migrator.codemod import command, source

    def refuse_one(path: str, data: bytes) -> None:
        if path.endswith("uses_0.py"):
            raise OSError(30, "Read-only file system")
        source.write_atomic(path, data)

    monkeypatch.setattr(command, "write_atomic", refuse_one)
    monkeypatch.chdir(_repo(tmp_path))
    run = codemod(".", "--write", "--report", "r.json")
    assert run.code == 2 and "pkg/uses_0.py:1:1: error: cannot write: Read-only file system" in run.err
    assert (tmp_path / "pkg/uses_0.py").read_text() == h.SAMPLE and (tmp_path / "pkg/uses_1.py").read_text() == h.MIGRATED
    report = json.loads((tmp_path / "r.json").read_text())
    assert [f["file"] for f in report["files"] if f["changed"]] == ["nb.ipynb", "pkg/uses_1.py"]
    assert report["summary"]["changed"] == 2 and "2 rewritten" in run.err
