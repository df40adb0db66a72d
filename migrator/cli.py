"""The ``migrator`` command.

Exit codes are a contract, as in ruff: 0 translated, 1 strict mode refused a
lossy translation, 2 the input could not be read or translated.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import signal
import sys
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, TextIO

from . import __version__
from .mapping import Loss, MappingError, Problem, StrictModeError, json_text, translate

EXIT_OK = 0
EXIT_REFUSED = 1
EXIT_BAD_INPUT = 2
EXIT_BROKEN_PIPE = 128 + int(getattr(signal, "SIGPIPE", 13))
"""What a shell reports for a tool stopped by SIGPIPE (``| head``): the reader left, not an error of ours."""

EXAMPLES = Path(__file__).resolve().parent / "examples"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="migrator", description="Move OpenAI Chat Completions to the Responses API, and back.")
    parser.add_argument("--version", action="version", version=f"migrator {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    tr = sub.add_parser("translate", help="translate a body (JSON) or a stream (SSE) into the other API")
    tr.add_argument("file", help="a JSON body or an SSE stream (file or - for standard input); the form is detected")
    tr.add_argument("--to", required=True, choices=("responses", "chat"), help="the target API")
    tr.add_argument("--strict", action="store_true", help="refuse (exit 1) instead of translating with losses")
    tr.add_argument("--losses-json", metavar="PATH", help="also write the losses as a JSON list to PATH ([] when none)")
    tr.add_argument("--hoist-system", action="store_true", help="move a leading system/developer block into instructions")
    tr.add_argument("--default-store", action="store_true", help="write store: true for chat requests that have no store")
    tr.add_argument("--request", metavar="FILE", help="for a chat completion or chat stream: the request that produced it, echoed into the Response")
    tr.add_argument("--include-usage", action="store_true", help="for a stream translated to chat: end with a usage chunk")
    tr.add_argument("--compact", action="store_true", help="print JSON on one line")

    sv = sub.add_parser("serve", help="an OpenAI-compatible server with both endpoints: a bridge, or an offline model")
    sv.add_argument("--upstream", metavar="URL", help="the upstream's base URL with its version prefix, e.g. http://127.0.0.1:8080/v1 "
                    "(without it, an offline deterministic model answers)")
    sv.add_argument("--upstream-api", choices=("chat", "responses"), default="chat", help="the endpoint the upstream serves (default chat)")
    sv.add_argument("--upstream-key-env", metavar="VAR", help="send Bearer $VAR upstream instead of the client's Authorization")
    sv.add_argument("--upstream-timeout", type=float, default=600.0, metavar="SECONDS", help="504 when the upstream is slower (default 600)")
    sv.add_argument("--retries", type=int, default=2, help="retries of upstream 429/5xx/connection errors before the first byte (default 2)")
    sv.add_argument("--host", default="127.0.0.1", help="default 127.0.0.1")
    sv.add_argument("--port", type=int, default=8080, help="0 picks a free port (default 8080)")
    sv.add_argument("--store", metavar="PATH", help="keep stored responses in this SQLite file (default: in memory)")
    sv.add_argument("--store-max-responses", type=int, default=10_000, help="default 10000; the oldest go first")
    sv.add_argument("--store-retention-days", type=float, default=30.0, help="default 30")
    sv.add_argument("--api-key-env", metavar="VAR", help="answer 401 unless the client sends Bearer $VAR")
    sv.add_argument("--max-body-mb", type=float, default=16.0, help="413 above this request size (default 16)")
    sv.add_argument("--max-concurrency", type=int, default=256, help="429 above this many requests at once (default 256)")
    sv.add_argument("--latency-ms", type=float, default=0.0, help="offline model: delay per answer and per streamed word")
    sv.add_argument("--sampling", action="store_true",
                    help="offline model: another answer on every call unless temperature is 0, like a real model")
    sv.add_argument("--access-log", metavar="PATH", help="JSON lines to this file (default stderr; - for none)")
    sv.add_argument("--strict", action="store_true", help="answer 400 naming every loss instead of translating approximately")
    sv.add_argument("--capture", metavar="FILE", help="append sampled chat requests to FILE as replay corpus lines "
                    "(secrets and headers left out)")
    sv.add_argument("--capture-rate", type=float, default=1.0, metavar="R",
                    help="the share of chat requests captured, 0 to 1 (default 1; decided per request id)")

    cm = sub.add_parser("codemod", help="rewrite Python code (files, directories, notebooks) from chat.completions to responses")
    cm.add_argument("paths", nargs="+", metavar="PATH",
                    help="files and directories to migrate (.py and .ipynb), or - for standard input to standard output")
    mode = cm.add_mutually_exclusive_group()
    mode.add_argument("--diff", dest="mode", action="store_const", const="diff",
                      help="print a unified diff of the changes, write nothing (the default); exit 1 when changes are pending")
    mode.add_argument("--write", dest="mode", action="store_const", const="write", help="rewrite the files in place (atomically)")
    mode.add_argument("--check", dest="mode", action="store_const", const="check",
                      help="print the files that would change, write nothing; exit 1 when changes are pending")
    cm.add_argument("--unsafe-fixes", action="store_true", help="also apply fixes that may change what the code means")
    cm.add_argument("--jobs", "-j", type=int, default=os.cpu_count() or 1, metavar="N",
                    help="processes that parse files (default: the CPU count)")
    cm.add_argument("--report", metavar="PATH", help="write every site, error and note as JSON to PATH")
    cm.add_argument("--exclude", action="append", default=[], metavar="GLOB",
                    help="skip paths matching this .gitignore-style pattern (relative to the PATH walked); repeatable")
    cm.add_argument("--responses-host", action="append", default=[], metavar="HOST",
                    help="a non-OpenAI host that serves /v1/responses: its clients are migrated too; repeatable")
    cm.add_argument("--instructions", action="store_true",
                    help="move a literal leading system message into instructions= (not carried by previous_response_id)")
    cm.add_argument("--transform", metavar="MODULE:FUNCTION", help=argparse.SUPPRESS)

    rp = sub.add_parser("replay", help="replay a corpus of chat requests on both endpoints and judge the differences against the noise")
    from .replay.command import add_replay_arguments

    add_replay_arguments(rp)

    demo = sub.add_parser("demo", help="translate the embedded examples both ways (offline, no key)")
    demo.add_argument("--json", action="store_true", help="print the translations as JSON")
    return parser


def _read_json(name: str, stdin: TextIO) -> Any:
    label = "<stdin>" if name == "-" else name
    try:
        raw: bytes | str = stdin.read() if name == "-" else Path(name).read_bytes()
    except OSError as exc:
        raise _InputError(f"{label}: cannot read: {exc.strerror or exc}") from None
    return _parse_json(raw, label)


def _parse_json(raw: bytes | str, label: str) -> Any:
    """JSON text as the API reads it (json_text): a value JSON cannot carry is a MappingError
    that names this file, so ``--request`` problems are not blamed on the body."""
    try:
        text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
    except UnicodeDecodeError:
        raise _InputError(f"{label}: not UTF-8 text; expected a JSON body") from None
    try:
        value = json_text.loads(text)
    except json.JSONDecodeError as exc:
        raise _InputError(f"{label}:{exc.lineno}:{exc.colno}: invalid JSON: {exc.msg}") from None
    except MappingError as exc:
        raise exc.with_source(label) from None
    # 1e999 reads as infinity, which JSON cannot write back and integers cannot hold. The
    # library leaves this walk to its callers (it would cost more than the parse on a hot
    # path); a file read once can afford it.
    path = json_text.nonfinite(value)
    if path is not None:
        raise _nonfinite_problem(path, label)
    return value


class _InputError(Exception):
    pass


def _write_atomic(path: str, text: str) -> None:
    """Write the whole file or nothing, so a crash never leaves half a report."""
    target = Path(path)
    fd, tmp = tempfile.mkstemp(dir=target.parent if str(target.parent) else ".", prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _warn_losses(losses: Sequence[Loss], stderr: TextIO) -> None:
    for loss in losses:
        stderr.write(f"migrator: warning: {loss.path}: {loss.kind}: {loss.reason}\n")


def _chunks(name: str, stdin: TextIO) -> Iterator[bytes | str]:
    """The input as it arrives (stdin is read as data comes, so a piped stream flows)."""
    if name == "-":
        buffer = getattr(stdin, "buffer", None)
        if buffer is not None and hasattr(buffer, "read1"):
            yield from iter(lambda: buffer.read1(65536), b"")
        else:
            yield from iter(lambda: stdin.read(65536), "")
        return
    try:
        fh = open(name, "rb")
    except OSError as exc:
        raise _InputError(f"{name}: cannot read: {exc.strerror or exc}") from None
    with fh:
        yield from iter(lambda: fh.read1(65536), b"")


def _looks_like_sse(first: bytes | str) -> bool:
    head = first.lstrip()[:6]
    if isinstance(head, bytes):
        head = head.decode("ascii", "replace")
    return head.startswith(("data:", "event:", ":", "id:", "retry:"))


def _cmd_stream(args: argparse.Namespace, label: str, chunks: Iterator[bytes | str], stdin: TextIO,
                stdout: TextIO, stderr: TextIO) -> int:
    from .streams import StreamError, StreamTranslator, translate_sse

    request = _read_json(args.request, stdin) if args.request else None
    translator = StreamTranslator(args.to, request=request, include_usage=args.include_usage)
    out = getattr(stdout, "buffer", None)
    try:
        for data in translate_sse(chunks, args.to, translator=translator):
            if out is not None:
                out.write(data)
                out.flush()
            else:
                stdout.write(data.decode())
                stdout.flush()
    except StreamError as exc:
        stderr.write(f"migrator: error: {label}: {exc}\n")
        return EXIT_BAD_INPUT
    _warn_losses(translator.losses, stderr)
    if translator.broken:
        stderr.write(f"migrator: error: {label}: the stream ended before its terminal event; passed on what arrived, then a failure\n")
        return EXIT_BAD_INPUT
    if translator.failed:
        stderr.write(f"migrator: warning: {label}: the upstream stream reported a failure; passed on as an error\n")
    return EXIT_OK


def _cmd_translate(args: argparse.Namespace, stdin: TextIO, stdout: TextIO, stderr: TextIO) -> int:
    label = "<stdin>" if args.file == "-" else args.file
    losses: list[Loss] = []
    try:
        chunks = _chunks(args.file, stdin)
        first = next(chunks, b"")
        if _looks_like_sse(first):
            return _cmd_stream(args, label, itertools.chain([first], chunks), stdin, stdout, stderr)
        rest = list(chunks)
        raw: bytes | str = b"".join([first, *rest]) if isinstance(first, bytes) else "".join([first, *rest])  # type: ignore[list-item]
        body = _parse_json(raw, label)
        request = _read_json(args.request, stdin) if args.request else None
        result = translate(body, args.to, strict=args.strict, hoist_system=args.hoist_system,
                           default_store=args.default_store, request=request)
        losses = result.losses
    except _InputError as exc:
        stderr.write(f"migrator: error: {exc}\n")
        code = EXIT_BAD_INPUT
    except MappingError as exc:
        stderr.write(f"migrator: error: {exc if exc.source else exc.with_source(label)}\n")
        code = EXIT_BAD_INPUT
    except StrictModeError as exc:
        losses = exc.losses
        stderr.write(f"migrator: {label}: {exc}\n")
        code = EXIT_REFUSED
    else:
        indent = None if args.compact else 2
        stdout.write(json.dumps(result.body, indent=indent, ensure_ascii=False, allow_nan=False) + "\n")
        _warn_losses(losses, stderr)
        code = EXIT_OK
    if args.losses_json:
        try:
            _write_atomic(args.losses_json, json.dumps([loss.as_dict() for loss in losses], indent=2) + "\n")
        except OSError as exc:
            stderr.write(f"migrator: error: {args.losses_json}: cannot write the losses: {exc.strerror or exc}\n")
            return EXIT_BAD_INPUT
    return code


def _nonfinite_problem(path: str | None, label: str) -> MappingError:
    return MappingError([Problem(path or "$", "a finite number", "a number beyond the float range (such as 1e999)")], label)


def _cmd_serve(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    from pydantic import ValidationError

    from .server.run import ConfigError, ServeConfig, serve

    options = {k: v for k, v in vars(args).items() if k != "command"}
    try:
        config = ServeConfig(**options)
        return serve(config, stdout)
    except ValidationError as exc:
        for err in exc.errors():
            name = "--" + str(err["loc"][0]).replace("_", "-") if err["loc"] else "options"
            stderr.write(f"migrator serve: error: {name}: {err['msg']}\n")
        return EXIT_BAD_INPUT
    except ConfigError as exc:
        stderr.write(f"migrator serve: error: {exc}\n")
        return EXIT_BAD_INPUT


def _cmd_codemod(args: argparse.Namespace, stdin: TextIO, stdout: TextIO, stderr: TextIO) -> int:
    from .codemod.command import run_command

    return run_command(args, stdin, stdout, stderr)


def _cmd_demo(args: argparse.Namespace, stdout: TextIO) -> int:
    from .demo import run_demo

    return run_demo(EXAMPLES, stdout, as_json=args.json)


def main(argv: Sequence[str] | None = None, *, stdin: TextIO | None = None, stdout: TextIO | None = None,
         stderr: TextIO | None = None) -> int:
    stdin = stdin or sys.stdin
    stdout = stdout or sys.stdout
    stderr = stderr or sys.stderr
    argv = list(sys.argv[1:] if argv is None else argv)
    if len(argv) >= 2 and argv[0] == "replay" and argv[1] in ("export-batch", "import-batch", "merge"):
        from .replay.command import run_tool

        return run_tool(argv[1:], stdout, stderr)
    args = _parser().parse_args(argv)
    if args.command == "serve":
        return _cmd_serve(args, stdout, stderr)
    try:
        if args.command == "replay":
            from .replay.command import run_replay

            code = run_replay(args, stdout, stderr)
            stdout.flush()
            return code
        if args.command == "codemod":
            code = _cmd_codemod(args, stdin, stdout, stderr)
            stdout.flush()
            return code
        code = _cmd_translate(args, stdin, stdout, stderr) if args.command == "translate" else _cmd_demo(args, stdout)
        stdout.flush()  # here, not at interpreter exit, so a closed pipe is caught below
    except BrokenPipeError:
        _silence(stdout, stderr)
        return EXIT_BROKEN_PIPE
    return code


def _silence(*streams: TextIO) -> None:
    """The reader closed the pipe (``| head -1``): stop quietly, as Unix tools do.

    Python flushes the standard streams again at exit, which would raise the same error
    and print it; pointing their descriptors at /dev/null makes that flush harmless
    (the recipe in the docs of the signal module).
    """
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        for stream in streams:
            if stream is sys.stdout or stream is sys.stderr:
                try:
                    os.dup2(devnull, stream.fileno())
                except (OSError, ValueError):
                    pass
    finally:
        os.close(devnull)


if __name__ == "__main__":
    sys.exit(main())
