"""Cases found by running the codemod over real repositories (bench/corpus.py), and that bench's own checks.

Each ``fixtures/codemod/<lang>/real-*`` case is a reduction of a shape met in the corpus, written
anew; the before/after bytes are also run by the language's own fixture test. Here: what the
report says of each site (verdict, rule, reasons, host), which the byte comparison cannot see,
and that the corpus checks catch what they claim to (a rewrite that no longer parses, a lost
comment, a grep hit in a comment or a type that is no call site).
"""

from __future__ import annotations

import sys
from pathlib import Path
from types import ModuleType

import pytest

from migrator.codemod.outcome import Options, Site
from migrator.codemod.runner import transform_bytes

ROOT = Path(__file__).parent.parent
FIXTURES = ROOT / "fixtures" / "codemod"
REAL = sorted(p for lang in ("js", "shell", "docs") if (FIXTURES / lang).is_dir()
              for p in (FIXTURES / lang).iterdir() if p.is_dir() and p.name.startswith("real-"))


def _sites(case: str) -> tuple[str, list[Site]]:
    before = next((FIXTURES / "js" / case).glob("before.*"))
    result = transform_bytes(str(before), before.read_bytes(), Options())
    assert not result.errors, result.errors
    return (result.new or before.read_bytes()).decode(), [site for site, _ in result.sites]


@pytest.mark.parametrize("case", REAL, ids=[f"{c.parent.name}/{c.name}" for c in REAL])
def test_real_case_rewrites_as_recorded_and_settles(case: Path) -> None:
    before = next(case.glob("before.*"))
    after = case / f"after{before.suffix}"
    expected = after.read_bytes() if after.exists() else before.read_bytes()
    first = transform_bytes(str(before), before.read_bytes(), Options())
    assert not first.errors
    out = first.new if first.new is not None else before.read_bytes()
    assert out == expected
    second = transform_bytes(str(before), out, Options())
    assert second.new in (None, out)


def test_a_url_and_body_held_in_single_use_names_are_rewritten_where_they_are_defined() -> None:
    text, (site,) = _sites("real-axios-held-url")
    assert (site.rule, site.verdict, site.host) == ("http", "migrated", "api.openai.com")
    assert "const url = 'https://api.openai.com/v1/responses';" in text
    assert "max_output_tokens: 50" in text and "messages:" not in text


def test_axios_called_with_one_config_object_is_a_post_like_axios_post() -> None:
    text, (site,) = _sites("real-axios-config")
    assert (site.rule, site.verdict, site.host) == ("http", "migrated", "api.openai.com")
    assert "url: 'https://api.openai.com/v1/responses'" in text and "input: [" in text


def test_a_url_name_two_posts_read_is_left_at_each_post() -> None:
    text, sites = _sites("real-url-shared")
    assert [s.verdict for s in sites] == ["left for a person"] * 2
    assert all("`URL` is read elsewhere too" in s.reasons[0] for s in sites)
    assert "/v1/chat/completions" in text and "/v1/responses" not in text


def test_the_sdk_entry_module_is_the_package() -> None:
    _, (site,) = _sites("real-entry-module")
    assert (site.rule, site.verdict, site.host) == ("create", "migrated", "api.openai.com")


def test_a_snippet_that_leaves_out_the_import_is_the_sdk_and_its_request_options_stay() -> None:
    text, (site,) = _sites("real-snippet-without-import")
    assert (site.rule, site.verdict) == ("create", "migrated")
    assert "store: false }, {\n  maxRetries: 5,\n});" in text


def test_a_class_of_the_file_named_openai_is_not_the_sdk() -> None:
    text, sites = _sites("real-noop-declared-openai")
    assert sites == [] and ".chat.completions.create(" in text


def test_a_base_url_held_in_a_const_gates_by_its_host() -> None:
    _, (site,) = _sites("real-base-url-const")
    assert (site.verdict, site.host) == ("left for a person", "llm.example.com")
    assert "--responses-host llm.example.com" in site.reasons[0]


def test_a_provider_option_is_named_as_the_host_the_client_reaches() -> None:
    _, (site,) = _sites("real-provider-option")
    assert site.host == "the service of its `provider` option, bedrock(…)"
    assert site.reasons == ("the host this client reaches (the service of its `provider` option, bedrock(…)) must serve /v1/responses",)


