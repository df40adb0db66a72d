"""``--junit PATH``: one test case per corpus case, so a CI system lists every case it ran.

An equivalent case passes; a divergent one is a ``<failure>`` (an explained divergence too: the
behaviour still changed, but its message leads with the loss that explains it, so a reader sees
"`$.stop` was dropped" before anything else); an error is an ``<error>``. The file is written as the
results stream past, with the totals taken from the summary, and replaces the old one only when
complete. Case content is untrusted text: characters XML 1.0 cannot hold at all (control
characters, lone surrogates) are written as ``\\xNN`` escapes rather than breaking the parser.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from .model import CaseResult, FieldDiff, Loss
from .rundir import StreamedFile
from .summary import elapsed_seconds, error_label, run_facts

SUITE = "migrator replay"
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")
_TEXT = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})
_ATTR = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "\n": "&#10;", "\r": "&#13;", "\t": "&#9;"})
VALUE_CHARS = 300  # a field's P/C/S value in the failure text


def _clean(text: str) -> str:
    return _NOT_XML.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def text(value: str) -> str:
    return _clean(value).translate(_TEXT)


def attr(value: str) -> str:
    return '"' + _clean(value).translate(_ATTR) + '"'




def explained(result: CaseResult) -> list[Loss]:
    """The losses that explain every divergent field, or [] when some field is unexplained."""
    found: dict[str, Loss] = {}
    for diff in result["fields"]:
        if not diff["explained_by"]:
            return []
        for loss in diff["explained_by"]:
            found.setdefault(loss["path"], loss)
    return list(found.values())


def field_lines(diffs: Iterable[FieldDiff]) -> list[str]:
    lines = []
    for diff in diffs:
        line = f"{diff['field']}: {diff['detail']}"
        if diff["explained_by"]:
            line += "; explained by " + ", ".join(f"{loss['path']} ({loss['kind']}: {loss['reason']})" for loss in diff["explained_by"])
        lines.append(line)
        for arm in ("P", "C", "S"):
            lines.append(f"  {arm}: {short(diff[arm])}")
    return lines


def short(value: Any, limit: int = VALUE_CHARS) -> str:
    shown = value if isinstance(value, str) else repr(value)
    return shown if len(shown) <= limit else shown[:limit] + f"… ({len(shown) - limit} more characters)"


class JUnitWriter(StreamedFile):
    """Streams ``<testcase>`` elements into a file that appears whole when the ``with`` block ends."""

    def __init__(self, path: Path, summary: Mapping[str, Any]) -> None:
        super().__init__(path)
        verdicts = summary["verdicts"]
        seconds = _seconds(summary)
        counts = (
            f'tests="{summary["cases"]}" failures="{verdicts["divergent"]}" errors="{verdicts["error"]}" '
            f'skipped="0" time="{seconds:.3f}"'
        )
        self.fh.write('<?xml version="1.0" encoding="UTF-8"?>\n')
        self.fh.write(f"<testsuites name={attr(SUITE)} {counts}>\n")
        self.fh.write(f"  <testsuite name={attr(SUITE)} {counts}>\n")
        self._properties(summary)

    def _properties(self, summary: Mapping[str, Any]) -> None:
        facts = run_facts(summary.get("run") or {})
        if not facts:
            return
        self.fh.write("    <properties>\n")
        for name, value in facts:
            self.fh.write(f"      <property name={attr(str(name))} value={attr(str(value))}/>\n")
        self.fh.write("    </properties>\n")

    def add(self, result: CaseResult) -> None:
        seconds = sum(r["total_ms"] for records in result["records"].values() for r in records) / 1000
        head = f'    <testcase classname={attr(result["source"])} name={attr(result["id"])} time="{seconds:.3f}"'
        verdict = result["verdict"]
        if verdict == "equivalent":
            self.fh.write(head + "/>\n")
            return
        body = field_lines(result["fields"])
        if verdict == "error":
            kind = _error_type(result)
            self.fh.write(f"{head}>\n      <error message={attr(result['reason'])} type={attr(kind)}>{text(chr(10).join(body))}</error>\n    </testcase>\n")
            return
        losses = explained(result)
        if losses:
            message = "explained divergence: " + result["reason"]
            unnamed = [loss["path"] for loss in losses if loss["path"] not in result["reason"]]
            if unnamed:
                message += " (explained by " + ", ".join(f"`{path}`" for path in unnamed) + ")"
            kind = "explained-divergence"
        else:
            message, kind = result["reason"], "divergent"
        body.insert(0, f"{result['source']}:{result['line']}")
        self.fh.write(f"{head}>\n      <failure message={attr(message)} type={attr(kind)}>{text(chr(10).join(body))}</failure>\n    </testcase>\n")

    def tail(self) -> str:
        return "  </testsuite>\n</testsuites>\n"


def _error_type(result: CaseResult) -> str:
    for records in result["records"].values():
        for record in records:
            if not record["ok"]:
                return error_label(record["error_type"], record["status"])
    return "translation" if result["translated"] is None else "error"


def _seconds(summary: Mapping[str, Any]) -> float:
    return elapsed_seconds(summary.get("run") or {}) or 0.0


def write_junit(path: Path, results: Iterable[CaseResult], summary: Mapping[str, Any]) -> None:
    with JUnitWriter(path, summary) as writer:
        for result in results:
            writer.add(result)
