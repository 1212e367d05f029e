"""The intent snapshot: what POST /api/intent answers from, in each api worker's memory.

A snapshot holds the graph as directed edges with their channel-knowledge bounds, one
search graph (CSR costs) per search amount, the reference payer's shortest-path trees on
each, and every node's score fields. The reference payer is the one the grid measured
from (scoring_state.payer_sources): our node when the graph has it, else, as scoring
placed it, a private payer entering at our channels' peers (or at the central hubs);
the largest node only while no scoring pass has said. It is built off the request path
(a background task of the worker: the database read is async, the numpy work runs in a
thread) whenever the data version moves or the reference payer becomes known, and
published by rebinding one attribute: a request takes `snapshots.current` once and uses
that object throughout, so it never sees half of one. The old snapshot is dropped when
its last request ends.

Trees of other payers are computed on first use (one Dijkstra, a few ms on mainnet) and
kept per snapshot in a small LRU: an agent asks about many payments from its own node. A
private caller (its channels are not in the graph) is known by its channels' peers: its
tree is composed from theirs.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Literal, TypeVar

import numpy as np

from satrank.api.cache.version import DataVersion
from satrank.db.intent import IntentInputs, KnowledgeLoader, NodeScores, load_intent_inputs
from satrank.db.knowledge import load_channel_knowledge
from satrank.db.pool import Pool, connection
from satrank.scoring.graph import GraphArrays
from satrank.scoring.knowledge import ChannelKnowledge, edge_bounds
from satrank.scoring.payment import (
    PRIVATE_PAYER,
    SEARCH_AMOUNTS_SAT,
    DirectedEdges,
    HintHop,
    PaymentEstimate,
    SearchGraph,
    Tree,
    directed_edges,
    estimate_payment,
    fee_tree,
    first_hops,
    normal_fee_budget_sat,
    private_fee_tree,
    search_amount,
    search_amount_above,
    search_graph,
    shortest_tree,
    tree_through_peers,
)
from satrank.scoring.tiers import DEFAULT_TIER_SAT

_log = logging.getLogger(__name__)

PAYER_TREES = 256  # (payer, search amount) trees kept per snapshot: 12 bytes a node each
COMPOSED_PEERS_MAX = 8  # a new payer's tree from its peers' trees when all are known
FEE_TREES = 64  # payers' cheapest-fee trees, asked only when no route by cost fits
REFERENCE_ESTIMATES = 4096  # the reference payer's (target, amount, budget) estimates
RETRY_BUILD_S = 10.0

PayerBasis = Literal["caller", "caller_peers", "reference_unknown_caller",
                     "reference_private_caller", "reference_no_caller"]
# our node in the graph; our vantage nodes through their channels' peers (private) or
# themselves (public); the hubs scoring falls back to; the largest node (nothing stored)
ReferenceKind = Literal["our_node", "our_channels", "vantage_node", "hubs", "largest_node"]

_K = TypeVar("_K", bound=Hashable)
_V = TypeVar("_V")


def _lru(cache: OrderedDict[_K, _V], key: _K, make: Callable[[], _V], limit: int) -> _V:
    """`key`'s value in `cache`, else `make()`'s, kept; past `limit` entries the least
    recently used one leaves."""
    found = cache.get(key)
    if found is not None:
        cache.move_to_end(key)
        return found
    found = make()
    cache[key] = found
    if len(cache) > limit:
        cache.popitem(last=False)
    return found


@dataclass(frozen=True)
class IntentEstimate:
    payer: int  # graph index; PRIVATE_PAYER for a caller known by its peers
    payer_basis: PayerBasis
    payment: PaymentEstimate
    # the reference payer at the same amount and budget: what the stored grid measured
    reference: PaymentEstimate
    peers: tuple[int, ...] = ()  # the private caller's peers the payment started from

    @property
    def payer_moved(self) -> bool:
        return self.payment is not self.reference


@dataclass(frozen=True)
class IntentSnapshot:
    version: Hashable
    built_unix: float
    pubkeys: tuple[str, ...]
    aliases: tuple[str, ...]
    index: dict[str, int]
    by_hash: dict[str, int]
    inputs: IntentInputs
    edges: DirectedEdges
    searches: dict[int, SearchGraph]
    # graph index of the reference payer; PRIVATE_PAYER when it enters at
    # `reference_peers`; with no trees (an empty graph) nobody
    reference: int
    reference_kind: ReferenceKind
    reference_trees: dict[int, Tree]
    _trees: OrderedDict[tuple[int, int], Tree] = field(default_factory=OrderedDict,
                                                       repr=False)
    _reference_estimates: OrderedDict[tuple[int, int, float], PaymentEstimate] = field(
        default_factory=OrderedDict, repr=False)
    _fee_trees: OrderedDict[tuple[int | tuple[int, ...], int], Tree] = field(
        default_factory=OrderedDict, repr=False)
    reference_peers: tuple[int, ...] = ()

    @property
    def reference_is_ours(self) -> bool:
        return self.reference_kind in ("our_node", "our_channels", "vantage_node")

    def lookup(self, kind: str, value: str) -> int | None:
        return (self.index if kind == "pubkey" else self.by_hash).get(value)

    def _known_tree(self, node: int, amount: int) -> Tree | None:
        if node == self.reference:
            return self.reference_trees[amount]
        found = self._trees.get((node, amount))
        if found is not None:
            self._trees.move_to_end((node, amount))
        return found

    def _computed_tree(self, node: int, amount: int) -> Tree:
        found = shortest_tree(self.searches[amount], node)
        self._trees[(node, amount)] = found
        if len(self._trees) > PAYER_TREES:
            self._trees.popitem(last=False)
        return found

    def tree(self, payer: int, amount: int) -> Tree:
        """The payer's cheapest-route tree at a search amount. A new payer with one peer (a
        wallet behind its LSP) or whose peers' trees are all known gets it from theirs
        (`payment.tree_through_peers`, not kept: it is cheap); only other payers run a
        Dijkstra of their own, kept in the LRU. The peer's tree, once computed, serves every
        payer behind the same peer."""
        found = self._known_tree(payer, amount)
        if found is not None:
            return found
        hops = first_hops(self.searches[amount], payer)
        known = {v: self._known_tree(v, amount) for v in hops}
        if len(hops) == 1 or (len(hops) <= COMPOSED_PEERS_MAX
                              and all(t is not None for t in known.values())):
            peers = {v: (cost, known[v] or self._computed_tree(v, amount))
                     for v, cost in hops.items()}
            return tree_through_peers(payer, peers, len(self.pubkeys))
        return self._computed_tree(payer, amount)

    def fee_tree(self, payer: int, amount: int) -> Tree:
        """The payer's cheapest-fee tree (the search by fee when no route by cost fits the
        budget), kept in a small LRU of its own."""
        return _lru(self._fee_trees, (payer, amount),
                    lambda: fee_tree(self.searches[amount], payer), FEE_TREES)

    def private_tree(self, peers: tuple[int, ...], amount: int) -> Tree:
        """A private payer's cheapest-route tree: its peers' trees (each computed once and
        kept like any payer's), its own hops to them free."""
        trees = {v: (0.0, self._known_tree(v, amount) or self._computed_tree(v, amount))
                 for v in peers}
        return tree_through_peers(PRIVATE_PAYER, trees, len(self.pubkeys))

    def private_fee_tree(self, peers: tuple[int, ...], amount: int) -> Tree:
        return _lru(self._fee_trees, (peers, amount),
                    lambda: private_fee_tree(self.searches[amount], peers), FEE_TREES)

    def _reference_fees(self, amount: int) -> Tree:
        if self.reference == PRIVATE_PAYER:
            return self.private_fee_tree(self.reference_peers, amount)
        return self.fee_tree(self.reference, amount)

    def reference_estimate(self, target: int, hints: tuple[tuple[HintHop, ...], ...],
                           amount_sat: int, max_fee_sat: float) -> PaymentEstimate:
        """The reference payer's payment: the same for every caller, so kept per (target,
        amount, budget) in a small LRU (invoices with hints aside)."""

        def estimate() -> PaymentEstimate:
            return self._payment(self.reference_trees.__getitem__, self._reference_fees,
                                 target, hints, amount_sat, max_fee_sat)

        if hints:
            return estimate()
        return _lru(self._reference_estimates, (target, amount_sat, float(max_fee_sat)),
                    estimate, REFERENCE_ESTIMATES)

    def _payment(self, tree_at: Callable[[int], Tree], fees_at: Callable[[int], Tree],
                 target: int, hints: tuple[tuple[HintHop, ...], ...], amount_sat: int,
                 max_fee_sat: float) -> PaymentEstimate:
        """The payment on the search graph at or below its amount (`tree_at`/`fees_at`: the
        payer's trees at a search amount); when no route there carries it within the
        budget, on the next one above: the cheapest path through a last hop may cross a
        channel between the two amounts and be dropped when priced, while a path over
        channels that all carry the payment exists (lnd searches at the exact amount)."""
        bucket = search_amount(amount_sat)
        found = estimate_payment(self.edges, self.searches[bucket], tree_at(bucket), target,
                                 hints, amount_sat, max_fee_sat, lambda: fees_at(bucket))
        above = search_amount_above(amount_sat)
        if (found.routes or not found.short or above is None or above == bucket
                or above not in self.searches):
            # the graph above is a part of this one (fewer channels carry more): only a
            # path dropped for a channel too small for the exact amount can be replaced
            # there; without one, a caller is spared a second Dijkstra
            return found
        return estimate_payment(self.edges, self.searches[above], tree_at(above), target,
                                hints, amount_sat, max_fee_sat, lambda: fees_at(above))

    def reference_tier(self, target: int, hints: tuple[tuple[HintHop, ...], ...]
                       ) -> PaymentEstimate:
        """The reference payer at the tier amount and normal budget: what a node's default
        p_success measured (read for a node scored without a grid)."""
        return self.reference_estimate(target, hints, DEFAULT_TIER_SAT,
                                       normal_fee_budget_sat(DEFAULT_TIER_SAT))

    def can_pay(self, node: int, amount: int) -> bool:
        """The node has a usable public channel out at this search amount."""
        indptr = self.searches[amount].matrix.indptr
        return bool(indptr[node + 1] > indptr[node])

    def estimate(self, caller: int | None, caller_given: bool, target: int,
                 hints: tuple[tuple[HintHop, ...], ...], amount_sat: int,
                 max_fee_sat: float, peers: tuple[int, ...] = ()) -> IntentEstimate:
        """`peers`: a private caller's channel peers (graph indices, sorted), used when the
        caller has no usable public channel of its own."""
        if not self.reference_trees:  # an empty graph: nobody pays anybody
            none = PaymentEstimate(0.0, ())
            return IntentEstimate(-1, "reference_no_caller", none, none)
        bucket = search_amount(amount_sat)
        basis: PayerBasis = "caller"
        if caller is None or not self.can_pay(caller, bucket):
            if peers:
                basis = "caller_peers"
            elif caller is None:
                basis = "reference_unknown_caller" if caller_given else "reference_no_caller"
            else:
                basis = "reference_private_caller"
        reference = self.reference_estimate(target, hints, amount_sat, max_fee_sat)
        if basis == "caller_peers" and peers == self.reference_peers:  # the grid's own payer
            return IntentEstimate(PRIVATE_PAYER, basis, reference, reference, peers)
        if basis == "caller_peers":
            payment = self._payment(lambda a: self.private_tree(peers, a),
                                    lambda a: self.private_fee_tree(peers, a), target, hints,
                                    amount_sat, max_fee_sat)
            return IntentEstimate(PRIVATE_PAYER, basis, payment, reference, peers)
        if basis != "caller" or caller == self.reference:
            return IntentEstimate(self.reference, basis, reference, reference)
        assert caller is not None
        payment = self._payment(lambda a: self.tree(caller, a),
                                lambda a: self.fee_tree(caller, a), target, hints, amount_sat,
                                max_fee_sat)
        return IntentEstimate(caller, basis, payment, reference)


def _same_knowledge(a: ChannelKnowledge, b: ChannelKnowledge) -> bool:
    return all(np.array_equal(x, y) for x, y in zip(
        (a.channel_id, a.direction, a.carried_sat, a.carried_unix, a.failed_sat,
         a.failed_unix),
        (b.channel_id, b.direction, b.carried_sat, b.carried_unix, b.failed_sat,
         b.failed_unix), strict=True))


@dataclass(frozen=True)
class Reference:
    index: int  # graph index, PRIVATE_PAYER (enters at `peers`), or -1: an empty graph
    kind: ReferenceKind
    peers: tuple[int, ...] = ()


def _reference(graph: GraphArrays, index: dict[str, int], our_pubkey: str | None,
               scores: NodeScores) -> Reference:
    """The payer the grid measured from (module docstring)."""
    if not graph.n_nodes:
        return Reference(-1, "largest_node")  # nobody: the estimates answer "no route"
    ours = index.get(our_pubkey or "", -1)
    if ours >= 0:
        return Reference(ours, "our_node")
    sources = sorted({index[p] for p in scores.payer_sources if p in index})
    if sources and scores.payer_sources_free:
        return Reference(sources[0], "vantage_node")
    if sources:
        hubs = (scores.grid_payer or "").startswith("hubs:")
        return Reference(PRIVATE_PAYER, "hubs" if hubs else "our_channels", tuple(sources))
    capacity = np.bincount(np.concatenate([graph.node1, graph.node2]),
                           weights=np.concatenate([graph.capacity_sat] * 2),
                           minlength=graph.n_nodes)
    return Reference(int(np.argmax(capacity)), "largest_node")


def _reference_trees(searches: dict[int, SearchGraph], reference: Reference, n_nodes: int
                     ) -> dict[int, Tree]:
    if reference.index == PRIVATE_PAYER:
        return {a: tree_through_peers(PRIVATE_PAYER, {v: (0.0, shortest_tree(s, v))
                                                      for v in reference.peers}, n_nodes)
                for a, s in searches.items()}
    if reference.index < 0:
        return {}
    return {a: shortest_tree(s, reference.index) for a, s in searches.items()}


def build_snapshot(inputs: IntentInputs, *, version: Hashable, our_pubkey: str | None,
                   now_unix: float, previous: IntentSnapshot | None = None
                   ) -> IntentSnapshot:
    """CPU only (run it in a thread): every search graph and the reference payer's trees,
    or those of `previous` when its graph, knowledge and reference payer are the same (a
    scoring pass without a graph change: only the node scores are new)."""
    graph = inputs.graph
    index = {pk: i for i, pk in enumerate(graph.pubkeys)}
    reference = _reference(graph, index, our_pubkey, inputs.scores)
    if (previous is not None and previous.inputs.graph is graph
            and previous.reference == reference.index
            and previous.reference_peers == reference.peers
            and _same_knowledge(previous.inputs.knowledge, inputs.knowledge)):
        edges, searches = previous.edges, previous.searches
        trees = previous.reference_trees
        # routes do not depend on scores: the payers' trees and estimates carry over
        payer_trees, reference_estimates = previous._trees, previous._reference_estimates
    else:
        payer_trees, reference_estimates = OrderedDict(), OrderedDict()
        lower, upper = edge_bounds(graph, inputs.knowledge, now_unix=now_unix)
        edges = directed_edges(graph, lower, upper)
        searches = {a: search_graph(edges, graph.n_nodes, a)
                    for a in SEARCH_AMOUNTS_SAT}
        trees = _reference_trees(searches, reference, graph.n_nodes)
    return IntentSnapshot(
        version=version, built_unix=now_unix, pubkeys=graph.pubkeys, aliases=graph.aliases,
        index=index, by_hash={h: i for i, h in enumerate(inputs.scores.agent_hash)},
        inputs=inputs, edges=edges, searches=searches, reference=reference.index,
        reference_kind=reference.kind, reference_trees=trees, _trees=payer_trees,
        _reference_estimates=reference_estimates, reference_peers=reference.peers)


class IntentSnapshots:
    """The worker's current snapshot and the task that replaces it."""

    def __init__(self, version: DataVersion, knowledge: KnowledgeLoader = load_channel_knowledge
                 ) -> None:
        self._version = version
        self._knowledge = knowledge
        self.current: IntentSnapshot | None = None
        self.last_build_s: float | None = None
        self._built_for: tuple[Hashable, str | None] | None = None
        self._ready = asyncio.Event()

    async def wait_ready(self, timeout_s: float) -> IntentSnapshot | None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._ready.wait(), timeout_s)
        return self.current

    async def refresh(self, pool: Pool, our_pubkey: str | None) -> bool:
        """Build and publish a new snapshot if the data version or the reference payer
        moved; True when one was published."""
        version = await self._version.current(pool)
        wanted = (version, our_pubkey)
        if wanted == self._built_for:
            return False
        started = time.perf_counter()
        previous = self.current
        async with connection(pool) as conn:
            inputs = await load_intent_inputs(
                conn, self._knowledge, previous=previous.inputs if previous else None)
        snapshot = await asyncio.to_thread(build_snapshot, inputs, version=version,
                                           our_pubkey=our_pubkey, now_unix=time.time(),
                                           previous=previous)
        self.current = snapshot  # the one publication: a rebinding
        self._built_for = wanted
        self.last_build_s = time.perf_counter() - started
        self._ready.set()
        _log.info("intent snapshot built in %.2f s (%d nodes, %d channels)",
                  self.last_build_s, len(snapshot.pubkeys), snapshot.edges.src.size // 2)
        return True

    async def run(self, pool: Pool, our_pubkey: Callable[[], str | None]) -> None:
        """Keep the snapshot current until cancelled; a failed build keeps the old one."""
        while True:
            try:
                await self.refresh(pool, our_pubkey())
                delay = self._version.check_interval_s
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the database may be down: keep serving, retry
                _log.warning("intent snapshot build failed (%s); retrying",
                             type(exc).__name__)
                delay = RETRY_BUILD_S
            await asyncio.sleep(delay)
