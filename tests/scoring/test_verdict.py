"""Unit: verdict rules and rank on hand-set posteriors."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from satrank.scoring.budgets import NORMAL, TIGHT, budget_of_limit
from satrank.scoring.liveness import Liveness
from satrank.scoring.posterior import beta_posterior
from satrank.scoring.verdict import VERDICTS, rank_of, verdict_codes, verdict_reasons


@pytest.mark.parametrize(("prior_mean", "kappa", "s", "f", "reachable", "expected"), [
    (0.6, 2.0, 5.0, 0.0, True, "SAFE"),  # healthy, 5 probes answered: decisive
    (0.8, 10.0, 20.0, 1.0, True, "SAFE"),
    (0.6, 2.0, 10.0, 0.0, False, "RISKY"),  # the graph holds no route within the budget
    (0.6, 5.0, 1.0, 6.0, True, "RISKY"),
    (0.05, 20.0, 0.0, 0.0, True, "RISKY"),  # the interval lies below 0.5 on the graph alone
    (0.9, 5.0, 0.0, 0.0, True, "INSUFFICIENT"),  # prior only
    (0.9, 5.0, 1.5, 0.0, True, "INSUFFICIENT"),
    (0.6, 5.0, 3.0, 1.0, True, "UNKNOWN"),
    (0.6, 5.0, 6.0, 2.0, True, "UNKNOWN"),
], ids=lambda v: str(v))
def test_verdict_table(prior_mean: float, kappa: float, s: float, f: float, reachable: bool,
                       expected: str) -> None:
    post = beta_posterior(np.array([prior_mean]), kappa, np.array([s]), np.array([f]))
    code = verdict_codes(post, np.array([reachable]))
    assert VERDICTS[int(code[0])] == expected
    live = Liveness(0.9, 2.0, np.array([s]), np.array([0.0]), False)
    reasons = verdict_reasons(post, np.array([reachable]), code, 100_000, NORMAL, live)
    assert reasons[0][0].startswith("p_success ")
    assert "normal fee budget (0.5 % + 5 sat)" in reasons[0][0]
    if not reachable:
        assert "graph: no route within the fee budget from the reference payer" in reasons[0]
    if expected == "RISKY" and reachable and s + f < 2:
        assert reasons[0][2].startswith("graph: the whole credible interval lies below 0.5")


def test_the_probe_fee_limit_names_its_budget() -> None:
    assert budget_of_limit(10, 100_000) == TIGHT
    assert budget_of_limit(5_000, 100_000) == NORMAL
    assert budget_of_limit(100, 100_000) == TIGHT  # covers 10 sat, not 505
    assert budget_of_limit(1, 100_000) == TIGHT


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


def test_two_fresh_probes_are_the_two_observations_a_verdict_needs() -> None:
    # decay: two probes answered a minute ago weigh 1.9999 ("2.0 effective observations");
    # the reasons and the rules count the same two observations
    fresh = 2.0 * 0.5 ** (60.0 / (7 * 86_400.0))
    post = beta_posterior(np.array([0.9, 0.9]), 2.0, np.array([fresh, 1.5]), np.zeros(2))
    reachable = np.array([True, True])
    codes = verdict_codes(post, reachable)
    assert [VERDICTS[int(c)] for c in codes] == ["UNKNOWN", "INSUFFICIENT"]
    live = Liveness(0.9, 2.0, np.array([fresh, 1.5]), np.zeros(2), False)
    reasons = verdict_reasons(post, reachable, codes, 100_000, NORMAL, live)
    assert reasons[0][1] == "2.0 effective observations"
    assert "too few recent probes: estimate from the graph only" not in reasons[0]
    assert "too few recent probes: estimate from the graph only" in reasons[1]
