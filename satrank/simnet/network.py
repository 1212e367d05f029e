"""The simulated network: the public graph as arrays, its hidden state, and our two nodes.

Hidden state, all drawn from `seed` (the same seed gives the same network):
- per-channel balance: node1's share of the capacity ~ Beta(0.3, 0.3), so most channels are
  lopsided, as balance probing on mainnet finds; each side keeps a 1 % channel reserve it
  cannot spend (lnd's default);
- node uptime: each node alternates up and down periods (world.py moves it along the simulated
  clock); at start a node is down with the stationary probability of its churn process,
  independently of the graph's disabled flags, so gossip does not give the answer away;
- flaky nodes: a share (`WorldParams.flaky_share`) churns often and fails a share (10-50 %)
  of the HTLCs it should forward;
- per-node forwarding latency: log-normal, median 40 ms per hop and direction.

The vantage nodes (the oracle first) and the customer are added with private (unannounced)
channels, so DescribeGraph serves the source graph until the world's churn changes it. With
`announce_own` (`satrank simnet --announce-own-channels`) their channels and node
announcements are public instead: they appear in DescribeGraph, route payments of others
like any public node, and need no route hints; the world's churn never closes them.
Directed edge `e` is channel `e // 2` in direction `e % 2` (0: node1 -> node2).
Channels opened later are appended; closed ones stay in the arrays with `closed` set.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace

import coincurve
import numpy as np

from satrank.lightning.backend import ChannelGraph, GraphEdge, GraphNode, RoutingPolicy
from satrank.simnet.keys import node_key, pubkey_hex
from satrank.simnet.params import WorldParams

RESERVE_FRACTION = 0.01
ORACLE_PEERS = 8
CUSTOMER_PEERS = 6
# vantage k >= 1 sits lower in the ranking of well-connected nodes, with fewer channels:
# (share of the ranking skipped, peers, channel size in sat)
VANTAGE_PLACES = ((0.15, 4, 20_000_000), (0.55, 2, 5_000_000))
ORACLE_CHANNEL_SAT = 50_000_000
ORACLE_LOCAL_SHARE = 0.8
CUSTOMER_CHANNEL_SAT = 20_000_000
CUSTOMER_LOCAL_SHARE = 0.9
OWN_POLICY = RoutingPolicy(time_lock_delta=80, min_htlc_msat=1000, max_htlc_msat=0,
                           fee_base_msat=1000, fee_rate_milli_msat=1, disabled=False,
                           last_update=0)


@dataclass
class VirtualNode:
    """A node simnet runs itself (the oracle or the customer)."""

    name: str
    alias: str
    index: int
    key: coincurve.PrivateKey
    pubkey: str
    channels: list[int]  # channel indices, in opening order


@dataclass(frozen=True)
class Sender:
    """Any node that starts a payment: a graph node for background traffic."""

    index: int
    channels: list[int]


class Network:
    """Graph arrays plus hidden state; balances move through `move_balance`, the rest
    through world.py (churn and gossip)."""

    def __init__(self, graph: ChannelGraph, seed: int, params: WorldParams | None = None,
                 vantage: int = 1, announce_own: bool = False) -> None:
        self.graph = graph
        self.announce_own = announce_own
        self.seed = seed
        self.params = params or WorldParams()
        rng = np.random.default_rng([seed, 0xB0B])
        self.pubkeys: list[str] = [n.pubkey for n in graph.nodes]
        self.index: dict[str, int] = {pk: i for i, pk in enumerate(self.pubkeys)}
        for e in graph.edges:  # tolerate dumps whose edges name nodes missing from `nodes`
            for pk in (e.node1_pub, e.node2_pub):
                if pk not in self.index:
                    self.index[pk] = len(self.pubkeys)
                    self.pubkeys.append(pk)
        m = len(graph.edges)
        self.chan_ids: list[int] = [e.channel_id for e in graph.edges]
        self.node1 = np.array([self.index[e.node1_pub] for e in graph.edges], dtype=np.int64)
        self.node2 = np.array([self.index[e.node2_pub] for e in graph.edges], dtype=np.int64)
        self.capacity_msat = np.array([e.capacity_sat for e in graph.edges], dtype=np.int64) * 1000
        self.private = np.zeros(m, dtype=bool)
        policies = [p for e in graph.edges for p in (e.node1_policy, e.node2_policy)]
        self._set_policies(policies)
        self.block_height = max((cid >> 40 for cid in self.chan_ids), default=800_000) + 6
        share = rng.beta(0.3, 0.3, m)
        self.local1_msat = np.rint(self.capacity_msat * share).astype(np.int64)
        self._hide_node_state(rng)
        self.n_graph_nodes = len(self.pubkeys)
        self.oracle = self._attach("oracle", "satrank-oracle", ORACLE_PEERS, 0,
                                   ORACLE_CHANNEL_SAT, ORACLE_LOCAL_SHARE)
        self.vantages = [self.oracle]
        ranked = len(self._well_connected(self.n_graph_nodes, 0))
        for k in range(1, vantage):
            place, peers, size = VANTAGE_PLACES[(k - 1) % len(VANTAGE_PLACES)]
            skip = int(ranked * place) + 7 * ((k - 1) // len(VANTAGE_PLACES))
            self.vantages.append(self._attach(f"vantage-{k}", f"satrank-vantage-{k}", peers,
                                              skip, size, ORACLE_LOCAL_SHARE))
        self.customer = self._attach("customer", "satrank-customer", CUSTOMER_PEERS, 2,
                                     CUSTOMER_CHANNEL_SAT, CUSTOMER_LOCAL_SHARE)
        self.virtual = [*self.vantages, self.customer]
        m_all = len(self.chan_ids)
        self.closed = np.zeros(m_all, dtype=bool)
        self.announced = ~self.private
        # a graph file without funding outpoints gets deterministic ones (lnd always sends one)
        self.edge_objs: list[GraphEdge | None] = [e if e.chan_point else None for e in graph.edges]
        self.edge_objs += [None] * (m_all - m)
        self.gossip_version = 0
        self.chan_index: dict[int, int] = {cid: c for c, cid in enumerate(self.chan_ids)}
        self._pair_channels: dict[tuple[int, int], list[int]] = {}
        self.channels_of: dict[int, list[int]] = {}
        for c in range(m_all):
            self._index_channel(c)

    def _index_channel(self, c: int) -> None:
        a, b = int(self.node1[c]), int(self.node2[c])
        self._pair_channels.setdefault((a, b), []).append(c)
        self._pair_channels.setdefault((b, a), []).append(c)
        self.channels_of.setdefault(a, []).append(c)
        self.channels_of.setdefault(b, []).append(c)

    def own_nodes(self) -> list[GraphNode]:
        """Node announcements of our nodes: none unless their channels are announced."""
        if not self.announce_own:
            return []
        return [GraphNode(pubkey=v.pubkey, alias=v.alias, color="#f7931a", addresses=(),
                          last_update=1_700_000_000) for v in self.virtual]

    def sender(self, node: int) -> Sender:
        return Sender(index=node, channels=[c for c in self.channels_of.get(node, ())
                                            if not self.closed[c]])

    @property
    def n_nodes(self) -> int:
        return len(self.pubkeys)

    def _set_policies(self, policies: list[RoutingPolicy | None]) -> None:
        def col(attr: str) -> np.ndarray:
            return np.array([getattr(p, attr) if p else 0 for p in policies], dtype=np.int64)

        self.has_policy = np.array([p is not None for p in policies], dtype=bool)
        self.policy_update = col("last_update")
        self.enabled = np.array([p is not None and not p.disabled for p in policies], dtype=bool)
        self.fee_base = col("fee_base_msat")
        self.fee_rate = col("fee_rate_milli_msat")
        self.tld = col("time_lock_delta")
        self.min_htlc = col("min_htlc_msat")
        cap = np.repeat(self.capacity_msat, 2)
        max_htlc = col("max_htlc_msat")
        self.max_htlc = np.where(max_htlc > 0, np.minimum(max_htlc, cap), cap)
        self.src = np.stack([self.node1, self.node2], axis=1).reshape(-1)
        self.dst = np.stack([self.node2, self.node1], axis=1).reshape(-1)

    def _hide_node_state(self, rng: np.random.Generator) -> None:
        n, p = self.n_nodes, self.params
        flaky = rng.random(n) < p.flaky_share
        self.flaky_p = np.where(flaky, rng.uniform(0.1, 0.5, n), 0.0)
        up_s, down_s = self.mean_up_down_s(flaky)
        self.offline = rng.random(n) < down_s / (up_s + down_s)
        self.latency_s = rng.lognormal(np.log(0.040), 0.5, n)

    def mean_up_down_s(self, flaky: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Mean up and down period per node (flaky nodes churn on their own, faster, clock)."""
        p = self.params
        up = np.where(flaky, p.flaky_mean_up_h, p.node_mean_up_h) * 3600.0
        down = np.where(flaky, p.flaky_mean_down_h, p.node_mean_down_h) * 3600.0
        return up, down

    def _well_connected(self, count: int, skip: int) -> list[int]:
        """Online, reliable nodes ranked by enabled outgoing capacity, best first."""
        n = self.n_nodes
        out_cap = np.bincount(self.src[self.enabled], weights=np.repeat(
            self.capacity_msat, 2)[self.enabled].astype(np.float64), minlength=n)
        degree = np.bincount(self.src[self.enabled], minlength=n)
        score = np.where(self.offline[:n] | (self.flaky_p[:n] > 0), -1.0,
                         np.log1p(out_cap) * np.log1p(degree))
        ranked = [int(i) for i in np.argsort(-score, kind="stable") if score[i] > 0]
        return ranked[skip:skip + count]

    def _attach(self, name: str, alias: str, n_peers: int, skip: int,
                capacity_sat: int, local_share: float) -> VirtualNode:
        key = node_key(self.seed, name)
        me = len(self.pubkeys)
        node = VirtualNode(name=name, alias=alias, index=me, key=key, pubkey=pubkey_hex(key),
                           channels=[])
        peers = self._well_connected(n_peers, skip)
        self.pubkeys.append(node.pubkey)
        self.index[node.pubkey] = me
        self.offline = np.append(self.offline, False)
        self.flaky_p = np.append(self.flaky_p, 0.0)
        self.latency_s = np.append(self.latency_s, 0.010)
        for k, peer in enumerate(peers):
            c = len(self.chan_ids)
            self.chan_ids.append((self.block_height - 20 - k) << 40 | (1 + me % 1000) << 16 | k)
            self.node1 = np.append(self.node1, me)
            self.node2 = np.append(self.node2, peer)
            cap = capacity_sat * 1000
            self.capacity_msat = np.append(self.capacity_msat, cap)
            self.local1_msat = np.append(self.local1_msat, int(cap * local_share))
            self.private = np.append(self.private, not self.announce_own)
            peer_policy = self._typical_policy(peer)
            self._append_directions(me, peer, cap, OWN_POLICY, peer_policy)
            node.channels.append(c)
        return node

    def _append_directions(self, me: int, peer: int, cap_msat: int, mine: RoutingPolicy,
                           theirs: RoutingPolicy) -> None:
        self.src = np.append(self.src, [me, peer])
        self.dst = np.append(self.dst, [peer, me])
        self.has_policy = np.append(self.has_policy, [True, True])
        self.policy_update = np.append(self.policy_update, [mine.last_update, theirs.last_update])
        self.enabled = np.append(self.enabled, [True, True])
        self.fee_base = np.append(self.fee_base, [mine.fee_base_msat, theirs.fee_base_msat])
        self.fee_rate = np.append(self.fee_rate,
                                  [mine.fee_rate_milli_msat, theirs.fee_rate_milli_msat])
        self.tld = np.append(self.tld, [mine.time_lock_delta, theirs.time_lock_delta])
        self.min_htlc = np.append(self.min_htlc, [1000, 1000])
        self.max_htlc = np.append(self.max_htlc, [cap_msat * 99 // 100] * 2)

    def _typical_policy(self, node: int) -> RoutingPolicy:
        """The median of `node`'s enabled outgoing policies: what it would set towards us."""
        mine = np.flatnonzero((self.src == node) & self.enabled)
        return RoutingPolicy(
            time_lock_delta=int(np.median(self.tld[mine])) if len(mine) else 80,
            min_htlc_msat=1000, max_htlc_msat=0,
            fee_base_msat=int(np.median(self.fee_base[mine])) if len(mine) else 1000,
            fee_rate_milli_msat=int(np.median(self.fee_rate[mine])) if len(mine) else 1,
            disabled=False, last_update=0)

    # --- balances -------------------------------------------------------------------------

    def spendable_msat(self, edge: int) -> int:
        """What the source of directed `edge` can send over its channel now (above reserve)."""
        c, direction = divmod(edge, 2)
        local = int(self.local1_msat[c])
        own = local if direction == 0 else int(self.capacity_msat[c]) - local
        return own - int(self.capacity_msat[c] * RESERVE_FRACTION)

    def forwarding_edge(self, src: int, dst: int, amount_msat: int) -> int | None:
        """Non-strict forwarding, as lnd does: any channel to the next peer that can carry it."""
        for c in self._pair_channels.get((src, dst), ()):
            if self.closed[c]:
                continue
            edge = 2 * c + (0 if int(self.node1[c]) == src else 1)
            if self.spendable_msat(edge) >= amount_msat:
                return edge
        return None

    def move_balance(self, edge: int, amount_msat: int) -> None:
        c, direction = divmod(edge, 2)
        self.local1_msat[c] += -amount_msat if direction == 0 else amount_msat

    def edge_of(self, channel_index: int, src: int) -> int:
        return 2 * channel_index + (0 if int(self.node1[channel_index]) == src else 1)

    # --- channel churn (called by world.py) ----------------------------------------------

    def open_channel(self, a: int, b: int, capacity_sat: int, chan_id: int,
                     pol_a: RoutingPolicy, pol_b: RoutingPolicy, local_share: float) -> int:
        """Append a channel a <-> b, unannounced until gossip catches up; its index."""
        n1, n2 = (a, b) if self.pubkeys[a] < self.pubkeys[b] else (b, a)
        p1, p2 = (pol_a, pol_b) if n1 == a else (pol_b, pol_a)
        c = len(self.chan_ids)
        cap = capacity_sat * 1000
        self.chan_ids.append(chan_id)
        self.chan_index[chan_id] = c
        self.node1 = np.append(self.node1, n1)
        self.node2 = np.append(self.node2, n2)
        self.capacity_msat = np.append(self.capacity_msat, cap)
        self.local1_msat = np.append(self.local1_msat, int(cap * local_share))
        self.private = np.append(self.private, False)
        self.closed = np.append(self.closed, False)
        self.announced = np.append(self.announced, False)
        self._append_directions(n1, n2, cap, p1, p2)
        self.enabled[-2:] = False  # nobody routes over it before its announcement
        self.edge_objs.append(None)
        self._index_channel(c)
        return c

    def set_policy(self, edge: int, fee_base: int, fee_rate: int, disabled: bool,
                   when: int) -> None:
        self.fee_base[edge], self.fee_rate[edge] = fee_base, fee_rate
        self.enabled[edge] = not disabled and bool(self.has_policy[edge])
        self.policy_update[edge] = when
        self.edge_objs[edge // 2] = None

    def public_edge(self, c: int) -> GraphEdge:
        """Channel `c` as gossip now describes it (the source graph's object if unchanged)."""
        cached = self.edge_objs[c]
        if cached is not None:
            return cached
        policies = [self._policy_now(2 * c + d) for d in (0, 1)]
        updates = [p.last_update for p in policies if p is not None]
        base = self.graph.edges[c] if c < len(self.graph.edges) else None
        chan_point = base.chan_point if base is not None and base.chan_point else (
            f"{hashlib.sha256(f'{self.seed}/{self.chan_ids[c]}'.encode()).hexdigest()}:0")
        edge = GraphEdge(
            channel_id=self.chan_ids[c], chan_point=chan_point,
            node1_pub=self.pubkeys[int(self.node1[c])], node2_pub=self.pubkeys[int(self.node2[c])],
            capacity_sat=int(self.capacity_msat[c]) // 1000, last_update=max(updates, default=0),
            node1_policy=policies[0], node2_policy=policies[1])
        self.edge_objs[c] = edge
        return edge

    def _policy_now(self, e: int) -> RoutingPolicy | None:
        if not self.has_policy[e]:
            return None
        c, d = divmod(e, 2)
        base = self.graph.edges[c] if c < len(self.graph.edges) else None
        old = None if base is None else (base.node1_policy if d == 0 else base.node2_policy)
        fresh = RoutingPolicy(
            time_lock_delta=int(self.tld[e]), min_htlc_msat=int(self.min_htlc[e]),
            max_htlc_msat=int(self.max_htlc[e]), fee_base_msat=int(self.fee_base[e]),
            fee_rate_milli_msat=int(self.fee_rate[e]), disabled=not bool(self.enabled[e]),
            last_update=int(self.policy_update[e]))
        if old is None:
            return fresh
        return replace(old, fee_base_msat=fresh.fee_base_msat,
                       fee_rate_milli_msat=fresh.fee_rate_milli_msat, disabled=fresh.disabled,
                       last_update=fresh.last_update)
