"""The docs codemod, case by case: ``fixtures/codemod/docs/<case>/before.<ext>`` → ``after.<ext>``.

A case without ``after`` is a no-op: the document must come back byte for byte (its sites, if
any, are reports only). Every case runs twice (a second run changes nothing); every Python block
of an ``after`` that the ``before`` could parse parses, and every JSON block is JSON. The seed
page's copy is checked block by block, so a block whose language module is not in this build
(JavaScript, shell: written beside this one) is skipped, not failed.
"""

from __future__ import annotations

import ast
import importlib.util
import json
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from migrator import detect
from migrator.codemod.docs import markdown, rst
from migrator.codemod.docs.blocks import Block, markdown_blocks, rst_blocks, strip
from migrator.codemod.docs.json_block import migrate_json
from migrator.codemod.json_layout import parse, rewrite
from migrator.codemod.outcome import Options, Outcome

ROOT = Path(__file__).resolve().parent.parent / "fixtures" / "codemod" / "docs"
CASES = sorted(p.parent for p in ROOT.glob("*/before.*"))


def _options(case: Path) -> Options:
    path = case / "options.json"
    raw = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    return Options(unsafe_fixes=raw.get("unsafe_fixes", False), responses_hosts=frozenset(raw.get("responses_hosts", ())))


def _run(text: str, suffix: str, options: Options) -> Outcome:
    return (rst if suffix == ".rst" else markdown).transform(text, options, f"doc{suffix}")


def _blocks(text: str, suffix: str) -> list[tuple[Block, str]]:
    lines = text.split("\n")
    found = rst_blocks(lines) if suffix == ".rst" else markdown_blocks(lines)
    return [(b, "\n".join(strip(line, b.indent) for line in lines[b.start:b.end])) for b in found]


def _language(block: Block, code: str) -> str | None:
    if block.language == "literal":
        return "json" if code.lstrip()[:1] in "{[" else None
    return block.language


def _installed(language: str | None) -> bool:
    module = {"javascript": "migrator.codemod.js.javascript", "typescript": "migrator.codemod.js.typescript",
              "tsx": "migrator.codemod.js.tsx", "shell": "migrator.codemod.shell.curl"}.get(language or "")
    if module is None:
        return True
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:
        return False


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.name)
def test_before_becomes_after(case: Path) -> None:
    before_path = next(case.glob("before.*"))
    suffix = before_path.suffix
    before = before_path.read_text(encoding="utf-8")
    after_path = case / f"after{suffix}"
    after = after_path.read_text(encoding="utf-8") if after_path.exists() else before
    options = _options(case)
    outcome = _run(before, suffix, options)
    pending = [lang for b, _ in _blocks(before, suffix) if not _installed(lang := _language(b, _))]
    if not pending:
        assert outcome.code == after
    else:  # the blocks this build can migrate match; the others are left as they were
        for (b, old), (_, new), (_, want) in zip(_blocks(before, suffix), _blocks(outcome.code, suffix),
                                                 _blocks(after, suffix), strict=True):
            assert new == (want if _installed(_language(b, old)) else old)
    assert _run(outcome.code, suffix, options).code == outcome.code, "a second run changed the document"
    if case.name.startswith("noop"):
        assert outcome.code == before
        assert all(site.verdict == "left for a person" and site.applicability == "display" for site in outcome.sites)
    elif not pending:
        assert outcome.code != before and any(site.verdict != "left for a person" for site in outcome.sites)


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.name)
def test_after_blocks_are_code(case: Path) -> None:
    """Every Python block of an ``after`` parses (where the ``before`` did) and every JSON block is JSON."""
    before_path = next(case.glob("before.*"))
    suffix = before_path.suffix
    after_path = case / f"after{suffix}"
    if not after_path.exists():
        pytest.skip("a no-op case")
    pairs = zip(_blocks(before_path.read_text(encoding="utf-8"), suffix),
                _blocks(after_path.read_text(encoding="utf-8"), suffix), strict=True)
    for (old_block, old), (block, code) in pairs:
        language = _language(block, code)
        if language == "python":
            try:
                ast.parse(old)
            except SyntaxError:
                continue
            ast.parse(code)
        elif language in ("json", "jsonc"):
            json.loads(re.sub(r"^[ \t]*//.*$", "", code, flags=re.MULTILINE))
        assert old_block.language == block.language


