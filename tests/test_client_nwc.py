"""Integration: satrank.client paying SatRank through Nostr Wallet Connect (NIP-47).

The client's NwcWallet (rust-nostr's NWC client) talks over a real relay to a NIP-47
service (tests/nwc_service.py) that pays from simnet's customer node: the same flow as a
hosted wallet such as Alby Hub, with every hop real.
"""

from __future__ import annotations

from pathlib import Path

from satrank.client import NwcWallet, SatRankClient, SpendingCaps
from satrank.lightning.bolt11 import decode
from tests.client_support import customer_wallet
from tests.l402_simnet import SimnetApp
from tests.l402_support import wait_for_credits_used
from tests.nostr_relay import running_relay
from tests.nwc_service import NwcService


def test_pays_the_challenge_through_nwc_and_reuses_the_token(
        simnet_app: SimnetApp, tmp_path: Path) -> None:
    with running_relay(tmp_path) as relay, \
            NwcService(relay.url, customer_wallet(simnet_app.simnet)) as service:
        wallet = NwcWallet(service.uri, timeout_s=30)
        assert service.client_secret.hex() not in repr(wallet)
        caps = SpendingCaps(per_request_sat=50)
        with SatRankClient(simnet_app.base, wallet=wallet, caps=caps) as client:
            first = client.profile(simnet_app.pubkey)
            second = client.verdicts([simnet_app.pubkey])
        assert first["agent"]["publicKey"] == simnet_app.pubkey
        assert second[0]["found"] is True
        assert [r["method"] for r in service.requests] == ["pay_invoice"]  # paid once
        invoice = decode(service.requests[0]["params"]["invoice"])
        assert invoice.payee.hex() == simnet_app.simnet.oracle_pubkey
    assert wait_for_credits_used(simnet_app.dsn, invoice.payment_hash, 2).credits_total == 21
