"""The intent's route model for a private payer against lnd's retries on the same prior.

    .venv/bin/python bench/route_retries.py [--targets 150] [--samples 32]

Mainnet snapshot, no channel knowledge, normal fee budget: a private payer behind four
of the largest hubs or four mid-sized nodes (degree ranks 30, 60, 90, 120) pays random
targets (degree >= 3) at 100k and 1M sat. Per case, the mean over the targets every
estimate routes to of: the route model (`payment.estimate_payment`: three candidates
differing in their last hop, sharing the payer-side prefix); the same with the candidates
spread over the peers (the cheapest route from each peer's own tree, at most one per first
hop); and lnd's retries on the same bimodal prior (`bench/baselines.py`'s Monte Carlo:
some path within the budget has the amount on every hop).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.baselines import PayerView, baselines, sample_liquidity  # noqa: E402
from satrank.lightning.graph_file import load_graph_file  # noqa: E402
from satrank.scoring.graph import GraphArrays  # noqa: E402
from satrank.scoring.payment import (  # noqa: E402
    MAX_ATTEMPTS,
    PRIVATE_PAYER,
    Route,
    candidate_routes,
    directed_edges,
    estimate_payment,
    normal_fee_budget_sat,
    retries_success,
    search_amount,
    search_graph,
    shortest_tree,
    tree_through_peers,
)
from tests.data import MAINNET  # noqa: E402
from tests.scoring_graphs import arrays_from_graph  # noqa: E402

PEER_RANKS = {"hubs": (0, 1, 2, 3), "mid": (30, 60, 90, 120)}


def spread(routes: list[Route]) -> list[Route]:
    """The cheapest routes, at most one per first hop, MAX_ATTEMPTS of them."""
    chosen: list[Route] = []
    firsts: set[int | None] = set()
    for route in sorted(routes, key=lambda r: r.cost):
        first = route.edges[0] if route.edges else None
        if first not in firsts:
            chosen.append(route)
            firsts.add(first)
        if len(chosen) == MAX_ATTEMPTS:
            break
    return chosen


def compare(graph: GraphArrays, peers: list[int], targets: np.ndarray, amount: int,
            liquidity: np.ndarray) -> tuple[int, float, float, float]:
    """(targets counted, route model, spread over the peers, lnd's retries), means."""
    no_bounds = np.zeros((2, graph.n_edges))
    edges = directed_edges(graph, no_bounds,
                           np.broadcast_to(graph.capacity_sat, (2, graph.n_edges)).copy())
    search = search_graph(edges, graph.n_nodes, search_amount(amount))
    budget = normal_fee_budget_sat(amount)
    trees = {v: (0.0, shortest_tree(search, v)) for v in peers}
    tree = tree_through_peers(PRIVATE_PAYER, trees, graph.n_nodes)
    alone = {v: tree_through_peers(PRIVATE_PAYER, {v: trees[v]}, graph.n_nodes) for v in peers}
    view = PayerView(graph, np.array(peers), np.full(len(peers), 1e12),
                     np.ones(len(peers), dtype=bool))
    sampled = baselines(view, targets, float(amount), np.full(len(targets), float(budget)),
                        liquidity=liquidity)
    model, spread_p, retries = [], [], []
    for i, target in enumerate(targets.tolist()):
        estimate = estimate_payment(edges, search, tree, target, (), amount, budget)
        if not estimate.routes or not sampled.routable[i]:
            continue
        pool = [r for v in peers
                for r in candidate_routes(edges, search, alone[v], target, (), amount,
                                          budget).routes]
        model.append(estimate.p_model)
        spread_p.append(retries_success(spread(pool)))
        retries.append(float(sampled.p["bimodal_mc"][i]))
    return len(model), float(np.mean(model)), float(np.mean(spread_p)), float(np.mean(retries))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--targets", type=int, default=150)
    parser.add_argument("--samples", type=int, default=32)
    args = parser.parse_args()
    graph = arrays_from_graph(load_graph_file(MAINNET))
    rng = np.random.default_rng(0)
    liquidity = sample_liquidity(graph.capacity_sat, args.samples, rng)
    degree = np.bincount(np.r_[graph.node1, graph.node2], minlength=graph.n_nodes)
    targets = rng.choice(np.flatnonzero(degree >= 3), args.targets, replace=False)
    by_degree = np.argsort(-degree)
    print("| payer, amount | targets | route model | spread over the peers | lnd's retries |")
    print("|---|---:|---:|---:|---:|")
    for amount in (100_000, 1_000_000):
        for label, ranks in PEER_RANKS.items():
            peers = [int(by_degree[r]) for r in ranks]
            n, model, spread_p, retries = compare(graph, peers, targets.astype(np.int64),
                                                  amount, liquidity)
            print(f"| {label}, {amount:,} | {n} | {model:.3f} | {spread_p:.3f} | "
                  f"{retries:.3f} |")


if __name__ == "__main__":
    main()