def _seed_blocks() -> list[tuple[int, Block, str, str]]:
    case = ROOT / "seed_gateway"
    before = _blocks((case / "before.md").read_text(encoding="utf-8"), ".md")
    after = _blocks((case / "after.md").read_text(encoding="utf-8"), ".md")
    return [(n, b, old, new) for n, ((b, old), (_, new)) in enumerate(zip(before, after, strict=True))]


@pytest.mark.parametrize("n, block, old, expected", _seed_blocks(), ids=lambda v: v if isinstance(v, int) else None)
def test_seed_page_block_by_block(n: int, block: Block, old: str, expected: str) -> None:
    """The gateway page's examples: each chat block becomes a /v1/responses one; the responses blocks stay."""
    if not _installed(block.language):
        pytest.skip(f"the {block.language} codemod is not in this build")
    options = _options(ROOT / "seed_gateway")
    text = (ROOT / "seed_gateway" / "before.md").read_text(encoding="utf-8")
    migrated = dict((i, code) for i, (_, code) in enumerate(_blocks(_run(text, ".md", options).code, ".md")))
    assert migrated[n] == expected
    if "/v1/chat/completions" in old or '"chat.completion"' in old:
        assert "chat/completions" not in expected and "chat.completion" not in expected
        if block.language == "json":
            assert detect(json.loads(expected)) == "response"
        if block.language == "python":
            assert "'input'" in expected and "'messages'" not in expected
    else:
        assert expected == old


def test_seed_page_sites() -> None:
    case = ROOT / "seed_gateway"
    outcome = _run((case / "before.md").read_text(encoding="utf-8"), ".md", _options(case))
    rules = [(site.rule, site.verdict) for site in outcome.sites if site.rule.startswith("docs-") or site.rule == "http"]
    assert ("docs-json-completion", "migrated") in rules
    assert ("http", "migrated with notes") in rules
    mentions = [site for site in outcome.sites if site.rule == "docs-prose-mention"]
    assert [site.line for site in mentions] == [5, 10]
    assert "`choices[0].message.content`" in mentions[1].reasons[0] and "`output_text`" in mentions[1].reasons[0]


def test_json_losses_are_reported_not_written() -> None:
    text = (ROOT / "json_examples" / "before.md").read_text(encoding="utf-8")
    outcome = _run(text, ".md", Options())
    seed = [site for site in outcome.sites if any(r.startswith("seed:") for r in site.reasons)]
    assert len(seed) == 1 and seed[0].verdict == "migrated with notes"
    assert "seed" not in outcome.code.split("A completion")[0].split("same options")[1]
    assert outcome.code.count("// migrator:") == 2  # the jsonc block's two, and no comment in plain JSON


def test_a_jsonc_block_with_comments_is_left_and_reported() -> None:
    text = '```jsonc\n{\n  // the model\n  "model": "m",\n  "messages": [{"role": "user", "content": "Hi"}]\n}\n```\n'
    outcome = _run(text, ".md", Options())
    assert outcome.code == text
    assert [(s.line, s.verdict) for s in outcome.sites] == [(2, "left for a person")]


def test_json_layout_is_kept() -> None:
    text = '{\n\t"model": "m",\n\t"messages": [ { "role": "user", "content": "caf\\u00e9" } ],\n\t"max_tokens": 100,\n\t"temperature": 1.0\n}'
    out = migrate_json(text).text
    assert out == ('{\n\t"model": "m",\n\t"input": [ { "role": "user", "content": "caf\\u00e9" } ],\n'
                   '\t"max_output_tokens": 100,\n\t"temperature": 1.0,\n\t"store": false\n}')


def test_key_order_follows_the_source_where_keys_are_kept() -> None:
    text = '{"temperature": 0, "messages": [{"content": "Hi", "role": "user"}], "model": "m"}'
    out = migrate_json(text).text
    assert out is not None and list(json.loads(out)) == ["temperature", "input", "model", "store"]
    assert list(json.loads(out)["input"][0]) == ["content", "role"]
    root = parse(text)
    assert rewrite(text, root, json.loads(text), lambda key, depth: key) == text


