"""Unit: capacity-weighted PageRank and percentiles."""

from __future__ import annotations

import numpy as np
import pytest

from satrank.scoring.graph import average_ranks, pagerank, percentile_of
from tests.scoring_graphs import arrays_from_graph, small_graph


def _dense_pagerank(n: int, links: list[tuple[int, int, int]], d: float = 0.85) -> np.ndarray:
    w = np.zeros((n, n))
    for a, b, c in links:
        w[a, b] += c
        w[b, a] += c
    out = w.sum(axis=1)
    p = np.where(out[:, None] > 0, w / np.where(out > 0, out, 1)[:, None], 1.0 / n)
    # r = d P^T r + (1-d)/n, dangling rows uniform: solve exactly
    return np.linalg.solve(np.eye(n) - d * p.T, np.full(n, (1 - d) / n))


@pytest.mark.parametrize("links", [
    [(0, 1, 100), (1, 2, 100), (2, 0, 100)],
    [(0, 1, 1_000_000), (0, 2, 10_000), (0, 3, 10_000), (3, 4, 500)],
    [(0, 1, 5), (0, 1, 7), (2, 3, 11)],  # parallel channels and two components
], ids=["triangle", "weighted-star", "parallel-and-components"])
def test_pagerank_matches_the_exact_solution(links: list[tuple[int, int, int]]) -> None:
    n = 1 + max(max(a, b) for a, b, _ in links) + 1  # one extra node without channels
    pr = pagerank(arrays_from_graph(small_graph(n, links)))
    exact = _dense_pagerank(n, links)
    exact /= exact.sum()
    assert pr.l1_change < 1e-9
    assert abs(pr.value.sum() - 1.0) < 1e-12
    np.testing.assert_allclose(pr.value, exact, atol=1e-9)


def test_capacity_weight_is_linear() -> None:
    # node 0 has one big channel to 1 and one small to 2: 1 must outrank 2 by a wide margin
    pr = pagerank(arrays_from_graph(small_graph(3, [(0, 1, 1_000_000), (0, 2, 10_000)])))
    assert pr.value[1] > 5 * pr.value[2]
    assert pr.percentile.tolist() == [100.0, 50.0, 0.0]


def test_percentiles_share_ties_and_span_0_to_100() -> None:
    assert percentile_of(np.array([1.0, 1.0, 3.0])).tolist() == [25.0, 25.0, 100.0]
    assert percentile_of(np.array([2.0])).tolist() == [100.0]


def test_empty_graph() -> None:
    pr = pagerank(arrays_from_graph(small_graph(0, [])))
    assert pr.value.shape == (0,)


def test_average_ranks_match_scipy_rankdata_with_ties() -> None:
    from scipy.stats import rankdata

    rng = np.random.default_rng(5)
    for size in (1, 2, 7, 1000):
        values = rng.integers(0, max(2, size // 3), size).astype(np.float64) / 7.0
        assert average_ranks(values).tolist() == rankdata(values, method="average").tolist()
    assert average_ranks(np.array([], dtype=np.float64)).tolist() == []
