"""POST /api/intent (paid, 2 credits): "I am about to pay this; will it work, and should I?"

The answer (docs/intent.md) comes from the worker's intent snapshot (api/cache/intent.py):
routes from the caller's public channels to the target by the payment model
(scoring/payment.py), the target's own score moved by what the model says about this payer
and amount (scoring/intent.py), and a decision with its thresholds and reasons.

An L402 endpoint URL as the target: the registry's stage posteriors and the payee node's
answer at the endpoint's price, combined (api/intent_url.py).

Input (api/intent_input.py) is checked before the paywall asks for payment. After payment,
an unknown node or unregistered endpoint answers 404 and the credits go back
(middleware/l402.py: every 4xx/5xx answer is refunded).
"""

from __future__ import annotations

import math
import time
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from satrank.api.body import invalid_field
from satrank.api.cache.intent import IntentEstimate, IntentSnapshot
from satrank.api.errors import ApiError, retry_later
from satrank.api.ids import node_not_found
from satrank.api.intent_input import IntentRequest, read_intent
from satrank.api.intent_url import answer_url
from satrank.api.prices import ROUTE_PRICES
from satrank.api.probing import MAX_AMOUNT_SAT as PROBE_MAX_AMOUNT_SAT
from satrank.api.probing import probe_backend, probe_block, probe_now
from satrank.api.quote import Basis, quote, quote_cells, quote_given_route
from satrank.api.render import dumps, json_bytes
from satrank.api.state import api_state
from satrank.lightning.backend import ProbeResult
from satrank.lightning.bolt11 import PaymentRequest
from satrank.outcomes import ProbeOutcome
from satrank.scoring.budgets import BUDGETS, DEFAULT_BUDGET
from satrank.scoring.intent import (
    MODEL_ROUTE_SHARE,
    MODEL_SHIFT_WEIGHT,
    THRESHOLDS,
    NodeScore,
    condition,
    decide,
    with_fresh_probe,
)
from satrank.scoring.payment import MAX_ATTEMPTS, HintHop
from satrank.scoring.payment import Route as PaymentRoute
from satrank.scoring.tiers import DEFAULT_TIER_SAT

FRESH_PRICE = ROUTE_PRICES[("POST", "/api/probe")]
# A fresh probe's outcome, as evidence about the target (a failure before the target's
# last hop says nothing of it).
FRESH_EVIDENCE = {ProbeOutcome.REACHED: True, ProbeOutcome.FAILED_AT_TARGET: False,
                  ProbeOutcome.NO_ROUTE: False}
SNAPSHOT_WAIT_S = 10.0  # a worker's first snapshot: the request waits for it this long
SNAPSHOT_RETRY_AFTER_S = 5


async def check_input(request: Request) -> int | None:
    """Run by the paywall before payment: a body we would reject is never paid for; with
    `fresh: true` the request costs what a probe costs."""
    parsed = await read_intent(request)
    return FRESH_PRICE if parsed.fresh else None


def _hints(snapshot: IntentSnapshot, invoice: PaymentRequest | None
           ) -> tuple[tuple[HintHop, ...], ...]:
    if invoice is None:
        return ()
    return tuple(tuple(HintHop(snapshot.index.get(h.node_id.hex(), -1), h.chan_id,
                               h.fee_base_msat, h.fee_proportional_millionths) for h in hint)
                 for hint in invoice.route_hints)


def _target(snapshot: IntentSnapshot, parsed: IntentRequest) -> int:
    """The target's graph index; -1 for an invoice payee outside the public graph."""
    if parsed.invoice is not None:
        return snapshot.index.get(parsed.invoice.payee.hex(), -1)
    assert parsed.node is not None
    found = snapshot.lookup(*parsed.node)
    if found is None:
        raise node_not_found()
    return found


def _unix(value: float) -> int | None:
    return None if math.isnan(value) else int(value)


def _node_block(snapshot: IntentSnapshot, i: int, now: float) -> dict[str, Any]:
    scores = snapshot.inputs.scores
    probed = _unix(float(scores.probed_unix[i]))
    scored = scores.verdict[i] is not None
    return {
        "publicKey": snapshot.pubkeys[i],
        "publicKeyHash": scores.agent_hash[i],
        "alias": snapshot.aliases[i],
        "verdict": scores.verdict[i] if scored else "INSUFFICIENT",
        "pSuccess": float(scores.p_success[i]) if scored else None,
        "ci95Low": float(scores.ci95_low[i]) if scored else None,
        "ci95High": float(scores.ci95_high[i]) if scored else None,
        "nObs": float(scores.n_eff[i]) if scored else 0.0,
        "scoredAt": _unix(float(scores.scored_unix[i])),
        "lastProbeAt": probed,
        "evidenceAgeS": None if probed is None else max(0, int(now) - probed),
    }


