"""``migrator demo``: the engine and the codemod on embedded examples, offline, so a newcomer sees
what migrator does to traffic and to code."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, TextIO

from .mapping import Dialect, translate

# (file, target, what it shows)
CASES: tuple[tuple[str, Dialect, str], ...] = (
    ("chat_request.json", "responses", "a Chat Completions request with an image, a tool round trip and JSON output"),
    ("responses_request.json", "chat", "a Responses request with built-in tools and server-side state"),
    ("chat_completion.json", "responses", "a ChatCompletion with two parallel tool calls"),
    ("response.json", "chat", "the seed gateway's bare Response (no message wrapper)"),
)
CODE = "chat_app.py"  # stored as chat_app.py.txt: data for the demo, not a module of the package


def _codemod(folder: Path) -> dict[str, Any]:
    """The codemod on an application's call site: the diff it prints and what it says of the site."""
    import difflib

    from .codemod.outcome import Options
    from .codemod.transform import transform_code

    before = (folder / f"{CODE}.txt").read_text(encoding="utf-8")
    outcome = transform_code(before, Options())
    diff = "".join(difflib.unified_diff(before.splitlines(keepends=True), outcome.code.splitlines(keepends=True),
                                        f"a/{CODE}", f"b/{CODE}"))
    return {"example": CODE, "about": "an application's call site and the reads of its result, rewritten by migrator codemod",
            "diff": diff, "sites": [{"line": s.line, "rule": s.rule, "verdict": s.verdict, "reasons": list(s.reasons)}
                                    for s in outcome.sites]}


def run_demo(folder: Path, out: TextIO, *, as_json: bool = False) -> int:
    results: list[dict[str, Any]] = []
    for name, target, about in CASES:
        body = json.loads((folder / name).read_text(encoding="utf-8"))
        t = translate(body, target)
        results.append({"example": name, "about": about, "source": t.source, "target": t.target,
                        "body": t.body, "losses": [loss.as_dict() for loss in t.losses]})
    code = _codemod(folder)
    if as_json:
        out.write(json.dumps({"translations": results, "codemod": code}, indent=2, ensure_ascii=False) + "\n")
        return 0
    from rich.console import Console
    from rich.syntax import Syntax
    from rich.table import Table

    console = Console(file=out, soft_wrap=False)
    for r in results:
        console.rule(f"[bold]{r['example']}[/]: {r['source']} → {r['target']}")
        console.print(r["about"], style="dim")
        console.print(Syntax(json.dumps(r["body"], indent=2, ensure_ascii=False), "json", word_wrap=True))
        if not r["losses"]:
            console.print("[green]nothing lost[/]")
            continue
        table = Table(title=f"{len(r['losses'])} field(s) not carried exactly", title_justify="left")
        for col in ("path", "kind", "reason"):
            table.add_column(col, overflow="fold")
        for loss in r["losses"]:
            table.add_row(loss["path"], loss["kind"], loss["reason"])
        console.print(table)
    console.rule(f"[bold]{code['example']}[/]: migrator codemod")
    console.print(code["about"], style="dim")
    console.print(Syntax(code["diff"], "diff", word_wrap=True))
    for site in code["sites"]:
        console.print(f"line {site['line']}: {site['verdict']}", style="green" if site["verdict"] != "left for a person" else "yellow")
    console.print("\nTranslate your own: [bold]migrator translate FILE --to responses|chat[/] (bodies or SSE streams)")
    console.print("Migrate your code: [bold]migrator codemod PATH[/] (a diff; --write to apply; see docs/codemod.md)")
    console.print("Serve both endpoints, offline or as a bridge: [bold]migrator serve[/] [--upstream URL] (see --help)")
    return 0
