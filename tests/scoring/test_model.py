"""Unit: the node model v2 on hand-built graphs: route existence within a fee budget from
the reference payer, retries over last hops, liveness attribution, evidence on the grid."""

from __future__ import annotations

import numpy as np

from satrank.outcomes import ProbeOutcome
from satrank.scoring.budgets import AMOUNT_GRID_SAT, NORMAL, TIGHT
from satrank.scoring.engine import ScoreResult, ScoringInputs, ScoringParams, score_nodes
from satrank.scoring.evidence import (
    CAUSE_DOWN,
    ProbeEvidence,
    ReportEvidence,
    empty_probe_evidence,
    empty_report_evidence,
)
from satrank.scoring.knowledge import ChannelKnowledge, empty_channel_knowledge
from satrank.scoring.liveness import down_responsibility
from satrank.scoring.model import grid_evidence
from satrank.scoring.persistence import ProbePairs
from tests.scoring_graphs import arrays_from_graph, pubkey, small_graph

NOW = 1_761_364_800.0
BIG = 5_000_000


def _chain() -> ScoringInputs:
    # payer 0 -> 1 -> 2 -> 3, and 1 -> 4 over a 50k channel; every hop charges 1 sat + 100 ppm
    graph = arrays_from_graph(small_graph(5, [(0, 1, BIG), (1, 2, BIG), (2, 3, BIG),
                                              (1, 4, 50_000)]))
    return ScoringInputs(graph, 800_100, empty_probe_evidence(), payer_pubkeys=(pubkey(0),))


def _p(result: object, budget: object, amount: int) -> np.ndarray:
    model = result.model  # type: ignore[attr-defined]
    b, a = model.budgets.index(budget), model.amounts_sat.index(amount)
    return np.asarray(model.p_success()[b, a])


def test_route_existence_follows_fee_budget_capacity_and_payer() -> None:
    res = score_nodes(_chain(), now_unix=NOW)
    assert res.payer == f"vantage:{pubkey(0)}"
    reach = res.model.reachable
    b_tight, b_normal = res.model.budgets.index(TIGHT), res.model.budgets.index(NORMAL)
    a100k, a10k = AMOUNT_GRID_SAT.index(100_000), AMOUNT_GRID_SAT.index(10_000)
    # 100k sat: node 1 is the payer's own peer (no fee); node 2 costs node 1's 11 sat fee,
    # over the tight 10 sat budget and within the normal one; node 4's channel is too small
    assert reach[b_tight, a100k, 1:].tolist() == [True, False, False, False]
    assert reach[b_normal, a100k, 1:].tolist() == [True, True, True, False]
    # 10k sat: node 1 charges 2 sat, so node 4 is reachable within the tight budget
    assert reach[b_tight, a10k, 4]
    assert res.verdict_names()[4] == "RISKY"
    assert "graph: no route within the fee budget from the reference payer" in res.reasons[4]
    p_normal, p_tight = _p(res, NORMAL, 100_000), _p(res, TIGHT, 100_000)
    assert np.all(p_normal >= p_tight)
    # each hop costs probability: the last hop exactly (it is integrated), the ones before
    # it through 16 liquidity samples, which may all carry an 86 % hop (here 0 -> 1 does)
    assert 0 < p_normal[3] <= p_normal[2] <= p_normal[1] <= 1
    assert p_normal[3] < p_normal[1]
    assert res.grid().shape == (5, len(res.model.budgets) * len(AMOUNT_GRID_SAT))


def test_more_usable_inbound_channels_are_more_retries() -> None:
    one = arrays_from_graph(small_graph(3, [(0, 1, BIG), (1, 2, 400_000)]))
    three = arrays_from_graph(small_graph(3, [(0, 1, BIG), (1, 2, 400_000), (1, 2, 400_000),
                                              (0, 2, 400_000)]))
    p = [_p(score_nodes(ScoringInputs(g, 800_100, empty_probe_evidence(),
                                      payer_pubkeys=(pubkey(0),)), now_unix=NOW),
            NORMAL, 300_000)[2] for g in (one, three)]
    assert 0 < p[0] < p[1]


