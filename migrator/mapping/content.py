"""Content parts: chat ``text``/``image_url``/``file``/``refusal`` ⇄ ``input_*``/``output_text``/``refusal``."""

from __future__ import annotations

from typing import Any

from .context import Context
from .rules import COPY, DROP, RENAME, TABLES, VALUES

_C_TEXT = TABLES["chat.part.text"]
_C_ASSISTANT_TEXT = TABLES["chat.part.text.assistant"]
_C_IMAGE = TABLES["chat.part.image_url"]
_C_FILE = TABLES["chat.part.file"]
_C_REFUSAL = TABLES["chat.part.refusal"]
_C_TYPES = VALUES["chat.part_types"]
_R_TEXT = TABLES["responses.part.input_text"]
_R_OUT_TEXT = TABLES["responses.part.output_text"]
_R_REFUSAL = TABLES["responses.part.refusal"]
_R_IMAGE = TABLES["responses.part.input_image"]
_R_FILE = TABLES["responses.part.input_file"]
_R_TYPES = VALUES["responses.part_types"]
_TOOL_PARTS = VALUES["responses.tool_output_parts"]
_INSTRUCTION_PARTS = VALUES["chat.instruction_part_types"]

# Part type names come from the value tables, so a rename is made in mappings/ only.
INPUT_TEXT = _C_TYPES["text"].to
INPUT_IMAGE = _C_TYPES["image_url"].to
INPUT_FILE = _C_TYPES["file"].to
CHAT_TEXT = _R_TYPES["input_text"].to
CHAT_OUT_TEXT = _R_TYPES["output_text"].to
INSTRUCTION_TEXT = _INSTRUCTION_PARTS["input_text"].to
TOOL_TEXT = _TOOL_PARTS["input_text"].to
_IMAGE_URL = _C_IMAGE["url"].to_parts[-1]
CHAT_IMAGE = _R_TYPES["input_image"].to
CHAT_FILE = _R_TYPES["input_file"].to

# Off sends every message and item through the checking converters: the differential test
# (tests/test_fast_path_differential.py) compares both paths. Read once per call, so free when on.
FAST_PATH = True

# What the part fast paths below may take whole, from the tables: a field whose rule is not a plain
# copy/rename of a string (or that a table change turns into one) leaves it to the checking converters.
_FILE_COPIES = frozenset(k for k, r in _C_FILE.levels["file"].items() if r.do is COPY and str in r.types)
_INPUT_FILE_RENAMES = {k: r.to_parts for k, r in _R_FILE.levels[""].items()
                       if r.do is RENAME and str in r.types and len(r.to_parts) == 2}
_FILE_PARENTS = {parts[0] for parts in _INPUT_FILE_RENAMES.values()}
_FILE_PARENT = next(iter(_FILE_PARENTS)) if len(_FILE_PARENTS) == 1 else None
_FILE_KEYS = {k: parts[1] for k, parts in _INPUT_FILE_RENAMES.items()} if _FILE_PARENT is not None else {}
_IMAGE_RULES = (_R_IMAGE["image_url"], _R_IMAGE["detail"])
_IMAGE_FAST = all(r.do is RENAME and str in r.types and len(r.to_parts) == 2 for r in _IMAGE_RULES) \
    and _IMAGE_RULES[0].to_parts[0] == _IMAGE_RULES[1].to_parts[0]
_IMAGE_PARENT, _IMAGE_URL_KEY = _R_IMAGE["image_url"].to_parts if _IMAGE_FAST else ("", "")
_IMAGE_DETAIL_KEY = _R_IMAGE["detail"].to_parts[-1] if _IMAGE_FAST else ""
_INSTRUCTION_TEXT_KEPT = _INSTRUCTION_PARTS["input_text"].do is not DROP
_TOOL_TEXT_KEPT = _TOOL_PARTS["input_text"].do is not DROP


