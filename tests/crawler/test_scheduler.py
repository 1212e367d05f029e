"""Unit: the probe planner (pure): value = information gain x demand x staleness, the
requested first, cooldown and caps, fee budgets, the tier where a probe informs most."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np

from satrank.crawler.scheduler import (
    PlannedProbe,
    ProbeBudget,
    ProbeCandidates,
    assign_vantages,
    fee_limit_sat,
    plan_probes,
)
from satrank.scoring.information import beta_information_gain

NOW = datetime(2025, 10, 25, 12, tzinfo=UTC)
BUDGET = ProbeBudget(cooldown_s=3600, stale_s=86_400, node_daily_cap=3, daily_cap_left=100)
TIERS = (10_000, 100_000, 1_000_000)
NODES = ["a", "b", "c", "d", "e"]


def _candidates(pagerank: list[float] | None = None, asks: list[float] | None = None,
                alpha: list[float] | None = None, beta: list[float] | None = None
                ) -> ProbeCandidates:
    n = len(NODES)
    a = np.tile(np.array(alpha or [1.0] * n)[:, None], (1, len(TIERS)))
    b = np.tile(np.array(beta or [1.0] * n)[:, None], (1, len(TIERS)))
    return ProbeCandidates(NODES, np.array(pagerank or [5.0, 4.0, 3.0, 2.0, 1.0]), a, b,
                           np.array(asks or [0.0] * n))


def _plan(n: int, c: ProbeCandidates | None = None, last: dict[str, datetime] | None = None,
          today: dict[str, int] | None = None, budget: ProbeBudget = BUDGET,
          seed: int = 1) -> list[tuple[str, str]]:
    plan = plan_probes(c or _candidates(), n=n, now=NOW, last_probed=last or {},
                       probes_today=today or {}, budget=budget, tiers_sat=TIERS,
                       rng=np.random.default_rng(seed), tight_fee_sat=10)
    assert all(p.amount_sat in TIERS for p in plan)
    assert [p.priority for p in plan] == sorted((p.priority for p in plan), reverse=True)
    return [(p.pubkey, p.reason) for p in plan]


def test_information_gain_falls_with_evidence_and_certainty() -> None:
    gain = beta_information_gain(np.array([1.0, 5.0, 50.0, 10.0, 1.0, 0.02]),
                                 np.array([1.0, 5.0, 50.0, 1.0, 10.0, 1.98]))
    assert 0.19 < gain[0] < np.log(2)  # Beta(1, 1): I = ln 2 - 1/2
    assert gain[0] > gain[1] > gain[2] > 0  # more evidence, less to learn
    assert abs(gain[3] - gain[4]) < 1e-12  # symmetric in p <-> 1 - p
    assert gain[5] < gain[3] < gain[1]  # a p near 0 or 1 teaches less than one near 1/2


def test_higher_rank_and_more_uncertainty_come_first() -> None:
    assert [p for p, _ in _plan(5)] == ["a", "b", "c", "d", "e"]  # equal posteriors: rank
    # at equal rank and equally old evidence, the node we know least about first
    known = _candidates(pagerank=[1.0] * 5, alpha=[40, 1, 20, 5, 2], beta=[40, 1, 20, 5, 2])
    probed = {p: NOW - timedelta(days=2) for p in "abcde"}
    assert [p for p, _ in _plan(5, known, probed)] == ["b", "e", "d", "c", "a"]
    # never probed, a narrow posterior is the graph prior alone: rank decides
    assert [p for p, _ in _plan(5, _candidates(alpha=[40, 1, 20, 5, 2],
                                               beta=[40, 1, 20, 5, 2]))] == list("abcde")


def test_requested_first_most_asked_first_then_by_value() -> None:
    # "e" is the least central node and its prior says p ~ 0.01: little to learn, yet an
    # agent asked about it; "d" was asked about more often
    asked = _candidates(asks=[0, 0, 0, 2, 1], alpha=[1, 1, 1, 1, 0.02],
                        beta=[1, 1, 1, 1, 1.98])
    assert _plan(5, asked)[:2] == [("d", "requested"), ("e", "requested")]
    assert [p for p, _ in _plan(5, asked)[2:]] == ["a", "b", "c"]


def test_stale_evidence_before_recent_and_never_probed_before_both() -> None:
    flat = _candidates(pagerank=[1.0] * 5)
    last = {"a": NOW - timedelta(hours=2), "b": NOW - timedelta(days=3),
            "c": NOW - timedelta(days=1, hours=1)}
    assert _plan(5, flat, last) == [("d", "never"), ("e", "never"), ("b", "stale"),
                                    ("c", "stale"), ("a", "gain")]


def test_cooldown_and_caps() -> None:
    last = {"a": NOW - timedelta(minutes=10), "b": NOW - timedelta(days=2)}
    got = _plan(5, last=last, today={"b": 3})
    assert {p for p, _ in got} == {"c", "d", "e"}  # a cooling down, b at its daily cap
    capped = ProbeBudget(3600, 86_400, 3, daily_cap_left=2)
    assert len(_plan(5, budget=capped)) == 2
    assert _plan(0) == []


def test_probes_carry_the_fee_budgets_being_estimated() -> None:
    assert fee_limit_sat("tight", 1_000_000, tight_fee_sat=10) == 10
    assert fee_limit_sat("normal", 100_000, tight_fee_sat=10) == 505  # 0.5 % + 5 sat
    assert fee_limit_sat("normal", 10_001, tight_fee_sat=10) == 56  # rounded up
    nodes = [f"n{i:02d}" for i in range(40)]
    c = ProbeCandidates(nodes, np.ones(40), np.ones((40, 3)), np.ones((40, 3)), np.zeros(40))
    plan = plan_probes(c, n=40, now=NOW, last_probed={}, probes_today={}, budget=BUDGET,
                       tiers_sat=TIERS, rng=np.random.default_rng(3), tight_fee_sat=10)
    tight = [p for p in plan if p.fee_limit_sat == 10]
    normal = [p for p in plan if p.fee_limit_sat == fee_limit_sat("normal", p.amount_sat,
                                                                  tight_fee_sat=10)]
    assert len(tight) == len(normal) == 20  # both budgets, half each: no hidden 10-sat limit


def test_each_node_is_probed_at_the_tier_where_it_informs_most() -> None:
    c = _candidates()
    # "a" is well known at the small tiers and unknown at the large one; "b" the reverse
    alpha = np.array([[30.0, 30.0, 1.0], [1.0, 30.0, 30.0], [1, 1, 1], [1, 1, 1], [1, 1, 1]])
    plan = plan_probes(ProbeCandidates(c.pubkeys, c.pagerank, alpha, alpha.copy(), c.asks),
                       n=2, now=NOW, last_probed={}, probes_today={}, budget=BUDGET,
                       tiers_sat=TIERS, rng=np.random.default_rng(1), tight_fee_sat=10)
    assert {p.pubkey: p.amount_sat for p in plan} == {"a": 1_000_000, "b": 10_000}


def test_each_probe_goes_to_the_vantage_that_probed_its_target_least() -> None:
    assert assign_vantages(["a", "b"], ["v1"], {}) == [None, None]  # one vantage: any
    counts = {"a": {"v1": 3, "v2": 1}, "b": {"v2": 2}, "c": {"v1": 1, "v2": 1}}
    assert assign_vantages(["a", "b", "c", "d", "e"], ["v1", "v2"], counts) == [
        "v2",  # v1 probed "a" more
        "v1",  # only v2 probed "b"
        "v1",  # "c": tied in probes and in this round's share (1 each): by name
        "v2",  # "d": nobody probed it; v2 has less of this round (1 against 2)
        "v1"]  # "e": all tied again (2 each): by name


def test_tiers_that_inform_equally_are_probed_at_the_default_tier() -> None:
    # a fresh deployment: the graph prior gives every tier the same posterior; a reach at
    # 10k would say nothing about the 100k cell verdict and rank stand on
    prior_only = _candidates(alpha=[1.98] * 5, beta=[0.02] * 5)
    plan = plan_probes(prior_only, n=5, now=NOW, last_probed={}, probes_today={},
                       budget=BUDGET, tiers_sat=TIERS, rng=np.random.default_rng(1),
                       tight_fee_sat=10)
    assert [p.amount_sat for p in plan] == [100_000] * 5
    elsewhere = plan_probes(prior_only, n=5, now=NOW, last_probed={}, probes_today={},
                            budget=BUDGET, tiers_sat=TIERS, rng=np.random.default_rng(1),
                            tight_fee_sat=10, default_tier_sat=1_000_000)
    assert [p.amount_sat for p in elsewhere] == [1_000_000] * 5


def test_a_node_short_of_a_verdicts_evidence_is_probed_again_before_lesser_nodes() -> None:
    # "a" (the most central) reached once at every tier: the narrow graph prior calls it
    # nearly known, but its verdict stays INSUFFICIENT until a second observation
    a_known = ProbeCandidates(NODES, np.array([2.0, 1.0, 1.0, 1.0, 1.0]),
                              np.array([[2.98] * 3] + [[1.98] * 3] * 4),
                              np.array([[0.02] * 3] * 5), np.zeros(5),
                              np.array([1.0, 0.0, 0.0, 0.0, 0.0]))
    last = {"a": NOW - timedelta(hours=2)}
    assert _plan(5, a_known, last)[0] == ("a", "gain")
    # with the evidence of a verdict, or once it had its share of probes today, the
    # information gain decides again (little to learn: last)
    settled = ProbeCandidates(a_known.pubkeys, a_known.pagerank,
                              np.array([[12.0] * 3] + [[1.98] * 3] * 4), a_known.beta,
                              a_known.asks, np.array([10.0, 0, 0, 0, 0]))
    assert _plan(5, settled, last)[-1] == ("a", "gain")
    assert _plan(5, a_known, last, today={"a": 4},
                 budget=ProbeBudget(3600, 86_400, 12, 100))[-1] == ("a", "gain")


def _population(size: int) -> ProbeCandidates:
    """`size` nodes, pagerank falling with the index: value orders them by index."""
    nodes = [f"n{i:04d}" for i in range(size)]
    return ProbeCandidates(nodes, np.linspace(2.0, 1.0, size), np.ones((size, 3)),
                           np.ones((size, 3)), np.zeros(size))


def _sampled(c: ProbeCandidates, *, share: float, seed: int = 7, n: int = 50,
             last: dict[str, datetime] | None = None) -> list[PlannedProbe]:
    return plan_probes(c, n=n, now=NOW, last_probed=last or {}, probes_today={},
                       budget=ProbeBudget(3600, 86_400, 12, 10_000), tiers_sat=TIERS,
                       rng=np.random.default_rng(seed), tight_fee_sat=10,
                       sample_share=share)


def test_a_share_of_the_round_goes_to_nodes_drawn_uniformly_among_the_eligible() -> None:
    c = _population(1000)
    # every fifth node cooling down: not eligible, so never drawn
    cooling = {p: NOW - timedelta(minutes=5) for p in c.pubkeys[::5]}
    plan = _sampled(c, share=0.2, last=cooling)
    assert len(plan) == 50
    sample = [p for p in plan if p.reason == "sample"]
    valued = [p for p in plan if p.reason != "sample"]
    assert len(sample) == 10
    eligible = [p for p in c.pubkeys if p not in cooling]
    # the value part is the 40 most valuable eligible nodes; the sample is elsewhere
    assert [p.pubkey for p in valued] == eligible[:40]
    assert {p.pubkey for p in sample} <= set(eligible[40:])
    assert len({p.pubkey for p in sample}) == 10
    # drawn, not the next in value order: a uniform draw of 10 among 760 nodes taking
    # exactly the 10 next ones has probability ~1e-23
    assert {p.pubkey for p in sample} != set(eligible[40:50])
    assert all(p.amount_sat in TIERS for p in sample)
    assert sorted(p.fee_limit_sat == 10 for p in sample) == [False] * 5 + [True] * 5
    # queued on the value probes' scale (their median), the plan in queue order
    median = float(np.median([p.priority for p in valued]))
    assert {p.priority for p in sample} == {median}
    assert [p.priority for p in plan] == sorted((p.priority for p in plan), reverse=True)


def test_sample_draws_spread_over_the_eligible_nodes_and_tiers() -> None:
    c = _population(1000)
    drawn = [p for seed in range(40) for p in _sampled(c, share=0.2, seed=seed)
             if p.reason == "sample"]
    index = np.array([int(p.pubkey[1:]) for p in drawn])
    assert len(drawn) == 400 and index.min() >= 40  # never a value-chosen node
    # uniform over the 960 others: each half holds about half of the draws
    assert 150 < int((index < 520).sum()) < 250
    amounts = [p.amount_sat for p in drawn]
    assert all(80 < amounts.count(t) < 190 for t in TIERS)


def test_sample_is_deterministic_for_a_seed_and_absent_at_share_0() -> None:
    c = _population(1000)
    assert _sampled(c, share=0.2, seed=5) == _sampled(c, share=0.2, seed=5)
    assert _sampled(c, share=0.2, seed=5) != _sampled(c, share=0.2, seed=6)
    none = _sampled(c, share=0.0)
    assert len(none) == 50 and not [p for p in none if p.reason == "sample"]
    assert [p.pubkey for p in none] == c.pubkeys[:50]


def test_requested_nodes_come_first_and_are_never_sample_slots() -> None:
    c = _population(1000)
    asks = np.zeros(1000)
    asks[[900, 950, 999]] = [3.0, 2.0, 1.0]  # the least central nodes, asked about
    asked = ProbeCandidates(c.pubkeys, c.pagerank, c.alpha, c.beta, asks)
    plan = _sampled(asked, share=0.2)
    assert [(p.pubkey, p.reason) for p in plan[:3]] == [
        ("n0900", "requested"), ("n0950", "requested"), ("n0999", "requested")]
    assert sum(p.reason == "sample" for p in plan) == 10  # out of the 47 value slots
    assert [p.pubkey for p in plan if p.reason not in ("sample", "requested")] \
        == c.pubkeys[:37]
    # requests filling the round leave no room for a sample
    many = np.zeros(1000)
    many[:60] = 1.0
    full = _sampled(ProbeCandidates(c.pubkeys, c.pagerank, c.alpha, c.beta, many), share=0.2)
    assert [p.reason for p in full] == ["requested"] * 50


def _routes(caps: list[tuple[float, float]], c: ProbeCandidates) -> ProbeCandidates:
    """`c` with per node (tight, normal) largest routable amounts."""
    return ProbeCandidates(c.pubkeys, c.pagerank, c.alpha, c.beta, c.asks, c.n_eff,
                           np.array(caps, dtype=np.float64))


def test_nodes_the_graph_decides_are_not_probed_and_probes_use_cells_with_a_route() -> None:
    # a: no route at all (even asked about: the graph answers it, lnd would not try);
    # b: a route only at 10k within the normal budget; c: up to 100k tight, 1M normal;
    # d: not known (+inf); e: 10k normal only, and its 10k cell informs least
    alpha = np.ones((5, 3))
    alpha[4] = [40.0, 1.0, 1.0]
    c = _routes([(0.0, 0.0), (0.0, 10_000.0), (150_000.0, 1_000_000.0),
                 (np.inf, np.inf), (0.0, 10_000.0)],
                ProbeCandidates(NODES, np.array([5.0, 4.0, 3.0, 2.0, 1.0]), alpha,
                                np.ones((5, 3)), np.array([9.0, 0.0, 0.0, 0.0, 0.0])))
    for seed in range(20):
        plan = plan_probes(c, n=5, now=NOW, last_probed={}, probes_today={}, budget=BUDGET,
                           tiers_sat=TIERS, rng=np.random.default_rng(seed), tight_fee_sat=10)
        by = {p.pubkey: p for p in plan}
        assert set(by) == {"b", "c", "d", "e"}
        assert (by["b"].amount_sat, by["b"].fee_limit_sat) == (10_000, 55)
        assert (by["e"].amount_sat, by["e"].fee_limit_sat) == (10_000, 55)
        # c at the default tier (100k) has a route within both budgets: either is kept
        assert by["c"].amount_sat == 100_000 and by["c"].fee_limit_sat in (10, 505)
    # the drawn budgets are kept where they have a route: c and d see both over the seeds
    seen = {(p.pubkey, p.fee_limit_sat) for seed in range(20) for p in plan_probes(
        c, n=5, now=NOW, last_probed={}, probes_today={}, budget=BUDGET, tiers_sat=TIERS,
        rng=np.random.default_rng(seed), tight_fee_sat=10)}
    assert {("c", 10), ("c", 505), ("d", 10), ("d", 505)} <= seen


def test_sample_probes_go_to_nodes_and_cells_with_a_route() -> None:
    c = _population(1000)
    # odd nodes: no route at all; nodes divisible by 4: a route at 10k normal only
    caps = [(0.0, 0.0) if i % 2 else (0.0, 10_000.0) if i % 4 == 0 else (np.inf, np.inf)
            for i in range(1000)]
    routed = _routes(caps, c)
    drawn = [p for seed in range(20) for p in _sampled(routed, share=0.2, seed=seed)]
    assert len(drawn) == 20 * 50
    index = np.array([int(p.pubkey[1:]) for p in drawn])
    assert not (index % 2).any()
    narrow = [p for p, i in zip(drawn, index.tolist(), strict=True) if i % 4 == 0]
    assert narrow and all((p.amount_sat, p.fee_limit_sat) == (10_000, 55) for p in narrow)
    wide = [p for p, i in zip(drawn, index.tolist(), strict=True)
            if i % 4 == 2 and p.reason == "sample"]
    assert {p.amount_sat for p in wide} == set(TIERS)
