"""lnrpc.Lightning for one simulated node, answering as lnd v0.20.3 does."""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import AsyncIterator
from typing import Any

import grpc
import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import shortest_path

from satrank import __version__
from satrank.lightning import bolt11
from satrank.lightning import lightning_pb2 as ln
from satrank.lightning import lightning_pb2_grpc as ln_grpc
from satrank.lightning.backend import GraphEdge
from satrank.simnet import wire
from satrank.simnet.auth import abort
from satrank.simnet.simulator import SimNode, Simulator

LND_VERSION = f"0.20.3-beta commit=satrank-simnet-{__version__}"
MAX_MEMO_CHARS = 1024


class GraphCache:
    """Views of the public graph as gossip now describes it, shared by every node and
    rebuilt only when the world's gossip changed (lnd caches its graph too)."""

    def __init__(self, sim: Simulator) -> None:
        self.sim = sim
        self.net = sim.net
        self._version = -1
        self._graph: ln.ChannelGraph | None = None
        self._network_info: ln.NetworkInfo | None = None
        own = self.net.own_nodes()
        self._nodes_pb = [wire.node_pb(n) for n in (*self.net.graph.nodes, *own)]
        self._edge_pb: dict[int, tuple[GraphEdge, ln.ChannelEdge]] = {}
        self._points: dict[str, int] | None = None
        self.nodes_by_key = {n.pubkey: n for n in (*self.net.graph.nodes, *own)}

    def _fresh(self) -> None:
        if self._version != self.net.gossip_version:
            self._graph = self._network_info = self._points = None
            self._version = self.net.gossip_version

    def public_channels(self) -> np.ndarray:
        return np.flatnonzero(self.net.announced & ~self.net.private)

    def edge_pb(self, c: int) -> ln.ChannelEdge:
        """The message for channel `c`, reused while gossip leaves the channel unchanged."""
        edge = self.net.public_edge(c)
        cached = self._edge_pb.get(c)
        if cached is None or cached[0] is not edge:
            cached = (edge, wire.edge_pb(edge))
            self._edge_pb[c] = cached
        return cached[1]

    def describe_graph(self) -> ln.ChannelGraph:
        self._fresh()
        if self._graph is None:
            self._graph = ln.ChannelGraph(
                nodes=self._nodes_pb, edges=[self.edge_pb(int(c)) for c in self.public_channels()])
        return self._graph

    def channel(self, chan_id: int, chan_point: str) -> int | None:
        """The announced channel with this id (or funding outpoint), if gossip knows it."""
        self._fresh()
        if chan_point:
            if self._points is None:
                self._points = {self.net.public_edge(int(c)).chan_point: int(c)
                                for c in self.public_channels()}
            return self._points.get(chan_point)
        c = self.net.chan_index.get(chan_id)
        if c is None or not self.net.announced[c] or self.net.private[c]:
            return None
        return c

    def channels_of(self, pubkey: str) -> list[int]:
        net = self.net
        node = net.index.get(pubkey)
        return [c for c in net.channels_of.get(node, ()) if net.announced[c]
                and not net.private[c]] if node is not None else []

    def network_info(self) -> ln.NetworkInfo:
        self._fresh()
        if self._network_info is None:
            self._network_info = self._build_network_info()
        return self._network_info

    def _build_network_info(self) -> ln.NetworkInfo:
        net = self.net
        public = self.public_channels()
        caps = net.capacity_msat[public] // 1000
        degree = np.bincount(np.concatenate([net.node1[public], net.node2[public]]),
                             minlength=net.n_graph_nodes)[:net.n_graph_nodes]
        return ln.NetworkInfo(
            graph_diameter=self._diameter_estimate(), num_nodes=len(net.graph.nodes),
            avg_out_degree=float(degree.mean()) if len(degree) else 0.0,
            max_out_degree=int(degree.max()) if len(degree) else 0,
            num_channels=len(public), total_network_capacity=int(caps.sum()),
            avg_channel_size=float(caps.mean()) if len(caps) else 0.0,
            min_channel_size=int(caps.min()) if len(caps) else 0,
            max_channel_size=int(caps.max()) if len(caps) else 0,
            median_channel_size_sat=int(np.median(caps)) if len(caps) else 0)

    def _diameter_estimate(self) -> int:
        """Largest hop distance seen from a few nodes (lnd also samples)."""
        net = self.net
        public = net.announced & ~net.private
        n = net.n_nodes
        rows, cols = net.node1[public], net.node2[public]
        if not len(rows):
            return 0
        matrix = csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(n, n))
        starts = np.unique(np.concatenate([rows[:1], cols[-1:], rows[len(rows) // 2:][:1]]))
        dist = shortest_path(matrix, directed=False, unweighted=True, indices=starts)
        finite = dist[np.isfinite(dist)]
        return int(finite.max()) if len(finite) else 0


class LightningService(ln_grpc.LightningServicer):
    def __init__(self, sim: Simulator, node: SimNode, cache: GraphCache) -> None:
        self.sim, self.node, self.cache = sim, node, cache
        self.net = sim.net
        self._hints = wire.hints_pb(sim.route_hints(node.node))

    async def GetInfo(self, request: Any, context: Any) -> ln.GetInfoResponse:
        net, me = self.net, self.node.node
        active = sum(1 for c in me.channels if not net.offline[self._peer(c)])
        height = net.block_height
        return ln.GetInfoResponse(
            identity_pubkey=me.pubkey, alias=me.alias, num_active_channels=active,
            num_inactive_channels=len(me.channels) - active, num_peers=active,
            block_height=height, block_hash=hashlib.sha256(str(height).encode()).hexdigest(),
            synced_to_chain=True, synced_to_graph=True, best_header_timestamp=int(time.time()),
            version=LND_VERSION, commit_hash="satrank-simnet", color="#3399ff",
            chains=[ln.Chain(chain="bitcoin", network="mainnet")],
            features=wire.features_pb(bolt11.LND_INVOICE_FEATURES))

    def _peer(self, c: int) -> int:
        net, me = self.net, self.node.node.index
        return int(net.node2[c]) if int(net.node1[c]) == me else int(net.node1[c])

    async def DescribeGraph(self, request: Any, context: Any) -> ln.ChannelGraph:
        return self.cache.describe_graph()

    async def GetNodeInfo(self, request: Any, context: Any) -> ln.NodeInfo:
        node = self.cache.nodes_by_key.get(request.pub_key.lower())
        if node is None:
            await abort(context, grpc.StatusCode.NOT_FOUND, "unable to find node")
        chans = self.cache.channels_of(node.pubkey)
        return ln.NodeInfo(
            node=wire.node_pb(node), num_channels=len(chans),
            total_capacity=int(self.net.capacity_msat[chans].sum()) // 1000 if chans else 0,
            channels=[self.cache.edge_pb(c) for c in chans] if request.include_channels else [])

    async def GetChanInfo(self, request: Any, context: Any) -> ln.ChannelEdge:
        c = self.cache.channel(request.chan_id, request.chan_point)
        if c is None:
            await abort(context, grpc.StatusCode.NOT_FOUND, "edge not found")
        return self.cache.edge_pb(c)

    async def GetNetworkInfo(self, request: Any, context: Any) -> ln.NetworkInfo:
        return self.cache.network_info()

    async def AddInvoice(self, request: Any, context: Any) -> ln.AddInvoiceResponse:
        if request.value and request.value_msat:
            await abort(context, grpc.StatusCode.UNKNOWN,
                                "value and value_msat are mutually exclusive")
        value_msat = request.value_msat or request.value * 1000
        if value_msat < 0:
            await abort(context, grpc.StatusCode.UNKNOWN, "payments of negative value are not "
                                "allowed")
        if len(request.memo) > MAX_MEMO_CHARS:
            await abort(context, grpc.StatusCode.UNKNOWN,
                                f"memo too large: {len(request.memo)} bytes "
                                f"(maxsize={MAX_MEMO_CHARS})")
        if request.r_preimage and len(request.r_preimage) != 32:
            await abort(context, grpc.StatusCode.UNKNOWN, "preimage must be exactly 32 bytes")
        if request.description_hash and len(request.description_hash) != 32:
            await abort(context, grpc.StatusCode.UNKNOWN,
                                "description hash must be exactly 32 bytes")
        try:
            inv = self.sim.add_invoice(
                self.node, value_msat=value_msat, memo=request.memo, expiry_s=request.expiry,
                preimage=request.r_preimage or None,
                description_hash=request.description_hash or None,
                cltv_expiry=request.cltv_expiry)
        except KeyError:
            await abort(context, grpc.StatusCode.ALREADY_EXISTS,
                                "invoice with payment hash already exists")
        return ln.AddInvoiceResponse(r_hash=inv.r_hash, payment_request=inv.payment_request,
                                     add_index=inv.add_index, payment_addr=inv.payment_addr)

    async def LookupInvoice(self, request: Any, context: Any) -> ln.Invoice:
        r_hash = request.r_hash
        if not r_hash and request.r_hash_str:
            try:
                r_hash = bytes.fromhex(request.r_hash_str)
            except ValueError:
                await abort(context, grpc.StatusCode.UNKNOWN, "unable to decode r_hash_str")
        if len(r_hash) != 32:
            await abort(context, grpc.StatusCode.UNKNOWN, "payment hash must be exactly 32 "
                                f"bytes, is instead {len(r_hash)}")
        inv = self.node.invoices.lookup(r_hash)
        if inv is None:
            await abort(context, grpc.StatusCode.NOT_FOUND, "unable to locate invoice")
        return wire.invoice_pb(inv, self._hints)

    async def SubscribeInvoices(self, request: Any, context: Any) -> AsyncIterator[ln.Invoice]:
        async for inv in self.node.invoices.subscribe(request.add_index, request.settle_index):
            yield wire.invoice_pb(inv, self._hints)

    async def DecodePayReq(self, request: Any, context: Any) -> ln.PayReq:
        try:
            req = bolt11.decode(request.pay_req)
        except bolt11.InvalidPaymentRequest as exc:
            await abort(context, grpc.StatusCode.UNKNOWN, f"invalid payment request: {exc}")
        return wire.payreq_pb(req)

    async def QueryRoutes(self, request: Any, context: Any) -> ln.QueryRoutesResponse:
        if request.amt and request.amt_msat:
            await abort(context, grpc.StatusCode.UNKNOWN,
                                "sat and msat arguments are mutually exclusive")
        dest = self.net.index.get(request.pub_key.lower())
        amount_msat = request.amt_msat or request.amt * 1000
        pruned = {(self.net.index.get(getattr(p, "from").hex(), -1),
                   self.net.index.get(p.to.hex(), -1)) for p in request.ignored_pairs}
        for raw in request.ignored_nodes:
            ignored = self.net.index.get(raw.hex())
            if ignored is not None:  # a node is avoided by avoiding every pair into it
                pruned |= {(int(a), ignored) for a in self.net.src[self.net.dst == ignored]}
        route = None
        if dest is not None and dest < self.net.n_nodes:
            finder = self.sim.finder
            route = finder.find_route(self.node.node, dest, amount_msat,
                                      request.final_cltv_delta or bolt11.DEFAULT_MIN_FINAL_CLTV,
                                      pruned)
        if route is None:
            await abort(context, grpc.StatusCode.UNKNOWN,
                                "unable to find a path to destination")
        return ln.QueryRoutesResponse(routes=[wire.route_pb(self.net, route, None)],
                                      success_prob=0.6 ** len(route.hops))

    async def ChannelBalance(self, request: Any, context: Any) -> ln.ChannelBalanceResponse:
        net, me = self.net, self.node.node.index
        local = sum(max(0, net.spendable_msat(net.edge_of(c, me))
                        + int(net.capacity_msat[c]) // 100) for c in self.node.node.channels)
        total = sum(int(net.capacity_msat[c]) for c in self.node.node.channels)

        def amount(msat: int) -> ln.Amount:
            return ln.Amount(sat=msat // 1000, msat=msat)
        zero = amount(0)
        return ln.ChannelBalanceResponse(
            balance=local // 1000, local_balance=amount(local),
            remote_balance=amount(total - local), unsettled_local_balance=zero,
            unsettled_remote_balance=zero, pending_open_local_balance=zero,
            pending_open_remote_balance=zero)

    async def ListChannels(self, request: Any, context: Any) -> ln.ListChannelsResponse:
        net, me = self.net, self.node.node.index
        out = []
        for c in self.node.node.channels:
            peer = self._peer(c)
            active = not bool(net.offline[peer])
            if (request.active_only and not active) or (request.inactive_only and active):
                continue
            if (request.public_only and net.private[c]) or (
                    request.private_only and not net.private[c]):
                continue
            if request.peer and request.peer.hex() != net.pubkeys[peer]:
                continue
            cap_sat = int(net.capacity_msat[c]) // 1000
            local_sat = (net.spendable_msat(net.edge_of(c, me)) // 1000
                         + cap_sat // 100)
            reserve = cap_sat // 100
            out.append(ln.Channel(
                active=active, remote_pubkey=net.pubkeys[peer],
                channel_point=f"{hashlib.sha256(str(net.chan_ids[c]).encode()).hexdigest()}:0",
                chan_id=net.chan_ids[c], capacity=cap_sat, local_balance=local_sat,
                remote_balance=cap_sat - local_sat, private=bool(net.private[c]), initiator=True,
                chan_status_flags="ChanStatusDefault", local_chan_reserve_sat=reserve,
                remote_chan_reserve_sat=reserve, commitment_type=ln.ANCHORS,
                lifetime=86_400, uptime=86_400))
        return ln.ListChannelsResponse(channels=out)

    # ---------------------------------------------------------- static channel backups

    def _backup_snapshot(self) -> ln.ChanBackupSnapshot:
        """The node's channels as lnd's ChanBackupSnapshot. The blobs are opaque bytes
        derived from the node key and channel ids (lnd's are encrypted with a seed key):
        stable while the channels are, different when they change."""
        net, me = self.net, self.node.node
        singles, points = [], []
        for c in sorted(me.channels, key=lambda c: int(net.chan_ids[c])):
            txid = hashlib.sha256(str(net.chan_ids[c]).encode()).digest()
            point = ln.ChannelPoint(funding_txid_bytes=txid[::-1], output_index=0)
            blob = hashlib.sha256(me.pubkey.encode() + txid).digest()
            singles.append(ln.ChannelBackup(chan_point=point, chan_backup=blob))
            points.append(point)
        multi = b"simnet-scb-v1" + b"".join(s.chan_backup for s in singles)
        return ln.ChanBackupSnapshot(
            single_chan_backups=ln.ChannelBackups(chan_backups=singles),
            multi_chan_backup=ln.MultiChanBackup(chan_points=points, multi_chan_backup=multi))

    async def ExportAllChannelBackups(self, request: Any, context: Any,
                                      ) -> ln.ChanBackupSnapshot:
        return self._backup_snapshot()

    async def SubscribeChannelBackups(self, request: Any, context: Any,
                                      ) -> AsyncIterator[ln.ChanBackupSnapshot]:
        # lnd sends a snapshot only when a channel opens or closes; simnet's channels never
        # do, so the stream stays open and silent until the client cancels it.
        await asyncio.Event().wait()
        yield self._backup_snapshot()
