"""What happens to one HTLC sent along a route: where it fails and who reports it.

lnd's `failure_source_index` counts route positions: 0 is the sender, i is `hops[i-1]`;
so the final node reports at `len(hops)`. A forwarding node at position i reports
UNKNOWN_NEXT_PEER when its next peer is offline and TEMPORARY_CHANNEL_FAILURE when no
channel to that peer can carry the amount (or, for a flaky node, at random). The final
node reports INCORRECT_OR_UNKNOWN_PAYMENT_DETAILS unless it holds an open invoice the HTLC
pays, which then settles and moves the balances along the edges actually used.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from satrank.simnet.invoices import InvoiceRegistry
from satrank.simnet.network import Network
from satrank.simnet.pathfinding import Route

INCORRECT_DETAILS = "INCORRECT_OR_UNKNOWN_PAYMENT_DETAILS"
TEMPORARY_CHANNEL_FAILURE = "TEMPORARY_CHANNEL_FAILURE"
UNKNOWN_NEXT_PEER = "UNKNOWN_NEXT_PEER"


@dataclass(frozen=True)
class HtlcFailure:
    code: str  # lnrpc.Failure.FailureCode name
    source_index: int
    pair: tuple[int, int] | None  # the node pair to avoid next (None: final failure)
    channel_index: int | None  # channel of the failing hop, as routed
    htlc_msat: int


@dataclass(frozen=True)
class HtlcOutcome:
    failure: HtlcFailure | None  # None: settled
    preimage: bytes | None
    duration_s: float  # simulated wall time of the attempt (before --time-scale)


@dataclass(frozen=True)
class Forwarded:
    failure: HtlcFailure | None  # None: the HTLC reached the final node
    used_edges: list[int]  # the channels actually used (forwarding is non-strict)
    duration_s: float


def forward(net: Network, route: Route, rng: np.random.Generator) -> Forwarded:
    """Walk `route` hop by hop up to the final node; nothing moves yet."""
    hops = route.hops
    used_edges = [hops[0].edge]
    elapsed = 0.0
    for k in range(len(hops)):
        node = hops[k].node
        elapsed += 2 * float(net.latency_s[node])  # there and back
        if k == len(hops) - 1:
            break
        nxt = hops[k + 1].node
        amount = hops[k].amt_to_forward_msat
        fail_code = None
        if net.flaky_p[node] and rng.random() < net.flaky_p[node]:
            fail_code = TEMPORARY_CHANNEL_FAILURE
        elif net.offline[nxt]:
            fail_code = UNKNOWN_NEXT_PEER
        else:
            edge = net.forwarding_edge(node, nxt, amount)
            if edge is None:
                fail_code = TEMPORARY_CHANNEL_FAILURE
            else:
                used_edges.append(edge)
        if fail_code is not None:
            return Forwarded(
                failure=HtlcFailure(code=fail_code, source_index=k + 1, pair=(node, nxt),
                                    channel_index=hops[k + 1].edge // 2, htlc_msat=amount),
                used_edges=used_edges, duration_s=elapsed)
    return Forwarded(failure=None, used_edges=used_edges, duration_s=elapsed)


def settle_balances(net: Network, route: Route, used_edges: list[int]) -> None:
    amounts = [route.total_amt_msat] + [h.amt_to_forward_msat for h in route.hops[:-1]]
    for edge, amount in zip(used_edges, amounts, strict=True):
        net.move_balance(edge, amount)


def send_htlc(net: Network, route: Route, payment_hash: bytes,
              payment_addr: bytes | None, invoices: InvoiceRegistry | None, now: int,
              rng: np.random.Generator, *, dry_run: bool = False) -> HtlcOutcome:
    """Walk `route`; on settlement move balances (atomic: no HTLC is left held).

    `dry_run` answers what would happen without moving balances or settling (truth.py)."""
    sent = forward(net, route, rng)
    if sent.failure is not None:
        return HtlcOutcome(failure=sent.failure, preimage=None, duration_s=sent.duration_s)
    final = route.hops[-1]
    invoice = None if invoices is None else invoices.accepts(
        payment_hash, final.amt_to_forward_msat, payment_addr, now)
    if invoice is None or invoices is None:
        return HtlcOutcome(
            failure=HtlcFailure(code=INCORRECT_DETAILS, source_index=len(route.hops), pair=None,
                                channel_index=None, htlc_msat=final.amt_to_forward_msat),
            preimage=None, duration_s=sent.duration_s)
    if not dry_run:
        settle_balances(net, route, sent.used_edges)
        invoices.settle(payment_hash, final.amt_to_forward_msat, now)
    return HtlcOutcome(failure=None, preimage=invoice.r_preimage, duration_s=sent.duration_s)