def test_a_moved_value_keeps_its_layout() -> None:
    """A flattened tool's ``parameters`` moves up a level: its one-line parts stay on one line."""
    text = ('{\n  "model": "m",\n  "messages": [{"role": "user", "content": "Hi"}],\n  "tools": [\n    {\n'
            '      "type": "function",\n      "function": {\n        "name": "f",\n        "parameters": {\n'
            '          "type": "object",\n          "properties": {"city": {"type": "string"}}\n        }\n      }\n    }\n  ]\n}')
    out = migrate_json(text).text
    assert out is not None and '\n        "properties": {"city": {"type": "string"}}\n' in out
    assert '\n      "parameters": {\n' in out and '"input": [{"role": "user", "content": "Hi"}]' in out


def test_a_streamed_request_says_the_answer_changes_shape() -> None:
    from migrator.codemod.docs.json_block import STREAMED

    result = migrate_json('{"model": "m", "messages": [{"role": "user", "content": "Hi"}], "stream": true}')
    assert result.text == '{"model": "m", "input": [{"role": "user", "content": "Hi"}], "stream": true, "store": false}'
    assert result.reasons == (STREAMED,)


@pytest.mark.parametrize("text", ['{"name": "email"}', "[1, 2]", "not json", '{"model": "m", "input": "Hi"}', ""])
def test_other_json_is_untouched(text: str) -> None:
    assert migrate_json(text).text is None


def test_crlf_document_stays_crlf() -> None:
    from migrator.codemod.runner import transform_bytes

    text = (ROOT / "list_indented" / "before.md").read_text(encoding="utf-8")
    want = (ROOT / "list_indented" / "after.md").read_text(encoding="utf-8")
    result = transform_bytes("guide.md", text.replace("\n", "\r\n").encode(), Options())
    assert result.errors == () and result.new == want.replace("\n", "\r\n").encode()
    assert transform_bytes("guide.md", result.new, Options()).new is None


def test_rst_and_mdx_go_through_the_runner() -> None:
    from migrator.codemod.runner import transform_bytes

    for case, name in (("rst_blocks", "page.rst"), ("mdx_component", "page.mdx")):
        suffix = Path(name).suffix
        before = (ROOT / case / f"before{suffix}").read_bytes()
        result = transform_bytes(name, before, Options())
        assert result.new == (ROOT / case / f"after{suffix}").read_bytes(), case


def test_unparsed_python_block_is_a_note_not_an_error() -> None:
    from migrator.codemod.runner import transform_bytes

    result = transform_bytes("sketch.md", (ROOT / "noop_unparsed_python" / "before.md").read_bytes(), Options())
    assert result.errors == () and result.new is None
    assert [(s.line, s.rule) for s, _ in result.sites] == [(4, "docs-block-unparsed")]
    assert "was never closed" in result.sites[0][0].reasons[0]


def test_fences() -> None:
    lines = ["~~~~python", "```", "x", "~~~", "~~~~~", "```js", "y", "  ```  ", "  ```bash", "  z", "  ```", "```` `x`", "w"]
    found = [(b.language, b.start, b.end, b.indent) for b in markdown_blocks(lines)]
    assert found == [("python", 1, 4, ""), ("javascript", 6, 7, ""), ("shell", 9, 10, "  ")]


@pytest.mark.parametrize("lines, found", [
    ([">```py", "> x", ">", "> y", "> ```", "after"], [("python", 1, 4, "> ")]),
    (["> ```py", "> x", "", "> y"], [("python", 1, 2, "> ")]),  # a blank line ends the quote, and the fence
    (["> ```py", "> x", "lazy"], [("python", 1, 2, "> ")]),  # no lazy continuation inside a fence
    (["1. ```js", "   x", "", "   y", "   ```", "2. z"], [("javascript", 1, 4, "   ")]),
    (["- ```js", "  x", "- ```py", "  y"], [("javascript", 1, 2, "  "), ("python", 3, 4, "  ")]),  # open until the next item
    (["> 1. ```json", ">    {}", ">    ```"], [("json", 1, 2, ">    ")]),
    (["1. > ```sh", "   > x", "   > ```"], [("shell", 1, 2, "   > ")]),
    (["```` py", "```", "x", "`````", "y"], [("python", 1, 3, "")]),  # a shorter fence is content, a longer one closes
    (["~~~py", "```", "~~~"], [("python", 1, 2, "")]),  # only the opener's character closes
    (["```py", "x", "```  x", "y"], [("python", 1, 4, "")]),  # a closer has nothing after it; unclosed: to the end
    (["<!--", "```py", "x", "```", "-->", "```js", "y", "```"], [("javascript", 6, 7, "")]),
    (["<!-- ```py -->", "```js", "y", "```"], [("javascript", 2, 3, "")]),
    (["```{code-block} python", ":linenos:", ":caption: x", "", "y", "```"], [("python", 3, 5, "")]),
    (["```{code} json", "---", "a: 1", "---", "{}", "```"], [("json", 4, 5, "")]),
    (["````{note}", "text", "```py", "x", "```", "````"], [("python", 3, 4, "")]),
    (["```{eval-rst}", ".. code:: python", "", "   x", "```"], [(None, 1, 4, "")]),
    (['```js title="a.js" {1,3}', "x", "```"], [("javascript", 1, 2, "")]),
], ids=lambda v: repr(v[0]) if isinstance(v, list) and v and isinstance(v[0], str) else None)
def test_fences_in_containers(lines: list[str], found: list[tuple[str | None, int, int, str]]) -> None:
    assert [(b.language, b.start, b.end, b.indent) for b in markdown_blocks(lines)] == found


