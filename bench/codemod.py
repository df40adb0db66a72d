"""Benchmark: ``migrator codemod --check`` on a generated repository, against parsing every file.

Run from the repository root::

    python bench/codemod.py                  # 10,000 files, 1% of each language's calling the API
    python bench/codemod.py --json out.json  # also write every number as JSON
    python bench/codemod.py --quick          # 1,000 files, a smoke test

The tree mixes Python (60%), JavaScript/TypeScript (25%: .js .mjs .ts .tsx) and Markdown (15%).
The baseline is what a codemod without a byte screen does (bump-pydantic, libcst's runner, the
tree-sitter based scanners): every file parsed with its own parser (libcst for Python, tree-sitter
for JS/TS, and for Markdown the fences split and each block parsed with its language's parser), in
as many processes as the codemod gets. Both are timed as whole commands (interpreter start
included), on the same tree, in the same run.
See bench/README.md ("Codemod").
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

# common puts migrator on the path (bench/ is sys.path[0] when this file is run as a script).
from common import Target, add_output_arguments, banner, child_env, environment, finish, print_targets

WORDS = ("account", "batch", "cache", "report", "order", "client", "record", "config", "metric", "queue", "token",
         "frame", "model", "stage", "route", "event", "image", "vector", "sample", "ledger", "worker", "filter")

PARSE_ALL = r"""
import os, re, shlex, sys
from multiprocessing import Pool
import libcst
import tree_sitter_javascript, tree_sitter_typescript
from tree_sitter import Language, Parser

JS = Parser(Language(tree_sitter_javascript.language()))
TS = Parser(Language(tree_sitter_typescript.language_typescript()))
TSX = Parser(Language(tree_sitter_typescript.language_tsx()))
BY_SUFFIX = {".js": JS, ".mjs": JS, ".ts": TS, ".tsx": TSX}
FENCE = re.compile(rb"^```([\w-]*)[^\n]*\n(.*?)^```", re.M | re.S)

def block(lang, body):
    if lang in (b"python", b"py"):
        libcst.parse_module(body)
    elif lang in (b"js", b"javascript", b"ts", b"typescript"):
        (JS if lang in (b"js", b"javascript") else TS).parse(body)
    elif lang in (b"sh", b"bash", b"shell", b"console", b"curl"):
        shlex.split(body.decode(), comments=True)  # no bash grammar installed: Python's shell lexer

def parse(path):
    with open(path, "rb") as fh:
        data = fh.read()
    ext = os.path.splitext(path)[1]
    if ext == ".py":
        libcst.parse_module(data)
    elif ext == ".md":
        for m in FENCE.finditer(data):
            block(m.group(1).lower(), m.group(2))
    elif ext in BY_SUFFIX:
        BY_SUFFIX[ext].parse(data)
    else:
        return 0
    return 1

if __name__ == "__main__":
    root, jobs = sys.argv[1], int(sys.argv[2])
    files = [os.path.join(d, f) for d, _, fs in os.walk(root) for f in fs]
    with Pool(jobs) as pool:
        print(sum(pool.imap_unordered(parse, files, chunksize=32)))
"""


def _name(rng: random.Random) -> str:
    return f"{rng.choice(WORDS)}_{rng.choice(WORDS)}"


def _type_name(rng: random.Random) -> str:
    return "".join(w.title() for w in (rng.choice(WORDS), rng.choice(WORDS)))


def _function(rng: random.Random) -> str:
    name, a, b = _name(rng), rng.choice(WORDS), rng.choice(WORDS)
    return (
        f"def {name}({a}: dict[str, Any], {b}: list[int] | None = None, *, retries: int = {rng.randint(1, 9)}) -> list[str]:\n"
        f'    """Collect the {a} entries that pass the {b} filter, keeping their order.\n\n'
        f"    Entries without a key are skipped; a missing {b} list means every entry passes.\n"
        f'    """\n'
        f"    out: list[str] = []\n"
        f"    for key, value in sorted({a}.items()):\n"
        f"        if {b} is not None and len(key) not in {b}:\n"
        f"            continue  # not selected\n"
        f"        if isinstance(value, (list, tuple)):\n"
        f"            out.extend(str(v).strip() for v in value if v)\n"
        f"        elif value is None:\n"
        f"            logger.debug('skip %s after %d tries', key, retries)\n"
        f"        else:\n"
        f"            out.append(f\"{{key}}={{value!r:>{rng.randint(4, 20)}}}\")\n"
        f"    return [s for s in out if s and not s.startswith('#')]\n\n\n"
    )


