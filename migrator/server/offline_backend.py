"""The offline model as a backend: what ``migrator serve`` answers with when it has no upstream."""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
import uuid
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from typing import Any, TypeVar

from ..streams.sse import encode_responses
from . import offline as offline
from .upstream import Answer, UpstreamError

_T = TypeVar("_T")
DRAW_MEMORY = 100_000  # bodies whose draw count is kept (about 15 MB); an older one starts its draws again


def _guarded(build: Callable[[], _T]) -> _T:
    """Run the model on a client's body: its refusals are the API's 400s (anything else is a bug of the
    model's, which the server's last-resort handler answers with a logged 500, never blaming the client)."""
    try:
        return build()
    except offline.OfflineRequestError as exc:
        raise UpstreamError(exc.status, exc.body()) from None


class OfflineBackend:
    """Speaks Responses natively; the chat endpoint is translated around it like any backend."""

    api = "responses"

    def __init__(self, latency_ms: float = 0.0, *, sampling: bool = False) -> None:
        self.latency = max(0.0, latency_ms) / 1000
        self.sampling = sampling
        self._draws: OrderedDict[str, int] = OrderedDict()  # body → how many sampled answers it has had

    def _variant(self, body: dict[str, Any], variant: int, fixed: bool) -> int:
        """With sampling on, a request whose ``temperature`` is not 0 gets another answer on every call.

        Off by default, so answers are stable for tests. The replay harness turns it on: a real model
        at temperature 1 (the API's default) rarely says the same thing twice, and the noise floor a
        replay measures (chat sent twice) is only worth showing when there is noise to measure.

        The draws are a seeded model's: the k-th call with a body gets the k-th answer for it, so a
        replay of the same corpus in the same order sees the same answers, and a test or the README's
        sample never flips by luck. The ``n`` choices of one call stay distinct (the draw is shifted
        above them). ``fixed``: the caller chose the variant (chat's ``seed``), as a seeded model answers
        the same every time. Counts are kept for the last :data:`DRAW_MEMORY` bodies.
        """
        if fixed or not self.sampling or body.get("temperature") == 0:
            return variant
        key = hashlib.sha256(json.dumps(body, sort_keys=True, ensure_ascii=False, default=str).encode("utf-8", "replace")).hexdigest()
        draws = self._draws
        count = draws.pop(key, 0) + 1
        draws[key] = count
        if len(draws) > DRAW_MEMORY:
            draws.popitem(last=False)
        return (int(hashlib.sha256(f"{key}:{count}".encode()).hexdigest()[:10], 16) << 8) + variant + 1

    async def send(self, body: dict[str, Any], headers: Mapping[str, str], *, variant: int = 0,
                   response_id: str | None = None, created_at: float | None = None, fixed: bool = False) -> Answer:
        """``variant`` > 0 is another answer to the same request (chat's ``n`` choices)."""
        variant = self._variant(body, variant, fixed)
        response = _guarded(lambda: offline.generate(body, response_id=response_id or "resp_" + uuid.uuid4().hex,
                                                     created_at=created_at or time.time(), variant=variant))
        if self.latency:
            await asyncio.sleep(self.latency)
        return Answer(200, response, {})

    async def stream(self, body: dict[str, Any], headers: Mapping[str, str]) -> AsyncIterator[bytes]:
        events = await self.events(body, variant=0, response_id="resp_" + uuid.uuid4().hex, created_at=time.time())
        return self._encoded(events)

    async def events(self, body: dict[str, Any], *, variant: int, response_id: str,
                     created_at: float, fixed: bool = False) -> AsyncIterator[dict[str, Any]]:
        """One variant's events as dicts (no SSE round trip: chat's ``n`` streams are built from them).

        The whole answer is made here, before the first event, so a body the model refuses is a
        400 and never a broken stream.
        """
        variant = self._variant(body, variant, fixed)
        built = _guarded(lambda: list(offline.generate_events(body, response_id=response_id, created_at=created_at,
                                                              variant=variant)))
        return self._paced(built)

    async def _paced(self, events: Iterable[dict[str, Any]]) -> AsyncIterator[dict[str, Any]]:
        for event in events:
            if self.latency and event.get("type", "").endswith(".delta"):
                await asyncio.sleep(self.latency)
            yield event

    async def _encoded(self, events: AsyncIterator[dict[str, Any]]) -> AsyncIterator[bytes]:
        async for event in events:
            yield encode_responses(event)

    async def models(self, headers: Mapping[str, str]) -> dict[str, Any]:
        return {"object": "list", "data": [{"id": offline.MODEL_ID, "object": "model", "created": 0, "owned_by": "migrator"}]}

    async def aclose(self) -> None:
        return None