def test_rst_blocks() -> None:
    lines = [".. code:: bash", "", "  curl x", "", "text::", "", "    {}", "", ".. note::", "", "   prose", "", "A line.",
             ".. highlight:: python", "", "more::", "", "  x", "", ".. sourcecode:: js", "   :linenos:", "", "   y",
             ".. a comment, and a commented-out directive in it:", "", "   .. code:: python", "", "      z", "..", "",
             "  an empty comment ends at the blank line, so this is a block quote (prose)::", "", "    w"]
    found = [(b.language, b.tag, b.start, b.end, b.indent) for b in rst_blocks(lines)]
    assert found == [("shell", "bash", 2, 3, "  "), (None, "", 6, 7, "    "), ("literal", "python", 17, 18, "  "),
                     ("javascript", "js", 22, 23, "   "), ("literal", "python", 32, 33, "    ")]


def test_crlf_blockquote_document_stays_crlf() -> None:
    from migrator.codemod.runner import transform_bytes

    case = ROOT / "blockquote_fences"
    before = (case / "before.md").read_bytes().replace(b"\n", b"\r\n")
    result = transform_bytes("quoted.md", before, Options())
    assert result.errors == () and result.new == (case / "after.md").read_bytes().replace(b"\n", b"\r\n")
    assert transform_bytes("quoted.md", result.new, Options()).new is None


def _notebook(cells: list[dict[str, object]]) -> str:
    nb = {"cells": cells, "metadata": {"kernelspec": {"language": "python", "name": "python3"}}, "nbformat": 4,
          "nbformat_minor": 5}
    return json.dumps(nb, indent=1, ensure_ascii=False) + "\n"


def test_notebook_markdown_cells_go_through_the_markdown_transform() -> None:
    from migrator.codemod.notebook import transform_notebook
    from migrator.codemod.transform import transform_code

    block = ["Call it like this:\n", "\n", "```json\n", '{"model": "m", "messages": [{"role": "user", "content": "Hi"}]}\n',
             "```\n", "and read `choices[0].message.content`."]
    code = ["from openai import OpenAI\n", "client = OpenAI()\n",
            'r = client.chat.completions.create(model="m", messages=[{"role": "user", "content": "Hi"}])\n',
            "print(r.choices[0].message.content)"]
    text = _notebook([{"cell_type": "markdown", "metadata": {}, "source": block},
                      {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [], "source": code}])
    out = transform_notebook(text, Options(), transform_code)
    cells = json.loads(out.text)["cells"]
    assert cells[0]["source"][3] == '{"model": "m", "input": [{"role": "user", "content": "Hi"}], "store": false}\n'
    assert cells[0]["source"][:3] == block[:3] and cells[0]["source"][4:] == block[4:]
    assert "client.responses.create(" in "".join(cells[1]["source"])
    assert [(site.rule, cell, site.line) for site, cell in out.sites] == [
        ("docs-json-request", 0, 4), ("docs-prose-mention", 0, 6), ("create", 1, 3)]
    assert transform_notebook(out.text, Options(), transform_code).text == out.text