def _class(rng: random.Random) -> str:
    name = _type_name(rng)
    fields = sorted(set(rng.sample(WORDS, 4)))
    body = "".join(f"    {f}: {rng.choice(('int', 'str', 'float | None', 'list[str]'))}\n" for f in fields)
    return (
        f"@dataclass\nclass {name}:\n"
        f'    """A {fields[0]} as the {fields[-1]} service stores it."""\n\n{body}\n'
        f"    def as_dict(self) -> dict[str, Any]:\n"
        f"        return {{{', '.join(f'{f!r}: self.{f}' for f in fields)}}}\n\n"
        f"    @classmethod\n"
        f"    def from_row(cls, row: tuple[Any, ...]) -> {name!r}:\n"
        f"        if len(row) != {len(fields)}:\n"
        f"            raise ValueError(f'expected {len(fields)} columns, found {{len(row)}}')\n"
        f"        return cls(*row)\n\n\n"
    )


def _api_use(rng: random.Random) -> str:
    var = rng.choice(("client", "llm", "oai"))
    return (
        f"{var} = OpenAI()\n\n\n"
        f"def ask_{rng.choice(WORDS)}(question: str, history: list[dict[str, str]]) -> str:\n"
        f"    response = {var}.chat.completions.create(\n"
        f"        model=\"gpt-4o-mini\",\n"
        f"        messages=[{{\"role\": \"system\", \"content\": \"Answer briefly.\"}},{' *history,' if rng.random() < 0.5 else ''}\n"
        f"                  {{\"role\": \"user\", \"content\": question}}],\n"
        f"        temperature={rng.randint(0, 10) / 10},\n"
        f"        max_tokens={rng.choice((256, 512, 1024))},\n"
        f"    )\n"
        f"    return response.choices[0].message.content or \"\"\n\n\n"
    )


def _module(rng: random.Random, uses_api: bool) -> str:
    target = rng.randint(2048, 8192)
    parts = [
        f'"""The {rng.choice(WORDS)} {rng.choice(WORDS)} helpers: parsing, checks and the glue between them."""\n\n',
        "from __future__ import annotations\n\nimport logging\nfrom dataclasses import dataclass\nfrom typing import Any\n",
        "\nfrom openai import OpenAI\n" if uses_api else "",
        "\nlogger = logging.getLogger(__name__)\n\n\n",
    ]
    if uses_api:
        parts.append(_api_use(rng))
    size = sum(map(len, parts))
    while size < target:
        part = _class(rng) if rng.random() < 0.3 else _function(rng)
        parts.append(part)
        size += len(part)
    return "".join(parts).rstrip("\n") + "\n"


def _js_function(rng: random.Random, typed: bool) -> str:
    name = "".join((rng.choice(WORDS), rng.choice(WORDS).title()))
    a, b = rng.choice(WORDS), rng.choice(WORDS)
    sig = (f"{a}: Record<string, unknown>, {b}?: number[], retries = {rng.randint(1, 9)}): string[]" if typed
           else f"{a}, {b}, retries = {rng.randint(1, 9)})")
    out = "const out: string[] = [];" if typed else "const out = [];"
    return (
        f"/**\n * Collect the {a} entries that pass the {b} filter, keeping their order.\n"
        f" * A missing {b} list means every entry passes.\n */\n"
        f"export function {name}({sig} {{\n"
        f"  {out}\n"
        f"  for (const [key, value] of Object.entries({a}).sort()) {{\n"
        f"    if ({b} && !{b}.includes(key.length)) continue; // not selected\n"
        f"    if (Array.isArray(value)) {{\n"
        f"      out.push(...value.filter(Boolean).map((v) => String(v).trim()));\n"
        f"    }} else if (value == null) {{\n"
        f"      logger.debug(`skip ${{key}} after ${{retries}} tries`);\n"
        f"    }} else {{\n"
        f"      out.push(`${{key}}=${{JSON.stringify(value).padStart({rng.randint(4, 20)})}}`);\n"
        f"    }}\n"
        f"  }}\n"
        f"  return out.filter((s) => s && !s.startsWith(\"#\"));\n"
        f"}}\n\n"
    )