def test_a_failure_at_the_target_is_blamed_on_what_explains_it() -> None:
    lam = np.array([0.9, 0.9])
    r = down_responsibility(lam, np.array([1.0, 0.1]))
    np.testing.assert_allclose(r, [1.0, 0.1 / 0.91])  # liquidity explains the second
    # node 0's last hop rarely carries anything (a failure there is liquidity), node 1's
    # always does (a failure there means the node is down: it counts at every amount)
    # (nodes 2..21 are a healthy population, each reached once; node 0 answered two small
    # probes)
    healthy = [pubkey(i) for i in range(2, 22)]
    index = {pubkey(i): i for i in range(22)}
    last_hop = np.tile(np.array([[0.02, 0.999] + [0.9] * 20]), (len(AMOUNT_GRID_SAT), 1))
    probes = ProbeEvidence([pubkey(0), pubkey(1), pubkey(0), *healthy, pubkey(0)],
                           np.array([1e6, 1e6, 1e6] + [1e5] * 20 + [1e4]),
                           [ProbeOutcome.FAILED_AT_TARGET] * 2 + [ProbeOutcome.FAILED_IN_ROUTE]
                           + [ProbeOutcome.REACHED] * 21,
                           np.array([1.0, 1.0, 5.0] + [1.0] * 20 + [2.0]))
    ev = grid_evidence(probes, empty_report_evidence(), index, AMOUNT_GRID_SAT, last_hop,
                       default_amount_sat=100_000)
    small, big = AMOUNT_GRID_SAT.index(10_000), AMOUNT_GRID_SAT.index(1_000_000)
    assert ev.probe_f[0, big, :2].tolist() == [1.0, 1.0]  # the 5 failures in route count nothing
    assert ev.probe_f[0, small, 0] < 0.2 < 0.9 < ev.probe_f[0, small, 1]
    assert ev.liveness.down[0] < ev.liveness.down[1]


def test_probes_reaching_a_node_make_it_safe_and_say_so() -> None:
    inputs = _chain()
    probes = ProbeEvidence([pubkey(3)], np.array([100_000.0]), [ProbeOutcome.REACHED],
                           np.array([6.0]))
    res = score_nodes(ScoringInputs(inputs.graph, 800_100, probes,
                                    payer_pubkeys=inputs.payer_pubkeys), now_unix=NOW)
    assert res.verdict_names()[3] == "SAFE"
    assert res.reasons[3][2] == "probes: the credible interval clears the SAFE threshold"
    assert res.verdict_names()[2] == "INSUFFICIENT"


def test_channel_knowledge_moves_the_graph_prior() -> None:
    inputs = _chain()
    g = inputs.graph
    into_3 = int(np.flatnonzero((g.node1 == 2) & (g.node2 == 3))[0])  # 2 -> 3 is direction 0
    failed = ChannelKnowledge(np.array([g.channel_id[into_3]]), np.array([0]), np.zeros(1),
                              np.zeros(1), np.array([200_000.0]), np.array([NOW - 60.0]))
    carried = ChannelKnowledge(np.array([g.channel_id[into_3]]), np.array([0]),
                               np.array([400_000.0]), np.array([NOW - 60.0]),
                               np.full(1, np.inf), np.zeros(1))
    p = {name: _p(score_nodes(ScoringInputs(g, 800_100, empty_probe_evidence(),
                                            knowledge=k, payer_pubkeys=(pubkey(0),)),
                              now_unix=NOW), NORMAL, 300_000)[3]
         for name, k in (("none", empty_channel_knowledge()), ("failed", failed),
                         ("carried", carried))}
    assert p["failed"] <= 0.01 < p["none"] < p["carried"]  # 0.01: the prior mean's floor


def test_the_bimodal_scale_is_a_parameter_of_the_pass() -> None:
    g = arrays_from_graph(small_graph(3, [(0, 1, BIG), (1, 2, 400_000)]))
    inputs = ScoringInputs(g, 800_100, empty_probe_evidence(), payer_pubkeys=(pubkey(0),))
    p = [_p(score_nodes(inputs, now_unix=NOW, params=ScoringParams(bimodal_scale_sat=s)),
            NORMAL, 100_000)[2] for s in (300_000.0, 66_000.0)]
    assert 0 < p[1] < p[0] < 1  # drained-or-full channels: a mid amount fits less often


