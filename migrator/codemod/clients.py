"""Which receivers are OpenAI clients, and which host each one reaches.

libcst's qualified names stop at ``client.chat.completions.create`` (LOCAL): they never say that
``client`` is an ``openai.OpenAI``. So the codemod traces receivers itself, by plain scope rules:
a name bound to a constructor call, to a factory of the same module, an annotated parameter, an
attribute set on ``self`` in any method of the class, or the ``openai`` module's own client. A
look-alike (``groq.Groq().chat.completions.create``, another library's ``.chat``) traces to
something else and is never touched; a receiver that traces to nothing is reported, not guessed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit

import libcst as cst

from .literals import string_value
from .names import UseVisitor, dotted
from .outcome import Options
from .walk import Visitor, walk

CONSTRUCTORS = {"OpenAI": "openai", "AsyncOpenAI": "openai", "AzureOpenAI": "azure", "AsyncAzureOpenAI": "azure",
                "Client": "openai", "AsyncClient": "openai"}  # ``openai.Client`` is ``OpenAI`` (openai/_client.py)
OPENAI_HOSTS = frozenset({"api.openai.com"})
AZURE_SUFFIXES = (".openai.azure.com", ".cognitiveservices.azure.com", ".services.ai.azure.com")
LOOKALIKE_PACKAGES = frozenset({
    "anthropic", "cerebras", "fireworks", "groq", "huggingface_hub", "litellm", "mistralai", "ollama", "together", "zhipuai",
})
"""SDKs that copy the ``client.chat.completions.create`` shape: a receiver built by one of them is not ours."""

HostKind = Literal["openai", "literal", "configured", "azure"]
DOUBT: dict[str, int] = {"openai": 0, "azure": 1, "configured": 2, "literal": 3}


@dataclass(frozen=True)
class Client:
    """A traced client: ``host`` is what the report names; ``host_kind`` what the codemod may assume of it."""

    kind: str  # "openai" or "azure"
    host: str
    host_kind: HostKind
    is_async: bool


class NotAClient:
    """A receiver that traces to something other than an OpenAI client (a look-alike)."""


NOT_A_CLIENT = NotAClient()
Resolution = Client | NotAClient | None  # None: traces to nothing the codemod can see
Held = Resolution | str | cst.BaseExpression
"""What a name is bound to: a traced client, the name of a function of the module called to make it
(resolved as a factory later), or another name or attribute it was copied from (resolved in place)."""


def root_name(node: cst.BaseExpression) -> str | None:
    """``self.client.x`` → ``self``; ``make()`` → ``make``: the name an expression starts from."""
    while isinstance(node, cst.Attribute | cst.Call | cst.Subscript):
        node = node.value if not isinstance(node, cst.Call) else node.func
    return node.value if isinstance(node, cst.Name) else None


def _keyword(call: cst.Call, name: str) -> cst.BaseExpression | None:
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value == name:
            return arg.value
    return None


def client_for_url(url: str | None, code: str) -> Client:
    """The client an HTTP call stands for: its URL's host (``code`` names a URL built at run time)."""
    if url is None:
        return Client("openai", f"the URL's host ({code})", "configured", False)
    if urlsplit(url).hostname is None:  # a path on a client's base_url: ``httpx.Client(base_url=…).post("/chat/completions")``
        return Client("openai", f"the HTTP client's base_url (the request names only {url})", "configured", False)
    host = host_of(url)
    kind: HostKind = "openai" if host in OPENAI_HOSTS else "azure" if host.endswith(AZURE_SUFFIXES) else "literal"
    return Client("openai", host, kind, False)


def host_of(url: str) -> str:
    return (urlsplit(url).hostname or url).lower()


class Scope:
    """One function, class or module body: the names it binds, each to what it holds."""

    def __init__(self, node: cst.CSTNode, parent: Scope | None, kind: str) -> None:
        self.node, self.parent, self.kind = node, parent, kind
        self.values: dict[str, list[Held]] = {}

    def bind(self, name: str, value: Held) -> None:
        self.values.setdefault(name, []).append(value)


