"""Integration: no charge for what the client could not use (real HTTP, real Postgres,
the real paid routes). Input a paid route rejects is answered before any payment is
asked for; an answer the client cannot use (unknown node) gives its credits back."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import httpx
import pytest

from satrank.api.app import create_app
from tests.api_seed import pubkey, seed
from tests.l402_support import PreimageIssuer, paid_authorization, settings_for
from tests.live_server import live_server


class Api:
    def __init__(self, http: httpx.Client, issuer: PreimageIssuer, pks: list[str]) -> None:
        self.http, self.issuer, self.pks = http, issuer, pks

    def token(self) -> dict[str, str]:
        challenge = self.http.get(f"/api/profile/{self.pks[1]}")
        return paid_authorization(challenge, self.issuer)


@pytest.fixture
def api(db_dsn: str) -> Iterator[Api]:
    pks = asyncio.run(seed(db_dsn))
    issuer = PreimageIssuer()
    app = create_app(settings_for(), db_dsn, invoice_issuer=issuer)
    with live_server(app) as base, httpx.Client(base_url=base, timeout=30) as http:
        yield Api(http, issuer, pks)


BAD_INPUT = {
    "profile-invalid-id": ("GET", "/api/profile/nothex", {}, 400, "INVALID_ID"),
    "profile-short-hex": ("GET", "/api/profile/" + "ab" * 10, {}, 400, "INVALID_ID"),
    "verdicts-malformed-json": ("POST", "/api/verdicts",
                                {"content": b"{", "headers": {"content-type": "application/json"}},
                                400, "MALFORMED_JSON"),
    "verdicts-media-type": ("POST", "/api/verdicts",
                            {"content": b"ids=x", "headers": {"content-type": "text/plain"}},
                            415, "UNSUPPORTED_MEDIA_TYPE"),
    "verdicts-invalid-id": ("POST", "/api/verdicts", {"json": {"ids": ["nothex"]}},
                            422, "VALIDATION_ERROR"),
    "verdicts-unknown-field": ("POST", "/api/verdicts", {"json": {"ids": [], "x": 1}},
                               422, "VALIDATION_ERROR"),
    "probe-invalid-target": ("POST", "/api/probe", {"json": {"target": "nothex"}},
                             422, "VALIDATION_ERROR"),
    "probe-amount-too-big": ("POST", "/api/probe",
                             {"json": {"target": "02" + "ab" * 32, "amount_sat": 10**12}},
                             422, "VALIDATION_ERROR"),
    "probe-not-an-object": ("POST", "/api/probe", {"json": [1]}, 422, "VALIDATION_ERROR"),
}


@pytest.mark.parametrize("case", list(BAD_INPUT), ids=list(BAD_INPUT))
def test_bad_input_is_refused_before_payment_is_asked(api: Api, case: str) -> None:
    method, path, kwargs, status, code = BAD_INPUT[case]
    response = api.http.request(method, path, **kwargs)
    assert response.status_code == status, response.text
    assert response.json()["error"]["code"] == code
    assert "www-authenticate" not in response.headers
    assert api.issuer.calls == []  # no invoice was minted for it


@pytest.mark.parametrize("case", list(BAD_INPUT), ids=list(BAD_INPUT))
def test_bad_input_with_a_token_is_not_debited(api: Api, case: str) -> None:
    auth = api.token()
    method, path, kwargs, status, _code = BAD_INPUT[case]
    headers = {**kwargs.pop("headers", {}), **auth}  # type: ignore[dict-item]
    assert api.http.request(method, path, headers=headers, **kwargs).status_code == status
    ok = api.http.get(f"/api/profile/{api.pks[1]}", headers=auth)
    assert ok.status_code == 200 and ok.headers["x-l402-credits-left"] == "20"


def test_an_unknown_node_gives_its_credit_back(api: Api) -> None:
    auth = api.token()
    unknown = api.http.get(f"/api/profile/{pubkey(77)}", headers=auth)
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "NOT_FOUND"
    assert unknown.headers["x-l402-credits-left"] == "21"
    ok = api.http.get(f"/api/profile/{api.pks[1]}", headers=auth)
    assert ok.status_code == 200 and ok.headers["x-l402-credits-left"] == "20"
