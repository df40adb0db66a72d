"""Fuzzing ``migrator serve``: whatever JSON a client posts, the answer is a 200 or an
API-shaped 4xx error, never a 500 or a dropped connection (issue #7, section 1).

Bodies are arbitrary JSON values and mutations of the fixtures' request bodies (one field
replaced by null, a number, a string, a list, an object or deep nesting). They go to both
endpoints of an offline server and of a bridge over a chat upstream, in process.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from migrator.server.app import create_app
from migrator.server.run import ServeConfig, build_state
from tests.serve_helpers import ROOT, FakeUpstream, fake_upstream

pytestmark = pytest.mark.slow  # fuzzing: arbitrary input for robustness, the bulk of the suite's time

FIXTURES = ROOT / "fixtures" / "mapping"
ENDPOINTS = {"chat_to_responses": "/v1/chat/completions", "responses_to_chat": "/v1/responses"}


def _requests() -> list[tuple[str, dict[str, Any]]]:
    """Every fixture request body, with the endpoint that takes it."""
    out: list[tuple[str, dict[str, Any]]] = []
    for direction, endpoint in ENDPOINTS.items():
        for path in sorted(Path(FIXTURES / direction).glob("*.json")):
            cases = json.loads(path.read_text(encoding="utf-8"))
            for case in cases if isinstance(cases, list) else [cases]:
                if isinstance(case.get("before"), dict):
                    out.append((endpoint, case["before"]))
    return out


REQUESTS = _requests()

scalars = st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats(allow_nan=False, allow_infinity=False) \
    | st.text(max_size=8)
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
                      max_leaves=8)
deep = st.integers(90, 160).map(lambda n: json.loads("[" * n + "]" * n))
replacements = st.none() | st.integers(-5, 5) | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=6) \
    | st.lists(scalars, max_size=2) | st.dictionaries(st.sampled_from(["type", "role", "x"]), scalars, max_size=2) | deep \
    | st.just([]) | st.just({})


def _paths(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield path
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _paths(item, (*path, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _paths(item, (*path, i))


def _replace(value: Any, path: tuple[Any, ...], new: Any) -> Any:
    if not path:
        return new
    copy: Any = dict(value) if isinstance(value, dict) else list(value)
    copy[path[0]] = _replace(copy[path[0]], path[1:], new)
    return copy


@st.composite
def mutated(draw: st.DrawFn) -> tuple[str, Any]:
    endpoint, body = draw(st.sampled_from(REQUESTS))
    paths = [p for p in _paths(body) if p]
    path = draw(st.sampled_from(paths))
    return endpoint, _replace(body, path, draw(replacements))


@st.composite
def arbitrary(draw: st.DrawFn) -> tuple[str, Any]:
    endpoint = draw(st.sampled_from(sorted(ENDPOINTS.values())))
    body = draw(values | st.dictionaries(st.sampled_from(["model", "input", "messages", "stream", "n", "tools", "text",
                                                          "response_format", "previous_response_id", "store"]),
                                         values, max_size=4))
    return endpoint, body


def _check(response: Any) -> None:
    status = response.status_code
    if status == 200:
        return
    assert 400 <= status < 500, f"{status}: {response.text[:500]}"
    error = response.json()["error"]
    assert set(error) == {"message", "type", "param", "code"}, error
    assert error["param"] is None or isinstance(error["param"], str)


@pytest.fixture(scope="module")
def upstream() -> Iterator[FakeUpstream]:
    with fake_upstream() as fake:
        yield fake


@pytest.fixture(scope="module")
def clients(upstream: FakeUpstream) -> Iterator[list[TestClient]]:
    built = [TestClient(create_app(build_state(ServeConfig(), log_stream=io.StringIO()))),
             TestClient(create_app(build_state(ServeConfig(upstream=upstream.base_url, retries=0), log_stream=io.StringIO())))]
    for client in built:
        client.__enter__()
    try:
        yield built
    finally:
        for client in built:
            client.__exit__(None, None, None)


FUZZ = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                        HealthCheck.too_slow])


def test_an_image_part_known_only_by_file_id_is_dropped_and_answered(clients: list[TestClient]) -> None:
    """Found by the fuzz below: the lost file_id left the echo an image part with no image, and the
    bridge then refused its own upstream's answer (502)."""
    body = {"model": "m", "input": [{"role": "user", "content": [
        {"type": "input_text", "text": "What is this?"}, {"type": "input_image", "file_id": "file-img", "detail": "auto"}]}]}
    for client in clients:
        answer = client.post("/v1/responses", json=body)
        assert answer.status_code == 200, answer.text
        assert "$.input[0].content[1].file_id" in answer.headers.get("x-migrator-losses", "") or client is clients[0]


@FUZZ
@given(case=mutated() | arbitrary())
def test_any_json_body_gets_200_or_an_api_shaped_4xx(clients: list[TestClient], case: tuple[str, Any]) -> None:
    endpoint, body = case
    raw = json.dumps(body, allow_nan=False)
    for client in clients:
        _check(client.post(endpoint, content=raw, headers={"content-type": "application/json"}))


@FUZZ
@given(case=mutated())
def test_mutated_fixtures_streamed_get_200_or_an_api_shaped_4xx(clients: list[TestClient], case: tuple[str, Any]) -> None:
    endpoint, body = case
    if isinstance(body, dict):
        body = {**body, "stream": True}
    for client in clients:
        _check(client.post(endpoint, content=json.dumps(body), headers={"content-type": "application/json"}))


@pytest.fixture(scope="module")
def process(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from tests.serve_helpers import running_server

    with running_server(["--access-log", "-"], stderr_path=tmp_path_factory.mktemp("fuzz") / "stderr") as server:
        yield server


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=mutated() | arbitrary())
def test_a_real_process_answers_fuzzed_bodies_with_200_or_4xx(process: Any, case: tuple[str, Any]) -> None:
    """Through uvicorn too: the same answers, and the process never writes a traceback."""
    import httpx

    endpoint, body = case
    _check(httpx.post(process.root + endpoint, content=json.dumps(body), headers={"content-type": "application/json"},
                      timeout=20))
    assert "Traceback" not in process.stderr()
