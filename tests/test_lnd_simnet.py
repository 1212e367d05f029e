"""Integration: LndClient against simnet over real gRPC + TLS with lnd's macaroons.

Every RPC of the subset goes through our client; permissions are lnd's per macaroon;
probes are classified from what the simulated network really did; an invoice paid by the
customer node (through the `satrank pay` command) settles with the right preimage.
"""

from __future__ import annotations

import asyncio
import collections
import hashlib
import inspect
import secrets
import socket
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest

from satrank.lightning.backend import ChannelGraph, InvoiceState, PaymentStatus, graph_records
from satrank.lightning.errors import (
    LightningNotFound,
    LightningPermissionDenied,
    LightningUnavailable,
)
from satrank.lightning.graph_file import load_graph_file
from satrank.lightning.lnd import LndClient
from satrank.outcomes import ProbeOutcome
from satrank.simnet.generator import generate_graph
from satrank.simnet.network import Network
from tests.cli import run_satrank, satrank_env
from tests.data import MAINNET
from tests.simnet_fixture import SimnetHandle, start_simnet

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


def _hub(graph: ChannelGraph) -> str:
    """The public node with the most channels."""
    degree: collections.Counter[str] = collections.Counter()
    for e in graph.edges:
        degree.update((e.node1_pub, e.node2_pub))
    return degree.most_common(1)[0][0]


async def test_get_info_describe_graph_and_network_info(simnet: SimnetHandle,
                                                        readonly: LndClient) -> None:
    info = await readonly.get_info()
    assert info.identity_pubkey == simnet.oracle_pubkey
    graph = await readonly.describe_graph()
    assert graph.nodes and graph.edges
    known = {n.pubkey for n in graph.nodes}
    assert all({e.node1_pub, e.node2_pub} <= known for e in graph.edges)
    stats = await readonly.get_network_info()
    assert stats.num_nodes == len(graph.nodes)
    assert stats.num_channels == len(graph.edges)
    assert stats.total_capacity_sat == sum(e.capacity_sat for e in graph.edges)
    deferred = await readonly.describe_graph_deferred()
    assert deferred.fingerprint == graph.fingerprint is not None
    # read from the response without the values: the same records the values give
    assert deferred.records() == graph_records(graph)
    assert deferred.graph() == graph and deferred.graph() is deferred.graph()


async def test_node_channel_and_route_lookups_match_the_graph(readonly: LndClient,
                                                              pay: LndClient) -> None:
    graph = await readonly.describe_graph()
    hub = _hub(graph)
    its = [e for e in graph.edges if hub in (e.node1_pub, e.node2_pub)]
    node = await readonly.get_node_info(hub, include_channels=True)
    assert node.node == next(n for n in graph.nodes if n.pubkey == hub)
    assert node.num_channels == len(its) == len(node.channels)
    assert node.total_capacity_sat == sum(e.capacity_sat for e in its)
    assert await readonly.get_chan_info(its[0].channel_id) == its[0]
    with pytest.raises(LightningNotFound):
        await readonly.get_chan_info(1)
    with pytest.raises(LightningNotFound):
        await readonly.get_node_info("02" + secrets.token_hex(32))
    route = await readonly.query_routes(hub, 1_000, fee_limit_sat=PROBE_FEE_LIMIT_SAT)
    assert route is not None and route.hops[-1].pubkey == hub
    assert route.hops[-1].amt_to_forward_msat == 1_000_000
    assert route.total_fees_msat == sum(h.fee_msat for h in route.hops)
    assert route.total_amt_msat == 1_000_000 + route.total_fees_msat
    ours = {c.channel_id for c in await pay.list_channels()}
    assert route.hops[0].channel_id in ours


async def test_list_channels_shows_the_oracles_channels(pay: LndClient,
                                                        readonly: LndClient) -> None:
    channels = await pay.list_channels()
    known = {n.pubkey for n in (await readonly.describe_graph()).nodes}
    assert channels
    for c in channels:
        assert c.remote_pubkey in known
        assert 0 < c.local_balance_sat + c.remote_balance_sat <= c.capacity_sat


