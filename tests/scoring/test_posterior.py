"""Unit: Beta posterior, exact credible intervals, evidence weighting and the prior."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import beta as beta_dist

from satrank.outcomes import ProbeOutcome
from satrank.scoring.evidence import (
    OUTCOME_WEIGHTS,
    ProbeEvidence,
    ReportEvidence,
    cap_evidence,
    decay_factor,
    outcome_weights,
    probe_tier_evidence,
    report_tier_evidence,
)
from satrank.scoring.posterior import beta_posterior
from satrank.scoring.prior import COLD_START_KAPPA, KAPPA_MAX, KAPPA_MIN, fit_prior_model

TIERS = (10_000, 100_000, 1_000_000)
R = ProbeOutcome
counts = st.floats(min_value=0.0, max_value=500.0, allow_nan=False)
means = st.floats(min_value=0.001, max_value=0.999)
strengths = st.floats(min_value=2.0, max_value=100.0)


def _post(m: float, k: float, s: float, f: float):  # type: ignore[no-untyped-def]
    return beta_posterior(np.array([m]), k, np.array([s]), np.array([f]))


def test_interval_is_exact_where_the_old_normal_approximation_failed() -> None:
    # W4: 28.5 successes on Beta(1.5, 1.5): exact 0.857, not the normal approximation
    post = beta_posterior(np.array([0.5]), 3.0, np.array([28.5]), np.array([0.0]))
    a, b = post.alpha[0], post.beta[0]
    assert post.ci95_low[0] == pytest.approx(beta_dist.ppf(0.025, a, b), rel=1e-9)
    assert post.ci95_high[0] == pytest.approx(beta_dist.ppf(0.975, a, b), rel=1e-9)
    assert post.ci95_low[0] == pytest.approx(0.8567, abs=1e-3)  # the normal approx said 0.879
    assert post.ci95_high[0] < 1.0


@settings(max_examples=200, deadline=None)
@given(means, strengths, counts, counts)
def test_probability_in_unit_interval_and_inside_its_interval(
        m: float, k: float, s: float, f: float) -> None:
    post = _post(m, k, s, f)
    assert 0.0 <= post.ci95_low[0] <= post.p_success[0] <= post.ci95_high[0] <= 1.0
    assert post.n_eff[0] == pytest.approx(s + f)


@settings(max_examples=200, deadline=None)
@given(means, strengths, counts, counts, st.floats(min_value=0.01, max_value=50.0))
def test_more_successes_never_lower_p_and_more_failures_never_raise_it(
        m: float, k: float, s: float, f: float, extra: float) -> None:
    base = _post(m, k, s, f)
    assert _post(m, k, s + extra, f).p_success[0] >= base.p_success[0]
    assert _post(m, k, s, f + extra).p_success[0] <= base.p_success[0]


@pytest.mark.parametrize(("age_days", "expected"), [(0, 1.0), (7, 0.5), (14, 0.25), (-1, 1.0)])
def test_decay_half_life(age_days: float, expected: float) -> None:
    assert float(decay_factor(age_days * 86_400.0, 7 * 86_400.0)) == pytest.approx(expected)


@pytest.mark.parametrize(("amount", "outcome", "s", "f"), [
    (100_000, R.REACHED, [1, 1, 0], [0, 0, 0]),  # a success proves smaller tiers too
    (1_000_000, R.REACHED, [1, 1, 1], [0, 0, 0]),
    (10_000, R.FAILED_AT_TARGET, [0, 0, 0], [1, 1, 1]),  # a failure counts against larger
    (100_000, R.FAILED_AT_TARGET, [0, 0, 0], [0, 1, 1]),
    (100_000, R.FAILED_IN_ROUTE, [0, 0, 0], [0, 0.25, 0.25]),  # weaker than at the target
    (100_000, R.NO_ROUTE, [0, 0, 0], [0, 0.5, 0.5]),
    (100_000, R.ERROR, [0, 0, 0], [0, 0, 0]),
])
def test_probe_outcomes_spread_over_tiers(amount: int, outcome: ProbeOutcome, s: list[float],
                                          f: list[float]) -> None:
    ev = ProbeEvidence(["a", "zz-not-in-graph"], np.array([amount, amount], float),
                       [outcome, outcome], np.array([1.0, 5.0]))
    got_s, got_f = probe_tier_evidence(ev, {"a": 0}, TIERS)
    np.testing.assert_allclose(got_s[:, 0], s)
    np.testing.assert_allclose(got_f[:, 0], f)


def test_every_outcome_has_an_evidence_weight() -> None:
    assert set(OUTCOME_WEIGHTS) == set(ProbeOutcome)
    for outcome in ProbeOutcome:
        s, f = outcome_weights(outcome)
        assert 0.0 <= s <= 1.0 and 0.0 <= f <= 1.0


def test_an_unknown_outcome_raises_instead_of_weighing_nothing() -> None:
    ev = ProbeEvidence(["a"], np.array([100_000.0]), ["exploded"],  # type: ignore[list-item]
                       np.array([1.0]))
    with pytest.raises(ValueError, match="exploded"):
        probe_tier_evidence(ev, {"a": 0}, TIERS)


def test_reports_weigh_by_verification_and_default_to_the_default_tier() -> None:
    ev = ReportEvidence(["a", "a"], np.array([0.0, 0.0]), np.array([True, False]),
                        np.array([True, False]), np.array([1.0, 1.0]))
    s, f = report_tier_evidence(ev, {"a": 0}, TIERS, 100_000)
    np.testing.assert_allclose(s[:, 0], [1.0, 1.0, 0.0])
    np.testing.assert_allclose(f[:, 0], [0.0, 0.1, 0.1])


def test_evidence_cap_keeps_the_ratio() -> None:
    s, f = cap_evidence(np.array([90.0, 3.0]), np.array([30.0, 1.0]), cap=60.0)
    np.testing.assert_allclose(s, [45.0, 3.0])
    np.testing.assert_allclose(f, [15.0, 1.0])


def test_cold_start_prior_is_informed_not_flat() -> None:
    raw = np.array([[3.0, 2.0], [0.0, 0.0], [1.0, 1.0]])
    raw = np.column_stack([raw, np.zeros((3, 7))])
    model = fit_prior_model(raw, np.zeros(3), np.zeros(3))
    m = model.prior_mean(raw)
    assert not model.is_fitted and model.kappa == COLD_START_KAPPA
    assert m[0] > m[2] > m[1]


def test_fitted_prior_learns_from_probed_nodes_and_informs_unprobed_ones() -> None:
    rng = np.random.default_rng(7)
    x = rng.normal(size=(400, 9))
    truth = 1 / (1 + np.exp(-(0.3 + 1.5 * x[:, 0])))
    n = np.where(np.arange(400) < 300, 6.0, 0.0)  # the last 100 are never probed
    s = rng.binomial(n.astype(int), truth).astype(float)
    model = fit_prior_model(x, s, n - s)
    assert model.is_fitted and model.fit_rows == 300
    assert model.coef[1] > 0.8  # the informative feature got a strong positive weight
    assert KAPPA_MIN <= model.kappa <= KAPPA_MAX
    m = model.prior_mean(x[300:])
    assert np.corrcoef(m, truth[300:])[0, 1] > 0.8


def test_prior_strength_needs_repeated_observations() -> None:
    """One probe per node says nothing about how much nodes differ: kappa stays at the
    cold-start value instead of drifting to the grid's edge."""
    rng = np.random.default_rng(3)
    x = rng.normal(size=(500, 9))
    truth = (rng.random(500) < 1 / (1 + np.exp(-x[:, 0]))).astype(float)  # deterministic
    single = fit_prior_model(x, truth * 0.5, (1 - truth) * 0.5)  # decayed single probes
    assert single.is_fitted and single.kappa == COLD_START_KAPPA
    # the same deterministic nodes probed 6 times each: outcomes repeat, so the features
    # explain less than the node's own history and the fitted prior stays weak
    repeated = fit_prior_model(x, truth * 6, (1 - truth) * 6)
    assert repeated.is_fitted and repeated.kappa == KAPPA_MIN
