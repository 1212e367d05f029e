"""Integration: `satrank simnet --announce-own-channels` puts the customer's and the
vantages' channels in the public graph (real gRPC+TLS), so the intent of a payment from the
customer is computed for the customer itself, end to end (real Postgres)."""

from __future__ import annotations

import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import httpx
import pytest

from satrank.api.cache.intent import build_snapshot
from satrank.api.intent_input import IntentRequest
from satrank.api.routes.intent import answer
from satrank.db.graph import record_sync_payer, sync_graph
from satrank.db.intent import load_intent_inputs
from satrank.lightning.bolt11 import decode
from satrank.lightning.lnd import LndClient
from tests.simnet_fixture import SimnetHandle, start_simnet

TIMEOUT_S = 30


@pytest.fixture(scope="module")
def announced() -> Iterator[SimnetHandle]:
    with tempfile.TemporaryDirectory(prefix="simnet-pub-") as tmp, start_simnet(
            Path(tmp), vantage=2, extra=("--announce-own-channels",)) as handle:
        yield handle


def _client(host: str, directory: Path, macaroon: str) -> LndClient:
    return LndClient.connect(host, (directory / "tls.cert").read_bytes(),
                             (directory / f"{macaroon}.macaroon").read_bytes(),
                             rpc_timeout_s=TIMEOUT_S)


async def test_our_nodes_and_their_channels_are_in_the_public_graph(
        announced: SimnetHandle) -> None:
    async with _client(announced.oracle_host, announced.oracle_dir, "readonly") as oracle:
        graph = await oracle.describe_graph()
    nodes = {n.pubkey for n in graph.nodes}
    ours = [v[3] for v in announced.vantages] + [announced.customer_pubkey]
    assert set(ours) <= nodes
    degree = {pk: sum(pk in (e.node1_pub, e.node2_pub) for e in graph.edges) for pk in ours}
    assert degree == {ours[0]: 8, ours[1]: 4, announced.customer_pubkey: 6}
    async with _client(announced.customer_host, announced.customer_dir, "admin") as customer:
        invoice = await customer.add_invoice(10_000, "public payee", 3600)
    # lnd hints private channels only: a public payee's invoice carries none
    assert decode(invoice.payment_request).route_hints == ()


def test_a_graph_node_pays_the_customer_without_route_hints(announced: SimnetHandle) -> None:
    with httpx.Client(base_url=f"http://{announced.truth_host}", timeout=60) as truth:
        outcome = truth.get("/truth", params={
            "payer": announced.vantages[1][3], "target": announced.customer_pubkey,
            "amount_msat": 10_000_000, "fee_limit_msat": 100_000}).json()
    assert outcome["outcome"] == "SUCCEEDED"


async def test_the_customer_is_a_caller_of_its_own_intents(announced: SimnetHandle,
                                                           db_dsn: str) -> None:
    async with _client(announced.oracle_host, announced.oracle_dir, "readonly") as oracle:
        info = await oracle.get_info()
        graph = await oracle.describe_graph_deferred()
    conn = await asyncpg.connect(db_dsn)
    try:
        sync = await sync_graph(conn, graph, block_height=info.block_height,
                                now=datetime.now(UTC))
        await record_sync_payer(conn, sync.sync_id, info.identity_pubkey)
        inputs = await load_intent_inputs(conn)
    finally:
        await conn.close()
    snapshot = build_snapshot(inputs, version=0, our_pubkey=announced.oracle_pubkey,
                              now_unix=time.time())
    assert snapshot.reference_is_ours  # our node is in the graph now
    target = next(pk for pk in snapshot.pubkeys if pk not in {
        announced.customer_pubkey, *(v[3] for v in announced.vantages)}
        and snapshot.can_pay(snapshot.index[pk], 1_000))
    data = answer(snapshot, IntentRequest(("pubkey", target), None,
                                          ("pubkey", announced.customer_pubkey), 10_000, 55,
                                          False), time.time())
    assert data["payer"]["basis"] == "caller"
    assert data["payer"]["publicKey"] == announced.customer_pubkey
    assert data["paymentBasis"]["payer"] == f"caller:{announced.customer_pubkey}"
