"""Integration: LndClient against simnet over real gRPC + TLS with lnd's macaroons.

Every RPC of the subset goes through our client; permissions are lnd's per macaroon;
probes are classified from what the simulated network really did; an invoice paid by the
customer node (through the `satrank pay` command) settles with the right preimage.
"""

from __future__ import annotations

import asyncio
import hashlib
import secrets
import socket
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from satrank.lightning.backend import InvoiceState, PaymentStatus, ProbeOutcome
from satrank.lightning.errors import (
    LightningNotFound,
    LightningPermissionDenied,
    LightningUnavailable,
)
from satrank.lightning.graph_file import load_graph_file
from satrank.lightning.lnd import LndClient
from tests.cli import run_satrank, satrank_env
from tests.data import MAINNET
from tests.simnet_fixture import SimnetHandle

PROBE_FEE_LIMIT_SAT = 5_000
PROBE_TIMEOUT_S = 30.0


def client(host: str, lnd_dir: Path, macaroon: str) -> LndClient:
    return LndClient.connect(host, (lnd_dir / "tls.cert").read_bytes(),
                             (lnd_dir / f"{macaroon}.macaroon").read_bytes())


@pytest.fixture
async def readonly(simnet: SimnetHandle) -> AsyncIterator[LndClient]:
    async with client(simnet.oracle_host, simnet.oracle_dir, "readonly") as c:
        yield c


@pytest.fixture
async def invoices(simnet: SimnetHandle) -> AsyncIterator[LndClient]:
    async with client(simnet.oracle_host, simnet.oracle_dir, "invoice") as c:
        yield c


@pytest.fixture
async def pay(simnet: SimnetHandle) -> AsyncIterator[LndClient]:
    async with client(simnet.oracle_host, simnet.oracle_dir, "pay") as c:
        yield c


async def test_get_info_describe_graph_and_network_info(simnet: SimnetHandle,
                                                        readonly: LndClient) -> None:
    info = await readonly.get_info()
    assert info.identity_pubkey == simnet.oracle_pubkey
    graph = await readonly.describe_graph()
    pubkeys = {n.pubkey for n in graph.nodes}
    assert {simnet.oracle_pubkey, simnet.customer_pubkey} <= pubkeys
    stats = await readonly.get_network_info()
    assert stats.num_nodes == len(graph.nodes)
    assert stats.num_channels == len(graph.edges)
    assert stats.total_capacity_sat == sum(e.capacity_sat for e in graph.edges)


async def test_node_and_channel_lookups_match_the_graph(simnet: SimnetHandle,
                                                        readonly: LndClient) -> None:
    graph = await readonly.describe_graph()
    mine = [e for e in graph.edges if simnet.customer_pubkey in (e.node1_pub, e.node2_pub)]
    assert mine, "simnet attaches the customer node with channels"
    node = await readonly.get_node_info(simnet.customer_pubkey)
    assert node.node.pubkey == simnet.customer_pubkey
    assert node.num_channels == len(mine)
    assert node.total_capacity_sat == sum(e.capacity_sat for e in mine)
    assert await readonly.get_chan_info(mine[0].channel_id) == mine[0]
    with pytest.raises(LightningNotFound):
        await readonly.get_chan_info(1)
    route = await readonly.query_routes(simnet.customer_pubkey, 1_000,
                                        fee_limit_sat=PROBE_FEE_LIMIT_SAT)
    assert route is not None and route.hops[-1].pubkey == simnet.customer_pubkey
    assert route.hops[-1].amt_to_forward_msat == 1_000_000
    assert route.total_fees_msat == sum(h.fee_msat for h in route.hops)


async def test_list_channels_shows_the_oracles_channels(simnet: SimnetHandle,
                                                        pay: LndClient,
                                                        readonly: LndClient) -> None:
    channels = await pay.list_channels()
    graph = await readonly.describe_graph()
    ours = {e.channel_id for e in graph.edges
            if simnet.oracle_pubkey in (e.node1_pub, e.node2_pub)}
    assert channels and {c.channel_id for c in channels} == ours
    assert all(c.local_balance_sat + c.remote_balance_sat <= c.capacity_sat for c in channels)


