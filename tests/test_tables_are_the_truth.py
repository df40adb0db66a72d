"""The tables of ``mappings/`` drive the output: change a rule there and the engine's output changes.

Every ``rename``/``approximate`` rule (fields and values) gets its target's last segment tagged
(``max_output_tokens`` → ``max_output_tokens_T17``), every rule that reports a loss (all but
``omit``: drops, approximations, converts with a reason) its reason tagged (``… [R17]``), all at once in one copy of the tables (the tags are unique, so one
run tells every rule apart). A fresh engine loads that copy in one subprocess
(``MIGRATOR_MAPPINGS``) and runs every fixture; a rule is *driven* when a fixture that names it
shows its tag: the new key or value in the output, the new reason in the losses.

``copy`` rules have no ``to`` (the target is the field's own name), so there is nothing to mutate;
neither have the fields of an object the table says is ``dropped_whole`` (each is an ``omit``).

``convert`` rules are tagged too. ``DRIVEN_CONVERTS`` lists those whose ``to`` the converter reads
from the table; it only grows (a listed one that stops driving the output fails, and so does an
unlisted one that does). Every other convert target is held by ``test_every_convert_target_is_in_the_output``:
the fixtures that exercise the rule must write its documented ``to`` path, so changing it in the
table fails that test, as the code keeps writing the old one. A convert rule whose converter moves
the object's fields up one level (each field with its own rule) has no ``to`` of its own.

``NOT_YET_DRIVEN`` would list the rules whose target or reason the code still writes itself; it is
empty and stays so (a listed rule that becomes driven fails the test until it is removed).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from migrator import MappingError, StrictModeError, translate
from tests.test_fixtures import CASES, FIXTURES, MAPPINGS

FILES = ("request", "messages", "tools", "results")

#: ``<table>.<field or value>:to`` (a rename whose target the code writes itself) or
#: ``<table>.<field or value>:reason`` (a loss whose reason the code writes itself).
NOT_YET_DRIVEN: dict[str, str] = {}

#: ``<table>.<field>:to`` of the convert rules whose target the engine takes from the table.
DRIVEN_CONVERTS: frozenset[str] = frozenset({
    "chat.choice.finish_reason:to",
    "chat.completion.choices:to",
    "chat.completion.id:to",
    "chat.completion.moderation:to",
    "chat.completion.object:to",
    "chat.completion.usage:to",
    "chat.completion_message.annotations:to",
    "chat.completion_message.refusal:to",
    "chat.completion_message.tool_call.custom:to",
    "chat.completion_message.tool_call.function:to",
    "chat.moderation.input:to",
    "chat.moderation.output:to",
    "chat.request.function_call:to",
    "chat.request.max_tokens:to",
    "chat.request.messages:to",
    "chat.request.response_format:to",
    "chat.request.store:to",
    "chat.request.stream_options:to",
    "chat.request.tool_choice:to",
    "chat.tool.custom.format:to",
    "chat.tool_choice.allowed.allowed_tools:to",
    "chat.tool_choice.allowed.tools:to",
    "chat.tool_choice.named.custom:to",
    "chat.tool_choice.named.function:to",
    "chat.web_search_options.user_location:to",
    "response.id:to",
    "response.moderation.input:to",
    "response.moderation.output:to",
    "response.moderation:to",
    "response.object:to",
    "response.output:to",
    "response.output_text.annotations:to",
    "response.output_text.logprobs:to",
    "response.output_text.refusal:to",
    "response.output_text.text:to",
    "response.service_tier:to",
    "response.status:to",
    "response.usage:to",
    "responses.request.input:to",
    "responses.request.instructions:to",
    "responses.request.parallel_tool_calls:to",
    "responses.request.prompt_cache_options:to",
    "responses.request.service_tier:to",
    "responses.request.stream_options:to",
    "responses.request.text:to",
    "responses.request.tool_choice:to",
    "responses.request.top_logprobs:to",
    "responses.tool.custom.format:to",
    "responses.tool.web_search.user_location:to",
    "responses.tool_choice.allowed.tools:to",
    "responses.tool_choice.named.name:to",
})

_RUNNER = r"""
import json, sys
from pathlib import Path
from migrator import MappingError, StrictModeError, translate

