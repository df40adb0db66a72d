"""``migrator replay export-batch`` / ``import-batch``: a replay run on OpenAI's Batch API.

A batch serves one endpoint, so a side-by-side run is two batches (three with the noise arm)
over the same ``custom_id``s: ``chat.jsonl`` for ``/v1/chat/completions`` (arm P),
``responses.jsonl`` for ``/v1/responses`` (arm C, the engine's translation) and, with
``noise``, ``chat-noise.jsonl`` (arm S, the chat request again). The export folder also holds
``losses.jsonl`` (per case: its corpus place and the translation's losses, which the judge
needs to explain a difference), ``problems.jsonl`` (requests not exported, with why) and
``manifest.json``. docs/replay-batch.md walks through a run.

Choices, and why:

* ``custom_id`` is ``<n>-<case id>``: ``n`` counts the exported cases from 0, and the case id
  is cut to the characters every batch service accepts (``[A-Za-z0-9_-]``, 64 in all; a
  changed or cut id gets a short hash of the original, so two ids never meet). The number
  makes every id unique whatever the corpus repeats, and lets the import place an output line
  without a table of ids.
* Files split at :data:`MAX_LINES` requests or :data:`MAX_BYTES` bytes, the API's limits
  (200 MB read as decimal megabytes, the stricter reading). Parts are aligned: part *k* of every
  arm holds the same cases (``chat.2.jsonl`` pairs with ``responses.2.jsonl``), so a pair can be
  submitted together and the two sides see the model at about the same time.
* ``stream`` and ``stream_options`` are taken out of both bodies (a batch answers whole
  bodies); the manifest counts the requests that had them. ``model`` overrides every request's
  model (one batch serves one model); the manifest counts the models and warns when a file
  mixes them.
* The import builds no table of the output lines' contents. It scans each output file once,
  keeping two integers per case and arm (where the line starts, and its line number for
  messages): about 50 bytes per case for three arms, so a million cases take about 50 MB.
  It then walks the export in order, reading the inputs sequentially and each arm's answer by
  a seek. Output and error files may be given in any order and mixed in one list.
* Batch answers carry no timing: every imported Exchange has ``ttft_ms`` None, ``total_ms`` 0
  and ``timed`` False, so latency is never derived from them.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from array import array
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import IO, Any, cast

from ..mapping import MappingError, detect, translate
from ..mapping.json_text import loads as json_loads
from ..secrets import redact_value as redact
from .model import CHAT_PATH, RESPONSES_PATH, Arm, Case, CaseResult, CorpusProblem, ErrorFacts, Exchange, Loss

__all__ = ["MAX_BYTES", "MAX_LINES", "STEMS", "BatchCase", "BatchError", "export_batch", "export_cases", "import_batch",
           "import_run", "safe_id"]

MAX_LINES = 50_000
MAX_BYTES = 200_000_000
ID_LENGTH = 64

# The input files of an export: file stem -> (arm, the endpoint its batch is created with).
STEMS: dict[str, tuple[Arm, str]] = {"chat": ("P", CHAT_PATH), "responses": ("C", RESPONSES_PATH),
                                     "chat-noise": ("S", CHAT_PATH)}
_ARM_STEM: dict[Arm, str] = {arm: stem for stem, (arm, _) in STEMS.items()}
_OURS = re.compile(r"(?:chat|responses|chat-noise)(?:\.\d+)?\.jsonl|losses\.jsonl|problems\.jsonl|manifest\.json")
_UNSAFE = re.compile(r"[^A-Za-z0-9_-]+")
_CUSTOM_ID = re.compile(rb'(?<!\\)"custom_id"\s*:\s*"([^"\\]*)"')
_FILE_SHIFT = 40  # a position is file number << 40 | byte offset: files up to 1 TB, 8 million files
_dumps = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode


class BatchError(ValueError):
    """An export or import that cannot go on (a missing folder, a changed export): exit 2, this message."""


class BatchCase(Case):
    """A corpus case as the import returns it: what was sent on each side, and what translating lost."""

    custom_id: str
    translated: dict[str, Any]  # the responses request (arm C)
    losses: list[Loss]


# ---------------------------------------------------------------------------- export


def safe_id(case_id: str, number: int) -> str:
    """The ``custom_id`` of the ``number``-th exported case."""
    prefix = f"{number}-"
    room = ID_LENGTH - len(prefix)
    safe = _UNSAFE.sub("_", case_id)
    if safe != case_id or len(safe) > room:
        digest = hashlib.blake2b(case_id.encode("utf-8", "replace"), digest_size=5).hexdigest()
        safe = f"{safe[:room - len(digest) - 1]}_{digest}"
    return prefix + safe


class _Parts:
    """The arm files, written in aligned parts: a new part for all arms when one would pass a limit."""

    def __init__(self, folder: Path, stems: Sequence[str], max_lines: int, max_bytes: int) -> None:
        self.folder = folder
        self.stems = stems
        self.max_lines = max_lines
        self.max_bytes = max_bytes
        self.part = 0
        self.files: dict[str, IO[bytes]] = {}
        self.stats: dict[str, list[dict[str, Any]]] = {stem: [] for stem in stems}

    def _name(self, stem: str, part: int) -> str:
        return f"{stem}.{part}.jsonl" if part > 1 else f"{stem}.jsonl"

    def _open_part(self) -> None:
        self.close()
        if self.part == 1:  # a second part: the first becomes ``.1``
            for stem in self.stems:
                (self.folder / f"{stem}.jsonl").rename(self.folder / f"{stem}.1.jsonl")
                self.stats[stem][0]["file"] = f"{stem}.1.jsonl"
        self.part += 1
        for stem in self.stems:
            name = self._name(stem, self.part)
            self.files[stem] = open(self.folder / name, "wb")
            self.stats[stem].append({"file": name, "lines": 0, "bytes": 0})

    def add(self, lines: dict[str, bytes]) -> None:
        if self.part == 0 or any(
            self.stats[stem][-1]["lines"] >= self.max_lines or self.stats[stem][-1]["bytes"] + len(data) > self.max_bytes
            for stem, data in lines.items()
        ):
            self._open_part()
        for stem, data in lines.items():
            self.files[stem].write(data)
            stat = self.stats[stem][-1]
            stat["lines"] += 1
            stat["bytes"] += len(data)

    def close(self) -> None:
        for handle in self.files.values():
            handle.close()
        self.files = {}


def _problem(case: Case, path: str, message: str) -> CorpusProblem:
    return {"source": case["source"], "line": case["line"], "path": path, "message": message}


def _prepare(case: Case, model: str | None) -> tuple[dict[str, Any], dict[str, Any], list[Loss], bool] | list[CorpusProblem]:
    """The chat body, its translation and losses, and whether ``stream`` was taken out; or why not."""
    request = case["request"]
    if type(request) is not dict:
        return [_problem(case, "$", "expected a chat request (a JSON object)")]
    body = dict(request)
    if model is not None:
        body["model"] = model
    streamed = body.pop("stream", None) is not None
    streamed = body.pop("stream_options", None) is not None or streamed
    if not isinstance(body.get("model"), str) or not body["model"]:
        return [_problem(case, "$.model", "expected a model name: a batch line needs one (give --model to set it for all)")]
    try:
        kind = detect(body)
        if kind != "chat.request":
            return [_problem(case, "$", f"expected a chat request (with messages), found a {kind}")]
        translation = translate(body, to="responses")
    except MappingError as exc:
        return [_problem(case, p.path, f"the engine refuses it: expected {p.expected}, found {p.found}") for p in exc.problems]
    losses = [cast(Loss, loss.as_dict()) for loss in translation.losses]
    return body, translation.body, losses, streamed


def export_batch(cases: Iterable[Case | CorpusProblem], out_dir: Path, *, model: str | None, noise: bool,
                 max_lines: int = MAX_LINES, max_bytes: int = MAX_BYTES) -> dict[str, Any]:
    """Write the Batch API input files of ``cases`` into ``out_dir``; return the manifest.

    ``cases`` is what the corpus reader yields: a CorpusProblem among them (an unreadable line)
    is passed on to ``problems.jsonl``. The returned manifest is ``manifest.json`` plus
    ``problems``, the list of every entry not exported (each also a line of ``problems.jsonl``;
    ``unreadable`` and ``refused`` count them). Files of an earlier export in
    ``out_dir`` (the names this function writes) are replaced, stale parts removed.
    """
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        for old in out_dir.iterdir():
            if _OURS.fullmatch(old.name) and old.is_file():
                old.unlink()
    except OSError as exc:
        raise BatchError(f"{out_dir}: cannot write an export there: {exc.strerror or exc}") from None
    stems = ["chat", "responses"] + (["chat-noise"] if noise else [])
    parts = _Parts(out_dir, stems, max_lines, max_bytes)
    problems: list[CorpusProblem] = []
    models: dict[str, int] = {}
    exported = streamed = unreadable = refused = 0
    try:
        with open(out_dir / "losses.jsonl", "wb") as losses_file, open(out_dir / "problems.jsonl", "wb") as problems_file:
            for entry in cases:
                if "request" not in entry:
                    problems.append(entry)
                    problems_file.write(_dumps(entry).encode() + b"\n")
                    unreadable += 1
                    continue
                case = cast(Case, entry)
                encoded = _encode(case, model, noise, exported, max_bytes)
                if isinstance(encoded, list):
                    refused += 1
                    for problem in encoded:
                        problems.append(problem)
                        problems_file.write(_dumps({"id": case["id"], **problem}).encode() + b"\n")
                    continue
                lines, index_line, name, had_stream = encoded
                parts.add(lines)
                losses_file.write(index_line)
                exported += 1
                streamed += had_stream
                models[name] = models.get(name, 0) + 1
    except OSError as exc:
        raise BatchError(f"{out_dir}: cannot write the export: {exc.strerror or exc}") from None
    finally:
        parts.close()
    warnings = []
    if len(models) > 1:
        warnings.append(f"the requests name {len(models)} models; a batch serves one model, so give --model "
                        "(or export each model's cases on their own)")
    if streamed:
        warnings.append(f"{streamed} request(s) asked to stream; a batch answers whole bodies, so stream and "
                        "stream_options were left out of both sides")
    manifest: dict[str, Any] = {
        "format": "migrator.replay.batch/1",
        "cases": exported,
        "unreadable": unreadable,
        "refused": refused,
        "noise": noise,
        "model": model,
        "limits": {"lines": max_lines, "bytes": max_bytes},
        "endpoints": {stem: STEMS[stem][1] for stem in stems},
        "files": parts.stats,
        "losses_file": "losses.jsonl",
        "problems_file": "problems.jsonl",
        "models": models,
        "stream_removed": streamed,
        "warnings": warnings,
    }
    try:
        (out_dir / "manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    except OSError as exc:
        raise BatchError(f"{out_dir}: cannot write manifest.json: {exc.strerror or exc}") from None
    return {**manifest, "problems": problems}


def _encode(case: Case, model: str | None, noise: bool, number: int,
            max_bytes: int) -> tuple[dict[str, bytes], bytes, str, bool] | list[CorpusProblem]:
    """A case's lines (file stem -> line), its losses.jsonl line, its model, whether it streamed; or why not."""
    prepared = _prepare(case, model)
    if isinstance(prepared, list):
        return prepared
    body, translated, losses, had_stream = prepared
    custom_id = safe_id(str(case["id"]), number)
    try:
        chat = _line(custom_id, CHAT_PATH, body)
        lines = {"chat": chat, "responses": _line(custom_id, RESPONSES_PATH, translated)}
        index_line = _dumps({"custom_id": custom_id, "id": case["id"], "source": case["source"], "line": case["line"],
                             "losses": losses}).encode("utf-8") + b"\n"
    except ValueError as exc:  # NaN or a lone surrogate the reader let through
        return [_problem(case, "$", f"expected a body JSON can carry: {exc}")]
    if noise:
        lines["chat-noise"] = chat
    biggest = max(len(data) for data in lines.values())
    if biggest > max_bytes:
        return [_problem(case, "$", f"expected a request under {max_bytes} bytes, the batch file limit; "
                                    f"its line is {biggest} bytes")]
    return lines, index_line, body["model"], had_stream


