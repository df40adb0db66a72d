"""``DIR/report.html``: one self-contained page a person opens from disk, with no network at all.

The counts, the latency plots (inline SVG) and the per-field tables are written as HTML, so they
show even with scripts off; the cases travel as JSON in a ``<script type="application/json">``
block that a small script (assets/report.js) turns into a filterable table and, per case, a
P | C | S side-by-side. Case content is untrusted (it is whatever the corpus and the servers sent):
the server-written parts are escaped, the JSON block cannot close its own tag (``<``, ``>`` and
``&`` are written as ``\\u`` escapes), the script only ever sets ``textContent``, and the page's
Content-Security-Policy allows no source but the two inline blocks, by hash, so even an injected
``<script>`` would not run and nothing can be fetched.

The page holds every divergent and error case, and the first ``max_equivalent`` equivalent ones
(it says so), each value cut at ``max_chars``: a 100,000-case run gives a page of the cases a
person needs to read, not a copy of results.jsonl.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterable, Mapping
from html import escape
from importlib import resources
from pathlib import Path
from typing import Any

from .model import ARMS, VERDICTS, CaseResult, Record
from .rundir import StreamedFile
from .summary import BUCKETS_PER_DOUBLING, bucket_bounds, run_facts
from .terminal import problem_line

SHOWN_ARMS = ("P", "C", "S")  # the order of the side-by-side: the change next to its reference, the noise last
MAX_EQUIVALENT = 200
MAX_CHARS = 2000
_JSON_UNSAFE = str.maketrans({"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"})


def _asset(name: str) -> str:
    return resources.files("migrator.replay").joinpath("assets").joinpath(name).read_text(encoding="utf-8")


def _hash(source: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(source.encode("utf-8")).digest()).decode() + "'"


def json_for_script(value: Any) -> str:
    """JSON that can sit inside ``<script>``: it cannot close the tag."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str).translate(_JSON_UNSAFE)


def cut(value: Any, limit: int) -> Any:
    """Strings cut to ``limit`` characters (saying how much was cut), through lists and dicts."""
    if isinstance(value, str):
        return value if len(value) <= limit else value[:limit] + f"… [{len(value) - limit} more characters]"
    if isinstance(value, list):
        return [cut(v, limit) for v in value[:50]] + ([f"… [{len(value) - 50} more items]"] if len(value) > 50 else [])
    if isinstance(value, dict):
        return {str(k): cut(v, limit) for k, v in value.items()}
    return value


def brief(value: Any, limit: int = 160) -> str:
    shown = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    return shown if len(shown) <= limit else shown[:limit] + "…"


def request_summary(body: Mapping[str, Any] | None, limit: int) -> list[list[str]]:
    """A request as label/value pairs: the model, the messages or input items by role, the last
    user text, the tools by name, and every other parameter in short."""
    if body is None:
        return [["request", "not translated"]]
    rows: list[list[str]] = []
    for key, value in body.items():
        if key in ("messages", "input") and isinstance(value, list):
            roles = [str(m.get("role") or m.get("type") or "?") for m in value if isinstance(m, dict)]
            rows.append([key, f"{len(value)}: " + ", ".join(roles[:12]) + (" …" if len(roles) > 12 else "")])
            last = _last_user_text(value)
            if last is not None:
                rows.append(["last user text", cut(last, limit)])
        elif key == "tools" and isinstance(value, list):
            rows.append([key, ", ".join(_tool_name(t) for t in value)])
        elif isinstance(value, str):
            rows.append([key, cut(value, limit)])
        else:
            rows.append([key, brief(value)])
    return rows


def _last_user_text(items: list[Any]) -> str | None:
    for item in reversed(items):
        if isinstance(item, dict) and item.get("role") == "user":
            content = item.get("content")
            if isinstance(content, str):
                return content
            if isinstance(content, list):
                return " ".join(str(p.get("text", "")) for p in content if isinstance(p, dict) and "text" in p)
    return None


def _tool_name(tool: Any) -> str:
    if not isinstance(tool, dict):
        return "?"
    function = tool.get("function")
    return str(function.get("name") if isinstance(function, dict) else tool.get("name") or tool.get("type") or "?")