def test_a_notebook_with_only_markdown_cells_is_rewritten_too() -> None:
    from migrator.codemod.notebook import transform_notebook
    from migrator.codemod.transform import transform_code

    text = _notebook([{"cell_type": "markdown", "metadata": {}, "source": "```json\n{\"model\": \"m\", \"messages\": [{\"role\": \"user\", \"content\": \"Hi\"}]}\n```"}])
    out = transform_notebook(text, Options(), transform_code)
    assert json.loads(out.text)["cells"][0]["source"] == '```json\n{"model": "m", "input": [{"role": "user", "content": "Hi"}], "store": false}\n```'


_PIECES = ["```python", "```", "~~~json", "~~~", "````", "   ```py", "   ```", "  - item", "", "text::", ".. code:: bash",
           "client = OpenAI()", "from openai import OpenAI", "r = client.chat.completions.create(model='m', messages=[])",
           "print(r.choices[0].message.content)", '{"model": "m", "messages": [{"role": "user", "content": "x"}]}',
           "    {", '      "messages": [{"role": "user", "content": "x"}], "model": "m"', "    }", "curl /v1/chat/completions",
           "Read `choices[0].message.content`.", "\tdef f(:", "\r"]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(_PIECES), max_size=14), st.sampled_from([".md", ".rst"]))
def test_any_document_is_read_and_a_second_run_changes_nothing(pieces: list[str], suffix: str) -> None:
    text = "\n".join(pieces) + "\n"
    once = _run(text, suffix, Options())
    assert _run(once.code, suffix, Options()).code == once.code
    assert all(site.line >= 1 for site in once.sites)
    lines = text.split("\n")
    edited = {n for n, (a, b) in enumerate(zip(lines, once.code.split("\n"), strict=False)) if a != b}
    code = {n for b in (rst_blocks(lines) if suffix == ".rst" else markdown_blocks(lines)) for n in range(b.start, b.end)}
    assert not edited or min(edited) in code, "a line outside every code block was edited"


_PREFIXES = ["", "> ", ">", "> > ", "1. ", "   ", "- ", "  ", "> 1. ", "    ", "10. "]
_PROGRAMS = {
    "python": ["from openai import OpenAI", "client = OpenAI()",
               "r = client.chat.completions.create(model='m', messages=[{'role': 'user', 'content': 'x'}], seed=1)",
               "print(r.choices[0].message.content)"],
    "json": ["{", '  "model": "m",', '  "messages": [{"role": "user", "content": "x"}],', '  "n": 1', "}"],
    "sh": ["curl $BASE/v1/chat/completions \\", "  -d '{\"model\": \"m\", \"messages\": [{\"role\": \"user\", \"content\": \"x\"}]}'"],
    "js": ["import OpenAI from 'openai';", "const c = new OpenAI();",
           "const r = await c.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'x' }], seed: 1 });",
           "console.log(r.choices[0].message.content);"],
    "{code-block} python": [":linenos:", "", "from openai import OpenAI", "client = OpenAI()",
                            "client.chat.completions.create(model='m', messages=[{'role': 'user', 'content': 'x'}])"],
}
_NOISE = ["", "prose", "Read `choices[0].message.content`.", "```", "~~~", "````", "```python", "<!--", "-->", "\tdef f(:",
          "{", "- item", "> quoted"]


@st.composite
def _element(draw: st.DrawFn) -> list[str]:
    """A prose line, or a fence (maybe unclosed, maybe with noise inside) in a container."""
    prefix = draw(st.sampled_from(_PREFIXES))
    if draw(st.booleans()):
        return [prefix + draw(st.sampled_from(_NOISE))]
    language = draw(st.sampled_from(sorted(_PROGRAMS)))
    fence = draw(st.sampled_from(["```", "~~~", "````"]))
    inner = prefix if not prefix[:1].isdigit() and not prefix.startswith("-") else " " * len(prefix)
    if prefix.startswith("> 1"):
        inner = ">    "
    body = list(_PROGRAMS[language])
    if draw(st.booleans()):
        body.insert(draw(st.integers(0, len(body))), draw(st.sampled_from(_NOISE)))
    closer = [inner + fence] if draw(st.booleans()) else []
    return [prefix + fence + language, *(inner + line if line else inner.rstrip() for line in body), *closer]