def _line(custom_id: str, url: str, body: dict[str, Any]) -> bytes:
    return _dumps({"custom_id": custom_id, "method": "POST", "url": url, "body": body}).encode("utf-8") + b"\n"


# ---------------------------------------------------------------------------- import


class _Arm:
    """Where each case's answer line of one arm is, across that arm's output and error files."""

    def __init__(self, arm: Arm, files: Sequence[Path], cases: int) -> None:
        self.arm = arm
        self.files = list(files)
        self.where = array("q", [-1]) * cases
        self.line = array("q", [0]) * cases
        self.handles: list[IO[bytes]] = []

    def _open(self, path: Path) -> IO[bytes]:
        try:
            return open(path, "rb")
        except OSError as exc:
            raise BatchError(f"{path}: cannot read this {_ARM_STEM[self.arm]} output file: {exc.strerror or exc}") from None

    def scan(self, report: Callable[[CorpusProblem], None]) -> None:
        for number, path in enumerate(self.files):
            with self._open(path) as handle:
                self._scan(number, path, handle, report)

    def _scan(self, number: int, path: Path, handle: IO[bytes], report: Callable[[CorpusProblem], None]) -> None:
        cases = len(self.where)
        offset = 0
        for line_no, raw in enumerate(handle, 1):
            start, offset = offset, offset + len(raw)
            if not raw.strip():
                continue
            custom_id = _custom_id(raw)
            if custom_id is None:
                report(_at(path, line_no, "$.custom_id", _unreadable(raw)))
                continue
            index = _ordinal(custom_id, cases)
            if index is None:
                report(_at(path, line_no, "$.custom_id", f"custom_id {custom_id!r} is not one this export wrote "
                                                         f"(its ids are <n>-<case id>, n below {cases})"))
                continue
            if self.where[index] >= 0:
                earlier = self.files[self.where[index] >> _FILE_SHIFT]
                report(_at(path, line_no, "$.custom_id", f"custom_id {custom_id!r} is also at {earlier}:"
                                                         f"{self.line[index]}; this later line is used"))
            self.where[index] = number << _FILE_SHIFT | start
            self.line[index] = line_no

    def read(self, index: int, custom_id: str) -> Exchange | CorpusProblem | None:
        """The answer of case ``index``: None when there is none, a problem when its line cannot be used."""
        where = self.where[index]
        if where < 0:
            return None
        number = where >> _FILE_SHIFT
        handle = self.handles[number]
        handle.seek(where & ((1 << _FILE_SHIFT) - 1))
        path, line_no = self.files[number], self.line[index]
        try:
            line = json_loads(handle.readline())
        except ValueError as exc:  # MappingError is one too
            return _at(path, line_no, "$", f"expected a batch output line (a JSON object): {exc}")
        if type(line) is not dict or line.get("custom_id") != custom_id:
            return _at(path, line_no, "$.custom_id", f"expected custom_id {custom_id!r} (the line read as holding it)")
        answer = exchange_of(line, self.arm)
        return _at(path, line_no, "$.response", answer) if isinstance(answer, str) else answer

    def open(self) -> None:
        self.handles = [self._open(path) for path in self.files]

    def close(self) -> None:
        for handle in self.handles:
            handle.close()


