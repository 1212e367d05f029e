"""Integration over real HTTP: a JSON body nested deeper than the decoder can follow is a
client error (400 JSON_TOO_DEEP in the error envelope) on every route that reads a body,
not a RecursionError escaping as a 500 with a traceback."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from satrank.api.app import create_app
from satrank.config import Settings
from tests.api_seed import OPERATOR, OPERATOR_SECRET
from tests.live_server import live_server

SETTINGS = Settings.from_environ({"L402_MACAROON_SECRET": "x" * 40,
                                  "OPERATOR_BYPASS_SECRET": OPERATOR_SECRET})
# Every route that parses a JSON body (the paid ones through the operator bypass).
BODY_ROUTES = ["/api/verdicts", "/api/probe", "/api/report", "/api/deposit"]
# All under the deposit route's 4 KiB body cap, so each reaches the JSON decoder.
DEEP_BODIES = {
    "arrays": b"[" * 4000,
    "objects": b'{"":[' * 800,  # 1,600 levels
    "inside-a-field": b'{"ids": ' + b"[" * 1900 + b"]" * 1900 + b"}",
}


@pytest.fixture
def client(db_dsn: str) -> Iterator[httpx.Client]:
    with live_server(create_app(SETTINGS, db_dsn)) as url, \
            httpx.Client(base_url=url, timeout=30, headers=OPERATOR) as http:
        yield http


def test_deep_json_is_a_400_with_a_code_on_every_body_route(client: httpx.Client) -> None:
    for route in BODY_ROUTES:
        for name, body in DEEP_BODIES.items():
            response = client.post(route, content=body,
                                   headers={"Content-Type": "application/json"})
            assert response.status_code == 400, (route, name, response.text)
            document = response.json()
            assert document["error"]["code"] == "JSON_TOO_DEEP", (route, name)
            assert document["requestId"] == response.headers["x-request-id"]
            assert "Traceback" not in response.text and "Recursion" not in response.text


def test_nesting_the_decoder_can_follow_is_judged_as_usual(client: httpx.Client) -> None:
    shallow = b'{"ids": ' + b"[" * 200 + b"]" * 200 + b"}"
    response = client.post("/api/verdicts", content=shallow,
                           headers={"Content-Type": "application/json"})
    assert response.status_code == 422 and response.json()["error"]["code"] == "VALIDATION_ERROR"