def test_a_probe_counts_once_not_again_through_its_last_hops_knowledge() -> None:
    """The reach of node 3 at 300k is in S and, as "carried 300k", in the knowledge of
    its last hop 2 -> 3: its prior mean leaves that channel's knowledge out, so the same
    probe with or without the knowledge row gives the same p. Knowledge upstream (1 -> 2,
    about node 2's channel) still moves node 3's prior."""
    inputs = _chain()
    g = inputs.graph

    def row(a: int, b: int) -> ChannelKnowledge:
        e = int(np.flatnonzero((g.node1 == a) & (g.node2 == b))[0])  # direction 0
        return ChannelKnowledge(np.array([g.channel_id[e]]), np.array([0]),
                                np.array([300_000.0]), np.array([NOW - 60.0]),
                                np.full(1, np.inf), np.zeros(1))

    reach = ProbeEvidence([pubkey(3)], np.array([300_000.0]), [ProbeOutcome.REACHED],
                          np.array([1.0]))
    p = {name: _p(score_nodes(ScoringInputs(g, 800_100, reach, knowledge=k,
                                            payer_pubkeys=(pubkey(0),)), now_unix=NOW),
                  NORMAL, 300_000)[3]
         for name, k in (("none", empty_channel_knowledge()), ("last hop", row(2, 3)),
                         ("upstream", row(1, 2)))}
    assert p["last hop"] == p["none"] < p["upstream"]


def test_a_reach_at_a_small_amount_counts_at_larger_ones_through_the_prior() -> None:
    """Node 3 reached at 10k: S counts it at amounts <= 10k only. At 100k its prior takes
    what the reach showed, once: it was up (its liveness posterior, not the population's
    rate mu, which flaky nodes 1 and 2 hold below 1), and its last hop 2 -> 3 carried 10k.
    At 10k, where the reach is in S, neither moves it (counted once)."""
    inputs = _chain()
    g = inputs.graph
    e23 = int(np.flatnonzero((g.node1 == 2) & (g.node2 == 3))[0])  # direction 0
    carried = ChannelKnowledge(np.array([g.channel_id[e23]]), np.array([0]),
                               np.array([10_000.0]), np.array([NOW - 60.0]),
                               np.full(1, np.inf), np.zeros(1))
    flaky = ([pubkey(1), pubkey(2)] * 4, [ProbeOutcome.REACHED, ProbeOutcome.FAILED_AT_TARGET] * 4)

    def scored(reach_3: bool, knowledge: ChannelKnowledge) -> ScoreResult:
        pks, outcomes = list(flaky[0]), list(flaky[1])
        if reach_3:
            pks, outcomes = pks + [pubkey(3)], outcomes + [ProbeOutcome.REACHED]
        probes = ProbeEvidence(pks, np.full(len(pks), 10_000.0), outcomes, np.ones(len(pks)),
                               cause=np.full(len(pks), CAUSE_DOWN, dtype=np.int64))
        return score_nodes(ScoringInputs(g, 800_100, probes, knowledge=knowledge,
                                         payer_pubkeys=(pubkey(0),)), now_unix=NOW)

    never = scored(False, empty_channel_knowledge())
    up = scored(True, empty_channel_knowledge())
    known = scored(True, carried)
    # node 3's reach is also one more node up in the population: mu read without it
    mu, own = never.model.liveness.mu, float(up.model.liveness.mean[3])
    assert mu < 0.9 and own > up.model.liveness.mu > mu
    big = {name: float(_p(r, NORMAL, 100_000)[3]) for name, r in
           (("never", never), ("up", up), ("known", known))}
    np.testing.assert_allclose(big["up"] / big["never"], own / mu, rtol=1e-6)
    assert big["known"] > big["up"]
    small = [float(_p(r, NORMAL, 10_000)[3]) for r in (up, known)]
    assert small[0] == small[1]


