"""A case's verdict from its arms' Records: P (chat), C (the translation, on Responses) and S (chat again).

Diffy's idea, per case: whatever already differs between P and S is the model's own noise, and only
a P-versus-C difference beyond it counts. Fields compare three ways:

* exactly — status class, error type, finish, refusal present, tool calls (names as a multiset,
  arguments as parsed JSON, so key order, whitespace and the order of parallel calls do not count),
  structured-output validity, input tokens, the (masked) model and, where chat asked for n > 1, the
  choice count. A field whose P and S values already disagree is noise: listed in ``noise`` and not
  judged.
* output tokens by a band: the P/S range widened by its own width, and by at least ``OUTPUT_SLACK``
  (10%) or ``OUTPUT_TOKENS`` (2 tokens) when P and S agree; the median of C must fall inside.
* text by similarity (similarity.py) against the P–S spread. P and S are two draws of the same
  request, so C is scored against both: with one sample per arm, C is divergent when even the nearer
  of s(P, C) and s(S, C) falls below the floor s(P, S) by more than ``TEXT_TOLERANCE`` (0.15). One
  draw of the floor is itself noisy: on a simulated sampled model (tests/test_replay_judge.py) this
  rule misjudges about 2% of same-distribution answers (7% at 0.10; 16% scoring P–C alone), while an
  unrelated answer scores near 0; on a deterministic model (floor 1.0) it still catches a change of
  more than about one word in seven. With K > 1 samples the decision is over all pairs: C is divergent
  when the median of the P–C and S–C scores falls below the lowest P–S score by more than
  ``TEXT_TOLERANCE_K`` (0.05). The lowest P–S score is what the model's own re-draws already reach,
  and a median is not moved by a minority of odd C samples; a rank test would assume the pairs
  independent, which they are not (they share samples). Without an S arm the floor is 1.0 (exact).

Each divergent field names the translation's losses that can explain it, from mappings/replay.json.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from statistics import median
from typing import Any

from migrator.mapping.rules import read_mappings

from .model import ARMS, CaseResult, FieldDiff, Judgement, Loss, Record
from .similarity import similarity

TEXT_TOLERANCE = 0.15
TEXT_TOLERANCE_K = 0.05
OUTPUT_SLACK = 0.10
OUTPUT_TOKENS = 2
#: Diffy's defaults: a field is flagged when its raw count exceeds its noise count by 20% of the two
#: (relative) and by 0.03% of all cases (absolute).
RELATIVE_THRESHOLD = 20.0
ABSOLUTE_THRESHOLD = 0.03
#: Error types of a request that got no answer at all (after the client's retries).
TRANSPORT = frozenset({"timeout", "connection"})
#: The kind of a Loss that stands for a Problem: the translation failed (see ``translation_failed``).
PROBLEM = "problem"

_EXPLAINS = read_mappings("replay.json")["explains"]
_DEFAULT: frozenset[str] = frozenset(_EXPLAINS["default"]["fields"])
_BY_LOSS: dict[str, frozenset[str]] = {field: frozenset(e["fields"]) for field, e in _EXPLAINS["losses"].items()}


def explains(loss_field: str) -> frozenset[str]:
    """The compared fields a loss of this field can explain (mappings/replay.json)."""
    return _BY_LOSS.get(loss_field, _DEFAULT)


def translation_failed(problems: Iterable[Any]) -> list[Loss]:
    """The losses to pass ``judge`` (with no "C" records) when the engine could not translate P:
    one per Problem of the MappingError, so the verdict's reason names the place."""
    return [{"path": str(p.path), "field": "translation", "kind": PROBLEM, "reason": f"expected {p.expected}, found {p.found}"}
            for p in problems]


# ------------------------------------------------------------------------ what is compared


def _canon(value: Any) -> str:
    try:
        return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    except (TypeError, ValueError, RecursionError):
        return repr(value)


def _status(r: Record) -> Any:
    s = r.get("status")
    return f"{s // 100}xx" if type(s) is int else None


def _tool_calls(r: Record) -> Any:
    calls = r.get("tool_calls") or []
    return tuple(sorted((str(c.get("name")), _canon(c.get("arguments")), bool(c.get("arguments_valid"))) for c in calls))


def _structured(r: Record) -> Any:
    s = r.get("structured")
    return s.get("valid") if type(s) is dict else None


