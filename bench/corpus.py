"""Run ``migrator codemod`` over real public repositories and check what issues #9 and #11 promise.

The corpus is not in this repository: each tree in ``CORPUS`` (default ``/work/corpus``, or
``$MIGRATOR_CORPUS``) is one public repository exported whole at the commit in ``REPOS``, in a
folder named ``owner+name``. ``MANIFEST.json`` beside the trees lists, per repository, the call
sites a plain grep finds in Python, notebooks, JavaScript/TypeScript, shell scripts/Makefiles and
documents (Markdown/MDX/rST); ``--make-manifest`` rebuilds it from the trees. Where a hit sits
decides whether the report must name it (bench/corpus_langs.py reads the non-Python kinds with
tree-sitter, a quote-aware shell scan and a fence scan, not with the codemod's own code): code and
strings, and code blocks in a language the codemod reads; not comments, docstrings, TypeScript
type positions and imports, prose or other blocks. A ``Repo`` may name files whose hits a correct
codemod leaves unreported (``left``: an SDK's or a gateway's own implementation), with why.

For every repository the script runs, from a scratch cwd (paths must work from anywhere):

1. ``migrator codemod --check --report R.json TREE``: the report must account for every expected
   grep site (same file and line, or the same statement: a report may anchor a multi-line call at
   its first line, a JS URL held in a name at the post that reads the name, a document's site
   anywhere in its code block); a site in a file the report names as an error counts as accounted for;
2. on a copy, ``--write`` twice: every changed file that parsed before still parses (``ast`` for
   Python and notebook cells; tree-sitter for .js/.ts/.tsx and ``node --check`` for .js/.mjs/.cjs;
   ``bash -n`` for .sh/.bash; a document keeps its block outline and each changed block parses
   by its language), no comment of a changed file (or document block) is lost or moved onto other
   code, a changed file always has a grep site (a file that does not use the API stays
   byte-identical; a changed document, shell script or JS/TS file must be named by the report),
   and the second run changes no byte;
3. ``--check`` exits 1 exactly when ``--write`` changed something (2 when the run had errors).

It prints one row per repository and the totals. Without ``--strict`` it always exits 0 (like
the other benches): it measures, it does not gate. ``--strict`` exits 1 when a check fails.

    python bench/corpus.py                      # all repositories
    python bench/corpus.py --only openai+swarm  # one of them
    python bench/corpus.py --json corpus.json   # also every number and every unaccounted site
    python bench/corpus.py --keep /tmp/cm       # keep the reports and the written copies to read
    python bench/corpus.py --tree ../other      # run another work tree's migrator
    python bench/corpus.py --make-manifest      # re-grep the trees into MANIFEST.json
"""

from __future__ import annotations

import argparse
import ast
import fnmatch
import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import tokenize
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import corpus_langs as langs

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CORPUS = Path(os.environ.get("MIGRATOR_CORPUS", "/work/corpus"))


@dataclass(frozen=True)
class Repo:
    name: str
    commit: str
    kind: str
    left: tuple[tuple[str, str], ...] = ()
    """``(glob, why)``: grep hits in these files are ones a correct codemod leaves without a report
    entry (an SDK's own implementation of the API, say); the manifest keeps them, marked, not expected."""

    @property
    def folder(self) -> str:
        return self.name.replace("/", "+")