@settings(max_examples=300, deadline=None)
@given(st.lists(_element(), max_size=8))
def test_random_fences_quotes_and_lists_only_change_their_blocks(drawn: list[list[str]]) -> None:
    """Any mix of fences, quotes and list items: no exception, every edit inside a block's content
    lines, every written line carrying its block's prefix, and a second run changes nothing."""
    import difflib

    text = "\n".join(line for element in drawn for line in element) + "\n"
    lines = text.split("\n")
    once = _run(text, ".md", Options())
    out = once.code.split("\n")
    blocks = markdown_blocks(lines)
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, lines, out, autojunk=False).get_opcodes():
        if tag == "equal":
            continue
        block = next((b for b in blocks if b.start <= i1 and i2 <= b.end), None)
        assert block is not None, f"lines {i1}-{i2} outside every block were edited"
        assert all(line.startswith(block.indent) or line == block.indent.rstrip() for line in out[j1:j2])
    assert all(site.line >= 1 for site in once.sites)
    assert _run(once.code, ".md", Options()).code == once.code


def test_a_page_is_one_program_until_it_is_long() -> None:
    """A client made in any earlier block is traced (a page may show an alternative setup between
    the client and its call); a long page is cut where a block imports ``openai`` anew."""
    from migrator.codemod.docs import document
    from migrator.codemod.docs.document import _programs

    blocks = [(Block("python", "python", 0, 0, ""), code) for code in (
        "from openai import OpenAI\nopenai = OpenAI()\n",
        "from openai import OpenAI\nlocal = OpenAI(base_url='http://localhost:11434/v1')\n",
        "openai.chat.completions.create(model='m', messages=[{'role': 'user', 'content': 'x'}])\n",
        "import openai\nc = openai.OpenAI()\nc.chat.completions.create(model='m', messages=[])\n", "print(1)\n")]
    assert [[n for n, _ in program] for program in _programs(blocks)] == [[0, 1, 2, 3, 4]]
    page = "".join(f"```python\n{code}```\n\n" for _, code in blocks[:3])
    assert "openai.responses.create(" in _run(page, ".md", Options()).code
    long = [(blocks[0][0], "x = 1\n" * (document.PROGRAM_LINES + 1)), *blocks]
    assert [[n for n, _ in program] for program in _programs(long)] == [[1, 2, 3, 4, 5]]  # [0] has no site


@pytest.mark.parametrize("old, new, least", [
    (["a", "b", "c"], ["a", "x", "c"], 2),
    (["{", "  1", "}", "{", "  2", "}"], ["{", "  1", "  3", "}", "{", "  2", "}"], 6),
    ([f"l{i}" for i in range(700)], [f"l{i}" if i % 7 else f"m{i}" for i in range(700)] + ["end"], 600),
    (["{", "  1", "}"] * 300 + [f"u{i}" for i in range(300)], [f"u{i}" if i % 3 else "x" for i in range(300)]
     + ["{", "  1", "}"] * 300, 200),
])
def test_align_keeps_equal_lines_and_covers_both_sides(old: list[str], new: list[str], least: int) -> None:
    """Large blocks are aligned on their unique lines first (difflib alone is quadratic on repeated
    JSON lines): the runs still cover both sides in order, and a kept run is equal line for line."""
    from migrator.codemod.docs import document

    runs = document._align(old, new, 0, len(old), 0, len(new))
    assert [r[1:3] for r in runs] == [(a, b) for a, b in zip([0, *(r[2] for r in runs[:-1])], [r[2] for r in runs], strict=True)]
    assert runs[-1][2] == len(old) and runs[-1][4] == len(new) and runs[0][1] == runs[0][3] == 0
    assert all(old[i1:i2] == new[j1:j2] for kept, i1, i2, j1, j2 in runs if kept)
    assert sum(i2 - i1 for kept, i1, i2, _, _ in runs if kept) >= least


def test_a_json_example_with_fields_of_another_api_is_left_and_they_are_named() -> None:
    """Rewriting it would drop them, and JSON has no comment to keep them in."""
    from migrator.codemod.runner import transform_bytes

    result = transform_bytes("api.md", (ROOT / "noop_foreign_fields" / "before.md").read_bytes(), Options())
    assert result.new is None
    reasons = {site.rule: " ".join(site.reasons) for site, _ in result.sites}
    assert "`stats`, `runtime`" in reasons["docs-json-completion"]
    assert "`top_k`" in reasons["docs-json-request"]
