"""The contract every Lightning backend fulfils, and the plain values it returns.

No protobuf object leaves `lightning/`: callers get these frozen dataclasses. Amounts carry
their unit in the name; pubkeys are lowercase 66-hex strings; hashes and preimages are raw
32-byte values; times are unix seconds (0 = unknown, as lnd reports them).
"""

from __future__ import annotations

import enum
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from operator import attrgetter
from typing import Protocol

from satrank.outcomes import ProbeOutcome


@dataclass(frozen=True)
class NodeStatus:
    """GetInfo: who the node is and how far it has synced."""

    identity_pubkey: str
    alias: str
    block_height: int
    block_hash: str
    synced_to_chain: bool
    synced_to_graph: bool
    num_active_channels: int
    num_peers: int
    version: str
    # The BOLT 11 prefix of the node's chain ("bc", "tb", "tbs", "bcrt", "sb"), None when
    # GetInfo names no chain we know.
    network: str | None = None


@dataclass(frozen=True)
class RoutingPolicy:
    time_lock_delta: int
    min_htlc_msat: int
    max_htlc_msat: int
    fee_base_msat: int
    fee_rate_milli_msat: int
    disabled: bool
    last_update: int
    inbound_fee_base_msat: int = 0
    inbound_fee_rate_milli_msat: int = 0


@dataclass(frozen=True)
class GraphNode:
    pubkey: str
    alias: str
    color: str
    addresses: tuple[str, ...]
    last_update: int


@dataclass(frozen=True)
class GraphEdge:
    channel_id: int
    chan_point: str
    node1_pub: str
    node2_pub: str
    capacity_sat: int
    last_update: int
    node1_policy: RoutingPolicy | None  # set by node1: direction node1 -> node2
    node2_policy: RoutingPolicy | None


@dataclass(frozen=True)
class ChannelGraph:
    nodes: tuple[GraphNode, ...]
    edges: tuple[GraphEdge, ...]
    # the source's digest of the graph as it sent it: equal digests, equal graphs (a
    # graph sync then has nothing to merge); None when the source gives none. Not part of
    # equality: the same graph from another source is still the same graph.
    fingerprint: str | None = field(default=None, compare=False)


# The graph as plain tuples, the form a graph sync stages (db/graph.py). Read straight from
# a source's response they cost about half of the frozen values' CPU (no per-field
# object.__setattr__), and a sync needs nothing else. Nodes in GraphNode's field order,
# edges in GraphEdge's, policies in POLICY_RECORD_FIELDS order.
POLICY_RECORD_FIELDS = ("time_lock_delta", "min_htlc_msat", "max_htlc_msat", "fee_base_msat",
                        "fee_rate_milli_msat", "inbound_fee_base_msat",
                        "inbound_fee_rate_milli_msat", "disabled", "last_update")
PolicyRecord = tuple[int, int, int, int, int, int, int, bool, int]
NodeRecord = tuple[str, str, str, tuple[str, ...], int]
EdgeRecord = tuple[int, str, str, str, int, int, PolicyRecord | None, PolicyRecord | None]
_policy_record = attrgetter(*POLICY_RECORD_FIELDS)
_node_record = attrgetter("pubkey", "alias", "color", "addresses", "last_update")
_edge_head = attrgetter("channel_id", "chan_point", "node1_pub", "node2_pub", "capacity_sat",
                        "last_update")


@dataclass(frozen=True)
class GraphRecords:
    nodes: list[NodeRecord]
    edges: list[EdgeRecord]


def graph_records(graph: ChannelGraph) -> GraphRecords:
    """The records of a graph already held as values (a graph file, a test's graph)."""
    def policy(p: RoutingPolicy | None) -> PolicyRecord | None:
        return None if p is None else _policy_record(p)

    return GraphRecords(
        nodes=[_node_record(n) for n in graph.nodes],
        edges=[(*_edge_head(e), policy(e.node1_policy), policy(e.node2_policy))
               for e in graph.edges])


class DeferredGraph:
    """A graph as its source sent it: the digest at once, the values on first `graph()`,
    or only the records a sync stages (`records()`).

    Converting mainnet's DescribeGraph into ~150k frozen values costs about a second of
    CPU; a sync that finds the digest unchanged never needs them, so it never pays, and
    one that merges reads the records straight from the response.
    """

    __slots__ = ("_convert", "_graph", "_records", "fingerprint")

    def __init__(self, fingerprint: str | None, convert: Callable[[], ChannelGraph],
                 records: Callable[[], GraphRecords] | None = None) -> None:
        self.fingerprint = fingerprint
        self._convert: Callable[[], ChannelGraph] | None = convert
        self._records = records
        self._graph: ChannelGraph | None = None

    @classmethod
    def of(cls, graph: ChannelGraph) -> DeferredGraph:
        """An already converted graph (sources that hold values, e.g. a graph file)."""
        deferred = cls(graph.fingerprint, lambda: graph)
        deferred.graph()
        return deferred

    def graph(self) -> ChannelGraph:
        if self._graph is None:
            assert self._convert is not None
            self._graph = self._convert()
            self._convert = self._records = None  # drop the raw response: the values replace it
        return self._graph

    def records(self) -> GraphRecords:
        """The graph as records, from the source's response when it can give them (without
        building the values), else from the values."""
        if self._graph is None and self._records is not None:
            return self._records()
        return graph_records(self.graph())