def record_view(record: Record, limit: int) -> dict[str, Any]:
    extra: Mapping[str, Any] = record  # StreamFacts ride along when normalize keeps them
    return {
        "ok": record["ok"], "status": record["status"], "finish": record["finish"],
        # The server's (or the client's) own words beside the error's type: what a person needs to act on it.
        "error": cut(f"{record['error_type']}: {extra['error_message']}" if record["error_type"] and extra.get("error_message")
                     else record["error_type"], limit),
        "text": cut(record["text"], limit), "refusal": cut(record["refusal"], limit),
        "tool_calls": [{"name": t["name"], "arguments": cut(t["arguments"], limit), "valid": t["arguments_valid"]} for t in record["tool_calls"][:20]],
        "structured": record["structured"], "usage": record["usage"], "model": record["model"],
        "ttft_ms": record["ttft_ms"], "total_ms": record["total_ms"], "choices": extra.get("choices"), "stream": extra.get("stream"),
    }


def case_view(result: CaseResult, limit: int) -> dict[str, Any]:
    return {
        "id": result["id"], "source": result["source"], "line": result["line"], "verdict": result["verdict"],
        "reason": result["reason"], "order": result["order"], "noise": result["noise"],
        "fields": [{"field": d["field"], "detail": d["detail"], "P": cut(d["P"], 400), "C": cut(d["C"], 400), "S": cut(d["S"], 400),
                    "explained_by": d["explained_by"]} for d in result["fields"]],
        "losses": result["losses"],
        "request": {"chat": request_summary(result["request"], limit), "responses": request_summary(result["translated"], limit)},
        "records": {arm: [record_view(r, limit) for r in result["records"].get(arm, [])] for arm in ARMS},
        "scores": result["scores"],
    }


# --- the static parts -----------------------------------------------------------------------


def _counts(summary: Mapping[str, Any]) -> str:
    cards = [f'<div class="count total"><span class="n" data-count="cases">{summary["cases"]}</span><span>cases</span></div>']
    for v in VERDICTS:
        cards.append(f'<div class="count {v}"><span class="n" data-count="{v}">{summary["verdicts"][v]}</span><span>{v}</span></div>')
    d = summary["divergent"]
    note = (f'<p class="note">{d["explained"]} divergent case(s) explained by a translation loss, {d["unexplained"]} unexplained. '
            f'{summary["problems"]["count"]} corpus entr{"y" if summary["problems"]["count"] == 1 else "ies"} could not be read.'
            + (f' {summary["unreadable_results"]} results.jsonl line(s) could not be read and are left out.' if summary.get("unreadable_results") else "")
            + "</p>")
    return '<section id="counts" class="counts">' + "".join(cards) + "</section>" + note


def _run_line(summary: Mapping[str, Any]) -> str:
    parts = [f"{escape(name)}: {escape(brief(value, 120))}" for name, value in run_facts(summary.get("run") or {})]
    return f'<p class="run">{" · ".join(parts)}</p>' if parts else ""


def _table(headers: Iterable[str], rows: Iterable[Iterable[str]], cls: str = "") -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>" for row in rows)
    return f'<table class="{cls}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def _fields(summary: Mapping[str, Any]) -> str:
    fields = summary["fields"]
    if not fields:
        return ""
    top = max(max(s["cases"], s["noise"]) for s in fields.values()) or 1
    rows = []
    for name, s in fields.items():
        losses = ", ".join(f"<code>{escape(path)}</code> ({n})" for path, n in s["by_loss"].items()) or "none"
        rows.append([f"<code>{escape(name)}</code>", str(s["cases"]), str(s["explained"]), str(s["noise"]), losses, _bars(s, top)])
    return "<section><h2>Divergent fields</h2>" + _table(["field", "cases", "explained", "noise (P≠S)", "explained by", ""], rows, "fields") + "</section>"


def _bars(stats: Mapping[str, Any], top: int) -> str:
    """Diffy's two bars per field: P≠C beyond the noise (explained part lighter) against P≠S."""
    w = 160
    explained = round(w * stats["explained"] / top)
    unexplained = round(w * stats["unexplained"] / top)
    noise = round(w * stats["noise"] / top)
    return (f'<svg class="bars" width="{w}" height="18" role="img" aria-label="divergent {stats["cases"]}, noise {stats["noise"]}">'
            f'<rect class="unexplained" x="0" y="1" width="{unexplained}" height="7"/>'
            f'<rect class="explained" x="{unexplained}" y="1" width="{explained}" height="7"/>'
            f'<rect class="noise" x="0" y="10" width="{noise}" height="7"/></svg>')


