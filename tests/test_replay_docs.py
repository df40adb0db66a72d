"""The replay docs stay true to the code: every option, compared field, results key, summary key and
exit code is documented; the README's first command is the one CI runs; every relative link and
anchor in the Markdown files resolves; the cassette example in docs/replay.md really runs."""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest

from migrator.replay import command, judge
from migrator.replay.model import CaseResult, Record
from migrator.replay.summary import Summarizer

ROOT = Path(__file__).resolve().parent.parent
REPLAY_MD = ROOT / "docs" / "replay.md"
README = ROOT / "README.md"
CI_RUN = ROOT / ".ci" / "run"
SAMPLE = ROOT / "fixtures" / "corpus" / "sample.jsonl"


def _doc() -> str:
    return REPLAY_MD.read_text(encoding="utf-8")


def _section(text: str, heading: str) -> str:
    """The text under ``heading`` up to the next heading of the same or a higher level."""
    level = len(heading) - len(heading.lstrip("#"))
    start = text.index(heading + "\n")
    rest = text[start + len(heading) + 1:]
    end = re.search(rf"^#{{1,{level}}} ", rest, re.M)
    return rest[: end.start()] if end else rest


def _options(parser: argparse.ArgumentParser) -> set[str]:
    found: set[str] = set()
    for action in parser._actions:
        found.update(o for o in action.option_strings if o.startswith("--") and o != "--help")
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                found |= _options(sub)
    return found


def _replay_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="migrator replay")
    command.add_replay_arguments(parser)
    return parser


def test_every_option_of_replay_and_its_tools_is_documented() -> None:
    doc = _doc()
    options = _options(_replay_parser()) | _options(command.tools_parser())
    assert {"--base-url", "--fail-on", "--from-cassette", "--noise", "--chat"} <= options  # the walk found them
    missing = sorted(o for o in options if f"`{o}" not in doc)
    assert not missing, f"docs/replay.md does not mention {missing}"
    for tool in command.TOOLS:
        assert f"migrator replay {tool}" in doc, tool


def test_the_option_check_can_fail() -> None:
    parser = _replay_parser()
    parser.add_argument("--an-undocumented-option")
    assert "--an-undocumented-option" in _options(parser)
    assert "`--an-undocumented-option" not in _doc()


def test_every_compared_field_has_a_row_in_the_field_table() -> None:
    table = _section(_doc(), "## What is compared, and how")
    rows = set(re.findall(r"^\| `([a-z_.]+)` \|", table, re.M))
    fields = set(judge.STAT_FIELDS)
    assert "text" in fields and "usage.output" in fields
    assert fields == rows, f"judge compares {sorted(fields - rows)} undocumented; documented but not compared: {sorted(rows - fields)}"


def test_every_results_line_key_and_record_key_is_documented() -> None:
    outputs = _section(_doc(), "## Outputs")
    keys = set(CaseResult.__annotations__) | set(Record.__annotations__) | {"choices", "stream", "timed"}
    missing = sorted(k for k in keys if f"`{k}`" not in outputs)
    assert not missing, f"the results.jsonl section does not name {missing}"


def test_every_summary_key_is_documented() -> None:
    summary = Summarizer().result({}, field_stats=[], baseline_changes=[])
    outputs = _section(_doc(), "## Outputs")
    missing = sorted(k for k in summary if f"`{k}`" not in outputs)
    assert not missing, f"the summary.json paragraph does not name {missing}"


def test_every_exit_code_is_documented() -> None:
    outputs = _section(_doc(), "## Outputs")
    for code in (command.EXIT_OK, command.EXIT_FAILED, command.EXIT_BAD_INPUT, command.EXIT_INTERRUPTED):
        assert f"\n| {code} |" in outputs, code


def test_every_loss_with_a_rule_of_its_own_and_the_default_are_mentioned() -> None:
    explained = _section(_doc(), "## Verdicts, and the loss that explains a divergence")
    assert "mappings/replay.json" in explained and "`default`" in explained
    for loss in ("seed", "stop", "n", "logit_bias", "logprobs", "name"):
        assert f"`{loss}`" in explained, loss
        assert judge.explains(loss) != judge.explains("a-field-no-rule-names"), loss  # each has its own rule


def test_every_sample_case_is_in_the_quick_start() -> None:
    import json

    quick = _section(_doc(), "## Quick start: the offline sample")
    ids = []
    for n, line in enumerate(SAMPLE.read_text(encoding="utf-8").splitlines(), 1):
        try:
            entry = json.loads(line)
        except ValueError:
            ids.append(f"line {n}")
            continue
        ids.append(str(entry.get("id") or entry.get("custom_id") or f"line-{n}"))
    missing = [i for i in ids if i not in quick]
    assert not missing, f"the quick start's table leaves out {missing}"


# ------------------------------------------------------------------- the README's first command