def test_a_short_channel_upstream_does_not_cut_off_the_nodes_behind_it() -> None:
    """lnd routes around a channel known to be short: node 4 sits behind node 3, reached
    over 1 -> 3 (cheapest) or 2 -> 3 (1 sat dearer). With 1 -> 3 known to fail at 1,000
    sat, the upstream path to 3 is the one through 2, not the cheapest one that fails."""
    g = arrays_from_graph(small_graph(5, [(0, 1, BIG), (0, 2, BIG), (1, 3, BIG), (2, 3, BIG),
                                          (3, 4, BIG)]))
    g.fee_base_msat[0, 3] = 2_000  # 2 -> 3 (direction 0: node1 = 2) charges 1 sat more
    e13 = int(np.flatnonzero((g.node1 == 1) & (g.node2 == 3))[0])
    short = ChannelKnowledge(np.array([g.channel_id[e13]]), np.array([0]), np.zeros(1),
                             np.zeros(1), np.array([1_000.0]), np.array([NOW - 60.0]))
    p = {name: _p(score_nodes(ScoringInputs(g, 800_100, empty_probe_evidence(), knowledge=k,
                                            payer_pubkeys=(pubkey(0),)), now_unix=NOW),
                  NORMAL, 100_000)[4]
         for name, k in (("none", empty_channel_knowledge()), ("1 -> 3 short", short))}
    # with 1 -> 3 short only the path through 2 is left: fewer retries, not none
    assert p["none"] > p["1 -> 3 short"] > 0.6 * p["none"] > 0.3


def test_an_unprobed_node_carries_the_populations_rate_of_being_down() -> None:
    # the chain's node 3 is never probed; nodes 1 and 2 are, and in one world they always
    # answer, in the other they are often down (UNKNOWN_NEXT_PEER): the graph is the same,
    # so only the population's liveness can move node 3's prior
    inputs = _chain()

    def node_3(outcomes: list[ProbeOutcome]) -> tuple[float, float]:
        probes = ProbeEvidence([pubkey(1), pubkey(2)] * 4, np.full(8, 10_000.0), outcomes * 4,
                               np.ones(8), cause=np.full(8, CAUSE_DOWN, dtype=np.int64))
        res = score_nodes(ScoringInputs(inputs.graph, 800_100, probes,
                                        payer_pubkeys=inputs.payer_pubkeys), now_unix=NOW)
        return float(_p(res, NORMAL, 10_000)[3]), res.model.liveness.mu

    p_healthy, mu_healthy = node_3([ProbeOutcome.REACHED] * 2)
    p_flaky, mu_flaky = node_3([ProbeOutcome.REACHED, ProbeOutcome.FAILED_AT_TARGET])
    assert mu_flaky < 0.9 < mu_healthy
    np.testing.assert_allclose(p_flaky / p_healthy, mu_flaky / mu_healthy, rtol=1e-9)


def test_the_populations_rate_of_being_up_counts_each_node_once() -> None:
    # nine nodes reached once a day ago and one flaky node the scheduler came back to ten
    # times, down each time in the last hours: the network is 90 % up, not 9 of 19
    # observations, and not the last hours' choice of nodes
    n = 10
    index = {pubkey(i): i for i in range(n)}
    pks = [pubkey(i) for i in range(9)] + [pubkey(9)] * 10
    probes = ProbeEvidence(pks, np.full(19, 1e5),
                           [ProbeOutcome.REACHED] * 9 + [ProbeOutcome.FAILED_AT_TARGET] * 10,
                           np.ones(19), cause=np.array([0] * 9 + [CAUSE_DOWN] * 10),
                           live_count=np.array([0.004] * 9 + [1.0] * 10))
    last_hop = np.full((len(AMOUNT_GRID_SAT), n), 0.9)
    ev = grid_evidence(probes, empty_report_evidence(), index, AMOUNT_GRID_SAT, last_hop,
                       default_amount_sat=100_000)
    np.testing.assert_allclose(ev.liveness.mu, 0.9)


