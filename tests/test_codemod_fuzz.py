"""Generated call sites: whatever the arguments, the codemod's output parses, a second run changes
nothing, and every argument is still there: kept, renamed by its rule, or named in a note."""

from __future__ import annotations

import ast
import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from migrator.codemod.outcome import NOTE_PREFIX, Options
from migrator.codemod.transform import transform_code
from migrator.mapping.rules import TABLES

REQUEST = TABLES["chat.request"]
NAMES = [*sorted(REQUEST), "timeout", "extra_body", "bogus_option"]

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 300) | st.floats(0, 2, allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(["type", "text", "role", "content", "name", "x"]),
                                                                inner, max_size=3),
    max_leaves=8,
)
messages = st.lists(
    st.fixed_dictionaries({"role": st.sampled_from(["system", "user", "assistant", "developer", "tool"]),
                           "content": st.text(max_size=10) | st.just("@name")}),
    min_size=0, max_size=3,
)


def _code(value: Any) -> str:
    if value == "@name":
        return "question"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{json.dumps(k)}: {_code(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_code(v) for v in value) + "]"
    return repr(value)


arguments = st.dictionaries(st.sampled_from(NAMES), json_values | st.just("@name"), max_size=5)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(arguments, messages, st.booleans())
def test_generated_calls_parse_rerun_cleanly_and_keep_every_argument(args: dict[str, Any], msgs: list[Any], multiline: bool) -> None:
    args = {k: v for k, v in args.items() if k not in ("messages", "stream")}
    parts = [f"messages={_code(msgs)}", *(f"{k}={_code(v)}" for k, v in args.items())]
    sep = ",\n        " if multiline else ", "
    code = ("from openai import OpenAI\n\nclient = OpenAI()\n\n\ndef ask(question):\n"
            f"    reply = client.chat.completions.create({sep.join(parts)})\n"
            "    return reply.choices[0].message.content\n")
    outcome = transform_code(code, Options())
    ast.parse(outcome.code)
    assert transform_code(outcome.code, Options()).code == outcome.code
    (site,) = outcome.sites
    if site.verdict == "left for a person":
        assert outcome.code.replace("\n    " + NOTE_PREFIX, "\n" + NOTE_PREFIX).count(NOTE_PREFIX) >= 1
        body = [line for line in outcome.code.splitlines() if not line.lstrip().startswith("#")]
        assert "\n".join(body) == code.rstrip("\n"), "a site left for a person must keep its code"
        return
    call = next(n for n in ast.walk(ast.parse(outcome.code)) if isinstance(n, ast.Call) and getattr(n.func, "attr", "") == "create")
    written = {k.arg for k in call.keywords}
    notes = "\n".join(line for line in outcome.code.splitlines() if NOTE_PREFIX in line)
    for name in args:
        rule = REQUEST.get(name)
        target = (rule.to if rule is not None and rule.to else name).split(".")[0]
        assert target in written or f"`{name}=" in notes or f"{name}:" in notes or f"{name}." in notes, (name, outcome.code)
