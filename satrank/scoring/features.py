"""Per-node graph features, vectorised over all channels (numpy, no Python loop per node).

"Inbound" means the direction into the node (the peer's policy): that is what a payment to
the node must cross last, so activity is judged on it. Times are relative to `now_unix`;
channel age comes from the short channel id's funding block against the chain tip.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from satrank.scoring.graph import FloatArray, GraphArrays, IntArray

BLOCK_INTERVAL_S = 600.0  # Bitcoin's target block interval
DAY_S = 86_400.0
MAX_GOSSIP_AGE_DAYS = 365.0  # "never announced" is treated as a year old

FEATURE_NAMES = (
    "capacity_sat", "channels", "active_channels", "distinct_peers", "disabled_share",
    "inbound_capacity_sat", "max_inbound_channel_sat", "channel_age_days_median",
    "channel_age_days_max", "gossip_age_days", "fee_rate_ppm_median", "fee_base_msat_median",
    "inbound_fee_rate_ppm_median",
)


@dataclass(frozen=True)
class NodeFeatures:
    """One array of length n per feature; medians are NaN where a node has no policy."""

    capacity_sat: FloatArray
    channels: FloatArray
    active_channels: FloatArray
    distinct_peers: FloatArray
    disabled_share: FloatArray
    inbound_capacity_sat: FloatArray
    max_inbound_channel_sat: FloatArray
    channel_age_days_median: FloatArray
    channel_age_days_max: FloatArray
    gossip_age_days: FloatArray
    fee_rate_ppm_median: FloatArray
    fee_base_msat_median: FloatArray
    inbound_fee_rate_ppm_median: FloatArray


def group_median(groups: IntArray, values: FloatArray, n_groups: int) -> FloatArray:
    """Median of `values` per group index (NaN for empty groups), by one lexsort."""
    out = np.full(n_groups, np.nan)
    if groups.shape[0] == 0:
        return out
    # One integer sort on (group, rank of value) is several times faster than lexsort.
    value_rank = np.empty(values.shape[0], dtype=np.int64)
    value_rank[np.argsort(values, kind="stable")] = np.arange(values.shape[0])
    order = np.argsort(groups * values.shape[0] + value_rank)
    g, v = groups[order], values[order]
    counts = np.bincount(g, minlength=n_groups)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    has = counts > 0
    lo = starts[has] + (counts[has] - 1) // 2
    hi = starts[has] + counts[has] // 2
    out[has] = (v[lo] + v[hi]) / 2.0
    return out


def node_features(graph: GraphArrays, *, now_unix: float, block_height: int | None) -> NodeFeatures:
    """Features of every node; `block_height` None falls back to the newest channel's block."""
    n, e = graph.n_nodes, graph.n_edges
    node = np.concatenate([graph.node1, graph.node2])
    peer = np.concatenate([graph.node2, graph.node1])
    cap = np.concatenate([graph.capacity_sat, graph.capacity_sat])
    own_row = np.concatenate([np.zeros(e, np.int64), np.ones(e, np.int64)])
    edge_idx = np.concatenate([np.arange(e), np.arange(e)])
    in_row = 1 - own_row
    inbound_ok = graph.has_policy[in_row, edge_idx] & ~graph.disabled[in_row, edge_idx]
    own_has = graph.has_policy[own_row, edge_idx]

    channels = np.bincount(node, minlength=n).astype(np.float64)
    active = np.bincount(node, weights=inbound_ok, minlength=n).astype(np.float64)
    pairs = np.sort(node * max(n, 1) + peer)
    first = np.concatenate([[True], pairs[1:] != pairs[:-1]]) if pairs.size else pairs > 0
    distinct = np.bincount(pairs[first] // max(n, 1), minlength=n).astype(np.float64)
    max_in = np.zeros(n)
    np.maximum.at(max_in, node[inbound_ok], cap[inbound_ok])

    tip = block_height if block_height else (int(graph.block_height.max()) if e else 0)
    age_days = np.clip(tip - graph.block_height, 0, None) * BLOCK_INTERVAL_S / DAY_S
    age2 = np.concatenate([age_days, age_days]).astype(np.float64)
    age_max = np.zeros(n)
    np.maximum.at(age_max, node, age2)

    latest = graph.node_last_update_unix.astype(np.float64).copy()
    own_update = graph.policy_last_update_unix[own_row, edge_idx]
    np.maximum.at(latest, node[own_has], own_update[own_has])
    gossip_age = np.where(latest > 0, (now_unix - latest) / DAY_S, MAX_GOSSIP_AGE_DAYS)

    with np.errstate(invalid="ignore", divide="ignore"):
        disabled_share = np.where(channels > 0, 1.0 - active / channels, 1.0)
    return NodeFeatures(
        capacity_sat=np.bincount(node, weights=cap, minlength=n).astype(np.float64),
        channels=channels,
        active_channels=active,
        distinct_peers=distinct,
        disabled_share=disabled_share,
        inbound_capacity_sat=np.bincount(
            node, weights=cap * inbound_ok, minlength=n).astype(np.float64),
        max_inbound_channel_sat=max_in,
        channel_age_days_median=group_median(node, age2, n),
        channel_age_days_max=age_max,
        gossip_age_days=np.clip(gossip_age, 0.0, MAX_GOSSIP_AGE_DAYS),
        fee_rate_ppm_median=group_median(
            node[own_has], graph.fee_rate_ppm[own_row, edge_idx][own_has], n),
        fee_base_msat_median=group_median(
            node[own_has], graph.fee_base_msat[own_row, edge_idx][own_has], n),
        inbound_fee_rate_ppm_median=group_median(
            node[inbound_ok], graph.fee_rate_ppm[in_row, edge_idx][inbound_ok], n),
    )