def _usage(key: str) -> Callable[[Record], Any]:
    def read(r: Record) -> Any:
        u = r.get("usage")
        return u.get(key) if type(u) is dict else None
    return read


#: Compared on every record, answered or not.
_ALWAYS: dict[str, Callable[[Record], Any]] = {
    "status": _status,
    "error": lambda r: r.get("error_type"),
}
#: Compared on answered records only (a failed answer has no finish or text).
_ANSWER: dict[str, Callable[[Record], Any]] = {
    "finish": lambda r: r.get("finish"),
    "refusal": lambda r: r.get("refusal") is not None,
    "tool_calls": _tool_calls,
    "structured": _structured,
    "usage.input": _usage("input"),
    "model": lambda r: r.get("model"),
    "choices": lambda r: r.get("choices"),
}
_OUTPUT = _usage("output")


def _shown(field: str, r: Record | None) -> Any:
    """A short value for the side-by-side view."""
    if r is None:
        return None
    if field == "tool_calls":
        return [{"name": c.get("name"), "arguments": c.get("arguments")} for c in r.get("tool_calls") or []]
    if field == "text":
        text = r.get("text") or ""
        return text if len(text) <= 400 else text[:400] + "…"
    if field == "refusal":
        return r.get("refusal")
    if field == "status":
        return r.get("status")
    if field == "structured":
        return r.get("structured")
    view = _ALWAYS.get(field) or _ANSWER.get(field) or (_OUTPUT if field == "usage.output" else None)
    return view(r) if view is not None else None


# ------------------------------------------------------------------------------ the verdict


def judge(records: dict[str, list[Record]], losses: list[Loss], request: dict[str, Any]) -> Judgement:
    """The verdict for one case. ``records``: arm → one Record per sample; a case whose translation
    failed has no "C" and its ``losses`` hold ``translation_failed(problems)``. ``request``: the chat
    request (P's body); its ``n`` says whether the choice count is compared."""
    recs = records if type(records) is dict else {}
    P = list(recs.get("P") or [])
    S = list(recs.get("S") or [])
    C = recs.get("C")
    loss_list = [loss for loss in losses if type(loss) is dict] if type(losses) is list else []
    scores: dict[str, list[float]] = {"PC": [], "PS": []}

    if not C:
        problems = [loss for loss in loss_list if loss.get("kind") == PROBLEM]
        why = "; ".join(f"{loss.get('path')}: {loss.get('reason')}" for loss in problems[:3]) or "no C arm was sent"
        return _error(f"translation failed: {why}", [], scores)
    if not P:
        return _error("no answer from the chat arm (P)", [], scores)
    for arm in ARMS:
        for r in recs.get(arm) or []:
            if not r.get("ok") and r.get("error_type") in TRANSPORT:
                why = f"arm {arm} got no answer: {r.get('error_type')} after retries"
                if r.get("error_message"):
                    why += f" ({r.get('error_message')})"
                return _error(why, [_diff("error", why, P[0], C[0], _first(S), [])], scores)
    failed = next((r for r in P if not r.get("ok")), None)
    if failed is not None:
        return _error(_p_failed(failed, C), [_diff("error", "the chat request fails", failed, C[0], _first(S), [])], scores)

    fields: list[FieldDiff] = []
    noise: list[str] = []
    Pok, Sok, Cok = ([r for r in arm if r.get("ok")] for arm in (P, S, C))
    for name, view in _ALWAYS.items():
        _exact(name, view, P, S, C, fields, noise)
    several = type(request) is dict and type(request.get("n")) is int and request["n"] > 1
    if Cok:
        for name, view in _ANSWER.items():
            if name != "choices" or several:  # the choice count matters only where chat was asked for n > 1
                _exact(name, view, Pok, Sok, Cok, fields, noise)
        _output(Pok, Sok, Cok, fields, noise)
        _text(Pok, Sok, Cok, fields, noise, scores)

    _server_words(fields, C, request)
    for diff in fields:
        diff["explained_by"] = [loss for loss in loss_list if loss.get("kind") != PROBLEM and diff["field"] in explains(str(loss.get("field")))]
    if not fields:
        return {"verdict": "equivalent", "reason": "equivalent", "fields": [], "noise": noise, "scores": scores}
    return {"verdict": "divergent", "reason": _reason(fields), "fields": fields, "noise": noise, "scores": scores}


def _first(records: list[Record]) -> Record | None:
    return records[0] if records else None