async def test_invoice_paid_by_the_customer_settles(simnet: SimnetHandle, invoices: LndClient,
                                                    pay: LndClient, tmp_path: Path) -> None:
    added = await invoices.add_invoice(21, "satrank test", 600)
    # Replay from just below our add: the replayed OPEN proves the stream is live before
    # the payment, so its SETTLED cannot be missed (lnd's add_index semantics).
    events = invoices.subscribe_invoices(add_index=added.add_index - 1)
    replayed = await asyncio.wait_for(anext(events), 30)
    assert (replayed.payment_hash, replayed.state) == (added.payment_hash, InvoiceState.OPEN)
    decoded = await pay.decode_pay_req(added.payment_request)
    assert (decoded.destination, decoded.payment_hash) == (simnet.oracle_pubkey,
                                                            added.payment_hash)
    assert (decoded.amount_msat, decoded.description, decoded.expiry_s) == (
        21_000, "satrank test", 600)
    opened = await invoices.lookup_invoice(added.payment_hash)
    assert opened.state is InvoiceState.OPEN and opened.value_sat == 21

    paid = await asyncio.to_thread(
        run_satrank, "pay", added.payment_request, "--lnd-dir", str(simnet.customer_dir),
        "--lnd-host", simnet.customer_host, env=satrank_env(tmp_path))
    assert paid.returncode == 0, paid.stderr
    preimage = bytes.fromhex(paid.stdout.strip())
    assert hashlib.sha256(preimage).digest() == added.payment_hash

    settled_event = await asyncio.wait_for(anext(events), 30)
    await events.aclose()
    assert (settled_event.payment_hash, settled_event.state) == (added.payment_hash,
                                                                 InvoiceState.SETTLED)
    assert settled_event.preimage == preimage
    for lookup in (invoices.lookup_invoice, invoices.lookup_invoice_v2):
        settled = await lookup(added.payment_hash)
        assert settled.state is InvoiceState.SETTLED
        assert settled.preimage == preimage and settled.amt_paid_sat == 21
        assert settled.settle_index > 0

    async with client(simnet.customer_host, simnet.customer_dir, "admin") as customer:
        tracked = await customer.track_payment(added.payment_hash)
    assert tracked.status is PaymentStatus.SUCCEEDED and tracked.preimage == preimage
    assert tracked.hops[-1].pubkey == simnet.oracle_pubkey


async def test_paying_an_unknown_invoice_fails_cleanly(simnet: SimnetHandle,
                                                       tmp_path: Path) -> None:
    result = run_satrank("pay", "lnbcrt1notaninvoice", "--lnd-dir", str(simnet.customer_dir),
                         "--lnd-host", simnet.customer_host, env=satrank_env(tmp_path))
    assert result.returncode == 1
    assert result.stderr.startswith("satrank pay: ") and "Traceback" not in result.stderr


async def test_unknown_invoice_is_not_found(invoices: LndClient) -> None:
    with pytest.raises(LightningNotFound):
        await invoices.lookup_invoice(secrets.token_bytes(32))
    with pytest.raises(LightningNotFound):
        await invoices.lookup_invoice_v2(secrets.token_bytes(32))


async def test_macaroon_permissions_are_lnds(simnet: SimnetHandle, invoices: LndClient,
                                             readonly: LndClient) -> None:
    with pytest.raises(LightningPermissionDenied):
        await invoices.describe_graph()
    with pytest.raises(LightningPermissionDenied):
        await invoices.get_info()  # invoice.macaroon has no info:read
    with pytest.raises(LightningPermissionDenied):
        await readonly.add_invoice(1, "no", 60)
    with pytest.raises(LightningPermissionDenied):
        await readonly.lookup_invoice_v2(secrets.token_bytes(32))  # needs invoices:write
    with pytest.raises(LightningPermissionDenied):
        await readonly.send_probe(simnet.customer_pubkey, 1_000, fee_limit_sat=10,
                                  timeout_s=5)
    with pytest.raises(LightningPermissionDenied):
        await readonly.pay_invoice("lnbcrt1x", fee_limit_sat=10, timeout_s=5)
    async with client(simnet.oracle_host, simnet.oracle_dir, "admin") as admin:
        assert (await admin.get_info()).identity_pubkey == simnet.oracle_pubkey
    async with LndClient.connect(simnet.oracle_host,
                                 (simnet.oracle_dir / "tls.cert").read_bytes(),
                                 secrets.token_bytes(40)) as forged:
        with pytest.raises(LightningPermissionDenied):
            await forged.get_info()


async def test_a_closed_port_is_unavailable(simnet: SimnetHandle) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    async with client(f"127.0.0.1:{port}", simnet.oracle_dir, "readonly") as c:
        with pytest.raises(LightningUnavailable):
            await c.get_info()


async def test_probe_to_a_node_outside_the_graph_finds_no_route(simnet: SimnetHandle,
                                                                 pay: LndClient) -> None:
    stranger = "02" + secrets.token_hex(32)
    result = await pay.send_probe(stranger, 1_000, fee_limit_sat=PROBE_FEE_LIMIT_SAT,
                                  timeout_s=PROBE_TIMEOUT_S)
    assert result.outcome is ProbeOutcome.NO_ROUTE
    assert (result.attempts, result.hops, result.failing_channel_id) == (0, (), None)


async def test_mainnet_graph_is_served_unchanged(simnet_mainnet: SimnetHandle) -> None:
    async with client(simnet_mainnet.oracle_host, simnet_mainnet.oracle_dir, "readonly") as c:
        served = await c.describe_graph()
    expected = load_graph_file(MAINNET)
    attached = {simnet_mainnet.oracle_pubkey, simnet_mainnet.customer_pubkey}
    nodes = {n.pubkey: n for n in served.nodes if n.pubkey not in attached}
    edges = {e.channel_id: e for e in served.edges
             if not attached & {e.node1_pub, e.node2_pub}}
    assert (len(nodes), len(edges)) == (12_827, 49_570)
    assert nodes == {n.pubkey: n for n in expected.nodes}
    assert edges == {e.channel_id: e for e in expected.edges}
