"""How long a probe's answer stays true: tau fitted on probe pairs drawn from the renewal
model recovers the tau they were drawn with; the forecast moves the mean towards the
prior by what time undid, at the evidence's strength."""

from __future__ import annotations

import numpy as np
import pytest

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
    fitted = fit_persistence(_pairs(tau_h * HOUR, np.random.default_rng(int(tau_h))))
    assert fitted.fitted
    assert tau_h / 2 <= fitted.tau_s / HOUR <= tau_h * 2


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


def test_forecast_moves_the_mean_towards_the_prior_at_the_evidence_strength() -> None:
    alpha, beta = np.array([8.1, 8.1, 0.02]), np.array([0.02, 0.02, 8.1])
    prior = np.array([0.75, 0.75, 0.75])
    rho = np.array([1.0, 0.9, 0.9])
    a, b = forecast(rho, alpha, beta, prior, 0.02)
    mean = a / (a + b)
    assert a[0] == alpha[0] and b[0] == beta[0]  # nothing undone: the posterior as is
    assert mean[1] == pytest.approx(0.9 * 8.1 / 8.12 + 0.1 * 0.75)
    assert mean[2] == pytest.approx(0.9 * 0.02 / 8.12 + 0.1 * 0.75)
    assert (a + b)[1:] == pytest.approx(alpha[1:] + beta[1:])
    assert (np.minimum(a, b) >= 0.02 - 1e-12).all()
