"""Simulation values to lnd's protobuf messages (hex vs bytes exactly as lnd sends them)."""

from __future__ import annotations

from satrank.lightning import bolt11
from satrank.lightning import lightning_pb2 as ln
from satrank.lightning.backend import ChannelGraph, GraphEdge, GraphNode, RoutingPolicy
from satrank.simnet.invoices import Invoice
from satrank.simnet.network import Network
from satrank.simnet.pathfinding import Route
from satrank.simnet.payments import Attempt, Payment

ZERO_PREIMAGE_HEX = "0" * 64


def policy_pb(p: RoutingPolicy) -> ln.RoutingPolicy:
    return ln.RoutingPolicy(
        time_lock_delta=p.time_lock_delta, min_htlc=p.min_htlc_msat,
        fee_base_msat=p.fee_base_msat, fee_rate_milli_msat=p.fee_rate_milli_msat,
        disabled=p.disabled, max_htlc_msat=p.max_htlc_msat, last_update=p.last_update,
        inbound_fee_base_msat=p.inbound_fee_base_msat,
        inbound_fee_rate_milli_msat=p.inbound_fee_rate_milli_msat)


def node_pb(n: GraphNode) -> ln.LightningNode:
    """As lnd marshals it: alias, color and features only from a node announcement (a node
    seen only in channel announcements has none; the graph file says which by its color)."""
    return ln.LightningNode(
        last_update=n.last_update, pub_key=n.pubkey, alias=n.alias, color=n.color,
        addresses=[ln.NodeAddress(network="tcp", addr=a) for a in n.addresses],
        features=features_pb(bolt11.LND_INVOICE_FEATURES) if n.color else {})


def edge_pb(e: GraphEdge) -> ln.ChannelEdge:
    msg = ln.ChannelEdge(channel_id=e.channel_id, chan_point=e.chan_point,
                         last_update=e.last_update, node1_pub=e.node1_pub,
                         node2_pub=e.node2_pub, capacity=e.capacity_sat)
    if e.node1_policy is not None:
        msg.node1_policy.CopyFrom(policy_pb(e.node1_policy))
    if e.node2_policy is not None:
        msg.node2_policy.CopyFrom(policy_pb(e.node2_policy))
    return msg


def graph_pb(graph: ChannelGraph) -> ln.ChannelGraph:
    return ln.ChannelGraph(nodes=[node_pb(n) for n in graph.nodes],
                           edges=[edge_pb(e) for e in graph.edges])


def route_pb(net: Network, route: Route, payment_addr: bytes | None) -> ln.Route:
    hops = []
    for k, h in enumerate(route.hops):
        c = h.edge // 2
        hop = ln.Hop(chan_id=net.chan_ids[c], chan_capacity=int(net.capacity_msat[c]) // 1000,
                     amt_to_forward=h.amt_to_forward_msat // 1000, fee=h.fee_msat // 1000,
                     expiry=h.expiry, amt_to_forward_msat=h.amt_to_forward_msat,
                     fee_msat=h.fee_msat, pub_key=net.pubkeys[h.node], tlv_payload=True)
        if k == len(route.hops) - 1 and payment_addr:
            hop.mpp_record.CopyFrom(ln.MPPRecord(total_amt_msat=h.amt_to_forward_msat,
                                                 payment_addr=payment_addr))
        hops.append(hop)
    return ln.Route(total_time_lock=route.total_time_lock,
                    total_fees=route.total_fees_msat // 1000,
                    total_amt=route.total_amt_msat // 1000, hops=hops,
                    total_fees_msat=route.total_fees_msat, total_amt_msat=route.total_amt_msat,
                    first_hop_amount_msat=route.total_amt_msat)


def attempt_pb(net: Network, a: Attempt, payment_addr: bytes | None) -> ln.HTLCAttempt:
    attempt = ln.HTLCAttempt(
        attempt_id=a.attempt_id, status=a.status,
        route=route_pb(net, a.route, payment_addr), attempt_time_ns=a.attempt_time_ns,
        resolve_time_ns=a.resolve_time_ns, preimage=a.preimage)
    if a.failure is not None:
        attempt.failure.CopyFrom(ln.Failure(
            code=a.failure.code,
            htlc_msat=a.failure.htlc_msat, failure_source_index=a.failure.source_index,
            height=net.block_height))
    return attempt


def payment_pb(net: Network, p: Payment, payment_addr: bytes | None) -> ln.Payment:
    fee_msat = p.fee_msat
    htlcs = [attempt_pb(net, a, payment_addr) for a in p.attempts]
    return ln.Payment(
        payment_hash=p.payment_hash.hex(), value=p.value_msat // 1000,
        creation_date=p.creation_time_ns // 1_000_000_000, fee=fee_msat // 1000,
        payment_preimage=p.preimage.hex() if p.preimage else ZERO_PREIMAGE_HEX,
        value_sat=p.value_msat // 1000, value_msat=p.value_msat,
        payment_request=p.payment_request, status=p.status,
        fee_sat=fee_msat // 1000, fee_msat=fee_msat, creation_time_ns=p.creation_time_ns,
        htlcs=htlcs, payment_index=p.payment_index,
        failure_reason=p.failure_reason)


def hints_pb(hints: tuple[tuple[bolt11.HopHint, ...], ...]) -> list[ln.RouteHint]:
    return [ln.RouteHint(hop_hints=[ln.HopHint(
        node_id=h.node_id.hex(), chan_id=h.chan_id, fee_base_msat=h.fee_base_msat,
        fee_proportional_millionths=h.fee_proportional_millionths,
        cltv_expiry_delta=h.cltv_expiry_delta) for h in hint]) for hint in hints]


def features_pb(bits: tuple[int, ...]) -> dict[int, ln.Feature]:
    names = {8: "tlv-onion", 9: "tlv-onion", 14: "payment-addr", 15: "payment-addr",
             16: "multi-path-payments", 17: "multi-path-payments"}
    return {b: ln.Feature(name=names.get(b, "unknown"), is_required=b % 2 == 0,
                          is_known=b in names) for b in bits}


def invoice_pb(inv: Invoice, hints: list[ln.RouteHint]) -> ln.Invoice:
    return ln.Invoice(
        memo=inv.memo, r_preimage=inv.r_preimage, r_hash=inv.r_hash,
        value=inv.value_msat // 1000, value_msat=inv.value_msat,
        settled=inv.state == 1, creation_date=inv.creation_date, settle_date=inv.settle_date,
        payment_request=inv.payment_request, description_hash=inv.description_hash,
        expiry=inv.expiry, cltv_expiry=inv.cltv_expiry,
        route_hints=hints, private=inv.private,
        add_index=inv.add_index, settle_index=inv.settle_index,
        amt_paid=inv.amt_paid_msat, amt_paid_sat=inv.amt_paid_msat // 1000,
        amt_paid_msat=inv.amt_paid_msat, state=inv.state.name,
        features=features_pb(bolt11.LND_INVOICE_FEATURES), payment_addr=inv.payment_addr)


def payreq_pb(req: bolt11.PaymentRequest) -> ln.PayReq:
    return ln.PayReq(
        destination=req.payee.hex(), payment_hash=req.payment_hash.hex(),
        num_satoshis=req.amount_msat // 1000, timestamp=req.timestamp, expiry=req.expiry_s,
        description=req.description,
        description_hash=req.description_hash.hex() if req.description_hash else "",
        cltv_expiry=req.min_final_cltv, route_hints=hints_pb(req.route_hints),
        payment_addr=req.payment_secret or b"", num_msat=req.amount_msat,
        features=features_pb(req.features))
