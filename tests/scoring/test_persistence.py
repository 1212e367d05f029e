"""How long a probe's answer stays true: tau fitted on probe pairs drawn from the renewal
model recovers the tau they were drawn with; the forecast moves the mean towards the
renewal by what time undid, at the evidence's strength."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import betaincinv

from satrank.scoring.persistence import (
    MIN_PAIRS,
    Persistence,
    ProbePairs,
    fit_persistence,
    forecast,
)

HOUR = 3600.0


def _pairs(tau_s: float, rng: np.random.Generator, n: int = 60_000) -> ProbePairs:
    """Pairs from the renewal model: a node reliable (0.97) or not (0.1) keeps its state
    with probability exp(-dt / tau), else is drawn again (reliable 3 times in 4)."""
    dt = rng.choice(np.array([1, 2, 4, 8, 16, 32, 64]) * HOUR, size=n)
    good1 = rng.random(n) < 0.75
    kept = rng.random(n) < np.exp(-dt / tau_s)
    good2 = np.where(kept, good1, rng.random(n) < 0.75)
    y1 = (rng.random(n) < np.where(good1, 0.97, 0.1)).astype(float)
    y2 = (rng.random(n) < np.where(good2, 0.97, 0.1)).astype(float)
    first, second, count, mean_dt = [], [], [], []
    for a in (0.0, 1.0):
        for b in (0.0, 1.0):
            for d in np.unique(dt):
                k = (y1 == a) & (y2 == b) & (dt == d)
                if k.any():
                    first.append(a)
                    second.append(b)
                    count.append(float(k.sum()))
                    mean_dt.append(float(d))
    return ProbePairs(np.array(first), np.array(second), np.array(count), np.array(mean_dt))


@pytest.mark.parametrize("tau_h", [6.0, 48.0, 400.0])
def test_fit_recovers_the_tau_pairs_were_drawn_with(tau_h: float) -> None:
    pairs = _pairs(tau_h * HOUR, np.random.default_rng(int(tau_h)))
    fitted = fit_persistence(pairs)
    assert fitted.fitted
    assert tau_h / 2 <= fitted.tau_s / HOUR <= tau_h * 2
    # what a renewed node is drawn at: the later probes' rate (0.75 x 0.97 + 0.25 x 0.1)
    assert fitted.renewal == pytest.approx((pairs.second * pairs.count).sum() / pairs.count.sum())
    assert fitted.renewal == pytest.approx(0.7525, abs=0.01)
    assert f"renewal {fitted.renewal:.3f}" in fitted.describe()
    assert "renewal" not in Persistence(tau_s=tau_h * HOUR, fitted=True).describe()


def test_a_state_that_never_changes_fits_a_long_tau() -> None:
    fitted = fit_persistence(_pairs(1e12, np.random.default_rng(3)))
    assert fitted.tau_s >= 60 * 24 * HOUR  # the state outlasts every gap by far


def test_too_few_pairs_leave_the_evidence_as_it_is() -> None:
    few = _pairs(10 * HOUR, np.random.default_rng(4), n=MIN_PAIRS // 2)
    fitted = fit_persistence(few)
    assert not fitted.fitted
    assert fitted.rho(np.array([1e6])).tolist() == [1.0]


def test_rho_is_one_at_age_zero_and_zero_without_evidence() -> None:
    p = Persistence(tau_s=10 * HOUR, fitted=True)
    rho = p.rho(np.array([0.0, 10 * HOUR, np.inf]))
    assert rho.tolist() == pytest.approx([1.0, np.exp(-1.0), 0.0])


def test_forecast_is_the_mixture_mean_and_variance_and_keeps_the_edges() -> None:
    # eight reaches, eight failures, and a middling posterior; prior Beta(0.075, 0.025)
    alpha, beta = np.array([8.1, 0.02, 5.0]), np.array([0.02, 8.1, 1.0])
    a0, b0 = np.full(3, 0.075), np.full(3, 0.025)
    a, b = forecast(np.ones(3), alpha, beta, a0, b0, 0.02)
    assert a.tolist() == alpha.tolist() and b.tolist() == beta.tolist()  # nothing undone
    rho = np.full(3, 0.93)
    a, b = forecast(rho, alpha, beta, a0, b0, 0.02)

    def moments(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        mean = x / (x + y)
        return mean, mean * (1 - mean) / (x + y + 1) + mean**2

    (m1, s1), (m0, s0), (m, s) = moments(alpha, beta), moments(a0, b0), moments(a, b)
    mean = rho * m1 + (1 - rho) * m0
    np.testing.assert_allclose(m, mean)
    # the variance is the mixture's, except where a parameter would fall below 0.02: there
    # it sits at 0.02 (narrower than the mixture: the interval must hold the mean)
    var, mixed = s - m**2, rho * s1 + (1 - rho) * s0 - mean**2
    floored = np.isclose(np.minimum(a, b), 0.02, rtol=1e-9)
    assert floored[:2].all() and not floored[2]
    np.testing.assert_allclose(var[2], mixed[2], rtol=1e-9)
    assert (var[floored] < mixed[floored]).all()
    assert (np.minimum(a, b) >= 0.02 - 1e-12).all()
    # the edges the evidence pinned stay: after eight reaches the interval still ends at
    # 1, after eight failures it still starts at 0; the other end moves out
    low, high = betaincinv(a, b, 0.025), betaincinv(a, b, 0.975)
    post_low, post_high = betaincinv(alpha, beta, 0.025), betaincinv(alpha, beta, 0.975)
    assert high[0] == 1.0 and low[0] < post_low[0]
    assert low[1] < 1e-12 and high[1] > post_high[1]


def test_a_renewal_rate_moves_the_mean_and_keeps_the_spread_of_the_prior_mixture() -> None:
    # a node read at 0.95 with its prior at 0.95 too; a day later (rho 0.9) renewed at the
    # fit's m = 0.72: the mean falls to 0.9 x 0.95 + 0.1 x 0.72, the size (alpha + beta)
    # is the one the mixture with the prior has
    alpha, beta = np.array([19.0]), np.array([1.0])
    a0, b0 = np.array([0.95 * 0.05]), np.array([0.05 * 0.05])
    rho = np.array([0.9])
    a_prior, b_prior = forecast(rho, alpha, beta, a0, b0, 0.02)
    a, b = forecast(rho, alpha, beta, a0, b0, 0.02, renewal=0.72)
    assert (a / (a + b))[0] == pytest.approx(0.9 * 0.95 + 0.1 * 0.72)
    assert (a + b)[0] == pytest.approx((a_prior + b_prior)[0])
    assert (a_prior / (a_prior + b_prior))[0] == pytest.approx(0.95)
    # nothing changes where nothing aged
    a, b = forecast(np.ones(1), alpha, beta, a0, b0, 0.02, renewal=0.72)
    assert (a.tolist(), b.tolist()) == (alpha.tolist(), beta.tolist())
