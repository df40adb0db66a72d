"""``zodResponseFormat(schema, "name")`` → ``zodTextFormat(schema, "name")``: openai-node's helpers
(``openai/helpers/zod``) for ``chat.completions.parse`` and ``responses.parse``; SDK helpers, not API
fields, so not in ``mappings/``."""

from __future__ import annotations

from dataclasses import dataclass

from tree_sitter import Node

from .clients import walk
from .splices import Edit
from .values import key_of, members, string_of, text_of

MODULE = "openai/helpers/zod"
CHAT, RESPONSES = "zodResponseFormat", "zodTextFormat"


@dataclass
class Zod:
    specifier: Node | None = None  # ``zodResponseFormat`` in ``import { … } from "openai/helpers/zod"``
    calls: int = 0  # its calls in the file
    migrated: int = 0  # those the codemod rewrote
    has_text_format: bool = False

    @property
    def names(self) -> set[str]:
        return {CHAT} if self.specifier is not None else set()


def find_zod(nodes: dict[str, list[Node]]) -> Zod:
    found = Zod()
    for node in nodes.get("import_statement", []):
        source = node.child_by_field_name("source")
        if source is None or string_of(source) != MODULE:
            continue
        for spec in walk(node):
            name = spec.child_by_field_name("name") if spec.type == "import_specifier" else None
            if name is None:
                continue
            if text_of(name) == CHAT and spec.child_by_field_name("alias") is None:
                found.specifier = spec
            found.has_text_format = found.has_text_format or text_of(name) == RESPONSES
    for node in nodes.get("variable_declarator", []):
        if _requires_zod(node.child_by_field_name("value")):
            pattern = node.child_by_field_name("name")
            for part in members(pattern) if pattern is not None and pattern.type == "object_pattern" else []:
                if part.type == "shorthand_property_identifier_pattern":
                    found.specifier = part if text_of(part) == CHAT else found.specifier
                    found.has_text_format = found.has_text_format or text_of(part) == RESPONSES
    for node in nodes.get("call_expression", []):
        function = node.child_by_field_name("function")
        found.calls += function is not None and text_of(function) == CHAT
    return found


def _requires_zod(value: Node | None) -> bool:
    arguments = value.child_by_field_name("arguments") if value is not None and value.type == "call_expression" else None
    function = value.child_by_field_name("function") if value is not None else None
    given = members(arguments) if arguments is not None else []
    return function is not None and text_of(function) == "require" and len(given) == 1 and string_of(given[0]) == MODULE


def text_format(obj: Node, zod: Zod) -> str | None:
    """``{ format: zodTextFormat(…) }`` for a ``response_format: zodResponseFormat(…)`` key of ``obj``."""
    for member in members(obj):
        value = member.child_by_field_name("value") if member.type == "pair" else None
        if value is None or key_of(member) != "response_format" or value.type != "call_expression":
            continue
        function, arguments = value.child_by_field_name("function"), value.child_by_field_name("arguments")
        if function is not None and arguments is not None and text_of(function) in zod.names:
            return f"{{ format: {RESPONSES}{text_of(arguments)} }}"
    return None


def import_edit(zod: Zod) -> Edit | None:
    """The import once calls were rewritten: renamed when no ``zodResponseFormat`` call is left, else added to."""
    if zod.specifier is None or not zod.migrated or zod.has_text_format:
        return None
    if zod.migrated == zod.calls:
        return zod.specifier.start_byte, zod.specifier.end_byte, RESPONSES
    return zod.specifier.end_byte, zod.specifier.end_byte, f", {RESPONSES}"