REPOS: tuple[Repo, ...] = (
    Repo("openai/swarm", "6af0b4caf37dca4526dfd98e9fbd8ce36e7eeb22",
         "agent framework: create(**create_params) with stream, tool loops; tests with a MagicMock client and hand-built ChatCompletion fixtures"),
    Repo("openai/openai-agents-python", "7f7a44f8dc0650296bd5ab6c745c9bcbaa6ac3b7",
         "agent SDK partly on the Responses API: a Chat Completions model class next to the Responses one, fake-client tests, a notebook"),
    Repo("mem0ai/mem0", "8d5b7865bd0521e75fe9ab1b260eeccc83f8a378",
         "memory library: one LLM class per provider on OpenAI-compatible base_urls from config (DeepSeek, LM Studio, vLLM, OpenRouter, xAI…), create(**params), tests mocking the client, notebooks"),
    Repo("simonw/llm", "f3f4f29c6e5e623c3776cbf6455dda2345638214",
         "CLI app already moved to the Responses API with a Chat Completions fallback; tests mock /chat/completions over HTTP (pytest-httpx)"),
    Repo("khoj-ai/khoj", "ae229ca894c0b80ad84664afcfdde523b5e87057",
         "self-hosted app: responses.create for OpenAI next to chat.completions for other providers (base_url from settings)"),
    Repo("Azure-Samples/openai-chat-app-quickstart", "af687e98968644971b12dfc6704fd36bfacbea47",
         "Azure sample (Quart) already migrated to responses.stream: must stay byte-identical"),
    Repo("Azure-Samples/rag-postgres-openai-python", "007bb76bf9452e959487d7c175ee19c1100f787f",
         "Azure FastAPI RAG sample already on the Responses API (Azure/Ollama/GitHub Models switch): must stay byte-identical"),
    Repo("Azure-Samples/openai-chat-backend-fastapi", "afe0e611276ae3e5ccfff01bdb07d73aee37cb9a",
         "Azure FastAPI service: AsyncAzureOpenAI with a token provider kept in a dict, an un-awaited create awaited later, an NDJSON stream of model_dump() deltas, tests monkeypatching openai.resources.chat.AsyncCompletions.create"),
    Repo("tdiprima/azure-templates", "56ce7c2e44865b38678af8a623c689d447bf9551",
         "Azure script templates: AzureOpenAI with azure_ad_token_provider or a key, resp.choices[0].message.content, a RAG query"),
    Repo("pamelafox/python-openai-demos", "aa630c39e16664f882e9be3970019886ee9d54f7",
         "teaching scripts: each builds its client from API_HOST (Azure, GitHub Models, Ollama, OpenAI); streaming, tools, beta.chat.completions.parse"),
    Repo("DataTalksClub/llm-zoomcamp", "c85fa440791efd6c902f7f30ccedaae4483e3f9e",
         "course notebooks (.ipynb) and scripts, some cohorts already on responses.create"),
    Repo("ultrasev/llmproxy", "7c292f31b8826be59e3ca390b67dfdda01becd30",
         "FastAPI proxy service: an AsyncClient per request (OpenAI, Groq base_url) returning the completion whole; tests against a worker base_url"),
    Repo("mharrisb1/openai-responses-python", "f436181ef7d58365a1f088abb79bd2878e2bd75e",
         "test-mocking library for the openai SDK: examples and tests that mock chat.completions.create"),
    Repo("Vitor-Roma/gpt-chat-bot", "e1e266eb981a7a14507259efb5f7842bbe221188",
         "small app whose test patches 'openai.resources.chat.completions.Completions.create'"),
    Repo("glourenc0/ETLproject", "7d4b93ec2a59426115156797173672e76c29f088",
         "scripts: raw requests.post to api.openai.com/v1/chat/completions, reads json()['choices'][0]; a folder named exemplos.py/"),
    Repo("chyngyz-kydraliev/raffleAIChatBotDemo", "74d1dcd3014a93e019f2f7d0db693f9bd0cb2767",
         "Django app: raw aiohttp request to /v1/chat/completions"),
    Repo("XCV0/TelegramWeatherBot", "88daea190d1ce0d4f12f7bcb0dd065d13ef54be8",
         "bot: a module left with merge-conflict markers (does not parse) holding raw requests to /chat/completions and legacy openai.ChatCompletion.create; a local package named openai/"),
    Repo("yogeshkd786/openairouter", "0a75279fa4d2076fa5f32b27dbd4e7ec04ced953",
         "script on OpenRouter: OpenAI(base_url='https://openrouter.ai/api/v1'), extra_headers"),
    Repo("mir-akbar/go_marble_asses", "36d9e15ad7710f214dccce9fd48b67f7a4229701",
         "app with a committed Windows virtualenv (venv/Lib/site-packages holds the openai SDK) and a .gitignore whose \"venv/\" is quoted; own code uses only legacy openai.Completion"),
    # JavaScript / TypeScript, shell and documents (issue #11)
    Repo("openai/openai-node", "7b7d6ca71130d37ec09792c50056b47861f2eccf",
         "the SDK itself: examples/ (create, stream loops, tools, zod parse, Azure) and README/api.md in TS blocks; "
         "src/ is the API's own implementation and must be left alone",
         left=(("src/**", "the SDK's own implementation of chat.completions (its path, classes and helpers), not a call to it"),
               ("tests/**", "the SDK's own tests of chat.completions: they test the API being migrated from"),
               ("ecosystem-tests/**", "ecosystem-tests/ build the SDK against bundlers; their calls are fixtures of the SDK repo"),
               ("oxlint.config.ts", "the lint config lists SDK file names (src/lib/ChatCompletion*.ts) as strings"),)),
    Repo("Portkey-AI/gateway", "669825cbe89ee51569918b8f78a9db486fd69dd4",
         "AI gateway (TS, Hono): one provider module per upstream naming /chat/completions in URL builders; "
         "README, docs and cookbook notebooks with cURL, openai-node and Python examples",
         left=(("src/**", "the gateway serves /chat/completions and builds each upstream's URL: its routes and path "
                          "builders are the API's server side, not calls to it"),
               ("tests/**", "the gateway's own tests: request URLs and routes it is given, not calls it makes"))),
    Repo("TheArchitectit/plexus", "9917732269dbb6d9bfeb9c10f0aefa1711c28961",
         "LLM router (Bun/TS backend, React .tsx frontend): chat-completions route and transformers, docs/API.md with cURL, "
         "a release script that fetches ${apiBase}/chat/completions",
         left=(("packages/backend/**", "the router's server side: it serves /v1/chat/completions (routes, transformers, "
                                       "their tests injecting requests), it does not call it"),)),
    Repo("lmstudio-ai/docs", "c6854fba2575bf21e07702ee210e1bed09e7c577",
         "docs site (.md/.mdx): OpenAI-compatible endpoint pages with cURL, Python and TS tabs, JSON response examples"),
    Repo("anse-app/chatgpt-demo", "03b47a79d901325a812a03a5d6b12049a6005a6c",
         "Astro app: raw fetch to `${baseUrl}/v1/chat/completions` with a streamed SSE body parsed by hand"),
    Repo("andr04762/praxis", "9f3f2026820c46b2d7e37bcf2f41b209591ccce3",
         "Next.js app route (route.ts): openai-node stream piped into a ReadableStream via chunk.choices[0]?.delta?.content"),
    Repo("jacobpradels/thelandscapeai", "7de9ffa18caccf8cd6bd2d7eeecf34d0320c8461",
         "Next.js app (.tsx pages, route.ts): openai-node stream accumulated in a for-await loop, a lib with another client"),
    Repo("gregclinton/peeps", "670a483f3a6fae9dc94a8f25a922d28c2eb6a10a",
         "browser JS: fetch to proxied /openai/v1/chat/completions and /mistral/v1/chat/completions with a messages variable"),
    Repo("sakkuntyo/test-nodejs-gpt35", "b6b02e69adff88a876bb177b3b24852f79396682",
         "one-file CLI script (.mjs, top-level await): axios.post to api.openai.com with the body in a variable"),
    Repo("iamslash/openai-ex", "3f07fdc896b4a52c9826e5ac868686cea9a57da6",
         "API examples: a shell script of cURL (quote-spliced auth header) piped to jq, beside Python examples"),
    Repo("laonger/chatbot", "3d38282f825a25919e5f3867ec2e4a0ec3f1d9be",
         "small bot: test.sh with a cURL chat request (single-quoted JSON body)"),
    Repo("ECMWFCode4Earth/EarthReach", "bef0daf9617f98443ba4cc39d113915ef099f377",
         "Python LLM wrapper (base_url per provider: Groq, OpenAI) and a vLLM test.sh whose single-quoted JSON "
         "holds a literal ${MODEL_NAME} and a tab-indented key (localhost: left unless --responses-host)"),
)

# What the manifest greps for: the call, the parse helper, the REST path, the result types.
PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("chat.completions.create", re.compile(r"chat\.completions\.create")),
    (".chat.completions.parse", re.compile(r"\.chat\.completions\.parse")),
    ("/chat/completions", re.compile(r"/chat/completions")),
    ("ChatCompletion", re.compile(r"ChatCompletion")),
    # mock.patch / monkeypatch targets and imports of the old resource classes
    ("openai.resources.chat", re.compile(r"openai\.resources\.chat\b")),
)

# Where a site is expected in the report: code and string literals (a URL, a mock.patch target),
# and anything in a file that does not parse (the report must name that file as an error).
# A mention in a comment, a docstring or a markdown cell is not a call site. In a document, a hit in
# a code block of a language the codemod reads is expected (the report names it inside the block);
# prose and other blocks are not. A TS type or an import path is no call site either.
EXPECTED_CONTEXTS = frozenset(("code", "string", "unparsed", "block"))

