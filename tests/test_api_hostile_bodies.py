"""Integration over real HTTP: hostile bodies are client errors in the error envelope,
never a 500 with a traceback: JSON nested deeper than the decoder can follow (400
JSON_TOO_DEEP) on every route that reads a body, and a Content-Length padded with
thousands of leading zeros (legal HTTP, but more digits than int() accepts)."""

from __future__ import annotations

import socket
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
BODY_ROUTES = ["/api/verdicts", "/api/probe", "/api/intent", "/api/report", "/api/deposit"]
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


def _raw_post(base_url: str, path: str, head: bytes, body: bytes) -> tuple[int, bytes]:
    """POST with headers exactly as given (an HTTP client would rewrite Content-Length)."""
    host, port = base_url.rsplit("//", 1)[1].split(":")
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        sock.sendall(b"POST " + path.encode() + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                     + head + b"\r\n" + body)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    status = int(answer.split(b" ", 2)[1])
    return status, answer.split(b"\r\n\r\n", 1)[1]


@pytest.mark.parametrize(("length", "status"), [
    (b"0" * 5000 + b"2", 422),  # means 2: the body `[]` is read and judged
    (b"0" * 5000 + b"99999", 413),  # means 99,999: over the cap
])
def test_a_content_length_with_thousands_of_digits_is_judged_by_its_value(
    client: httpx.Client, length: bytes, status: int,
) -> None:
    head = (b"Content-Type: application/json\r\nX-Operator-Token: " + OPERATOR_SECRET.encode()
            + b"\r\nContent-Length: " + length + b"\r\n")
    got, body = _raw_post(str(client.base_url), "/api/verdicts", head, b"[]")
    assert got == status, body
    assert b"INTERNAL_ERROR" not in body
