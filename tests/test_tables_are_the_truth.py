"""The tables of ``mappings/`` drive the output: change a rule there and the engine's output changes.

Every ``rename`` rule (fields and values) gets its target's last segment tagged
(``max_output_tokens`` → ``max_output_tokens_T17``), every ``drop``/``approximate`` rule its
reason tagged (``… [R17]``), all at once in one copy of the tables (the tags are unique, so one
run tells every rule apart). A fresh engine loads that copy in one subprocess
(``MIGRATOR_MAPPINGS``) and runs every fixture; a rule is *driven* when a fixture that names it
shows its tag: the new key or value in the output, the new reason in the losses.

``copy`` rules have no ``to`` (the target is the field's own name), so there is nothing to mutate.

``convert`` rules are tagged too, but a converter (``via``) builds its target itself and most of
their ``to`` only document it; ``DRIVEN_CONVERTS`` lists those whose ``to`` the code does read. It
only grows: a listed one that stops driving the output fails, and so does an unlisted one that does.

``NOT_YET_DRIVEN`` lists the rules whose target or reason the code still writes itself. It only
shrinks: a listed rule that becomes driven fails the test until it is removed from the list.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.test_fixtures import FIXTURES, MAPPINGS

FILES = ("request", "messages", "tools", "results")

#: ``<table>.<field or value>:to`` (a rename whose target the code writes itself) or
#: ``<table>.<field or value>:reason`` (a loss whose reason the code writes itself).
NOT_YET_DRIVEN: dict[str, str] = {}

#: ``<table>.<field>:to`` of the convert rules whose target the engine takes from the table.
DRIVEN_CONVERTS: frozenset[str] = frozenset({
    "chat.choice.finish_reason:to",
    "chat.completion.choices:to",
    "chat.completion.moderation:to",
    "chat.completion.usage:to",
    "chat.request.function_call:to",
    "chat.request.max_tokens:to",
    "chat.request.messages:to",
    "chat.request.response_format:to",
    "chat.request.store:to",
    "chat.request.stream_options:to",
    "chat.request.tool_choice:to",
    "response.moderation:to",
    "response.output:to",
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
                    if rule["do"] in ("rename", "convert") and rule.get("to"):
                        head, _, last = rule["to"].rpartition(".")
                        new = f"{last}_T{len(tags)}"
                        rule["to"] = f"{head}.{new}" if head else new
                        tags[f"{rule_id}:to"] = json.dumps(new)  # a key or a value: quoted in the JSON
                        if rule["do"] == "convert":
                            converts.add(f"{rule_id}:to")
                    if rule["do"] in ("drop", "approximate") and rule.get("reason"):
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
