"""Render ``docs/mapping.md`` from the rule files in ``mappings/``.

The rule files are the single source of truth; this page is their readable
form and is never edited by hand::

    python -m migrator.mapping.docs           # (re)write docs/mapping.md
    python -m migrator.mapping.docs --check   # exit 1 if docs/mapping.md is stale

The files are read afresh on every call (not through the tables compiled at
import), so the page always reflects what is on disk. Only the standard
library is used: no jsonschema, no third-party Markdown tooling.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, TextIO

from .rules import APPROXIMATE, CONVERT, COPY, DROP, FILES, OMIT, RENAME, mappings_dir

COMMAND = "python -m migrator.mapping.docs"
DEFAULT_OUTPUT = Path(__file__).resolve().parents[2] / "docs" / "mapping.md"

CHAT = "chat"
RESPONSES = "responses"
BOTH = "both"

_DIRECTIONS: tuple[tuple[str, str], ...] = (
    (CHAT, "Chat → Responses"),
    (RESPONSES, "Responses → Chat"),
    (BOTH, "Both directions"),
)
_ENDPOINTS = {"responses_only": "`/v1/responses`", "chat_only": "`/v1/chat/completions`"}


# --- cells ------------------------------------------------------------------


def cell(text: str) -> str:
    """Text made safe for one Markdown table cell: no line breaks, ``|`` escaped."""
    return " ".join(text.split()).replace("|", "\\|")


def code(text: str) -> str:
    """An inline code span that survives backticks inside ``text``."""
    run = longest = 0
    for ch in text:
        run = run + 1 if ch == "`" else 0
        longest = max(longest, run)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def carried_as(rule: dict[str, Any], *, value: bool = False) -> str:
    """What becomes of a field (or, with ``value``, of an enum value), in a few words."""
    do = rule["do"]
    to = rule.get("to")
    if do == COPY:
        return "same value" if value else "same name"
    if do == RENAME:
        return f"→ {code(to)}" if to else "renamed"
    if do == CONVERT:
        via = f" (by {code(rule['via'])})" if rule.get("via") else ""
        return f"→ {code(to)}{via}" if to else f"converted{via}"
    if do == DROP:
        kind = f"**{rule.get('kind', 'dropped')}**"
        unless = rule.get("unless")
        if unless is not None:
            values = ", ".join(code(_json(v)) for v in unless)
            kind += f"; lossless when: {values}"
        return kind
    if do == OMIT:
        return "omitted, no loss"
    if do == APPROXIMATE:
        return f"≈ {code(to)}" if to else "approximated"
    return code(str(do))  # a verb the schema does not know yet: show it rather than fail


def notes(rule: dict[str, Any]) -> str:
    """The rule's explanation: ``how`` for carried fields, ``reason`` for the rest."""
    parts = [rule[key] for key in ("how", "reason") if rule.get(key)]
    return " ".join(parts)


def json_type(rule: dict[str, Any]) -> str:
    """The declared JSON type as the docs show it: a union is written ``a | b``."""
    declared = rule.get("type")
    if declared is None:
        return ""
    return " | ".join([declared] if isinstance(declared, str) else declared)


def _table(header: tuple[str, str, str], rows: dict[str, Any], *, values: bool) -> Iterator[str]:
    if values:
        yield f"| {header[0]} | {header[1]} | {header[2]} |"
        yield "| --- | --- | --- |"
    else:
        yield f"| {header[0]} | type | {header[1]} | {header[2]} |"
        yield "| --- | --- | --- | --- |"
    for name, rule in rows.items():
        explained = notes(rule)
        if rule.get("variant"):
            explained = f"{explained} Type variant: {rule['variant']}".strip()
        typed = "" if values else f" {cell(json_type(rule))} |"
        yield f"| {cell(code(name))} |{typed} {cell(carried_as(rule, value=values))} | {cell(explained)} |"


# --- directions ---------------------------------------------------------------


def _sdk_side(ref: str) -> str | None:
    module = ref.split(":", 1)[0]
    if module.startswith("openai.types.chat.") or module == "openai.types.completion_usage":
        return CHAT
    if module.startswith("openai.types.responses."):
        return RESPONSES
    return None


def direction(table: dict[str, Any]) -> str:
    """The side a table reads from: its ``source``, else the SDK types it names."""
    source = table.get("source")
    if source in (CHAT, RESPONSES):
        return str(source)
    sides = {_sdk_side(ref) for ref in table.get("sdk", [])}
    if len(sides) == 1 and None not in sides:
        return str(sides.pop())
    return BOTH


def anchor(kind: str, name: str) -> str:
    return f"{kind}-{name}".replace(" ", "-")


