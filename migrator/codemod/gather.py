"""Chat calls gathered by ``asyncio.gather`` and the reads of what the gather returns.

``results = await asyncio.gather(*[client.chat.completions.create(…) for t in T])`` holds one result
per call, in order. Each result is read where the list is looped over (``for r in results``, ``zip(…,
results)``, ``enumerate(results)``, the same in a comprehension) or indexed (``results[0].…``): the
loop variable is followed inside its loop like a bound result, and the reads are renamed by the same
result tables. Anything else done with the list (passed on, returned, sliced) or the loop variable
(used outside its loop) leaves the call for a person: a read the codemod cannot see would still
expect a ChatCompletion.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import libcst as cst

from .names import UseVisitor, dotted, visit_body
from .reads import ALIASES, ReadPlan, Segment, chain_of, plan_reads, rebuild, spelled
from .site import Found
from .walk import walk

GATHER = "asyncio.gather"
Follow = Callable[[str, cst.CSTNode, set[cst.CSTNode]], ReadPlan]
"""How a name that holds one result is read within a scope (a loop's body, the function), passing over
the given nodes (the name where a tuple binds it): sdk_site's completion reads."""
_COMPREHENSIONS = (cst.ListComp, cst.GeneratorExp, cst.SetComp)
_BINDERS = (cst.AssignTarget, cst.AnnAssign, cst.AugAssign, cst.NamedExpr, cst.For, cst.CompFor)
"""Nodes whose ``target`` binds a name."""


@dataclass(frozen=True)
class Gathered:
    """Where a gathered call's result lands: the list ``name`` (one call over a comprehension, so one
    kind of result in every slot), or, for ``a, b = await asyncio.gather(<call>, <call>)``, the one
    name ``target`` of the tuple its position binds."""

    name: str
    target: cst.Name | None = None


def gathered_into(found: Found) -> Gathered | None:
    """None for any place but ``<name(s)> = await asyncio.gather(…)`` holding the call as the element
    of a starred comprehension or as one positional argument unpacked into a tuple of names."""
    statement = found.statement
    if not isinstance(statement, cst.SimpleStatementLine) or len(statement.body) != 1:
        return None
    assign = statement.body[0]
    if isinstance(assign, cst.Assign) and len(assign.targets) == 1:
        target: cst.BaseExpression = assign.targets[0].target
    elif isinstance(assign, cst.AnnAssign) and assign.value is not None:
        target = assign.target
    else:
        return None
    value = assign.value
    if not isinstance(value, cst.Await) or not isinstance(value.expression, cst.Call) or dotted(value.expression.func) != GATHER:
        return None
    gather = value.expression
    positional = [arg for arg in gather.args if arg.keyword is None]
    if any(arg.keyword.value != "return_exceptions" for arg in gather.args if arg.keyword is not None):
        return None
    if isinstance(target, cst.Name) and len(positional) == 1 and positional[0].star == "*":
        items = positional[0].value
        if isinstance(items, _COMPREHENSIONS) and items.elt is found.call:
            return Gathered(target.value)
    if isinstance(target, cst.Tuple | cst.List) and len(target.elements) == len(positional) \
            and all(arg.star == "" for arg in positional):
        for arg, element in zip(positional, target.elements, strict=True):
            if arg.value is found.call and isinstance(element.value, cst.Name) and not isinstance(element, cst.StarredElement):
                return Gathered(element.value.value, element.value)
    return None


class _ListUses(UseVisitor):
    """Where the gathered list is read: the loops over it (with the variable that holds one result and
    the scope it is read in), its indexed reads, ``len``; every other use is counted as whole."""

    def __init__(self, name: str) -> None:
        super().__init__()
        self.name = name
        self.loops: list[tuple[str, list[cst.CSTNode], cst.CSTNode]] = []  # (variable, scope, its target)
        self.indexed: list[tuple[cst.BaseExpression, list[Segment]]] = []  # ``results[0].usage.total_tokens``
        self.whole: list[str] = []
        self.assigned = 0
        self._seen: set[cst.CSTNode] = set()

    def visit_For(self, node: cst.For) -> None:
        self._loop(node.iter, node.target, [node.body])

    def visit_ListComp(self, node: cst.ListComp) -> None:
        self._comprehension(node, [node.elt])

    def visit_GeneratorExp(self, node: cst.GeneratorExp) -> None:
        self._comprehension(node, [node.elt])

    def visit_SetComp(self, node: cst.SetComp) -> None:
        self._comprehension(node, [node.elt])

    def visit_DictComp(self, node: cst.DictComp) -> None:
        self._comprehension(node, [node.key, node.value])

    def _comprehension(self, node: cst.ListComp | cst.GeneratorExp | cst.SetComp | cst.DictComp,
                       parts: list[cst.BaseExpression]) -> None:
        if node.for_in.inner_for_in is None:
            self._loop(node.for_in.iter, node.for_in.target, [*parts, *(test.test for test in node.for_in.ifs)])

    def _loop(self, iterated: cst.BaseExpression, target: cst.BaseExpression, scope: list[cst.CSTNode]) -> None:
        variable: cst.BaseExpression | None = None
        if isinstance(iterated, cst.Name) and iterated.value == self.name:
            variable = target
            self._seen.add(iterated)
        elif isinstance(iterated, cst.Call) and isinstance(iterated.func, cst.Name) and isinstance(target, cst.Tuple) \
                and iterated.func.value in ("zip", "enumerate") and all(arg.star == "" for arg in iterated.args):
            positional = [arg.value for arg in iterated.args if arg.keyword is None]
            for i, value in enumerate(positional):
                if isinstance(value, cst.Name) and value.value == self.name:
                    slot = i if iterated.func.value == "zip" else i + 1 if i == 0 else -1
                    if len(target.elements) == (len(positional) if iterated.func.value == "zip" else 2) and slot >= 0:
                        variable = target.elements[slot].value
                        self._seen.add(value)
        if variable is None:
            return
        if isinstance(variable, cst.Name):
            self.loops.append((variable.value, scope, variable))
        else:
            self.whole.append("a loop over it unpacks each result")

    def visit_Attribute(self, node: cst.Attribute) -> bool:
        return self._chain(node)

    def visit_Subscript(self, node: cst.Subscript) -> bool:
        return self._chain(node)

    def _chain(self, node: cst.BaseExpression) -> bool:
        found = chain_of(node)
        if found is not None and isinstance(found[0], cst.Name) and found[0].value == self.name:
            index, *rest = found[1]
            if isinstance(index, int) and rest:
                self.indexed.append((node, found[1]))
                self._seen.add(found[0])
                return False
        return True

    def visit_Call(self, node: cst.Call) -> None:
        if isinstance(node.func, cst.Name) and node.func.value == "len" and len(node.args) == 1:
            arg = node.args[0].value
            if isinstance(arg, cst.Name) and arg.value == self.name:
                self._seen.add(arg)

    def visit_AssignTarget(self, node: cst.AssignTarget) -> None:
        if isinstance(node.target, cst.Name) and node.target.value == self.name:
            self.assigned += 1
            self._seen.add(node.target)

    def visit_Name(self, node: cst.Name) -> None:
        if self.is_use(node) and node.value == self.name and node not in self._seen:
            self.whole.append(f"`{self.name}` is used whole (passed, returned or printed)")

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        return False

    def visit_ClassDef(self, node: cst.ClassDef) -> bool:
        return False


class _Names(UseVisitor):
    """Every read or binding of one name, to tell the loop variable's reads inside its loop from any other."""

    def __init__(self, name: str) -> None:
        super().__init__()
        self.name = name
        self.nodes: set[cst.CSTNode] = set()
        self.bound = 0  # how often it is bound (assigned, a loop's or a walrus' target)
        self.aliases: set[str] = set()  # ``message = <name>.choices[0].message``: names that hold part of it

    def visit_Assign(self, node: cst.Assign) -> None:
        held = chain_of(node.value)
        if held is not None and isinstance(held[0], cst.Name) and held[0].value == self.name and tuple(held[1]) in ALIASES:
            self.aliases.update(t.target.value for t in node.targets if isinstance(t.target, cst.Name))

    def visit_Name(self, node: cst.Name) -> None:
        if self.is_use(node) and node.value == self.name:
            self.nodes.add(node)

    def on_visit(self, node: cst.CSTNode) -> bool:
        if isinstance(node, _BINDERS):
            self._binds(node.target)
        return super().on_visit(node)

    def _binds(self, target: cst.BaseExpression) -> None:
        names = [target] if isinstance(target, cst.Name) else [e.value for e in getattr(target, "elements", ())]
        self.bound += sum(isinstance(n, cst.Name) and n.value == self.name for n in names)

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        return False


def _statements(scope: list[cst.CSTNode]) -> cst.CSTNode:
    """A loop's body as it is, or a comprehension's parts as a block of expression statements (the
    same nodes, so replacements keyed by them land), for a reader that walks a block."""
    if len(scope) == 1 and isinstance(scope[0], cst.BaseSuite):
        return scope[0]
    return cst.IndentedBlock(body=[cst.SimpleStatementLine(body=[cst.Expr(value=part)]) for part in scope
                                   if isinstance(part, cst.BaseExpression)])


def plan_gathered(gathered: Gathered, function: cst.CSTNode, follow: Follow, parse: bool) -> ReadPlan:
    """The reads of each gathered result: through the loops over the list and its indexes, or of the
    one name a tuple binds it to."""
    name = gathered.name
    if gathered.target is not None:
        bindings = _Names(name)
        visit_body(function, bindings)
        plan = follow(name, function, {gathered.target})
        if bindings.bound != 1:
            plan.blockers.append(f"`{name}` is assigned more than once: the reads cannot be tied to this call")
        return plan
    uses = _ListUses(name)
    visit_body(function, uses)
    plan = ReadPlan()
    if uses.assigned != 1:
        plan.blockers.append(f"`{name}` is assigned more than once: the reads cannot be tied to the gathered calls")
    plan.blockers += uses.whole
    variables: dict[str, set[cst.CSTNode]] = {}
    for variable, scope, target in uses.loops:
        inside = _Names(variable)
        for part in scope:
            walk(part, inside)
        if inside.bound:
            plan.blockers.append(f"`{variable}` holds a gathered result and is bound again in its loop")
        variables.setdefault(variable, set()).update(inside.nodes | {target})
        for alias in inside.aliases:  # read by the loop's plan inside it only
            held = _Names(alias)
            for part in scope:
                walk(part, held)
            variables.setdefault(alias, set()).update(held.nodes)
        plan.merge(follow(variable, _statements(scope), set()))
    for variable, allowed in variables.items():
        everywhere = _Names(variable)
        visit_body(function, everywhere)
        if everywhere.nodes - allowed:
            plan.blockers.append(f"`{variable}` holds (part of) a gathered result and is also used outside its loop")
    for node, segments in uses.indexed:
        base = rebuild(cst.Name(name), segments[:1])
        indexed = plan_reads([(node, segments[1:])], {node: base}, parse=parse)
        indexed.blockers = [f"`{name}{spelled(segments)}`: {why}" for why in indexed.blockers]
        plan.merge(indexed)
    return plan