class Bindings(UseVisitor):
    """Every scope's bindings, the module's imports of openai, its factories, and what each name is
    assigned and where it is read (the finder extends this visitor: one walk over the module)."""

    def __init__(self) -> None:
        super().__init__()
        self.assigned: dict[str, list[cst.BaseExpression]] = {}  # any scope, by name
        self.reads: dict[str, list[cst.CSTNode]] = {}
        self._targets: set[cst.CSTNode] = set()
        self.openai_modules: set[str] = set()
        self.lookalikes: set[str] = set()  # local names bound by an import from a look-alike SDK
        self.imported: set[str] = set()  # local names bound by an import from any other module (the project's own)
        self.params: set[str] = set()  # names some function takes as a parameter
        self.imports_openai = False
        self.strings: dict[str, list[cst.BaseExpression]] = {}  # names assigned a string literal (any scope)
        self.constructors: dict[str, str] = {}  # local name → "openai" / "azure"
        self.async_constructors: set[str] = set()
        self.scopes: dict[cst.CSTNode, Scope] = {}
        self.factories: dict[str, cst.FunctionDef] = {}
        self.module_base_url: str | None = None
        self._stack: list[Scope] = []
        self._returns: dict[cst.FunctionDef, list[cst.BaseExpression]] = {}

    # scopes -----------------------------------------------------------------
    def visit_Module(self, node: cst.Module) -> None:
        self._push(node, "module")

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self._push(node, "class")

    def leave_ClassDef(self, original_node: cst.ClassDef) -> None:
        self._stack.pop()

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self._stack[-1].bind(node.name.value, None)
        scope = self._push(node, "function")
        for param in (*node.params.posonly_params, *node.params.params, *node.params.kwonly_params):
            scope.bind(param.name.value, self._annotated(param.annotation))
        self._returns[node] = []

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self._stack.pop()
        annotated = self._annotated(original_node.returns)
        returns = self._returns.pop(original_node, [])
        if isinstance(annotated, Client) or (returns and all(self._is_constructor(r) for r in returns)):
            self.factories[original_node.name.value] = original_node

    def visit_Lambda(self, node: cst.Lambda) -> None:
        self._push(node, "function")

    def leave_Lambda(self, original_node: cst.Lambda) -> None:
        self._stack.pop()

    def _push(self, node: cst.CSTNode, kind: str) -> Scope:
        scope = Scope(node, self._stack[-1] if self._stack else None, kind)
        self.scopes[node] = scope
        self._stack.append(scope)
        return scope

    # imports ----------------------------------------------------------------
    def visit_Import(self, node: cst.Import) -> None:
        for alias in node.names:
            name = dotted(alias.name)
            if name and name.partition(".")[0] not in LOOKALIKE_PACKAGES and name != "openai":
                local = alias.asname.name if alias.asname else None
                self.imported.add(local.value if isinstance(local, cst.Name) else name.partition(".")[0])
            if name and name.partition(".")[0] in LOOKALIKE_PACKAGES:
                local = alias.asname.name if alias.asname else None
                self.lookalikes.add(local.value if isinstance(local, cst.Name) else name.partition(".")[0])
            self.imports_openai |= bool(name) and (name or "").partition(".")[0] == "openai"
            if name == "openai":
                local = alias.asname.name if alias.asname else None
                self.openai_modules.add(local.value if isinstance(local, cst.Name) else "openai")

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        module = dotted(node.module) if node.module else None
        root = (module or "").partition(".")[0]
        self.imports_openai |= root == "openai"
        if root != "openai" and root not in LOOKALIKE_PACKAGES and not isinstance(node.names, cst.ImportStar):
            for alias in node.names:
                local = alias.asname.name if alias.asname and isinstance(alias.asname.name, cst.Name) else alias.name
                if isinstance(local, cst.Name):
                    self.imported.add(local.value)
        if module and module.partition(".")[0] in LOOKALIKE_PACKAGES and not isinstance(node.names, cst.ImportStar):
            for alias in node.names:
                local = alias.asname.name if alias.asname and isinstance(alias.asname.name, cst.Name) else alias.name
                if isinstance(local, cst.Name):
                    self.lookalikes.add(local.value)
        if module is None or not (module == "openai" or module.startswith("openai.")) or isinstance(node.names, cst.ImportStar):
            return
        for alias in node.names:
            name = dotted(alias.name)
            if name in CONSTRUCTORS:
                local = alias.asname.name if alias.asname and isinstance(alias.asname.name, cst.Name) else alias.name
                local_name = dotted(local) or name
                self.constructors[local_name] = CONSTRUCTORS[name]
                if name.startswith("Async"):
                    self.async_constructors.add(local_name)

    # bindings ---------------------------------------------------------------
    def visit_Assign(self, node: cst.Assign) -> None:
        for target in node.targets:
            self._bind_target(target.target, node.value)
            self._assigned(target.target, node.value)

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        self._assigned(node.target, node.value)

    def visit_Param(self, node: cst.Param) -> None:
        self.params.add(node.name.value)
        self.reads.setdefault(node.name.value, []).append(node.name)  # a value from the caller: never a constant

    def visit_Name(self, node: cst.Name) -> None:
        if self.is_use(node) and node not in self._targets:
            self.reads.setdefault(node.value, []).append(node)

    def _assigned(self, target: cst.BaseExpression, value: cst.BaseExpression) -> None:
        if isinstance(target, cst.Name):
            self.assigned.setdefault(target.value, []).append(value)
            self._targets.add(target)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        if node.value is not None:
            self._assigned(node.target, node.value)
        value: Held = self._annotated(node.annotation)
        if node.value is not None:
            self._bind_target(node.target, node.value)
        elif isinstance(node.target, cst.Name):
            self._stack[-1].bind(node.target.value, value)
        elif isinstance(node.target, cst.Attribute):
            self._bind_self(node.target, value)

    def visit_Return(self, node: cst.Return) -> None:
        for scope in reversed(self._stack):
            if scope.kind == "function" and isinstance(scope.node, cst.FunctionDef):
                self._returns.setdefault(scope.node, []).append(node.value or cst.Name("None"))
                break

    def _bind_target(self, target: cst.BaseExpression, value: cst.BaseExpression) -> None:
        if isinstance(target, cst.Name) and isinstance(value, cst.SimpleString | cst.ConcatenatedString | cst.FormattedString):
            self.strings.setdefault(target.value, []).append(value)
        held = self._value(value)
        if isinstance(target, cst.Name):
            self._stack[-1].bind(target.value, held)
        elif isinstance(target, cst.Attribute):
            self._bind_self(target, held)
        elif isinstance(target, cst.Tuple | cst.List):
            for element in target.elements:
                if isinstance(element.value, cst.Name):
                    self._stack[-1].bind(element.value.value, None)
        if isinstance(target, cst.Attribute) and target.attr.value == "base_url" and dotted(target.value) in self.openai_modules:
            text = string_value(value)
            self.module_base_url = text if text is not None else "<configured>"

    def _bind_self(self, target: cst.Attribute, held: Held) -> None:
        if not (isinstance(target.value, cst.Name) and target.value.value in ("self", "cls")):
            return
        for scope in reversed(self._stack):
            if scope.kind == "class":
                scope.bind(f"self.{target.attr.value}", held)
                return

    def _value(self, value: cst.BaseExpression) -> Held:
        if isinstance(value, cst.Await):
            return None
        if isinstance(value, cst.Call):
            client = self.constructed(value)
            if client is not None:
                return client
            name = dotted(value.func)
            if name is not None and name.partition(".")[0] in self.lookalikes:
                return NOT_A_CLIENT
            if name is not None and "." not in name:
                return name
            return None
        if isinstance(value, cst.Name | cst.Attribute):
            return value if dotted(value) else None
        return None

    def _is_constructor(self, node: cst.BaseExpression) -> bool:
        return isinstance(node, cst.Call) and self.constructed(node) is not None

    def constructed(self, call: cst.Call) -> Client | None:
        """The client a constructor call builds, or None when it is not an OpenAI constructor."""
        name = dotted(call.func)
        if name is None:
            return None
        head, _, last = name.rpartition(".")
        if head and head in self.openai_modules and last in CONSTRUCTORS:
            kind, is_async = CONSTRUCTORS[last], last.startswith("Async")
        elif not head and name in self.constructors:
            kind, is_async = self.constructors[name], name in self.async_constructors
        else:
            return None
        return _client(kind, is_async, call, self._constant)

    def _constant(self, node: cst.BaseExpression) -> str | None:
        """The text of a name assigned once, to a string literal (``BASE_URL = "https://…"``), and
        never a parameter or an import; None for anything else."""
        if not isinstance(node, cst.Name) or node.value in self.imported:
            return None
        values = self.assigned.get(node.value, [])
        return string_value(values[0]) if len(values) == 1 and node.value not in self.params else None

    def _annotated(self, annotation: cst.Annotation | None) -> Resolution:
        if annotation is None:
            return None
        name = dotted(annotation.annotation)
        if name is None:
            text = string_value(annotation.annotation)
            name = text.strip() if text else None
        if name is None:
            return None
        last = name.rpartition(".")[2]
        if last in CONSTRUCTORS and (name in self.constructors or name.rpartition(".")[0] in self.openai_modules):
            return Client(CONSTRUCTORS[last], "api.openai.com (or the client's configured base_url)", "configured", last.startswith("Async"))
        return None


