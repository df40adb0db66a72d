"""One parse, one analysis, one rewriting pass: the entry point the runner calls for each piece of source.

The study behind this (docs/codemod.md) measured a no-op libcst codemod at 5× a parse per rule, so
the rules do not each walk the tree: pass 1 collects bindings (clients.py), pass 2 finds the sites
and asks each rule for a plan (call.py, reads.py), and one transformer applies every plan by node
identity. A site's plans are applied together or not at all.
"""

from __future__ import annotations

import libcst as cst

from .clients import Bindings, NotAClient, Resolver, root_name
from .constants import chat_only_literals
from .finder import SITE_TEXT, Finder
from .http_site import decide_http
from .notes import with_notes
from .outcome import Options, Outcome, Site, TooDeep
from .positions import locate
from .sdk_site import decide_sdk
from .site import Decision, Edits, Found, left
from .splice import spliced
from .walk import walk

UNTRACED = "the receiver could not be traced to an OpenAI client (openai.OpenAI, AsyncOpenAI, AzureOpenAI)"
IMPORTED = ("`{name}` comes from another module and clients are traced within a file: migrate this call with "
            "the module that builds the client, or build it here")
MOCK = ("this patch target is the Chat Completions resource: once the code calls `responses`, it intercepts nothing; "
        "patch `openai.resources.responses.Responses.create` (`AsyncResponses` for async) and return a Response")
MOCK_SETUP = ("this mock stands in for `chat.completions.create`: once the code calls `responses.create`, it is never "
              "called and what the test sets or asserts here sees nothing; mock `responses.create` with a Response")
URL = ("this call sends to (or mocks) `/chat/completions` through code the codemod does not follow: move it to "
       "`/responses` together with its body (`messages` → `input`, docs/mapping.md) and the reads of its answer")
FIXTURE = ("a hand-built ChatCompletion: code migrated to Responses reads a Response (output items, `output_text`); "
           "`migrator translate --to responses` turns this body into one")
"""Noted at the site only in a file that also calls or patches the API; elsewhere (library code that
builds completions, its own tests) the report lists it without a note."""


class _Apply(cst.CSTTransformer):
    """Puts every replacement in by node identity. A replacement may hold original nodes (the
    expressions a rewritten literal keeps): their own replacements go in too, so the tool loop's
    ``tool_call.id`` → ``call_id`` reaches into the tool result literal the list rewrote."""

    def __init__(self, edits: Edits, parent: dict[cst.CSTNode, cst.CSTNode]) -> None:
        self.edits = edits
        self._expanding: set[cst.CSTNode] = set()
        # Only the paths down to an edit are rebuilt: a transformer that enters every node costs
        # more than all the analysis of a file.
        self._paths: set[cst.CSTNode] = set()
        for target in (*edits.replacements, *edits.notes):
            node: cst.CSTNode | None = target
            while node is not None and node not in self._paths:
                self._paths.add(node)
                node = parent.get(node)

    def on_visit(self, node: cst.CSTNode) -> bool:
        return bool(self._expanding) or node in self._paths

    def on_leave(self, original_node: cst.CSTNode, updated_node: cst.CSTNode) -> cst.CSTNode:  # type: ignore[override]
        replacement = self.edits.replacements.get(original_node)
        if replacement is not None and original_node not in self._expanding:
            self._expanding.add(original_node)
            expanded = replacement if replacement is original_node else replacement.visit(self)
            assert isinstance(expanded, cst.CSTNode)
            updated_node = expanded
            self._expanding.discard(original_node)
        messages = self.edits.notes.get(original_node)
        if messages and isinstance(updated_node, cst.BaseStatement):
            return with_notes(updated_node, messages)
        return updated_node


def _together(decisions: list[tuple[Found, Decision]]) -> None:
    """Calls that share a ``messages`` list, or whose list takes another call's answer, are migrated
    together or not at all: a list of Responses items must not reach a chat call, nor the reverse."""
    changed = True
    while changed:
        changed = False
        for found, decision in decisions:
            if decision.verdict == "left for a person" or found.kind not in ("sdk", "http"):
                continue
            for other, theirs in decisions:
                if other is found or theirs.verdict != "left for a person":
                    continue
                shares = (decision.messages is not None and theirs.messages == decision.messages) \
                    or (found.bound is not None and found.bound == other.bound)
                answers = other.bound is not None and other.bound in decision.requires
                constant = next(iter(decision.constants & _names_passed(other)), None)
                if constant is not None:
                    why = f"`{constant}` is also passed to {_call_name(other)}, which is left for a person"
                    decisions[decisions.index((found, decision))] = (found, left([why], host=decision.host))
                    changed = True
                    break
                if (shares or answers) and other.function is found.function:
                    shared = decision.messages if decision.messages is not None and theirs.messages == decision.messages \
                        else found.bound
                    why = (f"`{shared}` also goes to {_call_name(other)}, which is left for a person" if shares
                           else f"`{decision.messages}` takes the answer of {_call_name(other)}, which is left for a person")
                    decisions[decisions.index((found, decision))] = (found, left([why], host=decision.host))
                    changed = True
                    break
            if changed:
                break