# Folders a repository walker skips by default (ruff's list, trimmed to what can hold Python).
SKIPPED_DIRS = frozenset((
    ".git", ".hg", ".svn", ".venv", "venv", ".tox", ".nox", "site-packages", "build", "dist", "node_modules",
    "__pycache__", ".mypy_cache", ".pytest_cache", ".ruff_cache", ".eggs", ".ipynb_checkpoints", "__pypackages__",
    ".vscode", "_build",
))


# --------------------------------------------------------------------------- #
# The manifest: what a plain grep finds
# --------------------------------------------------------------------------- #


def source_files(root: Path) -> Iterator[Path]:
    """Every file of a kind the codemod reads (Python, notebooks, JS/TS, shell, documents), symlinks
    not followed, in a stable order."""
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d != ".git")
        for name in sorted(filenames):
            path = Path(dirpath) / name
            if langs.kind_of(path) is not None and not path.is_symlink():
                yield path


def skip_reason(root: Path, rel: Path, ignore: Any) -> str | None:
    """Why a default repository walk would not look at this file (None: it would)."""
    for depth, part in enumerate(rel.parts[:-1]):
        if part in SKIPPED_DIRS or part.endswith(".egg-info"):
            return f"default-excluded folder {part}/"
        if (root.joinpath(*rel.parts[: depth + 1]) / "pyvenv.cfg").exists():
            return f"virtualenv {'/'.join(rel.parts[: depth + 1])}/"
    if ignore is not None and ignore(rel):
        return ".gitignore"
    if b"@generated" in (root / rel).read_bytes():
        return "@generated"
    return None


def gitignore_matcher(root: Path) -> Any:
    """A predicate for paths the tree's .gitignore files exclude, or None without pathspec."""
    try:
        import pathspec
    except ImportError:
        return None
    specs: list[tuple[Path, Any]] = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if d != ".git"]
        if ".gitignore" in filenames:
            lines = (Path(dirpath) / ".gitignore").read_text(encoding="utf-8", errors="replace").splitlines()
            specs.append((Path(dirpath).relative_to(root), pathspec.GitIgnoreSpec.from_lines(lines)))

    def ignored(rel: Path) -> bool:
        for base, spec in specs:
            if base == Path(".") or rel.is_relative_to(base):
                sub = rel.relative_to(base) if base != Path(".") else rel
                if spec.match_file(sub.as_posix()):
                    return True
        return False

    return ignored


def masked_cell(source: str) -> str:
    """A code cell with IPython magics and shell lines blanked, so that tokenize and ast can read it."""
    lines = source.splitlines(keepends=True)
    out = []
    for line in lines:
        stripped = line.lstrip()
        if stripped.startswith(("%", "!")):
            out.append(" " * (len(line) - len(line.lstrip())) + "pass" + ("\n" if line.endswith("\n") else ""))
        else:
            out.append(line)
    return "".join(out)


def docstring_lines(tree: ast.AST) -> set[int]:
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
            lines.update(range(node.lineno, (node.end_lineno or node.lineno) + 1))
    return lines


def token_contexts(text: str) -> dict[int, list[tuple[int, int, str]]] | None:
    """Per line, the column spans of comments, docstrings and other strings; None: not Python."""
    try:
        tree = ast.parse(text)
        tokens = list(tokenize.generate_tokens(io.StringIO(text).readline))
    except (SyntaxError, tokenize.TokenError, ValueError):
        return None
    docs = docstring_lines(tree)
    spans: dict[int, list[tuple[int, int, str]]] = {}
    for tok in tokens:
        if tok.type not in (tokenize.COMMENT, tokenize.STRING):
            continue
        kind = "comment" if tok.type == tokenize.COMMENT else ("docstring" if tok.start[0] in docs else "string")
        (l0, c0), (l1, c1) = tok.start, tok.end
        for line in range(l0, l1 + 1):
            spans.setdefault(line, []).append((c0 if line == l0 else 0, c1 if line == l1 else sys.maxsize, kind))
    return spans


CONTEXT_RANK = {"code": 0, "string": 1, "block": 2, "docstring": 3, "comment": 4, "type": 5, "other block": 6,
                "prose": 7, "markdown": 8, "unparsed": 9}


def grep_text(text: str, contexts_of: Any = None, default: str = "code") -> Iterator[tuple[int, list[str], str, str]]:
    """(line, patterns, context, line text) for each line with a match; ``contexts_of(text)`` gives the
    per-line spans (Python's tokens by default; None: the text does not parse), ``default`` the kind
    of a column no span covers."""
    contexts: dict[int, list[tuple[int, int, str]]] | None = None
    looked = False
    for number, line in enumerate(text.splitlines(), 1):
        hits = [(name, m.start()) for name, rx in PATTERNS for m in rx.finditer(line)]
        if not hits:
            continue
        if not looked:
            contexts, looked = (contexts_of or token_contexts)(text), True
        if contexts is None:
            kinds = ["unparsed"]
        else:
            spans = contexts.get(number, [])
            kinds = [next((k for c0, c1, k in spans if c0 <= col < c1), default) for _, col in hits]
        best = min(kinds, key=CONTEXT_RANK.__getitem__)
        yield number, sorted({name for name, _ in hits}), best, line.strip()[:160]


def _parses(text: str) -> bool:
    try:
        ast.parse(text)
    except (SyntaxError, ValueError):
        return False
    return True


def read_python(path: Path) -> str | None:
    """Source text with its declared encoding (PEP 263, BOM), None when it cannot be decoded."""
    try:
        with path.open("rb") as f:
            encoding, _ = tokenize.detect_encoding(f.readline)
        return path.read_bytes().decode(encoding)
    except (SyntaxError, UnicodeDecodeError, LookupError):
        return None


def notebook_cells(path: Path) -> list[tuple[int, str, str]] | None:
    """(index, cell type, source) of every cell, None when the file is not a notebook."""
    try:
        nb = json.loads(path.read_bytes())
        cells = nb["cells"]
    except (ValueError, KeyError, TypeError):
        return None
    out = []
    for index, cell in enumerate(cells):
        source = cell.get("source", "")
        out.append((index, str(cell.get("cell_type", "")), "".join(source) if isinstance(source, list) else str(source)))
    return out


def json_line_of(raw_lines: list[str], start: int, line_text: str) -> tuple[int | None, int]:
    """The 1-based line of the notebook's JSON that holds this source line, searching from ``start``."""
    needle = json.dumps(line_text)[1:-1]
    for i in range(start, len(raw_lines)):
        if needle and needle in raw_lines[i]:
            return i + 1, i + 1
    return None, start