def _route_block(snapshot: IntentSnapshot, route: PaymentRoute | None) -> dict[str, Any] | None:
    if route is None:
        return None
    edges = snapshot.edges
    return {
        "hopCount": route.hops,
        "feeSat": round(route.fee_sat, 3),
        "pSuccess": route.p,
        "usesRouteHint": bool(route.hints),
        "hops": [{"channelId": str(int(edges.channel_id[e])),
                  "pubkey": snapshot.pubkeys[int(edges.dst[e])], "pSuccess": p}
                 for e, p in zip(route.edges, route.hop_p, strict=False)]
        + [{"channelId": str(h.channel_id), "pubkey": None, "pSuccess": p, "routeHint": True}
           for h, p in zip(route.hints, route.hop_p[len(route.edges):], strict=True)],
    }


def _invoice_block(invoice: PaymentRequest | None, estimate: IntentEstimate, now: float
                   ) -> dict[str, Any] | None:
    if invoice is None:
        return None
    expires = invoice.timestamp + invoice.expiry_s
    best = estimate.payment.likeliest
    return {
        "payee": invoice.payee.hex(),
        "network": invoice.network,
        "amountSat": -(-invoice.amount_msat // 1000) if invoice.amount_msat else None,
        "amountMsat": invoice.amount_msat or None,
        "paymentHash": invoice.payment_hash.hex(),
        "description": invoice.description,
        "createdAt": invoice.timestamp,
        "expiresAt": expires,
        "expired": expires <= now,
        "signatureValid": True,  # decode refuses an invoice whose signature fails
        "routeHints": len(invoice.route_hints),
        "routeHintUsed": bool(best is not None and best.hints),
    }


def resolve(snapshot: IntentSnapshot, parsed: IntentRequest
            ) -> tuple[int, int | None, tuple[int, ...]]:
    """(target, caller, the caller's peers in the graph) as graph indices (module docstring
    for what is refused). Peers the graph does not know are left out: a route cannot start
    there."""
    target = _target(snapshot, parsed)
    caller = snapshot.lookup(*parsed.caller) if parsed.caller is not None else None
    if caller is not None and caller == target:
        raise invalid_field("caller", "a node other than the target")
    found = (snapshot.lookup(*p) for p in parsed.caller_peers)
    peers = tuple(sorted({i for i in found if i is not None}))
    return target, caller, peers


def _measured(snapshot: IntentSnapshot, target: int, estimate: IntentEstimate,
              parsed: IntentRequest, hints: tuple[tuple[HintHop, ...], ...]
              ) -> tuple[NodeScore, NodeScore | None, float, bool, str]:
    """The target's measured score for this payment (and its part given a route), the
    route model's p for what it measured, whether the model moves it, and which score it
    is: model v2's grid at the payment's amount and budget, else (scored before the grid)
    the default tier's p."""
    scores = snapshot.inputs.scores
    if target < 0 or scores.verdict[target] is None:
        return (NodeScore(None, None, None, None), None, estimate.reference.p_model,
                estimate.payer_moved, "none")
    verdict = scores.verdict[target]
    grid = scores.grid_of(target)
    if grid is not None:
        if not estimate.payer_moved:
            measured = quote(grid, Basis(parsed.amount_sat, None, float(parsed.max_fee_sat)))
            return NodeScore(verdict, *measured), None, estimate.reference.p_model, False, "grid"
        # a caller: theta, the grid's part given a route (the caller's route existence is its
        # own), read where the reference payer has its routes: at the payment's budget when
        # it routes within it (a tight budget's routes are not the normal one's: cheap
        # channels, fewer of them), else at the default budget (at a budget it cannot route
        # within, the grid's theta is only its prior's floor); compared by the model with
        # the reference payer at that budget
        at_budget = quote_cells(grid, Basis(parsed.amount_sat, None,
                                            float(parsed.max_fee_sat)))
        if at_budget[0] > 0.0:
            read_at, theta = float(parsed.max_fee_sat), at_budget[3:]
        else:
            read_at = DEFAULT_BUDGET.whole_limit_sat(parsed.amount_sat)
            theta = quote_given_route(grid, Basis(parsed.amount_sat, DEFAULT_BUDGET, read_at))
        there = snapshot.reference_estimate(target, hints, parsed.amount_sat, read_at)
        return NodeScore(verdict, *theta), None, there.p_model, True, "grid"
    tier = snapshot.reference_tier(target, hints)
    return (NodeScore(verdict, float(scores.p_success[target]), float(scores.ci95_low[target]),
                      float(scores.ci95_high[target])), None, tier.p_model,
            estimate.payer_moved or parsed.amount_sat != DEFAULT_TIER_SAT, "default_tier")


def _payment_basis(snapshot: IntentSnapshot, parsed: IntentRequest, estimate: IntentEstimate,
                   score: str) -> dict[str, Any]:
    """What pSuccess is about (api/quote.py's basis block): amount, budget, payer."""
    payer = (f"caller:{snapshot.pubkeys[estimate.payer]}" if estimate.payer_basis == "caller"
             and estimate.payer != snapshot.reference else None)
    if estimate.payer_basis == "caller_peers":
        payer = "caller_peers:" + ",".join(snapshot.pubkeys[i] for i in estimate.peers)
    limit = float(parsed.max_fee_sat)
    named = next((b for b in BUDGETS if b.whole_limit_sat(parsed.amount_sat) == limit), None)
    return {**Basis(parsed.amount_sat, named, limit).block(payer), "score": score}


def answer(snapshot: IntentSnapshot, parsed: IntentRequest, now: float,
           fresh: ProbeResult | None = None, *, weight: float = MODEL_SHIFT_WEIGHT,
           route_share: float = MODEL_ROUTE_SHARE) -> dict[str, Any]:
    """`weight`, `route_share`: scoring/intent.condition's (benches choose them)."""
    target, caller, peers = resolve(snapshot, parsed)
    hints = _hints(snapshot, parsed.invoice)
    estimate = snapshot.estimate(caller, parsed.caller is not None or bool(parsed.caller_peers),
                                 target, hints, parsed.amount_sat, parsed.max_fee_sat, peers)
    scores = snapshot.inputs.scores
    node, given_route, p_measured, moved, score = _measured(snapshot, target, estimate,
                                                            parsed, hints)
    if fresh is not None:
        node = with_fresh_probe(node, float(scores.n_eff[target]) if node.verdict else 0.0,
                                p_measured, FRESH_EVIDENCE.get(fresh.outcome))
    # the route model is "given the node is up"; the grid's theta it is mixed with carries
    # the population's rate of being up, so the route model must too
    mu = scores.liveness_mu if moved and scores.liveness_mu is not None else 1.0
    result = condition(estimate.payment.p_model * mu, p_measured, node, model_moved=moved,
                       routed=bool(estimate.payment.routes),
                       weight=weight, given_route=None if fresh is not None else given_route,
                       route_share=route_share)
    expired = parsed.invoice is not None and (
        parsed.invoice.timestamp + parsed.invoice.expiry_s <= now)
    decision, reasons = decide(result, node.verdict, expired=expired)
    if parsed.invoice is not None and target < 0 and not parsed.invoice.route_hints:
        reasons.append("the payee is not in the public graph and the invoice has no route "
                       "hints")
    payer = estimate.payer
    return {
        "decision": decision,
        "reasons": reasons,
        "thresholds": THRESHOLDS,
        "pSuccess": result.p,
        "ci95Low": result.ci95_low,
        "ci95High": result.ci95_high,
        "basis": result.basis,
        "amountSat": parsed.amount_sat,
        "maxFeeSat": parsed.max_fee_sat,
        "route": _route_block(snapshot, estimate.payment.likeliest),
        "routesConsidered": len(estimate.payment.routes),
        "maxAttempts": MAX_ATTEMPTS,
        "paymentBasis": _payment_basis(snapshot, parsed, estimate, score),
        "model": {
            "pRoutes": estimate.payment.p_model,
            "pReference": p_measured,
            "moved": moved,
        },
        "payer": {
            "publicKey": snapshot.pubkeys[payer] if payer >= 0 else None,
            "peers": [snapshot.pubkeys[i] for i in estimate.peers],
            "basis": estimate.payer_basis,
            "isReference": not estimate.payer_moved,
            "reference": snapshot.reference_kind,
            "referencePeers": [snapshot.pubkeys[i] for i in snapshot.reference_peers],
        },
        "target": (_node_block(snapshot, target, now) if target >= 0 else None),
        "invoice": _invoice_block(parsed.invoice, estimate, now),
        "fresh": None if fresh is None else probe_block(fresh),
        "snapshotAt": int(snapshot.built_unix),
    }


async def intent(request: Request) -> Response:
    parsed = await read_intent(request)
    state = api_state(request)
    snapshot = state.caches.intent.current or await state.caches.intent.wait_ready(
        SNAPSHOT_WAIT_S)
    if snapshot is None:
        raise retry_later(503, "SNAPSHOT_LOADING", "the routing snapshot is still loading; "
                          "retry shortly, nothing was charged", SNAPSHOT_RETRY_AFTER_S)
    if parsed.url is not None:
        data = await answer_url(state.pool, snapshot, parsed, now=time.time(),
                                half_life_s=state.score_half_life_s, node_answer=answer)
        return json_bytes(dumps({"data": data}))
    fresh = await _probe_fresh(request, snapshot, parsed) if parsed.fresh else None
    return json_bytes(dumps({"data": answer(snapshot, parsed, time.time(), fresh)}))


async def _probe_fresh(request: Request, snapshot: IntentSnapshot, parsed: IntentRequest
                       ) -> ProbeResult:
    """One probe from our node to the target at the intent's amount (capped like
    /api/probe's) and fee budget, through api/probing.py (its caps and charging rule)."""
    probe_backend(request)
    target, _caller, _peers = resolve(snapshot, parsed)
    if target < 0:
        raise ApiError(422, "FRESH_UNAVAILABLE", "a fresh probe needs a payee in the public "
                       "graph; ask again without fresh", details={"field": "fresh"})
    amount = min(parsed.amount_sat, PROBE_MAX_AMOUNT_SAT)
    results = await probe_now(request, snapshot.pubkeys[target], [amount], parsed.max_fee_sat)
    return results[0]


routes = [Route("/api/intent", intent, methods=["POST"])]
