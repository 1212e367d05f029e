"""Integration: L402 clients we did not write, paying real invoices through simnet.

The app runs with its own LND wiring pointed at simnet's oracle node (invoice macaroon,
TLS certificate): each 402 carries a real signed BOLT11 from AddInvoice. Each client
pays it through simnet's customer node (as an agent's own lnd would), is served the
real profile of a seeded node, and then reuses its token. Nothing here is a test double:
client libraries, invoices, payments, macaroons, server and database are the real ones.
"""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import bolthub
import httpx
import l402_requests

from tests.cli import satrank_env
from tests.l402_simnet import SimnetApp, pay_through_customer
from tests.simnet_fixture import SimnetHandle

INTEROP = Path(__file__).parent / "interop"


class CustomerWallet(l402_requests.WalletBase):
    """l402-requests wallet paying through the customer node (its built-in LND wallet
    mis-decodes hex preimages, tooling.md §6b)."""

    def __init__(self, simnet: SimnetHandle) -> None:
        self.simnet = simnet
        self.paid: list[str] = []

    async def pay_invoice(self, bolt11: str) -> str:
        self.paid.append(bolt11)
        return await asyncio.to_thread(pay_through_customer, self.simnet, bolt11)


class BolthubWallet:
    """bolthub takes any object with `pay_invoice(bolt11) -> preimage hex`."""

    def __init__(self, simnet: SimnetHandle) -> None:
        self.simnet = simnet
        self.paid: list[str] = []

    def pay_invoice(self, bolt11: str) -> str:
        self.paid.append(bolt11)
        return pay_through_customer(self.simnet, bolt11)


def _is_profile_of(response: httpx.Response, pubkey: str) -> bool:
    data = response.json()["data"]
    return bool(data["agent"]["publicKey"] == pubkey and data["score"]["verdict"] == "SAFE")


def test_l402_requests_pays_once_and_reuses(simnet_app: SimnetApp) -> None:
    wallet = CustomerWallet(simnet_app.simnet)
    budget = l402_requests.BudgetController(max_sats_per_request=100,
                                            allowed_domains={"127.0.0.1"})
    client = l402_requests.L402Client(wallet=wallet, budget=budget)
    first = client.get(simnet_app.base + simnet_app.profile)
    second = client.get(simnet_app.base + simnet_app.profile)
    assert (first.status_code, second.status_code) == (200, 200)
    assert all(_is_profile_of(r, simnet_app.pubkey) for r in (first, second))
    assert [first.headers["x-l402-credits-left"], second.headers["x-l402-credits-left"]] == [
        "20", "19"]
    assert len(wallet.paid) == 1 and re.match(r"lnbc(rt)?210n1", wallet.paid[0])


def test_bolthub_pays_and_its_token_is_reused(simnet_app: SimnetApp) -> None:
    """bolthub 0.7 pays per call unless a bolthub gateway hands it a session, so the
    reuse half sends the credential bolthub built (captured on the wire) once more."""
    wallet = BolthubWallet(simnet_app.simnet)
    sent: list[str] = []

    def capture(request: httpx.Request) -> None:
        if "authorization" in request.headers:
            sent.append(request.headers["authorization"])

    auth = bolthub.L402Auth(wallet, budget_sats=1_000)  # type: ignore[arg-type]
    with httpx.Client(auth=auth, event_hooks={"request": [capture]}, timeout=60) as client:
        first = client.get(simnet_app.base + simnet_app.profile)
    assert first.status_code == 200 and _is_profile_of(first, simnet_app.pubkey)
    assert first.headers["x-l402-credits-left"] == "20"
    assert len(wallet.paid) == 1 and len(sent) == 1 and sent[0].startswith("L402 ")
    again = httpx.get(simnet_app.base + simnet_app.profile,
                      headers={"Authorization": sent[0]}, timeout=30)
    assert again.status_code == 200 and again.headers["x-l402-credits-left"] == "19"


def _node(script: str, simnet_app: SimnetApp, tmp_path: Path) -> dict[str, object]:
    """Run a node client; it pays by running `satrank pay` against the customer node."""
    node = shutil.which("node")
    assert node is not None, "node is needed (.ci/run installs it)"
    assert (INTEROP / "node_modules").is_dir(), "run `npm ci` in tests/interop (make does)"
    simnet = simnet_app.simnet
    pay_command = [sys.executable, "-m", "satrank", "pay", "--lnd-dir",
                   str(simnet.customer_dir), "--lnd-host", simnet.customer_host]
    done = subprocess.run([node, str(INTEROP / script), simnet_app.base + simnet_app.profile,
                           json.dumps(pay_command)],
                          capture_output=True, text=True, timeout=120, cwd=INTEROP,
                          env=satrank_env(tmp_path))
    assert done.returncode == 0, done.stderr
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def test_alby_fetch_with_l402_pays_and_reuses(simnet_app: SimnetApp, tmp_path: Path) -> None:
    result = _node("alby_client.mjs", simnet_app, tmp_path)
    assert (result["first"], result["second"], result["payments"]) == (200, 200, 1)
    assert result["creditsLeft"] == ["20", "19"]
    assert result["body"]["data"]["agent"]["publicKey"] == simnet_app.pubkey  # type: ignore[index]


def test_lsat_js_checks_the_real_invoice_pays_and_reuses(simnet_app: SimnetApp,
                                                         tmp_path: Path) -> None:
    """lsat-js decodes the BOLT11 (checksum, signature) and checks the preimage against
    the payment hash; it always sends the LSAT scheme, which we accept."""
    result = _node("lsat_js_client.mjs", simnet_app, tmp_path)
    assert result["challengeStatus"] == 402
    assert result["payee"] == simnet_app.simnet.oracle_pubkey
    assert result["paymentHash"] == result["identifierPaymentHash"]
    assert result["scheme"] == "LSAT"
    assert "services=satrank:0" in result["caveats"]  # type: ignore[operator]
    assert (result["first"], result["second"]) == (200, 200)
    assert result["creditsLeft"] == ["20", "19"]
    assert result["body"]["data"]["agent"]["publicKey"] == simnet_app.pubkey  # type: ignore[index]