# --- sections -----------------------------------------------------------------


def _read(folder: Path, stem: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((folder / f"{stem}.json").read_text(encoding="utf-8"))
    return data


Section = tuple[str, list[tuple[str, dict[str, Any], bool]]]


def sections(data: dict[str, Any]) -> list[Section]:
    """A file's tables grouped by direction, field tables before value tables, each in file order."""
    tables: dict[str, Any] = data.get("tables", {})
    value_tables: dict[str, Any] = data.get("values", {})
    out: list[Section] = []
    for side, label in _DIRECTIONS:
        members = [(n, t, False) for n, t in tables.items() if direction(t) == side]
        members += [(n, t, True) for n, t in value_tables.items() if direction(t) == side]
        if members:
            out.append((label, members))
    return out


def _render_table(name: str, table: dict[str, Any], *, values: bool) -> Iterator[str]:
    kind = "values" if values else "table"
    yield f'<a id="{anchor(kind, name)}"></a>'
    yield ""
    yield f"#### {code(name)}: {table['title']}"
    yield ""
    sdk = ", ".join(code(ref) for ref in table.get("sdk", []))
    if sdk:
        yield f"SDK: {sdk}"
        yield ""
    target = ", ".join(code(ref) for ref in table.get("target_sdk", []))
    if target:
        yield f"Targets resolve in: {target}"
        yield ""
    whole = table.get("dropped_whole")
    if whole:
        values_name, _, value = whole.rpartition(".")
        yield (f"Dropped whole: one loss, as value {code(value)} of [{code(values_name)}](#{anchor('values', values_name)})"
               " says; the fields below only say what it holds and are not mapped one by one.")
        yield ""
    extra = table.get("extra_fields")
    if extra:
        yield "Also known, beyond the SDK types: " + ", ".join(code(f) for f in extra)
        yield ""
    if values:
        yield from _table(("value", "becomes", "notes"), table["values"], values=True)
    else:
        yield from _table(("field", "carried as", "notes"), table["fields"], values=False)
    yield ""


def _render_file(stem: str, data: dict[str, Any]) -> Iterator[str]:
    yield f'<a id="{anchor("file", stem)}"></a>'
    yield ""
    yield f"## {data['title']}"
    yield ""
    yield f"From {code(f'mappings/{stem}.json')}. {data.get('about', '')}".rstrip()
    yield ""
    for label, members in sections(data):
        yield f"### {label}"
        yield ""
        for name, table, is_values in members:
            yield from _render_table(name, table, values=is_values)


def _file_heading(stem: str, data: dict[str, Any], title: str) -> Iterator[str]:
    """The anchor, title and provenance line every page section of a rule file opens with."""
    yield f'<a id="{anchor("file", stem)}"></a>'
    yield ""
    yield f"## {data.get('title', title)}"
    yield ""
    yield f"From {code(f'mappings/{stem}.json')}. {data.get('about', '')}".rstrip()


def _render_models(data: dict[str, Any]) -> Iterator[str]:
    yield from _file_heading("models", data, "Models")
    yield ""
    yield "| model pattern | served only by | reason |"
    yield "| --- | --- | --- |"
    for key, entry in data.items():
        if not isinstance(entry, dict) or "patterns" not in entry:
            continue
        endpoint = _ENDPOINTS.get(key, code(key))
        for pattern in entry["patterns"]:
            yield f"| {cell(code(pattern))} | {cell(endpoint)} | {cell(entry.get('reason', ''))} |"
    yield ""


def _render_shapes(data: dict[str, Any]) -> Iterator[str]:
    """The fields every written body carries (mappings/shapes.json), with the API's defaults."""
    yield from _file_heading("shapes", data, "Complete bodies")
    for name, shape in data.get("shapes", {}).items():
        yield ""
        yield f"### {code(name)}"
        yield ""
        yield "| field | when nothing says | from the request |"
        yield "| --- | --- | --- |"
        defaults, echo = shape.get("defaults", {}), set(shape.get("echo", ()))
        for field in shape["required"]:
            default = code(_json(defaults[field])) if field in defaults else "always written"
            yield f"| {code(field)} | {cell(default)} | {'echoed' if field in echo else ''} |"
        filled = dict(shape.get("complete", {}))
        filled.update({f"{p}[type={t}]": f for p, by_type in shape.get("typed", {}).items() for t, f in by_type.items()})
        filled.update({f"tools[type={t}]": f for t, f in shape.get("tools", {}).items()})
        for path, fill in filled.items():
            yield f"| {code(path)} | {cell('missing keys from ' + code(_json(fill)))} | |"
    yield ""


def _contents(files: list[tuple[str, dict[str, Any]]], models: dict[str, Any]) -> Iterator[str]:
    yield "## Contents"
    yield ""
    for stem, data in files:
        yield f"- [{data['title']}](#{anchor('file', stem)})"
        for label, members in sections(data):
            links = ", ".join(f"[{code(n)}](#{anchor('values' if v else 'table', n)})" for n, _, v in members)
            yield f"  - {label}: {links}"
    yield f"- [{models.get('title', 'Models')}](#{anchor('file', 'models')})"
    yield f"- [Complete bodies](#{anchor('file', 'shapes')})"
    yield ""


_LEGEND = """\
How to read the tables. **carried as** says what the target gets:

- *same name*: copied as it is;
- *→ `x`*: written as `x` in the target (a dotted name is nested, e.g. `reasoning.effort`);
  with *(by `f`)* the engine's converter `f` reshapes it, as the notes say;
- ***dropped*** / ***unsupported***: not carried, and reported in the loss report with that kind
  (see [losses.md](losses.md)); *lossless when* lists the values (as JSON) for which nothing is lost,
  so nothing is reported;
- *≈ `x`*: carried as the nearby value `x`, reported as **approximated**;
- *omitted, no loss*: left out on purpose, without a loss entry (output-only echoes and the like).

A field that no table lists is reported as **unsupported** and never forwarded. *Targets resolve in*
names the target SDK types each `→ x` of a table is a field of (checked by `tests/test_sdk_coverage.py`);
a table *dropped whole* is one loss, as its value rule says, and its fields are not mapped one by one.

**type** is the JSON type a present value must have: `string`, `integer`, `number` (an integer or
a fraction), `boolean` (never a number), `object`, `array`, `null`, or a union of them (`a | b`). It
is the SDK's type of the field (checked by `tests/test_sdk_coverage.py`), widened only by the
*lossless when* values and by a stated type variant. A value of another type is an error naming its
JSON path, the type expected and the value found (`$.temperature: expected a number or null, found
'hot'`); it is never replaced by a default. A missing optional field is fine."""


def render(folder: Path | None = None) -> str:
    """The whole of ``docs/mapping.md``, from the rule files in ``folder`` (default: ``mappings/``)."""
    folder = folder or mappings_dir()
    files = [(stem, _read(folder, stem)) for stem in FILES]
    models = _read(folder, "models")
    lines: list[str] = [
        f"<!-- Generated from mappings/ by `{COMMAND}`. Do not edit by hand. -->",
        "",
        "# Mapping rules",
        "",
        f"> Generated from the rule files in `mappings/` by `{COMMAND}`; do not edit this file by hand.",
        f"> Change the rules in `mappings/*.json` and rerun it; `{COMMAND} --check` tells whether this page is stale.",
        "",
        _LEGEND,
        "",
    ]
    lines += _contents(files, models)
    for stem, data in files:
        lines += _render_file(stem, data)
    lines += _render_models(models)
    lines += _render_shapes(_read(folder, "shapes"))
    return "\n".join(lines).rstrip("\n") + "\n"


# --- command ------------------------------------------------------------------


def write_atomic(path: Path, text: str) -> None:
    """Write the whole file or nothing: a temp file beside it, then ``os.replace``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _display(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def main(argv: Sequence[str] | None = None, *, path: Path | None = None, stdout: TextIO | None = None,
         stderr: TextIO | None = None) -> int:
    """Write (or with ``--check`` verify) the mapping page. Returns the exit code."""
    stdout = stdout or sys.stdout
    stderr = stderr or sys.stderr
    parser = argparse.ArgumentParser(prog=COMMAND, description="Generate docs/mapping.md from the rule files in mappings/.")
    parser.add_argument("--check", action="store_true", help="do not write; exit 1 if the file is missing or stale")
    parser.add_argument("--output", metavar="PATH", type=Path, help="the page to write or check (default: docs/mapping.md)")
    args = parser.parse_args(argv)
    target: Path = args.output or path or DEFAULT_OUTPUT
    text = render()
    if args.check:
        try:
            current = target.read_text(encoding="utf-8")
        except FileNotFoundError:
            stderr.write(f"{_display(target)} is missing; generate it with `{COMMAND}`\n")
            return 1
        if current != text:
            stderr.write(f"{_display(target)} is stale: it does not match mappings/; regenerate it with `{COMMAND}`\n")
            return 1
        stdout.write(f"{_display(target)} is up to date\n")
        return 0
    write_atomic(target, text)
    stdout.write(f"wrote {_display(target)}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
