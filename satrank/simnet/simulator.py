"""The whole simulation: the network, its world clock, and per virtual node its invoices
and router.

The world clock: with `--time-scale` > 0, `run_clock` advances the world by the wall time
passed divided by the scale; with 0 (as fast as possible) the clock is driven by activity,
each payment attempt advancing it by the attempt's simulated duration, and benches may
advance it explicitly (truth.py's /advance)."""

from __future__ import annotations

import asyncio
import hashlib
import os
import time
from dataclasses import dataclass

from satrank.lightning import bolt11
from satrank.simnet.invoices import Invoice, InvoiceRegistry
from satrank.simnet.network import Network, VirtualNode
from satrank.simnet.pathfinding import RouteFinder
from satrank.simnet.payments import Holds, Router
from satrank.simnet.world import World

CLOCK_TICK_S = 0.5  # wall seconds between world steps when time runs (time-scale > 0)

DEFAULT_INVOICE_EXPIRY_S = 86_400  # lnd's default invoice expiry
DEFAULT_INVOICE_CLTV = 80  # lnd's default min_final_cltv_expiry for its invoices
NETWORK_HRP = "bc"  # the mainnet graph is served, so invoices are mainnet's


@dataclass
class SimNode:
    node: VirtualNode
    invoices: InvoiceRegistry
    router: Router


class Simulator:
    def __init__(self, net: Network, *, time_scale: float, seed: int) -> None:
        self.net = net
        self.finder = RouteFinder(net)
        self.world = World(net, self.finder, seed)
        self.time_scale = time_scale
        self.nodes: dict[str, SimNode] = {}
        self.holds = Holds()  # shared by every router: a held destination holds them all
        for vnode in net.virtual:
            self.nodes[vnode.name] = SimNode(
                node=vnode, invoices=InvoiceRegistry(),
                router=Router(net, self.finder, vnode, self._invoices_of, time_scale, seed,
                              self.elapse, self.holds))

    def elapse(self, dt_s: float) -> None:
        """Activity took `dt_s` simulated seconds: the clock follows it at time-scale 0."""
        if self.time_scale == 0:
            self.world.advance(dt_s)

    async def run_clock(self) -> None:
        """Keep the world moving with the wall clock (only when time runs, time-scale > 0)."""
        if self.time_scale == 0:
            return
        last = time.monotonic()
        while True:
            await asyncio.sleep(CLOCK_TICK_S)
            now = time.monotonic()
            self.world.advance((now - last) / self.time_scale)
            last = now

    def _invoices_of(self, index: int) -> InvoiceRegistry | None:
        for sim in self.nodes.values():
            if sim.node.index == index:
                return sim.invoices
        return None

    def route_hints(self, vnode: VirtualNode) -> tuple[tuple[bolt11.HopHint, ...], ...]:
        """One hint per private channel whose peer can pay in, as lnd's `private` invoices."""
        net = self.net
        hints = []
        for c in vnode.channels:
            if not net.private[c]:
                continue  # lnd hints private channels only
            inbound = net.edge_of(c, int(net.node2[c]) if int(net.node1[c]) == vnode.index
                                  else int(net.node1[c]))
            peer = int(net.src[inbound])
            hints.append((bolt11.HopHint(
                node_id=bytes.fromhex(net.pubkeys[peer]), chan_id=net.chan_ids[c],
                fee_base_msat=int(net.fee_base[inbound]),
                fee_proportional_millionths=int(net.fee_rate[inbound]),
                cltv_expiry_delta=int(net.tld[inbound])),))
        return tuple(hints)

    def add_invoice(self, sim: SimNode, *, value_msat: int, memo: str, expiry_s: int,
                    preimage: bytes | None, description_hash: bytes | None,
                    cltv_expiry: int) -> Invoice:
        """lnd's AddInvoice: a fresh preimage and payment secret, a signed BOLT11."""
        preimage = preimage or os.urandom(32)
        r_hash = hashlib.sha256(preimage).digest()
        payment_addr = os.urandom(32)
        now = int(time.time())
        expiry_s = expiry_s or DEFAULT_INVOICE_EXPIRY_S
        cltv_expiry = cltv_expiry or DEFAULT_INVOICE_CLTV
        request = bolt11.PaymentRequest(
            network=NETWORK_HRP, amount_msat=value_msat, timestamp=now, payment_hash=r_hash,
            payment_secret=payment_addr, description=memo, description_hash=description_hash,
            expiry_s=expiry_s, min_final_cltv=cltv_expiry,
            route_hints=self.route_hints(sim.node), features=bolt11.LND_INVOICE_FEATURES)
        text = bolt11.encode(request, sim.node.key)
        return sim.invoices.add(Invoice(
            memo=memo, r_preimage=preimage, r_hash=r_hash, value_msat=value_msat,
            creation_date=now, expiry=expiry_s, cltv_expiry=cltv_expiry, payment_request=text,
            payment_addr=payment_addr, description_hash=description_hash or b"",
            private=True, add_index=sim.invoices.next_add_index()))
