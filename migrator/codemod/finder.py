"""Pass 2: the sites of a module, with the scope, function and statement each stands in."""

from __future__ import annotations

import libcst as cst

from .clients import Bindings, Scope
from .http_calls import is_chat_post
from .literals import string_value
from .site import Found

WRAPPERS = frozenset({"with_raw_response", "with_streaming_response"})
CHAT_RESOURCE = "openai.resources.chat"
"""The module of ``Completions``/``AsyncCompletions``: a patch target under it stops intercepting once
the code calls ``responses``."""
CHAT_TYPES = frozenset({"ChatCompletion", "ChatCompletionChunk", "ChatCompletionMessage"})


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


class Finder(cst.CSTVisitor):
    def __init__(self, bindings: Bindings) -> None:
        self.bindings = bindings
        self.found: list[Found] = []
        self._scopes: list[Scope] = []
        self._functions: list[cst.CSTNode] = []
        self._statements: list[cst.CSTNode] = []
        self._parents: list[cst.CSTNode] = []

    def on_visit(self, node: cst.CSTNode) -> bool:
        scope = self.bindings.scopes.get(node)
        if scope is not None:
            self._scopes.append(scope)
            if scope.kind != "class":
                self._functions.append(node)
        if isinstance(node, cst.BaseStatement | cst.BaseSmallStatement) and not isinstance(node, cst.BaseSmallStatement):
            self._statements.append(node)
        if isinstance(node, cst.Call):
            self._call(node)
        self._parents.append(node)
        return True

    def on_leave(self, original_node: cst.CSTNode) -> None:
        self._parents.pop()
        if self._statements and self._statements[-1] is original_node:
            self._statements.pop()
        if self._scopes and self._scopes[-1].node is original_node:
            scope = self._scopes.pop()
            if scope.kind != "class":
                self._functions.pop()

    def _call(self, node: cst.Call) -> None:
        parts = _parts(node.func)
        if parts is not None:
            receiver, method, wrapper = parts
            found = Found(node, "sdk", receiver, method, wrapper, self._statements[-1], self._scopes[-1], self._functions[-1])
        elif _patches_chat(node):
            found = Found(node, "mock", node.func, "patch", None, self._statements[-1], self._scopes[-1], self._functions[-1])
        elif _builds_completion(node):
            found = Found(node, "fixture", node.func, "build", None, self._statements[-1], self._scopes[-1], self._functions[-1])
        elif is_chat_post(node):
            assert isinstance(node.func, cst.Attribute)
            found = Found(node, "http", node.func.value, node.func.attr.value, None, self._statements[-1], self._scopes[-1],
                          self._functions[-1])
        else:
            return
        self._place(found)
        self.found.append(found)

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
