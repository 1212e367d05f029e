"""Read a channel graph saved as `lncli describegraph` JSON (optionally gzip) into values.

Used by simnet (to serve a real graph), by tests and by benchmarks. lncli prints 64-bit
integers as decimal strings; `null` means "not in the source" and becomes 0, which is what
lnd itself reports for an unknown value.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from satrank.lightning.backend import ChannelGraph, GraphEdge, GraphNode, RoutingPolicy


def load_graph_file(path: Path) -> ChannelGraph:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as f:
        return graph_from_json(json.load(f))


def graph_from_json(data: Mapping[str, Any]) -> ChannelGraph:
    nodes = tuple(_node(n) for n in data.get("nodes") or ())
    edges = tuple(_edge(e) for e in data.get("edges") or ())
    return ChannelGraph(nodes=nodes, edges=edges)


def _int(value: Any) -> int:
    return int(value) if value is not None else 0


def _node(raw: Mapping[str, Any]) -> GraphNode:
    return GraphNode(
        pubkey=str(raw["pub_key"]).lower(),
        alias=str(raw.get("alias") or ""),
        color=str(raw.get("color") or ""),
        addresses=tuple(str(a["addr"]) for a in raw.get("addresses") or () if a.get("addr")),
        last_update=_int(raw.get("last_update")),
    )


def _policy(raw: Mapping[str, Any] | None) -> RoutingPolicy | None:
    if raw is None:
        return None
    return RoutingPolicy(
        time_lock_delta=_int(raw.get("time_lock_delta")),
        min_htlc_msat=_int(raw.get("min_htlc")),
        max_htlc_msat=_int(raw.get("max_htlc_msat")),
        fee_base_msat=_int(raw.get("fee_base_msat")),
        fee_rate_milli_msat=_int(raw.get("fee_rate_milli_msat")),
        disabled=bool(raw.get("disabled")),
        last_update=_int(raw.get("last_update")),
        inbound_fee_base_msat=_int(raw.get("inbound_fee_base_msat")),
        inbound_fee_rate_milli_msat=_int(raw.get("inbound_fee_rate_milli_msat")),
    )


def _edge(raw: Mapping[str, Any]) -> GraphEdge:
    return GraphEdge(
        channel_id=int(raw["channel_id"]),
        chan_point=str(raw.get("chan_point") or ""),
        node1_pub=str(raw["node1_pub"]).lower(),
        node2_pub=str(raw["node2_pub"]).lower(),
        capacity_sat=_int(raw.get("capacity")),
        last_update=_int(raw.get("last_update")),
        node1_policy=_policy(raw.get("node1_policy")),
        node2_policy=_policy(raw.get("node2_policy")),
    )