def _error(reason: str, fields: list[FieldDiff], scores: dict[str, list[float]]) -> Judgement:
    return {"verdict": "error", "reason": reason, "fields": fields, "noise": [], "scores": scores}


def _diff(field: str, detail: str, p: Record | None, c: Record | None, s: Record | None, explained: list[Loss]) -> FieldDiff:
    return {"field": field, "detail": detail, "P": _shown(field, p), "C": _shown(field, c), "S": _shown(field, s), "explained_by": explained}


def _p_failed(p: Record, C: list[Record]) -> str:
    what = f"{p.get('error_type')}, HTTP {p.get('status')}" if p.get("status") is not None else str(p.get("error_type"))
    if p.get("error_message"):
        what += f": {_short(p.get('error_message'))}"
    reason = f"the chat request itself fails ({what})"
    c_failed = [r for r in C if not r.get("ok")]
    if c_failed and all(r.get("error_type") == p.get("error_type") for r in c_failed) and len(c_failed) == len(C):
        return reason + "; C failed the same way"
    if c_failed:
        return reason + f"; C failed differently ({c_failed[0].get('error_type')})"
    return reason + "; C answered"


def _exact(name: str, view: Callable[[Record], Any], P: list[Record], S: list[Record], C: list[Record],
           fields: list[FieldDiff], noise: list[str]) -> None:
    if not P or not C:
        return
    base = {view(r) for r in P} | {view(r) for r in S}
    if len(base) > 1:
        noise.append(name)
        return
    (expected,) = base
    odd = next((r for r in C if view(r) != expected), None)
    if odd is not None:
        fields.append(_diff(name, f"P {_short(expected)}, C {_short(view(odd))}", P[0], odd, _first(S), []))


def _server_words(fields: list[FieldDiff], C: list[Record], request: dict[str, Any]) -> None:
    """Add to a difference what the server itself says about it, so the report tells a server's
    deviation from a translation's loss.

    * an error: its message (llama.cpp refuses an assistant turn without ``"type": "message"`` with
      only ``invalid_request_error``; the message names the item);
    * a finish of ``length`` on chat and ``stop`` on Responses where the Response spent exactly the
      tokens its request allowed: servers that convert Responses to chat (llama.cpp) answer a cut
      Response with status ``completed`` and no ``incomplete_details``.
    """
    for diff in fields:
        if diff["field"] == "error":
            said = next((r.get("error_message") for r in C if r.get("error_message")), None)
            if said:
                diff["detail"] += f" ({_short(said)})"
        elif diff["field"] == "finish" and diff["P"] == "length" and diff["C"] == "stop":
            asked = request if type(request) is dict else {}
            cap = next((v for v in (asked.get("max_completion_tokens"), asked.get("max_tokens")) if type(v) is int), None)
            if cap is not None and any(r.get("finish") == "stop" and _OUTPUT(r) == cap for r in C):
                diff["detail"] += (f"; C spent all {cap} output tokens it was allowed yet says completed: the server "
                                   "does not report the cut (a server deviation, not a translation loss)")