def grep_file(root: Path, path: Path) -> list[dict[str, Any]]:
    rel = path.relative_to(root).as_posix()
    kind = langs.kind_of(path)
    if kind in ("js", "shell", "docs"):
        text = langs.read_text(path)
        if kind == "js":
            found = grep_text(text, lambda t: langs.js_contexts(t, path.suffix))
        elif kind == "shell":
            found = grep_text(text, langs.shell_comment_spans)
        else:
            found = grep_text(text, lambda t: langs.doc_contexts(t, path.suffix == ".rst")[0], default="prose")
        return [{"file": rel, "line": n, "patterns": pats, "context": ctx, "text": t} for n, pats, ctx, t in found]
    if path.suffix == ".py":
        text = read_python(path)
        if text is None:
            text = path.read_bytes().decode("utf-8", errors="replace")
        return [{"file": rel, "line": n, "patterns": pats, "context": ctx, "text": t} for n, pats, ctx, t in grep_text(text)]
    cells = notebook_cells(path)
    if cells is None:
        return []
    raw_lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    sites = []
    cursor = 0
    for index, cell_type, source in cells:
        if not any(rx.search(source) for _, rx in PATTERNS):
            continue
        if cell_type == "code":
            found: Iterable[tuple[int, list[str], str, str]] = grep_text(masked_cell(source))
        else:
            found = ((n, sorted({name for name, rx in PATTERNS if rx.search(line)}), "markdown", line.strip()[:160])
                     for n, line in enumerate(source.splitlines(), 1) if any(rx.search(line) for _, rx in PATTERNS))
        src_lines = source.splitlines()
        for n, pats, ctx, text in found:
            json_line, cursor = json_line_of(raw_lines, cursor, src_lines[n - 1])
            sites.append({"file": rel, "cell": index, "line": n, "json_line": json_line, "patterns": pats, "context": ctx,
                          "text": text})
    return sites


def build_manifest(corpus: Path, repos: Iterable[Repo]) -> dict[str, Any]:
    entries = []
    for repo in repos:
        root = corpus / repo.folder
        if not root.is_dir():
            print(f"{repo.folder}: not in {corpus}, left out of the manifest", file=sys.stderr)
            continue
        ignore = gitignore_matcher(root)
        counts: Counter[str] = Counter()
        visited: Counter[str] = Counter()
        sites: list[dict[str, Any]] = []
        for path in source_files(root):
            kind = langs.kind_of(path) or "?"
            counts[kind] += 1
            rel = path.relative_to(root)
            reason = skip_reason(root, rel, ignore)
            if reason is None:
                visited[kind] += 1
            left = next((why for pattern, why in repo.left if fnmatch.fnmatchcase(rel.as_posix(), pattern)), None)
            for site in grep_file(root, path):
                cell = f"[cell {site['cell']}]" if "cell" in site else ""
                site = {"at": f"{site['file']}{cell}:{site['line']}", **site}
                if reason:
                    site["skipped_by_walker"] = reason
                if left:
                    site["left_by_design"] = left
                sites.append(site)
        expected = [s for s in sites if is_expected(s)]
        entries.append({
            "name": repo.name, "folder": repo.folder, "commit": repo.commit, "kind": repo.kind,
            "files": {k: counts[k] for k in KINDS},
            "files_visited": {k: visited[k] for k in KINDS},
            "site_count": len(sites), "expected_site_count": len(expected),
            "sites_by_context": dict(Counter(s["context"] for s in sites)),
            "sites_by_pattern": dict(Counter(p for s in sites for p in s["patterns"])),
            "sites": sites,
        })
    return {
        "about": ("Call sites a plain grep finds in each repository of the corpus (one entry per file:line; "
                  "notebooks: cell index, line within the cell, and the line of the .ipynb JSON). "
                  "context says where the match is (code, string, docstring, comment, markdown, unparsed; JS/TS: type for a "
                  "type position or an import; documents: block for a code block in a language the codemod reads, other block, prose); "
                  "skipped_by_walker marks files a default repository walk does not visit (files_visited counts the others); "
                  "left_by_design marks files the corpus entry names as ones a correct codemod leaves unreported, with why. "
                  "expected_site_count: code, string, block and unparsed-file sites in visited files, those the codemod's report must account for. "
                  "Built by bench/corpus.py --make-manifest."),
        "patterns": [name for name, _ in PATTERNS],
        "repos": entries,
    }


KINDS = ("py", "ipynb", "js", "shell", "docs")


def is_expected(site: dict[str, Any]) -> bool:
    return site["context"] in EXPECTED_CONTEXTS and "skipped_by_walker" not in site and "left_by_design" not in site


# --------------------------------------------------------------------------- #
# Running the codemod
# --------------------------------------------------------------------------- #


MIGRATOR_TREE = REPO_ROOT
"""The source tree whose ``migrator`` is run (``--tree``; default: the one this script sits in)."""


def codemod_command(*args: str) -> list[str]:
    return [sys.executable, "-c", "import sys; from migrator.cli import main; sys.exit(main())", "codemod", *args]