def _field_stats(summary: Mapping[str, Any]) -> str:
    """The judge's Diffy-style aggregate: per field, how often P≠C against how often P≠S."""
    stats = summary.get("field_stats")
    if not isinstance(stats, list) or not all(isinstance(row, Mapping) for row in stats):
        return ""
    rows = [[f"<code>{escape(str(row.get('field')))}</code>", escape(str(row.get("raw"))), escape(str(row.get("noise"))),
             escape(str(row.get("divergent"))), escape(str(row.get("explained"))),
             '<span class="badge divergent">flagged</span>' if row.get("flagged") else ""]
            for row in stats if row.get("raw") or row.get("noise") or row.get("divergent")]
    if not rows:
        return ""
    return ('<section id="field-stats"><h2>Raw differences against the noise, per field</h2>'
            + _table(["field", "P≠C (raw)", "P≠S (noise)", "divergent", "explained", ""], rows)
            + '<p class="note">Diffy\'s rule: a field is flagged when raw exceeds noise by the relative and absolute thresholds.</p></section>')


def _losses(summary: Mapping[str, Any]) -> str:
    losses = summary["losses"]
    if not losses:
        return ""
    rows = [[f"<code>{escape(path)}</code>", escape(info["kind"]), str(info["cases"]), str(info["explains"]), escape(info["reason"])]
            for path, info in losses.items()]
    return "<section><h2>Translation losses</h2>" + _table(["loss", "kind", "cases translated with it", "divergent cases it explains", "why"], rows) + "</section>"


def _errors(summary: Mapping[str, Any]) -> str:
    if not summary["errors"]:
        return ""
    rows = [[escape(kind), str(n)] for kind, n in summary["errors"].items()]
    return "<section><h2>Errors</h2>" + _table(["type", "cases"], rows) + "</section>"


def _problems(summary: Mapping[str, Any]) -> str:
    problems = summary["problems"]
    if not problems["count"]:
        return ""
    items = "".join(f"<li><code>{escape(problem_line(p))}</code></li>" for p in problems["first"])
    more = problems["count"] - len(problems["first"])
    tail = f"<p class=\"note\">and {more} more (all in problems.jsonl)</p>" if more > 0 else ""
    return f'<section><h2>Corpus problems ({problems["count"]}, skipped)</h2><ul class="problems">{items}</ul>{tail}</section>'


def _baseline(changes: list[dict[str, Any]] | None, limit: int = 500) -> str:
    if changes is None:
        return ""
    if not changes:
        return '<section id="baseline"><h2>Against the baseline</h2><p>No case changed verdict.</p></section>'
    rows = [[escape(str(c["id"])), f"{escape(str(c['source']))}:{escape(str(c['line']))}", f'<span class="badge {escape(str(c["before"]))}">{escape(str(c["before"]))}</span>',
             f'<span class="badge {escape(str(c["after"]))}">{escape(str(c["after"]))}</span>', "yes" if c["same_request"] else "changed", escape(c["reason"])]
            for c in changes[:limit]]
    more = f'<p class="note">and {len(changes) - limit} more</p>' if len(changes) > limit else ""
    return (f'<section id="baseline"><h2>Against the baseline: {len(changes)} case(s) changed verdict</h2>'
            + _table(["case", "where", "before", "now", "same request", "reason now"], rows) + more + "</section>")


def _latency(summary: Mapping[str, Any]) -> str:
    latency = summary["latency"]
    if not any(m["total"]["count"] for m in latency.values()):
        return ""
    plots = [_percentile_plot(latency, metric) for metric in ("ttft", "total") if any(m[metric]["count"] for m in latency.values())]
    return ('<section id="latency"><h2>Latency per arm</h2><div class="plots">' + "".join(plots) + _histogram(latency) + "</div>"
            f'<p class="note">{escape(summary.get("latency_method", ""))}</p></section>')