async def test_probes_to_the_oracles_peers_reach_them(pay: LndClient) -> None:
    for channel in await pay.list_channels(active_only=True):
        result = await pay.send_probe(channel.remote_pubkey, 1_000,
                                      fee_limit_sat=PROBE_FEE_LIMIT_SAT,
                                      timeout_s=PROBE_TIMEOUT_S)
        assert result.outcome is ProbeOutcome.REACHED, result
        assert result.failure_code == "INCORRECT_OR_UNKNOWN_PAYMENT_DETAILS"
        assert result.failure_source_index == len(result.hops) >= 1
        assert result.hops[-1].pubkey == channel.remote_pubkey
        assert result.failing_channel_id is None and result.attempts >= 1


async def test_probe_to_a_node_nobody_can_forward_to_finds_no_route(
        readonly: LndClient, pay: LndClient) -> None:
    graph = await readonly.describe_graph()
    enabled_in: set[str] = set()
    for e in graph.edges:
        if e.node1_policy is not None and not e.node1_policy.disabled:
            enabled_in.add(e.node2_pub)
        if e.node2_policy is not None and not e.node2_policy.disabled:
            enabled_in.add(e.node1_pub)
    cut_off = [n.pubkey for n in graph.nodes if n.pubkey not in enabled_in]
    assert cut_off, "the generated graph has nodes whose every inbound policy is disabled"
    result = await pay.send_probe(cut_off[0], 1_000, fee_limit_sat=PROBE_FEE_LIMIT_SAT,
                                  timeout_s=PROBE_TIMEOUT_S)
    assert result.outcome is ProbeOutcome.NO_ROUTE, result


def _hidden_truth() -> Network:
    """The fixture's network rebuilt from its seed: which nodes simnet keeps offline."""
    defaults = inspect.signature(start_simnet).parameters
    seed, nodes = defaults["seed"].default, defaults["generate"].default
    return Network(generate_graph(nodes, seed), seed)


async def test_probes_to_offline_nodes_fail_at_the_target(readonly: LndClient,
                                                          pay: LndClient) -> None:
    truth = _hidden_truth()
    assert await readonly.describe_graph() == truth.graph  # same graph, same seed
    online_in: set[str] = set()
    for e in truth.graph.edges:  # offline targets an online peer still forwards to
        for peer, target, policy in ((e.node1_pub, e.node2_pub, e.node1_policy),
                                     (e.node2_pub, e.node1_pub, e.node2_policy)):
            if (policy is not None and not policy.disabled
                    and not truth.offline[truth.index[peer]]):
                online_in.add(target)
    offline = [pk for i, pk in enumerate(truth.pubkeys[:len(truth.graph.nodes)])
               if truth.offline[i] and pk in online_in]
    assert offline
    results = [await pay.send_probe(pk, 1_000, fee_limit_sat=PROBE_FEE_LIMIT_SAT,
                                    timeout_s=PROBE_TIMEOUT_S) for pk in offline[:6]]
    assert not [r for r in results if r.outcome is ProbeOutcome.REACHED]
    at_target = [r for r in results if r.outcome is ProbeOutcome.FAILED_AT_TARGET]
    assert at_target, results
    for r in at_target:  # every HTLC attempt is kept, the last one as the result's route
        assert len(r.htlcs) == r.attempts >= 1 and r.htlcs[-1].hops == r.hops
        assert all(a.status == "FAILED" and a.failure_code for a in r.htlcs)
    for r in at_target:
        assert r.failure_code == "UNKNOWN_NEXT_PEER"  # the last hop cannot find the target
        assert r.failure_source_index == len(r.hops) - 1
        assert r.hops[-1].pubkey == r.destination
        assert r.failing_channel_id == r.hops[-1].channel_id