def test_the_graph_links_rows_count_each_node_once() -> None:
    # 300 nodes reached once each and 30 nodes the scheduler came back to ten times, their
    # last hop short every time: per node, 10 % of the probed population fails; per probe
    # half the rows do, which would read every unprobed node's prior far too low
    n = 330
    index = {pubkey(i): i for i in range(n)}
    pks = [pubkey(i) for i in range(300)] + [pubkey(300 + i) for i in range(30)] * 10
    outcomes = [ProbeOutcome.REACHED] * 300 + [ProbeOutcome.FAILED_AT_TARGET] * 300
    probes = ProbeEvidence(pks, np.full(600, 1e5), outcomes, np.full(600, 0.5))
    last_hop = np.full((len(AMOUNT_GRID_SAT), n), 0.9)
    ev = grid_evidence(probes, empty_report_evidence(), index, AMOUNT_GRID_SAT, last_hop,
                       default_amount_sat=100_000)
    assert ev.link_rows is not None
    node, _, _, y, w = ev.link_rows
    assert node.shape[0] == 600
    np.testing.assert_allclose(np.bincount(node, w, minlength=n), 1.0)
    np.testing.assert_allclose(np.average(y, weights=w), 300 / 330)


def test_a_small_kappa_widens_the_prior_without_moving_its_mean() -> None:
    # payer 0 -> hub 1 -> 40 leaves; 36 leaves probed 3 times each, 32 always reached and
    # 4 always down: nodes mostly work or mostly fail, so the fitted prior strength is
    # small. The 4 unprobed leaves keep their prior mean (the population's rate of being
    # up times the graph's p), not a mean clipped to 1 - 0.02 / kappa, and both Beta
    # parameters of every cell stay >= 0.02 (the 95 % interval holds the mean)
    leaves = range(2, 42)
    graph = arrays_from_graph(small_graph(42, [(0, 1, BIG)] + [(1, v, BIG) for v in leaves]))
    probed = [pubkey(v) for v in range(2, 38)]
    pks = probed * 3
    outcomes = ([ProbeOutcome.REACHED] * 32 + [ProbeOutcome.FAILED_AT_TARGET] * 4) * 3
    probes = ProbeEvidence(pks, np.full(len(pks), 10_000.0), outcomes, np.ones(len(pks)),
                           cause=np.array(([0] * 32 + [CAUSE_DOWN] * 4) * 3))
    res = score_nodes(ScoringInputs(graph, 800_100, probes, payer_pubkeys=(pubkey(0),)),
                      now_unix=NOW)
    model = res.model
    assert model.kappa_fitted and model.kappa < 0.1
    b, a = model.budgets.index(NORMAL), model.amounts_sat.index(10_000)
    unprobed = [res.pubkeys.index(pubkey(v)) for v in range(38, 42)]
    p = model.p_success()[b, a, unprobed]
    np.testing.assert_allclose(p, model.prior_mean[b, a, unprobed])
    assert (p > 1.0 - 0.02 / model.kappa).all() and (p > 0.8).all()
    prior_a = model.strength * model.prior_mean
    prior_b = model.strength * (1.0 - model.prior_mean)
    assert prior_a.min() >= 0.02 - 1e-12 and prior_b.min() >= 0.02 - 1e-12
    cell = model.posterior(b, a)
    assert (cell.ci95_low[unprobed] <= p).all() and (p <= cell.ci95_high[unprobed]).all()