def _custom_id(raw: bytes) -> str | None:
    """The line's top-level ``custom_id``, found without parsing the line when that is unambiguous."""
    # bytes.count runs at memchr speed; a findall with the look-behind costs more than parsing the line.
    match = _CUSTOM_ID.search(raw) if raw.count(b'"custom_id"') == 1 else None
    if match is not None:
        return match.group(1).decode("utf-8", "replace")
    try:  # none the quick look can read (escapes), or a second one (a body echoing metadata): the parse decides
        line = json.loads(raw)
    except ValueError:
        return None
    value = line.get("custom_id") if type(line) is dict else None
    return value if isinstance(value, str) else None


def _unreadable(raw: bytes) -> str:
    try:
        line = json.loads(raw)
    except ValueError as exc:
        return f"expected a batch output line (a JSON object), found text that is not JSON: {exc}"
    if type(line) is not dict:
        return "expected a batch output line (a JSON object)"
    return f"expected a custom_id string, found {json.dumps(line.get('custom_id'))[:60]}"


def _ordinal(custom_id: str, cases: int) -> int | None:
    head, dash, _ = custom_id.partition("-")
    if not dash or not head.isascii() or not head.isdigit() or (len(head) > 1 and head[0] == "0"):
        return None
    index = int(head)
    return index if index < cases else None


