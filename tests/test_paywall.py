"""Integration: the L402 paywall over real HTTP (uvicorn) against real Postgres."""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
import time
from collections.abc import Iterator

import httpx
import pytest
from prometheus_client import REGISTRY

from satrank.api.app import create_app
from satrank.l402.caveats import minted_caveats
from satrank.l402.identifier import Identifier
from satrank.l402.mint import encode_macaroon, mint_macaroon
from tests.l402_support import (
    DEPLOYMENT,
    OPERATOR_SECRET,
    SECRET,
    PreimageIssuer,
    serve_paid_app,
    settings_for,
)
from tests.live_server import live_server

CHALLENGE = re.compile(r'^L402 macaroon="([A-Za-z0-9+/]+=*)", invoice="([^"]+)"$')
PROFILE = "/api/profile/02" + "ab" * 32


class Paid:
    """A server plus the means to pay its invoices."""

    def __init__(self, base: str, issuer: PreimageIssuer) -> None:
        self.base = base
        self.issuer = issuer
        self.http = httpx.Client(base_url=base, timeout=30)

    def get(self, path: str = PROFILE, **headers: str) -> httpx.Response:
        return self.http.get(path, headers=headers)

    def buy(self) -> tuple[str, str]:
        """Answer one challenge: (macaroon, preimage hex) of a paid token."""
        challenge = self.get()
        assert challenge.status_code == 402
        mac, invoice = CHALLENGE.match(challenge.headers.get_list("www-authenticate")[0]).groups()
        return mac, self.issuer.pay(invoice).hex()


@pytest.fixture
def paid(db_dsn: str) -> Iterator[Paid]:
    issuer = PreimageIssuer()
    with serve_paid_app(db_dsn, issuer) as base:
        yield Paid(base, issuer)


def _mint_direct(*, valid_until: int, credits: int = 21, secret: str = SECRET,
                 deployment: str | None = DEPLOYMENT) -> tuple[str, str]:
    """A token signed with the server's secret but with terms of our choosing
    (`deployment` None: without the `satrank_node` caveat, as minted before it existed)."""
    preimage = secrets.token_bytes(32)
    ident = Identifier.new(hashlib.sha256(preimage).digest(), secrets.token_bytes(32))
    caveats = [c.encode() for c in minted_caveats(valid_until_unix=valid_until, credits=credits,
                                                  deployment=deployment or "")
               if deployment is not None or c.condition != "satrank_node"]
    return encode_macaroon(mint_macaroon(ident, caveats, secret.encode())), preimage.hex()


def test_challenge_is_the_aperture_form_with_a_json_envelope(paid: Paid) -> None:
    response = paid.get()
    assert response.status_code == 402
    values = response.headers.get_list("www-authenticate")
    mac, invoice = CHALLENGE.match(values[0]).groups()
    assert values[1] == f'LSAT macaroon="{mac}", invoice="{invoice}"'
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["access-control-expose-headers"] == "WWW-Authenticate"
    body = response.json()
    assert body["error"]["code"] == "PAYMENT_REQUIRED"
    assert body["requestId"] == response.headers["x-request-id"]
    details = body["error"]["details"]
    assert details["price"] == 1 and details["credits"] == 21 and details["amountSat"] == 21
    assert details["invoice"] == invoice and details["macaroon"] == mac
    ident = Identifier.decode(base64.b64decode(mac)[12:78])
    assert ident.payment_hash.hex() == details["paymentHash"]
    assert details["expiresAt"].endswith("Z") and details["validUntil"] > details["expiresAt"]
    assert paid.issuer.calls == [(21, "SatRank: 21 API credits", 600)]


def test_a_paid_token_serves_exactly_its_credits_then_rechallenges(paid: Paid) -> None:
    mac, preimage = paid.buy()
    lefts = [paid.get(Authorization=f"L402 {mac}:{preimage}").json()["creditsLeft"]
             for _ in range(21)]
    assert lefts == list(range(20, -1, -1))
    again = paid.get(Authorization=f"L402 {mac}:{preimage}")
    assert again.status_code == 402 and again.json()["error"]["code"] == "TOKEN_EXHAUSTED"
    assert CHALLENGE.match(again.headers.get_list("www-authenticate")[0])


@pytest.mark.parametrize(
    "form",
    ["LSAT {m}:{p}", "l402 {m}:{p}", "lsat   {m} : {P}", "L402 {m}:{P}",
     "L402 {m},{m}:{p}"],
    ids=["lsat", "lower-case", "spaces-lsat", "upper-hex", "two-macaroons"],
)
def test_client_variants_are_accepted(paid: Paid, form: str) -> None:
    mac, preimage = paid.buy()
    header = form.format(m=mac, p=preimage, P=preimage.upper())
    assert paid.get(Authorization=header).status_code == 200


