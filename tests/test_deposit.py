"""Integration: deposits over real HTTP; a paid deposit token is used like any L402 token."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from satrank.api.routes.deposit import tier_for
from tests.l402_support import PreimageIssuer, serve_paid_app
from tests.test_paywall import PROFILE


@pytest.fixture
def server(db_dsn: str) -> Iterator[tuple[httpx.Client, PreimageIssuer]]:
    issuer = PreimageIssuer()
    with serve_paid_app(db_dsn, issuer) as base, httpx.Client(base_url=base) as client:
        yield client, issuer


def test_tiers_are_listed(server: tuple[httpx.Client, PreimageIssuer]) -> None:
    client, _ = server
    body = client.get("/api/deposit/tiers").json()["data"]
    assert [(t["minSat"], t["satPerCredit"]) for t in body["tiers"]] == [
        (21, 1.0), (1_000, 0.5), (10_000, 0.2), (100_000, 0.1), (1_000_000, 0.05)]
    assert body["minSat"] == 21


@pytest.mark.parametrize(
    ("amount", "credits"),
    [(21, 21), (999, 999), (1_000, 2_000), (10_000, 50_000), (99_999, 499_995),
     (100_000, 1_000_000), (1_000_000, 20_000_000)],
    ids=["min", "below-1k", "1k", "10k", "below-100k", "100k", "1M"],
)
def test_credits_follow_the_tier(amount: int, credits: int) -> None:
    assert amount * tier_for(amount).credits_per_sat == credits


def test_paid_deposit_is_an_l402_token(server: tuple[httpx.Client, PreimageIssuer]) -> None:
    client, issuer = server
    response = client.post("/api/deposit", json={"amount": 1_000})
    assert response.status_code == 200
    body = response.json()["data"]
    assert body["credits"] == 2_000 and body["amountSat"] == 1_000
    assert issuer.calls[-1][0] == 1_000
    unpaid = client.get(PROFILE, headers={"Authorization": f"L402 {body['macaroon']}:{'00' * 32}"})
    assert unpaid.status_code == 402
    preimage = issuer.pay(body["invoice"]).hex()
    served = client.get(PROFILE, headers={"Authorization": f"L402 {body['macaroon']}:{preimage}"})
    assert served.status_code == 200 and served.json()["creditsLeft"] == 1_999


MALFORMED = (400, "MALFORMED_JSON")
INVALID = (422, "VALIDATION_ERROR")


@pytest.mark.parametrize(
    ("content", "answer"),
    [(b"", MALFORMED), (b"{", MALFORMED), (b"\xff\xfe", MALFORMED), (b"[21]", INVALID),
     (b"{}", INVALID), (b'{"amount": "1000"}', INVALID), (b'{"amount": 20}', INVALID),
     (b'{"amount": 10000001}', INVALID), (b'{"amount": 21.5}', INVALID),
     (b'{"amount": true}', INVALID), (b'{"amount": -5}', INVALID),
     (b'{"amount": 1e400}', INVALID), (b'{"amount": null}', INVALID)],
    ids=["empty", "truncated", "not-utf8", "array", "no-amount", "string", "below-min",
         "above-max", "float", "bool", "negative", "huge-float", "null"],
)
def test_bad_bodies_follow_the_house_convention(
    server: tuple[httpx.Client, PreimageIssuer], content: bytes, answer: tuple[int, str]
) -> None:
    """As every body route (api/body.py): not JSON 400 MALFORMED_JSON, a bad field 422
    VALIDATION_ERROR naming it, never echoing the value."""
    client, issuer = server
    response = client.post("/api/deposit", content=content,
                           headers={"Content-Type": "application/json"})
    assert (response.status_code, response.json()["error"]["code"]) == answer
    error = response.json()["error"]
    if answer == INVALID and content.startswith(b"{"):
        assert error["details"] == {"field": "amount"} and "amount" in error["message"]
        assert content.decode().split(":")[-1].strip(" }") not in error["message"]
    assert issuer.calls == []


def test_a_body_not_sent_as_json_is_415(server: tuple[httpx.Client, PreimageIssuer]) -> None:
    client, issuer = server
    response = client.post("/api/deposit", content=b'{"amount": 21}',
                           headers={"Content-Type": "text/plain"})
    assert response.status_code == 415
    assert response.json()["error"]["code"] == "UNSUPPORTED_MEDIA_TYPE"
    assert issuer.calls == []


def test_oversized_body_is_413(server: tuple[httpx.Client, PreimageIssuer]) -> None:
    client, _ = server
    response = client.post("/api/deposit", content=b'{"amount": 21, "x": "' + b"a" * 20_000
                           + b'"}', headers={"Content-Type": "application/json"})
    assert response.status_code == 413


def test_deposit_when_lnd_is_down_is_503(server: tuple[httpx.Client, PreimageIssuer]) -> None:
    client, issuer = server
    issuer.available = False
    response = client.post("/api/deposit", json={"amount": 21})
    assert response.status_code == 503 and "retry-after" in response.headers