def _at(path: Path, line: int, json_path: str, message: str) -> CorpusProblem:
    return {"source": str(path), "line": line, "path": json_path, "message": message}


def _error_facts(status: int | None, error: Any, fallback: str) -> ErrorFacts:
    error = error if type(error) is dict else {}
    kind, code, message = error.get("type"), error.get("code"), error.get("message")
    return {
        "kind": "api",
        "status": status,
        "type": kind if isinstance(kind, str) else None,
        "code": code if isinstance(code, str) else None,
        "message": redact(message) if isinstance(message, str) and message else fallback,
    }


def exchange_of(line: dict[str, Any], arm: Arm) -> Exchange | str:
    """One Batch API output (or error-file) line as the Exchange an online call would have given; or why not.

    ``response`` present: its ``status_code`` and ``body`` (a non-2xx body's ``error`` gives the
    error's type, code and message). ``response`` null and ``error`` set (a request the batch
    never ran: ``batch_expired``, ``batch_cancelled``): status None, and the error's ``code`` as
    both type and code, so the report names it.
    """
    path = STEMS[_ARM_STEM[arm]][1]
    response, error = line.get("response"), line.get("error")
    status: int | None = None
    body: Any = None
    facts: ErrorFacts | None = None
    if type(response) is dict:
        status = response.get("status_code")
        if type(status) is not int:
            return f"expected response.status_code to be an integer, found {json.dumps(status)[:60]}"
        answer = response.get("body")
        if 200 <= status < 300 and type(answer) is dict:
            body = answer
        elif 200 <= status < 300:
            facts = {"kind": "protocol", "status": status, "type": None, "code": None,
                     "message": "the batch line's response.body is not a JSON object"}
        else:
            facts = _error_facts(status, answer.get("error") if type(answer) is dict else None, f"HTTP {status}")
    elif type(error) is dict:
        facts = _error_facts(None, error, "the batch did not run this request")
        if facts["type"] is None:
            facts["type"] = facts["code"] or "batch_error"
    else:
        return "expected response (an object) or error (an object) in the batch output line"
    return {"arm": arm, "sample": 0, "path": path, "status": status, "body": body, "stream": None, "error": facts,
            "ttft_ms": None, "total_ms": 0.0, "attempts": 1, "cached": False, "timed": False}