def test_aperture_clients_duplicate_lsat_and_l402_headers(paid: Paid) -> None:
    mac, preimage = paid.buy()
    headers = [("Authorization", f"LSAT {mac}:{preimage}"),
               ("Authorization", f"L402 {mac}:{preimage}")]
    assert paid.http.get(PROFILE, headers=headers).status_code == 200
    other_mac, other_pre = paid.buy()
    mixed = [("Authorization", f"L402 junk:{'00' * 32}"),
             ("Authorization", f"L402 {other_mac}:{other_pre}")]
    response = paid.http.get(PROFILE, headers=mixed)
    assert response.status_code == 402 and response.json()["error"]["code"] == "TOKEN_MALFORMED"


def _flip(text: str, at: int) -> str:
    swapped = "B" if text[at] != "B" else "C"
    return text[:at] + swapped + text[at + 1:]


SECURITY_CASES = {
    "forged-signature": lambda m, p, o: f"L402 {_flip(m, len(m) - 8)}:{p}",
    "tampered-caveat": lambda m, p, o: "L402 " + encode_macaroon(
        base64.b64decode(m).replace(b"satrank_credits=21", b"satrank_credits=99")) + f":{p}",
    "removed-caveat": lambda m, p, o: "L402 " + encode_macaroon(
        base64.b64decode(m).replace(b"\x02\x12satrank_credits=21\x00", b"")) + f":{p}",
    "other-secret": lambda m, p, o: "L402 {}:{}".format(
        *_mint_direct(valid_until=int(time.time()) + 99, secret="x" * 40)),
    "wrong-preimage": lambda m, p, o: f"L402 {m}:{'00' * 32}",
    "short-preimage": lambda m, p, o: f"L402 {m}:{p[:-2]}",
    "non-hex-preimage": lambda m, p, o: f"L402 {m}:{'zz' + p[2:]}",
    "other-tokens-preimage": lambda m, p, o: f"L402 {m}:{o}",
    "deposit-junk": lambda m, p, o: "L402 deposit:x",
    "oversized": lambda m, p, o: f"L402 {m}{'A' * 5000}:{p}",
    "empty-macaroon": lambda m, p, o: f"L402 :{p}",
    "preimage-only": lambda m, p, o: f"L402 {p}",
    "hash-as-preimage": lambda m, p, o: f"L402 {m}:{hashlib.sha256(bytes.fromhex(p)).hexdigest()}",
}
# Each forgery is refused with the code of the check it fails (the client can tell a typo
# in its header from a token we never issued or a preimage of another invoice).
FORGERY_CODES = {
    "forged-signature": "TOKEN_UNKNOWN",
    "tampered-caveat": "TOKEN_UNKNOWN",
    "removed-caveat": "TOKEN_UNKNOWN",
    "other-secret": "TOKEN_UNKNOWN",
    "wrong-preimage": "TOKEN_WRONG_PREIMAGE",
    "short-preimage": "TOKEN_MALFORMED",
    "non-hex-preimage": "TOKEN_MALFORMED",
    "other-tokens-preimage": "TOKEN_WRONG_PREIMAGE",
    "deposit-junk": "TOKEN_MALFORMED",
    "oversized": "TOKEN_MALFORMED",
    "empty-macaroon": "TOKEN_MALFORMED",
    "preimage-only": "TOKEN_MALFORMED",
    "hash-as-preimage": "TOKEN_WRONG_PREIMAGE",
}


@pytest.mark.parametrize("case", list(SECURITY_CASES), ids=list(SECURITY_CASES))
def test_forgeries_are_never_served(paid: Paid, case: str) -> None:
    mac, preimage = paid.buy()
    _other_mac, other_preimage = paid.buy()
    header = SECURITY_CASES[case](mac, preimage, other_preimage)
    response = paid.get(Authorization=header)
    assert response.status_code == 402, response.text
    assert response.json()["error"]["code"] == FORGERY_CODES[case]
    assert CHALLENGE.match(response.headers.get_list("www-authenticate")[0])
    assert paid.get(Authorization=f"L402 {mac}:{preimage}").json()["creditsLeft"] == 20


def test_removed_caveat_case_really_removes_one() -> None:
    mac, _ = _mint_direct(valid_until=int(time.time()) + 99)
    stripped = base64.b64decode(mac).replace(b"\x02\x12satrank_credits=21\x00", b"")
    assert len(stripped) == len(base64.b64decode(mac)) - 21


