"""Unit: payment centrality (forwarded volume from channel knowledge), its volume-weighted
percentile, and the leaderboard rank that blends it in."""

from __future__ import annotations

import numpy as np
import pytest

from satrank.scoring.centrality import (
    forwarded_volume,
    payment_centrality_percentile,
    volume_percentile,
)
from satrank.scoring.graph import pagerank
from satrank.scoring.knowledge import ChannelKnowledge
from tests.scoring_graphs import arrays_from_graph, small_graph

NOW = 1_000_000.0
WEEK = 7 * 86_400.0


def _knowledge(rows: list[tuple[int, int, float, float]]) -> ChannelKnowledge:
    """(channel id, direction, carried sat, age s) rows, no failures."""
    return ChannelKnowledge(
        channel_id=np.array([r[0] for r in rows], np.int64),
        direction=np.array([r[1] for r in rows], np.int64),
        carried_sat=np.array([r[2] for r in rows]),
        carried_unix=np.array([NOW - r[3] for r in rows]),
        failed_sat=np.full(len(rows), np.inf), failed_unix=np.zeros(len(rows)))


def test_a_node_is_credited_with_what_leaves_it_not_what_reaches_it() -> None:
    # 0 - 1 - 2: an HTLC went 0 -> 1 -> 2 (node 1 forwarded), and one to node 2 from 1
    g = arrays_from_graph(small_graph(3, [(0, 1, 1_000_000), (1, 2, 1_000_000)]))
    a, b = (int(c) for c in g.channel_id)
    k = _knowledge([(a, 0, 100_000, 0), (b, 0, 100_000, 0), (b, 1, 50_000, WEEK)])
    vol = forwarded_volume(g, k, now_unix=NOW)
    # node 0 sent over a (dir 0 leaves node1 = node 0); node 1 forwarded over b; node 2
    # forwarded 50k a week ago (decayed by e^-1)
    assert vol == pytest.approx([100_000, 100_000, 50_000 * np.exp(-1)])


def test_the_percentile_weighs_volume_so_a_trickle_is_worth_nothing() -> None:
    vol = np.array([0.0, 0.0, 0.0, 1.0, 1_000_000.0, 3_000_000.0])
    pct = volume_percentile(vol)
    assert pct[:3].tolist() == [0.0, 0.0, 0.0]
    assert pct[3] < 1e-4  # one sat forwarded does not jump past the silent nodes
    assert pct[5] > pct[4] > 10.0
    assert pct[5] == pytest.approx((1 + 1_000_000 + 1_500_000) / 4_000_001 * 100)
    tied = volume_percentile(np.array([2.0, 2.0, 4.0]))
    assert tied.tolist() == pytest.approx([25.0, 25.0, 75.0])
    assert volume_percentile(np.zeros(3)).tolist() == [0.0, 0.0, 0.0]


def test_capacity_to_hubs_buys_pagerank_but_not_payment_centrality() -> None:
    # a hub pair with traffic, and node 3 that opens big channels to both hubs
    links = [(0, 1, 5_000_000), (1, 2, 5_000_000), (0, 2, 5_000_000), (2, 4, 1_000_000)]
    before = arrays_from_graph(small_graph(5, links))
    after = arrays_from_graph(small_graph(5, [*links, (3, 0, 50_000_000), (3, 1, 50_000_000)]))
    rows = [(int(before.channel_id[0]), 0, 200_000, 0), (int(before.channel_id[1]), 0, 200_000, 0),
            (int(before.channel_id[3]), 0, 100_000, 0)]
    k = _knowledge(rows)
    assert pagerank(after).percentile[3] > pagerank(before).percentile[3] + 40
    c_before = payment_centrality_percentile(before, k, now_unix=NOW)
    c_after = payment_centrality_percentile(after, k, now_unix=NOW)
    assert c_after[3] == c_before[3] == 0.0
    assert c_after.tolist() == pytest.approx(c_before.tolist())


def test_score_nodes_ranks_by_what_was_forwarded_not_by_capacity() -> None:
    from satrank.scoring.engine import ScoringInputs, score_nodes
    from satrank.scoring.evidence import empty_probe_evidence

    # nodes 1 and 3 look alike to the payer; 3 holds ten times 1's capacity, 1 forwarded
    links = [(0, 1, 2_000_000), (0, 3, 20_000_000), (1, 2, 2_000_000), (3, 2, 20_000_000)]
    g = arrays_from_graph(small_graph(4, links))
    by_id = {int(c): i for i, c in enumerate(g.channel_id)}
    ch12 = next(c for c, i in by_id.items() if {int(g.node1[i]), int(g.node2[i])} == {1, 2})
    direction = 0 if int(g.node1[by_id[ch12]]) == 1 else 1  # leaving node 1
    k = _knowledge([(ch12, direction, 500_000, 0)])
    plain = score_nodes(ScoringInputs(g, 800_000, empty_probe_evidence()), now_unix=NOW)
    seen = score_nodes(ScoringInputs(g, 800_000, empty_probe_evidence(), knowledge=k),
                       now_unix=NOW)
    assert plain.pagerank.percentile[3] > plain.pagerank.percentile[1]
    assert seen.rank[1] > plain.rank[1]  # forwarding raised node 1's rank ...
    assert seen.rank[1] - seen.rank[3] > plain.rank[1] - plain.rank[3]  # ... capacity did not
