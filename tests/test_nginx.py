"""Integration: the committed nginx config in front of the real api on uvicorn.

Real nginx (Debian package), self-signed TLS, HTTP/2 by ALPN, a round trip through the
proxy, /metrics refused from the public side, plain HTTP redirected, and X-Forwarded-For
overwritten so a client cannot choose the address the api sees. With the paywall's invoices
from simnet: a 402 challenge paid with `satrank pay` and redeemed through nginx, and the
per-address challenge limit keyed on the client nginx saw (TRUST_PROXY=true).
"""

from __future__ import annotations

import asyncio
import json
import re
import socket
import ssl
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from starlette.types import Receive, Scope, Send

from satrank.api.app import create_app
from satrank.config import Settings
from tests.api_seed import seed
from tests.cli import run_satrank, satrank_env
from tests.live_server import live_server
from tests.nginx_fixture import NginxHandle, running_nginx
from tests.simnet_fixture import SimnetHandle

SETTINGS = Settings.from_environ({"L402_MACAROON_SECRET": "s" * 32, "TRUST_PROXY": "true"})
ECHO_PATH = "/api/_test_echo"


def with_echo(app: object) -> object:
    """The real app, plus one test-only route that shows what reached the app."""

    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] == ECHO_PATH:
            headers = {k.decode(): v.decode() for k, v in scope["headers"]}
            body = json.dumps({"headers": headers, "peer": scope["client"][0]}).encode()
            await send({"type": "http.response.start", "status": 200,
                        "headers": [(b"content-type", b"application/json")]})
            await send({"type": "http.response.body", "body": body})
            return
        await app(scope, receive, send)  # type: ignore[operator]

    return wrapped


@pytest.fixture
def proxied(tmp_path: Path, db_dsn: str) -> Iterator[tuple[NginxHandle, httpx.Client]]:
    asyncio.run(seed(db_dsn))  # fresh crawler rows: /api/health says ok, not degraded
    app = with_echo(create_app(SETTINGS, db_dsn))
    with live_server(app) as base:  # type: ignore[arg-type]
        upstream_port = int(base.rsplit(":", 1)[1])
        with running_nginx(tmp_path / "nginx", upstream_port) as nginx:
            verify = ssl.create_default_context(cafile=str(nginx.cert_path))
            with httpx.Client(base_url=nginx.https_url, verify=verify, timeout=10) as client:
                yield nginx, client


def test_health_round_trip_through_tls(proxied: tuple[NginxHandle, httpx.Client]) -> None:
    _, client = proxied
    response = client.get("/api/health")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"
    assert response.headers["x-request-id"]
    assert response.headers["server"] == "nginx"  # server_tokens off: no version


def test_http2_is_offered_by_alpn(proxied: tuple[NginxHandle, httpx.Client]) -> None:
    nginx, _ = proxied
    context = ssl.create_default_context(cafile=str(nginx.cert_path))
    context.set_alpn_protocols(["h2", "http/1.1"])
    with socket.create_connection(("127.0.0.1", nginx.tls_port), timeout=10) as raw, \
            context.wrap_socket(raw, server_hostname="localhost") as tls:
        assert tls.selected_alpn_protocol() == "h2"


@pytest.mark.parametrize("path", ["/metrics", "/metrics/", "//metrics", "/%6Detrics",
                                  "/metrics?format=x", "/api/../metrics"])
def test_metrics_is_refused_from_the_public_side(
    proxied: tuple[NginxHandle, httpx.Client], path: str
) -> None:
    nginx, _ = proxied
    # Raw request line: httpx would normalize the path before sending it.
    context = ssl.create_default_context(cafile=str(nginx.cert_path))
    with socket.create_connection(("127.0.0.1", nginx.tls_port), timeout=10) as raw, \
            context.wrap_socket(raw, server_hostname="localhost") as tls:
        tls.sendall(f"GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
                    .encode())
        status_line = tls.recv(64).split(b"\r\n", 1)[0]
    assert status_line == b"HTTP/1.1 403 Forbidden"