def test_expired_token_gets_token_expired(paid: Paid) -> None:
    mac, preimage = _mint_direct(valid_until=int(time.time()) - 1)
    response = paid.get(Authorization=f"L402 {mac}:{preimage}")
    assert response.status_code == 402 and response.json()["error"]["code"] == "TOKEN_EXPIRED"


def test_cost_above_narrowed_credits_is_exhausted(paid: Paid) -> None:
    mac, preimage = _mint_direct(valid_until=int(time.time()) + 99, credits=1)
    assert paid.get(Authorization=f"L402 {mac}:{preimage}").status_code == 200
    response = paid.get(Authorization=f"L402 {mac}:{preimage}")
    assert response.json()["error"]["code"] == "TOKEN_EXHAUSTED"


def test_head_costs_like_get_and_free_routes_stay_free(paid: Paid) -> None:
    assert paid.http.head(PROFILE).status_code == 402
    assert paid.get("/api/ping").status_code == 200
    assert paid.http.post(PROFILE).status_code == 405  # unpriced method: routing decides


def _sample(name: str, labels: dict[str, str] | None = None) -> float:
    return REGISTRY.get_sample_value(name, labels or {}) or 0.0


def test_operator_bypass_is_constant_time_and_counted(paid: Paid) -> None:
    before = _sample("satrank_operator_bypass_total")
    ok = paid.get(**{"X-Operator-Token": OPERATOR_SECRET})
    assert ok.status_code == 200 and ok.json()["operator"] is True
    assert _sample("satrank_operator_bypass_total") == before + 1
    assert paid.get(**{"X-Operator-Token": OPERATOR_SECRET + "x"}).status_code == 402
    assert paid.get(**{"X-Operator-Token": ""}).status_code == 402


def test_bypass_is_disabled_without_a_secret(db_dsn: str) -> None:
    issuer = PreimageIssuer()
    with serve_paid_app(db_dsn, issuer, {"OPERATOR_BYPASS_SECRET": ""}) as base:
        response = httpx.get(base + PROFILE, headers={"X-Operator-Token": OPERATOR_SECRET})
        assert response.status_code == 402


def test_paid_metrics_count_requests_and_credits(paid: Paid) -> None:
    mac, preimage = paid.buy()
    before = (_sample("satrank_l402_paid_requests_total"),
              _sample("satrank_l402_credits_debited_total"),
              _sample("satrank_l402_challenges_total", {"reason": "MISSING"}))
    paid.get(Authorization=f"L402 {mac}:{preimage}")
    paid.get()
    assert (_sample("satrank_l402_paid_requests_total"),
            _sample("satrank_l402_credits_debited_total"),
            _sample("satrank_l402_challenges_total", {"reason": "MISSING"})) \
        == (before[0] + 1, before[1] + 1, before[2] + 1)


def test_lnd_down_gives_503_but_paid_tokens_keep_working(paid: Paid) -> None:
    mac, preimage = paid.buy()
    paid.issuer.available = False
    down = paid.get()
    assert down.status_code == 503 and down.headers["retry-after"] == "5"
    assert down.json()["error"]["code"] == "LIGHTNING_UNAVAILABLE"
    assert paid.get(Authorization=f"L402 {mac}:{preimage}").status_code == 200


def test_challenge_minting_is_rate_limited_per_client(db_dsn: str) -> None:
    env = {"L402_CHALLENGE_BURST": "2", "L402_CHALLENGE_RATE_PER_MIN": "0.1"}
    with serve_paid_app(db_dsn, PreimageIssuer(), env) as base:
        codes = [httpx.get(base + PROFILE).status_code for _ in range(3)]
        limited = httpx.get(base + PROFILE)
    assert codes == [402, 402, 429]
    assert int(limited.headers["retry-after"]) > 0
    assert limited.json()["error"]["code"] == "RATE_LIMITED"


def test_paid_use_is_rate_limited_per_token(db_dsn: str) -> None:
    issuer = PreimageIssuer()
    with serve_paid_app(db_dsn, issuer, {"L402_TOKEN_BURST": "2",
                                         "L402_TOKEN_RATE_PER_S": "0.01"}) as base:
        paid = Paid(base, issuer)
        mac, preimage = paid.buy()
        codes = [paid.get(Authorization=f"L402 {mac}:{preimage}").status_code for _ in range(3)]
        other_mac, other_pre = paid.buy()
        fresh = paid.get(Authorization=f"L402 {other_mac}:{other_pre}").status_code
    assert codes == [200, 200, 429] and fresh == 200


