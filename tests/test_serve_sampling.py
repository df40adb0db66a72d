"""`migrator serve --sampling`: the offline model answers like a sampling model (the replay harness's noise)."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from migrator.server.app import create_app
from migrator.server.run import ServeConfig, build_state

QUESTION = [{"role": "user", "content": "Suggest a name for our release."}]


def _client(sampling: bool) -> Iterator[TestClient]:
    state = build_state(ServeConfig(sampling=sampling, access_log="-"), io.StringIO())
    with TestClient(create_app(state)) as client:
        yield client


@pytest.fixture
def sampling() -> Iterator[TestClient]:
    yield from _client(True)


@pytest.fixture
def stable() -> Iterator[TestClient]:
    yield from _client(False)


def _chat(client: TestClient, **extra: Any) -> str:
    answer = client.post("/v1/chat/completions", json={"model": "m", "messages": QUESTION, **extra})
    assert answer.status_code == 200, answer.text
    return str(answer.json()["choices"][0]["message"]["content"])


def _responses(client: TestClient, **extra: Any) -> str:
    answer = client.post("/v1/responses", json={"model": "m", "input": QUESTION, **extra})
    assert answer.status_code == 200, answer.text
    return "".join(part["text"] for item in answer.json()["output"] for part in item.get("content", []))


def _streamed_chat(client: TestClient, **extra: Any) -> str:
    with client.stream("POST", "/v1/chat/completions", json={"model": "m", "messages": QUESTION, "stream": True, **extra}) as r:
        text = ""
        for line in r.iter_lines():
            if line.startswith("data: {"):
                for choice in json.loads(line[6:])["choices"]:
                    text += choice["delta"].get("content") or ""
    return text


def test_without_the_flag_every_call_answers_the_same(stable: TestClient) -> None:
    assert len({_chat(stable) for _ in range(4)}) == 1
    assert _chat(stable) == _responses(stable)


def test_sampling_answers_differently_on_each_call_on_both_endpoints(sampling: TestClient) -> None:
    assert len({_chat(sampling) for _ in range(6)}) >= 5
    assert len({_responses(sampling) for _ in range(6)}) >= 5


def test_temperature_zero_is_still_deterministic(sampling: TestClient) -> None:
    chats = {_chat(sampling, temperature=0) for _ in range(3)}
    assert len(chats) == 1
    assert chats == {_responses(sampling, temperature=0)}


def test_a_chat_seed_fixes_the_answer_whole_and_streamed(sampling: TestClient) -> None:
    seeded = {_chat(sampling, seed=7) for _ in range(3)}
    assert len(seeded) == 1
    assert {_streamed_chat(sampling, seed=7)} == seeded
    assert _chat(sampling, seed=8) not in seeded


def test_n_choices_stay_distinct_under_sampling(sampling: TestClient) -> None:
    answer = sampling.post("/v1/chat/completions", json={"model": "m", "messages": QUESTION, "n": 3}).json()
    assert len({c["message"]["content"] for c in answer["choices"]}) == 3


def test_the_draws_are_reproducible_from_one_server_to_the_next() -> None:
    first = [_chat(client) for client in _client(True) for _ in range(3)]
    second = [_chat(client) for client in _client(True) for _ in range(3)]
    assert first == second and len(set(first)) == 3