def _read_manifest(export_dir: Path) -> dict[str, Any]:
    path = export_dir / "manifest.json"
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise BatchError(f"{path}: cannot read the export's manifest ({exc.strerror or exc}); "
                         "give the folder export-batch wrote") from None
    except ValueError as exc:
        raise BatchError(f"{path}: not JSON: {exc}") from None
    if type(manifest) is not dict or manifest.get("format") != "migrator.replay.batch/1" or type(manifest.get("cases")) is not int:
        raise BatchError(f"{path}: not a manifest export-batch wrote (format migrator.replay.batch/1)")
    return manifest


def _export_lines(export_dir: Path, manifest: dict[str, Any], stem: str) -> Iterator[tuple[str, int, dict[str, Any]]]:
    """(file name, line number, line) of one of the export's own files, in order."""
    names = [stem + ".jsonl"] if stem in ("losses", "problems") else [part["file"] for part in manifest["files"].get(stem, [])]
    for name in names:
        try:
            with open(export_dir / name, "rb") as handle:
                for line_no, raw in enumerate(handle, 1):
                    yield name, line_no, json.loads(raw)
        except (OSError, ValueError) as exc:
            raise BatchError(f"{export_dir / name}: the export cannot be read back ({exc}); export again") from None


def import_batch(export_dir: Path, chat_output: Sequence[Path], responses_output: Sequence[Path],
                 noise_output: Sequence[Path] = (), *,
                 on_problem: Callable[[CorpusProblem], None]) -> Iterator[tuple[BatchCase, dict[str, list[Exchange]]]]:
    """The exported cases, in export order, each with its arms' Exchanges from the Batch API's output files.

    ``*_output``: each batch's output file and error file, in any order (error-file lines are
    read the same way). Returned per case: ``{"P": [exchange], "C": [exchange]}``, plus ``"S"``
    when ``noise_output`` is given. Without ``S`` there is no noise floor: the judge must treat
    the case as one with no measured noise, not as one whose noise is zero.

    A case with no answer on P or C is not returned: ``on_problem`` is told (with the case's
    corpus file and line, and which output lacks it), as it is of an output line that cannot be
    read or names no case of this export. A case with P and C but no S is returned without S,
    and told. The scan of the output files happens here, before the first case is returned, so
    an unreadable export or output file raises :class:`BatchError` at the call.
    """
    manifest = _read_manifest(export_dir)
    if noise_output and not manifest.get("noise"):
        raise BatchError(f"{export_dir} was exported without the noise arm: there is no chat-noise batch to import")
    cases = manifest["cases"]
    arms = [_Arm("P", chat_output, cases), _Arm("C", responses_output, cases)]
    if noise_output:
        arms.append(_Arm("S", noise_output, cases))
    for arm in arms:
        if not arm.files:
            raise BatchError(f"no {_ARM_STEM[arm.arm]} output files given: the import needs every arm's answers")
        arm.scan(on_problem)
    return _join(export_dir, manifest, arms, on_problem)


