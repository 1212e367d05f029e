"""Unit: verdict rules and rank on hand-set posteriors."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from satrank.scoring.posterior import beta_posterior
from satrank.scoring.verdict import VERDICTS, rank_of, verdict_codes, verdict_reasons


@pytest.mark.parametrize(("prior_mean", "kappa", "s", "f", "active", "expected"), [
    (0.6, 5.0, 10.0, 0.0, 3, "SAFE"),  # healthy, well probed: reachable
    (0.8, 10.0, 20.0, 1.0, 10, "SAFE"),
    (0.6, 5.0, 10.0, 0.0, 0, "RISKY"),  # no enabled channel into the node
    (0.6, 5.0, 1.0, 6.0, 3, "RISKY"),
    (0.9, 5.0, 0.0, 0.0, 3, "INSUFFICIENT"),  # prior only
    (0.9, 5.0, 1.5, 0.0, 3, "INSUFFICIENT"),
    (0.6, 5.0, 3.0, 1.0, 3, "UNKNOWN"),
    (0.6, 5.0, 6.0, 2.0, 3, "UNKNOWN"),
], ids=lambda v: str(v))
def test_verdict_table(prior_mean: float, kappa: float, s: float, f: float, active: int,
                       expected: str) -> None:
    post = beta_posterior(np.array([prior_mean]), kappa, np.array([s]), np.array([f]))
    code = verdict_codes(post, np.array([float(active)]))
    assert VERDICTS[int(code[0])] == expected
    reasons = verdict_reasons(post, np.array([float(active)]), code, 100_000)
    assert reasons[0][0].startswith("p_success ")


@settings(max_examples=100, deadline=None)
@given(st.floats(0.01, 0.99), st.floats(0, 100), st.floats(0, 100), st.floats(0, 100))
def test_rank_is_bounded_and_deterministic(m: float, s: float, f: float, pct: float) -> None:
    post = beta_posterior(np.array([m]), 4.0, np.array([s]), np.array([f]))
    r1 = rank_of(post, np.array([pct]))
    r2 = rank_of(post, np.array([pct]))
    assert r1.tolist() == r2.tolist()
    assert 0 <= int(r1[0]) <= 100


def test_rank_orders_by_probability_then_centrality() -> None:
    post = beta_posterior(np.array([0.5, 0.5, 0.5]), 4.0, np.array([20.0, 2.0, 20.0]),
                          np.array([0.0, 10.0, 0.0]))
    r = rank_of(post, np.array([10.0, 10.0, 90.0]))
    assert r[2] > r[0] > r[1]
