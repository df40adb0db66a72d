"""Which receivers are openai-node clients, and which host each one reaches.

A receiver counts only when it is bound, in the file, to ``new OpenAI(…)`` / ``new AzureOpenAI(…)``
whose class comes from the ``openai`` package (``import``, ``require``): a module-level or local
``const``, or ``this.client = new OpenAI()`` in a class. Other SDKs that copy the
``client.chat.completions.create`` shape trace to something else and are never touched.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from tree_sitter import Node

from ..clients import AZURE_SUFFIXES, DOUBT, NOT_A_CLIENT, OPENAI_HOSTS, Client, NotAClient, host_of
from .scope import declaration_of
from .values import key_of, members, string_of, text_of

KINDS = {"OpenAI": "openai", "AzureOpenAI": "azure"}
PACKAGE = "openai"
ENTRY_POINTS = frozenset((PACKAGE, "openai/index", "openai/index.js", "openai/index.mjs"))
"""The package's own name and its explicit entry module (the SDK's examples import ``openai/index``)."""


def walk(node: Node) -> Iterator[Node]:
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(reversed(current.children))


@dataclass
class Clients:
    constructors: dict[str, str] = field(default_factory=dict)  # local name → "openai" / "azure"
    namespaces: set[str] = field(default_factory=set)  # ``import * as openai from "openai"``
    receivers: dict[str, Client] = field(default_factory=dict)  # ``client`` / ``this.client`` → its client
    others: set[str] = field(default_factory=set)  # receivers bound to another SDK's client (look-alikes)
    imports_openai: bool = False
    imported: set[str] = field(default_factory=set)  # names imported from other modules (the project's)

    def kind_of(self, constructor: Node) -> str | None:
        if constructor.type == "identifier":
            return self.constructors.get(text_of(constructor))
        if constructor.type == "member_expression":
            obj, prop = constructor.child_by_field_name("object"), constructor.child_by_field_name("property")
            if obj is not None and prop is not None and text_of(obj) in self.namespaces:
                return KINDS.get(text_of(prop))
        return None

    def resolve(self, receiver: Node) -> Client | NotAClient | None:
        """The receiver's client; NOT_A_CLIENT for another SDK's; None when it traces to nothing."""
        if receiver.type == "new_expression":
            return self.client_of(receiver) or NOT_A_CLIENT
        key = text_of(receiver)
        found = self.receivers.get(key)
        return found if found is not None else NOT_A_CLIENT if key in self.others else None

    def client_of(self, new: Node) -> Client | None:
        constructor = new.child_by_field_name("constructor")
        kind = self.kind_of(constructor) if constructor is not None else None
        if kind is None:
            return None
        arguments = new.child_by_field_name("arguments")
        options = next((a for a in members(arguments) if a.type == "object"), None) if arguments is not None else None
        values: dict[str, Node] = {}
        for member in members(options) if options is not None else []:
            key = key_of(member) if member.type == "pair" else None
            value = member.child_by_field_name("value") if key is not None else None
            if key is not None and value is not None:
                values[key] = value
        url_node = values.get("baseURL") or (values.get("endpoint") if kind == "azure" else None)
        provider = values.get("provider")
        if url_node is None and provider is not None:
            # ``provider: bedrock({…})`` sends every request to that provider's service, not OpenAI's
            function = provider.child_by_field_name("function") if provider.type == "call_expression" else None
            named = f"{text_of(function)}(…)" if function is not None else text_of(provider)
            return Client(kind, f"the service of its `provider` option, {named}", "configured", True)
        if url_node is None:
            if kind == "azure":
                return Client(kind, "the configured Azure endpoint (AZURE_OPENAI_ENDPOINT)", "azure", True)
            return Client(kind, "api.openai.com", "openai", True)
        url = string_of(url_node)
        declared = declaration_of(url_node) if url is None and url_node.type == "identifier" else None
        value = declared[0].child_by_field_name("value") if declared is not None and declared[1] else None
        if value is not None and string_of(value) is not None:  # ``const BASE = "https://…"; new OpenAI({ baseURL: BASE })``
            url = string_of(value)
        if url is None:
            return Client(kind, text_of(url_node), "configured", True)
        host = host_of(url)
        if host in OPENAI_HOSTS:
            return Client(kind, host, "openai", True)
        if kind == "azure" or host.endswith(AZURE_SUFFIXES):
            return Client(kind, host, "azure", True)
        return Client(kind, host, "literal", True)


def _from_openai(source: Node | None) -> bool:
    return source is not None and string_of(source) in ENTRY_POINTS


def _require(node: Node | None) -> bool:
    if node is None or node.type != "call_expression":
        return False
    function, arguments = node.child_by_field_name("function"), node.child_by_field_name("arguments")
    args = members(arguments) if arguments is not None else []
    return function is not None and text_of(function) == "require" and len(args) == 1 and _from_openai(args[0])


def find_clients(nodes: dict[str, list[Node]]) -> Clients:
    """The clients of a file, from its index (``grammar.index``)."""
    found = Clients()
    for node in nodes.get("import_statement", []):
        if _from_openai(node.child_by_field_name("source")):
            found.imports_openai = True
            _imported(node, found)
        else:
            found.imported.update(text_of(n) for n in walk(node) if n.type == "identifier")
    for node in nodes.get("variable_declarator", []):
        if _require(node.child_by_field_name("value")):
            found.imports_openai = True
            name = node.child_by_field_name("name")
            if name is not None and name.type == "identifier":
                found.constructors[text_of(name)] = "openai"  # the module object is the OpenAI class
                found.namespaces.add(text_of(name))
            elif name is not None and name.type == "object_pattern":
                for part in members(name):
                    _pattern(part, found)
    news = nodes.get("new_expression", [])
    _unbound_constructors(news, nodes.get("variable_declarator", []), found)
    for kind in ("required_parameter", "optional_parameter", "public_field_definition"):
        for node in nodes.get(kind, []):
            _annotated(node, found)
    for new in news:
        client = found.client_of(new)
        parent = new.parent
        if parent is None:
            continue
        target = parent.child_by_field_name("name") if parent.type == "variable_declarator" else \
            parent.child_by_field_name("left") if parent.type == "assignment_expression" else None
        if target is None or target.type not in ("identifier", "member_expression"):
            continue
        key = text_of(target)
        if client is None:
            found.others.add(key)
            continue
        before = found.receivers.get(key)
        if before is None or DOUBT[client.host_kind] > DOUBT[before.host_kind]:
            found.receivers[key] = client
    return found


def _unbound_constructors(news: list[Node], declarators: list[Node], found: Clients) -> None:
    """``new OpenAI(…)`` where nothing in the file binds ``OpenAI``: a docs snippet that leaves out its
    import, or a page script using the SDK's global; either way the SDK's class."""
    if not news:
        return
    root = news[0]
    while root.parent is not None:
        root = root.parent
    bound = found.imported | set(found.constructors) | {
        text_of(name) for d in declarators if (name := d.child_by_field_name("name")) is not None}
    bound |= {text_of(name) for top in root.named_children if top.type in ("class_declaration", "function_declaration")
              and (name := top.child_by_field_name("name")) is not None}
    for new in news:
        constructor = new.child_by_field_name("constructor")
        called = text_of(constructor) if constructor is not None and constructor.type == "identifier" else ""
        if called in KINDS and called not in bound:
            found.constructors[called] = KINDS[called]


def _annotated(node: Node, found: Clients) -> None:
    """A TypeScript parameter or class field typed as a client (``client: OpenAI``): its host is
    wherever the client passed in was configured to go."""
    annotation = node.child_by_field_name("type")
    named = annotation.named_children if annotation is not None else []
    kind = None
    if len(named) == 1 and named[0].type == "type_identifier":
        kind = found.constructors.get(text_of(named[0]))
    elif len(named) == 1 and named[0].type == "nested_type_identifier":
        module, name = named[0].child_by_field_name("module"), named[0].child_by_field_name("name")
        if module is not None and name is not None and text_of(module) in found.namespaces:
            kind = KINDS.get(text_of(name))
    name_node = node.child_by_field_name("name" if node.type == "public_field_definition" else "pattern")
    if kind is None or name_node is None:
        return
    client = Client(kind, "api.openai.com (or the client's configured baseURL)", "configured", True)
    held = text_of(name_node)
    member = node.type == "public_field_definition" or any(c.type == "accessibility_modifier" for c in node.children)
    for key in ([f"this.{held}"] if member else []) + ([held] if node.type != "public_field_definition" else []):
        found.receivers.setdefault(key, client)


def _imported(statement: Node, found: Clients) -> None:
    for node in walk(statement):
        if node.type == "import_clause":
            for part in node.named_children:
                if part.type == "identifier":  # the default export is the OpenAI class
                    found.constructors[text_of(part)] = "openai"
                elif part.type == "namespace_import":
                    found.namespaces.update(text_of(c) for c in part.named_children if c.type == "identifier")
        elif node.type == "import_specifier":
            name, alias = node.child_by_field_name("name"), node.child_by_field_name("alias")
            if name is not None and text_of(name) in KINDS:
                found.constructors[text_of(alias or name)] = KINDS[text_of(name)]


def _pattern(part: Node, found: Clients) -> None:
    if part.type == "shorthand_property_identifier_pattern" and text_of(part) in KINDS:
        found.constructors[text_of(part)] = KINDS[text_of(part)]
    elif part.type == "pair_pattern":
        key, value = part.child_by_field_name("key"), part.child_by_field_name("value")
        kind = "openai" if key is not None and text_of(key) == "default" else KINDS.get(text_of(key)) if key is not None else None
        if kind is not None and value is not None:
            found.constructors[text_of(value)] = kind
