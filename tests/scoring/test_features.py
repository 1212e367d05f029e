"""Unit: per-node graph features on hand-built graphs."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from satrank.lightning.backend import ChannelGraph
from satrank.scoring.features import group_median, node_features
from tests.scoring_graphs import arrays_from_graph, policy, small_graph

NOW = 1_700_000_000 + 86_400 * 2


def _graph() -> ChannelGraph:
    # 0-1 twice (parallel), 0-2 once; channel 0-2 has node2's policy (into 0) disabled
    g = small_graph(4, [(0, 1, 1_000_000), (0, 1, 500_000), (0, 2, 200_000)])
    edges = list(g.edges)
    edges[2] = replace(edges[2], node2_policy=policy(disabled=True, fee_rate=4294967295))
    return replace(g, edges=tuple(edges))


@pytest.mark.parametrize(("name", "expected"), [
    ("channels", [3, 2, 1, 0]),
    ("capacity_sat", [1_700_000, 1_500_000, 200_000, 0]),
    ("active_channels", [2, 2, 1, 0]),
    ("distinct_peers", [2, 1, 1, 0]),
    ("disabled_share", [1 / 3, 0, 0, 1]),
    ("inbound_capacity_sat", [1_500_000, 1_500_000, 200_000, 0]),
    ("max_inbound_channel_sat", [1_000_000, 1_000_000, 200_000, 0]),
    ("gossip_age_days", [2, 2, 2, 2]),
    ("fee_rate_ppm_median", [100, 100, 4294967295, np.nan]),
])
def test_feature_table(name: str, expected: list[float]) -> None:
    feats = node_features(arrays_from_graph(_graph()), now_unix=NOW, block_height=None)
    np.testing.assert_allclose(getattr(feats, name), expected)


def test_channel_age_comes_from_the_funding_block() -> None:
    g = small_graph(2, [(0, 1, 100_000)], block=800_000)
    feats = node_features(arrays_from_graph(g), now_unix=NOW, block_height=800_144)
    np.testing.assert_allclose(feats.channel_age_days_median, [1.0, 1.0])  # 144 blocks = 1 day
    np.testing.assert_allclose(feats.channel_age_days_max, [1.0, 1.0])


@pytest.mark.parametrize(("groups", "values", "expected"), [
    ([0, 0, 0], [3, 1, 2], [2]),
    ([0, 0, 1, 1], [1, 4, 10, 20], [2.5, 15]),
    ([1, 1], [5, 5], [np.nan, 5]),
    ([], [], [np.nan]),
], ids=["odd", "even", "empty-group", "no-values"])
def test_group_median(groups: list[int], values: list[float], expected: list[float]) -> None:
    got = group_median(np.array(groups, dtype=np.int64), np.array(values, dtype=float),
                       len(expected))
    np.testing.assert_allclose(got, expected)