def child_env() -> dict[str, str]:
    """That tree's migrator first on the path, whatever is installed."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(MIGRATOR_TREE), env.get("PYTHONPATH", "")) if p)
    env.setdefault("NO_COLOR", "1")
    return env


@dataclass
class Run:
    exit: int
    seconds: float
    stderr: str
    report: Any


def run_codemod(mode: str, tree: Path, report: Path, jobs: int, cwd: Path) -> Run:
    start = time.perf_counter()
    proc = subprocess.run(codemod_command(mode, "--jobs", str(jobs), "--report", str(report), str(tree)),
                          cwd=cwd, env=child_env(), capture_output=True, text=True, errors="replace")
    seconds = time.perf_counter() - start
    data: Any = None
    if report.exists():
        try:
            data = json.loads(report.read_text(encoding="utf-8"))
        except ValueError as exc:
            data = {"unreadable": str(exc)}
    return Run(proc.returncode, seconds, proc.stderr, data)


def codemod_available() -> str | None:
    """None when ``migrator codemod`` runs here, else why not (first lines of its error)."""
    # not from this cwd: ``python -c`` puts the cwd first on sys.path, before --tree
    proc = subprocess.run(codemod_command("--help"), cwd=tempfile.gettempdir(), env=child_env(), capture_output=True, text=True,
                          errors="replace")
    if proc.returncode == 0:
        return None
    return " ".join((proc.stderr or proc.stdout).strip().splitlines()[-2:])


@dataclass(frozen=True)
class ReportSite:
    file: str | None
    line: int | None
    cell: int | None
    verdict: str


@dataclass
class Report:
    sites: list[ReportSite] = field(default_factory=list)
    errors: set[tuple[str, int | None]] = field(default_factory=set)
    """(file, notebook cell or None for the whole file) of each error the report lists."""

    @property
    def error_files(self) -> set[str]:
        return {file for file, _ in self.errors}


FILE_KEYS = ("file", "path", "filename")


def read_report(data: Any, tree: Path, cwd: Path) -> Report:
    """Sites and failed files of a ``--report`` document, whatever its nesting.

    The report format belongs to the CLI (issue #9 fixes its fields: file, line, column, rule,
    verdict, …); this reader only assumes that a site is an object with a ``line`` and a
    ``verdict`` (its file given on it or on an enclosing object) and that failed files sit in a
    list under a key named ``errors`` (with a ``cell`` when one notebook cell failed).
    """
    report = Report()

    def walk(node: Any, file: str | None, in_errors: bool) -> None:
        if isinstance(node, dict):
            here = next((node[k] for k in FILE_KEYS if isinstance(node.get(k), str)), file)
            if in_errors and here is not None:
                path, cell = normalise(here, tree, cwd)
                cell = node["cell"] if isinstance(node.get("cell"), int) else cell
                report.errors.add((path, cell))
            if "verdict" in node and ("line" in node or "lineno" in node):
                path, cell = normalise(here, tree, cwd) if here is not None else (None, None)
                line = node.get("line", node.get("lineno"))
                cell = node.get("cell", cell) if isinstance(node.get("cell", cell), int) else cell
                report.sites.append(ReportSite(path, line if isinstance(line, int) else None, cell, str(node["verdict"])))
            for key, value in node.items():
                walk(value, here, in_errors or key == "errors")
        elif isinstance(node, list):
            for value in node:
                walk(value, file, in_errors)

    walk(data, None, False)
    return report


def normalise(name: str, tree: Path, cwd: Path) -> tuple[str, int | None]:
    """A report's file name as a path relative to the tree (posix), and a notebook cell if it names one."""
    cell = None
    m = re.match(r"(.*?\.ipynb)\W*(?:cell\W*)?(\d+)?$", name)
    if m:
        name = m.group(1)
        cell = int(m.group(2)) if m.group(2) else None
    path = Path(name)
    for candidate in ((path,) if path.is_absolute() else (cwd / path, tree / path)):
        try:
            return candidate.resolve().relative_to(tree.resolve()).as_posix(), cell
        except ValueError:
            continue
    return path.as_posix(), cell


def statement_lines(text: str) -> dict[int, range]:
    """For each line, the lines of the smallest simple statement (or compound header) holding it."""
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError):
        return {}
    spans: dict[int, range] = {}
    for node in ast.walk(tree):
        if not isinstance(node, ast.stmt):
            continue
        end = node.end_lineno or node.lineno
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.stmt):
            end = max(node.lineno, body[0].lineno - 1)
        span = range(node.lineno, end + 1)
        for line in span:
            if line not in spans or len(span) < len(spans[line]):
                spans[line] = span
    return spans


def site_spans(path: Path) -> dict[int, range | set[int]]:
    """Per line, the lines a report may anchor a site on that line at: its statement (for a URL held
    in a JS name, also the statements that read the name), or its document block."""
    kind = langs.kind_of(path)
    if kind == "js":
        text = langs.read_text(path)
        spans: dict[int, range | set[int]] = dict(langs.js_statement_lines(text, path.suffix))
        for line, uses in langs.js_held_lines(text, path.suffix).items():
            spans[line] = set(spans.get(line, range(line, line + 1))) | uses
        return spans
    if kind == "docs":
        return langs.doc_contexts(langs.read_text(path), path.suffix == ".rst")[1]
    if kind == "shell":
        return shell_command_lines(langs.read_text(path))
    text = read_python(path)
    return statement_lines(text) if text is not None else {}


def shell_command_lines(text: str) -> dict[int, range]:
    """A command continued with ``\\`` or inside an open quote spans its lines (a cURL call and its -d body)."""
    spans: dict[int, range] = {}
    lines = text.splitlines()
    start = 0
    quote = ""
    for i, line in enumerate(lines):
        for ch in re.sub(r"\\.", "", line):
            if quote and ch == quote:
                quote = ""
            elif not quote and ch in "'\"":
                quote = ch
        if quote or line.rstrip().endswith("\\"):
            continue
        for n in range(start, i + 1):
            spans[n + 1] = range(start + 1, i + 2)
        start = i + 1
    return spans


def account(sites: list[dict[str, Any]], report: Report, tree: Path) -> tuple[list[dict[str, Any]], int]:
    """The expected sites the report does not account for, and how many it accounts for by a file error."""
    by_file: dict[str, list[ReportSite]] = {}
    for rs in report.sites:
        if rs.file is not None:
            by_file.setdefault(rs.file, []).append(rs)
    missing = []
    by_error = 0
    statements: dict[str, dict[int, range | set[int]]] = {}
    for site in sites:
        if not is_expected(site):
            continue
        file = site["file"]
        if (file, None) in report.errors or (file, site.get("cell", -1)) in report.errors:
            by_error += 1
            continue
        candidates = by_file.get(file, [])
        if "cell" in site:
            lines = {site["line"], site.get("json_line")}
            ok = any(rs.line in lines and rs.cell in (None, site["cell"]) for rs in candidates)
        else:
            if file not in statements:
                statements[file] = site_spans(tree / file)
            span = statements[file].get(site["line"], range(site["line"], site["line"] + 1))
            ok = any(rs.line in span for rs in candidates)
        if not ok:
            missing.append(site)
    return missing, by_error


# --------------------------------------------------------------------------- #
# Checks on the written copy
# --------------------------------------------------------------------------- #


def snapshot(root: Path) -> dict[str, str]:
    """Relative path -> sha256 of every file (symlinks by their target), to tell what a run changed."""
    out = {}
    for dirpath, _dirnames, filenames in os.walk(root):
        for name in filenames:
            path = Path(dirpath) / name
            rel = path.relative_to(root).as_posix()
            data = os.readlink(path).encode() if path.is_symlink() else path.read_bytes()
            out[rel] = hashlib.sha256(data).hexdigest()
    return out


def changed(before: dict[str, str], after: dict[str, str]) -> list[str]:
    return sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))