out = []
for path in sorted(Path(sys.argv[1]).rglob("*.json")):
    data = json.loads(path.read_text(encoding="utf-8"))
    for case in data if isinstance(data, list) else [data]:
        rules = case.get("rule", [])
        rules = [rules] if isinstance(rules, str) else rules
        body, reasons = None, []
        try:
            result = translate(case["before"], case["to"], **case.get("options", {}))
            body, reasons = json.dumps(result.body), [loss.reason for loss in result.losses]
        except StrictModeError as exc:
            reasons = [loss.reason for loss in exc.losses]
        except MappingError:
            pass
        except Exception as exc:
            body = f"CRASH {type(exc).__name__}: {exc}"
        out.append({"rules": rules, "body": body, "reasons": reasons})
json.dump(out, sys.stdout)
"""


def _mutate(folder: Path, converts: set[str]) -> dict[str, str]:
    """Tag every rename/convert target and loss reason in the copy at ``folder``: ``{rule:what → tag}``
    (the convert rules' keys also go into ``converts``)."""
    tags: dict[str, str] = {}
    for stem in FILES:
        path = folder / f"{stem}.json"
        raw = json.loads(path.read_text(encoding="utf-8"))
        for section, key in (("tables", "fields"), ("values", "values")):
            for name, table in raw.get(section, {}).items():
                for field, rule in table[key].items():
                    rule_id = f"{name}.{field}"
                    if rule["do"] in ("rename", "convert", "approximate") and rule.get("to"):
                        head, _, last = rule["to"].rpartition(".")
                        new = f"{last}_T{len(tags)}"
                        rule["to"] = f"{head}.{new}" if head else new
                        tags[f"{rule_id}:to"] = json.dumps(new)  # a key or a value: quoted in the JSON
                        if rule["do"] == "convert":
                            converts.add(f"{rule_id}:to")
                    if rule["do"] != "omit" and rule.get("reason"):  # an omit's reason is never reported
                        tag = f"[R{len(tags)}]"
                        rule["reason"] = f"{rule['reason']} {tag}"
                        tags[f"{rule_id}:reason"] = tag
        path.write_text(json.dumps(raw), encoding="utf-8")
    return tags


def _run(folder: Path) -> list[dict[str, Any]]:
    env = {**os.environ, "MIGRATOR_MAPPINGS": str(folder)}
    done = subprocess.run(
        [sys.executable, "-c", _RUNNER, str(FIXTURES)], env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    cases: list[dict[str, Any]] = json.loads(done.stdout)
    return cases


def test_every_rule_drives_the_output(tmp_path: Path) -> None:
    folder = tmp_path / "mappings"
    shutil.copytree(MAPPINGS, folder)
    converts: set[str] = set()
    tags = _mutate(folder, converts)
    cases = _run(folder)

    crashes = [c["body"] for c in cases if isinstance(c["body"], str) and c["body"].startswith("CRASH")]
    assert not crashes, f"the engine crashed on the mutated tables: {crashes[:5]}"

    exercised: set[str] = set()
    driven: set[str] = set()
    for case in cases:
        for rule_id in case["rules"]:
            for what in ("to", "reason"):
                key = f"{rule_id}:{what}"
                if key not in tags:
                    continue
                exercised.add(key)
                seen = case["body"] or "" if what == "to" else "\n".join(case["reasons"])
                if tags[key] in seen:
                    driven.add(key)

    driven_converts = driven & converts
    print(f"converts exercised {len(exercised & converts)}, driven {len(driven_converts)}")
    lost = sorted(DRIVEN_CONVERTS - driven_converts)
    assert not lost, f"these convert rules no longer drive the output: {lost}"
    gained = sorted(driven_converts - DRIVEN_CONVERTS)
    assert not gained, f"these convert rules now drive the output; add them to DRIVEN_CONVERTS: {gained}"
    exercised -= converts
    driven -= converts

    undriven = exercised - driven
    renames = {k for k in exercised if k.endswith(":to")}
    print(f"renames exercised {len(renames)}, driven {len(renames & driven)}; "
          f"reasons exercised {len(exercised - renames)}, driven {len(driven - renames)}")
    newly = sorted(driven & set(NOT_YET_DRIVEN))
    assert not newly, f"these rules now drive the output; remove them from NOT_YET_DRIVEN: {newly}"
    stale = sorted(set(NOT_YET_DRIVEN) - exercised)
    assert not stale, f"NOT_YET_DRIVEN names rules no fixture exercises (or that have nothing to mutate): {stale}"
    missing = sorted(undriven - set(NOT_YET_DRIVEN))
    assert not missing, f"{len(missing)} rules of mappings/ do not drive the output: {missing}"


#: Convert targets that name no key of the output, each with what holds it instead.
NOT_A_KEY: dict[str, str] = {
    "chat.completion_message.content": "names the SDK property Response.output_text (which joins the text parts) that "
                                       "the codemod rewrites message.content to; tests/test_sdk_coverage.py resolves it "
                                       "there and the codemod's rule tests hold it",
}

#: The fixture folders whose cases translate a body into the other dialect.
_TRANSLATIONS = frozenset({"chat_to_responses", "responses_to_chat", "completion_to_response", "response_to_completion"})


def _convert_targets(folder: Path) -> dict[str, tuple[str, ...]]:
    """``<table>.<field or value>`` → the ``to`` path of every convert rule that states one."""
    out: dict[str, tuple[str, ...]] = {}
    for stem in FILES:
        raw = json.loads((folder / f"{stem}.json").read_text(encoding="utf-8"))
        for section, key in (("tables", "fields"), ("values", "values")):
            for name, table in raw.get(section, {}).items():
                for field, rule in table[key].items():
                    if rule["do"] == "convert" and rule.get("to") and f"{name}.{field}" not in NOT_A_KEY:
                        out[f"{name}.{field}"] = tuple(rule["to"].split("."))
    return out


def _has_path(node: Any, parts: tuple[str, ...]) -> bool:
    """Whether some object in ``node`` (at any depth) holds the nested keys ``parts``."""
    if isinstance(node, list):
        return any(_has_path(v, parts) for v in node)
    if not isinstance(node, dict):
        return False
    at: Any = node
    for part in parts:
        if not isinstance(at, dict) or part not in at:
            break
        at = at[part]
    else:
        return True
    return any(_has_path(v, parts) for v in node.values())


def _translated() -> list[tuple[list[str], Any]]:
    """(the rules a case names, its translated body) for every translation fixture that translates."""
    out = []
    for param in CASES:
        direction, case = param.values
        if direction not in _TRANSLATIONS or "xfail" in case:
            continue
        try:
            body = translate(case["before"], case["to"], **case.get("options", {})).body
        except (MappingError, StrictModeError):
            continue
        rules = case.get("rule", [])
        out.append(([rules] if isinstance(rules, str) else list(rules), body))
    return out


def _targets_not_written(targets: dict[str, tuple[str, ...]], cases: list[tuple[list[str], Any]]) -> list[str]:
    """The convert rules no fixture exercises, or whose ``to`` no fixture naming them writes."""
    named: dict[str, list[Any]] = {}
    for rules, body in cases:
        for rule in rules:
            named.setdefault(rule, []).append(body)
    bad = []
    for rule, parts in sorted(targets.items()):
        bodies = named.get(rule)
        if not bodies:
            bad.append(f"{rule}: no translating fixture names it")
        elif not any(_has_path(body, parts) for body in bodies):
            bad.append(f"{rule}: to {'.'.join(parts)!r} is in no output of the fixtures naming it")
    return bad


def test_every_convert_target_is_in_the_output() -> None:
    """The documented ``to`` of each convert rule is what the engine writes: a converter that writes its
    own name holds the table to it, so a changed ``to`` (as the check below makes) fails here."""
    targets = _convert_targets(MAPPINGS)
    cases = _translated()
    assert len(targets) > 90, "the convert rules were not found"
    bad = _targets_not_written(targets, cases)
    assert not bad, f"{len(bad)} convert rules document a target the engine does not write:\n  " + "\n  ".join(bad)
    for rule in ("response.output.message.content", "chat.request.tools", "chat.message.tool.content"):
        moved = {**targets, rule: (*targets[rule][:-1], targets[rule][-1] + "_renamed")}
        assert _targets_not_written(moved, cases) == [f"{rule}: to {'.'.join(moved[rule])!r} is in no output of the fixtures naming it"]