@dataclass(frozen=True)
class AddedInvoice:
    payment_request: str  # BOLT11
    payment_hash: bytes
    add_index: int


class InvoiceState(enum.Enum):
    OPEN = "OPEN"
    SETTLED = "SETTLED"
    CANCELED = "CANCELED"
    ACCEPTED = "ACCEPTED"


@dataclass(frozen=True)
class InvoiceStatus:
    payment_hash: bytes
    payment_request: str
    memo: str
    value_sat: int
    amt_paid_sat: int
    state: InvoiceState
    creation_date: int
    settle_date: int  # 0 while not settled
    expiry_s: int
    preimage: bytes | None  # known to the invoice's node; None only if lnd withheld it
    add_index: int
    settle_index: int


@dataclass(frozen=True)
class RouteHop:
    channel_id: int
    pubkey: str
    amt_to_forward_msat: int
    fee_msat: int
    expiry: int


@dataclass(frozen=True)
class HtlcAttempt:
    """One HTLC attempt of a payment: its route and how it ended (lnd's HTLCAttempt)."""

    hops: tuple[RouteHop, ...]
    status: str  # lnd's HTLCAttempt.HTLCStatus name: SUCCEEDED, FAILED, IN_FLIGHT
    failure_code: str | None  # lnd's Failure.FailureCode name; None without a failure
    failure_source_index: int | None  # 0 = the sender, len(hops) = the destination


@dataclass(frozen=True)
class ProbeResult:
    destination: str
    amount_sat: int
    outcome: ProbeOutcome
    failure_code: str | None  # lnd's Failure.FailureCode name, e.g. TEMPORARY_CHANNEL_FAILURE
    failure_source_index: int | None  # lnd's index: 0 = us, len(hops) = destination
    failing_channel_id: int | None
    hops: tuple[RouteHop, ...]  # the route of the last attempt
    fee_msat: int
    duration_ms: int
    attempts: int
    # every HTLC attempt in lnd's order, the last one included; () when the backend gives
    # none (then `hops`, `failure_code` and `failure_source_index` describe the only one)
    htlcs: tuple[HtlcAttempt, ...] = ()


class PaymentStatus(enum.Enum):
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    IN_FLIGHT = "IN_FLIGHT"


@dataclass(frozen=True)
class PaymentResult:
    payment_hash: bytes
    status: PaymentStatus
    preimage: bytes | None
    failure_reason: str | None  # lnd's PaymentFailureReason name when FAILED
    fee_msat: int
    hops: tuple[RouteHop, ...]


@dataclass(frozen=True)
class ChannelBackupSnapshot:
    """lnd's static channel backup of every open channel: the multi-channel blob (already
    encrypted by lnd with a key from the wallet seed) and the channel points it covers."""

    multi_chan_backup: bytes
    chan_points: tuple[str, ...]  # "txid:output_index"


class LightningBackend(Protocol):
    """What SatRank needs from a Lightning node; every call has a deadline.

    Raises only `lightning.errors.LightningError` subclasses.
    """

    async def get_info(self) -> NodeStatus: ...

    async def describe_graph(self) -> ChannelGraph: ...

    async def add_invoice(self, amount_sat: int, memo: str, expiry_s: int) -> AddedInvoice: ...

    async def lookup_invoice(self, payment_hash: bytes) -> InvoiceStatus: ...

    def subscribe_invoices(self, *, add_index: int = 0,
                           settle_index: int = 0) -> AsyncIterator[InvoiceStatus]: ...

    async def send_probe(self, destination: str, amount_sat: int, *, fee_limit_sat: int,
                         timeout_s: float, on_htlc: Callable[[], None] | None = None,
                         until_final: bool = False) -> ProbeResult: ...

    async def pay_invoice(self, payment_request: str, *, fee_limit_sat: int,
                          timeout_s: float) -> PaymentResult: ...

    async def close(self) -> None: ...


# Values of the lnd RPCs beyond the core protocol (LndClient offers them as extra methods).


@dataclass(frozen=True)
class NodeInfo:
    """GetNodeInfo: the node's announcement and its channel totals."""

    node: GraphNode
    num_channels: int
    total_capacity_sat: int
    channels: tuple[GraphEdge, ...] = ()  # only when asked for


@dataclass(frozen=True)
class QueriedRoute:
    """QueryRoutes: the route lnd would try first, with its fees and timelock."""

    hops: tuple[RouteHop, ...]
    total_fees_msat: int
    total_amt_msat: int
    total_time_lock: int
    success_prob: float


@dataclass(frozen=True)
class DecodedPayReq:
    """DecodePayReq: the fields of a BOLT11 invoice as lnd reads them."""

    destination: str
    payment_hash: bytes
    amount_msat: int
    timestamp: int
    expiry_s: int
    description: str
    cltv_expiry: int
    payment_addr: bytes


@dataclass(frozen=True)
class LocalChannel:
    """ListChannels: one of our own channels with its balances."""

    channel_id: int
    remote_pubkey: str
    channel_point: str
    capacity_sat: int
    local_balance_sat: int
    remote_balance_sat: int
    active: bool
    private: bool
    local_reserve_sat: int = 0  # our channel reserve: the local balance above it can be sent


@dataclass(frozen=True)
class NetworkStats:
    """GetNetworkInfo: graph-wide totals."""

    num_nodes: int
    num_channels: int
    total_capacity_sat: int
    avg_out_degree: float
    max_out_degree: int
    median_channel_size_sat: int
