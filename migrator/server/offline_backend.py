"""The offline model as a backend: what ``migrator serve`` answers with when it has no upstream."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Mapping
from typing import Any

from ..streams.sse import encode_responses
from . import offline as offline
from .upstream import Answer, UpstreamError, error_json


class OfflineBackend:
    """Speaks Responses natively; the chat endpoint is translated around it like any backend."""

    api = "responses"

    def __init__(self, latency_ms: float = 0.0) -> None:
        self.latency = max(0.0, latency_ms) / 1000

    def _check(self, body: dict[str, Any]) -> None:
        try:
            offline.validate(body)
        except offline.OfflineRequestError as exc:
            raise UpstreamError(exc.status, error_json(str(exc), "invalid_request_error", exc.code, exc.param)) from None

    async def send(self, body: dict[str, Any], headers: Mapping[str, str], *, variant: int = 0,
                   response_id: str | None = None, created_at: float | None = None) -> Answer:
        """``variant`` > 0 is another answer to the same request (chat's ``n`` choices)."""
        self._check(body)
        if self.latency:
            await asyncio.sleep(self.latency)
        response = offline.generate(body, response_id=response_id or "resp_" + uuid.uuid4().hex,
                                    created_at=created_at or time.time(), variant=variant)
        return Answer(200, response, {})

    async def events(self, body: dict[str, Any], *, variant: int, response_id: str,
                     created_at: float) -> AsyncIterator[dict[str, Any]]:
        """One variant's events as dicts (no SSE round trip): chat's ``n`` streams are built from them."""
        self._check(body)
        for event in offline.generate_events(body, response_id=response_id, created_at=created_at, variant=variant):
            if self.latency and event.get("type", "").endswith(".delta"):
                await asyncio.sleep(self.latency)
            yield event

    async def stream(self, body: dict[str, Any], headers: Mapping[str, str]) -> AsyncIterator[bytes]:
        self._check(body)
        return self._events(body)

    async def _events(self, body: dict[str, Any]) -> AsyncIterator[bytes]:
        for event in offline.generate_events(body, response_id="resp_" + uuid.uuid4().hex, created_at=time.time()):
            if self.latency and event.get("type", "").endswith(".delta"):
                await asyncio.sleep(self.latency)
            yield encode_responses(event)

    async def models(self, headers: Mapping[str, str]) -> dict[str, Any]:
        return {"object": "list", "data": [{"id": offline.MODEL_ID, "object": "model", "created": 0, "owned_by": "migrator"}]}

    async def aclose(self) -> None:
        return None
