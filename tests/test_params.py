"""The unknown-parameter check (migrator/mapping/params.py): one home for the engine, the bridge and the offline model."""

from __future__ import annotations

import inspect

import pytest

from migrator.mapping.api_error import error_body
from migrator.mapping.params import unknown_parameters
from migrator.mapping.rules import TABLES
from migrator.server import app
from migrator.server.offline import OfflineRequestError, checks, validate


def test_unknown_parameters_are_listed_in_body_order_and_known_ones_pass() -> None:
    known = TABLES["responses.request"]
    assert unknown_parameters({"model": "m", "zeta": 1, "input": "hi", "alpha": 2}, known) == ["zeta", "alpha"]
    assert unknown_parameters({"model": "m", "input": "hi", "max_output_tokens": 5}, known) == []
    assert unknown_parameters({"max_output_tokens": 5}, TABLES["chat.request"]) == ["max_output_tokens"]


@pytest.mark.parametrize("table", ["responses.request", "chat.request"])
def test_the_bridge_and_the_offline_model_refuse_an_unknown_parameter_in_the_same_words(table: str) -> None:
    body = {"model": "m", "input": "hi", "foo": 1, "bar": 2}
    expected = error_body("Unrecognized request argument supplied: foo", "invalid_request_error", "unknown_parameter", "foo")
    with pytest.raises(app.HTTPError) as bridge:
        app._check_params(body if table == "responses.request" else {"model": "m", "messages": [], "foo": 1}, table)
    assert (bridge.value.status, bridge.value.body) == (400, expected)
    with pytest.raises(OfflineRequestError) as offline:
        validate(body)
    assert offline.value.body() == expected


def test_the_message_is_written_once() -> None:
    """Before, app.py and the offline model each spelled the check and its message out."""
    for module in (app, checks):
        assert "Unrecognized request argument" not in inspect.getsource(module), module.__name__
