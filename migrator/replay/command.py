"""`migrator replay …`: the command line over run.py, batch.py and merge.py.

Exit codes, for CI: 0 the run finished (and nothing hit ``--fail-on``), 1 ``--fail-on`` was hit,
2 the input or the options are wrong (named, never a traceback), 130 interrupted (what finished
is kept, and the outputs are written for it).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_BAD_INPUT = 2
EXIT_INTERRUPTED = 130
TOOLS = ("export-batch", "import-batch", "merge")
DEFAULT_OUT = "replay-out"


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected 1 or more, got {value}")
    return value


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}")
    return value


def _shard(text: str) -> tuple[int, int]:
    from .corpus import parse_shard

    try:
        return parse_shard(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _outputs_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--fail-on", choices=("divergent", "error"),
                        help="exit 1 when a case is divergent (divergent: also on error) or errored (error)")
    parser.add_argument("--junit", metavar="PATH", type=Path, help="write one JUnit test case per corpus case to PATH")
    parser.add_argument("--baseline", metavar="DIR", type=Path, help="an earlier run's --out: report the cases whose verdict changed")


def add_replay_arguments(rp: argparse.ArgumentParser) -> None:
    rp.add_argument("corpus", nargs="+", metavar="CORPUS",
                    help="JSONL of chat requests (bare bodies, {id, request} lines or Batch API input lines), "
                         "or a folder of JSON files; - for standard input. "
                         f"Also: migrator replay {{{','.join(TOOLS)}}} --help")
    rp.add_argument("--base-url", metavar="URL",
                    help="the server to replay against (default: start the offline model here, no network, no key)")
    rp.add_argument("--api-key-env", metavar="VAR",
                    help="the environment variable holding the API key (default OPENAI_API_KEY, sent when set; "
                         "a VAR given here must be set; the key is never written anywhere)")
    rp.add_argument("--model", metavar="M", help="send every case to this model instead of the corpus's own")
    rp.add_argument("--concurrency", type=_positive_int, default=8, metavar="N", help="requests in flight at once (default 8)")
    rp.add_argument("--rpm", type=_positive_float, metavar="R", help="at most R requests per minute (default: no limit)")
    rp.add_argument("--repeat", type=_positive_int, default=1, metavar="K", help="samples per arm (default 1)")
    rp.add_argument("--stream", action="store_true", help="stream every arm (SSE) and measure time to first token")
    rp.add_argument("--timeout", type=_positive_float, default=120.0, metavar="S", help="seconds per request (default 120)")
    rp.add_argument("--out", metavar="DIR", type=Path, default=Path(DEFAULT_OUT),
                    help=f"results.jsonl, summary.json, report.html go here (default ./{DEFAULT_OUT})")
    rp.add_argument("--resume", action="store_true", help="keep DIR's finished cases and run only the rest")
    rp.add_argument("--shard", type=_shard, metavar="I/N", help="run only the I-th of N shards (by case id); join with replay merge")
    rp.add_argument("--cache", metavar="PATH", type=Path, help="the arm cache (default DIR/cache.sqlite); share it between runs")
    rp.add_argument("--seed", type=int, default=0, help="the seed of the arms' random order (default 0)")
    rp.add_argument("--no-sampling", dest="sampling", action="store_false",
                    help="offline model only: answer identically on every call, even at temperature > 0")
    cassette = rp.add_mutually_exclusive_group()
    cassette.add_argument("--record", metavar="PATH", type=Path, help="write every exchange (streams chunk by chunk) to a cassette")
    cassette.add_argument("--from-cassette", metavar="PATH", type=Path, help="replay from a cassette instead of a server")
    _outputs_arguments(rp)


def tools_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="migrator replay")
    sub = parser.add_subparsers(dest="tool", required=True)
    ex = sub.add_parser("export-batch", help="write OpenAI Batch API input files: chat and responses, joined by custom_id")
    ex.add_argument("corpus", nargs="+", metavar="CORPUS")
    ex.add_argument("--out", metavar="DIR", type=Path, required=True)
    ex.add_argument("--model", metavar="M")
    ex.add_argument("--noise", action="store_true", help="also write the chat requests again (the noise arm)")
    ex.add_argument("--shard", type=_shard, metavar="I/N")
    im = sub.add_parser("import-batch", help="judge the Batch API output files of an export-batch")
    im.add_argument("export", metavar="EXPORT_DIR", type=Path, help="the export-batch --out")
    im.add_argument("--chat", nargs="+", type=Path, required=True, metavar="FILE", help="the chat batch's output file(s)")
    im.add_argument("--responses", nargs="+", type=Path, required=True, metavar="FILE", help="the responses batch's output file(s)")
    im.add_argument("--noise", nargs="+", type=Path, default=[], metavar="FILE", help="the noise batch's output file(s)")
    im.add_argument("--out", metavar="DIR", type=Path, required=True)
    _outputs_arguments(im)
    mg = sub.add_parser("merge", help="join the results of --shard runs into one report")
    mg.add_argument("dirs", nargs="+", type=Path, metavar="DIR")
    mg.add_argument("--out", metavar="DIR", type=Path, required=True)
    _outputs_arguments(mg)
    return parser


def _finish(out: Path, meta: dict[str, Any], args: argparse.Namespace, stdout: TextIO) -> int:
    from .outputs import exit_code, write_outputs
    from .terminal import print_summary

    summary = write_outputs(out, meta=meta, baseline=args.baseline, junit=args.junit)
    print_summary(summary, out, stdout)
    return exit_code(summary, args.fail_on)


def _check_outputs(args: argparse.Namespace) -> str | None:
    """What is wrong with the output options, said before any request is sent."""
    baseline: Path | None = args.baseline
    if baseline is not None and not (baseline / "results.jsonl").is_file():
        return f"--baseline {baseline}: no earlier run there (no results.jsonl); give the --out folder of a finished run"
    junit: Path | None = args.junit
    out: Path = args.out
    # The --out folder is made by the run, so a report inside it is fine even before it exists.
    if junit is not None and (junit.is_dir() or not (junit.resolve().parent.is_dir()
                                                    or junit.resolve().parent == out.resolve())):
        return f"--junit {junit}: cannot write a file there"
    return None


def run_replay(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    import asyncio

    from .run import Options, replay
    from .secrets import Redactor
    from .terminal import Progress

    api_key = os.environ.get(args.api_key_env or "OPENAI_API_KEY") or None
    if args.api_key_env is not None and api_key is None and args.from_cassette is None:
        stderr.write(f"migrator replay: --api-key-env {args.api_key_env}: that environment variable is not set (or empty)\n")
        return EXIT_BAD_INPUT
    if args.base_url is None:
        api_key = None  # the offline model needs none; a key in the environment is not sent to it
    options = Options(corpus=list(args.corpus), out=args.out, base_url=args.base_url, model=args.model,
                      repeat=args.repeat, stream=args.stream, concurrency=args.concurrency, rpm=args.rpm,
                      timeout=args.timeout, resume=args.resume, shard=args.shard, record=args.record,
                      from_cassette=args.from_cassette, cache=args.cache, seed=args.seed, sampling=args.sampling)
    for path in options.corpus:
        if path != "-" and not os.path.exists(path):
            stderr.write(f"migrator replay: {path}: no such file or folder\n")
            return EXIT_BAD_INPUT
        if os.path.isdir(path) and next((p for p in Path(path).rglob("*.json") if p.is_file()), None) is None:
            stderr.write(f"migrator replay: {path}: a folder corpus needs *.json request files, and it has none\n")
            return EXIT_BAD_INPUT
    problem = _check_outputs(args)
    if problem is not None:
        stderr.write(f"migrator replay: {problem}\n")
        return EXIT_BAD_INPUT
    if options.from_cassette is not None and not options.from_cassette.is_file():
        stderr.write(f"migrator replay: {options.from_cassette}: no such cassette\n")
        return EXIT_BAD_INPUT
    progress = Progress(stderr)
    progress.start(None)
    interrupted = False
    meta: dict[str, Any] = {}
    try:
        meta = asyncio.run(replay(options, api_key, on_result=progress.case, on_problem=progress.problem))
    except KeyboardInterrupt:
        interrupted = True
    except (OSError, ValueError) as exc:
        progress.stop()
        stderr.write(f"migrator replay: {Redactor([api_key]).text(str(exc))}\n")
        return EXIT_BAD_INPUT
    progress.stop()
    if not (options.out / "results.jsonl").exists():
        return EXIT_INTERRUPTED if interrupted else EXIT_OK
    try:
        code = _finish(options.out, meta or _meta(options.out), args, stdout)
    except (OSError, ValueError) as exc:
        stderr.write(f"migrator replay: {Redactor([api_key]).text(str(exc))}\n")
        return EXIT_BAD_INPUT
    return EXIT_INTERRUPTED if interrupted else code


def _meta(out: Path) -> dict[str, Any]:
    from .store import read_meta

    return read_meta(out) or {}


def run_tool(argv: Sequence[str], stdout: TextIO, stderr: TextIO) -> int:
    args = tools_parser().parse_args(list(argv))
    problem = _check_outputs(args) if args.tool != "export-batch" else None
    if problem is not None:
        stderr.write(f"migrator replay {args.tool}: {problem}\n")
        return EXIT_BAD_INPUT
    try:
        if args.tool == "export-batch":
            from .batch import export_cases

            manifest = export_cases(args.corpus, args.out, model=args.model, noise=args.noise, shard=args.shard)
            stdout.write(f"wrote {args.out}: {manifest['cases']} cases, files: {', '.join(manifest['files'])}\n")
            return EXIT_OK
        if args.tool == "import-batch":
            from .batch import import_run
            from .terminal import Progress

            progress = Progress(stderr)
            progress.start(None)
            try:
                meta = import_run(args.export, args.chat, args.responses, args.noise, args.out, on_problem=progress.problem)
            finally:
                progress.stop()
            return _finish(args.out, meta, args, stdout)
        from .merge import merge
        from .store import read_meta

        merge(args.dirs, args.out)
        return _finish(args.out, read_meta(args.out) or {}, args, stdout)
    except (OSError, ValueError) as exc:
        stderr.write(f"migrator replay {args.tool}: {exc}\n")
        return EXIT_BAD_INPUT


def main(argv: Sequence[str]) -> int:
    """Entry for ``python -m migrator.replay.command`` (the ``migrator`` CLI dispatches here too)."""
    from ..cli import main as cli_main

    return cli_main(["replay", *argv])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
