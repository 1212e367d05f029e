"""Protobuf messages from lnd -> the frozen values of `backend.py`.

Every conversion of an lnd message lives here so `lnd.py` stays about transport. The graph
converters are the hot path (mainnet: ~13k nodes, ~50k channels, ~100k policies): they read
plain attributes, test sub-message presence once per policy and build tuples directly.
"""

from __future__ import annotations

import hashlib

from satrank.collector import collector_paused
from satrank.lightning import lightning_pb2 as ln
from satrank.lightning.backend import (
    AddedInvoice,
    ChannelBackupSnapshot,
    ChannelGraph,
    DecodedPayReq,
    GraphEdge,
    GraphNode,
    GraphRecords,
    HtlcAttempt,
    InvoiceState,
    InvoiceStatus,
    LocalChannel,
    NetworkStats,
    NodeInfo,
    NodeStatus,
    PaymentResult,
    PaymentStatus,
    PolicyRecord,
    QueriedRoute,
    RouteHop,
    RoutingPolicy,
)

_INVOICE_STATE = {int(v): InvoiceState(ln.Invoice.InvoiceState.Name(v))
                  for v in ln.Invoice.InvoiceState.values()}
_ZERO_PREIMAGE_HEX = "0" * 64
# GetInfo's chains[].network -> the human-readable prefix of that network's invoices
_BOLT11_PREFIX = {"mainnet": "bc", "testnet": "tb", "testnet4": "tb", "signet": "tbs",
                  "regtest": "bcrt", "simnet": "sb"}


def node_status(r: ln.GetInfoResponse) -> NodeStatus:
    return NodeStatus(
        identity_pubkey=r.identity_pubkey.lower(), alias=r.alias, block_height=r.block_height,
        block_hash=r.block_hash, synced_to_chain=r.synced_to_chain,
        synced_to_graph=r.synced_to_graph, num_active_channels=r.num_active_channels,
        num_peers=r.num_peers, version=r.version,
        network=next((_BOLT11_PREFIX.get(c.network) for c in r.chains if c.chain == "bitcoin"),
                     None),
    )


def graph_node(n: ln.LightningNode) -> GraphNode:
    return GraphNode(
        pubkey=n.pub_key.lower(), alias=n.alias, color=n.color,
        addresses=tuple(a.addr for a in n.addresses if a.addr), last_update=n.last_update,
    )


def _policy(p: ln.RoutingPolicy) -> RoutingPolicy:
    return RoutingPolicy(
        p.time_lock_delta, p.min_htlc, p.max_htlc_msat, p.fee_base_msat,
        p.fee_rate_milli_msat, p.disabled, p.last_update, p.inbound_fee_base_msat,
        p.inbound_fee_rate_milli_msat,
    )


def graph_edge(e: ln.ChannelEdge) -> GraphEdge:
    return GraphEdge(
        e.channel_id, e.chan_point, e.node1_pub.lower(), e.node2_pub.lower(), e.capacity,
        e.last_update,
        _policy(e.node1_policy) if e.HasField("node1_policy") else None,
        _policy(e.node2_policy) if e.HasField("node2_policy") else None,
    )


def channel_graph(g: ln.ChannelGraph, *, fingerprint: str | None = None) -> ChannelGraph:
    # ~200k acyclic objects: each young collection would rescan the growing graph (paused,
    # the conversion takes half the time on mainnet, bench/lightning.py)
    with collector_paused():
        return ChannelGraph(nodes=tuple(map(graph_node, g.nodes)),
                            edges=tuple(map(graph_edge, g.edges)), fingerprint=fingerprint)


def _policy_record(p: ln.RoutingPolicy) -> PolicyRecord:
    return (p.time_lock_delta, p.min_htlc, p.max_htlc_msat, p.fee_base_msat,
            p.fee_rate_milli_msat, p.inbound_fee_base_msat, p.inbound_fee_rate_milli_msat,
            p.disabled, p.last_update)


def channel_graph_records(g: ln.ChannelGraph) -> GraphRecords:
    """The same graph as `channel_graph`, as the records a graph sync stages."""
    with collector_paused():
        return GraphRecords(
            nodes=[(n.pub_key.lower(), n.alias, n.color,
                    tuple(a.addr for a in n.addresses if a.addr), n.last_update)
                   for n in g.nodes],
            edges=[(e.channel_id, e.chan_point, e.node1_pub.lower(), e.node2_pub.lower(),
                    e.capacity, e.last_update,
                    _policy_record(e.node1_policy) if e.HasField("node1_policy") else None,
                    _policy_record(e.node2_policy) if e.HasField("node2_policy") else None)
                   for e in g.edges])


def graph_fingerprint(g: ln.ChannelGraph) -> str:
    """sha256 of the response's deterministic encoding (~0.05 s for mainnet's 12 MB)."""
    return hashlib.sha256(g.SerializeToString(deterministic=True)).hexdigest()


