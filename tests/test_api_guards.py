"""Integration: the error envelope for 413/415/405/404/500 and X-Request-Id everywhere."""

from __future__ import annotations

import socket

import httpx
from starlette.requests import Request
from starlette.routing import Route

from satrank.api.app import create_app
from satrank.config import Settings
from tests.api_seed import OPERATOR, OPERATOR_SECRET
from tests.live_server import live_server

SETTINGS = Settings.from_environ({"L402_MACAROON_SECRET": "x" * 40,
                                  "OPERATOR_BYPASS_SECRET": OPERATOR_SECRET})


def _envelope(response: httpx.Response, status: int, code: str) -> None:
    assert response.status_code == status
    body = response.json()
    assert body["error"]["code"] == code
    assert body["requestId"] == response.headers["x-request-id"]


def test_content_type_and_size_limits(db_dsn: str) -> None:
    with live_server(create_app(SETTINGS, db_dsn)) as url:
        plain = httpx.post(f"{url}/api/verdicts", content=b"{}",
                           headers={"Content-Type": "text/plain", **OPERATOR}, timeout=10)
        missing = httpx.post(f"{url}/api/report", content=b"{}", timeout=10)
        big = httpx.post(f"{url}/api/verdicts", json={"ids": ["a" * 64] * 400}, timeout=10)
        charset = httpx.post(f"{url}/api/verdicts", content=b'{"ids": []}',
                             headers={"Content-Type": "application/json; charset=utf-8",
                                      **OPERATOR}, timeout=10)
    _envelope(plain, 415, "UNSUPPORTED_MEDIA_TYPE")
    _envelope(missing, 415, "UNSUPPORTED_MEDIA_TYPE")
    _envelope(big, 413, "PAYLOAD_TOO_LARGE")
    _envelope(charset, 422, "VALIDATION_ERROR")


def test_chunked_body_over_the_limit_is_refused(db_dsn: str) -> None:
    with live_server(create_app(SETTINGS, db_dsn)) as url:
        host, port = url.removeprefix("http://").split(":")
        with socket.create_connection((host, int(port)), timeout=10) as sock:
            chunk = b"x" * 8192
            head = (b"POST /api/verdicts HTTP/1.1\r\nHost: t\r\nContent-Type: application/json"
                    b"\r\nX-Operator-Token: " + OPERATOR_SECRET.encode() +
                    b"\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n")
            body = b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for _ in range(3))
            sock.sendall(head + body + b"0\r\n\r\n")
            answer = b""
            while data := sock.recv(65536):
                answer += data
    assert answer.startswith(b"HTTP/1.1 413")
    assert b'"PAYLOAD_TOO_LARGE"' in answer and b"x-request-id" in answer.lower()


def test_unexpected_errors_use_the_envelope(db_dsn: str) -> None:
    app = create_app(SETTINGS, db_dsn)

    async def boom(request: Request) -> None:
        raise RuntimeError("secret detail")

    app.router.routes.append(Route("/api/boom", boom))
    with live_server(app) as url:
        response = httpx.get(f"{url}/api/boom", timeout=10)
        wrong = httpx.post(f"{url}/api/agents/top", json={}, timeout=10)
    _envelope(response, 500, "INTERNAL_ERROR")
    assert "secret detail" not in response.text
    _envelope(wrong, 405, "METHOD_NOT_ALLOWED")
    assert "GET" in wrong.headers["allow"]
