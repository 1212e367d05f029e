"""Integration: L402 clients we did not write, against our server over real HTTP.

Each client meets a 402, pays through a wallet, is served, and reuses its token. The
wallet pays the test double of LND's AddInvoice (`PreimageIssuer`): it learns the real
preimage of the invoice, as a payer does. The clients, the headers they parse and send,
the macaroon bytes and the server are all the real ones.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import bolthub
import httpx
import l402_requests
import pytest

from tests.l402_support import PreimageIssuer, serve_paid_app
from tests.test_paywall import PROFILE

INTEROP = Path(__file__).parent / "interop"


@pytest.fixture
def server(db_dsn: str) -> Iterator[tuple[str, PreimageIssuer]]:
    issuer = PreimageIssuer()
    with serve_paid_app(db_dsn, issuer) as base:
        yield base, issuer


class IssuerWallet(l402_requests.WalletBase):
    """l402-requests wallet (its own LND wallet mis-decodes hex preimages)."""

    def __init__(self, issuer: PreimageIssuer) -> None:
        self.issuer = issuer
        self.paid: list[str] = []

    async def pay_invoice(self, bolt11: str) -> str:
        self.paid.append(bolt11)
        return self.issuer.pay(bolt11).hex()


class BolthubWallet:
    """bolthub takes any object with `pay_invoice(bolt11) -> preimage hex`."""

    def __init__(self, issuer: PreimageIssuer) -> None:
        self.issuer = issuer
        self.paid: list[str] = []

    def pay_invoice(self, bolt11: str) -> str:
        self.paid.append(bolt11)
        return self.issuer.pay(bolt11).hex()


def test_l402_requests_pays_once_and_reuses(server: tuple[str, PreimageIssuer]) -> None:
    base, issuer = server
    wallet = IssuerWallet(issuer)
    budget = l402_requests.BudgetController(max_sats_per_request=100,
                                            allowed_domains={"127.0.0.1"})
    client = l402_requests.L402Client(wallet=wallet, budget=budget)
    first = client.get(base + PROFILE)
    second = client.get(base + PROFILE)
    assert (first.status_code, second.status_code) == (200, 200)
    assert [first.json()["creditsLeft"], second.json()["creditsLeft"]] == [20, 19]
    assert len(wallet.paid) == 1 and wallet.paid[0].startswith("lnbcrt210n1")


def test_bolthub_pays_and_its_token_is_reused(server: tuple[str, PreimageIssuer]) -> None:
    """bolthub 0.7 pays per call unless a bolthub gateway hands it a session, so the
    reuse half sends the credential bolthub built (captured on the wire) once more."""
    base, issuer = server
    wallet = BolthubWallet(issuer)
    sent: list[str] = []

    def capture(request: httpx.Request) -> None:
        if "authorization" in request.headers:
            sent.append(request.headers["authorization"])

    auth = bolthub.L402Auth(wallet, budget_sats=1_000)  # type: ignore[arg-type]
    with httpx.Client(auth=auth, event_hooks={"request": [capture]}) as client:
        first = client.get(base + PROFILE)
    assert first.status_code == 200 and first.json()["creditsLeft"] == 20
    assert len(wallet.paid) == 1 and len(sent) == 1 and sent[0].startswith("L402 ")
    again = httpx.get(base + PROFILE, headers={"Authorization": sent[0]})
    assert again.status_code == 200 and again.json()["creditsLeft"] == 19


def _node(script: str, base: str) -> dict[str, object]:
    node = shutil.which("node")
    assert node is not None, "node is needed (.ci/run installs it)"
    assert (INTEROP / "node_modules").is_dir(), "run `npm ci` in tests/interop (make does)"
    done = subprocess.run([node, str(INTEROP / script), base + PROFILE, base + "/test/pay"],
                          capture_output=True, text=True, timeout=60, cwd=INTEROP)
    assert done.returncode == 0, done.stderr
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def test_alby_fetch_with_l402_pays_and_reuses(server: tuple[str, PreimageIssuer]) -> None:
    base, issuer = server
    result = _node("alby_client.mjs", base)
    assert (result["first"], result["second"], result["payments"]) == (200, 200, 1)
    assert result["body"]["creditsLeft"] == 19  # type: ignore[index]