def _client(kind: str, is_async: bool, call: cst.Call,
            constant: Callable[[cst.BaseExpression], str | None] = lambda node: None) -> Client:
    if kind == "azure":
        endpoint = _keyword(call, "azure_endpoint") or _keyword(call, "base_url")
        text = string_value(endpoint) if endpoint is not None else None
        host = host_of(text) if text else "the configured Azure endpoint (AZURE_OPENAI_ENDPOINT)"
        return Client(kind, host, "azure", is_async)
    base = _keyword(call, "base_url")
    if base is None:
        return Client(kind, "api.openai.com", "openai", is_async)
    text = string_value(base)
    if text is None:
        text = constant(base)
    if text is None:
        return Client(kind, f"the configured base_url ({cst.Module([]).code_for_node(base)})", "configured", is_async)
    host = host_of(text)
    if host in OPENAI_HOSTS:
        return Client(kind, host, "openai", is_async)
    if host.endswith(AZURE_SUFFIXES):
        return Client(kind, host, "azure", is_async)
    return Client(kind, host, "literal", is_async)


def host_reasons(client: Client, options: Options) -> tuple[str | None, list[str]]:
    """Why the site must stay (a literal host that may have no Responses API), and what the report
    says of the host otherwise."""
    if client.host_kind == "literal" and client.host not in options.responses_hosts:
        return (f"{client.host} may not serve /v1/responses (not OpenAI's host); "
                f"run again with --responses-host {client.host} if it does"), []
    if client.host_kind == "configured":
        return None, [f"the host this client reaches ({client.host}) must serve /v1/responses"]
    if client.host_kind == "azure":
        return None, [f"Azure ({client.host}): use the v1 endpoint (https://<resource>.openai.azure.com/openai/v1/) "
                      "and a max_output_tokens of at least 16"]
    return None, []


