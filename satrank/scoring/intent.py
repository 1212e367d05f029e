"""An intent's answer from its parts: the target's measured score for this payment (model
v2's stored grid read at the payment's amount and fee budget, api/quote.py), the route
model for this payer and for the reference payer, and the decision thresholds
(docs/intent.md).

Conditioning on the payer. The grid is measured from the reference payer (our node or
vantages). The route model (scoring/payment.py) gives, from the graph and channel
knowledge, p for this payer and p for the reference payer, both at this amount and budget.
The answer moves the measured rate by the model's difference, in log-odds:

    logit p = logit p_grid + w * (logit p_model(payer) - logit p_model(reference))

(w = MODEL_SHIFT_WEIGHT), so the reference payer gets the grid's own answer (the node's
liveness and last-hop liquidity at this amount and budget, as measured), and a payer the
graph says is worse (or better) placed gets less (or more). The grid's p is R x theta,
the reference payer's route existence within the budget times the rest; a caller has its
own route existence (the route model found a route within the budget, or "no route"), so
for a caller what is moved is theta: p = expit(logit theta + w * (...)). A node scored
before the grid existed gets its default-tier p_success, moved from the reference payer at
the tier. A node without a score gets the route model alone.

Interval. The measured 95 % interval moved the same way, widened by
`MODEL_LOGIT_HALF_WIDTH` in log-odds on each side for the model's own error whenever the
model moved it; `UNSCORED_LOGIT_HALF_WIDTH` around the model alone for an unscored node.
The widths are set, not fitted: bench/intent.py measures their coverage.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np

from satrank.scoring.posterior import MIN_PRIOR_STRENGTH, beta_posterior

Decision = Literal["proceed", "caution", "avoid"]

PROCEED_P = 0.80  # proceed: p at least this ...
PROCEED_CI_LOW = 0.50  # ... and the interval's low end at least this
AVOID_P = 0.40  # avoid: p below this
# For a caller (not the reference payer), the answer's log-odds are
#   (1 - MODEL_ROUTE_SHARE) * (logit theta + MODEL_SHIFT_WEIGHT * model difference)
#   + MODEL_ROUTE_SHARE * logit p_routes(caller).
# Both chosen together for the best Brier score on 598 payments made at the end of the
# training window of simnet world seed 11 (bench/intent.py --calibration, 21 pairs on a
# grid), never on held-out payments, and chosen again when the node model changes: with
# the grid's prior mean no longer capped (2026-12-07) the grid's theta carries more of the
# answer, and half the payer shift comes back (bench/RESULTS.md). With the intent's
# reference payer the grid's own (2026-12-07, evening) the same fit on world 17 picks no
# shift and a share of 0.4 (0.5 in an earlier run of the same world); calibration v2's
# held-out private payer on the mainnet graph, at the production probe volume, pays for
# the shift in every world and is best near a share of 0.2, with 0.4 close (B's Brier
# 0.0173 / 0.0227 in two worlds against 0.0213 / 0.0299 at the old (0.5, 0.2)).
MODEL_SHIFT_WEIGHT = 0.0
MODEL_ROUTE_SHARE = 0.4
MODEL_LOGIT_HALF_WIDTH = 0.5
UNSCORED_LOGIT_HALF_WIDTH = 1.5
_MODEL_CLIP = 0.01  # route-model p is used within [0.01, 0.99] for the shift
_NODE_CLIP = 1e-4

THRESHOLDS = {
    "proceed": f"pSuccess >= {PROCEED_P} and ci95 low >= {PROCEED_CI_LOW}, target not RISKY,"
               " invoice not expired",
    "avoid": f"pSuccess < {AVOID_P}, no route within the fee budget, or invoice expired",
    "caution": "anything else",
}


def logit(p: float) -> float:
    return math.log(p / (1.0 - p))


def expit(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x)) if x >= 0 else math.exp(x) / (1.0 + math.exp(x))


def _clip(p: float, eps: float) -> float:
    return min(max(p, eps), 1.0 - eps)


@dataclass(frozen=True)
class NodeScore:
    """The target's stored score (None where the node is not scored)."""

    verdict: str | None
    p_success: float | None
    ci95_low: float | None
    ci95_high: float | None


@dataclass(frozen=True)
class IntentP:
    p: float
    ci95_low: float
    ci95_high: float
    basis: Literal["node_score_conditioned", "route_model_only", "no_route"]


