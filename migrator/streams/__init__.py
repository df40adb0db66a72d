"""Stream translation: chat.completion.chunk ⇄ response.* events, incremental, both ways."""

from __future__ import annotations

import json
from collections.abc import AsyncIterable, AsyncIterator, Iterable, Iterator
from typing import Any

from ..errors import StreamError
from ..mapping import json_text
from ..mapping.api_error import error_event, failure_body
from ..mapping.errors import Loss, MappingError, describe
from ..mapping.translate import Dialect, check_dialect
from .chat_to_responses import ChatToResponses
from .responses_to_chat import ResponsesToChat
from .sse import CHAT_DONE, DONE, SSEDecoder, SSEEvent, encode_chat, encode_responses, iter_sse

__all__ = [
    "ChatToResponses", "ResponsesToChat", "SSEDecoder", "SSEEncoder", "SSEEvent", "StreamError", "StreamTranslator",
    "aiter_frame_batches", "aiter_frames", "atranslate_sse", "atranslate_stream", "frame_dialect", "iter_frames", "translate_sse", "translate_stream",
]


def frame_dialect(frame: Any, number: int = 1) -> Dialect:
    """Which API a stream frame belongs to."""
    if type(frame) is not dict:
        raise StreamError(number, "expected a JSON object")
    if frame.get("object") == "chat.completion.chunk" or "choices" in frame:
        return "chat"
    ftype = frame.get("type")
    if type(ftype) is str and (ftype.startswith("response.") or ftype == "error"):
        return "responses"
    if "error" in frame:
        return "chat"
    raise StreamError(number, "expected a chat.completion.chunk or a response.* event")


class StreamTranslator:
    """One stream's translation: ``feed`` each frame as it comes, ``finish`` at the end.

    The source dialect is read from the first frame. A stream already in the
    target dialect passes through. ``broken`` tells, after ``finish``, that the
    input ended before its terminal event; ``failed`` that the upstream failed;
    ``losses`` what could not be carried exactly (complete once ``finish`` ran).
    """

    def __init__(self, to: Dialect, *, request: dict[str, Any] | None = None, include_usage: bool = False) -> None:
        check_dialect(to)
        self.to: Dialect = to
        self.source: Dialect | None = None
        self._request = request
        self._include_usage = include_usage
        self._engine: ChatToResponses | ResponsesToChat | None = None
        self._frames = 0
        self._ended = False  # passthrough: a terminal frame was seen
        self._broken = False
        self._failed = False

    @property
    def broken(self) -> bool:
        return self._broken or bool(self._engine is not None and self._engine.broken)

    @property
    def losses(self) -> list[Loss]:
        """What the translation could not carry exactly (e.g. an unknown ``finish_reason``), as ``translate`` reports it."""
        return self._engine.losses if self._engine is not None else []

    @property
    def failed(self) -> bool:
        return self._failed or bool(self._engine is not None and self._engine.failed)

    def feed(self, frame: Any) -> list[dict[str, Any]]:
        self._frames += 1
        if self.source is None:
            self.source = frame_dialect(frame, self._frames)
            if self.source != self.to:
                self._engine = ChatToResponses(self._request) if self.to == "responses" else \
                    ResponsesToChat(include_usage=self._include_usage)
        if self._engine is None:
            if type(frame) is not dict:
                raise StreamError(self._frames, "expected a JSON object")
            if self.source == "responses":
                # The type becomes the frame's `event:` line: a missing one or a line break in it
                # would break (or forge) the framing that the client reads.
                ftype = frame.get("type")
                if type(ftype) is not str or "\n" in ftype or "\r" in ftype:
                    raise StreamError(self._frames, f"$.type: expected the event's type, found {describe(ftype)}")
            self._watch(frame)
            return [frame]
        try:
            return self._engine.feed(frame)
        except StreamError:
            raise
        except (ValueError, OverflowError, RecursionError):
            # A value Python cannot process: a lone surrogate or nesting deeper than Python
            # recurses in a frame given as a dict (SSE frames are checked as they are read),
            # or an infinite number (1e999 reads as one). Named by its path; anything else
            # is a bug and stays one.
            unreadable = self._unreadable(frame)
            if unreadable is None:
                raise
            raise unreadable from None

    def _unreadable(self, frame: Any) -> StreamError | None:
        try:
            json_text.check(frame)
        except MappingError as exc:
            return StreamError(self._frames, "; ".join(str(p) for p in exc.problems))
        path = json_text.nonfinite(frame)
        if path is not None:
            return StreamError(self._frames, f"{path}: expected a finite number, found one beyond the float range (such as 1e999)")
        return None

    def _watch(self, frame: dict[str, Any]) -> None:
        """Passthrough still knows a clean end from a break."""
        if ("error" in frame and "choices" not in frame) or frame.get("type") in ("error", "response.failed"):
            self._ended = self._failed = True
        elif frame.get("type") in ("response.completed", "response.incomplete"):
            self._ended = True
        else:
            choices = frame.get("choices")
            if type(choices) is list and any(type(c) is dict and c.get("finish_reason") for c in choices):
                self._ended = True

    def finish(self) -> list[dict[str, Any]]:
        if self._engine is None:
            if self.source is None:
                raise StreamError(0, "the stream is empty")
            if self._ended:
                return []
            self._broken = True
            message = "the upstream stream ended before it finished"
            if self.source == "chat":
                return [failure_body({"message": message, "code": "server_error"})]
            return [error_event(message, "server_error", self._frames)]
        return self._engine.finish()


