"""``zodResponseFormat(schema, "name")`` → ``zodTextFormat(schema, "name")`` and ``zodFunction({…})`` →
``zodResponsesFunction({…})``: openai-node's helpers (``openai/helpers/zod``) that build Chat's and
Responses' shapes from a zod schema; SDK helpers, not API fields, so not in ``mappings/``."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from tree_sitter import Node

from .clients import walk
from .splices import Edit
from .values import key_of, members, string_of, text_of

MODULE = "openai/helpers/zod"
CHAT, RESPONSES = "zodResponseFormat", "zodTextFormat"
CHAT_TOOL, RESPONSES_TOOL = "zodFunction", "zodResponsesFunction"
RENAMED = {CHAT: RESPONSES, CHAT_TOOL: RESPONSES_TOOL}
"""The Chat helper → its Responses counterpart (same arguments; the pinned SDK's helpers/zod.d.ts)."""
MIXED_TOOLS = (f"`tools` mixes `{CHAT_TOOL}(…)` with other entries: `{RESPONSES_TOOL}(…)` is its Responses form, "
               "and the other entries must be flattened by hand")


@dataclass
class Zod:
    specifiers: dict[str, Node] = field(default_factory=dict)  # a Chat helper's unaliased import specifier
    calls: Counter[str] = field(default_factory=Counter)  # calls of each Chat helper in the file
    migrated: Counter[str] = field(default_factory=Counter)  # those the codemod rewrote
    present: set[str] = field(default_factory=set)  # Responses helpers the file already imports

    @property
    def names(self) -> set[str]:
        return set(self.specifiers)


def find_zod(nodes: dict[str, list[Node]]) -> Zod:
    found = Zod()
    for node in nodes.get("import_statement", []):
        source = node.child_by_field_name("source")
        if source is None or string_of(source) != MODULE:
            continue
        for spec in walk(node):
            name = spec.child_by_field_name("name") if spec.type == "import_specifier" else None
            if name is not None:
                _found_name(found, spec, text_of(name), spec.child_by_field_name("alias") is None)
    for node in nodes.get("variable_declarator", []):
        if _requires_zod(node.child_by_field_name("value")):
            pattern = node.child_by_field_name("name")
            for part in members(pattern) if pattern is not None and pattern.type == "object_pattern" else []:
                if part.type == "shorthand_property_identifier_pattern":
                    _found_name(found, part, text_of(part), True)
    for node in nodes.get("call_expression", []):
        function = node.child_by_field_name("function")
        called = text_of(function) if function is not None else ""
        if called in RENAMED:
            found.calls[called] += 1
    return found


def _found_name(found: Zod, spec: Node, name: str, plain: bool) -> None:
    if name in RENAMED and plain:
        found.specifiers[name] = spec
    elif name in RENAMED.values():
        found.present.add(name)


def _requires_zod(value: Node | None) -> bool:
    arguments = value.child_by_field_name("arguments") if value is not None and value.type == "call_expression" else None
    function = value.child_by_field_name("function") if value is not None else None
    given = members(arguments) if arguments is not None else []
    return function is not None and text_of(function) == "require" and len(given) == 1 and string_of(given[0]) == MODULE


def _helper_call(value: Node | None, zod: Zod, helper: str) -> Node | None:
    """The function node of ``value`` when it is a call of the imported Chat ``helper``."""
    if value is None or value.type != "call_expression" or helper not in zod.names:
        return None
    function = value.child_by_field_name("function")
    return function if function is not None and text_of(function) == helper else None


def text_format(obj: Node, zod: Zod) -> str | None:
    """``{ format: zodTextFormat(…) }`` for a ``response_format: zodResponseFormat(…)`` key of ``obj``."""
    for member in members(obj):
        value = member.child_by_field_name("value") if member.type == "pair" else None
        if member.type != "pair" or key_of(member) != "response_format" or _helper_call(value, zod, CHAT) is None:
            continue
        assert value is not None
        arguments = value.child_by_field_name("arguments")
        if arguments is not None:
            return f"{{ format: {RESPONSES}{text_of(arguments)} }}"
    return None


def zod_tools(obj: Node, zod: Zod) -> tuple[str, int] | str | None:
    """``tools: [zodFunction(…), …]`` → the array with ``zodResponsesFunction(…)`` and how many calls
    changed; why the key stays when the array mixes them with other entries; None without them."""
    for member in members(obj):
        value = member.child_by_field_name("value") if member.type == "pair" else None
        if member.type != "pair" or key_of(member) != "tools" or value is None or value.type != "array":
            continue
        entries = members(value)
        functions = [_helper_call(entry, zod, CHAT_TOOL) for entry in entries]
        if not any(functions):
            return None
        if not all(functions):
            return MIXED_TOOLS
        text, start = text_of(value), value.start_byte
        for function in reversed([f for f in functions if f is not None]):
            text = text[:function.start_byte - start] + RESPONSES_TOOL + text[function.end_byte - start:]
        return text, len(functions)
    return None


def import_edits(zod: Zod) -> list[Edit]:
    """The import once calls were rewritten: a helper renamed when none of its calls is left, else added to."""
    edits: list[Edit] = []
    for chat, responses in RENAMED.items():
        spec = zod.specifiers.get(chat)
        if spec is None or not zod.migrated[chat] or responses in zod.present:
            continue
        if zod.migrated[chat] == zod.calls[chat]:
            edits.append((spec.start_byte, spec.end_byte, responses))
        else:
            edits.append((spec.end_byte, spec.end_byte, f", {responses}"))
    return edits