@dataclass(frozen=True)
class Change:
    """One changed file (or notebook code cell): how it read before and after (None: unreadable)."""
    label: str
    old: str | None
    new: str | None
    suffix: str = ".py"
    """Decides the parser and the comment reader (``.py`` also for a notebook cell)."""
    where: Path | None = None
    """The written file's folder, for ``node --check`` (package.json's "type" decides the module kind)."""


def changed_sources(original: Path, written: Path, files: list[str]) -> Iterator[Change]:
    """Each changed source file and each changed notebook code cell (magics masked)."""
    for rel in files:
        kind = langs.kind_of(Path(rel))
        if kind in ("js", "shell", "docs"):
            old, new = original / rel, written / rel
            yield Change(rel, langs.read_text(old) if old.exists() else None, langs.read_text(new) if new.exists() else None,
                         ".sh" if kind == "shell" and Path(rel).suffix not in (".sh", ".bash") else Path(rel).suffix, new.parent)
        elif rel.endswith(".py"):
            yield Change(rel, read_python(original / rel), read_python(written / rel))
        elif rel.endswith(".ipynb"):
            old_cells, new_cells = notebook_cells(original / rel), notebook_cells(written / rel)
            if new_cells is None:
                yield Change(f"{rel} (not a notebook any more)", "", None)
                continue
            before = {i: s for i, t, s in old_cells or [] if t == "code"}
            for index, cell_type, source in new_cells:
                if cell_type == "code" and before.get(index) != source:
                    yield Change(f"{rel} cell {index}", masked_cell(before.get(index, "")), masked_cell(source))


def parse_problems(change: Change, ran: Counter[str]) -> list[str]:
    """What no longer parses in a change that parsed before: the tree-sitter grammar, ``node --check``
    (plain JavaScript), ``bash -n`` (shell), the block outline and each block by its language
    (documents), ``ast`` (Python). ``ran`` counts the checks made, by checker."""
    old, new, suffix = change.old, change.new, change.suffix
    if old is None:
        return []
    if new is None:
        return [f"{change.label}: unreadable after the write"]
    if suffix in langs.JS_SUFFIXES:
        found = []
        ran["tree-sitter"] += 1
        if langs.js_parses(old, suffix) and not langs.js_parses(new, suffix):
            found.append(f"{change.label}: tree-sitter ({langs.JS_SUFFIXES[suffix]}) finds an error")
        if suffix in langs.NODE_CHECKED and change.where is not None and langs.node_checks(old, suffix, change.where):
            ran["node --check"] += 1
            if langs.node_checks(new, suffix, change.where) is False:
                found.append(f"{change.label}: node --check fails")
        return found
    if suffix in (".sh", ".bash"):
        ran["bash -n"] += 1
        return [f"{change.label}: bash -n fails"] if langs.bash_checks(old) and not langs.bash_checks(new) else []
    if suffix in langs.DOC_SUFFIXES:
        rst = suffix == ".rst"
        ran["block outline"] += 1
        if langs.fence_outline(old, rst) != langs.fence_outline(new, rst):
            return [f"{change.label}: its code blocks changed"]
        found = []
        for index, ((kind, before), (_, after)) in enumerate(zip(langs.block_sources(old, rst), langs.block_sources(new, rst),
                                                                  strict=True)):
            if before != after:
                found += [f"{change.label}: code block {index + 1} ({kind}) {problem.split(': ', 1)[1]}"
                          for problem in parse_problems(Change(change.label, before, after, kind), ran)]
        return found
    if suffix in langs.SHELL_SUFFIXES:
        return []  # zsh and make: no checker here (the shell part's tests run make -n on its fixtures)
    ran["ast"] += 1
    return [f"{change.label}: ast.parse fails"] if _parses(old) and not _parses(new) else []


def parse_failures(changes: list[Change], ran: Counter[str] | None = None) -> list[str]:
    """Changed files (or cells) that parsed before the codemod and no longer do."""
    ran = Counter() if ran is None else ran
    return [problem for change in changes for problem in parse_problems(change, ran)]


def comments(text: str) -> dict[str, list[frozenset[str]]]:
    """Each comment -> for each time it occurs, the names and literals of the code before it on its line."""
    out: dict[str, list[frozenset[str]]] = {}
    line: list[str] = []
    try:
        for tok in tokenize.generate_tokens(io.StringIO(text).readline):
            if tok.type == tokenize.COMMENT:
                out.setdefault(tok.string, []).append(frozenset(line))
            elif tok.type in (tokenize.NEWLINE, tokenize.NL):
                line = []
            elif tok.type in (tokenize.NAME, tokenize.NUMBER, tokenize.STRING):
                line.append(tok.string)
    except (SyntaxError, tokenize.TokenError, ValueError):
        return {}
    return out


def comments_of(change: Change, text: str) -> dict[str, list[frozenset[str]]]:
    if change.suffix in langs.JS_SUFFIXES:
        return langs.js_comments(text, change.suffix)
    if change.suffix in langs.SHELL_SUFFIXES:
        return langs.shell_comments(text)
    if change.suffix in langs.DOC_SUFFIXES:  # the comments of its code blocks (its prose: the block outline)
        found: dict[str, list[frozenset[str]]] = {}
        for suffix, code in langs.block_sources(text, change.suffix == ".rst"):
            for comment, anchors in comments_of(Change(change.label, None, None, suffix), code).items():
                found.setdefault(comment, []).extend(anchors)
        return found
    return comments(text)


def comment_changes(changes: list[Change]) -> tuple[list[str], list[str]]:
    """Comments of changed files that the new text lost, and trailing comments that now sit after other code
    (the names and literals before them share nothing with those they followed)."""
    lost, moved = [], []
    for change in changes:
        label, old, new = change.label, change.old, change.new
        if old is None or new is None:
            continue
        after = comments_of(change, new)
        for text, anchors in comments_of(change, old).items():
            now = after.get(text, [])
            lost += [f"{label}: {text}"] * max(0, len(anchors) - len(now))
            moved += [f"{label}: {text}" for a, b in zip(anchors, now, strict=False) if a and b and not a & b]
    return lost, moved


# --------------------------------------------------------------------------- #
# One repository
# --------------------------------------------------------------------------- #


