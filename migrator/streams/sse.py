"""Server-sent events: an incremental parser for byte streams split anywhere, and writers
that frame each dialect exactly as OpenAI does.

Chat streams are ``data: {chunk}`` frames ending with ``data: [DONE]``; Responses
streams are ``event: <type>`` + ``data: {event}`` frames with no ``[DONE]``. Gateways
vary (no ``event:`` lines, a trailing ``[DONE]`` on Responses, ``\\r\\n`` line ends),
so the parser reads any of them; the writers write only the canonical form.
"""

from __future__ import annotations

import codecs
import json
from collections.abc import AsyncIterable, AsyncIterator, Iterable, Iterator
from typing import Any

DONE = "[DONE]"


class SSEEvent:
    """One dispatched event: its ``event:`` name (or None) and its joined ``data:`` lines."""

    __slots__ = ("data", "event", "id")

    def __init__(self, data: str, event: str | None = None, id: str | None = None) -> None:
        self.data = data
        self.event = event
        self.id = id

    def __repr__(self) -> str:
        return f"SSEEvent(event={self.event!r}, data={self.data[:60]!r})"


class SSEDecoder:
    """Feed bytes as they arrive; get whole events back.

    Splits may fall anywhere: inside a line, between ``\\r`` and ``\\n``, or inside a
    multi-byte UTF-8 character (an incremental decoder keeps the partial bytes).
    Memory holds only the unfinished line and the current event's data lines.
    """

    def __init__(self) -> None:
        self._utf8 = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._buffer = ""
        self._data: list[str] = []
        self._event: str | None = None
        self._id: str | None = None
        self._pending_cr = False
        self._started = False

    def feed(self, chunk: bytes | str) -> list[SSEEvent]:
        text = chunk if isinstance(chunk, str) else self._utf8.decode(chunk)
        if not text:
            return []
        if not self._started:
            self._started = True
            if text[0] == "\ufeff":  # a byte-order mark before the first line is not part of it
                text = text[1:]
                if not text:
                    return []
        if self._pending_cr:
            self._pending_cr = False
            if text[0] == "\n":
                text = text[1:]
        buffer = self._buffer + text
        events: list[SSEEvent] = []
        start = 0
        n = len(buffer)
        # Each end-of-line character is looked for again only once the scan has passed it: a
        # search from every line start would rescan a chunk without \r for every line in it.
        cr = buffer.find("\r")
        lf = buffer.find("\n")
        while True:
            if cr != -1 and cr < start:
                cr = buffer.find("\r", start)
            if lf != -1 and lf < start:
                lf = buffer.find("\n", start)
            if cr == -1 and lf == -1:
                break
            if cr == -1 or (lf != -1 and lf < cr):
                end, nxt = lf, lf + 1
            elif cr + 1 < n:
                end, nxt = cr, cr + 2 if buffer[cr + 1] == "\n" else cr + 1
            else:  # a lone \r at the end: the \n may come in the next chunk
                end, nxt = cr, cr + 1
                self._pending_cr = True
            self._line(buffer[start:end], events)
            start = nxt
        self._buffer = buffer[start:]
        return events

    def close(self) -> list[SSEEvent]:
        """End of stream: a final event without its blank line is still dispatched."""
        events: list[SSEEvent] = []
        tail = self._utf8.decode(b"", final=True)
        if tail:
            events += self.feed(tail)
        if self._buffer:
            self._line(self._buffer, events)
            self._buffer = ""
        self._line("", events)
        return events

    def _line(self, line: str, events: list[SSEEvent]) -> None:
        if not line:
            if self._data:  # an event with no data line (event: ping) dispatches nothing, as browsers do
                events.append(SSEEvent("\n".join(self._data), self._event, self._id))
            self._data = []
            self._event = None
            return
        if line[0] == ":":
            return  # a comment (keep-alive)
        field, sep, value = line.partition(":")
        if sep and value.startswith(" "):
            value = value[1:]
        if field == "data":
            self._data.append(value)
        elif field == "event":
            self._event = value
        elif field == "id":
            self._id = value


def iter_sse(chunks: Iterable[bytes | str]) -> Iterator[SSEEvent]:
    decoder = SSEDecoder()
    for chunk in chunks:
        yield from decoder.feed(chunk)
    yield from decoder.close()


async def aiter_sse(chunks: AsyncIterable[bytes | str]) -> AsyncIterator[SSEEvent]:
    decoder = SSEDecoder()
    async for chunk in chunks:
        for event in decoder.feed(chunk):
            yield event
    for event in decoder.close():
        yield event


# One encoder for every frame: json.dumps with options builds a new encoder per call.
# allow_nan=False: an infinite number (``1e999`` reads as one) raises ValueError instead of
# going out as ``Infinity``, which no JSON reader takes; so does a lone surrogate, on .encode().
_JSON = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode


def encode_chat(chunk: dict[str, Any]) -> bytes:
    """Raises ValueError for a frame that JSON cannot carry (an infinite number, a lone surrogate)."""
    return b"data: " + _JSON(chunk).encode() + b"\n\n"


CHAT_DONE = b"data: [DONE]\n\n"


def encode_responses(event: dict[str, Any]) -> bytes:
    return f"event: {event['type']}\ndata: {_JSON(event)}\n\n".encode()
