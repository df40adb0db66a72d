"""docs/mapping.md is generated from mappings/ and must not go stale."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from migrator.mapping import docs
from migrator.mapping.rules import FILES, mappings_dir

ROOT = Path(__file__).resolve().parent.parent
MAPPING_MD = ROOT / "docs" / "mapping.md"


def _raw(stem: str) -> dict:
    return json.loads((mappings_dir() / f"{stem}.json").read_text(encoding="utf-8"))


def test_mapping_md_is_up_to_date() -> None:
    assert MAPPING_MD.read_text(encoding="utf-8") == docs.render(), (
        "docs/mapping.md is stale: run `python -m migrator.mapping.docs`"
    )


@pytest.mark.slow
def test_a_fresh_render_in_another_process_matches_the_committed_file() -> None:
    """Not render() against render() in one process (that cannot fail): another process and
    another hash seed each, so an order that hangs on set or dict iteration would show."""
    committed = MAPPING_MD.read_bytes()
    code = "import sys; from migrator.mapping import docs; sys.stdout.buffer.write(docs.render().encode('utf-8'))"
    for seed in ("0", "4242"):
        proc = subprocess.run([sys.executable, "-c", code], capture_output=True, check=True, cwd=ROOT,
                              env={**os.environ, "PYTHONHASHSEED": seed})
        assert proc.stdout == committed, f"PYTHONHASHSEED={seed}: the render differs from docs/mapping.md"


def test_a_changed_table_changes_the_render(tmp_path: Path) -> None:
    """The comparison above can fail: edit one rule in a copy of mappings/ and the page moves with it."""
    folder = tmp_path / "mappings"
    shutil.copytree(mappings_dir(), folder)
    request = folder / "request.json"
    old = "Responses has no seed parameter; sampling is not reproducible by seed"
    text = request.read_text(encoding="utf-8")
    assert old in text
    request.write_text(text.replace(old, "a changed reason"), encoding="utf-8")
    changed = docs.render(folder)
    committed = MAPPING_MD.read_text(encoding="utf-8")
    assert changed != committed
    assert "| `seed` | integer \\| null | **unsupported**; lossless when: `null` | a changed reason |" in changed
    assert old not in changed and old in committed
    assert docs.render(mappings_dir()) == committed


def test_every_table_and_value_table_is_documented() -> None:
    text = docs.render()
    for stem in FILES:
        data = _raw(stem)
        assert f"## {data['title']}" in text
        for name in data.get("tables", {}):
            assert f"#### `{name}`:" in text, name
            assert f'<a id="table-{name}"></a>' in text, name
        for name in data.get("values", {}):
            assert f"#### `{name}`:" in text, name
            assert f'<a id="values-{name}"></a>' in text, name


def test_every_field_and_value_has_a_row() -> None:
    text = docs.render()
    for stem in FILES:
        data = _raw(stem)
        for group in ("tables", "values"):
            for table in data.get(group, {}).values():
                for key in table["fields" if group == "tables" else "values"]:
                    assert f"| {docs.cell(docs.code(key))} |" in text, key


def test_models_are_documented() -> None:
    text = docs.render()
    models = _raw("models")
    assert f"## {models['title']}" in text
    for key in ("responses_only", "chat_only"):
        for pattern in models[key]["patterns"]:
            assert docs.cell(docs.code(pattern)) in text, pattern


def test_header_says_generated() -> None:
    head = docs.render().splitlines()[:6]
    assert any("python -m migrator.mapping.docs" in line and "not edit" in line for line in head)


def test_directions_are_in_order() -> None:
    text = docs.render()
    request = text.index("## Request parameters")
    results = text.index("## Results")
    assert request < text.index("### Chat → Responses", request) < text.index("### Responses → Chat", request) < results


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        ({"do": "copy"}, "same name"),
        ({"do": "rename", "to": "max_output_tokens"}, "→ `max_output_tokens`"),
        ({"do": "convert", "to": "input", "via": "messages", "how": "x"}, "→ `input` (by `messages`)"),
        ({"do": "drop", "kind": "unsupported", "reason": "no seed here", "unless": [None, 0]},
         "**unsupported**; lossless when: `null`, `0`"),
        ({"do": "drop", "kind": "dropped", "reason": "no names here"}, "**dropped**"),
        ({"do": "omit", "reason": "output-only echo"}, "omitted, no loss"),
        ({"do": "approximate", "to": "priority", "reason": "nearest tier"}, "≈ `priority`"),
    ],
)
def test_carried_as(rule: dict, expected: str) -> None:
    assert docs.carried_as(rule) == expected


def test_cells_escape_pipes_and_newlines() -> None:
    assert docs.cell("a|b\nc") == "a\\|b c"
    assert docs.code("a`b") == "``a`b``"


def test_write_then_check(tmp_path: Path) -> None:
    target = tmp_path / "mapping.md"
    out = io.StringIO()
    assert docs.main([], path=target, stdout=out, stderr=io.StringIO()) == 0
    assert target.read_text(encoding="utf-8") == docs.render()
    assert [p.name for p in tmp_path.iterdir()] == ["mapping.md"]  # no temp file left behind
    assert docs.main(["--check"], path=target, stdout=io.StringIO(), stderr=io.StringIO()) == 0


def test_check_fails_on_a_stale_copy(tmp_path: Path) -> None:
    target = tmp_path / "mapping.md"
    target.write_text(docs.render().replace("same name", "same-name", 1), encoding="utf-8")
    before = target.read_text(encoding="utf-8")
    err = io.StringIO()
    assert docs.main(["--check"], path=target, stdout=io.StringIO(), stderr=err) == 1
    assert "stale" in err.getvalue() and "python -m migrator.mapping.docs" in err.getvalue()
    assert target.read_text(encoding="utf-8") == before  # --check never writes


def test_check_fails_on_a_missing_file(tmp_path: Path) -> None:
    err = io.StringIO()
    assert docs.main(["--check"], path=tmp_path / "nope.md", stdout=io.StringIO(), stderr=err) == 1
    assert "missing" in err.getvalue()


@pytest.mark.slow
def test_module_check_exits_1_on_stale_output(tmp_path: Path) -> None:
    target = tmp_path / "mapping.md"
    target.write_text("stale\n", encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, "-m", "migrator.mapping.docs", "--check", "--output", str(target)],
        capture_output=True, text=True, check=False, cwd=ROOT,
    )
    assert proc.returncode == 1
    assert "stale" in proc.stderr


@pytest.mark.slow
def test_docs_module_does_not_import_jsonschema() -> None:
    code = "import sys, migrator.mapping.docs; sys.exit('jsonschema' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], check=False, cwd=ROOT).returncode == 0


README = ROOT / "README.md"


def _readme_section(title: str) -> str:
    text = README.read_text(encoding="utf-8")
    start = text.index(f"\n## {title}\n")
    return text[start:text.index("\n## ", start + 1)]


def test_the_readme_synopsis_lists_every_option_of_the_cli() -> None:
    import argparse

    from migrator.cli import _parser

    parser = _parser()
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction)).choices
    synopsis = _readme_section("CLI").split("```sh", 1)[1].split("```", 1)[0]
    for name in ("translate", "demo"):
        for action in commands[name]._actions:
            for option in action.option_strings:
                if option not in ("-h", "--help"):
                    assert option in synopsis, f"{name} {option} is missing from the README's CLI synopsis"
    assert "migrator --version" in synopsis


def test_the_readme_says_what_happens_to_a_body_already_in_the_target_dialect() -> None:
    """Not "returned unchanged": unknown top-level keys are removed and reported (as docs/losses.md says)."""
    api = " ".join(_readme_section("Python API").split())
    assert "returned unchanged" not in api
    assert "removed and reported" in api and "removed and reported" in (ROOT / "docs" / "losses.md").read_text(encoding="utf-8")


def test_the_readme_states_the_input_limits_json_text_enforces() -> None:
    from migrator.mapping import json_text

    cli = " ".join(_readme_section("CLI").split())  # one line: the README wraps its prose
    assert f"deeper than {json_text.MAX_DEPTH} levels" in cli
    assert f"{json_text.MAX_INT_DIGITS:,} digits" in cli
    for word in ("`NaN`", "`Infinity`", "`1e999`", "surrogate", "not UTF-8"):
        assert word in cli, word