def _js_class(rng: random.Random, typed: bool) -> str:
    name = _type_name(rng)
    fields = sorted(set(rng.sample(WORDS, 4)))
    decl = "".join(f"  {f}: {rng.choice(('number', 'string', 'number | null', 'string[]'))};\n" for f in fields) if typed else ""
    ctor_args = ", ".join(fields)
    row = "row: unknown[]" if typed else "row"
    return (
        f"/** A {fields[0]} as the {fields[-1]} service stores it. */\n"
        f"export class {name} {{\n{decl}"
        f"  constructor({ctor_args if not typed else ', '.join(f + ': any' for f in fields)}) {{\n"
        + "".join(f"    this.{f} = {f};\n" for f in fields)
        + f"  }}\n\n"
        f"  asObject() {{\n    return {{ {', '.join(f'{f}: this.{f}' for f in fields)} }};\n  }}\n\n"
        f"  static fromRow({row}) {{\n"
        f"    if (row.length !== {len(fields)}) throw new Error(`expected {len(fields)} columns, found ${{row.length}}`);\n"
        f"    return new {name}(...row);\n  }}\n}}\n\n"
    )


def _js_component(rng: random.Random) -> str:
    name = _type_name(rng)
    return (
        f"export function {name}View({{ items, title }}: {{ items: string[]; title: string }}) {{\n"
        f"  return (\n    <section className=\"{rng.choice(WORDS)}\">\n      <h2>{{title}}</h2>\n"
        f"      <ul>\n        {{items.map((item) => (\n          <li key={{item}}>{{item.toUpperCase()}}</li>\n"
        f"        ))}}\n      </ul>\n    </section>\n  );\n}}\n\n"
    )


def _js_api_use(rng: random.Random, typed: bool) -> str:
    var = rng.choice(("client", "openai", "llm"))
    params = "question: string, history: { role: \"user\" | \"assistant\"; content: string }[]" if typed else "question, history"
    return (
        f"const {var} = new OpenAI();\n\n"
        f"export async function ask{rng.choice(WORDS).title()}({params}) {{\n"
        f"  const completion = await {var}.chat.completions.create({{\n"
        f"    model: \"gpt-4o-mini\",\n"
        f"    messages: [\n      {{ role: \"system\", content: \"Answer briefly.\" }},\n"
        f"{'      ...history,' + chr(10) if rng.random() < 0.5 else ''}"
        f"      {{ role: \"user\", content: question }},\n    ],\n"
        f"    temperature: {rng.randint(0, 10) / 10},\n"
        f"    max_tokens: {rng.choice((256, 512, 1024))},\n"
        f"  }});\n"
        f"  return completion.choices[0].message.content ?? \"\";\n}}\n\n"
    )


def _js_module(rng: random.Random, ext: str, uses_api: bool) -> str:
    typed = ext in (".ts", ".tsx")
    target = rng.randint(2048, 8192)
    head = (f"// The {rng.choice(WORDS)} {rng.choice(WORDS)} helpers: parsing, checks and the glue between them.\n"
            + ("const { logger } = require(\"./log\");\n" if ext == ".js" else "import { logger } from \"./log\";\n")
            + (("const OpenAI = require(\"openai\");\n" if ext == ".js" else "import OpenAI from \"openai\";\n") if uses_api else "")
            + "\n")
    parts = [head]
    if uses_api:
        parts.append(_js_api_use(rng, typed))
    size = sum(map(len, parts))
    while size < target:
        r = rng.random()
        part = (_js_component(rng) if ext == ".tsx" and r < 0.25
                else _js_class(rng, typed) if r < 0.5 else _js_function(rng, typed))
        parts.append(part)
        size += len(part)
    return "".join(parts).rstrip("\n") + "\n"


_PROSE = ("The {a} service keeps every {b} it receives until the {c} stage has read it; a {b} that "
          "arrives twice is stored once, and the second copy only updates its timestamp. ",
          "Set `{a}_{b}` in the environment to change where the {c} files go; the default is the "
          "working directory. ",
          "When the {a} queue is full, new {b} requests wait, and a request that waited longer "
          "than the {c} timeout fails with a clear message instead of hanging. ")


