"""Integration: satrank.client against the real api on simnet, paying the oracle's real
invoices from simnet's customer node (LndWallet over gRPC with a pay macaroon).

Paid once, then the token is reused; a payment over a cap is refused before the wallet is
asked; a client whose pace makes a deposit cheaper buys the deposit; errors carry the
server's code.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from satrank.api.app import create_app
from satrank.client import (
    InvalidRequest,
    NotFound,
    PaymentRequired,
    SatRankClient,
    SpendingCapExceeded,
    SpendingCaps,
)
from satrank.lightning.bolt11 import decode
from satrank.lightning.lnd import LndClient
from tests.api_seed import agent_hash, pubkey, seed
from tests.client_support import RecordingWallet, customer_wallet
from tests.l402_simnet import SimnetApp, simnet_settings_env
from tests.l402_support import settings_for, wait_for_credits_used
from tests.live_server import live_server
from tests.registry_seed import register_endpoint
from tests.simnet_api import describe_simnet_graph, insert_graph_nodes
from tests.simnet_fixture import SimnetHandle

HEAVY = ("starlette", "asyncpg", "numpy", "scipy", "grpc", "mcp", "nostr_sdk", "uvicorn")


def test_the_client_imports_without_the_server_dependencies() -> None:
    done = subprocess.run(
        [sys.executable, "-c", "import json, sys; import satrank.client; "
         "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))"],
        capture_output=True, text=True, check=True, timeout=60)
    loaded = set(json.loads(done.stdout))
    assert loaded.isdisjoint(HEAVY), sorted(loaded & set(HEAVY))


def _client(app: SimnetApp, wallet: RecordingWallet | None, caps: SpendingCaps | None,
            **options: object) -> SatRankClient:
    return SatRankClient(app.base, wallet=wallet, caps=caps, **options)


def test_pays_one_challenge_then_reuses_the_token(simnet_app: SimnetApp) -> None:
    wallet = RecordingWallet(customer_wallet(simnet_app.simnet))
    caps = SpendingCaps(per_request_sat=50, per_day_sat=1000)
    with _client(simnet_app, wallet, caps) as client:
        profile = client.profile(simnet_app.pubkey)
        assert profile["agent"]["publicKey"] == simnet_app.pubkey
        assert len(wallet.paid) == 1
        invoice = decode(wallet.paid[0])
        assert invoice.payee.hex() == simnet_app.simnet.oracle_pubkey
        assert invoice.amount_msat == 21_000

        again = client.profile(agent_hash(simnet_app.pubkey))
        verdicts = client.verdicts([simnet_app.pubkey])
        assert again["agent"]["publicKey"] == simnet_app.pubkey
        assert verdicts[0]["found"] is True and verdicts[0]["verdict"] == "SAFE"
        assert len(wallet.paid) == 1  # the second and third calls paid nothing
        token = client.aio.tokens.get(client.aio.origin)
        assert token is not None and token.credits == 21 and token.credits_left == 18
        # what the caps count: the invoice and its routing fee, nothing more
        assert 21 <= caps.spent(3600) <= 21 + wallet.max_fee_sat
    usage = wait_for_credits_used(simnet_app.dsn, invoice.payment_hash, 3)
    assert (usage.credits_total, usage.credits_used) == (21, 3)


def test_a_payment_over_the_per_request_cap_is_refused_before_paying(
        simnet_app: SimnetApp) -> None:
    wallet = RecordingWallet(customer_wallet(simnet_app.simnet))
    with _client(simnet_app, wallet, SpendingCaps(per_request_sat=20)) as client:
        with pytest.raises(SpendingCapExceeded) as refused:
            client.profile(simnet_app.pubkey)
        assert refused.value.cap == "per-request" and refused.value.amount_sat == 21 + 10
        assert wallet.paid == []
        assert client.aio.tokens.get(client.aio.origin) is None


def test_the_hourly_cap_counts_what_the_ledger_file_remembers(
        simnet_app: SimnetApp, tmp_path: Path) -> None:
    ledger = tmp_path / "spent.jsonl"
    ledger.write_text(json.dumps({"at": time.time() - 600, "sat": 30}) + "\n")
    wallet = RecordingWallet(customer_wallet(simnet_app.simnet))
    caps = SpendingCaps(per_hour_sat=50, ledger_path=ledger)
    with _client(simnet_app, wallet, caps) as client:
        with pytest.raises(SpendingCapExceeded) as refused:
            client.profile(simnet_app.pubkey)
    assert (refused.value.cap, refused.value.spent_sat) == ("hourly", 30)
    assert wallet.paid == []


def test_a_client_spending_enough_buys_a_cheaper_deposit(
        simnet_app: SimnetApp, tmp_path: Path) -> None:
    ledger = tmp_path / "spent.jsonl"  # this agent spent 1,200 sat here since yesterday
    ledger.write_text(json.dumps({"at": time.time() - 7200, "sat": 1200}) + "\n")
    wallet = RecordingWallet(customer_wallet(simnet_app.simnet))
    caps = SpendingCaps(per_request_sat=2000, per_day_sat=5000, ledger_path=ledger)
    with _client(simnet_app, wallet, caps) as client:
        client.profile(simnet_app.pubkey)
        token = client.aio.tokens.get(client.aio.origin)
    assert len(wallet.paid) == 1
    assert decode(wallet.paid[0]).amount_msat == 1_000_000  # the 1,000 sat tier ...
    assert token is not None and token.credits == 2000  # ... at 0.5 sat per credit
    usage = wait_for_credits_used(simnet_app.dsn, decode(wallet.paid[0]).payment_hash, 1)
    assert usage.credits_total == 2000
    lines = ledger.read_text().splitlines()
    assert len(lines) == 2 and 1000 <= json.loads(lines[1])["sat"] <= 1010


def test_an_explicit_deposit_is_the_token_later_calls_use(simnet_app: SimnetApp) -> None:
    wallet = RecordingWallet(customer_wallet(simnet_app.simnet))
    with _client(simnet_app, wallet, SpendingCaps(per_request_sat=200)) as client:
        token = client.deposit(100)
        client.profile(simnet_app.pubkey)
    assert token.credits == 100 and len(wallet.paid) == 1
    payment_hash = decode(wallet.paid[0]).payment_hash
    usage = wait_for_credits_used(simnet_app.dsn, payment_hash, 1)
    assert usage.credits_total == 100


def test_errors_carry_the_server_code(simnet_app: SimnetApp) -> None:
    with SatRankClient(simnet_app.base) as client:
        assert client.agent(simnet_app.pubkey)["agent"]["publicKey"] == simnet_app.pubkey
        with pytest.raises(NotFound) as missing:
            client.agent("02" + "ab" * 32)
        assert missing.value.code == "NOT_FOUND" and missing.value.status == 404
        with pytest.raises(InvalidRequest) as invalid:
            client.verdict("not-a-node")
        assert invalid.value.code == "INVALID_ID"
        with pytest.raises(PaymentRequired) as unpaid:  # no wallet: the offer is in details
            client.profile(simnet_app.pubkey)
        assert unpaid.value.code == "PAYMENT_REQUIRED"
        offered = decode(unpaid.value.details["invoice"])
        assert offered.payee.hex() == simnet_app.simnet.oracle_pubkey


def test_a_wallet_without_caps_is_refused(simnet_app: SimnetApp) -> None:
    with pytest.raises(ValueError, match="cap"):
        SatRankClient(simnet_app.base, wallet=customer_wallet(simnet_app.simnet))


@pytest.fixture
def two_credit_app(simnet: SimnetHandle, db_dsn: str) -> Iterator[SimnetApp]:
    """The api on simnet selling 2 credits per challenge: tokens run out quickly."""
    pks = asyncio.run(seed(db_dsn))
    settings = settings_for(**simnet_settings_env(simnet), L402_CHALLENGE_CREDITS="2")
    with live_server(create_app(settings, db_dsn)) as base:
        yield SimnetApp(base, f"/api/profile/{pks[1]}", pks[1], simnet, db_dsn)


def test_an_exhausted_token_is_replaced_by_one_new_payment(two_credit_app: SimnetApp) -> None:
    app = two_credit_app
    wallet = RecordingWallet(customer_wallet(app.simnet))
    with _client(app, wallet, SpendingCaps(per_request_sat=50)) as client:
        for _ in range(3):  # 2 credits, then TOKEN_EXHAUSTED: buy again
            assert client.profile(app.pubkey)["agent"]["publicKey"] == app.pubkey
        assert len(wallet.paid) == 2
    hashes = [decode(invoice).payment_hash for invoice in wallet.paid]
    assert wait_for_credits_used(app.dsn, hashes[0], 2).credits_total == 2
    assert wait_for_credits_used(app.dsn, hashes[1], 1).credits_total == 2


def test_concurrent_calls_share_one_purchase(simnet_app: SimnetApp) -> None:
    wallet = RecordingWallet(customer_wallet(simnet_app.simnet))
    with _client(simnet_app, wallet, SpendingCaps(per_request_sat=50)) as client, \
            ThreadPoolExecutor(max_workers=6) as pool:
        answers = list(pool.map(lambda _: client.profile(simnet_app.pubkey), range(6)))
    assert all(a["agent"]["publicKey"] == simnet_app.pubkey for a in answers)
    assert len(wallet.paid) == 1
    payment_hash = decode(wallet.paid[0]).payment_hash
    assert wait_for_credits_used(simnet_app.dsn, payment_hash, 6).credits_total == 21


def test_the_free_routes(simnet_app: SimnetApp) -> None:
    with SatRankClient(simnet_app.base) as client:
        assert client.health()["status"] in ("ok", "degraded", "down")
        assert client.stats()["nodes"]["all"] == 6
        page = client.leaderboard(limit=2)
        assert [n["rank"] for n in page["data"]] == [90, 80]
        rest = client.leaderboard(limit=2, cursor=page["meta"]["next_cursor"])
        assert [n["rank"] for n in rest["data"]] == [70, 60]
        found = client.search("acinq")
        assert {n["alias"] for n in found["data"]} == {"ACINQ", "acinq-backup"}
        tiers = client.deposit_tiers()
        assert tiers["tiers"][0] == {"minSat": 21, "satPerCredit": 1.0, "creditsPerSat": 1}


def test_concurrent_calls_on_small_tokens_buy_only_what_they_use(
        two_credit_app: SimnetApp) -> None:
    app = two_credit_app
    wallet = RecordingWallet(customer_wallet(app.simnet))
    with _client(app, wallet, SpendingCaps(per_request_sat=50)) as client, \
            ThreadPoolExecutor(max_workers=6) as pool:
        answers = list(pool.map(lambda _: client.profile(app.pubkey), range(6)))
    assert all(a["agent"]["publicKey"] == app.pubkey for a in answers)
    assert len(wallet.paid) == 3  # six credits used, two per token: none bought in vain


async def _oracle_peer(simnet: SimnetHandle) -> str:
    lnd_dir = simnet.oracle_dir
    async with LndClient.connect(simnet.oracle_host, (lnd_dir / "tls.cert").read_bytes(),
                                 (lnd_dir / "readonly.macaroon").read_bytes()) as node:
        return (await node.list_channels(active_only=True))[0].remote_pubkey


def test_a_paid_probe_and_a_refunded_unknown_target(simnet_app: SimnetApp) -> None:
    asyncio.run(insert_graph_nodes(simnet_app.dsn,
                                   asyncio.run(describe_simnet_graph(simnet_app.simnet))))
    peer = asyncio.run(_oracle_peer(simnet_app.simnet))
    wallet = RecordingWallet(customer_wallet(simnet_app.simnet))
    with _client(simnet_app, wallet, SpendingCaps(per_request_sat=50)) as client:
        answer = client.probe(peer, amounts_sat=[1000])
        assert answer["target"]["publicKey"] == peer
        assert answer["probes"][0]["reachable"] is True
        with pytest.raises(NotFound):  # the route's 404 gives the 5 credits back
            client.probe("02" + "77" * 32)
        token = client.aio.tokens.get(client.aio.origin)
        assert token is not None and token.credits_left == 21 - 5  # the 404 was refunded
        client.profile(simnet_app.pubkey)
        assert token.credits_left == 21 - 5 - 1
    assert len(wallet.paid) == 1


def test_intent_and_the_service_registry(simnet_app: SimnetApp) -> None:
    """intent() on a node and on a registered endpoint (paid, one token), services()
    with the real GET /api/services parameters (free)."""
    payee, caller = simnet_app.pubkey, pubkey(1)
    dear = "https://forecast.example/v1/dear"
    cheap = "https://forecast.example/v1/cheap"
    register_endpoint(simnet_app.dsn, dear, payee, price_sat=50, latency_ms=20,
                      category="weather", name="forecast dear")
    register_endpoint(simnet_app.dsn, cheap, payee, price_sat=5, latency_ms=90,
                      category="weather", name="forecast cheap", delivers=False)
    register_endpoint(simnet_app.dsn, "https://img.example/gen", payee, category="media")
    wallet = RecordingWallet(customer_wallet(simnet_app.simnet))
    with _client(simnet_app, wallet, SpendingCaps(per_request_sat=50)) as client:
        node = client.intent(payee, caller=caller, amount_sat=1000)
        assert node["decision"] in ("proceed", "caution", "avoid") and node["reasons"]
        assert node["target"]["publicKey"] == payee and node["amountSat"] == 1000
        assert node["payer"]["publicKey"] == caller and node["payer"]["basis"] == "caller"
        endpoint = client.intent(dear, caller=caller)
        assert endpoint["endpoint"]["url"] == dear and endpoint["amountSat"] == 50
        assert endpoint["payment"]["target"]["publicKey"] == payee
        assert client.intent(cheap)["decision"] == "avoid"  # it never delivers
        with pytest.raises(NotFound):
            client.intent("https://unlisted.example/x")
        token = client.aio.tokens.get(client.aio.origin)
        assert token is not None and token.credits_left == 21 - 3 * 2  # the 404 refunded

        def urls(page: dict[str, object]) -> list[str]:
            return [s["url"] for s in page["data"]]  # type: ignore[attr-defined]

        assert urls(client.services(category="weather")) == [dear, cheap]  # best p first
        first = client.services(category="weather", sort_by="price", limit=1)
        assert urls(first) == [cheap]
        rest = client.services(category="weather", sort_by="price", limit=1,
                               cursor=first["meta"]["next_cursor"])
        assert urls(rest) == [dear]
        assert urls(client.services(sort_by="latency", q="forecast")) == [dear, cheap]
        assert urls(client.services(max_price_sat=5)) == [cheap]
    assert len(wallet.paid) == 1
