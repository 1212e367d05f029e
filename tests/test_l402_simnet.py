"""Integration: the whole L402 flow on the real paid routes, with simnet as our LND.

402 with a real invoice from the oracle node -> paid by the customer node -> the retry
with `Authorization: L402 <macaroon>:<preimage>` gets the real profile of a seeded node,
credits counting down in the ledger; the same token is proof for POST /api/report; a
deposit bought the same way carries its tier's credits.
"""

from __future__ import annotations

import hashlib
import time

import bolt11
import httpx

from satrank.l402.caveats import deployment_of
from tests.api_seed import agent_hash
from tests.l402_simnet import SimnetApp, pay_through_customer
from tests.l402_support import ledger_usage, wait_for_credits_used
from tests.test_paywall import CHALLENGE, _mint_direct


def test_pay_the_challenge_then_read_the_real_profile(simnet_app: SimnetApp) -> None:
    with httpx.Client(base_url=simnet_app.base, timeout=30) as http:
        challenge = http.get(simnet_app.profile)
        assert challenge.status_code == 402
        assert challenge.json()["error"]["code"] == "PAYMENT_REQUIRED"
        mac, invoice = CHALLENGE.match(challenge.headers.get_list("www-authenticate")[0]).groups()
        decoded = bolt11.decode(invoice)
        assert decoded.payee == simnet_app.simnet.oracle_pubkey  # signed by the oracle's key
        assert decoded.amount_msat == 21_000
        assert decoded.payment_hash == challenge.json()["error"]["details"]["paymentHash"]
        payment_hash = bytes.fromhex(decoded.payment_hash)
        assert ledger_usage(simnet_app.dsn, payment_hash) is None

        preimage = pay_through_customer(simnet_app.simnet, invoice)
        assert hashlib.sha256(bytes.fromhex(preimage)).hexdigest() == decoded.payment_hash
        auth = {"Authorization": f"L402 {mac}:{preimage}"}
        lefts = []
        for path in (simnet_app.profile, f"/api/profile/{agent_hash(simnet_app.pubkey)}"):
            served = http.get(path, headers=auth)
            assert served.status_code == 200
            data = served.json()["data"]
            assert data["agent"]["publicKey"] == simnet_app.pubkey
            assert data["score"]["rank"] == 80 and data["graph"]["channels"] == 2
            lefts.append(served.headers["x-l402-credits-left"])
        verdicts = http.post("/api/verdicts", json={"ids": [simnet_app.pubkey]}, headers=auth)
        assert verdicts.status_code == 200 and verdicts.json()["data"][0]["verdict"] == "SAFE"
        lefts.append(verdicts.headers["x-l402-credits-left"])
        assert lefts == ["20", "19", "18"]
        usage = wait_for_credits_used(simnet_app.dsn, payment_hash, 3)
        assert (usage.credits_total, usage.credits_leased) == (21, 0)

        report = http.post("/api/report", headers=auth,
                           json={"target": simnet_app.pubkey, "outcome": "success"})
        assert report.status_code == 201 and report.json()["data"]["verified"] is False
        usage = ledger_usage(simnet_app.dsn, payment_hash)
        assert usage is not None and usage.credits_used == 3  # proof, not a purchase

        # a preimage of another invoice proves nothing
        other = http.get(simnet_app.profile).headers.get_list("www-authenticate")[0]
        other_invoice = CHALLENGE.match(other).groups()[1]
        other_preimage = pay_through_customer(simnet_app.simnet, other_invoice)
        forged = http.get(simnet_app.profile,
                          headers={"Authorization": f"L402 {mac}:{other_preimage}"})
        assert forged.status_code == 402
        assert forged.json()["error"]["code"] == "TOKEN_WRONG_PREIMAGE"


def test_a_paid_deposit_carries_its_tier_credits(simnet_app: SimnetApp) -> None:
    with httpx.Client(base_url=simnet_app.base, timeout=30) as http:
        deposit = http.post("/api/deposit", json={"amount": 1_000})
        assert deposit.status_code == 200
        offer = deposit.json()["data"]
        assert bolt11.decode(offer["invoice"]).amount_msat == 1_000_000
        preimage = pay_through_customer(simnet_app.simnet, offer["invoice"])
        served = http.get(simnet_app.profile,
                          headers={"Authorization": f"L402 {offer['macaroon']}:{preimage}"})
    assert served.status_code == 200
    assert served.headers["x-l402-credits-left"] == str(offer["credits"] - 1)
    assert offer["credits"] == 2_000  # 1,000 sat at 0.5 sat per credit


def test_token_bindings_are_checked_from_the_first_request(simnet_app: SimnetApp) -> None:
    """With a readonly macaroon the api learns its node from GetInfo at start: before it
    has minted any invoice, a token bound to another node is already refused and one bound
    to ours is served (without GetInfo the binding waited for the first 402)."""
    ours = deployment_of("bc", simnet_app.simnet.oracle_pubkey)  # simnet serves mainnet
    until = int(time.time()) + 600
    with httpx.Client(base_url=simnet_app.base, timeout=30) as http:
        staging_mac, staging_pre = _mint_direct(valid_until=until,
                                                deployment="tbs:03" + "77" * 32)
        refused = http.get(simnet_app.profile,
                           headers={"Authorization": f"L402 {staging_mac}:{staging_pre}"})
        our_mac, our_pre = _mint_direct(valid_until=until, deployment=ours)
        served = http.get(simnet_app.profile,
                          headers={"Authorization": f"L402 {our_mac}:{our_pre}"})
    assert refused.status_code == 402, refused.text
    assert refused.json()["error"]["code"] == "TOKEN_INVALID"
    assert served.status_code == 200, served.text