def _join(export_dir: Path, manifest: dict[str, Any], arms: list[_Arm],
          report: Callable[[CorpusProblem], None]) -> Iterator[tuple[BatchCase, dict[str, list[Exchange]]]]:
    read = 0
    try:
        for arm in arms:
            arm.open()
        inputs = zip(_export_lines(export_dir, manifest, "losses"), _export_lines(export_dir, manifest, "chat"),
                     _export_lines(export_dir, manifest, "responses"), strict=True)
        for index, ((_, line_no, entry), (chat_file, _, chat), (resp_file, _, resp)) in enumerate(inputs):
            custom_id = entry.get("custom_id")
            if (not isinstance(custom_id, str) or not chat.get("custom_id") == resp.get("custom_id") == custom_id
                    or _ordinal(custom_id, index + 1) != index):
                raise BatchError(f"{export_dir}: losses.jsonl line {line_no}, {chat_file} and {resp_file} do not "
                                 "name the same case: the export was changed; export again")
            read += 1
            case: BatchCase = {"id": entry["id"], "source": entry["source"], "line": entry["line"], "request": chat["body"],
                               "custom_id": custom_id, "translated": resp["body"], "losses": entry["losses"]}
            exchanges: dict[str, list[Exchange]] = {}
            missing: list[_Arm] = []
            for arm in arms:
                found = arm.read(index, custom_id)
                if found is not None and "arm" in found:
                    exchanges[arm.arm] = [cast(Exchange, found)]
                    continue
                if found is not None:
                    report(found)
                missing.append(arm)
            if missing:
                report({"source": case["source"], "line": case["line"], "path": "$",
                        "message": _missing_message(case, missing, arms)})
                if any(arm.arm != "S" for arm in missing):
                    continue
            yield case, exchanges
    except ValueError:  # zip(strict=True): one of the export's files ended before the others
        raise BatchError(f"{export_dir}: losses.jsonl, chat and responses files hold different numbers of lines: "
                         "the export was changed; export again") from None
    finally:
        for arm in arms:
            arm.close()
    if read != manifest["cases"]:
        raise BatchError(f"{export_dir}: the manifest counts {manifest['cases']} cases, the files hold {read}: "
                         "the export was changed; export again")


def _missing_message(case: BatchCase, missing: list[_Arm], arms: list[_Arm]) -> str:
    lacking = "; ".join(f"no usable answer in the {_ARM_STEM[arm.arm]} output ({', '.join(map(str, arm.files))})"
                        for arm in missing)
    present = [_ARM_STEM[arm.arm] for arm in arms if arm not in missing]
    tail = f"; it has one only in the {' and '.join(present)} output" if present else ""
    effect = "without a noise arm" if all(arm.arm == "S" for arm in missing) else "left out"
    return f"case {case['id']!r} (custom_id {case['custom_id']!r}): {lacking}{tail}; the case is {effect}"