def _md_paragraph(rng: random.Random) -> str:
    return "".join(rng.choice(_PROSE).format(a=rng.choice(WORDS), b=rng.choice(WORDS), c=rng.choice(WORDS))
                   for _ in range(rng.randint(2, 5))) + "\n\n"


def _md_block(rng: random.Random) -> str:
    kind = rng.random()
    if kind < 0.35:
        return "```python\n" + _function(rng).rstrip("\n") + "\n```\n\n"
    if kind < 0.6:
        return "```js\n" + _js_function(rng, typed=False).rstrip("\n") + "\n```\n\n"
    if kind < 0.8:
        return (f"```sh\npip install {rng.choice(WORDS)}-{rng.choice(WORDS)}\n"
                f"export {rng.choice(WORDS).upper()}_URL=http://localhost:{rng.randint(2000, 9000)}\n"
                f"python -m {rng.choice(WORDS)}.{rng.choice(WORDS)} --limit {rng.randint(1, 99)} --verbose\n```\n\n")
    keys = rng.sample(WORDS, 4)
    return "```json\n{\n" + ",\n".join(f'  "{k}": {rng.randint(0, 999)}' for k in keys) + "\n}\n```\n\n"


def _md_api_use(rng: random.Random) -> str:
    kind = rng.randrange(3)
    if kind == 0:
        return "```python\nfrom openai import OpenAI\n\n" + _api_use(rng).rstrip("\n") + "\n```\n\n"
    if kind == 1:
        return "```js\nimport OpenAI from \"openai\";\n\n" + _js_api_use(rng, typed=False).rstrip("\n") + "\n```\n\n"
    return (
        "```sh\ncurl https://api.openai.com/v1/chat/completions \\\n"
        "  -H \"Content-Type: application/json\" \\\n"
        "  -H \"Authorization: Bearer $OPENAI_API_KEY\" \\\n"
        "  -d '{\n"
        "    \"model\": \"gpt-4o-mini\",\n"
        "    \"messages\": [\n"
        "      {\"role\": \"system\", \"content\": \"Answer briefly.\"},\n"
        f"      {{\"role\": \"user\", \"content\": \"Which {rng.choice(WORDS)} comes first?\"}}\n"
        "    ],\n"
        f"    \"max_tokens\": {rng.choice((256, 512, 1024))}\n"
        "  }'\n```\n\n"
    )


def _md_document(rng: random.Random, uses_api: bool) -> str:
    target = rng.randint(2048, 8192)
    parts = [f"# The {rng.choice(WORDS)} {rng.choice(WORDS)} guide\n\n", _md_paragraph(rng)]
    if uses_api:
        parts += ["## Asking the model\n\n", _md_paragraph(rng), _md_api_use(rng)]
    size = sum(map(len, parts))
    while size < target:
        r = rng.random()
        part = (f"## {rng.choice(WORDS).title()} {rng.choice(WORDS)}\n\n" if r < 0.15
                else "".join(f"- `{rng.choice(WORDS)}`: the {rng.choice(WORDS)} to use\n" for _ in range(3)) + "\n" if r < 0.3
                else _md_block(rng) if r < 0.55 else _md_paragraph(rng))
        parts.append(part)
        size += len(part)
    return "".join(parts).rstrip("\n") + "\n"


KINDS = (".py",) * 12 + (".js", ".ts", ".mjs", ".tsx", ".ts") + (".md",) * 3
"""Twenty slots: 60% Python, 25% JavaScript/TypeScript, 15% Markdown, interleaved."""


