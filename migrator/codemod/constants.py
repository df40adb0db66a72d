"""Literals held in names that only chat calls read: ``TOOLS = [...]`` … ``create(tools=TOOLS)``.

Such a literal is rewritten where it is defined (tools flattened, a tool choice reshaped), so the
call keeps its name. That is safe only when nothing else reads the name: any other read (an index
into it, a call of another API, an export) keeps the literal as it is and the call is left.
"""

from __future__ import annotations

import libcst as cst

from .names import UseVisitor
from .site import Found

_LITERALS = (cst.List, cst.Dict, cst.Tuple)


class _Names(UseVisitor):
    def __init__(self, arguments: set[cst.CSTNode]) -> None:
        super().__init__()
        self.arguments = arguments  # the Name nodes that are keyword arguments of chat calls
        self.assigned: dict[str, list[cst.BaseExpression]] = {}
        self.other_reads: set[str] = set()
        self._targets: set[cst.CSTNode] = set()

    def visit_Assign(self, node: cst.Assign) -> None:
        for target in node.targets:
            if isinstance(target.target, cst.Name):
                self.assigned.setdefault(target.target.value, []).append(node.value)
                self._targets.add(target.target)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        if isinstance(node.target, cst.Name) and node.value is not None:
            self.assigned.setdefault(node.target.value, []).append(node.value)
            self._targets.add(node.target)

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        if isinstance(node.target, cst.Name):
            self.assigned.setdefault(node.target.value, []).append(node.value)
            self._targets.add(node.target)

    def visit_Param(self, node: cst.Param) -> None:
        self.other_reads.add(node.name.value)

    def visit_Name(self, node: cst.Name) -> None:
        if not self.is_use(node):
            return
        if node not in self._targets and node not in self.arguments:
            self.other_reads.add(node.value)


def chat_only_literals(module: cst.Module, found: list[Found]) -> dict[str, cst.BaseExpression]:
    """Names assigned once in the module, to a literal, and read only as arguments of chat calls."""
    arguments: set[cst.CSTNode] = {arg.value for f in found if f.kind == "sdk" for arg in f.call.args
                 if arg.keyword is not None and isinstance(arg.value, cst.Name)}
    names = _Names(arguments)
    module.visit(names)
    return {name: values[0] for name, values in names.assigned.items()
            if len(values) == 1 and isinstance(values[0], _LITERALS) and name not in names.other_reads}
