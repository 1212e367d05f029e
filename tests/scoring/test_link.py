"""Unit: the graph prior's link, fitted on probe outcomes against the prior without a
node's own evidence."""

from __future__ import annotations

import numpy as np

from satrank.scoring.link import MIN_LINK_ROWS, Link, fit_link


def _world(a: float, b: float, rows: int, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    m = rng.uniform(0.05, 0.99, rows)
    truth = Link(a, b, True)(m)
    return m, (rng.random(rows) < truth).astype(np.float64)


def test_the_link_recovers_a_graph_prior_that_is_too_pessimistic() -> None:
    # the world reaches nodes more often than lnd's model says: a = 0.8, b = 0.7
    m, y = _world(0.8, 0.7, 20_000)
    link = fit_link(m, y, np.ones_like(m))
    assert link.fitted
    assert abs(link.a - 0.8) < 0.1 and abs(link.b - 0.7) < 0.1
    assert float(link(np.array([0.5]))[0]) > 0.65  # the same prior now reads higher


def test_a_calibrated_prior_keeps_the_identity() -> None:
    m, y = _world(0.0, 1.0, 20_000, seed=2)
    link = fit_link(m, y, np.ones_like(m))
    np.testing.assert_allclose(link(np.array([0.1, 0.5, 0.9])), [0.1, 0.5, 0.9], atol=0.02)


def test_too_few_probes_or_one_outcome_leave_the_prior_alone() -> None:
    m, y = _world(1.0, 1.0, MIN_LINK_ROWS - 1)
    assert not fit_link(m, y, np.ones_like(m)).fitted
    m, _ = _world(1.0, 1.0, 5_000)
    assert not fit_link(m, np.ones_like(m), np.ones_like(m)).fitted
    probe = np.array([0.3])
    assert Link()(probe) is probe
