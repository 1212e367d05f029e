"""Integration: GET /.well-known/nostr.json (NIP-05) over real HTTP (uvicorn)."""

from __future__ import annotations

import httpx

from satrank.api.app import create_app
from satrank.config import Settings
from tests.live_server import live_server

NSEC = "nsec1vl029mgpspedva04g90vltkh6fvh240zqtv9k0t9af8935ke9laqsnlfe5"
PUBKEY = "7e7e9c42a91bfef19fa929e5fda1b72e0ebc1a4c1141673e2794234d86addf4e"
BASE_ENV = {"L402_MACAROON_SECRET": "x" * 40}


def test_names_relays_and_cors_from_configuration(db_dsn: str) -> None:
    settings = Settings.from_environ({
        **BASE_ENV, "NOSTR_PRIVATE_KEY": NSEC, "NOSTR_NIP05_NAME": "oracle",
        "NOSTR_RELAYS": "wss://relay.one, wss://relay.two",
    })
    with live_server(create_app(settings, db_dsn)) as url:
        plain = httpx.get(f"{url}/.well-known/nostr.json", timeout=10)
        named = httpx.get(f"{url}/.well-known/nostr.json?name=Oracle", timeout=10)
        other = httpx.get(f"{url}/.well-known/nostr.json?name=bob", timeout=10)
    assert plain.status_code == 200
    assert plain.headers["access-control-allow-origin"] == "*"
    assert plain.headers["content-type"].startswith("application/json")
    assert plain.json() == {
        "names": {"oracle": PUBKEY},
        "relays": {PUBKEY: ["wss://relay.one", "wss://relay.two"]},
    }
    assert named.json() == plain.json()
    assert other.status_code == 200 and other.json() == {"names": {}, "relays": {}}
    assert NSEC not in plain.text


def test_without_a_key_is_a_404_envelope_with_cors(db_dsn: str) -> None:
    with live_server(create_app(Settings.from_environ(BASE_ENV), db_dsn)) as url:
        response = httpx.get(f"{url}/.well-known/nostr.json", timeout=10)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "NOSTR_NOT_CONFIGURED"
    assert response.headers["access-control-allow-origin"] == "*"
