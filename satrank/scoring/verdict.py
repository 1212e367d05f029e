"""Verdicts and the 0-100 rank from the default cell (default amount, default budget, the
reference payer), decided on the credible interval (first matching rule wins).

1. RISKY         the graph holds no route within the budget (no usable channel into the
                 node, or every one too expensive to reach) and no probe reached it; or the
                 interval lies below RISKY_P (ci95_high < RISKY_P); or, with evidence
                 (n_eff >= MIN_EVIDENCE), p_success < RISKY_P.
2. SAFE          n_eff >= SAFE_MIN_EVIDENCE, p_success >= SAFE_P and ci95_low >= SAFE_CI_LOW:
                 97.5 % sure the payment is more likely to work than not, and expected to
                 work at least 4 times in 5.
3. INSUFFICIENT  n_eff < MIN_EVIDENCE: too little evidence to say more than the graph does.
4. UNKNOWN       otherwise (evidence, but the interval straddles the thresholds).
With the cold-start prior strength (2) a node that answered its last 5 probes reaches SAFE
from any graph prior mean >= 0.5; with a fitted strength below 1, 4 answered probes do.
"""

from __future__ import annotations

import numpy as np

from satrank.scoring.budgets import FeeBudget
from satrank.scoring.graph import BoolArray, FloatArray, IntArray
from satrank.scoring.liveness import Liveness
from satrank.scoring.posterior import Posterior

MIN_EVIDENCE = 2.0
SAFE_MIN_EVIDENCE = 4.0
SAFE_P = 0.80
SAFE_CI_LOW = 0.50
RISKY_P = 0.50
# Effective observations are counted as the reasons show them, to one decimal: decay makes
# two probes sent a minute ago 1.9999 observations ("2.0 effective observations"), and
# they are the two the rules ask for. Two probes lose that 0.05 in ~6 hours (7-day
# half-life); older evidence still counts for less.
EVIDENCE_DECIMALS = 1
VERDICTS = ("SAFE", "RISKY", "UNKNOWN", "INSUFFICIENT")
# below this share of the evidence kept by the forecast to now, reasons say how old it is
AGED_RHO = 0.99
# rank = round(100 * (W_P * p_success + W_LOW * ci95_low + W_PR * pagerank_pct / 100))
RANK_W_P, RANK_W_LOW, RANK_W_CENTRALITY = 0.5, 0.2, 0.3


def evidence_count(n_eff: FloatArray) -> FloatArray:
    """Effective observations as the verdict rules count them (EVIDENCE_DECIMALS)."""
    return np.asarray(np.round(n_eff, EVIDENCE_DECIMALS), dtype=np.float64)


def verdict_codes(post: Posterior, reachable: BoolArray) -> IntArray:
    """Index into VERDICTS for every node."""
    n_eff, p, low, high = evidence_count(post.n_eff), post.p_success, post.ci95_low, \
        post.ci95_high
    risky = ~reachable | (high < RISKY_P) | ((n_eff >= MIN_EVIDENCE) & (p < RISKY_P))
    safe = ~risky & (n_eff >= SAFE_MIN_EVIDENCE) & (p >= SAFE_P) & (low >= SAFE_CI_LOW)
    insufficient = ~risky & ~safe & (n_eff < MIN_EVIDENCE)
    codes = np.full(p.shape[0], VERDICTS.index("UNKNOWN"), dtype=np.int64)
    codes[safe] = VERDICTS.index("SAFE")
    codes[insufficient] = VERDICTS.index("INSUFFICIENT")
    codes[risky] = VERDICTS.index("RISKY")
    return codes


def verdict_reasons(post: Posterior, reachable: BoolArray, codes: IntArray, amount_sat: int,
                    budget: FeeBudget, liveness: Liveness, *,
                    evidence_age_s: FloatArray | None = None,
                    rho: FloatArray | None = None) -> list[list[str]]:
    """Human-readable evidence lines, one list per node, naming what decided: the graph,
    probes (and reports, added by `report_reasons`), and how old the probes are where the
    forecast to now (`rho`, `scoring.persistence`) set aside a visible share of them."""
    reasons: list[list[str]] = []
    live = liveness.mean
    for p, low, high, n, ok, code, lam, up, down in zip(
            post.p_success.tolist(), post.ci95_low.tolist(), post.ci95_high.tolist(),
            evidence_count(post.n_eff).tolist(), reachable.tolist(), codes.tolist(),
            live.tolist(),
            liveness.up.tolist(), liveness.down.tolist(), strict=True):
        lines = [f"p_success {p:.3f} at {amount_sat} sat with a {budget.name} fee budget "
                 f"({budget.describe()}), 95% CI {low:.3f}-{high:.3f}",
                 f"{n:.1f} effective observations"]
        verdict = VERDICTS[code]
        if not ok:
            lines.append("graph: no route within the fee budget from the reference payer")
        elif verdict == "RISKY" and n < MIN_EVIDENCE:
            lines.append("graph: the whole credible interval lies below 0.5 (the usable "
                         "channels into the node rarely carry this amount)")
        elif n < MIN_EVIDENCE:
            lines.append("too few recent probes: estimate from the graph only")
        elif verdict == "UNKNOWN":
            lines.append("credible interval straddles the SAFE and RISKY thresholds")
        elif verdict == "SAFE":
            lines.append("probes: the credible interval clears the SAFE threshold")
        else:
            lines.append("probes: mostly failed at the node")
        if up + down > 0:
            lines.append(f"liveness {lam:.3f}: {up:.1f} reaches, {down:.1f} failures at the "
                         "node blamed on it being down")
        reasons.append(lines)
    if evidence_age_s is not None and rho is not None:
        for i in np.flatnonzero(np.isfinite(evidence_age_s) & (rho < AGED_RHO)).tolist():
            reasons[i].append(f"latest probe {evidence_age_s[i] / 3600.0:.0f} h ago: "
                              f"{rho[i]:.0%} of what the probes showed is taken to hold now, "
                              "the rest is the rate of a probed node drawn anew")
    return reasons


def report_reasons(report_weight: FloatArray, codes: IntArray, probe_codes: IntArray
                   ) -> dict[int, list[str]]:
    """Extra lines for the nodes user reports count for (node index -> lines): how much
    they weigh, and when they changed the verdict probes alone would give."""
    extra: dict[int, list[str]] = {}
    for i in np.flatnonzero(report_weight > 0).tolist():
        lines = [f"user reports weigh {report_weight[i]:.1f} observations"]
        if codes[i] != probe_codes[i]:
            lines.append(f"user reports moved the verdict from {VERDICTS[probe_codes[i]]} "
                         f"to {VERDICTS[codes[i]]}")
        extra[i] = lines
    return extra


def rank_of(post: Posterior, centrality_pct: FloatArray) -> IntArray:
    """Deterministic 0-100 leaderboard rank (round half to even): demonstrated reliability
    (p and its 95 % lower bound, which only evidence raises) and the payment centrality
    percentile (`scoring.centrality`: what payments were seen to cross, which channels
    alone cannot buy; capacity PageRank could be bought at ~20 points per BTC)."""
    raw = RANK_W_P * post.p_success + RANK_W_LOW * post.ci95_low + \
        RANK_W_CENTRALITY * centrality_pct / 100.0
    return np.rint(np.clip(raw, 0.0, 1.0) * 100.0).astype(np.int64)
