"""Verdicts and the 0-100 rank from the default-tier posterior (first matching rule wins).

1. RISKY         the node has no enabled channel into it (no payment can reach it), or
                 it has evidence (n_eff >= MIN_EVIDENCE) and p_success < RISKY_P.
2. INSUFFICIENT  n_eff < MIN_EVIDENCE: the answer would rest on the prior alone.
3. SAFE          n_eff >= SAFE_MIN_EVIDENCE, p_success >= SAFE_P and ci95_low >= SAFE_CI_LOW.
4. UNKNOWN       otherwise (evidence, but the interval is too wide or straddles).
A node that answered its last 10 probes (in a half-life) under an average prior
(mean 0.6, strength 5) reaches SAFE: p = 0.867, ci95_low = 0.661.
"""

from __future__ import annotations

import numpy as np

from satrank.scoring.graph import FloatArray, IntArray
from satrank.scoring.posterior import Posterior

MIN_EVIDENCE = 2.0
SAFE_MIN_EVIDENCE = 5.0
SAFE_P = 0.80
SAFE_CI_LOW = 0.65
RISKY_P = 0.50
VERDICTS = ("SAFE", "RISKY", "UNKNOWN", "INSUFFICIENT")
# rank = round(100 * (W_P * p_success + W_LOW * ci95_low + W_PR * pagerank_pct / 100))
RANK_W_P, RANK_W_LOW, RANK_W_PR = 0.5, 0.2, 0.3


def verdict_codes(post: Posterior, active_channels: FloatArray) -> IntArray:
    """Index into VERDICTS for every node."""
    n_eff, p, low = post.n_eff, post.p_success, post.ci95_low
    unreachable = active_channels <= 0
    risky = unreachable | ((n_eff >= MIN_EVIDENCE) & (p < RISKY_P))
    insufficient = ~risky & (n_eff < MIN_EVIDENCE)
    safe = ~risky & ~insufficient & (n_eff >= SAFE_MIN_EVIDENCE) & (p >= SAFE_P) & \
        (low >= SAFE_CI_LOW)
    codes = np.full(p.shape[0], VERDICTS.index("UNKNOWN"), dtype=np.int64)
    codes[safe] = VERDICTS.index("SAFE")
    codes[insufficient] = VERDICTS.index("INSUFFICIENT")
    codes[risky] = VERDICTS.index("RISKY")
    return codes


def verdict_reasons(post: Posterior, active_channels: FloatArray, codes: IntArray,
                    amount_sat: int) -> list[list[str]]:
    """Human-readable evidence lines, one list per node, stable wording for clients."""
    reasons: list[list[str]] = []
    for p, low, high, n, act, code in zip(
            post.p_success.tolist(), post.ci95_low.tolist(), post.ci95_high.tolist(),
            post.n_eff.tolist(), active_channels.tolist(), codes.tolist(), strict=True):
        lines = [f"p_success {p:.3f} at {amount_sat} sat, 95% CI {low:.3f}-{high:.3f}",
                 f"{n:.1f} effective observations"]
        if act <= 0:
            lines.append("no enabled channel into the node")
        elif n < MIN_EVIDENCE:
            lines.append("too few recent probes: estimate from graph features only")
        elif VERDICTS[code] == "UNKNOWN":
            lines.append("credible interval too wide or below the SAFE threshold")
        reasons.append(lines)
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


def rank_of(post: Posterior, pagerank_pct: FloatArray) -> IntArray:
    """Deterministic 0-100 leaderboard rank (round half to even)."""
    raw = RANK_W_P * post.p_success + RANK_W_LOW * post.ci95_low + \
        RANK_W_PR * pagerank_pct / 100.0
    return np.rint(np.clip(raw, 0.0, 1.0) * 100.0).astype(np.int64)