def _function_of(node: cst.CSTNode, parent: dict[cst.CSTNode, cst.CSTNode]) -> cst.CSTNode | None:
    current: cst.CSTNode | None = node
    while current is not None and not isinstance(current, cst.FunctionDef):
        current = parent.get(current)
    return current


def _call_name(found: Found) -> str:
    """How a note names another call: by the name its answer gets (line numbers move as notes are added)."""
    return f"the call whose answer is `{found.bound}`" if found.bound else "another chat call"


def _names_passed(found: Found) -> set[str]:
    return {arg.value.value for arg in found.call.args if isinstance(arg.value, cst.Name)}


def transform_code(code: str, options: Options) -> Outcome:
    """Raises ``libcst.ParserSyntaxError`` for code that does not parse (and may hold a site); the
    runner reports it."""
    try:
        return _transform(code, options)
    except RecursionError:
        raise TooDeep("nested too deeply for the codemod to follow (more levels than Python's recursion limit); "
                      "file left unchanged") from None


def _transform(code: str, options: Options) -> Outcome:
    if SITE_TEXT.search(code) is None:
        return Outcome(code)
    module = cst.parse_module(code)
    finder = Finder()
    walk(module, finder)
    finder.finish()
    bindings: Bindings = finder
    if not finder.found and not finder.mock_setups:
        return Outcome(code)
    positions = locate(code, module, [found.call for found in finder.found])
    setups = locate(code, module, [node for node, _ in finder.mock_setups])
    resolver = Resolver(bindings)
    uses_openai = bindings.imports_openai
    by_function: dict[cst.CSTNode, list[Found]] = {}
    for found in finder.found:
        if found.kind == "sdk":
            by_function.setdefault(found.function, []).append(found)
    constants = chat_only_literals(bindings, finder.found)
    for found in finder.found:
        found.constants = constants
    for peers in by_function.values():
        for found in peers:
            found.peers = peers
    decisions: list[tuple[Found, Decision]] = []
    for found in finder.found:
        indent = positions[found.call].indent
        if found.kind == "http":
            decision = decide_http(found, options, indent)
        elif found.kind == "mock":
            decision = left([MOCK])
        elif found.kind == "url":
            decision = left([URL])
        elif found.kind == "fixture":
            if not uses_openai:
                continue
            decision = left([FIXTURE])
        else:
            client = resolver.resolve(found.receiver, found.scope)
            if isinstance(client, NotAClient):
                continue  # a look-alike SDK's client: not ours, not touched, not reported
            if client is None:
                root = root_name(found.receiver)
                decision = left([IMPORTED.format(name=root) if root in bindings.imported else UNTRACED])
                # In a file that neither imports openai nor a client of its project, the receiver may
                # be anything (a parameter): the report lists the site, the code gets no note.
                decision.note = uses_openai or root in bindings.imported
            else:
                decision = decide_sdk(found, client, options, indent)
        decisions.append((found, decision))
    _together(decisions)
    if not any(found.kind in ("sdk", "http", "mock") for found, _ in decisions):
        for _, decision in decisions:
            decision.note = decision.reasons != [FIXTURE]  # library code and tests of it that stay on Chat: the report says it
    edits = Edits()
    sites: list[Site] = []
    for found, decision in decisions:
        if decision.verdict == "left for a person" and decision.note:
            for message in decision.reasons:
                edits.note(found.statement, message)
        else:
            edits.merge(decision.edits)
        start = positions[found.call]
        rule = found.method if found.kind == "sdk" else found.kind
        sites.append(Site(start.line, start.column, rule, decision.verdict, decision.applicability,
                          tuple(decision.reasons), decision.host))
    noted_mocks: set[tuple[cst.CSTNode | None, str]] = set()
    for node, statement in finder.mock_setups:
        mock = (_function_of(node, finder.parent), root_name(node) or "")
        if mock not in noted_mocks:  # one note for a mock's setup and checks in a function, at the first
            noted_mocks.add(mock)
            edits.note(statement, MOCK_SETUP)
        sites.append(Site(setups[node].line, setups[node].column, "mock", "left for a person", "display", (MOCK_SETUP,)))
    sites.sort(key=lambda site: (site.line, site.column))
    if not edits.replacements and not edits.notes:
        return Outcome(code, tuple(sites))
    new = module.visit(_Apply(edits, finder.parent))
    text = spliced(code, module, new)
    return Outcome(new.code if text is None else text, tuple(sites))
