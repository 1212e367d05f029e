"""Can rank be bought? Capacity PageRank vs payment centrality (issue 15 item 7).

    .venv/bin/python bench/rank_buy.py [--cache /tmp/probes.pickle] [bimodal_scale options]

The mainnet snapshot (nodes with channels). Channel knowledge: the probe rounds of
bench/bimodal_scale.py on simnet v2 over the same snapshot (--cache reuses a run), merged by
lnd's rule as the crawler stores them. The buyer: the node at the median PageRank; it opens
two channels, of `budget / 2` each, to the two nodes with the most capacity.

Rank points are the leaderboard's 0-100 rank with reliability held fixed (the new channels
come with no evidence): today 0.3 x the capacity PageRank percentile (scoring.verdict), ours
`scoring.verdict.rank_of` with 0.3 x the payment centrality percentile.
The buyer's new channels get what probing it would show: probes to it cross them inwards at
up to 1M sat, now; in a second case it also forwards one 1M-sat HTLC each way between the
two hubs through itself (a little real traffic).
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from bench.bimodal_scale import Known, add_collect_arguments, collected, replay  # noqa: E402
from satrank.lightning.graph_file import load_graph_file  # noqa: E402
from satrank.scoring.centrality import (  # noqa: E402
    payment_centrality_percentile,
)
from satrank.scoring.graph import GraphArrays, pagerank  # noqa: E402
from satrank.scoring.knowledge import ChannelKnowledge  # noqa: E402
from satrank.scoring.verdict import RANK_W_CENTRALITY  # noqa: E402
from tests.data import MAINNET  # noqa: E402
from tests.scoring_graphs import arrays_from_graph  # noqa: E402

BUDGETS_BTC = (0.5, 1.0, 2.0, 5.0)
PROBE_MAX_SAT = 1_000_000.0
SAT_PER_BTC = 100_000_000


def _with_channels(g: GraphArrays, a: int, hubs: list[int], capacity_sat: float
                   ) -> tuple[GraphArrays, list[int]]:
    """`g` plus one channel a - hub per hub; returns the new channels' ids too."""
    k = len(hubs)
    ids = [int(g.channel_id.max()) + 1 + i for i in range(k)]
    n1 = np.array([min(a, h) for h in hubs])
    n2 = np.array([max(a, h) for h in hubs])

    def grow(x: np.ndarray, value: float) -> np.ndarray:
        return np.concatenate([x, np.full((2, k), value, dtype=x.dtype)], axis=1)

    return replace(
        g, node1=np.concatenate([g.node1, n1]), node2=np.concatenate([g.node2, n2]),
        capacity_sat=np.concatenate([g.capacity_sat, np.full(k, capacity_sat)]),
        block_height=np.concatenate([g.block_height, np.full(k, g.block_height.max())]),
        has_policy=grow(g.has_policy, True), disabled=grow(g.disabled, False),
        fee_base_msat=grow(g.fee_base_msat, 0), fee_rate_ppm=grow(g.fee_rate_ppm, 0),
        max_htlc_msat=grow(g.max_htlc_msat, capacity_sat * 1000),
        policy_last_update_unix=grow(g.policy_last_update_unix, 0),
        channel_id=np.concatenate([g.channel_id, np.array(ids, dtype=np.int64)])), ids


def _knowledge(known: dict[tuple[int, str], Known], g: GraphArrays) -> ChannelKnowledge:
    at = {int(c): e for e, c in enumerate(g.channel_id)}
    rows = []
    for (cid, to), k in known.items():
        e = at.get(cid)
        if e is None:
            continue
        direction = 0 if g.pubkeys[g.node2[e]] == to else 1
        rows.append((cid, direction, k.carried, k.carried_t, k.failed, k.failed_t))
    m = np.array([r[1:] for r in rows], dtype=np.float64).reshape(-1, 5)
    return ChannelKnowledge(np.array([r[0] for r in rows], np.int64), m[:, 0].astype(np.int64),
                            m[:, 1], np.nan_to_num(m[:, 2], neginf=0.0), m[:, 3],
                            np.nan_to_num(m[:, 4], neginf=0.0))