def fast_chat_parts(parts: list[Any]) -> list[dict[str, Any]] | None:
    """The Responses parts of chat user/system/developer content of plain text, image and file
    parts; None when any part needs the checking converter (which gives the same for these)."""
    out: list[dict[str, Any]] = []
    append = out.append
    for part in parts:
        try:  # a non-object part or a missing key falls to the checking path
            if len(part) != 2:
                return None
            ptype = part["type"]
            if ptype == "text":
                text = part["text"]
                if type(text) is not str:
                    return None
                append({"type": INPUT_TEXT, "text": text})
            elif ptype == "image_url":
                image = part["image_url"]
                url = image["url"]
                n = len(image)
                detail = "auto" if n == 1 else image["detail"] if n == 2 else None
                if type(url) is not str or type(detail) is not str:
                    return None
                append({"type": INPUT_IMAGE, _IMAGE_URL: url, "detail": detail})
            elif ptype == "file":
                file = part["file"]
                if type(file) is not dict or not _FILE_COPIES.issuperset(file):
                    return None
                for value in file.values():
                    if type(value) is not str:
                        return None
                append({"type": INPUT_FILE, **file})
            else:
                return None
        except (KeyError, TypeError):
            return None
    return out


def _plain_text_parts(parts: list[Any], source: str, target: str | None) -> list[dict[str, Any]] | None:
    """``{type: source, text}`` parts, and nothing else, as ``{type: target, text}``; None otherwise."""
    out: list[dict[str, Any]] = []
    for part in parts:
        try:
            text = part["text"]
            if len(part) != 2 or part["type"] != source or type(text) is not str:
                return None
        except (KeyError, TypeError):
            return None
        out.append({"type": target, "text": text})
    return out


def fast_chat_text_parts(parts: list[Any]) -> list[dict[str, Any]] | None:
    """Plain ``{type: text, text}`` parts of a tool message as input_text; None for anything else."""
    return _plain_text_parts(parts, "text", INPUT_TEXT)


def fast_assistant_parts(content: Any, refusal: Any) -> list[dict[str, Any]] | None:
    """The Responses parts of a chat assistant turn with a refusal or a list of plain text and
    refusal parts (an echoed refused answer, an SDK's part list); None for anything else."""
    if refusal is not None and type(refusal) is not str:
        return None
    if type(content) is str:
        out: list[dict[str, Any]] = [{"type": "output_text", "text": content, "annotations": []}]
    elif content is None:
        out = []
    elif type(content) is list:
        out = []
        for part in content:  # {type: text, text} and {type: refusal, refusal}: the type names the one other key
            ptype = part.get("type") if type(part) is dict and len(part) == 2 else None
            value = part.get(ptype) if ptype == "text" or ptype == "refusal" else None
            if type(value) is not str:
                return None
            out.append({"type": "output_text", "text": value, "annotations": []} if ptype == "text"
                       else {"type": "refusal", "refusal": value})
    else:
        return None
    if refusal is not None:
        out.append({"type": "refusal", "refusal": refusal})
    return out


def fast_input_parts(parts: list[Any], text_only: bool) -> list[dict[str, Any]] | None:
    """The chat parts of Responses message content of plain input_text (and, for user
    messages, input_image with a URL and input_file) parts; None for anything else."""
    out: list[dict[str, Any]] = []
    append = out.append
    for part in parts:
        try:
            ptype = part["type"]
            n = len(part)
            if ptype == "input_text":
                text = part["text"]
                if n != 2 or type(text) is not str or (text_only and not _INSTRUCTION_TEXT_KEPT):
                    return None
                append({"type": INSTRUCTION_TEXT if text_only else CHAT_TEXT, "text": text})
            elif text_only:
                return None
            elif ptype == "input_image":
                url = part["image_url"]
                detail = part["detail"] if n == 3 else "" if n == 2 else None
                if not _IMAGE_FAST or type(url) is not str or type(detail) is not str:
                    return None
                append({"type": CHAT_IMAGE, _IMAGE_PARENT: {_IMAGE_URL_KEY: url, _IMAGE_DETAIL_KEY: detail} if n == 3
                        else {_IMAGE_URL_KEY: url}})
            elif ptype == "input_file":
                inner: dict[str, Any] = {}
                keys = _FILE_KEYS
                for key, value in part.items():
                    if key == "type":
                        continue
                    target = keys.get(key)
                    if target is None or type(value) is not str:
                        return None
                    inner[target] = value
                if not inner:
                    return None
                append({"type": CHAT_FILE, _FILE_PARENT or "": inner})
            else:
                return None
        except (KeyError, TypeError):
            return None
    return out