async def test_invoice_paid_by_the_customer_settles(simnet: SimnetHandle, invoices: LndClient,
                                                    pay: LndClient, tmp_path: Path) -> None:
    earlier = await invoices.add_invoice(1, "marker", 600)
    added = await invoices.add_invoice(21, "satrank test", 600)
    # Replay the adds after `earlier` (add_index 0 would mean "no replay"): the replayed
    # OPEN proves the stream is live before the payment, so its SETTLED cannot be missed.
    events = invoices.subscribe_invoices(add_index=earlier.add_index)
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


async def test_the_tls_cert_is_valid_at_the_worlds_time(simnet: SimnetHandle) -> None:
    # A client living on the world's clock (the calibration bench's crawler under
    # faketime, at a snapshot's date long before today) must accept the node's cert.
    import httpx
    from cryptography import x509

    async with httpx.AsyncClient(base_url=f"http://{simnet.truth_host}", timeout=10) as truth:
        world = (await truth.get("/state")).json()["unix_time"]
    cert = x509.load_pem_x509_certificate((simnet.oracle_dir / "tls.cert").read_bytes())
    assert cert.not_valid_before_utc.timestamp() < world < cert.not_valid_after_utc.timestamp()


async def test_probe_to_a_node_outside_the_graph_finds_no_route(simnet: SimnetHandle,
                                                                 pay: LndClient) -> None:
    stranger = "02" + secrets.token_hex(32)
    result = await pay.send_probe(stranger, 1_000, fee_limit_sat=PROBE_FEE_LIMIT_SAT,
                                  timeout_s=PROBE_TIMEOUT_S)
    assert result.outcome is ProbeOutcome.NO_ROUTE
    assert (result.attempts, result.hops, result.failing_channel_id) == (0, (), None)
    assert await pay.query_routes(stranger, 1_000, fee_limit_sat=PROBE_FEE_LIMIT_SAT) is None


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
    # lnd always sends a funding outpoint: simnet synthesises one where the file has none
    assert all(len(e.chan_point.split(":")[0]) == 64 for e in edges.values())
    assert edges == {e.channel_id: e if e.chan_point else replace(
        e, chan_point=edges[e.channel_id].chan_point) for e in expected.edges}


async def test_a_held_probe_is_followed_until_lnd_reports_it_final(
        pay: LndClient, simnet: SimnetHandle, monkeypatch: pytest.MonkeyPatch) -> None:
    """The target holds the HTLC past the SendPaymentV2 stream's deadline: `until_final`
    follows the payment with TrackPaymentV2 rounds until it resolves; `on_htlc` says the
    HTLC left while it was held."""
    import httpx

    from satrank.lightning import lnd

    monkeypatch.setattr(lnd, "PAYMENT_DEADLINE_MARGIN_S", 0.0)  # the stream ends at 1 s
    monkeypatch.setattr(lnd, "TRACK_ROUND_S", 0.3)
    target = (await pay.list_channels(active_only=True))[-1].remote_pubkey
    sent: list[bool] = []
    async with httpx.AsyncClient(base_url=f"http://{simnet.truth_host}", timeout=10) as truth:
        await truth.post("/hold", params={"target": target})
        try:
            task = asyncio.create_task(pay.send_probe(
                target, 1_000, fee_limit_sat=PROBE_FEE_LIMIT_SAT, timeout_s=1.0,
                on_htlc=lambda: sent.append(True), until_final=True))
            while (await truth.post("/hold", params={"target": target})).json()["held"] < 1:
                await asyncio.sleep(0.05)
            await asyncio.sleep(1.5)  # past the stream's deadline: now tracked
            assert not task.done() and sent
        finally:
            await truth.post("/release", params={"target": target})
        result = await task
    assert result.outcome is ProbeOutcome.REACHED, result
    assert result.attempts == 1 and result.hops[-1].pubkey == target
