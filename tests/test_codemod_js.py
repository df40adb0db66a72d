"""The JavaScript/TypeScript codemod: before/after fixtures per rule, idempotence, parse checks."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from migrator.codemod.js import javascript, tsx, typescript
from migrator.codemod.js.grammar import check
from migrator.codemod.outcome import Options
from migrator.codemod.runner import transform_bytes
from migrator.codemod.source import SourceError

ROOT = Path(__file__).parent.parent / "fixtures" / "codemod" / "js"
CASES = sorted(p for p in ROOT.iterdir() if p.is_dir())


def _options(case: Path) -> Options:
    given_options: dict[str, Any] = {}
    if (case / "options.json").exists():
        given_options = json.loads((case / "options.json").read_text())
    if "responses_hosts" in given_options:
        given_options["responses_hosts"] = frozenset(given_options["responses_hosts"])
    return Options(**given_options)


def _run(path: Path, data: bytes, options: Options) -> bytes:
    result = transform_bytes(str(path), data, options)
    assert not result.errors, result.errors
    return result.new if result.new is not None else data


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_fixture(case: Path) -> None:
    before = next(case.glob("before.*"))
    after = case / f"after{before.suffix}"
    expected = after.read_bytes() if after.exists() else before.read_bytes()
    options = _options(case)
    out = _run(before, before.read_bytes(), options)
    assert out.decode() == expected.decode()
    assert _run(after if after.exists() else before, out, options) == out  # a second run changes nothing


def test_noop_cases_have_no_after() -> None:
    for case in CASES:
        if case.name.startswith("noop"):
            assert not list(case.glob("after.*")), case


def test_crlf_stays_crlf() -> None:
    before = (ROOT / "crlf" / "before.js").read_bytes()
    out = _run(ROOT / "crlf" / "before.js", before, Options())
    assert out != before
    assert out.count(b"\r\n") == out.count(b"\n")


def test_left_sites_are_reported() -> None:
    case = ROOT / "host-left" / "before.js"
    result = transform_bytes(str(case), case.read_bytes(), Options())
    ((site, _),) = result.sites
    assert site.verdict == "left for a person"
    assert site.host == "localhost"
    assert "--responses-host localhost" in site.reasons[0]


def test_lookalike_is_not_reported() -> None:
    case = ROOT / "noop-lookalikes" / "before.js"
    assert transform_bytes(str(case), case.read_bytes(), Options()).sites == ()


def test_a_file_that_does_not_parse_is_an_error_not_a_crash() -> None:
    with pytest.raises(SourceError) as info:
        javascript.transform("const x = client.chat.completions.create({;\n", Options(), "x.js")
    assert info.value.line == 1
    result = transform_bytes("x.js", b"import OpenAI from 'openai';\nconst = ;\n// chat.completions\n", Options())
    assert result.errors and result.errors[0].line == 2 and result.new is None


def test_check_names_the_place() -> None:
    assert check("const a = 1;\n", "javascript") is None
    found = check("const a = 1;\nlet = (;\n", "javascript")
    assert found is not None and found[0] == 2
    assert typescript.check("let a: number = 1;\n") is None
    assert javascript.check("let a: number = 1;\n") is not None


def test_type_annotations_are_kept() -> None:
    code = (ROOT / "create-this-client" / "after.ts").read_text()
    assert "async write(topic: string): Promise<string>" in code


_KEYS = {
    "temperature": st.floats(0, 2, allow_nan=False).map(lambda f: round(f, 2)),
    "top_p": st.just(0.5),
    "max_tokens": st.integers(1, 4000),
    "seed": st.integers(0, 99),
    "n": st.just(1),
    "user": st.just('"u-1"'),
    "stop": st.just('["\\n"]'),
    "presence_penalty": st.just(0.5),
    "frequency_penalty": st.just("penalty"),
    "metadata": st.just('{ a: "b" }'),
    "store": st.booleans().map(lambda b: "true" if b else "false"),
    "tool_choice": st.just('"auto"'),
    "parallel_tool_calls": st.just("parallel"),
    "logprobs": st.just("false"),
}
_RENAMED = {"max_tokens": "max_output_tokens", "messages": "input"}


@settings(max_examples=150, deadline=None)
@given(keys=st.lists(st.sampled_from(sorted(_KEYS)), unique=True, max_size=6), data=st.data(),
       multiline=st.booleans(), quote=st.sampled_from(['"', "'"]))
def test_generated_calls_parse_and_keep_every_key(keys: list[str], data: st.DataObject, multiline: bool, quote: str) -> None:
    values = {key: str(data.draw(_KEYS[key], label=key)) for key in keys}
    entries = [f"model: {quote}gpt-4o{quote}", f"messages: [{{ role: {quote}user{quote}, content: prompt }}]",
               *(f"{k}: {v}" for k, v in values.items())]
    sep = ",\n    " if multiline else ", "
    inner = ("\n    " + sep.join(entries) + ",\n  ") if multiline else " " + sep.join(entries) + " "
    code = (f'import OpenAI from "openai";\nconst client = new OpenAI();\n'
            f"export async function f(prompt, penalty, parallel) {{\n"
            f"  const r = await client.chat.completions.create({{{inner}}});\n  return r.choices[0].message.content;\n}}\n")
    outcome = javascript.transform(code, Options(), "f.js")
    assert javascript.check(outcome.code) is None, outcome.code
    assert javascript.transform(outcome.code, Options(), "f.js").code == outcome.code
    (site,) = outcome.sites
    if site.verdict == "left for a person":
        assert outcome.code.count("// migrator:") >= 1 and "chat.completions.create" in outcome.code
        return
    assert "client.responses.create(" in outcome.code
    notes = [line for line in outcome.code.splitlines() if "// migrator:" in line]
    body = outcome.code.split("client.responses.create(")[1].split("});")[0]
    for key in ["messages", *keys]:
        kept = f"{_RENAMED.get(key, key)}:" in body
        noted = any(f"`{key}" in note or f"{key}:" in note for note in notes)
        assert kept or noted, (key, outcome.code)


def test_untraced_receiver_without_openai_is_reported_not_noted() -> None:
    case = ROOT / "noop-untraced-no-import" / "before.js"
    result = transform_bytes(str(case), case.read_bytes(), Options())
    ((site, _),) = result.sites
    assert site.verdict == "left for a person" and result.new is None


def test_the_cli_writes_a_mixed_tree_and_a_second_run_has_nothing_to_do(tmp_path: Path) -> None:
    import io

    from migrator.cli import main

    for case in ("create-import", "create-this-client", "tsx-component", "crlf"):
        before = next((ROOT / case).glob("before.*"))
        (tmp_path / f"{case}{before.suffix}").write_bytes(before.read_bytes())
    (tmp_path / "broken.js").write_text('import OpenAI from "openai";\nconst = chat.completions;\n')

    def run(*args: str) -> int:
        out = io.TextIOWrapper(io.BytesIO(), encoding="utf-8")
        return main(["codemod", str(tmp_path), *args], stdout=out, stderr=io.StringIO())

    assert run("--write") == 2  # the file that does not parse is that file's error; the others are written
    for case in ("create-import", "create-this-client", "tsx-component", "crlf"):
        after = next((ROOT / case).glob("after.*"))
        assert (tmp_path / f"{case}{after.suffix}").read_bytes() == after.read_bytes()
    (tmp_path / "broken.js").unlink()
    assert run("--check") == 0


@settings(max_examples=120, deadline=None)
@given(case=st.sampled_from(CASES), cut=st.floats(0.05, 1.0), data=st.data())
def test_edited_fixtures_never_give_code_that_does_not_parse(case: Path, cut: float, data: st.DataObject) -> None:
    """A fixture with a line dropped, or cut short: the file is an error, or its rewrite parses."""
    before = next(case.glob("before.*"))
    lines = before.read_text().split("\n")
    if data.draw(st.booleans(), label="drop a line"):
        del lines[data.draw(st.integers(0, len(lines) - 1), label="line")]
    else:
        lines = lines[: max(1, int(len(lines) * cut))]
    text = "\n".join(lines)
    module = {".ts": typescript, ".tsx": tsx}.get(before.suffix, javascript)
    try:
        outcome = module.transform(text, _options(case), before.name)
    except SourceError:
        return
    assert module.check(outcome.code) is None, outcome.code
    assert module.transform(outcome.code, _options(case), before.name).code == outcome.code


# ---------------------------------------------------------------------------- jsstream: null tests, Azure, encodings


def _sites(case: str, options: Options | None = None) -> list[Any]:
    before = next((ROOT / case).glob("before.*"))
    return [site for site, _ in transform_bytes(str(before), before.read_bytes(), options or _options(ROOT / case)).sites]


def test_a_null_test_on_the_text_becomes_the_no_text_test() -> None:
    after = (ROOT / "null-direct" / "after.ts").read_text()
    assert "=== null" not in after and "!= null" not in after
    assert after.count('part.type === "output_text"') == 2 and "!r.output_text" in after  # truthiness is kept


def test_a_name_holding_the_text_tested_against_null_is_unsafe() -> None:
    (site,) = _sites("null-held-left")
    assert (site.verdict, site.applicability) == ("left for a person", "unsafe")
    assert "`text` now holds `output_text`" in site.reasons[0]
    (site,) = _sites("null-held-unsafe")
    assert (site.verdict, site.applicability) == ("migrated with notes", "unsafe")


def test_the_azure_limit_note_has_the_python_words() -> None:
    from migrator.codemod.transform import transform_code

    python = transform_code('from openai import AzureOpenAI\nclient = AzureOpenAI(azure_endpoint="https://x.openai.azure.com")\n'
                            'r = client.chat.completions.create(model="m", max_tokens=5, messages=[{"role": "user", '
                            '"content": "hi"}])\n', Options())
    (note,) = [line.split("# migrator: ")[1] for line in python.code.splitlines() if "rejects" in line]
    assert f"// migrator: {note}" in (ROOT / "azure-limit" / "after.js").read_text()
    assert "migrator:" not in (ROOT / "azure-limit-high" / "after.ts").read_text()


@pytest.mark.parametrize("name", ["x.ts", "x.js", "x.md", "x.sh"])
def test_a_file_that_is_not_utf8_is_named_so_without_python_words(name: str) -> None:
    result = transform_bytes(name, b"// chat.completions\nconst s = '\xe9t\xe9';\n", Options())
    (error,) = result.errors
    assert error.line == 2 and "utf-8" in error.message and "encoding declaration" not in error.message
    binary = transform_bytes(name, b"\x89PNG\r\n\x1a\n\x00\xff completions", Options())
    assert binary.errors and "encoding declaration" not in binary.errors[0].message
    python = transform_bytes("x.py", b"\x89PNG\r\n\x1a\n\x00\xff completions", Options())
    assert "encoding declaration" in python.errors[0].message  # Python's own reading of a .py file is kept


# ---------------------------------------------------------------------------- jsstream: the stream helper


def _openai_package() -> Path:
    from tests.test_codemod_node_programs import packages_dir

    folder = packages_dir() / "node_modules" / "openai"
    if not (folder / "lib" / "ChatCompletionStream.d.ts").is_file():
        pytest.skip(f"the pinned openai npm package is not installed in {folder.parent}: run "
                    "fixtures/codemod/node-programs/install.sh")
    return folder


def _interface(source: str, name: str) -> set[str]:
    import re

    match = re.search(rf"export interface {re.escape(name)}(?:<[^>]*>)? \{{(.*?)\n\}}", source, re.S)
    assert match is not None, name
    return set(re.findall(r"^    (\w+)\??:", match.group(1), re.M))


def test_the_helper_event_table_matches_the_pinned_openai_node_types() -> None:
    import re

    from migrator.codemod.js.stream_helper import EVENTS, KEPT_EVENTS, KEPT_MEMBERS, POSITIONAL

    package = _openai_package()
    chat = (package / "lib" / "ChatCompletionStream.d.ts").read_text()
    responses = (package / "resources" / "responses" / "responses.d.ts").read_text()
    with_snapshot = (package / "lib" / "responses" / "EventTypes.d.ts").read_text()
    emitter = (package / "lib" / "EventStream.d.ts").read_text()
    listeners = dict(re.findall(r"^    '?([\w.]+)'?: \(props: (\w+)", chat, re.M))
    for old, (new, renames) in EVENTS.items():
        assert set(renames) <= _interface(chat, listeners[old]), old
        (interface,) = re.findall(rf"export interface (\w+) \{{[^}}]*?\n    type: '{re.escape(new)}';", responses)
        fields = _interface(responses, interface)
        if re.search(rf"export type {interface} = Raw{interface} & \{{\s*snapshot: string;", with_snapshot):
            fields.add("snapshot")
        assert set(renames.values()) <= fields, (old, new, fields)
    for event, (same_as, names) in POSITIONAL.items():
        assert re.search(rf"^    {event}: \(contentDelta: string, contentSnapshot: string\)", chat, re.M), event
        assert list(EVENTS[same_as][1]) == list(names)
    assert KEPT_EVENTS <= set(re.findall(r"^    (\w+): \(", emitter.split("interface BaseEvents")[1], re.M))
    for member in KEPT_MEMBERS:
        assert re.search(rf"^    (?:get )?{member}\b", emitter, re.M), member
    # Iterating yields chunks on the Chat helper and typed events on the Responses one: the loop rule's rewrite.
    assert "AsyncIterator<ChatCompletionChunk>" in chat
    assert "AsyncIterator<ResponseStreamEvent>" in (package / "lib" / "responses" / "ResponseStream.d.ts").read_text()


def test_the_stream_helper_sites_and_their_applicability() -> None:
    expected = {
        "stream-helper-handlers": ("migrated with notes", "safe"),
        "stream-helper-beta": ("migrated", "safe"),
        "stream-helper-ts": ("migrated with notes", "safe"),
        "stream-helper-loop-unsafe": ("migrated with notes", "unsafe"),
        "stream-helper-left-chunk": ("left for a person", "display"),
        "stream-helper-left-final-message": ("left for a person", "display"),
        "stream-helper-left-listener": ("left for a person", "display"),
    }
    for case, want in expected.items():
        (site,) = _sites(case)
        assert (site.rule, site.verdict, site.applicability) == ("stream", *want), case
    assert _sites("stream-helper-lookalike") == []
    (site,) = _sites("stream-helper-loop-unsafe", Options())
    assert (site.verdict, site.applicability) == ("left for a person", "unsafe")


def test_a_content_listener_never_half_rewritten() -> None:
    code = ('import OpenAI from "openai";\nconst client = new OpenAI();\n'
            'const s = client.chat.completions.stream({ model: "m", messages: [{ role: "user", content: "hi" }] });\n'
            "s.on('content', (delta, event) => { let delta2 = delta; delta = delta.trim(); console.log(event); });\n"
            "await s.finalChatCompletion();\n")
    outcome = javascript.transform(code, Options(), "x.js")
    assert "chat.completions.stream" in outcome.code and "responses" not in outcome.code
    assert "declares or assigns `delta`" in outcome.sites[0].reasons[0]
    fresh = code.replace("(delta, event) => { let delta2 = delta; delta = delta.trim(); console.log(event); }",
                         "(delta) => console.log(event, delta)")
    out = javascript.transform(fresh, Options(), "x.js").code
    assert "(textEvent) => console.log(event, textEvent.delta)" in out  # the outer `event` keeps its meaning


# ---------------------------------------------------------------------------- jsstream: display rules


def test_display_rules_report_with_python_ids_and_never_edit_code() -> None:
    expected = {
        "display-url": ["url", "url", "url"],
        "display-mock": ["mock", "mock", "mock"],
        "display-mock-ts": ["mock", "mock", "mock"],
        "display-stored": ["list", "retrieve", "update", "delete"],
        "display-fixture-alone": ["fixture"],
    }
    for case, rules in expected.items():
        sites = _sites(case)
        assert [s.rule for s in sites] == rules, case
        assert all((s.verdict, s.applicability) == ("left for a person", "display") for s in sites), case
        before = next((ROOT / case).glob("before.*"))
        after = before.with_name(f"after{before.suffix}")
        if after.exists():  # only comment lines were added
            added = [line for line in after.read_text().splitlines() if line not in before.read_text().splitlines()]
            assert added and all(line.strip().startswith("// migrator: ") for line in added), case
    assert _sites("display-lookalike") == []


def test_a_mock_note_names_the_new_target_once_per_test() -> None:
    after = (ROOT / "display-mock" / "after.js").read_text()
    assert after.count("mock `client.responses.create` with a Response") == 2  # two tests, three mock sites
    assert "`client.responses.parse`" in (ROOT / "display-mock-ts" / "after.ts").read_text()


def test_a_fixture_is_noted_only_beside_calls_of_the_api() -> None:
    assert "hand-built ChatCompletion" in (ROOT / "display-fixture" / "after.ts").read_text()
    assert not (ROOT / "display-fixture-alone" / "after.js").exists()  # reported, not noted
    assert [s.rule for s in _sites("display-fixture")] == ["fixture", "create"]


@pytest.mark.parametrize("case", ["stream-helper-handlers", "null-direct", "display-mock"])
def test_crlf_files_get_the_same_rewrite_in_crlf(case: str) -> None:
    before = next((ROOT / case).glob("before.*"))
    after = before.with_name(f"after{before.suffix}")
    crlf = before.read_bytes().replace(b"\n", b"\r\n")
    out = _run(before, crlf, _options(ROOT / case))
    assert out == after.read_bytes().replace(b"\n", b"\r\n")
    assert _run(before, out, _options(ROOT / case)) == out

# ---------------------------------------------------------------------------- tool loops, held tools, usage patterns

_RUN_JS = r"""
import sys
from pathlib import Path
from migrator.codemod.js import javascript
from migrator.codemod.outcome import Options
for path in sys.argv[1:]:
    print(javascript.transform(Path(path).read_text(encoding="utf-8"), Options(), path).code)