@dataclass
class Result:
    name: str
    files: int
    grep_sites: int
    expected: int
    report_sites: int = 0
    accounted: int = 0
    by_error: int = 0
    verdicts: Counter[str] = field(default_factory=Counter)
    error_files: int = 0
    changed_files: int = 0
    parse_failures: list[str] = field(default_factory=list)
    lost_comments: list[str] = field(default_factory=list)
    moved_comments: list[str] = field(default_factory=list)
    second_run_changes: list[str] = field(default_factory=list)
    changed_without_site: list[str] = field(default_factory=list)
    check_exit: int | None = None
    write_exits: tuple[int, int] | None = None
    seconds: dict[str, float] = field(default_factory=dict)
    missing: list[dict[str, Any]] = field(default_factory=list)
    expected_by_pattern: Counter[str] = field(default_factory=Counter)
    problems: list[str] = field(default_factory=list)
    checks: Counter[str] = field(default_factory=Counter)
    """How many changed files (and document blocks) each parse checker read."""

    @property
    def missing_by_pattern(self) -> Counter[str]:
        return Counter(p for site in self.missing for p in site["patterns"])

    @property
    def ok(self) -> bool:
        return not self.problems


def run_repo(entry: dict[str, Any], corpus: Path, jobs: int, scratch: Path) -> Result:
    tree = corpus / entry["folder"]
    sites: list[dict[str, Any]] = entry["sites"]
    res = Result(entry["name"], sum(entry["files"].values()), len(sites), sum(map(is_expected, sites)))
    res.expected_by_pattern = Counter(p for site in sites if is_expected(site) for p in site["patterns"])
    work = scratch / entry["folder"]
    shutil.rmtree(work, ignore_errors=True)  # a --keep folder from an earlier run
    work.mkdir()
    cwd = work / "cwd"
    cwd.mkdir()

    check = run_codemod("--check", tree, work / "check.json", jobs, cwd)
    res.check_exit, res.seconds["check"] = check.exit, check.seconds
    if check.report is None:
        res.problems.append(f"--check wrote no report (exit {check.exit}): {last_line(check.stderr)}")
        report = Report()
    else:
        report = read_report(check.report, tree, cwd)
    res.report_sites = len(report.sites)
    res.verdicts = Counter(rs.verdict for rs in report.sites)
    res.error_files = len(report.error_files)
    res.missing, res.by_error = account(sites, report, tree)
    res.accounted = res.expected - len(res.missing)
    if res.missing:
        res.problems.append(f"{len(res.missing)} of {res.expected} grep sites not in the report")

    copy = work / "tree"
    shutil.copytree(tree, copy, symlinks=True)
    original = snapshot(copy)
    first = run_codemod("--write", copy, work / "write1.json", jobs, cwd)
    after_first = snapshot(copy)
    second = run_codemod("--write", copy, work / "write2.json", jobs, cwd)
    after_second = snapshot(copy)
    res.write_exits = (first.exit, second.exit)
    res.seconds["write"], res.seconds["write again"] = first.seconds, second.seconds

    touched = changed(original, after_first)
    res.changed_files = len(touched)
    changes = list(changed_sources(tree, copy, touched))
    res.parse_failures = parse_failures(changes, res.checks)
    res.lost_comments, res.moved_comments = comment_changes(changes)
    res.second_run_changes = changed(after_first, after_second)
    # The manifest greps Python sources; a document, script or JS/TS file the codemod changed must
    # at least be a file its own report names.
    with_sites = {s["file"] for s in sites}
    reported = {rs.file for rs in report.sites if rs.file is not None}
    res.changed_without_site = [f for f in touched if f not in with_sites
                                and (f.endswith((".py", ".ipynb")) or f not in reported)]
    if res.parse_failures:
        res.problems.append(f"{len(res.parse_failures)} changed files no longer parse")
    if res.lost_comments:
        res.problems.append(f"{len(res.lost_comments)} comments lost by --write")
    if res.moved_comments:
        res.problems.append(f"{len(res.moved_comments)} trailing comments moved onto other code by --write")
    if res.second_run_changes:
        res.problems.append(f"the second --write changed {len(res.second_run_changes)} files")
    if res.changed_without_site:
        res.problems.append(f"{len(res.changed_without_site)} files without a grep site changed")
    expected_exit = 2 if report.error_files else (1 if touched else 0)
    if check.exit != expected_exit:
        res.problems.append(f"--check exited {check.exit}, expected {expected_exit} ({len(touched)} files changed by --write, "
                            f"{len(report.error_files)} errors)")
    return res


def last_line(text: str) -> str:
    lines = text.strip().splitlines()
    return lines[-1][:200] if lines else ""


# --------------------------------------------------------------------------- #
# Output
# --------------------------------------------------------------------------- #

COLUMNS = ("repository", "files", "grep", "expected", "report", "accounted", "migrated", "notes", "left", "errors",
           "changed", "parse", "comments", "2nd run", "check")


def row(res: Result) -> list[str]:
    return [
        res.name, str(res.files), str(res.grep_sites), str(res.expected), str(res.report_sites),
        f"{res.accounted}/{res.expected}", str(res.verdicts["migrated"]), str(res.verdicts["migrated with notes"]),
        str(res.verdicts["left for a person"]), str(res.error_files), str(res.changed_files),
        "ok" if not res.parse_failures else f"{len(res.parse_failures)} bad",
        "ok" if not (res.lost_comments or res.moved_comments) else
        "/".join(f"{len(x)} {w}" for x, w in ((res.lost_comments, "lost"), (res.moved_comments, "moved")) if x),
        "ok" if not res.second_run_changes else f"{len(res.second_run_changes)} changed",
        str(res.check_exit),
    ]


def print_table(results: list[Result]) -> None:
    rows = [list(COLUMNS), *map(row, results)]
    total = Result("total", sum(r.files for r in results), sum(r.grep_sites for r in results), sum(r.expected for r in results))
    total.report_sites = sum(r.report_sites for r in results)
    total.accounted = sum(r.accounted for r in results)
    total.error_files = sum(r.error_files for r in results)
    total.changed_files = sum(r.changed_files for r in results)
    for r in results:
        total.verdicts.update(r.verdicts)
        total.parse_failures += r.parse_failures
        total.lost_comments += r.lost_comments
        total.moved_comments += r.moved_comments
        total.second_run_changes += r.second_run_changes
        total.checks.update(r.checks)
    rows.append([*row(total)[:-1], "-"])
    widths = [max(len(r[i]) for r in rows) for i in range(len(COLUMNS))]
    for i, cells in enumerate(rows):
        if i in (1, len(rows) - 1):
            print("  ".join("-" * w for w in widths))
        print("  ".join(c.ljust(w) if j == 0 else c.rjust(w) for j, (c, w) in enumerate(zip(cells, widths, strict=True))))
    migrated = total.verdicts["migrated"] + total.verdicts["migrated with notes"]
    if total.report_sites == 0 and total.expected:
        print("\nthe reports list no site at all: the codemod is a no-op in this tree (nothing migrated, nothing accounted for)")
    print(f"\nsites migrated (with or without notes): {migrated} of {total.report_sites} in the reports, "
          f"{pct(migrated, total.expected)} of the {total.expected} expected grep sites; "
          f"accounted for: {pct(total.accounted, total.expected)}")
    expected: Counter[str] = Counter()
    missing: Counter[str] = Counter()
    for r in results:
        expected.update(r.expected_by_pattern)
        missing.update(r.missing_by_pattern)
    print("parse checks on the changed files: " + ", ".join(f"{name} {n}" for name, n in total.checks.most_common()))
    print("accounted for, by pattern (a line may match several): " + ", ".join(
        f"{name} {expected[name] - missing[name]}/{expected[name]}" for name, _ in PATTERNS if expected[name]))


