"""The rewritten module's code: the source with only the changed statements printed anew.

Printing a whole module costs as much as a fifth of a parse, and a rewrite changes a few
statements. libcst round-trips byte for byte, so a statement's old text, printed alone with the
indentation of the blocks around it, stands in the source exactly as printed: each changed
statement is printed twice (old and new) and its old text replaced. A statement whose old text
occurs more than once in the source cannot be placed by its text, so its enclosing statement is
printed instead; when even a top-level statement is not unique, or anything but statements
changed, the caller prints the whole module.
"""

from __future__ import annotations

import dataclasses

import libcst as cst

try:  # libcst's printer state (private: the public ``code_for_node`` cannot print at a block's indentation)
    from libcst._nodes.internal import CodegenState
except ImportError:  # a libcst that moved it: every module is printed whole, as before this module
    CodegenState = None  # type: ignore[assignment,misc]

Pair = tuple[str, str]  # (old text, new text) of one statement


def spliced(code: str, old: cst.Module, new: cst.Module) -> str | None:
    """``new.code`` when ``new`` is ``old`` with some statements replaced and ``code`` is ``old``'s
    source; None when the caller must print the module (``new.code``)."""
    if CodegenState is None or not _only_body_differs(old, new) or len(old.body) != len(new.body) \
            or not old.has_trailing_newline:
        return None
    pairs: list[Pair] = []
    for before, after in zip(old.body, new.body, strict=True):
        if before is not after:
            found = _changed(code, old, before, after, [])
            if found is None:
                return None
            pairs.extend(found)
    cuts: list[tuple[int, int, str]] = []
    for before_text, after_text in pairs:
        at = code.find(before_text)
        cuts.append((at, at + len(before_text), after_text))
    cuts.sort()
    out: list[str] = []
    end = 0
    for start, stop, text in cuts:
        if start < end:
            return None  # overlapping texts: cannot happen for distinct statements, but never guess
        out += (code[end:start], text)
        end = stop
    out.append(code[end:])
    return "".join(out)


def _changed(code: str, module: cst.Module, old: cst.CSTNode, new: cst.CSTNode, indent: list[str]) -> list[Pair] | None:
    """The (old, new) texts to swap for statement ``old`` → ``new`` at block indentation ``indent``:
    its changed inner statements when only they changed and each is found once, else the statement
    itself; None when the statement's own text is not unique in ``code``."""
    inner = _inner(code, module, old, new, indent)
    if inner is not None:
        return inner
    before = _print(module, old, indent)
    if not _unique(code, before):
        return None
    return [(before, _print(module, new, indent))]


def _inner(code: str, module: cst.Module, old: cst.CSTNode, new: cst.CSTNode, indent: list[str]) -> list[Pair] | None:
    if type(old) is not type(new) or not _only_body_differs(old, new):
        return None
    old_block, new_block = getattr(old, "body", None), getattr(new, "body", None)
    if not (isinstance(old_block, cst.IndentedBlock) and isinstance(new_block, cst.IndentedBlock)) \
            or not _only_body_differs(old_block, new_block) or len(old_block.body) != len(new_block.body) or not old_block.body:
        return None
    deeper = [*indent, module.default_indent if old_block.indent is None else old_block.indent]
    pairs: list[Pair] = []
    for before, after in zip(old_block.body, new_block.body, strict=True):
        if before is not after:
            found = _changed(code, module, before, after, deeper)
            if found is None:
                return None
            pairs.extend(found)
    return pairs


def _only_body_differs(old: cst.CSTNode, new: cst.CSTNode) -> bool:
    return all(_same(getattr(old, f.name), getattr(new, f.name)) for f in dataclasses.fields(old) if f.name != "body")


def _same(old: object, new: object) -> bool:
    """The same value, or a sequence rebuilt around the same nodes (libcst's transformer makes new tuples)."""
    if old is new:
        return True
    return isinstance(old, tuple | list) and isinstance(new, tuple | list) and len(old) == len(new) \
        and all(a is b for a, b in zip(old, new, strict=True))


def _print(module: cst.Module, node: cst.CSTNode, indent: list[str]) -> str:
    state = CodegenState(default_indent=module.default_indent, default_newline=module.default_newline,
                         indent_tokens=list(indent))
    node._codegen(state)
    return "".join(state.tokens)


def _unique(code: str, text: str) -> bool:
    at = code.find(text)
    return at >= 0 and code.find(text, at + 1) < 0