# ---------------------------------------------------------------------------- the commands' two steps
# Over the corpus reader, the judge and the store, imported when used: writing and reading the
# Batch API files needs none of them.


def export_cases(corpus: Sequence[str], out_dir: Path, *, model: str | None = None, noise: bool = False,
                 shard: tuple[int, int] | None = None) -> dict[str, Any]:
    """``migrator replay export-batch``: the corpus files read as a stream (one shard of them), exported."""
    from .corpus import check_paths, read_corpus
    from .corpus import shard as in_shard

    check_paths(corpus)
    entries = read_corpus(corpus)
    if shard is not None:
        entries = in_shard(entries, *shard)
    return export_batch(entries, out_dir, model=model, noise=noise)


def _key(case: BatchCase) -> str:
    material = json.dumps([case["custom_id"], case["request"], case["translated"]], sort_keys=True, ensure_ascii=False,
                          separators=(",", ":"))
    return hashlib.sha256(material.encode("utf-8")).hexdigest()[:32]


def import_run(export_dir: Path, chat_output: Sequence[Path], responses_output: Sequence[Path],
               noise_output: Sequence[Path], out: Path, *,
               on_problem: Callable[[CorpusProblem], None] | None = None) -> dict[str, Any]:
    """``migrator replay import-batch``: the imported cases judged and written as a run writes DIR.

    ``DIR/results.jsonl`` gets one CaseResult per case (``order`` lists the arms present: a batch
    has no sending order), ``DIR/problems.jsonl`` the export's own problems (requests never
    exported) and the import's; returns the run's meta (also ``DIR/meta.json``), whose ``timed``
    is False: the answers carry no latency, and the report must not show any.
    """
    from .judge import judge
    from .normalize import normalize
    from .store import ResultStore, write_json_atomic

    manifest = _read_manifest(export_dir)
    pending: list[CorpusProblem] = [
        {"source": p["source"], "line": p["line"], "path": p["path"], "message": f"not exported: {p['message']}"}
        for _, _, p in _export_lines(export_dir, manifest, "problems")
    ]
    store: ResultStore | None = None

    def report(problem: CorpusProblem) -> None:
        if store is None:  # still scanning: DIR is not made yet
            pending.append(problem)
            return
        store.problem(problem)
        if on_problem is not None:
            on_problem(problem)

    # The scan first: a missing output file stops the import before DIR holds anything.
    cases = import_batch(export_dir, chat_output, responses_output, noise_output, on_problem=report)
    store = ResultStore(out)
    meta: dict[str, Any] = {
        "settings": {"base_url": "batch", "model": manifest.get("model"), "repeat": 1, "stream": False, "seed": 0},
        "batch": {"export": str(export_dir), "chat": [str(p) for p in chat_output],
                  "responses": [str(p) for p in responses_output], "noise": [str(p) for p in noise_output]},
        "timed": False, "started": time.time(),
    }
    done = 0
    try:
        for problem in pending:
            report(problem)
        for case, exchanges in cases:
            records = {arm: [normalize(exchange, case["translated"] if arm == "C" else case["request"]) for exchange in sent]
                       for arm, sent in exchanges.items()}
            judgement = judge(records, case["losses"], case["request"])
            result: CaseResult = {
                "id": case["id"], "key": _key(case), "source": case["source"], "line": case["line"],
                "verdict": judgement["verdict"], "reason": judgement["reason"], "fields": judgement["fields"],
                "noise": judgement["noise"], "losses": case["losses"], "order": [cast(Arm, arm) for arm in exchanges],
                "request": case["request"], "translated": case["translated"], "records": records,
                "scores": judgement["scores"],
            }
            store.append(result)
            done += 1
    finally:
        store.close()
    meta.update(finished=time.time(), cases_run=done)
    write_json_atomic(out / "meta.json", meta)
    return meta
