"""Pass 2: the sites of a module, with the scope, function and statement each stands in."""

from __future__ import annotations

import re

import libcst as cst

from .clients import Bindings
from .http_calls import HTTP_METHODS, is_chat_post, names_chat_url, url_of
from .literals import string_value
from .site import Found, Kind
from .walk import Visitor

SITE_TEXT = re.compile(r"chat\s*\.\s*completions|/chat/completions|openai\.resources\.chat|ChatCompletion(?:Chunk|Message)?\s*\(")
"""Text every site holds: source without it is not parsed (most files that pass the runner's byte
filter only mention ``ChatCompletion`` in a type annotation)."""
WRAPPERS = frozenset({"with_raw_response", "with_streaming_response"})
CHAT_RESOURCE = "openai.resources.chat"
"""The module of ``Completions``/``AsyncCompletions``: a patch target under it stops intercepting once
the code calls ``responses``."""
CHAT_TYPES = frozenset({"ChatCompletion", "ChatCompletionChunk", "ChatCompletionMessage"})
MOCK_ATTRIBUTES = frozenset({
    "return_value", "side_effect", "assert_called", "assert_called_once", "assert_called_with", "assert_called_once_with",
    "assert_any_call", "assert_has_calls", "assert_not_called", "assert_awaited", "assert_awaited_once",
    "assert_awaited_with", "assert_awaited_once_with", "call_args", "call_args_list", "call_count", "called", "mock_calls",
    "await_args", "await_count", "awaited",
})
"""What a test reads or sets on a mocked ``….chat.completions.create``: once the code calls
``responses.create``, the mock is never called and these silently see nothing."""


def _posts_to_name(call: cst.Call) -> bool:
    url = url_of(call)
    return isinstance(call.func, cst.Attribute) and call.func.attr.value in HTTP_METHODS and url is not None \
        and isinstance(url.value, cst.Name)


def _patches_chat(call: cst.Call) -> bool:
    for arg in call.args:
        text = string_value(arg.value)
        if text is not None and text.startswith(CHAT_RESOURCE):
            return True
    return False


def _builds_completion(call: cst.Call) -> bool:
    """A test's fixture: a chat type built from literals (``choices=[…]``, ``delta=…``), not the
    library code that builds one from variables."""
    func = call.func
    name = func.attr.value if isinstance(func, cst.Attribute) else func.value if isinstance(func, cst.Name) else None
    return name in CHAT_TYPES and any(arg.keyword is not None and arg.keyword.value in ("choices", "content")
                                      and isinstance(arg.value, cst.List | cst.SimpleString | cst.ConcatenatedString)
                                      for arg in call.args)


def _parts(func: cst.BaseExpression) -> tuple[cst.BaseExpression, str, str | None] | None:
    """``<receiver>.chat.completions[.wrapper].<method>`` → (receiver, method, wrapper)."""
    if not isinstance(func, cst.Attribute):
        return None
    method = func.attr.value
    node = func.value
    wrapper = None
    if isinstance(node, cst.Attribute) and node.attr.value in WRAPPERS:
        wrapper, node = node.attr.value, node.value
    if not (isinstance(node, cst.Attribute) and node.attr.value == "completions"):
        return None
    chat = node.value
    if not (isinstance(chat, cst.Attribute) and chat.attr.value == "chat"):
        return None
    receiver = chat.value
    if isinstance(receiver, cst.Attribute) and receiver.attr.value == "beta":
        receiver = receiver.value  # ``client.beta.chat.completions.parse``: parse left beta in openai 1.92
    return receiver, method, wrapper


_OTHER, _STATEMENT, _CALL, _ATTRIBUTE = range(4)
_ROLES: dict[type, int] = {}
"""What the finder does with a node of each class, found once per class: ``isinstance`` against
libcst's abstract bases goes through ``ABCMeta`` on every node."""


def _role(cls: type) -> int:
    return _STATEMENT if issubclass(cls, cst.BaseStatement) else _CALL if issubclass(cls, cst.Call) \
        else _ATTRIBUTE if issubclass(cls, cst.Attribute) else _OTHER