def generate(root: Path, files: int, seed: int, share: float = 0.01) -> dict[str, Any]:
    """A repository of ``files`` files, 100 a directory, ``share`` of each language's calling the API (evenly spread):
    Python packages under src/, JS/TS under web/, Markdown under docs/."""
    rng = random.Random(seed)
    every = round(1 / share)
    counts = {"python": 0, "js/ts": 0, "markdown": 0}
    matching = dict.fromkeys(counts, 0)
    dirs = {"python": "src/pkg", "js/ts": "web/lib", "markdown": "docs/part"}
    total = 0
    for i in range(files):
        ext = KINDS[i % len(KINDS)]
        lang = "python" if ext == ".py" else "markdown" if ext == ".md" else "js/ts"
        n = counts[lang]
        counts[lang] += 1
        uses_api = n % every == every // 2 + (n // every) % 5  # the offset cycles JS/TS through its 5 extensions
        matching[lang] += uses_api
        folder = root / f"{dirs[lang]}_{n // 100:03}"
        if n % 100 == 0:
            folder.mkdir(parents=True)
            if lang == "python":
                (folder / "__init__.py").write_text("")
        if lang == "python":
            text = _module(rng, uses_api)
        elif lang == "markdown":
            text = _md_document(rng, uses_api)
        else:
            text = _js_module(rng, ext, uses_api)
        (folder / f"{'mod' if lang == 'python' else 'page' if lang == 'markdown' else 'unit'}_{n % 100:03}{ext}").write_text(text)
        total += len(text)
    (root / ".gitignore").write_text("build/\n*.egg-info/\nnode_modules/\n")
    return {"files": files, "by_language": counts, "matching": sum(matching.values()),
            "matching_by_language": matching, "bytes": total}


def _timed(cmd: list[str], ok: tuple[int, ...] = (0,)) -> tuple[float, float]:
    """Wall seconds, and CPU seconds of the command and every process it waited for (its pool)."""
    env = child_env()
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(Path(__file__).resolve().parent), env.get("PYTHONPATH")) if p)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, check=False)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode not in ok:
        sys.exit(f"{' '.join(cmd[:4])}… exited {proc.returncode}: {proc.stderr.decode()[-2000:]}")
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def parse_only(code: str, options: Any) -> Any:
    """The least a transform does: parse, and hand the code back.

    ``--transform`` replaces every language's transform, and gets no file name: a file libcst
    rejects (JS/TS, Markdown) is parsed with tree-sitter's TSX grammar instead, so each matching
    file still costs one parse."""
    import libcst

    from migrator.codemod.outcome import Outcome

    try:
        libcst.parse_module(code)
    except libcst.ParserSyntaxError:
        from migrator.codemod.js.grammar import parser

        parser("tsx").parse(code.encode())
    return Outcome(code)