def _short(value: Any) -> str:
    text = value if type(value) is str else _canon(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _output(P: list[Record], S: list[Record], C: list[Record], fields: list[FieldDiff], noise: list[str]) -> None:
    base = [v for v in map(_OUTPUT, P + S) if type(v) is int]
    got = [v for v in map(_OUTPUT, C) if type(v) is int]
    if not base or not got:
        return
    lo, hi = min(base), max(base)
    if lo != hi:
        noise.append("usage.output")
    width = max(hi - lo, OUTPUT_SLACK * hi, OUTPUT_TOKENS)
    c = median(got)
    if not lo - width <= c <= hi + width:
        spread = f"{lo}" if lo == hi else f"{lo}–{hi}"
        fields.append(_diff("usage.output", f"{c:g} output tokens, P/S {spread} (band {max(lo - width, 0):g}–{hi + width:g})",
                            P[0], C[0], _first(S), []))


def _text(P: list[Record], S: list[Record], C: list[Record], fields: list[FieldDiff], noise: list[str],
          scores: dict[str, list[float]]) -> None:
    pc = scores["PC"] = _pairs(P, C)
    ps = scores["PS"] = _pairs(P, S)
    sc = scores["SC"] = _pairs(S, C)
    if any(v < 1.0 for v in ps):
        noise.append("text")
    floor = min(ps, default=1.0)
    if len(pc) == 1:
        # P and S are two draws of the same thing: C counts as close as it is to the nearer of them.
        got, tolerance, kind = max(pc + sc), TEXT_TOLERANCE, "similarity"
    else:
        got, tolerance, kind = median(pc + sc), TEXT_TOLERANCE_K, f"median similarity over {len(pc) + len(sc)} pairs"
    if got < floor - tolerance:
        fields.append(_diff("text", f"text differs beyond the noise ({kind} {got:.2f}, floor {floor:.2f})", P[0], C[0], _first(S), []))


def _pairs(a: list[Record], b: list[Record]) -> list[float]:
    return [round(similarity(x.get("text") or "", y.get("text") or ""), 4) for x in a for y in b]


def _reason(fields: list[FieldDiff]) -> str:
    unexplained = [d["detail"] if d["field"] == "text" else f"{d['field']} differs ({d['detail']})" for d in fields if not d["explained_by"]]
    groups: dict[str, list[str]] = {}
    for d in fields:
        if d["explained_by"]:
            groups.setdefault(_because(d["explained_by"]), []).append(d["field"])
    explained = [f"{_and(names)} {'differs' if len(names) == 1 else 'differ'} because {why}" for why, names in groups.items()]
    return "; ".join(unexplained + explained)


def _because(losses: list[Loss]) -> str:
    paths = list(dict.fromkeys(f"`{loss.get('path')}`" for loss in losses))
    verbs = {"approximated" if loss.get("kind") == "approximated" else "dropped" for loss in losses}
    verb = "approximated" if verbs == {"approximated"} else "dropped"
    return f"{_and(paths)} {'was' if len(paths) == 1 else 'were'} {verb}"


def _and(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


# ------------------------------------------------------------------------------ field stats


def _raw_differs(field: str, a: Record, b: Record) -> bool:
    if field == "text":
        return (a.get("text") or "").split() != (b.get("text") or "").split()
    view = _ALWAYS.get(field) or _ANSWER.get(field) or _OUTPUT
    return bool(view(a) != view(b))


STAT_FIELDS: tuple[str, ...] = (*_ALWAYS, *_ANSWER, "usage.output", "text")


def field_stats(results: Iterable[CaseResult]) -> list[dict[str, Any]]:
    """Diffy's per-field aggregate over a run, read as a stream (constant memory).

    Per field: ``raw`` = cases whose first P and C samples differ, ``noise`` = cases whose first P and
    S samples differ, ``divergent`` / ``explained`` = cases the judge flagged on it (beyond the noise)
    and those a loss explains; ``flagged`` when raw > noise and both of Diffy's thresholds pass
    (relative |raw−noise|/(raw+noise) > 20%, absolute |raw−noise|/cases > 0.03%)."""
    raw = dict.fromkeys(STAT_FIELDS, 0)
    noisy = dict.fromkeys(STAT_FIELDS, 0)
    divergent = dict.fromkeys(STAT_FIELDS, 0)
    explained = dict.fromkeys(STAT_FIELDS, 0)
    total = 0
    for result in results:
        total += 1
        records = result.get("records") or {}
        p, s, c = (_first(list(records.get(arm) or [])) for arm in ARMS)
        for field in STAT_FIELDS:
            answered = field in _ALWAYS or (p is not None and p.get("ok"))
            if p is not None and c is not None and answered and (field in _ALWAYS or c.get("ok")) and _raw_differs(field, p, c):
                raw[field] += 1
            if p is not None and s is not None and answered and (field in _ALWAYS or s.get("ok")) and _raw_differs(field, p, s):
                noisy[field] += 1
        for diff in result.get("fields") or []:
            name = diff.get("field")
            if name in divergent and result.get("verdict") == "divergent":
                divergent[name] += 1
                explained[name] += bool(diff.get("explained_by"))
    out = []
    for field in STAT_FIELDS:
        r, n = raw[field], noisy[field]
        relative = abs(r - n) / (r + n) * 100 if r + n else 0.0
        absolute = abs(r - n) / total * 100 if total else 0.0
        out.append({"field": field, "raw": r, "noise": n, "cases": total, "divergent": divergent[field], "explained": explained[field],
                    "relative": round(relative, 3), "absolute": round(absolute, 3),
                    "flagged": r > n and relative > RELATIVE_THRESHOLD and absolute > ABSOLUTE_THRESHOLD})
    return out