def fast_tool_output(parts: list[Any]) -> list[dict[str, Any]] | None:
    """Plain ``{type: input_text, text}`` parts of a function_call_output as chat text; None for anything else."""
    if not parts or not _TOOL_TEXT_KEPT:
        return None  # an empty list becomes "" on the checking path
    return _plain_text_parts(parts, "input_text", TOOL_TEXT)


def _text(part: dict[str, Any], path: str, ctx: Context) -> str | None:
    text = part.get("text")
    if type(text) is not str:
        ctx.problem(f"{path}.text", "a string", text)
        return None
    return text


def chat_parts_to_input(parts: list[Any], path: str, ctx: Context, *, assistant: bool = False) -> list[dict[str, Any]]:
    """Chat content parts → Responses parts (input_* for user/system, output_text for assistant)."""
    out: list[dict[str, Any]] = []
    for p, part in ctx.objects(parts, path, "a content part object"):
        ptype = part.get("type")
        if ptype == "text":
            text = _text(part, p, ctx)
            if text is None:
                continue
            if assistant:
                new: dict[str, Any] = {"type": "output_text", "text": text, "annotations": []}
                ctx.check(part, _C_ASSISTANT_TEXT, p)
            else:
                new = {"type": INPUT_TEXT, "text": text}
                ctx.carry(part, _C_TEXT, p, new)
            out.append(new)
        elif ptype == "refusal":
            if not assistant:
                ctx.problem(f"{p}.type", "text, image_url, file or input_audio (refusal parts belong to assistant messages)", ptype)
                continue
            refusal = part.get("refusal")
            if type(refusal) is not str:
                ctx.problem(f"{p}.refusal", "a string", refusal)
                continue
            ctx.check(part, _C_REFUSAL, p)
            out.append({"type": "refusal", "refusal": refusal})
        elif assistant:
            ctx.problem(f"{p}.type", "text or refusal (assistant content)", ptype)
        elif ptype == "image_url":
            image: Any = part.get("image_url")
            url = image.get("url") if type(image) is dict else None
            if type(url) is not str:
                ctx.problem(f"{p}.image_url.url", "a URL or data URL string", url if type(image) is dict else image)
                continue
            new = {"type": INPUT_IMAGE, _IMAGE_URL: url, "detail": "auto"}
            ctx.carry(part, _C_IMAGE, p, new)
            ctx.check(image, _C_IMAGE, f"{p}.image_url", at="image_url")
            detail = image.get("detail")
            if detail is not None:
                new["detail"] = detail
            out.append(new)
        elif ptype == "file":
            file = part.get("file")
            if type(file) is not dict:
                ctx.problem(f"{p}.file", "an object with file_data, file_id or filename", file)
                continue
            new = {"type": INPUT_FILE}
            ctx.carry(file, _C_FILE, f"{p}.file", new, at="file")
            ctx.carry(part, _C_FILE, p, new)
            out.append(new)
        elif ptype == "input_audio":
            rule = _C_TYPES["input_audio"]
            ctx.loss(p, "input_audio", rule.kind, rule.reason)
        elif type(ptype) is str:
            ctx.loss(p, ptype, "unsupported", f"{ptype!r} is not a chat content part type migrator knows; it was not forwarded")
        else:
            ctx.problem(f"{p}.type", "text, image_url, file or input_audio", ptype)
    return out


def chat_text_parts_to_input(parts: list[Any], path: str, ctx: Context) -> list[dict[str, Any]]:
    """Text-only chat content (tool messages) → input_text parts."""
    out: list[dict[str, Any]] = []
    for p, part in ctx.objects(parts, path, "a text part {type: text, text}"):
        if part.get("type") != "text":
            ctx.problem(f"{p}.type", "text (a tool message holds text parts only)", part.get("type"))
            continue
        text = _text(part, p, ctx)
        if text is not None:
            new = {"type": INPUT_TEXT, "text": text}
            ctx.carry(part, _C_TEXT, p, new)
            out.append(new)
    return out


