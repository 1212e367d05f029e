"""The payer's route searches are reused while the graph and payer stay the same (new
evidence or knowledge only), recomputed when either changes, and never change a result."""

from __future__ import annotations

import dataclasses

import numpy as np

from satrank.scoring.budgets import AMOUNT_GRID_SAT, BUDGETS
from satrank.scoring.engine import ScoringInputs, score_nodes
from satrank.scoring.evidence import empty_probe_evidence
from satrank.scoring.graph import GraphArrays
from satrank.scoring.knowledge import ChannelKnowledge, edge_bounds, empty_channel_knowledge
from satrank.scoring.reach import PayerView, payer_view
from satrank.scoring.route_cache import ROUTES, RouteCache
from tests.scoring_graphs import arrays_from_graph, pubkey, small_graph

NOW = 1_761_364_800.0


def _graph(seed: int = 5) -> GraphArrays:
    rng = np.random.default_rng(seed)
    links = [(int(a), int(b), int(rng.integers(20_000, 8_000_000)))
             for a, b in rng.integers(0, 40, size=(150, 2)) if a != b]
    return arrays_from_graph(small_graph(40, links))


def _knowledge(g: GraphArrays, seed: int) -> ChannelKnowledge:
    rng = np.random.default_rng(seed)
    k = rng.choice(g.channel_id.shape[0], size=30, replace=False)
    cap = g.capacity_sat[k]
    return ChannelKnowledge(g.channel_id[k], rng.integers(0, 2, size=30),
                            cap * rng.random(30) * 0.5, np.full(30, NOW - 600.0),
                            np.where(rng.random(30) < 0.5, cap * 0.8, np.inf),
                            np.full(30, NOW - 60.0))


def _view(g: GraphArrays, k: ChannelKnowledge, sources: np.ndarray, free: bool,
          cache: RouteCache | None) -> PayerView:
    lower, upper = edge_bounds(g, k, now_unix=NOW)
    routes = None if cache is None else cache.routes(
        g, sources, free_sources=free, amounts_sat=AMOUNT_GRID_SAT, budgets=BUDGETS)
    return payer_view(g, sources, free_sources=free, amounts_sat=AMOUNT_GRID_SAT,
                      budgets=BUDGETS, lower=lower, upper=upper, routes=routes)


def _same(a: PayerView, b: PayerView) -> bool:
    return all(np.array_equal(getattr(a, f.name), getattr(b, f.name))
               for f in dataclasses.fields(PayerView))


def test_reused_searches_give_what_fresh_ones_give() -> None:
    g = _graph()
    cache = RouteCache()
    for free, sources in ((True, np.array([0])), (False, np.array([3, 7, 11]))):
        for seed in (1, 2, 3):  # new knowledge each pass, same graph and payer
            k = _knowledge(g, seed)
            assert _same(_view(g, k, sources, free, cache), _view(g, k, sources, free, None))
    assert cache.searches == 2  # once per payer

    # a changed fee, capacity or disabled flag is a new graph: searched again
    k = _knowledge(g, 4)
    fee = g.fee_rate_ppm.copy()
    fee[0, :20] *= 40.0
    cap = g.capacity_sat.copy()
    cap[:20] = 30_000.0
    off = g.disabled.copy()
    off[1, :30] = True
    for changed in (dataclasses.replace(g, fee_rate_ppm=fee),
                    dataclasses.replace(g, capacity_sat=cap),
                    dataclasses.replace(g, disabled=off)):
        before = cache.searches
        view = _view(changed, k, np.array([0]), True, cache)
        assert cache.searches == before + 1
        assert _same(view, _view(changed, k, np.array([0]), True, None))
        assert not _same(view, _view(g, k, np.array([0]), True, None))


def test_a_pass_with_new_knowledge_on_the_same_graph_does_not_search_again() -> None:
    g = _graph(9)

    def score(k: ChannelKnowledge, payer: int) -> None:
        score_nodes(ScoringInputs(g, 800_100, empty_probe_evidence(), knowledge=k,
                                  payer_pubkeys=(pubkey(payer),)), now_unix=NOW)

    score(empty_channel_knowledge(), 0)
    searches = ROUTES.searches
    score(_knowledge(g, 1), 0)
    score(_knowledge(g, 2), 0)
    assert ROUTES.searches == searches
    score(_knowledge(g, 2), 1)  # another payer
    assert ROUTES.searches == searches + 1
