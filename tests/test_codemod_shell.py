"""cURL in shell scripts, Makefiles and console blocks: ``fixtures/codemod/shell/<case>/before.*`` → ``after.*``.

A case without ``after.*`` (the ``noop_…`` look-alikes) must come back byte-identical. Every
after-fixture is checked by the real tools too: ``bash -n`` for scripts, ``make -n`` for Makefiles.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from migrator import translate
from migrator.codemod.languages import MAKEFILE, SHELL, language_of
from migrator.codemod.outcome import NOTE_PREFIX, Options, Outcome
from migrator.codemod.runner import transform_bytes
from migrator.codemod.shell import makefile, script
from migrator.codemod.shell.curl import migrate_shell_block
from migrator.codemod.shell.words import read_commands
from migrator.mapping.rules import TABLES

from .strategies import lossy_chat_requests

ROOT = Path(__file__).resolve().parent.parent / "fixtures" / "codemod" / "shell"
CASES = sorted(p.parent for p in ROOT.glob("*/before.*"))


def _options(case: Path) -> Options:
    """``options.json`` beside a case: the hosts it is run with (``--responses-host``)."""
    path = case / "options.json"
    raw = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    return Options(responses_hosts=frozenset(raw.get("responses_hosts", ())))


def _run(path: Path, data: bytes) -> bytes:
    """What the codemod makes of a fixture: through the runner (decode, CRLF, encode) for files."""
    options = _options(path.parent)
    if path.suffix == ".console":
        return migrate_shell_block(data.decode(), options).code.encode()
    result = transform_bytes(str(path), data, options)
    assert not result.errors, result.errors
    return result.new if result.new is not None else data


def _after(case: Path) -> Path:
    before = next(case.glob("before.*"))
    after = case / f"after{before.suffix}"
    return after if after.exists() else before


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.name)
def test_before_becomes_after(case: Path) -> None:
    before = next(case.glob("before.*"))
    expected = _after(case).read_bytes()
    assert _run(before, before.read_bytes()) == expected
    assert _run(before, expected) == expected, "a second run changed the file"
    if case.name.startswith("noop"):
        assert not (case / f"after{before.suffix}").exists()
    else:
        assert expected != before.read_bytes()


@pytest.mark.parametrize("case", [c for c in CASES if next(c.glob("before.*")).suffix == ".sh"], ids=lambda p: p.name)
def test_scripts_pass_bash_n(case: Path) -> None:
    after = _after(case)
    done = subprocess.run(["bash", "-n", str(after)], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert script.check(after.read_text()) is None


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
@pytest.mark.parametrize("case", [c for c in CASES if next(c.glob("before.*")).suffix == ".mk"], ids=lambda p: p.name)
def test_makefiles_pass_make_n(case: Path) -> None:
    after = _after(case)
    done = subprocess.run(["make", "-n", "-f", str(after)], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert makefile.check(after.read_text()) is None


def test_languages_table_reads_scripts_and_makefiles() -> None:
    assert language_of("deploy/ask.sh") is SHELL
    assert language_of("x.zsh") is SHELL
    assert language_of("sub/Makefile") is MAKEFILE
    assert language_of("rules.mk") is MAKEFILE


def test_crlf_script_stays_crlf() -> None:
    after = (ROOT / "crlf" / "after.sh").read_bytes()
    assert after.count(b"\r\n") == after.count(b"\n") > 0
    assert b"/v1/responses" in after


def test_a_script_that_does_not_read_is_reported_not_fatal() -> None:
    data = b"curl https://x/v1/chat/completions -d '{\"model\": \"m\"\n"
    result = transform_bytes("broken.sh", data, Options())
    assert result.new is None
    assert [(e.line, e.message) for e in result.errors] == [(1, "a quote is never closed")]
    assert script.check(data.decode()) == (1, 38, "a quote is never closed")


def test_unclosed_heredoc_is_named() -> None:
    assert script.check("cat <<EOF\nno end\n") == (2, 0, "heredoc `EOF` is never closed")


def test_sites_carry_the_rule_verdict_and_host() -> None:
    seed = (ROOT / "seed" / "before.sh").read_text()
    (site,) = script.transform(seed, _options(ROOT / "seed"), "seed.sh").sites
    assert (site.line, site.column, site.rule, site.verdict, site.applicability, site.host) == (
        3, 0, "http", "migrated", "safe", "api.tokenops.ai")
    (gated,) = script.transform(seed, Options(), "seed.sh").sites
    assert (gated.verdict, gated.host) == ("left for a person", "api.tokenops.ai")
    assert "--responses-host api.tokenops.ai" in gated.reasons[0]
    (configured,) = script.transform((ROOT / "double_quoted" / "before.sh").read_text(), Options(), "x.sh").sites
    assert configured.verdict == "migrated with notes"  # the host is in the report, not in a note
    assert configured.reasons[-1] == ("the host this client reaches (the URL's host ($OPENAI_BASE_URL/v1/chat/completions)) "
                                      "must serve /v1/responses")
    left = script.transform((ROOT / "left" / "before.sh").read_text(), Options(), "left.sh")
    assert {s.verdict for s in left.sites} == {"left for a person"}
    assert len(left.sites) == 6


def test_every_removed_key_is_named_at_the_site() -> None:
    text = ("curl $B/v1/chat/completions -d '{\"model\": \"m\", \"messages\": [{\"role\": \"user\", \"content\": \"x\"}], "
            "\"seed\": 3, \"n\": 1, \"logit_bias\": {\"5\": 1}, \"stop\": \"END\"}'\n")
    outcome = script.transform(text, Options(), "x.sh")
    notes = [line for line in outcome.code.splitlines() if line.startswith(NOTE_PREFIX)]
    for key in ("seed", "n", "logit_bias", "stop"):
        assert any(f'removed `"{key}":' in note for note in notes), key
    assert outcome.sites[0].verdict == "migrated with notes"


def test_console_block_only_reads_prompted_lines() -> None:
    request = '{"model": "m", "messages": [{"role": "user", "content": "x"}]}'
    block = f"$ curl $B/v1/chat/completions -d '{request}'\nit's output, with a stray quote\n"
    outcome = migrate_shell_block(block, Options())
    new = '{"model": "m", "input": [{"role": "user", "content": "x"}], "store": false}'
    assert outcome.code.startswith(f"$ curl $B/v1/responses -d '{new}'\n")
    assert outcome.code.endswith("it's output, with a stray quote\n")


# --- the body written back decodes to what the engine says, in every quoting -------------------------

_TEXT = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")) | st.sampled_from(list("'\"\\$`\n\t!")), max_size=12)


def _body_of(outcome: Outcome, make: bool = False) -> Any:
    """The JSON the shell would send: the migrated command's ``-d`` word, decoded as the shell does."""
    (command,) = [c for c in read_commands(outcome.code, make=make) if c.words and c.words[0].value == "curl"]
    values = [w.value for w in command.words]
    if values[-1] == "@-":
        doc = command.heredocs[0]
        return json.loads(outcome.code[doc.start:doc.end])
    return json.loads(values[values.index("-d") + 1])


