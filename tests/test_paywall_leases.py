"""Integration: what clients see of credit leases (api/ledger.py) over real HTTP, with two
api servers on one database standing for two api processes, and with Postgres gone."""

from __future__ import annotations

import asyncio
import hashlib
import time
from urllib.parse import urlsplit

import httpx

from satrank.db.admin import drop_database
from tests.l402_support import PreimageIssuer, ledger_usage, serve_paid_app
from tests.test_paywall import PROFILE, Paid

PROBE_BODY = {"target": "02" + "ab" * 32}  # 5 credits; no probe backend here: 503, refunded


def _buy(server: Paid) -> dict[str, str]:
    mac, preimage = server.buy()
    return {"Authorization": f"L402 {mac}:{preimage}"}


def test_credits_held_by_another_process_answer_503_busy_not_402(db_dsn: str) -> None:
    """Process A leases all 5 credits of a token (its paid route fails and refunds them
    into A's lease). Process B must not answer 402 (the client would pay again): it says
    503 CREDITS_BUSY with Retry-After; once A gives its idle credits back, B serves them,
    and only then, with all 5 spent, answers TOKEN_EXHAUSTED."""
    issuer = PreimageIssuer()
    env = {"L402_CHALLENGE_CREDITS": "5"}
    with serve_paid_app(db_dsn, issuer, env) as base_a, \
            serve_paid_app(db_dsn, issuer, env) as base_b:
        server_a, server_b = Paid(base_a, issuer), Paid(base_b, issuer)
        with server_a.http as a, server_b.http as b:
            auth = _buy(server_a)
            probe = a.post("/api/probe", json=PROBE_BODY, headers=auth)
            assert probe.status_code == 503 and probe.headers["x-l402-credits-left"] == "5"

            busy = b.get(PROFILE, headers=auth)
            assert busy.status_code == 503, busy.text
            assert busy.json()["error"]["code"] == "CREDITS_BUSY"
            assert busy.headers["retry-after"] == "1"
            assert "www-authenticate" not in busy.headers  # nothing to pay

            deadline = time.monotonic() + 15
            while (served := b.get(PROFILE, headers=auth)).status_code == 503:
                assert served.json()["error"]["code"] == "CREDITS_BUSY"
                assert time.monotonic() < deadline, "the idle lease was never given back"
                time.sleep(0.2)
            lefts = [served.json()["creditsLeft"]]
            lefts += [b.get(PROFILE, headers=auth).json()["creditsLeft"] for _ in range(4)]
            assert lefts == [4, 3, 2, 1, 0]
            for server in (b, a):  # B may still count its spent lease for a sweep (0.25 s)
                codes = _codes_until_402(server, auth)
                assert codes[-1] == "TOKEN_EXHAUSTED" and set(codes[:-1]) <= {"CREDITS_BUSY"}


def _codes_until_402(http: httpx.Client, auth: dict[str, str]) -> list[str]:
    codes: list[str] = []
    while not codes or codes[-1] == "CREDITS_BUSY":
        assert len(codes) < 20, codes
        answer = http.get(PROFILE, headers=auth)
        assert answer.status_code in (402, 503), answer.text  # never served again
        codes.append(answer.json()["error"]["code"])
        if codes[-1] == "CREDITS_BUSY":
            time.sleep(float(answer.headers["retry-after"]))
    return codes


def test_postgres_gone_means_503_ledger_unavailable_never_a_free_answer(pg_admin_dsn: str,
                                                                      db_dsn: str) -> None:
    issuer = PreimageIssuer()
    with serve_paid_app(db_dsn, issuer) as base:
        server = Paid(base, issuer)
        with server.http as http:
            auth = _buy(server)
            asyncio.run(drop_database(pg_admin_dsn, urlsplit(db_dsn).path.lstrip("/")))
            for _ in range(3):
                answer = http.get(PROFILE, headers=auth)
                assert answer.status_code == 503, answer.text
                assert answer.json()["error"]["code"] == "LEDGER_UNAVAILABLE"
                assert answer.headers["retry-after"] == "5"
            # minting needs only the Lightning node: new challenges still go out
            assert http.get(PROFILE).status_code == 402


def test_with_leasing_off_the_ledger_counts_each_request_as_it_is_served(db_dsn: str,
                                                                       ) -> None:
    issuer = PreimageIssuer()
    with serve_paid_app(db_dsn, issuer, {"L402_LEASE_MAX_CREDITS": "1"}) as base:
        server = Paid(base, issuer)
        with server.http as http:
            auth = _buy(server)
            payment_hash = hashlib.sha256(bytes.fromhex(auth["Authorization"][-64:])).digest()
            used = []
            for _ in range(4):
                assert http.get(PROFILE, headers=auth).status_code == 200
                usage = ledger_usage(db_dsn, payment_hash)
                assert usage is not None
                used.append(usage.credits_used)
    # no credit is ever held ahead: Postgres counts exactly the requests served so far
    assert used == [1, 2, 3, 4]