def per_core_rate(root: Path, repeat: int, only: str | None = None) -> tuple[float, float, int]:
    """Matching files a second of one process's CPU: read, screen, parse and transform (the runner's own loop),
    with the real transform and with ``parse_only`` (the floor: what the runner and libcst's parse cost);
    ``only``: the matching files with that suffix (``.py``: libcst's share, the slowest).

    CPU time, not wall time: on a machine shared with other work the wall clock measures the
    neighbours too."""
    from migrator.codemod.files import discover
    from migrator.codemod.outcome import BYTE_MARKER, Options
    from migrator.codemod.runner import run_all

    matching = [c for c in discover([str(root)]).files
                if (only is None or c.path.endswith(only)) and BYTE_MARKER in Path(c.path).read_bytes()]
    rates = []
    for transform in (None, parse_only):
        run_all(matching, Options(), jobs=1, transform=transform)  # warm: imports, caches
        times = []
        for _ in range(repeat):
            start = time.process_time()
            run_all(matching, Options(), jobs=1, transform=transform)
            times.append(time.process_time() - start)
        rates.append(len(matching) / statistics.median(times))
    return rates[0], rates[1], len(matching)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--files", type=int, default=10_000, help="modules in the generated tree (default 10000)")
    p.add_argument("--seed", type=int, default=20260, help="the generator's seed (default 20260)")
    p.add_argument("--jobs", type=int, default=2, help="processes for both contenders (default 2)")
    p.add_argument("--runs", type=int, default=3, help="codemod runs; the median is reported (default 3)")
    p.add_argument("--keep", metavar="DIR", type=Path, help="generate into DIR and keep it")
    add_output_arguments(p, "1,000 files and one run: a smoke test, not a measurement")
    args = p.parse_args(argv)
    if args.quick:
        args.files, args.runs = 1_000, 1
    print(banner())
    with tempfile.TemporaryDirectory(prefix="migrator-bench-codemod-") as tmp:
        root = args.keep or Path(tmp) / "repo"
        if root.exists() and any(root.iterdir()):
            sys.exit(f"{root}: not empty")
        root.mkdir(parents=True, exist_ok=True)
        start = time.perf_counter()
        tree = generate(root, args.files, args.seed)
        print(f"generated {tree['files']:,} files ({tree['bytes'] / 2**20:.1f} MiB, {tree['matching']} call the API; by language {tree['by_language']}, "
              f"calling {tree['matching_by_language']}) "
              f"in {time.perf_counter() - start:.1f} s")
        codemod_cmd = [sys.executable, "-m", "migrator.cli", "codemod", "--check", "--jobs", str(args.jobs), str(root)]
        timed = [_timed(codemod_cmd, ok=(0, 1)) for _ in range(args.runs)]
        runs = [w for w, _ in timed]
        codemod, codemod_cpu = statistics.median(runs), statistics.median(c for _, c in timed)
        print(f"migrator codemod --check --jobs {args.jobs}: {codemod:.2f} s wall (median of {len(runs)}: "
              f"{', '.join(f'{r:.2f}' for r in runs)}), {codemod_cpu:.2f} s CPU")
        floor, floor_cpu = _timed([*codemod_cmd, "--transform", "codemod:parse_only"])
        print(f"the same with a parse-only transform (the runner's floor): {floor:.2f} s wall, {floor_cpu:.2f} s CPU")
        parse_all, parse_all_cpu = _timed([sys.executable, "-c", PARSE_ALL, str(root), str(args.jobs)])
        print(f"every file parsed with its own parser (libcst, tree-sitter, Markdown's blocks), {args.jobs} processes: {parse_all:.2f} s wall, {parse_all_cpu:.2f} s CPU")
        rate, floor_rate, matching = per_core_rate(root, repeat=args.runs)
        py_rate, py_floor_rate, py_matching = per_core_rate(root, repeat=args.runs, only=".py")
    speedup = parse_all / codemod
    end_to_end = matching / codemod / args.jobs
    print(f"ratio: {speedup:.1f}x faster than parsing everything (wall); {parse_all_cpu / codemod_cpu:.1f}x in CPU time; "
          f"with the parse-only transform {parse_all / floor:.1f}x (wall), {parse_all_cpu / floor_cpu:.1f}x (CPU)")
    print(f"matching files per second per core: {rate:.0f} (one process's CPU, the runner on the {matching} matching files); "
          f"{floor_rate:.0f} with a parse-only transform (the floor); whole command: {end_to_end:.0f} "
          f"(matching files / wall / {args.jobs} processes, interpreter start included)")
    print(f"the {py_matching} matching Python files alone: {py_rate:.0f} a second per core; {py_floor_rate:.0f} with the "
          f"parse-only transform (libcst's parse: the ceiling however little the rules cost)")
    targets = [
        Target.judged("codemod vs parse-everything", ">= 20x", speedup, lambda v: v >= 20),
        Target.judged("matching files / s / core", ">= 100", rate, lambda v: v >= 100, unit="files/s"),
    ]
    print("\ntargets:")
    print_targets(targets, (28, 8), spec={"x": ".1f", "files/s": ".0f"})
    doc = {
        "environment": environment(["libcst", "pathspec", "tree-sitter", "tree-sitter-javascript", "tree-sitter-typescript"], jobs=args.jobs),
        "tree": tree | {"seed": args.seed},
        "codemod_check_s": codemod,
        "codemod_check_runs_s": runs,
        "codemod_check_cpu_s": codemod_cpu,
        "parse_only_transform_s": floor,
        "parse_only_transform_cpu_s": floor_cpu,
        "parse_all_s": parse_all,
        "parse_all_cpu_s": parse_all_cpu,
        "ratio_cpu": parse_all_cpu / codemod_cpu,
        "ratio": speedup,
        "matching_files_per_s_per_core": rate,
        "matching_files_per_s_per_core_parse_only": floor_rate,
        "matching_files_per_s_per_process_end_to_end": end_to_end,
        "python_matching_files_per_s_per_core": py_rate,
        "python_matching_files_per_s_per_core_parse_only": py_floor_rate,
        "targets": [t.__dict__ for t in targets],
        "command": [*codemod_cmd[1:-1], "<tree>"],
    }
    return finish(targets, doc, args.json, args.strict)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    sys.exit(main())