def _add_rows(k: ChannelKnowledge, rows: list[tuple[int, int, float]], now: float
              ) -> ChannelKnowledge:
    n = len(rows)
    return ChannelKnowledge(
        np.concatenate([k.channel_id, np.array([r[0] for r in rows], np.int64)]),
        np.concatenate([k.direction, np.array([r[1] for r in rows], np.int64)]),
        np.concatenate([k.carried_sat, np.array([r[2] for r in rows])]),
        np.concatenate([k.carried_unix, np.full(n, now)]),
        np.concatenate([k.failed_sat, np.full(n, np.inf)]),
        np.concatenate([k.failed_unix, np.zeros(n)]))


def main() -> None:
    parser = argparse.ArgumentParser()
    add_collect_arguments(parser)
    rounds, capacity = collected(parser.parse_args())
    _, known = replay(rounds, capacity)
    now = max(t for t, _ in rounds)
    full = arrays_from_graph(load_graph_file(MAINNET))
    used = np.zeros(full.n_nodes, dtype=bool)
    used[full.node1] = used[full.node2] = True
    keep = np.flatnonzero(used)
    remap = np.full(full.n_nodes, -1)
    remap[keep] = np.arange(len(keep))
    g = replace(full, pubkeys=tuple(full.pubkeys[i] for i in keep),
                aliases=tuple(full.aliases[i] for i in keep),
                node_last_update_unix=full.node_last_update_unix[keep],
                node1=remap[full.node1], node2=remap[full.node2])
    k = _knowledge(known, g)
    pr = pagerank(g).percentile
    buyer = int(np.argsort(pr)[len(pr) // 2])
    size = np.zeros(g.n_nodes)
    np.add.at(size, g.node1, g.capacity_sat)
    np.add.at(size, g.node2, g.capacity_sat)
    hubs = [int(h) for h in np.argsort(-size)[:2]]
    c0 = payment_centrality_percentile(g, k, now_unix=now)
    print(f"{g.n_nodes} nodes, {g.n_edges} channels; knowledge: {len(k)} directions, "
          f"{int((c0 > 0).sum())} nodes seen forwarding")
    def ours(c: np.ndarray) -> float:
        # the buyer's reliability is held fixed: only the centrality term moves
        return float(RANK_W_CENTRALITY * c[buyer])

    print(f"buyer: PageRank percentile {pr[buyer]:.1f}, payment centrality percentile "
          f"{c0[buyer]:.2f}; hubs: {', '.join(g.aliases[h] or g.pubkeys[h][:12] for h in hubs)}")
    print("| budget (BTC) | PageRank pct after | today: rank points / BTC | centrality pct after "
          "(probed / + forwards) | ours: rank points / BTC (probed / + forwards) |")
    print("|---:|---:|---:|---:|---:|")
    for btc in BUDGETS_BTC:
        g2, ids = _with_channels(g, buyer, hubs, btc * SAT_PER_BTC / 2)
        pr2 = pagerank(g2).percentile
        today = RANK_W_CENTRALITY * (pr2[buyer] - pr[buyer]) / btc
        # probes to the buyer cross its new channels inwards (hub -> buyer)
        inward = [(cid, 0 if g2.node2[len(g.channel_id) + i] == buyer else 1, PROBE_MAX_SAT)
                  for i, cid in enumerate(ids)]
        probed = _add_rows(k, inward, now)
        # ... and it forwards one HTLC each way between the hubs (buyer -> hub directions)
        forwards = _add_rows(probed, [(cid, 1 - d, PROBE_MAX_SAT) for cid, d, _ in inward], now)
        c_probed = payment_centrality_percentile(g2, probed, now_unix=now)
        c_fwd = payment_centrality_percentile(g2, forwards, now_unix=now)
        gain_probed = (ours(c_probed) - ours(c0)) / btc
        gain_fwd = (ours(c_fwd) - ours(c0)) / btc
        print(f"| {btc:g} | {pr2[buyer]:.1f} | {today:+.1f} | {c_probed[buyer]:.3f} / "
              f"{c_fwd[buyer]:.3f} | {gain_probed:+.3f} / {gain_fwd:+.3f} |")


if __name__ == "__main__":
    main()
