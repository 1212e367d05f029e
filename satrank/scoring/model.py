"""The node model: p_success(node, amount, fee_budget) for the reference payer, on the
amount grid x fee budgets (definition in `scoring.budgets`, maths in methodology.md §5).

    p = R(v, a, b) * theta(v, a, b)

R is route existence within the budget on the synced graph (`scoring.reach`); theta is the
probability the payment reaches v given such a route exists, a Beta posterior per cell:

    prior mean  m = mu x P_graph(v, a, b): mu the population's rate of being up
                    (`scoring.liveness`); P_graph lnd's retries over every route within
                    the budget (sampled), from lnd's bimodal liquidity on what probes
                    showed (channel knowledge);
                    in a cell where the node's own probes count in S or F, its last hops
                    without knowledge and mu the population's (those probes are in S
                    and F: counted once); in its other cells (larger amounts than it
                    was reached at) with them and mu its own liveness posterior
    strength    kappa, fitted by beta-binomial marginal likelihood against these m on the
                    (node, amount) cells with >= 2 probe observations; raised in a cell
                    where kappa x m or kappa x (1 - m) would fall below MIN_PRIOR_PARAM
                    (the mean m itself is kept)
    evidence    S(a) = reaches at amounts >= a (liquidity is monotone in the amount);
                F(a) = failures at the target: the share r blamed on the node being down
                    (the failure code's answer where it gives one, else the likelihood
                    split of `scoring.liveness`) counts at every amount with the liveness
                    decay, the rest (the last hop was short) at amounts >= the probed
                    one; timeouts at amounts >= the probed one; failures inside the
                    route and no-route count nothing (they are about other nodes, and
                    route existence is the graph's);
                reports as before, capped to a share of the evidence.
    forecast    the cell's Beta moved to now: mean rho(age) x posterior's + (1 - rho)
                x the persistence fit's renewal rate m, spread as the mixture with the
                prior (`scoring.persistence`; age: the node's latest probe with a route)

Evidence per budget, from the fee limit and route fee stored with each probe: a success
counts at the budgets whose limit (at the probed amount) covers the fee of the route that
reached, a timeout at those at most as loose as the probe's limit; a failure located at
the target blamed on the node being down counts at every budget (it is about the node, not
fees), a short last hop at budgets at most as loose as the probe's. The prior mean and R
depend on the budget through the graph.

mu, the population's rate of being up, is read from the scheduler's sample probes (reason
"sample", drawn uniformly among the eligible nodes) once there are enough of them
(`scoring.liveness`). The link is fitted on every probe with a route, each node counted
once (the scheduler comes back to the nodes that failed): fitted on the sample
probes alone it read the unprobed nodes' priors too low on the calibration bench (mean p
0.61-0.63 where 0.76 were reached, two runs; every probe: 0.77 for 0.77), see
bench/RESULTS.md. kappa stays fitted on every probe.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np
from scipy.special import betaincinv

from satrank.outcomes import ProbeOutcome
from satrank.scoring.budgets import BUDGETS, TIGHT, FeeBudget
from satrank.scoring.evidence import (
    ProbeEvidence,
    ReportEvidence,
    cap_evidence,
    cap_report_share,
    report_tier_evidence,
)
from satrank.scoring.graph import BoolArray, FloatArray, IntArray
from satrank.scoring.grid import interpolate
from satrank.scoring.link import Link, fit_link
from satrank.scoring.liveness import (
    Liveness,
    attributed_responsibility,
    fit_liveness,
    population_rows,
)
from satrank.scoring.persistence import Persistence, forecast
from satrank.scoring.posterior import (
    CI_LEVEL,
    MIN_PRIOR_STRENGTH,
    PRIOR_MEAN_MAX,
    PRIOR_MEAN_MIN,
    Posterior,
)
from satrank.scoring.prior import fit_strength
from satrank.scoring.reach import PayerView

COLD_KAPPA = MIN_PRIOR_STRENGTH  # a graph prior worth two probes until kappa is identified
# Both prior Beta parameters stay >= this, where the equal-tailed 95 % interval always
# contains the mean: a cell's prior strength is raised to MIN / min(m, 1 - m) where kappa is
# below it. Clipping the mean to [MIN/kappa, 1 - MIN/kappa] instead capped every node
# without evidence of its own at 1 - MIN/kappa, and a population of nodes that mostly work
# or mostly fail fits a small kappa: 0.07-0.12 at the calibration bench's held-out window,
# caps of 0.71-0.83, never-probed nodes read 0.69-0.72 where 0.74-0.78 were reached.
MIN_PRIOR_PARAM = 0.02


@dataclass(frozen=True)
class GridEvidence:
    """Weighted evidence: probes per (budget, amount, node), reports per (amount, node)."""

    probe_s: FloatArray  # (B, A, n)
    probe_f: FloatArray
    report_s: FloatArray
    report_f: FloatArray
    liveness: Liveness
    # probes that had a route (reached, failed at the target, in the route or timed out),
    # for the graph prior's link (`scoring.link`): node, amount, budget index, outcome
    # (1 reached), weight
    link_rows: tuple[IntArray, FloatArray, IntArray, FloatArray, FloatArray] | None = None
    # (n,): each node's latest probe with a route (reached, failed at it, timed out), unix
    # s; -inf: none; +inf: one of unknown time (taken as now)
    last_unix: FloatArray | None = None


@dataclass(frozen=True)
class NodeModel:
    amounts_sat: tuple[int, ...]
    budgets: tuple[FeeBudget, ...]
    reachable: BoolArray  # (B, A, n)
    prior_mean: FloatArray  # (B, A, n)
    kappa: float
    kappa_fitted: bool
    strength: FloatArray  # (B, A, n): kappa, raised where a Beta parameter would be tiny
    successes: FloatArray  # (B, A, n) after caps, reports included
    failures: FloatArray
    report_weight: FloatArray  # (B, A, n)
    probe_successes: FloatArray  # (B, A, n) probes alone, after the autocorrelation cap
    probe_failures: FloatArray
    liveness: Liveness
    link: Link = Link()  # the graph prior's, as fitted this pass
    # (n,): seconds since each node's latest probe with a route (0: none, or of unknown
    # time); None: the evidence is taken as current
    evidence_age_s: FloatArray | None = None
    persistence: Persistence = Persistence()

    @cached_property
    def rho(self) -> FloatArray | None:
        """(n,): P(the state the node's evidence saw still holds now)
        (`scoring.persistence`); None: 1 everywhere (no age, or tau not fitted)."""
        if self.evidence_age_s is None or not self.persistence.fitted:
            return None
        return self.persistence.rho(self.evidence_age_s)

    @cached_property
    def _grid_beta(self) -> tuple[FloatArray, FloatArray]:
        """(alpha, beta), each (B, A, n), forecast to now: once per model (p_success,
        alpha and beta all read it when the pass is stored)."""
        rho = self.rho
        _, _, a, b = cell_beta(self.prior_mean, self.strength, self.successes, self.failures,
                               None if rho is None else rho[None, None],
                               self.persistence.renewal)
        return np.asarray(a, np.float64), np.asarray(b, np.float64)

    def alpha(self) -> FloatArray:
        return self._grid_beta[0]

    def beta(self) -> FloatArray:
        return self._grid_beta[1]

    def p_success(self) -> FloatArray:
        """(B, A, n): R * E[theta]."""
        a, b = self._grid_beta
        return np.asarray(self.reachable * a / (a + b), dtype=np.float64)

    def posterior(self, budget: int, amount: int) -> Posterior:
        """One cell as a Posterior with its exact 95 % interval (0 where no route)."""
        m = self.prior_mean[budget, amount]
        s, f = self.successes[budget, amount], self.failures[budget, amount]
        return cell_posterior(m, self.strength[budget, amount], s, f,
                              self.reachable[budget, amount], self.rho,
                              self.persistence.renewal)

    def posterior_without_reports(self, budget: int, amount: int) -> Posterior:
        return cell_posterior(self.prior_mean[budget, amount], self.strength[budget, amount],
                              self.probe_successes[budget, amount],
                              self.probe_failures[budget, amount],
                              self.reachable[budget, amount], self.rho,
                              self.persistence.renewal)


def cell_beta(m: FloatArray, strength: FloatArray | float, s: FloatArray, f: FloatArray,
              rho: FloatArray | None, renewal: float | None = None
              ) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """(prior alpha, prior beta, alpha, beta) of cells for a payment now: the posterior,
    forecast over the age of its evidence where `rho` is given (`scoring.persistence`),
    renewed at the rate `renewal` (None: at the prior mean `m`)."""
    a0, b0 = strength * m, strength * (1.0 - m)
    a, b = a0 + s, b0 + f
    if rho is not None:
        a, b = forecast(rho, a, b, a0, b0, MIN_PRIOR_PARAM, renewal)
    return a0, b0, a, b


def cell_posterior(m: FloatArray, strength: FloatArray | float, s: FloatArray, f: FloatArray,
                   reachable: BoolArray, rho: FloatArray | None = None,
                   renewal: float | None = None) -> Posterior:
    """One cell's Beta for a payment now (`cell_beta`) with its exact 95 % interval; n_eff
    counts the evidence."""
    a0, b0, a, b = cell_beta(m, strength, s, f, rho, renewal)
    tail = (1.0 - CI_LEVEL) / 2.0
    r = reachable.astype(np.float64)
    return Posterior(prior_alpha=a0, prior_beta=b0, alpha=a, beta=b, n_eff=s + f,
                     p_success=r * a / (a + b),
                     ci95_low=r * np.asarray(betaincinv(a, b, tail), dtype=np.float64),
                     ci95_high=r * np.asarray(betaincinv(a, b, 1.0 - tail), dtype=np.float64))


def _node_index(pubkeys: Sequence[str], index: dict[str, int]) -> IntArray:
    return np.fromiter((index.get(p, -1) for p in pubkeys), dtype=np.int64, count=len(pubkeys))


def _whole_limits(budgets: Sequence[FeeBudget], amount_sat: FloatArray) -> FloatArray:
    """(B, rows): each budget's fee limit in whole sat at each row's amount, as a payer (and
    the crawler) sets it."""
    return np.array([b.whole_limit_sat(amount_sat) for b in budgets],
                    dtype=np.float64).reshape(len(budgets), -1)


def grid_evidence(probes: ProbeEvidence, reports: ReportEvidence, index: dict[str, int],
                  amounts_sat: Sequence[int], last_hop: FloatArray, *,
                  default_amount_sat: int, budgets: Sequence[FeeBudget] = BUDGETS,
                  probe_budget: FeeBudget = TIGHT) -> GridEvidence:
    """Probe and report evidence spread over the amount grid and the budgets (see the
    module docstring); `probe_budget` is the budget of probes stored without a fee limit."""
    n, grid = len(index), np.asarray(amounts_sat, dtype=np.float64)
    node = _node_index(probes.pubkeys, index)
    outcome = np.array([o.value for o in probes.outcomes], dtype=object)
    keep = node >= 0
    node, amount, w, outcome = node[keep], probes.amount_sat[keep], \
        probes.decayed_count[keep], outcome[keep]
    wl, cause, drawn = probes.live_counts()[keep], probes.causes()[keep], probes.samples()[keep]
    sent_unix = probes.last_sent_unix()[keep]
    limits = _whole_limits(budgets, amount)
    sent = probes.fee_limits()[keep]
    sent = np.where(np.isfinite(sent), sent, _whole_limits([probe_budget], amount)[0])
    paid = probes.route_fees()[keep]
    paid = np.where(np.isfinite(paid), paid, sent)
    # A looser budget than the probe's can pay every route the probe could and more: a
    # success counts at every budget that covers the fee of the route that reached (the
    # limit where that fee is not known), a timeout (the routes tried within the limit ran
    # out of time) at budgets at most as loose as the limit. A failure located at the
    # target: the share blamed on the node being down is about the node, not fees, and
    # counts at every budget; the rest (its last hop was short) at budgets at most as
    # loose, like a timeout: a looser payer tries inbound channels the probe's limit kept
    # it from (the short channel's knowledge still reaches those budgets, through the
    # prior). Counted at every budget, a tight probe's short last hop pulled the normal
    # budget down (calibration v2: rows put at 0.3-0.5 were reached 50-76 % of the time;
    # bench/RESULTS.md). No-route and failures inside the route count nowhere (route
    # existence within each budget is the graph's).
    looser, tighter = limits >= paid[None], limits <= sent[None]
    reached = outcome == ProbeOutcome.REACHED.value
    at_target = outcome == ProbeOutcome.FAILED_AT_TARGET.value
    timeout = outcome == ProbeOutcome.TIMEOUT.value
    hop = interpolate(amounts_sat, last_hop, amount[at_target], node[at_target]) \
        if at_target.any() else np.zeros(0)
    # liveness is about now: its evidence carries the liveness decay (`wl`)
    live = fit_liveness(np.bincount(node[reached], wl[reached], minlength=n).astype(np.float64),
                        node[at_target], wl[at_target], hop, n, cause[at_target],
                        population=population_rows(node[reached], w[reached], drawn[reached],
                                                   node[at_target], w[at_target],
                                                   drawn[at_target], n))
    down = attributed_responsibility(live.mean[node[at_target]], hop, cause[at_target])
    at_or_above = amount[:, None] <= grid[None, :]  # (rows, A): the probed amount <= a
    short = w[at_target] * (1.0 - down) * at_or_above[at_target].T  # (A, rows)
    gone = wl[at_target] * down
    s = np.zeros((len(budgets), len(grid), n))
    f = np.zeros((len(budgets), len(grid), n))
    for b in range(len(budgets)):
        for j in range(len(grid)):
            s[b, j] = np.bincount(node[reached], w[reached] * (amount[reached] >= grid[j])
                                  * looser[b, reached], minlength=n)
            f[b, j] = np.bincount(node[at_target], short[j] * tighter[b, at_target] + gone,
                                  minlength=n) + np.bincount(
                node[timeout], w[timeout] * at_or_above[timeout, j] * tighter[b, timeout],
                minlength=n)
    rs, rf = report_tier_evidence(reports, index, amounts_sat, default_amount_sat)
    routed = reached | at_target | timeout | (outcome == ProbeOutcome.FAILED_IN_ROUTE.value)
    nearest = np.abs(limits - sent[None]).argmin(axis=0)  # the budget the probe was sent at
    # Each node counts once in the link, as in mu: the scheduler comes back to nodes whose
    # probes failed (their posteriors stay uncertain), so per probe the link would lean
    # towards the failing nodes' rate. On the calibration bench this alone moved nothing
    # measurable (run o4; the never-probed nodes' low reading was the clipped prior mean).
    per_node = np.bincount(node[routed], w[routed], minlength=n)
    link_rows = (node[routed], amount[routed], nearest[routed].astype(np.int64),
                 reached[routed].astype(np.float64),
                 w[routed] / np.maximum(per_node[node[routed]], 1e-12))
    # the evidence S and F are made of; a row of unknown time (NaN) is taken as sent now
    last = np.full(n, -np.inf)
    counted = reached | at_target | timeout
    np.maximum.at(last, node[counted], np.nan_to_num(sent_unix[counted], nan=np.inf))
    return GridEvidence(s, f, rs, rf, live, link_rows, last)


def fit_kappa(prior_mean: FloatArray, s: FloatArray, f: FloatArray) -> tuple[float, bool]:
    """Prior strength by marginal likelihood on cells with >= 2 observations (a single
    observation per cell leaves the likelihood flat in kappa); cold-start value until
    enough such cells exist."""
    kappa = fit_strength(prior_mean, s, f)
    return (COLD_KAPPA, False) if kappa is None else (kappa, True)


def graph_link(blind_prior: FloatArray, ev: GridEvidence, amounts_sat: Sequence[int]) -> Link:
    """The link fitted on the probes that had a route, each against the prior its node had
    without its own evidence (`blind_prior`, (B, A, n)) at its amount and budget."""
    if ev.link_rows is None or ev.link_rows[0].size == 0:
        return Link()
    node, amount, budget, y, w = ev.link_rows
    m = np.empty(node.shape[0])
    for b in np.unique(budget).tolist():
        rows = budget == b
        m[rows] = interpolate(amounts_sat, blind_prior[b], amount[rows], node[rows])
    # A probe to a node the reference payer has no route to at its amount and budget (m = 0:
    # sent from another vantage, or the graph moved since) says nothing about reaching a
    # node given a route, and a reach at logit(m) ~ -9 would flatten the link.
    w = np.where(m > 0.0, w, 0.0)
    return fit_link(m, y, w)


def node_model(view: PayerView, ev: GridEvidence, *, amounts_sat: Sequence[int],
               budgets: Sequence[FeeBudget], probe_budget: int,
               persistence: Persistence | None = None, now_unix: float | None = None
               ) -> NodeModel:
    """Combine the payer's view and the evidence; kappa is fitted against the prior and the
    evidence at the budget of index `probe_budget`; the cells are forecast to `now_unix`
    with `persistence` (None: as the evidence saw them)."""
    ps, pf = cap_evidence(ev.probe_s, ev.probe_f)
    # a probe that reached the node at >= a proves a route for a, whatever the graph says
    reachable = view.reachable | (ps > 0)
    # A node's own probes are in S/F and also in the knowledge of its last hop (a reach
    # as "carried", a short last hop as "could not carry") and in its liveness (it was
    # up): counting both would count them twice. In a cell where the node's own probes
    # count (S or F > 0) the prior mean leaves its inbound channels' knowledge out (it
    # cannot be told apart from what probes through the node showed) and takes the
    # population's rate of being up mu (`scoring.liveness`); upstream knowledge stays, it
    # is about other nodes. In a cell where none of them counts (a reach at 10k says
    # nothing of 100k in S) what they showed is counted there, once, through the prior:
    # its last hop carried 10k, and it was up (alone, this moved calibration v2 little:
    # bench/RESULTS.md, runs a7/a8).
    counted = (ev.probe_s + ev.probe_f) > 0
    blind = ev.liveness.mu * view.p_graph_blind
    link = graph_link(blind, ev, amounts_sat)
    graph_mean = np.clip(link(np.where(counted, blind,
                                       ev.liveness.mean[None, None] * view.p_graph)),
                         PRIOR_MEAN_MIN, PRIOR_MEAN_MAX)
    fit_cells = reachable[probe_budget]
    kappa, fitted = fit_kappa(graph_mean[probe_budget][fit_cells],
                              ps[probe_budget][fit_cells], pf[probe_budget][fit_cells])
    strength = np.maximum(kappa, MIN_PRIOR_PARAM / np.minimum(graph_mean, 1.0 - graph_mean))
    rs, rf = cap_report_share(ev.report_s[None], ev.report_f[None], probe_weight=ps + pf,
                              prior_strength=kappa)
    s, f = cap_evidence(ps + rs, pf + rf)
    age = None
    if now_unix is not None and ev.last_unix is not None:
        # a probe of unknown time (+inf) is taken as sent now; no probe with a route (-inf):
        # whatever evidence there is (reports) is taken as current, and without any the
        # posterior is the prior and the forecast moves nothing
        age = np.where(np.isfinite(ev.last_unix), now_unix - ev.last_unix, 0.0)
    return NodeModel(tuple(amounts_sat), tuple(budgets), reachable, graph_mean, kappa, fitted,
                     strength, s, f, rs + rf, ps, pf, ev.liveness, link, age,
                     persistence or Persistence())