def test_a_spoofed_forwarded_for_never_reaches_the_app(
    proxied: tuple[NginxHandle, httpx.Client],
) -> None:
    _, client = proxied
    seen = client.get(ECHO_PATH, headers={
        "X-Forwarded-For": "203.0.113.9, 198.51.100.7",
        "X-Real-IP": "203.0.113.9",
        "Forwarded": "for=203.0.113.9",
    }).json()
    headers = seen["headers"]
    assert seen["peer"] == "127.0.0.1"  # the api's TCP peer is nginx on loopback
    # nginx overwrote the header with the real client address (the test client, loopback):
    assert headers["x-forwarded-for"] == "127.0.0.1"
    assert "x-real-ip" not in headers and "forwarded" not in headers
    assert headers["x-forwarded-proto"] == "https"


def test_plain_http_redirects_to_https(proxied: tuple[NginxHandle, httpx.Client]) -> None:
    nginx, _ = proxied
    response = httpx.get(f"{nginx.http_url}/api/health?x=1", timeout=10)
    assert response.status_code == 301
    assert response.headers["location"].startswith("https://")
    assert response.headers["location"].endswith("/api/health?x=1")


def test_oversized_bodies_are_refused(proxied: tuple[NginxHandle, httpx.Client]) -> None:
    _, client = proxied
    response = client.post("/api/health", content=b"x" * (65 * 1024))
    assert response.status_code == 413


# --- the paywall behind nginx: a real 402 round trip, and whose address the api sees ------

_CHALLENGE = re.compile(r'L402 macaroon="([^"]+)", invoice="([^"]+)"')


def _paywall_settings(simnet: SimnetHandle, *, trust_proxy: bool = True) -> Settings:
    # One challenge per client address, refilled only every 10 minutes: the second
    # unpaid request from an address is refused (429), whoever else has asked.
    return Settings.from_environ({
        "L402_MACAROON_SECRET": "p" * 32, "TRUST_PROXY": str(trust_proxy),
        "L402_CHALLENGE_BURST": "1", "L402_CHALLENGE_RATE_PER_MIN": "0.1",
        "LND_GRPC_HOST": simnet.oracle_host,
        "LND_TLS_CERT_PATH": str(simnet.oracle_dir / "tls.cert"),
        "LND_INVOICE_MACAROON_PATH": str(simnet.oracle_dir / "invoice.macaroon"),
    })


def test_a_402_round_trip_through_nginx_and_the_client_address_the_api_keys_on(
    tmp_path: Path, db_dsn: str, simnet: SimnetHandle,
) -> None:
    pubkeys = asyncio.run(seed(db_dsn))
    profile = f"/api/profile/{pubkeys[0]}"
    app = create_app(_paywall_settings(simnet), db_dsn)
    with live_server(app) as base, running_nginx(
            tmp_path / "nginx", int(base.rsplit(":", 1)[1])) as nginx:

        def client_from(source: str) -> httpx.Client:
            # Loopback is a /8: each source address is a different client for nginx.
            verify = ssl.create_default_context(cafile=str(nginx.cert_path))
            transport = httpx.HTTPTransport(local_address=source, verify=verify)
            return httpx.Client(base_url=nginx.https_url, transport=transport, timeout=30)

        with client_from("127.0.0.2") as alice, client_from("127.0.0.3") as bob:
            challenge = alice.get(profile)
            assert challenge.status_code == 402, challenge.text
            found = _CHALLENGE.search(challenge.headers["www-authenticate"])
            assert found, challenge.headers
            macaroon, invoice = found.groups()

            paid = run_satrank("pay", invoice, "--lnd-dir", str(simnet.customer_dir),
                               "--lnd-host", simnet.customer_host,
                               env=satrank_env(tmp_path / "payer"))
            assert paid.returncode == 0, paid.stderr
            answer = alice.get(profile, headers={
                "Authorization": f"L402 {macaroon}:{paid.stdout.strip()}"})
            assert answer.status_code == 200, answer.text
            assert answer.json()["data"]["agent"]["publicKey"] == pubkeys[0]

            # Alice's one challenge is spent; a forged X-Forwarded-For does not make her
            # someone else (nginx overwrites it, the api reads only nginx's last entry) ...
            again = alice.get(profile, headers={"X-Forwarded-For": "203.0.113.9"})
            assert again.status_code == 429, again.text
            assert again.json()["error"]["code"] == "RATE_LIMITED"
            # ... while Bob, another address behind the same proxy, has his own allowance:
            # the api keyed on the forwarded client address, not on nginx's TCP peer.
            assert bob.get(profile).status_code == 402