def _narrowed(mac: str, credits: int) -> str:
    """The holder's copy of `mac` with a smaller credit caveat appended (as a client
    handing a slice of its token to a sub-agent would)."""
    from pymacaroons.serializers import BinarySerializer

    macaroon = BinarySerializer().deserialize_raw(base64.b64decode(mac))
    macaroon.add_first_party_caveat(f"satrank_credits={credits}")
    return encode_macaroon(BinarySerializer().serialize_raw(macaroon))


def test_a_narrowed_copy_used_first_does_not_cap_its_parent(paid: Paid) -> None:
    """The ledger row is made from the minted credits: the 2-credit copy spends 2 of the
    21 paid for, and the parent still has the other 19."""
    mac, preimage = paid.buy()
    child = _narrowed(mac, 2)
    child_codes = [paid.get(Authorization=f"L402 {child}:{preimage}").status_code
                   for _ in range(3)]
    assert child_codes == [200, 200, 402]
    lefts = [paid.get(Authorization=f"L402 {mac}:{preimage}").json()["creditsLeft"]
             for _ in range(19)]
    assert lefts == list(range(18, -1, -1))
    # nothing more: refused as exhausted, or busy while the copy's spent lease is returned
    assert paid.get(Authorization=f"L402 {mac}:{preimage}").status_code in (402, 503)


def test_tokens_are_bound_to_the_deployment_that_minted_them(paid: Paid) -> None:
    """Another instance sharing our macaroon secret (a signet staging restored from a
    backup) mints tokens whose `satrank_node` names its own node: refused here, like
    tokens minted before the binding existed; ours are served."""
    mac, preimage = paid.buy()  # our node's first invoice: the deployment is known
    assert paid.get(Authorization=f"L402 {mac}:{preimage}").status_code == 200
    until = int(time.time()) + 99
    staging = _mint_direct(valid_until=until, deployment="tbs:03" + "77" * 32)
    unbound = _mint_direct(valid_until=until, deployment=None)
    for other_mac, other_preimage in (staging, unbound):
        response = paid.get(Authorization=f"L402 {other_mac}:{other_preimage}")
        assert response.status_code == 402, response.text
        assert response.json()["error"]["code"] == "TOKEN_INVALID"


def test_unconfigured_lnd_says_not_configured_rather_than_retry_later(db_dsn: str) -> None:
    """Without LND_* settings no invoice can ever be made: a client told to retry would
    retry for nothing."""
    with live_server(create_app(settings_for(), db_dsn)) as base:
        response = httpx.get(base + PROFILE, timeout=30)
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "LIGHTNING_NOT_CONFIGURED"
    assert "not configured" in response.json()["error"]["message"]
    assert "retry-after" not in response.headers


def test_minting_is_capped_for_all_clients_together(db_dsn: str) -> None:
    """Clients rotating addresses each get a fresh per-client bucket; the global cap still
    stops this process from asking LND for more invoices."""
    issuer = PreimageIssuer()
    env = {"TRUSTED_PROXIES": "127.0.0.1", "L402_MINT_GLOBAL_PER_S": "0.01",
           "L402_MINT_GLOBAL_BURST": "3"}
    with serve_paid_app(db_dsn, issuer, env) as base:
        answers = [httpx.get(base + PROFILE, headers={"X-Forwarded-For": f"198.51.100.{i}"})
                   for i in range(5)]
    assert [a.status_code for a in answers] == [402, 402, 402, 503, 503]
    assert answers[3].json()["error"]["code"] == "MINTING_BUSY"
    assert int(answers[3].headers["retry-after"]) > 0
    assert len(issuer.calls) == 3


def test_minting_limit_keys_an_ipv6_client_by_its_64(db_dsn: str) -> None:
    env = {"TRUSTED_PROXIES": "127.0.0.1", "L402_CHALLENGE_BURST": "2",
           "L402_CHALLENGE_RATE_PER_MIN": "0.1"}
    with serve_paid_app(db_dsn, PreimageIssuer(), env) as base:
        codes = [httpx.get(base + PROFILE,
                           headers={"X-Forwarded-For": f"2001:db8:1:2::{i:x}"}).status_code
                 for i in range(1, 4)]
        other_64 = httpx.get(base + PROFILE, headers={"X-Forwarded-For": "2001:db8:1:3::1"})
    assert codes == [402, 402, 429]
    assert other_64.status_code == 402