"""


@pytest.mark.slow
def test_tool_call_and_usage_names_come_from_the_tables(tmp_path: Path) -> None:
    """The tool-call fields and the usage keys are renamed by ``mappings/``: change a target there and the
    JS rewrite follows (no second table in the code)."""
    import os
    import shutil
    import subprocess
    import sys

    from tests.test_fixtures import MAPPINGS

    folder = tmp_path / "mappings"
    shutil.copytree(MAPPINGS, folder)
    path = folder / "results.json"
    raw = json.loads(path.read_text(encoding="utf-8"))
    fields = raw["tables"]
    fields["chat.completion_message.tool_call"]["fields"]["id"]["to"] = "call_id_T5"
    fields["chat.usage"]["fields"]["prompt_tokens"]["to"] = "input_tokens_T6"
    fields["chat.usage"]["fields"]["completion_tokens_details"]["to"] = "output_tokens_details_T7"
    path.write_text(json.dumps(raw), encoding="utf-8")
    cases = [ROOT / "tool-loop" / "before.js", ROOT / "usage-destructure" / "before.js"]
    done = subprocess.run([sys.executable, "-c", _RUN_JS, *map(str, cases)], env={**os.environ, "MIGRATOR_MAPPINGS": str(folder)},
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "call_id: call.call_id_T5" in out and "console.log(call.name, call.call_id_T5)" in out
    assert "input_tokens_T6: prompt_tokens" in out
    assert "output_tokens_details_T7: { reasoning_tokens: thought }" in out
    assert ".call_id)" not in out and "input_tokens:" not in out


def test_calls_sharing_a_tool_loop_are_left_together() -> None:
    """One call of the loop cannot be migrated: the other, which shares the array, stays too, and says why."""
    case = ROOT / "tool-left-partner" / "before.js"
    result = transform_bytes(str(case), case.read_bytes(), Options())
    first, second = (site for site, _ in result.sites)
    assert first.verdict == second.verdict == "left for a person"
    assert "`messages` also goes to a chat call that is left for a person" in first.reasons
    assert "decided at run time" in second.reasons[0]


def test_a_tool_loop_is_migrated_whole_with_its_notes() -> None:
    case = ROOT / "tool-loop" / "before.js"
    result = transform_bytes(str(case), case.read_bytes(), Options())
    assert [site.verdict for site, _ in result.sites] == ["migrated with notes"] * 2
    assert all(any("reasoning.encrypted_content" in r for r in site.reasons) for site, _ in result.sites)
    assert all(site.rule == "create" for site, _ in result.sites)  # the Python rule's id: the loop is part of the site


@pytest.mark.parametrize("pattern, expected", [
    ("{ prompt_tokens }", "{ input_tokens: prompt_tokens }"),
    ("{ prompt_tokens: p, total_tokens }", "{ input_tokens: p, total_tokens }"),
    ("{ completion_tokens = 0 }", "{ output_tokens: completion_tokens = 0 }"),
    ("{ prompt_tokens_details: { cached_tokens: c } }", "{ input_tokens_details: { cached_tokens: c } }"),
])
def test_usage_patterns(pattern: str, expected: str) -> None:
    source = ('import OpenAI from "openai";\nconst client = new OpenAI();\n'
              'const r = await client.chat.completions.create({ model: "m", messages: [{ role: "user", content: "x" }] });\n'
              f"const {pattern} = r.usage;\n")
    out = javascript.transform(source, Options(), "x.mjs").code
    assert f"const {expected} = r.usage;" in out, out
    assert javascript.transform(out, Options(), "x.mjs").code == out


@pytest.mark.parametrize("read", [
    "const { prompt_tokens, ...rest } = r.usage;",  # the rest would hold the Response's names
    "const { usage } = r;",  # the usage used whole
    "const [first] = r.choices[0].message.tool_calls;",  # the calls destructured
    "const calls = r.choices[0].message.tool_calls;",  # held where the loop cannot be followed
    "for (const c of r.choices[0].message.tool_calls) console.log(c);",  # a call used whole
    "r.choices[0].message.tool_calls.forEach(handle);",  # passed to a function the codemod cannot see
])
def test_reads_the_codemod_cannot_follow_leave_the_site(read: str) -> None:
    source = ('import OpenAI from "openai";\nconst client = new OpenAI();\n'
              'const r = await client.chat.completions.create({ model: "m", messages: [{ role: "user", content: "x" }] });\n'
              f"{read}\n")
    outcome = javascript.transform(source, Options(), "x.mjs")
    ((site),) = outcome.sites
    assert site.verdict == "left for a person", outcome.code
    assert outcome.code.count("// migrator:") == 1 and "chat.completions.create" in outcome.code


def test_a_result_bound_again_by_a_call_that_is_left_leaves_both() -> None:
    """``r = await …create(…)`` again: the reads of ``r`` serve both calls, so both are migrated or neither."""
    source = ('import OpenAI from "openai";\nconst client = new OpenAI();\n'
              'let r = await client.chat.completions.create({ model: "m", messages: [{ role: "user", content: "a" }] });\n'
              'console.log(r.choices[0].message.content);\n'
              'r = await client.chat.completions.create({ model: "m", messages: [{ role: "user", content: "b" }]STREAM });\n'
              'console.log(r.choices[0].message.content);\n')
    migrated = javascript.transform(source.replace("STREAM", ""), Options(), "x.mjs")
    assert [site.verdict for site in migrated.sites] == ["migrated"] * 2
    assert migrated.code.count("r.output_text") == 2 and "chat" not in migrated.code
    outcome = javascript.transform(source.replace("STREAM", ", stream: s"), Options(), "x.mjs")
    assert [site.verdict for site in outcome.sites] == ["left for a person"] * 2
    assert outcome.sites[0].reasons == ("`r` is bound again to a call that is not migrated with this one",)
    assert "responses" not in outcome.code


def test_a_long_messages_expression_is_named_short_in_the_note() -> None:
    """A note says why a site stays; it names the expression, it need not carry all of it."""
    mapped = "history.map((turn) => ({ role: turn.speaker === 'bot' ? 'assistant' : 'user', content: turn.text }))"
    source = ("import OpenAI from 'openai';\nconst client = new OpenAI();\n"
              f"export async function ask(history) {{\n  const r = await client.chat.completions.create({{ model: 'gpt-4o', messages: {mapped} }});\n"
              "  return r.choices[0].message.content;\n}\n")
    outcome = javascript.transform(source, Options(), "a.js")
    [site] = outcome.sites
    assert site.verdict == "left for a person"
    [reason] = [r for r in site.reasons if "`messages` is" in r]
    assert "history.map((turn) =>" in reason and "…" in reason and mapped not in reason
    note = next(line for line in outcome.code.splitlines() if "`messages` is" in line)
    assert mapped not in note and "history.map((turn) =>" in note