def translate_stream(frames: Iterable[Any], to: Dialect, *, request: dict[str, Any] | None = None,
                     include_usage: bool = False) -> Iterator[dict[str, Any]]:
    """Translate parsed frames (dicts) as they come; each frame's output is yielded at once."""
    translator = StreamTranslator(to, request=request, include_usage=include_usage)
    for frame in frames:
        yield from translator.feed(frame)
    yield from translator.finish()


async def atranslate_stream(frames: AsyncIterable[Any], to: Dialect, *, request: dict[str, Any] | None = None,
                            include_usage: bool = False) -> AsyncIterator[dict[str, Any]]:
    translator = StreamTranslator(to, request=request, include_usage=include_usage)
    async for frame in frames:
        for out in translator.feed(frame):
            yield out
    for out in translator.finish():
        yield out


def _decode(event: SSEEvent, number: int) -> Any:
    """A frame read as the API reads JSON: too deep, NaN, a lone surrogate or a huge integer
    is a StreamError naming the frame and the JSON path, never a crash further on."""
    try:
        return json_text.loads(event.data)
    except json.JSONDecodeError as exc:
        raise StreamError(number, f"invalid JSON in data: {exc.msg} (line {exc.lineno}, column {exc.colno})") from None
    except MappingError as exc:
        raise StreamError(number, "; ".join(str(p) for p in exc.problems)) from None


def iter_frames(chunks: Iterable[bytes | str]) -> Iterator[Any]:
    """SSE bytes → parsed frames, up to ``data: [DONE]``; a frame that is not JSON names its number."""
    number = 0
    for event in iter_sse(chunks):
        if event.data == DONE:
            return
        number += 1
        yield _decode(event, number)


async def aiter_frames(chunks: AsyncIterable[bytes | str]) -> AsyncIterator[Any]:
    async for batch in aiter_frame_batches(chunks):
        for frame in batch:
            yield frame


async def aiter_frame_batches(chunks: AsyncIterable[bytes | str]) -> AsyncIterator[list[Any]]:
    """The frames of each network chunk together, so a server can answer each with one write."""
    decoder = SSEDecoder()
    number = 0
    async for chunk in chunks:
        batch: list[Any] = []
        for event in decoder.feed(chunk):
            if event.data == DONE:
                if batch:
                    yield batch
                return
            number += 1
            batch.append(_decode(event, number))
        if batch:
            yield batch
    batch = []
    for event in decoder.close():
        if event.data == DONE:
            break
        number += 1
        batch.append(_decode(event, number))
    if batch:
        yield batch


class SSEEncoder:
    """Frames → SSE bytes for the target dialect, with ``[DONE]`` after a clean chat stream only.

    A frame JSON cannot carry is a StreamError (``frame`` is the input frame's number when the
    caller keeps it up to date), so a server answers it as it answers any unreadable frame.
    """

    def __init__(self, to: Dialect) -> None:
        self.to = to
        self.errored = False
        self.frame = 0

    def encode(self, frame: dict[str, Any]) -> bytes:
        try:
            if self.to == "chat":
                if "error" in frame and "choices" not in frame:
                    self.errored = True
                return encode_chat(frame)
            return encode_responses(frame)
        except ValueError:  # also UnicodeEncodeError
            path = json_text.nonfinite(frame)
            if path is not None:
                raise StreamError(self.frame, f"{path} of the translated event: expected a finite number, "
                                              "found one beyond the float range (such as 1e999)") from None
            raise StreamError(self.frame, "the translated event holds text that cannot be encoded as UTF-8") from None

    def close(self) -> bytes:
        return CHAT_DONE if self.to == "chat" and not self.errored else b""


def _feed(translator: StreamTranslator, encoder: SSEEncoder, frame: Any) -> Iterator[bytes]:
    """One frame in, its translated events out as SSE bytes, each as soon as it is encoded (what both
    the sync and async loops do)."""
    encoder.frame += 1
    for out in translator.feed(frame):
        yield encoder.encode(out)


def _finish(translator: StreamTranslator, encoder: SSEEncoder) -> Iterator[bytes]:
    """The events the end of the stream produces, then the target's terminator (``[DONE]`` for chat)."""
    for out in translator.finish():
        yield encoder.encode(out)
    tail = encoder.close()
    if tail:
        yield tail


def translate_sse(chunks: Iterable[bytes | str], to: Dialect, *, request: dict[str, Any] | None = None,
                  include_usage: bool = False, translator: StreamTranslator | None = None) -> Iterator[bytes]:
    """SSE bytes in (split anywhere), SSE bytes out in the target dialect's framing."""
    translator = translator or StreamTranslator(to, request=request, include_usage=include_usage)
    encoder = SSEEncoder(to)
    for frame in iter_frames(chunks):
        yield from _feed(translator, encoder, frame)
    yield from _finish(translator, encoder)


async def atranslate_sse(chunks: AsyncIterable[bytes | str], to: Dialect, *, request: dict[str, Any] | None = None,
                         include_usage: bool = False, translator: StreamTranslator | None = None) -> AsyncIterator[bytes]:
    translator = translator or StreamTranslator(to, request=request, include_usage=include_usage)
    encoder = SSEEncoder(to)
    async for frame in aiter_frames(chunks):
        for data in _feed(translator, encoder, frame):
            yield data
    for data in _finish(translator, encoder):
        yield data