def _command(request: dict[str, Any], quoting: str, multiline: bool) -> str:
    text = json.dumps(request, indent=2 if multiline else None, ensure_ascii=False)
    if quoting == "single":
        return "curl https://api.openai.com/v1/chat/completions -d '" + text.replace("'", "'\\''") + "'\n"
    if quoting == "double":
        return 'curl https://api.openai.com/v1/chat/completions -d "' + "".join("\\" + c if c in '"\\$`' else c for c in text) + '"\n'
    return f"curl https://api.openai.com/v1/chat/completions -d @- <<'EOF'\n{text}\nEOF\n"


@settings(max_examples=150, deadline=None)
@given(drawn=lossy_chat_requests(), multiline=st.booleans(), quoting=st.sampled_from(["single", "double", "heredoc"]))
def test_every_key_is_kept_renamed_or_named_in_a_note(drawn: tuple[dict[str, Any], set[str]], multiline: bool,
                                                      quoting: str) -> None:
    request = drawn[0]
    outcome = script.transform(_command(request, quoting, multiline), Options(), "x.sh")
    (site,) = outcome.sites
    if site.verdict == "left for a person":
        assert outcome.code.startswith(f"{NOTE_PREFIX} left as it was: ")
        return
    body = _body_of(outcome)
    assert body == translate(request, to="responses").body
    notes = " ".join(line for line in outcome.code.split("\n") if line.startswith(NOTE_PREFIX))
    rules = TABLES["chat.request"]
    for key in request:
        target = (rules[key].to or key).split(".")[0] if key in rules else key
        named = (json.dumps(key), json.dumps(key, ensure_ascii=False))  # as the source spells it
        assert target in body or any(f"removed `{k}:" in notes for k in named), key
    assert script.transform(outcome.code, Options(), "x.sh").code == outcome.code