def _percentile_plot(latency: Mapping[str, Any], metric: str) -> str:
    width, height, left, bar = 340, 180, 44, 26
    top = max((m[metric]["p95"] or 0) for m in latency.values()) or 1.0
    scale = (height - 56) / top
    parts = [f'<svg class="plot" width="{width}" height="{height}" role="img" aria-label="{metric} p50 and p95 per arm">',
             f'<text class="title" x="0" y="14">{"time to first token" if metric == "ttft" else "total time"} (ms): p50 | p95</text>',
             f'<line class="axis" x1="{left}" y1="{height - 20}" x2="{width - 6}" y2="{height - 20}"/>',
             f'<text class="tick" x="{left - 4}" y="{height - 20}" text-anchor="end">0</text>',
             f'<text class="tick" x="{left - 4}" y="{height - 20 - top * scale + 4:.0f}" text-anchor="end">{_fmt(top)}</text>']
    for i, arm in enumerate(SHOWN_ARMS):
        metrics = latency[arm]
        x = left + 14 + i * 94
        for j, q in enumerate(("p50", "p95")):
            value = metrics[metric][q]
            if value is None:
                continue
            h = value * scale
            y = height - 20 - h
            parts.append(f'<rect class="arm-{arm} {q}" x="{x + j * (bar + 4)}" y="{y:.1f}" width="{bar}" height="{h:.1f}"><title>{arm} {q} {_fmt(value)} ms</title></rect>')
            parts.append(f'<text class="value" x="{x + j * (bar + 4) + bar / 2:.0f}" y="{y - 3:.1f}" text-anchor="middle">{_fmt(value)}</text>')
        parts.append(f'<text class="tick" x="{x + bar + 2}" y="{height - 6}" text-anchor="middle">{arm}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _histogram(latency: Mapping[str, Any]) -> str:
    """Total time per arm, one bar per doubling (the summary's buckets, merged by eight)."""
    per_arm: dict[str, dict[int, int]] = {}
    for arm in SHOWN_ARMS:
        coarse: dict[int, int] = {}
        for index, n in latency[arm]["total"]["buckets"].items():
            octave = int(index) // BUCKETS_PER_DOUBLING
            coarse[octave] = coarse.get(octave, 0) + n
        per_arm[arm] = coarse
    octaves = [o for c in per_arm.values() for o in c]
    if not octaves:
        return ""
    low, high = min(octaves), max(octaves)
    span = high - low + 1
    width, height, left, row = 340, 36 + 52 * len(per_arm), 44, 52
    slot = (width - left - 8) / span
    parts = [f'<svg class="plot" width="{width}" height="{height}" role="img" aria-label="total time histogram per arm">',
             '<text class="title" x="0" y="14">total time histogram (cases per doubling, ms)</text>']
    for i, (arm, coarse) in enumerate(per_arm.items()):
        base = 24 + row * (i + 1)
        most = max(coarse.values(), default=0) or 1
        parts.append(f'<text class="tick" x="{left - 6}" y="{base - 4}" text-anchor="end">{arm}</text>')
        parts.append(f'<line class="axis" x1="{left}" y1="{base}" x2="{width - 8}" y2="{base}"/>')
        for octave, n in sorted(coarse.items()):
            h = (row - 14) * n / most
            lo, hi = bucket_bounds(octave * BUCKETS_PER_DOUBLING)[0], bucket_bounds((octave + 1) * BUCKETS_PER_DOUBLING - 1)[1]
            x = left + (octave - low) * slot
            parts.append(f'<rect class="arm-{arm}" x="{x + 1:.1f}" y="{base - h:.1f}" width="{max(slot - 2, 1):.1f}" height="{h:.1f}">'
                         f"<title>{arm}: {n} sample(s) {_fmt(lo)}–{_fmt(hi)} ms</title></rect>")
    foot = height - 4
    parts.append(f'<text class="tick" x="{left}" y="{foot}">{_fmt(bucket_bounds(low * BUCKETS_PER_DOUBLING)[0])} ms</text>')
    parts.append(f'<text class="tick" x="{width - 8}" y="{foot}" text-anchor="end">{_fmt(bucket_bounds((high + 1) * BUCKETS_PER_DOUBLING - 1)[1])} ms</text>')
    parts.append("</svg>")
    return "".join(parts)


def _fmt(ms: float) -> str:
    return f"{ms:.0f}" if ms >= 10 else f"{ms:.2g}"


def _filters(summary: Mapping[str, Any], shown_equivalent: int) -> str:
    buttons = ['<button type="button" class="verdict-filter active" data-verdict="all">all</button>']
    buttons += [f'<button type="button" class="verdict-filter {v}" data-verdict="{v}">{v}</button>' for v in VERDICTS]
    fields = "".join(f'<option value="{escape(name)}">{escape(name)}</option>' for name in summary["fields"])
    equivalent = summary["verdicts"]["equivalent"]
    capped = (f'<p class="note" id="capped">The page holds every divergent and error case and {shown_equivalent} of the {equivalent} '
              f"equivalent ones; results.jsonl has them all.</p>") if shown_equivalent < equivalent else ""
    return (
        '<section id="cases-section"><h2>Cases</h2>' + capped + '<div class="filters">'
        + '<span class="group" role="group" aria-label="verdict">' + "".join(buttons) + "</span>"
        + '<label>field <select id="field-filter"><option value="">any</option>' + fields + "</select></label>"
        + '<label>divergence <select id="explained-filter"><option value="">any</option><option value="explained">explained by a loss</option>'
        + '<option value="unexplained">unexplained</option></select></label>'
        + '<label>search <input id="search" type="search" placeholder="id, file or reason"></label>'
        + '<span id="shown" class="note"></span></div>'
        + '<table id="case-table"><thead><tr><th>verdict</th><th>case</th><th>where</th><th>reason</th><th>fields</th></tr></thead>'
        + '<tbody></tbody></table><p class="more-row"><button type="button" id="more" hidden>show more</button></p>'
        + '<noscript><p>The case table needs JavaScript; the counts above and results.jsonl do not.</p></noscript></section>'
    )


class ReportWriter(StreamedFile):
    """Streams the page: the static parts from the summary, then the kept cases into the JSON block."""

    def __init__(self, path: Path, summary: Mapping[str, Any], baseline_changes: list[dict[str, Any]] | None = None, *,
                 max_equivalent: int = MAX_EQUIVALENT, max_chars: int = MAX_CHARS) -> None:
        self.max_equivalent = max_equivalent
        self.max_chars = max_chars
        self.kept = 0
        self.equivalent = 0
        super().__init__(path)
        css, self._js = _asset("report.css"), _asset("report.js")
        csp = (f"default-src 'none'; script-src {_hash(self._js)}; style-src {_hash(css)}; img-src data:; "
               "base-uri 'none'; form-action 'none'")
        shown_equivalent = min(max_equivalent, summary["verdicts"]["equivalent"])
        self.fh.write(
            '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f'<meta http-equiv="Content-Security-Policy" content="{csp}">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>migrator replay: {summary['verdicts']['divergent']} divergent, {summary['verdicts']['error']} error, "
            f"{summary['cases']} cases</title><style>{css}</style></head><body>"
            f'<header><h1>migrator replay</h1>{_run_line(summary)}</header><main>'
            + _counts(summary) + _baseline(baseline_changes) + _latency(summary) + _fields(summary) + _field_stats(summary) + _losses(summary)
            + _errors(summary) + _problems(summary) + _filters(summary, shown_equivalent)
            + '</main><script type="application/json" id="cases">['
        )

    def add(self, result: CaseResult) -> None:
        if result["verdict"] == "equivalent":
            self.equivalent += 1
            if self.equivalent > self.max_equivalent:
                return
        self.fh.write(("," if self.kept else "") + json_for_script(case_view(result, self.max_chars)) + "\n")
        self.kept += 1

    def tail(self) -> str:
        return f"]</script><script>{self._js}</script></body></html>\n"


def write_report(path: Path, results: Iterable[CaseResult], summary: Mapping[str, Any],
                 baseline_changes: list[dict[str, Any]] | None = None, *, max_equivalent: int = MAX_EQUIVALENT) -> None:
    with ReportWriter(path, summary, baseline_changes, max_equivalent=max_equivalent) as writer:
        for result in results:
            writer.add(result)