def condition(p_payer: float, p_reference: float, node: NodeScore, *, model_moved: bool,
              weight: float = MODEL_SHIFT_WEIGHT, given_route: NodeScore | None = None,
              route_share: float = MODEL_ROUTE_SHARE, routed: bool | None = None) -> IntentP:
    """p and interval for the payment (module docstring). `node`: the measured score for this
    payment; `p_payer`: the route model for this payer (0: no route); `p_reference`: the
    model for what the score measured; `model_moved`: the two differ. `given_route`: the
    measured score's part given a route (the grid's theta): a payer the model finds a route
    for within the budget has a route whatever the reference payer's, so what moves is
    that part, not the reference payer's route existence. `route_share`: for a payer other
    than the reference, the share of the payer's own route model in the final log-odds.
    `routed`: the route model found a route within the budget (None: p_payer > 0). A route
    whose channels probes showed too small for the amount has p_payer 0, yet it is a route:
    what the probes showed may have moved since (the grid's forecast says how far), so
    only no route at all answers 0."""
    if not (p_payer > 0.0 if routed is None else routed):
        return IntentP(0.0, 0.0, 0.0, "no_route")
    if node.p_success is None or node.ci95_low is None or node.ci95_high is None:
        x = logit(_clip(p_payer, _NODE_CLIP))  # clipped: p itself may lie past the ends
        return IntentP(p_payer, min(expit(x - UNSCORED_LOGIT_HALF_WIDTH), p_payer),
                       max(expit(x + UNSCORED_LOGIT_HALF_WIDTH), p_payer), "route_model_only")
    shift = weight * (logit(_clip(p_payer, _MODEL_CLIP))
                      - logit(_clip(p_reference, _MODEL_CLIP))) if model_moved else 0.0
    width = MODEL_LOGIT_HALF_WIDTH if model_moved else 0.0
    if (model_moved and given_route is not None and given_route.p_success is not None
            and given_route.ci95_low is not None and given_route.ci95_high is not None):
        node = given_route
    assert node.p_success is not None and node.ci95_low is not None
    assert node.ci95_high is not None
    a = route_share if model_moved else 0.0
    centre = logit(_clip(node.p_success, _NODE_CLIP))
    x = (1.0 - a) * (centre + shift) + a * logit(_clip(p_payer, _MODEL_CLIP))
    # the measured interval keeps its log-odds widths around the mixed centre: mixing with
    # the route model's point estimate does not make the measurement any surer
    below = centre - logit(_clip(node.ci95_low, _NODE_CLIP))
    above = logit(_clip(node.ci95_high, _NODE_CLIP)) - centre
    p, low, high = expit(x), expit(x - below - width), expit(x + above + width)
    return IntentP(p, min(low, p), max(high, p), "node_score_conditioned")


def decide(result: IntentP, verdict: str | None, *, expired: bool) -> tuple[Decision,
                                                                           list[str]]:
    """The decision and the reasons that made it (THRESHOLDS)."""
    reasons: list[str] = []
    if expired:
        reasons.append("the invoice has expired: paying it cannot succeed")
    if result.basis == "no_route":
        reasons.append("no route from the payer to the target within the fee budget")
    elif result.p < AVOID_P:
        reasons.append(f"pSuccess {result.p:.2f} is below {AVOID_P}")
    if reasons:
        return "avoid", reasons
    if verdict == "RISKY":
        reasons.append("the target's verdict is RISKY")
    reasons += short_of_proceed(result)
    if result.basis == "route_model_only":
        reasons.append("the target has no score of ours yet: route model only")
    if reasons:
        return "caution", reasons
    return "proceed", [proceed_reason(result)]


def short_of_proceed(result: IntentP) -> list[str]:
    """Why p and its interval fall short of `proceed` (empty: they do not)."""
    reasons = []
    if result.p < PROCEED_P:
        reasons.append(f"pSuccess {result.p:.2f} is below {PROCEED_P}")
    if result.ci95_low < PROCEED_CI_LOW:
        reasons.append(f"the 95 % interval reaches down to {result.ci95_low:.2f} "
                       f"(below {PROCEED_CI_LOW}): too little evidence to be sure")
    return reasons


def proceed_reason(result: IntentP) -> str:
    return (f"pSuccess {result.p:.2f} with 95 % interval "
            f"[{result.ci95_low:.2f}, {result.ci95_high:.2f}]")


def with_fresh_probe(node: NodeScore, n_obs: float, p_model: float, reached: bool | None
                     ) -> NodeScore:
    """The target's score after one fresh probe from our node (`reached`: True, False for a
    failure that names the target or finds no route, None when it says nothing of the
    target): the score as a Beta of strength n_obs + 2 around its p (the route model's p for
    an unscored node), updated by the outcome, with its exact 95 % interval."""
    if reached is None:
        return node
    mean = node.p_success if node.p_success is not None else p_model
    strength = max(MIN_PRIOR_STRENGTH, n_obs + MIN_PRIOR_STRENGTH)
    post = beta_posterior(np.array([mean]), strength, np.array([1.0 if reached else 0.0]),
                          np.array([0.0 if reached else 1.0]))
    return NodeScore(node.verdict, float(post.p_success[0]), float(post.ci95_low[0]),
                     float(post.ci95_high[0]))
