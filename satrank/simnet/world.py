"""The living network: a simulated clock that moves balances, nodes and channels.

`World.advance(dt)` runs the network forward `dt` simulated seconds, in steps of at most
`STEP_S`, each step:
- node churn: every node flips up/down with the hazard of its exponential up or down period
  (flaky nodes have their own, shorter periods);
- background payments: a Poisson number of payments between graph nodes, routed by the same
  RouteFinder as probes and forwarded by the same code; a settled one moves the balances
  along its route, a failed one retries over another route (pruning the failed pair) up to
  `payment_attempts` times;
- channel churn: closes (the channel stops forwarding now, leaves gossip after the lag),
  opens (forwards now, enters gossip after the lag) and policy changes (take effect in
  gossip, and so in pathfinding, after the lag);
- due gossip is applied, in batches every `GOSSIP_BATCH_S`, and `Network.gossip_version`
  bumped, which drops route caches and makes DescribeGraph rebuild.
All randomness comes from one generator seeded from `--seed`, so with time-scale 0 a run is
reproducible. The clock starts at the newest policy update of the graph.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from satrank.lightning.backend import RoutingPolicy
from satrank.simnet.forwarding import forward, settle_balances
from satrank.simnet.network import Network
from satrank.simnet.pathfinding import RouteFinder

STEP_S = 60.0
GOSSIP_BATCH_S = 1800.0  # gossip reaches us in batches: route caches survive between them
DAY_S = 86_400.0
AMOUNT_BUCKETS = 8  # background amounts are rounded to log buckets so route caches hit
BACKGROUND_CLTV = 40


@dataclass
class WorldStats:
    payments: int = 0
    settled: int = 0
    attempts: int = 0
    closes: int = 0
    opens: int = 0
    policy_changes: int = 0
    gossip_flushes: int = 0
    node_flips: int = 0


@dataclass(order=True)
class _Due:
    at_s: float
    seq: int
    apply: Callable[[], None] = field(compare=False)


class World:
    def __init__(self, net: Network, finder: RouteFinder, seed: int) -> None:
        self.net, self.finder, self.params = net, finder, net.params
        self.rng = np.random.default_rng([seed, 0x11FE])
        self.now_s = 0.0  # simulated seconds since start
        self.epoch = int(max((e.last_update for e in net.graph.edges), default=0))
        self.stats = WorldStats()
        self._gossip: list[_Due] = []
        self._seq = 0
        n = net.n_graph_nodes
        self._flaky = net.flaky_p[:n] > 0
        self._up_s, self._down_s = net.mean_up_down_s(self._flaky)
        degree = np.bincount(np.concatenate([net.node1, net.node2]), minlength=net.n_nodes)[:n]
        # payers and payees are drawn by degree: wallets sit behind big LSPs, shops too
        self._pick = (degree / degree.sum()).cumsum() if degree.sum() else np.ones(n) / n
        self._buckets = np.geomspace(1000, self.params.payment_max_sat,
                                     AMOUNT_BUCKETS).astype(np.int64) * 1000

    @property
    def unix_now(self) -> int:
        return self.epoch + int(self.now_s)

    def advance(self, dt_s: float) -> None:
        end = self.now_s + dt_s
        while self.now_s < end:
            step = min(STEP_S, end - self.now_s)
            before = self.now_s
            self.now_s += step
            self._churn_nodes(step)
            self._churn_channels(step)
            if before // GOSSIP_BATCH_S != self.now_s // GOSSIP_BATCH_S:
                self._flush_gossip()
            self._traffic(step)

    # --- nodes ---------------------------------------------------------------------------

    def _churn_nodes(self, dt: float) -> None:
        n = self.net.n_graph_nodes
        offline = self.net.offline[:n]
        mean = np.where(offline, self._down_s, self._up_s)
        flip = self.rng.random(n) < -np.expm1(-dt / mean)
        if flip.any():
            offline ^= flip  # a view: writes through to the network
            self.stats.node_flips += int(flip.sum())

    # --- channels and gossip -------------------------------------------------------------

    def _later(self, apply: Callable[[], None]) -> None:
        self._seq += 1
        heapq.heappush(self._gossip, _Due(self.now_s + self.params.gossip_lag_s, self._seq,
                                          apply))

    def _flush_gossip(self) -> None:
        changed = False
        while self._gossip and self._gossip[0].at_s <= self.now_s:
            heapq.heappop(self._gossip).apply()
            changed = True
        if changed:
            self.net.gossip_version += 1
            self.stats.gossip_flushes += 1

    def _churn_channels(self, dt: float) -> None:
        p, net, rng = self.params, self.net, self.rng
        public = np.flatnonzero(~net.private & ~net.closed)
        if net.announce_own:  # our announced channels stay open
            public = public[(net.node1[public] < net.n_graph_nodes)
                            & (net.node2[public] < net.n_graph_nodes)]
        for c in rng.choice(public, size=min(len(public), rng.poisson(
                p.channel_closes_per_day * len(public) * dt / DAY_S)), replace=False):
            self._close(int(c))
        for _ in range(rng.poisson(p.channel_opens_per_day * len(public) * dt / DAY_S)):
            self._open()
        edges = np.flatnonzero(net.has_policy[: 2 * len(net.chan_ids)])
        for e in rng.choice(edges, size=min(len(edges), rng.poisson(
                p.policy_changes_per_day * len(edges) * dt / DAY_S)), replace=False):
            self._change_policy(int(e))

    def _close(self, c: int) -> None:
        net = self.net
        net.closed[c] = True
        self.stats.closes += 1

        def forget() -> None:
            net.announced[c] = False
            net.enabled[2 * c: 2 * c + 2] = False
        self._later(forget)

    def _open(self) -> None:
        net, rng = self.net, self.rng
        a, b = (int(x) for x in np.searchsorted(self._pick, rng.random(2)))
        if a == b:
            return
        capacity = int(np.clip(rng.lognormal(np.log(2_000_000), 1.2), 50_000, 100_000_000))
        height = net.block_height + int(self.now_s // 600)
        chan_id = height << 40 | int(rng.integers(1, 3000)) << 16 | int(rng.integers(0, 4))
        pols = [RoutingPolicy(time_lock_delta=80, min_htlc_msat=1000, max_htlc_msat=0,
                              fee_base_msat=1000 * int(rng.random() < 0.6),
                              fee_rate_milli_msat=int(rng.lognormal(np.log(90.0), 1.5)),
                              disabled=False, last_update=self.unix_now) for _ in range(2)]
        c = net.open_channel(a, b, capacity, chan_id, pols[0], pols[1], 1.0)
        self.stats.opens += 1

        def announce() -> None:
            net.announced[c] = True
            net.enabled[2 * c: 2 * c + 2] = True
        self._later(announce)

    def _change_policy(self, e: int) -> None:
        net, rng = self.net, self.rng
        rate = int(max(0, round(int(net.fee_rate[e]) * rng.lognormal(0.0, 0.6)
                                + rng.integers(-5, 6))))
        base = int(net.fee_base[e])
        disabled = not bool(net.enabled[e])
        if rng.random() < 0.05:  # now and then a node disables or re-enables a channel
            disabled = not disabled
        self.stats.policy_changes += 1
        when = self.unix_now

        def apply() -> None:
            if not net.closed[e // 2]:
                net.set_policy(e, base, rate, disabled, when)
        self._later(apply)

    # --- traffic -------------------------------------------------------------------------

    def _traffic(self, dt: float) -> None:
        p, rng = self.params, self.rng
        for _ in range(rng.poisson(p.payments_per_hour * dt / 3600.0)):
            a, b = (int(x) for x in np.searchsorted(self._pick, rng.random(2)))
            sat = min(rng.lognormal(np.log(p.payment_median_sat), p.payment_sigma),
                      p.payment_max_sat)
            bucket = self._buckets[min(int(np.searchsorted(self._buckets, sat * 1000)),
                                       AMOUNT_BUCKETS - 1)]
            if a != b and not self.net.offline[a] and not self.net.offline[b]:
                self.pay(a, b, int(bucket))

    def pay(self, payer: int, payee: int, amount_msat: int) -> bool:
        """A background payment; True if it settled (balances then moved)."""
        net = self.net
        self.stats.payments += 1
        pruned: set[tuple[int, int]] = set()
        sender = net.sender(payer)
        for _ in range(self.params.payment_attempts):
            route = self.finder.find_route(sender, payee, amount_msat, BACKGROUND_CLTV, pruned)
            if route is None:
                return False
            self.stats.attempts += 1
            sent = forward(net, route, self.rng)
            if sent.failure is None:
                settle_balances(net, route, sent.used_edges)
                self.stats.settled += 1
                return True
            if sent.failure.pair is not None:
                pruned.add(sent.failure.pair)
        return False