def _first_sh_block(text: str) -> str:
    two = _section(text, "## Two commands")
    match = re.search(r"```sh\n(.*?)\n```", two, re.S)
    assert match, "no sh block under 'Two commands'"
    return match.group(1).strip()


def test_the_readmes_first_command_is_the_replay_of_the_sample() -> None:
    first = _first_sh_block(README.read_text(encoding="utf-8"))
    assert first == "pip install . && migrator replay fixtures/corpus/sample.jsonl"
    assert SAMPLE.is_file()


def test_ci_runs_the_readmes_first_command() -> None:
    command_line = _first_sh_block(README.read_text(encoding="utf-8")).split("&&")[-1].strip()
    script = CI_RUN.read_text(encoding="utf-8")
    step = script[script.index("the README's first command works offline"):script.index("== tests")]
    runs = [line.strip() for line in step.splitlines() if line.strip().startswith("migrator ")]
    assert any(line == command_line or line.startswith(command_line + " ") for line in runs), runs
    assert "--out" in " ".join(runs), "CI must not leave ./replay-out in the tests' working directory"


# ----------------------------------------------------------------------- links and anchors


def _markdown_files() -> list[Path]:
    return [README, ROOT / "CHANGELOG.md", *sorted((ROOT / "docs").glob("*.md"))]


def _slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation but ``-`` and ``_`` dropped, spaces to ``-``."""
    text = re.sub(r"<[^>]+>", "", heading).strip().lower()
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)
    kept = "".join(ch for ch in text if ch in " -_" or unicodedata.category(ch)[0] in "LN")
    return kept.replace(" ", "-")


def _anchors(path: Path) -> set[str]:
    text = path.read_text(encoding="utf-8")
    text = re.sub(r"^```.*?^```", "", text, flags=re.S | re.M)
    found: set[str] = set(re.findall(r'<a (?:id|name)="([^"]+)"', text))
    seen: dict[str, int] = {}
    for heading in re.findall(r"^#{1,6} +(.+?)\s*#*$", text, re.M):
        slug = _slug(heading)
        count = seen.get(slug, 0)
        found.add(slug if count == 0 else f"{slug}-{count}")
        seen[slug] = count + 1
    return found


def _links(path: Path) -> list[str]:
    text = path.read_text(encoding="utf-8")
    text = re.sub(r"^```.*?^```", "", text, flags=re.S | re.M)
    text = re.sub(r"`[^`\n]*`", "", text)
    return re.findall(r"\]\(([^)\s]+)\)", text)


def test_slugs_follow_githubs_rule() -> None:
    assert _slug("Corpus from live traffic: `serve --capture`") == "corpus-from-live-traffic-serve---capture"
    assert _slug("The offline model: sampling and seeds") == "the-offline-model-sampling-and-seeds"
    assert _slug("Dependencies, and why") == "dependencies-and-why"


@pytest.mark.parametrize("path", _markdown_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_and_anchor_resolves(path: Path) -> None:
    broken = []
    for link in _links(path):
        if re.match(r"^[a-z][a-z0-9+.-]*:", link):  # https:, mailto:: not checked offline
            continue
        target, _, anchor = link.partition("#")
        file = (path.parent / target).resolve() if target else path
        if not file.exists():
            broken.append(f"{link}: no {file.relative_to(ROOT) if file.is_relative_to(ROOT) else file}")
            continue
        if anchor and file.suffix == ".md" and anchor not in _anchors(file):
            broken.append(f"{link}: no heading or id #{anchor} in {file.relative_to(ROOT)}")
    assert not broken, "\n".join(broken)


def test_the_link_check_can_fail(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text("# A title\n\n[ok](#a-title) [bad](#no-such) [gone](missing.md)\n", encoding="utf-8")
    assert _anchors(page) == {"a-title"}
    assert _links(page) == ["#a-title", "#no-such", "missing.md"]


# -------------------------------------------------------------- the cassette example runs


def _python_example() -> str:
    section = _section(_doc(), "## Record and replay: cassettes")
    blocks = re.findall(r"```python\n(.*?)```", section, re.S)
    assert len(blocks) == 1, "one python example in the cassette section"
    return blocks[0]


@pytest.mark.slow
def test_the_cassette_example_runs_as_written(tmp_path: Path) -> None:
    from tests.serve_helpers import running_server

    code = _python_example()
    assert 'base_url="http://127.0.0.1:8080/v1"' in code
    with running_server(["--access-log", "-"], stderr_path=tmp_path / "serve.err") as server:
        script = tmp_path / "example.py"
        script.write_text(code.replace("http://127.0.0.1:8080/v1", server.base_url), encoding="utf-8")
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
        proc = subprocess.run([sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.count("Offline answer to") == 2
    cassette = (tmp_path / "calls.cassette.jsonl").read_text(encoding="utf-8")
    assert len(cassette.splitlines()) == 2
    assert "sk-test-not-a-real-key" not in cassette and "Bearer [REDACTED]" in cassette
