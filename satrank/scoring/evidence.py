"""Evidence per node and amount tier: probe outcomes and user reports, decayed and weighted.

Rows arrive already aggregated and decayed (the database sums decay factors per node,
amount and outcome, see `decay_factor`); here they become weighted successes S and
failures F per tier. A success at amount A also proves every tier <= A; a failure at A
also counts against every tier >= A (liquidity is monotone in the amount).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from satrank.outcomes import ProbeOutcome
from satrank.scoring.graph import BoolArray, FloatArray, IntArray

DEFAULT_HALF_LIFE_S = 7 * 86_400.0
# "Up" and "down" are about now: a node that was offline comes back within hours, so
# liveness evidence (reaches as "up", failures blamed on the node being down) decays with
# its own, shorter half-life. Both half-lives were chosen on training data only
# (bench/half_life.py, methodology.md §4): 3 h is the best liveness half-life at the
# calibration bench's training cadence; 7 days sits in the flat optimum of the evidence
# half-life (2-30 days are within 0.1 % Brier, shorter ones are worse).
DEFAULT_LIVENESS_HALF_LIFE_S = 3 * 3600.0
# An observation one half-life old counts DECAY_BASE (db/probes.py builds its SQL from it).
DECAY_BASE = 0.5
# Probe outcome -> (success weight, failure weight). A failure inside the route mostly
# says something about an intermediate channel, so it weighs a quarter of a failure at the
# destination; no route / timeout are ambiguous (our view of the graph, our own node) and
# weigh half; "error" is our own fault and carries no evidence.
OUTCOME_WEIGHTS: dict[ProbeOutcome, tuple[float, float]] = {
    ProbeOutcome.REACHED: (1.0, 0.0),
    ProbeOutcome.FAILED_AT_TARGET: (0.0, 1.0),
    ProbeOutcome.FAILED_IN_ROUTE: (0.0, 0.25),
    ProbeOutcome.NO_ROUTE: (0.0, 0.5),
    ProbeOutcome.TIMEOUT: (0.0, 0.5),
    ProbeOutcome.ERROR: (0.0, 0.0),
}
# A verified report carries the target's signed invoice and its preimage: a real payment
# reached the node, as good as a probe. Anything less (a token, a self-made preimage/hash
# pair) is a claim anyone can make for free: ten independent ones weigh one probe.
VERIFIED_REPORT_WEIGHT = 1.0
UNVERIFIED_REPORT_WEIGHT = 0.1
# Reports hold at most this share of a node's evidence (prior pseudo-observations + probes
# + reports): a flood of reports, proven or not, cannot outvote what we measured ourselves.
# (The target itself can sign invoices and pay them: proof says "a payment happened", not
# "by an independent payer".)
REPORT_SHARE_MAX = 0.2
# Probes come from one vantage point and are autocorrelated; past this many effective
# observations more probes stop narrowing the interval (S and F are scaled down together).
N_EFF_CAP = 60.0


def outcome_weights(outcome: ProbeOutcome) -> tuple[float, float]:
    """(success weight, failure weight) of a probe outcome; an outcome without a weight is
    a vocabulary change scoring has not been taught, so it raises instead of counting 0."""
    try:
        return OUTCOME_WEIGHTS[outcome]
    except KeyError:
        raise ValueError(f"probe outcome {outcome!r} has no evidence weight") from None


def decay_factor(age_s: FloatArray | float, half_life_s: float) -> FloatArray:
    """2^(-age / half_life): an observation one half-life old counts half."""
    return np.asarray(np.power(DECAY_BASE, np.maximum(age_s, 0.0) / half_life_s),
                      dtype=np.float64)


# Why a probe failed at the target, read from lnd's failure code where it says so:
# TEMPORARY_CHANNEL_FAILURE reported by the target's peer about the channel into it means
# that channel could not carry the amount (liquidity, at amounts >= the probed one);
# UNKNOWN_NEXT_PEER from that peer means it cannot reach the target (down now). Anything
# else (another code, a failure reported by the target itself, a code not stored) is left
# to the liveness model's likelihood split (`scoring.liveness`).
CAUSE_UNKNOWN, CAUSE_SHORT, CAUSE_DOWN = 0, 1, 2
SHORT_CODES = ("TEMPORARY_CHANNEL_FAILURE",)
DOWN_CODES = ("UNKNOWN_NEXT_PEER",)


@dataclass(frozen=True)
class ProbeEvidence:
    """Decayed probe counts: one row per (node, amount, outcome, cause, fee limit, route fee,
    sample).

    `cause` (CAUSE_*) says why a failure at the target happened where the failure code
    tells; `live_count` is the same rows decayed with the liveness half-life (None: as
    `decayed_count`); `fee_limit_sat` the fee budget the probes were sent with and
    `route_fee_sat` the fee of the route that reached the node; `sample` marks probes the
    scheduler drew uniformly among the eligible nodes (the population fits read them)."""

    pubkeys: Sequence[str]
    amount_sat: FloatArray
    outcomes: Sequence[ProbeOutcome]
    decayed_count: FloatArray
    cause: IntArray | None = None
    live_count: FloatArray | None = None
    fee_limit_sat: FloatArray | None = None  # the probe's fee limit; NaN or None: not stored
    route_fee_sat: FloatArray | None = None  # a reach's route fee (sat, rounded up); NaN: none
    sample: BoolArray | None = None  # drawn as a sample; None: not known, none is
    last_unix: FloatArray | None = None  # the row's latest probe (unix s); None: not known

    def causes(self) -> IntArray:
        if self.cause is None:
            return np.full(len(self.pubkeys), CAUSE_UNKNOWN, dtype=np.int64)
        return self.cause

    def live_counts(self) -> FloatArray:
        return self.decayed_count if self.live_count is None else self.live_count

    def fee_limits(self) -> FloatArray:
        return _or_nan(self.fee_limit_sat, len(self.pubkeys))

    def route_fees(self) -> FloatArray:
        return _or_nan(self.route_fee_sat, len(self.pubkeys))

    def last_sent_unix(self) -> FloatArray:
        """Each row's latest probe; NaN where not known (then taken as sent now: no
        forecast shift, `scoring.persistence`)."""
        if self.last_unix is None:
            return np.full(len(self.pubkeys), np.nan)
        return self.last_unix

    def samples(self) -> BoolArray:
        if self.sample is None:
            return np.zeros(len(self.pubkeys), dtype=bool)
        return self.sample


def _or_nan(values: FloatArray | None, n: int) -> FloatArray:
    return np.full(n, np.nan) if values is None else values


@dataclass(frozen=True)
class ReportEvidence:
    """Decayed report counts: one row per (node, amount, success, verified); amount 0 =
    not stated, taken as the default tier."""

    pubkeys: Sequence[str]
    amount_sat: FloatArray
    success: BoolArray
    verified: BoolArray
    decayed_count: FloatArray


def empty_probe_evidence() -> ProbeEvidence:
    return ProbeEvidence((), np.zeros(0), (), np.zeros(0))


def empty_report_evidence() -> ReportEvidence:
    return ReportEvidence((), np.zeros(0), np.zeros(0, bool), np.zeros(0, bool), np.zeros(0))


def _index_of(pubkeys: Sequence[str], index: dict[str, int]) -> IntArray:
    return np.fromiter((index.get(p, -1) for p in pubkeys), dtype=np.int64, count=len(pubkeys))


def _spread_to_tiers(node: IntArray, amount: FloatArray, succ: FloatArray, fail: FloatArray,
                     tiers: Sequence[int], n: int) -> tuple[FloatArray, FloatArray]:
    keep = node >= 0
    node, amount, succ, fail = node[keep], amount[keep], succ[keep], fail[keep]
    s = np.zeros((len(tiers), n))
    f = np.zeros((len(tiers), n))
    for t, tier in enumerate(tiers):
        s[t] = np.bincount(node, weights=succ * (amount >= tier), minlength=n)
        f[t] = np.bincount(node, weights=fail * (amount <= tier), minlength=n)
    return s, f


def probe_tier_evidence(ev: ProbeEvidence, index: dict[str, int], tiers: Sequence[int]
                        ) -> tuple[FloatArray, FloatArray]:
    """(S, F), each shape (len(tiers), n): weighted decayed successes and failures."""
    w = np.array([outcome_weights(o) for o in ev.outcomes]).reshape(-1, 2)
    return _spread_to_tiers(_index_of(ev.pubkeys, index), ev.amount_sat,
                            ev.decayed_count * w[:, 0], ev.decayed_count * w[:, 1],
                            tiers, len(index))


def report_tier_evidence(ev: ReportEvidence, index: dict[str, int], tiers: Sequence[int],
                         default_tier: int) -> tuple[FloatArray, FloatArray]:
    """(S, F) from reports: verified ones weigh 1.0, unverified 0.1."""
    weight = ev.decayed_count * np.where(ev.verified, VERIFIED_REPORT_WEIGHT,
                                         UNVERIFIED_REPORT_WEIGHT)
    amount = np.where(ev.amount_sat > 0, ev.amount_sat, float(default_tier))
    return _spread_to_tiers(_index_of(ev.pubkeys, index), amount,
                            weight * ev.success, weight * ~ev.success, tiers, len(index))


def cap_report_share(rs: FloatArray, rf: FloatArray, *, probe_weight: FloatArray,
                     prior_strength: float, share: float = REPORT_SHARE_MAX
                     ) -> tuple[FloatArray, FloatArray]:
    """Scale report S and F down together so that reports hold at most `share` of
    prior strength + probe weight + report weight (keeps the reports' ratio)."""
    return cap_evidence(rs, rf, cap=share / (1.0 - share) * (prior_strength + probe_weight))


def cap_evidence(s: FloatArray, f: FloatArray, cap: float | FloatArray = N_EFF_CAP
                 ) -> tuple[FloatArray, FloatArray]:
    """Scale S and F down together so that S + F <= cap, a cap for all or one per row
    (keeps the observed ratio)."""
    total = s + f
    scale = np.where(total > cap, cap / np.maximum(total, 1e-300), 1.0)
    return s * scale, f * scale