def test_old_evidence_is_forecast_towards_the_renewal_rate_and_fresh_evidence_is_not() -> None:
    # the same 3 reaches of leaf 2 and 3 failures at leaf 3, once sent a minute before the
    # pass and once four days before; persistence fitted on pairs (tau 2 days): the old
    # answers are forecast to now, rho = exp(-2) of them kept, the rest the fit's renewal
    # rate (a Beta of the mixture's mean and variance); n_eff (what verdicts count) is the
    # evidence's
    graph = arrays_from_graph(small_graph(6, [(0, 1, BIG)] + [(1, v, BIG) for v in range(2, 6)]))
    pks = [pubkey(2)] * 3 + [pubkey(3)] * 3
    outcomes = [ProbeOutcome.REACHED] * 3 + [ProbeOutcome.FAILED_AT_TARGET] * 3
    tau = 2 * 86_400.0
    rng = np.random.default_rng(8)
    dt = rng.choice([3_600.0, 86_400.0, 4 * 86_400.0], size=20_000)
    kept = rng.random(dt.size) < np.exp(-dt / tau)
    y1 = rng.random(dt.size) < 0.75
    y2 = np.where(kept, y1, rng.random(dt.size) < 0.75)
    keys = sorted({(float(a), float(b), float(d)) for a, b, d in zip(y1, y2, dt, strict=True)})
    pairs = ProbePairs(np.array([k[0] for k in keys]), np.array([k[1] for k in keys]),
                       np.array([float(((y1 == k[0]) & (y2 == k[1]) & (dt == k[2])).sum())
                                 for k in keys]), np.array([k[2] for k in keys]))

    # leaf 4 has user reports only (no probe, so no age): they count as they did
    reports = ReportEvidence([pubkey(4)], np.zeros(1), np.array([False]), np.array([True]),
                             np.array([3.0]))

    def scored(age_s: float, with_pairs: bool = True) -> ScoreResult:
        probes = ProbeEvidence(pks, np.full(len(pks), 10_000.0), outcomes, np.ones(len(pks)),
                               cause=np.array([0] * 3 + [CAUSE_DOWN] * 3),
                               last_unix=np.full(len(pks), NOW - age_s))
        return score_nodes(ScoringInputs(graph, 800_100, probes, reports,
                                         payer_pubkeys=(pubkey(0),),
                                         pairs=pairs if with_pairs else None), now_unix=NOW)

    fresh_result, old_result = scored(60.0), scored(4 * 86_400.0)
    fresh, old = fresh_result.model, old_result.model
    # the reasons say how old the evidence is where the forecast set a share of it aside
    aged = [line for line in old_result.reasons[2] if line.startswith("latest probe")]
    assert aged and aged[0].startswith("latest probe 96 h ago: 14% of what")
    assert not any(line.startswith("latest probe") for line in fresh_result.reasons[2])
    assert 0.5 * tau <= old.persistence.tau_s <= 2 * tau
    b, a = fresh.budgets.index(NORMAL), fresh.amounts_sat.index(10_000)
    two, three = 2, 3  # graph node indices of leaves 2 and 3
    for model in (fresh, old):
        rho = float(model.rho[two]) if model.rho is not None else 1.0
        post = model.posterior(b, a)
        kept_mean = (model.strength * model.prior_mean + model.successes)[b, a] / (
            model.strength + model.successes + model.failures)[b, a]
        # renewed at the fit's rate of later probes (0.75 here), not the node's prior
        m = model.persistence.renewal
        assert m is not None
        expected = rho * kept_mean + (1 - rho) * m
        np.testing.assert_allclose(post.p_success[[two, three]], expected[[two, three]],
                                   rtol=1e-9)
        np.testing.assert_allclose(model.p_success()[b, a, [two, three]],
                                   expected[[two, three]], rtol=1e-9)
        assert post.n_eff[two] == 3.0 and post.n_eff[three] == 3.0
        assert (post.ci95_low <= post.p_success).all()
        assert (post.p_success <= post.ci95_high).all()
    p_fresh = fresh.p_success()[b, a]
    p_old = old.p_success()[b, a]
    m = old.persistence.renewal
    assert m is not None and abs(m - 0.75) < 0.02
    assert abs(old.prior_mean[b, a, two] - m) > 0.05  # the prior is not what it renews to
    assert p_fresh[two] > p_old[two] > m  # reached: drawn down towards the renewal rate
    assert p_fresh[three] < p_old[three] < m  # failed: drawn up towards it
    # four days at tau ~2 days keep ~14 % of what the evidence said
    kept = np.abs(p_old - m)[[two, three]] / np.abs(p_fresh - m)[[two, three]]
    assert ((0.08 < kept) & (kept < 0.2)).all()
    reported, tier = 4, old.amounts_sat.index(100_000)  # reports without an amount: 100k
    p_unforecast = scored(4 * 86_400.0, with_pairs=False).model.p_success()[b, tier]
    p_reported = old.p_success()[b, tier]
    assert p_reported[reported] == p_unforecast[reported]
    assert p_reported[reported] < old.prior_mean[b, tier, reported] - 0.05