class Finder(Bindings):
    """The one walk over a module: the bindings (``Bindings``) and, on the way, every site with the
    scope, function and statement it stands in."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[Found] = []
        self._functions: list[cst.CSTNode] = []
        self._statements: list[cst.CSTNode] = []
        self._parents: list[cst.CSTNode] = []
        self.parent: dict[cst.CSTNode, cst.CSTNode] = {}
        self.mock_setups: list[tuple[cst.Attribute, cst.CSTNode]] = []  # ``fake.chat.completions.create.return_value``

    def on_visit(self, node: cst.CSTNode) -> bool:
        descend = Visitor.on_visit(self, node)  # Bindings' own visit_… (a function or class opens its scope here)
        parents = self._parents
        if parents:
            self.parent[node] = parents[-1]
        scope = self._stack[-1]
        if node is scope.node and scope.kind != "class":
            self._functions.append(node)
        cls = type(node)
        role = _ROLES.get(cls)
        if role is None:
            role = _ROLES[cls] = _role(cls)
        if role == _STATEMENT:
            self._statements.append(node)
        elif role == _CALL:
            self._call(node)  # type: ignore[arg-type]
        elif role == _ATTRIBUTE and node.attr.value in MOCK_ATTRIBUTES and _parts(node.value) is not None:  # type: ignore[attr-defined]
            self.mock_setups.append((node, self._statements[-1]))  # type: ignore[arg-type]
        parents.append(node)
        return descend

    def on_leave(self, original_node: cst.CSTNode) -> None:
        self._parents.pop()
        if self._statements and self._statements[-1] is original_node:
            self._statements.pop()
        if self._functions and self._functions[-1] is original_node:
            self._functions.pop()
        Visitor.on_leave(self, original_node)

    def finish(self) -> None:
        """Posts whose URL is a name: a site only if the name turned out to hold a chat URL (it may be
        assigned after the function that reads it)."""
        self.found = [f for f in self.found if f.kind != "http" or is_chat_post(f.call, self.strings)]

    def _call(self, node: cst.Call) -> None:
        parts = _parts(node.func)
        if parts is not None:
            receiver, method, wrapper = parts
            found = self._found(node, "sdk", receiver, method, wrapper)
        elif _patches_chat(node):
            found = self._found(node, "mock", node.func, "patch")
        elif _builds_completion(node):
            found = self._found(node, "fixture", node.func, "build")
        elif isinstance(node.func, cst.Attribute) and (is_chat_post(node, self.strings) or _posts_to_name(node)):
            found = self._found(node, "http", node.func.value, node.func.attr.value)  # a name's URL: checked in finish()
        elif names_chat_url(node):
            found = self._found(node, "url", node.func, "url")
        else:
            return
        self._place(found)
        self.found.append(found)

    def _found(self, node: cst.Call, kind: Kind, receiver: cst.BaseExpression, method: str, wrapper: str | None = None) -> Found:
        return Found(node, kind, receiver, method, wrapper, self._statements[-1], self._stack[-1], self._functions[-1])

    def _place(self, found: Found) -> None:
        """Where the result goes: bound to a name, read on the spot, dropped, or passed on."""
        parents = self._parents
        i = len(parents) - 1
        child: cst.CSTNode = found.call
        if i >= 0 and isinstance(parents[i], cst.Await):
            child = parents[i]
            i -= 1
        outer = child
        while i >= 0 and isinstance(parents[i], cst.Attribute | cst.Subscript) and getattr(parents[i], "value", None) is outer:
            outer = parents[i]
            i -= 1
        if outer is not child:
            found.chained = outer  # type: ignore[assignment]
            return
        parent = parents[i] if i >= 0 else None
        if isinstance(parent, cst.Expr):
            return
        if isinstance(parent, cst.Assign) and len(parent.targets) == 1 and isinstance(parent.targets[0].target, cst.Name):
            found.bound = parent.targets[0].target.value
            return
        if isinstance(parent, cst.AnnAssign) and isinstance(parent.target, cst.Name):
            found.bound = parent.target.value
            return
        if isinstance(parent, cst.WithItem) and parent.asname is not None and isinstance(parent.asname.name, cst.Name):
            found.bound = parent.asname.name.value  # ``async with session.post(…) as resp``
            return
        found.escapes = True