@settings(max_examples=150, deadline=None)
@given(content=_TEXT, system=st.none() | _TEXT, multiline=st.booleans(), quoting=st.sampled_from(["single", "double", "heredoc"]))
def test_written_body_is_the_engines_translation(content: str, system: str | None, multiline: bool, quoting: str) -> None:
    messages = ([{"role": "system", "content": system}] if system is not None else []) + [{"role": "user", "content": content}]
    request = {"model": "gpt-4.1-mini", "messages": messages, "max_tokens": 5, "temperature": 0}
    text = json.dumps(request, indent=2 if multiline else None, ensure_ascii=False)
    if quoting == "single":
        word = "'" + text.replace("'", "'\\''") + "'"
        source = f"curl https://api.openai.com/v1/chat/completions -d {word}\n"
    elif quoting == "double":
        escaped = "".join("\\" + c if c in '"\\$`' else c for c in text)
        source = f'curl https://api.openai.com/v1/chat/completions -d "{escaped}"\n'
    else:
        source = f"curl https://api.openai.com/v1/chat/completions -d @- <<'EOF'\n{text}\nEOF\n"
        if "\nEOF\n" in f"\n{text}\n":
            return
    outcome = script.transform(source, Options(), "x.sh")
    assert outcome.sites[0].verdict == "migrated"
    assert _body_of(outcome) == translate(request, to="responses").body
    assert script.transform(outcome.code, Options(), "x.sh").code == outcome.code


# --- execution: the seed page's cURL, before and after, against `migrator serve` ----------------------


def _text_of(answer: str, stream: bool) -> str:
    if not stream:
        data = json.loads(answer)
        if "choices" in data:
            return str(data["choices"][0]["message"]["content"])
        return "".join(p["text"] for item in data["output"] if item["type"] == "message"
                       for p in item["content"] if p["type"] == "output_text")
    text = []  # the streamed text, and each tool call as its name then its argument deltas
    for line in answer.splitlines():
        if not line.startswith("data: ") or line == "data: [DONE]":
            continue
        event = json.loads(line[6:])
        if event.get("choices"):
            delta = event["choices"][0]["delta"]
            text.append(delta.get("content") or "")
            for call in delta.get("tool_calls") or ():
                text.append(call["function"].get("name") or "")
                text.append(call["function"].get("arguments") or "")
        elif event.get("type") in ("response.output_text.delta", "response.function_call_arguments.delta"):
            text.append(event["delta"])
        elif event.get("type") == "response.output_item.added" and event["item"]["type"] == "function_call":
            text.append(event["item"]["name"] + event["item"]["arguments"])
    return "".join(text)