def input_parts_to_chat(parts: list[Any], path: str, ctx: Context, *, text_only: bool = False) -> list[dict[str, Any]]:
    """Responses input parts of a user/system/developer message → chat parts.

    ``text_only`` is for system and developer messages, whose chat content is text.
    """
    out: list[dict[str, Any]] = []
    for p, part in ctx.objects(parts, path, "a content part object"):
        ptype = part.get("type")
        rule = _INSTRUCTION_PARTS.get(ptype) if text_only and type(ptype) is str else None
        if rule is not None and rule.do == "drop":
            ctx.loss(p, ptype, rule.kind, rule.reason)
            continue
        if ptype == "input_text" or ptype == "output_text":
            text = _text(part, p, ctx)
            if text is None:
                continue
            ptext = INSTRUCTION_TEXT if text_only else CHAT_TEXT if ptype == "input_text" else CHAT_OUT_TEXT
            new: dict[str, Any] = {"type": ptext, "text": text}
            ctx.carry(part, _R_TEXT if ptype == "input_text" else _R_OUT_TEXT, p, new)
            out.append(new)
        elif ptype == "input_image":
            url = part.get("image_url")
            if url is None:
                if part.get("file_id") is not None:
                    ctx.check(part, _R_IMAGE, p)
                    continue
                ctx.problem(f"{p}.image_url", "a URL or data URL string (or file_id)", url)
                continue
            if type(url) is not str:
                ctx.problem(f"{p}.image_url", "a URL or data URL string", url)
                continue
            new = {"type": CHAT_IMAGE}
            ctx.carry(part, _R_IMAGE, p, new)
            out.append(new)
        elif ptype == "input_file":
            new = {"type": CHAT_FILE}
            ctx.carry(part, _R_FILE, p, new)
            if "file" not in new:
                if len(part) > 1:
                    continue  # all it had (a file_url) was reported and cannot be sent
                new["file"] = {}
            out.append(new)
        elif ptype == "refusal":
            ctx.problem(f"{p}.type", "input_text, input_image or input_file (refusal parts belong to assistant messages)", ptype)
        elif type(ptype) is str:
            ctx.loss(p, ptype, "unsupported", f"{ptype!r} is not a Responses content part type migrator knows; it was not forwarded")
        else:
            ctx.problem(f"{p}.type", "input_text, input_image or input_file", ptype)
    return out


def output_parts_to_chat(parts: list[Any], path: str, ctx: Context) -> tuple[list[dict[str, Any]], bool]:
    """Assistant history parts (output_text, refusal) → chat assistant parts; says if any refusal."""
    out: list[dict[str, Any]] = []
    refused = False
    for p, part in ctx.objects(parts, path, "a content part object"):
        ptype = part.get("type")
        if ptype == "output_text" or ptype == "input_text" or ptype == "text":
            text = _text(part, p, ctx)
            if text is None:
                continue
            ctx.check(part, _R_OUT_TEXT if ptype == "output_text" else _R_TEXT, p)
            out.append({"type": CHAT_OUT_TEXT if ptype == "output_text" else CHAT_TEXT, "text": text})
        elif ptype == "refusal":
            refusal = part.get("refusal")
            if type(refusal) is not str:
                ctx.problem(f"{p}.refusal", "a string", refusal)
                continue
            ctx.check(part, _R_REFUSAL, p)
            out.append({"type": "refusal", "refusal": refusal})
            refused = True
        else:
            ctx.problem(f"{p}.type", "output_text or refusal (assistant content)", ptype)
    return out, refused


def tool_output_to_chat(output: Any, path: str, ctx: Context) -> str | list[dict[str, Any]] | None:
    """function_call_output.output → chat tool content (text only)."""
    if type(output) is str:
        return output
    if type(output) is not list:
        ctx.problem(path, "a string or a list of input_text / input_image / input_file parts", output)
        return None
    out: list[dict[str, Any]] = []
    for p, part in ctx.objects(output, path, "a content part object"):
        ptype = part.get("type")
        rule = _TOOL_PARTS.get(ptype) if type(ptype) is str else None
        if rule is None:
            ctx.problem(f"{p}.type", "input_text, input_image or input_file", ptype)
        elif rule.do == "drop":
            ctx.loss(p, str(ptype), rule.kind, rule.reason)
        else:
            text = _text(part, p, ctx)
            if text is not None:
                new = {"type": TOOL_TEXT, "text": text}
                ctx.carry(part, _R_TEXT, p, new)
                out.append(new)
    return out if out else ""  # every part dropped: an empty tool result, not an empty list
