"""Literals held in names that only chat calls read: ``TOOLS = [...]`` … ``create(tools=TOOLS)``.

Such a literal is rewritten where it is defined (tools flattened, a URL's path changed), so the
call keeps its name. That is safe only when nothing else reads the name: any other read (an index
into it, a call of another API, an export) keeps the literal as it is and the call is left.
"""

from __future__ import annotations

import libcst as cst

from .clients import Bindings
from .site import Found

_LITERALS = (cst.List, cst.Dict, cst.Tuple, cst.SimpleString, cst.ConcatenatedString, cst.FormattedString)


def chat_only_literals(bindings: Bindings, found: list[Found]) -> dict[str, cst.BaseExpression]:
    """Names assigned once in the module, to a literal, and read only as arguments of chat calls
    (keyword arguments of SDK calls, the URL of HTTP posts)."""
    arguments: set[cst.CSTNode] = {arg.value for f in found if f.kind in ("sdk", "http") for arg in f.call.args
                                   if (arg.keyword is not None or f.kind == "http") and isinstance(arg.value, cst.Name)}
    return {name: values[0] for name, values in bindings.assigned.items()
            if len(values) == 1 and isinstance(values[0], _LITERALS)
            and all(read in arguments for read in bindings.reads.get(name, ()))}