EXECUTED = [
    ("seed", "https://api.tokenops.ai/v1", False),
    ("double_quoted", "$OPENAI_BASE_URL/v1", False),
    ("crlf", "http://localhost:8000/v1", False),
    ("content_parts", "https://api.openai.com/v1", False),
    ("heredoc_tools_stream", "https://api.openai.com/v1", True),
]


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_seed_curl_runs_the_same_before_and_after(tmp_path: Path) -> None:
    from migrator.replay.autoserve import offline_server_sync

    with offline_server_sync(sampling=False) as base_url:
        env = {**os.environ, "OPENAI_BASE_URL": base_url.removesuffix("/v1"), "OPENAI_API_KEY": "k",
               "MODEL": "gpt-4.1-mini", "YOUR_API_KEY": "k"}
        for case, base, stream in EXECUTED:
            answers = []
            for name in ("before.sh", "after.sh"):
                code = (ROOT / case / name).read_bytes().replace(b"\r\n", b"\n").replace(base.encode(), base_url.encode())
                code = code.replace(b"curl ", b"curl -sS --fail-with-body ", 1) if b"curl -s" not in code else code
                path = tmp_path / f"{case}-{name}"
                path.write_bytes(code)
                done = subprocess.run(["bash", str(path)], capture_output=True, text=True, env=env, timeout=60, check=False)
                assert done.returncode == 0, (case, name, done.stderr, done.stdout)
                answers.append(_text_of(done.stdout, stream))
            assert answers[0] == answers[1] != "", case
        make = ROOT / "makefile"
        if shutil.which("make"):
            outs = [subprocess.run(["make", "-s", "-f", str(make / name), "ask", f"BASE={base_url.removesuffix('/v1')}"],
                                   capture_output=True, text=True, env=env, timeout=60, check=True).stdout
                    for name in ("before.mk", "after.mk")]
            assert _text_of(outs[0].removeprefix("asking\n"), False) == _text_of(outs[1].removeprefix("asking\n"), False) != ""


def test_cli_writes_scripts_and_makefiles_and_reports_their_sites(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import io

    from migrator.cli import main

    files = {"ask.sh": "seed", "ops/Makefile": "makefile", "left.sh": "left", "noop.sh": "noop_lookalikes", "crlf.bash": "crlf"}
    for name, case in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(next((ROOT / case).glob("before.*")).read_bytes())
    monkeypatch.chdir(tmp_path)

    def codemod(*args: str) -> int:
        return main(["codemod", ".", *args], stdin=io.StringIO(), stdout=io.StringIO(), stderr=io.StringIO())

    hosts = ["--responses-host", "api.tokenops.ai", "--responses-host", "localhost"]
    assert codemod("--write", "--report", "r.json", *hosts) == 0
    for name, case in files.items():
        assert (tmp_path / name).read_bytes() == _after(ROOT / case).read_bytes(), name
    report = json.loads((tmp_path / "r.json").read_text())
    sites = report["sites"]
    assert {s["rule"] for s in sites} == {"http"}
    assert len(sites) == 1 + 1 + 6 + 1
    assert codemod("--check", *hosts) == 0


@pytest.mark.parametrize("text", [
    'while read -r l; do echo "$l"; done <<< "$x"\n',  # a here-string is not a heredoc
    ': ${datadir="${prefix}/share"}\n',  # quotes and braces inside ${…}
    "FULL=`cd \\`dirname $0\\`;pwd`/x\n",  # escaped backquotes of an inner command
    "r=$(cat <<EOF\nit's\nEOF\n)\n",  # a heredoc inside $(…)
    "echo $((1 << 2)) '#' x#y # it's a comment\n",
])
def test_reader_agrees_with_bash_on_valid_scripts(text: str) -> None:
    assert subprocess.run(["bash", "-n"], input=text, capture_output=True, text=True, check=False).returncode == 0
    assert script.check(text) is None