def test_a_note_goes_above_the_next_line_directives_of_its_statement() -> None:
    text, sites = _sites("real-note-above-directives")
    assert [s.verdict for s in sites] == ["left for a person"] * 2
    lines = [line.strip() for line in text.splitlines()]
    for directive, statement in (("// @ts-expect-error", "const response = await fetch("),
                                 ("// eslint-disable-next-line no-undef", "body: JSON.stringify(")):
        at = lines.index(directive)
        assert lines[at + 1].startswith(statement)  # the directive still governs its line
    first_note = next(i for i, line in enumerate(lines) if line.startswith("// migrator:"))
    assert lines[first_note + 1].startswith("// eslint-disable-next-line @typescript-eslint/ban-ts-comment")


# --------------------------------------------------------------------------- #
# bench/corpus.py's checks
# --------------------------------------------------------------------------- #


@pytest.fixture
def corpus(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    monkeypatch.syspath_prepend(str(ROOT / "bench"))
    sys.modules.pop("corpus", None)
    import corpus as module

    return module


def test_the_corpus_grep_tells_call_sites_from_comments_types_and_prose(corpus: ModuleType, tmp_path: Path) -> None:
    (tmp_path / "a.ts").write_text(
        "import type { ChatCompletion } from 'openai/resources/chat/completions';\n"
        "// client.chat.completions.create is old\n"
        "const url = `${base}/v1/chat/completions`;\n"
        "let m = {} as ChatCompletionMessage;\n"
        "await client.chat.completions.create({ model: 'm', messages: [] });\n", encoding="utf-8")
    (tmp_path / "run.sh").write_text("# curl /v1/chat/completions\ncurl \"$B/v1/chat/completions\" -d '{}'\n", encoding="utf-8")
    (tmp_path / "doc.md").write_text("Call /v1/chat/completions:\n\n```bash\ncurl $B/v1/chat/completions\n```\n\n"
                                     "```go\nhttp.Post(b + \"/v1/chat/completions\")\n```\n", encoding="utf-8")
    contexts = {(s["file"], s["line"]): s["context"] for path in sorted(tmp_path.iterdir())
                for s in corpus.grep_file(tmp_path, path)}
    assert contexts == {
        ("a.ts", 1): "type", ("a.ts", 2): "comment", ("a.ts", 3): "string", ("a.ts", 4): "type", ("a.ts", 5): "code",
        ("run.sh", 1): "comment", ("run.sh", 2): "code",
        ("doc.md", 1): "prose", ("doc.md", 4): "block", ("doc.md", 8): "other block",
    }


def test_the_corpus_checks_catch_a_broken_rewrite_and_a_lost_comment(corpus: ModuleType, tmp_path: Path) -> None:
    old_js = "// keep me\nconst r = await client.chat.completions.create({ model: 'm' }); // and me\n"
    changes = [
        corpus.Change("a.js", old_js, "const r = await client.responses.create({ model: 'm' ); // and me\n", ".js", tmp_path),
        corpus.Change("b.sh", "curl -d '{}' x\n", "curl -d '{} x\n", ".sh"),
        corpus.Change("c.md", "```js\nx\n```\n", "```js\nx\n", ".md"),
        corpus.Change("d.ts", "let a = 1;\n", "let a = 1;\n", ".ts"),
    ]
    problems = corpus.parse_failures(changes)
    assert any(p.startswith("a.js: tree-sitter") for p in problems)
    if corpus.langs.node_checks("1;\n", ".js", tmp_path) is not None:
        assert "a.js: node --check fails" in problems
    assert "b.sh: bash -n fails" in problems
    assert "c.md: its code blocks changed" in problems
    assert not any(p.startswith("d.ts") for p in problems)
    lost, _ = corpus.comment_changes([*changes, corpus.Change("e.md", "```ts\nf(); // why\n```\n\n```python\nx = 1  # kept\n```\n",
                                                                 "```ts\nf();\n```\n\n```python\nx = 1  # kept\n```\n", ".md")])
    assert lost == ["a.js: // keep me", "e.md: // why"]


def test_a_held_url_is_accounted_for_at_the_post_that_reads_it(corpus: ModuleType, tmp_path: Path) -> None:
    path = tmp_path / "gpt.ts"
    path.write_text("export async function ask() {\n  const url = 'https://api.openai.com/v1/chat/completions';\n"
                    "  const body = {};\n  const res = await axios.post(\n    url, body);\n  return res;\n}\n", encoding="utf-8")
    spans = corpus.site_spans(path)
    assert 4 in spans[2] and 5 in spans[2] and 3 not in spans[2]