def pct(part: int, whole: int) -> str:
    return f"{100 * part / whole:.0f}%" if whole else "n/a"


def print_problems(results: list[Result], limit: int) -> None:
    for res in results:
        if not res.problems:
            continue
        print(f"\n{res.name}: " + "; ".join(res.problems))
        if res.missing:
            print("  not in report, by pattern: " + ", ".join(f"{k} {v}" for k, v in res.missing_by_pattern.most_common()))
        for site in res.missing[:limit]:
            where = f"{site['file']}:{site['line']}" + (f" (cell {site['cell']})" if "cell" in site else "")
            print(f"  not in report  {where}  [{site['context']}] {site['text']}")
        if len(res.missing) > limit:
            print(f"  … {len(res.missing) - limit} more (--json lists them all)")
        for item in res.parse_failures[:limit]:
            print(f"  no longer parses  {item}")
        for item in res.lost_comments[:limit]:
            print(f"  comment lost      {item}")
        for item in res.moved_comments[:limit]:
            print(f"  comment moved     {item}")
        for item in res.second_run_changes[:limit]:
            print(f"  changed again     {item}")
        for item in res.changed_without_site[:limit]:
            print(f"  changed, no site  {item}")


def result_json(res: Result) -> dict[str, Any]:
    return {
        "name": res.name, "files": res.files, "grep_sites": res.grep_sites, "expected_sites": res.expected,
        "report_sites": res.report_sites, "accounted": res.accounted, "accounted_by_file_error": res.by_error,
        "verdicts": dict(res.verdicts), "error_files": res.error_files, "changed_files": res.changed_files,
        "parse_failures": res.parse_failures, "lost_comments": res.lost_comments,
        "moved_comments": res.moved_comments, "second_run_changes": res.second_run_changes,
        "changed_without_site": res.changed_without_site, "check_exit": res.check_exit,
        "write_exits": res.write_exits, "seconds": res.seconds, "parse_checks": dict(res.checks), "expected_by_pattern": dict(res.expected_by_pattern),
        "not_in_report_by_pattern": dict(res.missing_by_pattern), "not_in_report": res.missing,
        "problems": res.problems,
    }


# --------------------------------------------------------------------------- #
# Main
# --------------------------------------------------------------------------- #


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS, help="folder of owner+name trees (default %(default)s)")
    parser.add_argument("--only", action="append", default=[], metavar="NAME", help="owner/name or owner+name; repeatable")
    parser.add_argument("--tree", type=Path, default=REPO_ROOT, help="the migrator source tree to run (default %(default)s)")
    parser.add_argument("--jobs", type=int, default=2, help="passed to migrator codemod (default %(default)s)")
    parser.add_argument("--json", type=Path, help="also write every number and every unaccounted site here")
    parser.add_argument("--keep", type=Path, metavar="DIR",
                        help="keep each repository's reports (check.json, write1.json, write2.json) and written copy here")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a check fails")
    parser.add_argument("--show", type=int, default=10, help="unaccounted sites printed per repository (default %(default)s)")
    parser.add_argument("--make-manifest", action="store_true", help="grep the trees into CORPUS/MANIFEST.json and stop")
    args = parser.parse_args(argv)
    global MIGRATOR_TREE
    MIGRATOR_TREE = args.tree.resolve()

    wanted = {n.replace("/", "+") for n in args.only}
    repos = [r for r in REPOS if not wanted or r.folder in wanted]
    manifest_path = args.corpus / "MANIFEST.json"
    if args.make_manifest:
        manifest = build_manifest(args.corpus, repos)
        manifest_path.write_text(json.dumps(manifest, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        for e in manifest["repos"]:
            print(f"{e['name']}@{e['commit'][:12]}  " + " ".join(f"{n} {k}" for k, n in e["files"].items() if n) + "  "
                  f"{e['site_count']} sites, {e['expected_site_count']} expected in the report")
        return 0
    if not manifest_path.exists():
        print(f"no {manifest_path}: export the repositories and run with --make-manifest first", file=sys.stderr)
        return 2
    entries = [e for e in json.loads(manifest_path.read_text(encoding="utf-8"))["repos"]
               if (not wanted or e["folder"] in wanted) and (args.corpus / e["folder"]).is_dir()]
    print(f"corpus: {len(entries)} repositories in {args.corpus}; migrator from {MIGRATOR_TREE}")
    unavailable = codemod_available()
    if unavailable:
        print(f"`migrator codemod` does not run in this tree, nothing to measure: {unavailable}")
        print(f"(the manifest lists {sum(e['expected_site_count'] for e in entries)} sites the report would have to account for)")
        return 1 if args.strict else 0

    results = []
    with tempfile.TemporaryDirectory(prefix="migrator-corpus-") as tmp:
        scratch = args.keep.resolve() if args.keep else Path(tmp)
        scratch.mkdir(parents=True, exist_ok=True)
        for entry in entries:
            print(f"  {entry['name']} …", file=sys.stderr, flush=True)
            results.append(run_repo(entry, args.corpus, args.jobs, scratch))
            if not args.keep:
                shutil.rmtree(scratch / entry["folder"])
    print()
    print_table(results)
    print_problems(results, args.show)
    if args.json:
        args.json.write_text(json.dumps({"corpus": str(args.corpus), "repos": [result_json(r) for r in results]}, indent=1) + "\n",
                             encoding="utf-8")
    failed = [r.name for r in results if not r.ok]
    print(f"\n{len(results) - len(failed)} of {len(results)} repositories pass every check" + (f"; failing: {', '.join(failed)}" if failed else ""))
    return 1 if args.strict and failed else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BrokenPipeError:  # | head
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(1)
