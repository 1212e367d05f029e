"""Unit: an endpoint's scores from its stage observations (scoring/registry.py)."""

from __future__ import annotations

import math

import pytest

from satrank.scoring.registry import StageObservation, score_endpoint

DAY = 86_400.0
HALF_LIFE = 7 * DAY


def check(*stages: tuple[str, bool, str], age_s: float = 0.0, latency_ms: int = 50,
          price: int | None = 10) -> list[StageObservation]:
    return [StageObservation(stage, ok, reason, latency_ms, age_s,
                             price if stage == "invoice" else None)
            for stage, ok, reason in stages]


FULL = (("challenge", True, "OK"), ("invoice", True, "OK"), ("payment", True, "OK"),
        ("delivery", True, "OK"))


def test_no_evidence_is_insufficient_with_nothing_tested() -> None:
    score = score_endpoint([], half_life_s=HALF_LIFE)
    assert (score.verdict, score.p_success, score.stages) == ("INSUFFICIENT", 0.0, ())
    assert score.reasons == ("PAYMENT_UNTESTED", "DELIVERY_UNTESTED")


def test_a_fully_working_endpoint_is_safe_and_p_is_the_product_of_stages() -> None:
    obs = [o for i in range(10) for o in check(*FULL, age_s=i * 3600, latency_ms=40 + i)]
    score = score_endpoint(obs, half_life_s=HALF_LIFE)
    assert score.verdict == "SAFE" and score.reasons == ()
    assert score.p_success == pytest.approx(math.prod(s.p for s in score.stages))
    assert [s.stage for s in score.stages] == ["challenge", "invoice", "payment", "delivery"]
    assert (score.uptime, score.median_latency_ms, score.price_sat) == (1.0, 44, 10)


def test_without_payments_an_endpoint_cannot_be_safe() -> None:
    obs = [o for _ in range(30) for o in check(*FULL[:2])]
    score = score_endpoint(obs, half_life_s=HALF_LIFE)
    assert score.verdict == "UNKNOWN"
    assert score.reasons == ("PAYMENT_UNTESTED", "DELIVERY_UNTESTED")


def test_failures_are_named_by_stage_heaviest_first_and_rare_ones_left_out() -> None:
    obs: list[StageObservation] = []
    for i in range(20):
        if i % 2:
            obs += check(("challenge", False, "HTTP_5XX"))
        elif i == 4:
            obs += check(("challenge", False, "TIMEOUT"))  # 1 in 20: below the share
        else:
            obs += check(("challenge", True, "OK"), ("invoice", False, "PRICE_MISMATCH"))
    score = score_endpoint(obs, half_life_s=HALF_LIFE)
    assert score.reasons[:2] == ("invoice:PRICE_MISMATCH", "challenge:HTTP_5XX")
    assert "challenge:TIMEOUT" not in score.reasons
    assert score.verdict == "RISKY"
    assert score.uptime == pytest.approx(9 / 20)  # 5xx and timeouts are downtime


def test_old_failures_weigh_less_than_recent_successes() -> None:
    old_bad = [o for _ in range(10) for o in check(("challenge", False, "NOT_402"),
                                                   age_s=60 * DAY)]
    recent_good = [o for _ in range(10) for o in check(*FULL, age_s=DAY)]
    recovered = score_endpoint(old_bad + recent_good, half_life_s=HALF_LIFE)
    relapsed = score_endpoint(
        [StageObservation(o.stage, o.ok, o.reason, o.latency_ms, 60 * DAY if o.ok else DAY,
                          o.price_sat) for o in old_bad + recent_good], half_life_s=HALF_LIFE)
    assert recovered.p_success > 0.6 > relapsed.p_success
    assert recovered.reasons == ()  # a reason under a tenth of the decayed weight is noise


def test_the_newest_invoice_sets_the_price() -> None:
    obs = check(*FULL[:2], age_s=DAY, price=7) + check(*FULL[:2], age_s=0, price=9)
    assert score_endpoint(obs, half_life_s=HALF_LIFE).price_sat == 9