class _Returns(Visitor):
    """What a function returns (not its inner functions)."""

    def __init__(self, function: cst.FunctionDef) -> None:
        self.function = function
        self.values: list[cst.BaseExpression] = []

    def visit_Return(self, node: cst.Return) -> None:
        if node.value is not None:
            self.values.append(node.value)

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        return node is self.function


class Resolver:
    """Pass 2's question: what does this receiver, read in this scope, hold?"""

    def __init__(self, bindings: Bindings) -> None:
        self.b = bindings

    def resolve(self, node: cst.BaseExpression, scope: Scope, depth: int = 0) -> Resolution:
        if depth > 8:
            return None
        if isinstance(node, cst.Call):
            client = self.b.constructed(node)
            if client is not None:
                return client
            name = dotted(node.func)
            if name is not None and name in self.b.factories:
                return self._factory(name, depth)
            if name is not None and name.partition(".")[0] in self.b.lookalikes:
                return NOT_A_CLIENT
            return None
        if isinstance(node, cst.Name):
            if node.value in self.b.openai_modules and self._lookup(node.value, scope) is None:
                return self._module_client()
            return self._held(self._lookup(node.value, scope), scope, depth)
        if isinstance(node, cst.Attribute) and isinstance(node.value, cst.Name) and node.value.value in ("self", "cls"):
            klass = self._class_of(scope)
            if klass is None:
                return None
            values = klass.values.get(f"self.{node.attr.value}")
            return self._merge([self._one(v, klass, depth) for v in values]) if values else None
        return None

    def _module_client(self) -> Client:
        url = self.b.module_base_url
        if url is None:
            return Client("openai", "api.openai.com", "openai", False)
        if url == "<configured>":
            return Client("openai", "the configured openai.base_url", "configured", False)
        host = host_of(url)
        return Client("openai", host, "openai" if host in OPENAI_HOSTS else "literal", False)

    def _factory(self, name: str, depth: int) -> Resolution:
        func = self.b.factories[name]
        scope = self.b.scopes[func]
        annotated = self.b._annotated(func.returns)
        if isinstance(annotated, Client):
            return annotated
        returns = _Returns(func)
        walk(func, returns)
        return self._merge([self.resolve(value, scope, depth + 1) for value in returns.values])

    def _lookup(self, name: str, scope: Scope) -> list[Held] | None:
        current: Scope | None = scope
        first = True
        while current is not None:
            if current.kind != "class" or first:
                if name in current.values:
                    return current.values[name]
            first = False
            current = current.parent
        return None

    def _held(self, values: list[Held] | None, scope: Scope, depth: int) -> Resolution:
        if not values:
            return None
        return self._merge([self._one(v, scope, depth) for v in values])

    def _one(self, value: Held, scope: Scope, depth: int) -> Resolution:
        if isinstance(value, str):
            return self._factory(value, depth + 1) if value in self.b.factories else None
        if isinstance(value, cst.BaseExpression):
            return self.resolve(value, scope, depth + 1)
        return value

    @staticmethod
    def _merge(results: list[Resolution]) -> Resolution:
        """A name bound in several branches (``if API_HOST == "azure": client = …`` ``else: …``) holds
        a client when every branch builds one; the report names every host, and the most doubtful
        host decides (a literal non-OpenAI host leaves the site)."""
        clients = [r for r in results if isinstance(r, Client)]
        if clients and len(clients) == len(results) and len(set(clients)) == 1:
            return clients[0]
        if clients and len(clients) == len(results):
            if len({c.is_async for c in clients}) != 1:
                return None
            worst = max(clients, key=lambda c: DOUBT[c.host_kind])
            hosts = ", ".join(dict.fromkeys(c.host for c in clients))
            kind = "azure" if all(c.kind == "azure" for c in clients) else "openai"
            return Client(kind, hosts if worst.host_kind != "literal" else worst.host, worst.host_kind, clients[0].is_async)
        if results and all(isinstance(r, NotAClient) for r in results):
            return NOT_A_CLIENT
        return None

    def _class_of(self, scope: Scope) -> Scope | None:
        current: Scope | None = scope
        while current is not None and current.kind != "class":
            current = current.parent
        return current