def node_info(r: ln.NodeInfo) -> NodeInfo:
    return NodeInfo(node=graph_node(r.node), num_channels=r.num_channels,
                    total_capacity_sat=r.total_capacity,
                    channels=tuple(map(graph_edge, r.channels)))


def route_hops(route: ln.Route) -> tuple[RouteHop, ...]:
    return tuple(RouteHop(channel_id=h.chan_id, pubkey=h.pub_key.lower(),
                          amt_to_forward_msat=h.amt_to_forward_msat, fee_msat=h.fee_msat,
                          expiry=h.expiry) for h in route.hops)


def htlc_attempt(a: ln.HTLCAttempt) -> HtlcAttempt:
    failed = a.HasField("failure")
    return HtlcAttempt(
        hops=route_hops(a.route), status=ln.HTLCAttempt.HTLCStatus.Name(a.status),
        failure_code=ln.Failure.FailureCode.Name(a.failure.code) if failed else None,
        failure_source_index=a.failure.failure_source_index if failed else None)


def queried_route(r: ln.QueryRoutesResponse) -> QueriedRoute | None:
    if not r.routes:
        return None
    route = r.routes[0]
    return QueriedRoute(hops=route_hops(route), total_fees_msat=route.total_fees_msat,
                        total_amt_msat=route.total_amt_msat,
                        total_time_lock=route.total_time_lock, success_prob=r.success_prob)


def added_invoice(r: ln.AddInvoiceResponse) -> AddedInvoice:
    return AddedInvoice(payment_request=r.payment_request, payment_hash=bytes(r.r_hash),
                        add_index=r.add_index)


def invoice_status(i: ln.Invoice) -> InvoiceStatus:
    return InvoiceStatus(
        payment_hash=bytes(i.r_hash), payment_request=i.payment_request, memo=i.memo,
        value_sat=i.value, amt_paid_sat=i.amt_paid_sat, state=_INVOICE_STATE[i.state],
        creation_date=i.creation_date, settle_date=i.settle_date, expiry_s=i.expiry,
        preimage=bytes(i.r_preimage) or None, add_index=i.add_index,
        settle_index=i.settle_index,
    )


def decoded_pay_req(p: ln.PayReq) -> DecodedPayReq:
    return DecodedPayReq(
        destination=p.destination.lower(), payment_hash=bytes.fromhex(p.payment_hash),
        amount_msat=p.num_msat or p.num_satoshis * 1000, timestamp=p.timestamp,
        expiry_s=p.expiry, description=p.description, cltv_expiry=p.cltv_expiry,
        payment_addr=bytes(p.payment_addr),
    )


def local_channel(c: ln.Channel) -> LocalChannel:
    return LocalChannel(
        channel_id=c.chan_id, remote_pubkey=c.remote_pubkey.lower(),
        channel_point=c.channel_point, capacity_sat=c.capacity,
        local_balance_sat=c.local_balance, remote_balance_sat=c.remote_balance,
        active=c.active, private=c.private,
        local_reserve_sat=c.local_constraints.chan_reserve_sat or c.local_chan_reserve_sat,
    )


def network_stats(n: ln.NetworkInfo) -> NetworkStats:
    return NetworkStats(
        num_nodes=n.num_nodes, num_channels=n.num_channels,
        total_capacity_sat=n.total_network_capacity, avg_out_degree=n.avg_out_degree,
        max_out_degree=n.max_out_degree, median_channel_size_sat=n.median_channel_size_sat,
    )


def payment_result(p: ln.Payment) -> PaymentResult:
    """A terminal (or last seen) Payment as a result; hops are the last attempt's route."""
    status = ln.Payment.PaymentStatus.Name(p.status)
    preimage = (bytes.fromhex(p.payment_preimage)
                if p.payment_preimage and p.payment_preimage != _ZERO_PREIMAGE_HEX else None)
    failed = status == "FAILED"
    return PaymentResult(
        payment_hash=bytes.fromhex(p.payment_hash),
        status=PaymentStatus(status) if status in PaymentStatus.__members__
        else PaymentStatus.IN_FLIGHT,
        preimage=preimage,
        failure_reason=ln.PaymentFailureReason.Name(p.failure_reason) if failed else None,
        fee_msat=p.fee_msat,
        hops=route_hops(p.htlcs[-1].route) if p.htlcs else (),
    )


def chan_point(p: ln.ChannelPoint) -> str:
    """lnd's "txid:index" form; the raw txid bytes are in reverse (internal) order."""
    txid = (p.funding_txid_str if p.WhichOneof("funding_txid") == "funding_txid_str"
            else p.funding_txid_bytes[::-1].hex())
    return f"{txid}:{p.output_index}"


def channel_backup_snapshot(s: ln.ChanBackupSnapshot) -> ChannelBackupSnapshot:
    multi = s.multi_chan_backup
    return ChannelBackupSnapshot(multi.multi_chan_backup,
                                 tuple(chan_point(p) for p in multi.chan_points))
