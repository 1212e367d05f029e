"""JSON Schemas of POST /api/intent, every field described (docs/intent.md explains the
model behind them)."""

from __future__ import annotations

from satrank.api.intent_input import MAX_AMOUNT_SAT, MAX_CALLER_PEERS, MAX_FEE_SAT
from satrank.api.routes.openapi_schemas import (
    HEX64,
    HEX66,
    SERVICE,
    VERDICT,
    Schema,
    nullable,
    obj,
)
from satrank.lightning.bolt11 import MAX_INVOICE_LEN
from satrank.outcomes import ProbeOutcome
from satrank.scoring.endpoint_intent import URL_THRESHOLDS
from satrank.scoring.intent import AVOID_P, PROCEED_CI_LOW, PROCEED_P


def _d(schema: Schema, description: str) -> Schema:
    return {**schema, "description": description}


_NUM: Schema = {"type": "number"}
_P: Schema = {"type": "number", "minimum": 0, "maximum": 1}
_INT: Schema = {"type": "integer"}
_STR: Schema = {"type": "string"}
_BOOL: Schema = {"type": "boolean"}
_INT_OR_NULL: Schema = {"type": ["integer", "null"]}

INTENT_REQUEST: Schema = {
    "type": "object",
    "properties": {
        "target": _d({"type": "string", "minLength": 1, "maxLength": MAX_INVOICE_LEN + 10},
                     "Who is paid: a 66-hex node pubkey, a 64-hex agent hash (sha256 of the "
                     "pubkey text), or a BOLT11 invoice of this server's network (an "
                     "optional `lightning:` prefix is accepted). An invoice whose signature "
                     "does not verify is refused (422 INVALID_INVOICE); one for another "
                     "network is refused (422 WRONG_NETWORK). Or an L402 endpoint's https "
                     "URL, as registered with POST /api/services (the registry's URL rules: "
                     "a public host, no credentials or fragment; else 422): the answer is "
                     "then the endpoint's (see the endpoint form of the result); an "
                     "unregistered URL answers 404 after payment, refunded."),
        "caller": _d({"type": "string"},
                     "The paying node (pubkey or agent hash). Absent, unknown or without a "
                     "usable public channel: the answer is for the reference payer (our "
                     "node), unless caller_peers is given; `payer.basis` says which."),
        "caller_peers": _d({"type": "array", "minItems": 1, "maxItems": MAX_CALLER_PEERS,
                            "items": {"type": "string"}},
                           "For a caller whose channels are private (a wallet behind its "
                           "LSP): the peers of its channels (pubkeys or agent hashes). Its "
                           "routes start at one of them, which forwards and charges its "
                           "fee; its own hop is taken to carry the payment. Peers not in the "
                           "graph are left out (payer.peers lists those used). Used when "
                           "caller is absent or has no usable public channel."),
        "amount_sat": _d({"type": "integer", "minimum": 1, "maximum": MAX_AMOUNT_SAT},
                         "The payment's amount. Required for an invoice without an amount; "
                         "must equal an invoice's own amount when both are given; default "
                         "for a node target: 100,000 sat (the tier every score speaks "
                         "about). For an endpoint URL: only used while the registry has seen "
                         "no price (else the endpoint's price is the amount)."),
        "max_fee_sat": _d({"type": "integer", "minimum": 0, "maximum": MAX_FEE_SAT},
                          "The payer's fee budget. Default: a normal budget, 0.5 % of the "
                          "amount + 5 sat, rounded up."),
        "fresh": _d({"type": "boolean"},
                    "Probe the target from our node before answering (5 credits instead of "
                    "2; the caps, time budget and charging rules of POST /api/probe). Not "
                    "for an endpoint URL (422)."),
    },
    "required": ["target"],
    "additionalProperties": False,
}

_HOP = obj({
    "channelId": _d(_STR, "Short channel id (decimal text)"),
    "pubkey": _d({"type": ["string", "null"]},
                 "The node this hop reaches (null for a route-hint hop: the invoice names "
                 "the hop's source, the next is the payee)"),
    "pSuccess": _d(_P, "Probability that this channel carries what it must forward (lnd's "
                       "bimodal model within what our probes showed; route-hint hops get "
                       "lnd's apriori 0.6)"),
    "routeHint": _d(_BOOL, "A private channel from the invoice's route hints"),
}, ["channelId", "pubkey", "pSuccess"])

_ROUTE = obj({
    "hopCount": _d(_INT, "Channels from the payer to the target"),
    "feeSat": _d(_NUM, "Fee this route charges for the amount (the payer's own first hop "
                       "is free)"),
    "pSuccess": _d(_P, "Probability that this one attempt succeeds (product of its hops)"),
    "usesRouteHint": _d(_BOOL, "The route ends through the invoice's route hints"),
    "hops": _d({"type": "array", "items": _HOP}, "The hops, payer first"),
})

_TARGET = obj({
    "publicKey": _d(HEX66, "The target's pubkey"),
    "publicKeyHash": _d(HEX64, "Its agent hash (sha256 of the pubkey text)"),
    "alias": _d(_STR, "Announced alias"),
    "verdict": _d(VERDICT, "The target's node verdict (INSUFFICIENT when not scored)"),
    "pSuccess": _d({"type": ["number", "null"]},
                   "The node's own measured p_success (reference payer, default tier), "
                   "null when not scored"),
    "ci95Low": _d({"type": ["number", "null"]}, "Its 95 % credible interval, low end"),
    "ci95High": _d({"type": ["number", "null"]}, "Its 95 % credible interval, high end"),
    "nObs": _d(_NUM, "Effective observations behind the node's score"),
    "scoredAt": _d(_INT_OR_NULL, "When its score was computed (unix s)"),
    "lastProbeAt": _d(_INT_OR_NULL, "Our latest probe to it (unix s), null if never"),
    "evidenceAgeS": _d(_INT_OR_NULL, "Seconds since that probe"),
})

_INVOICE = obj({
    "payee": _d(HEX66, "Payee recovered from the invoice's signature"),
    "network": _d(_STR, "BOLT11 network prefix (bc, tb, bcrt, ...)"),
    "amountSat": _d(_INT_OR_NULL, "Invoice amount in sat (rounded up), null if none"),
    "amountMsat": _d(_INT_OR_NULL, "Invoice amount in msat, null if none"),
    "paymentHash": _d(HEX64, "Payment hash"),
    "description": _d(_STR, "Description (empty when only a description hash is given)"),
    "createdAt": _d(_INT, "Invoice timestamp (unix s)"),
    "expiresAt": _d(_INT, "Timestamp + expiry (unix s)"),
    "expired": _d(_BOOL, "Expired at the time of the answer (then the decision is avoid)"),
    "signatureValid": _d(_BOOL, "Always true: invoices whose signature fails are refused"),
    "routeHints": _d(_INT, "Route hints the invoice carries"),
    "routeHintUsed": _d(_BOOL, "The likeliest route goes through one of them"),
})

_FRESH = obj({
    "amountSat": _d(_INT, "Probed amount: the intent's, capped at 1,000,000 sat"),
    "outcome": _d({"type": "string", "enum": [o.value for o in ProbeOutcome]},
                  "How the probe ended (reached: the target could have been paid)"),
    "reachable": _d(_BOOL, "outcome is reached"),
    "failureCode": _d({"type": ["string", "null"]}, "lnd's failure code, if it failed"),
    "failingHopIndex": _d(_INT_OR_NULL, "Index of the hop that failed"),
    "failingChannelId": _d({"type": ["string", "null"]}, "Channel that failed"),
    "hopCount": _d(_INT, "Hops of the last attempt"),
    "hops": _d({"type": "array", "items": obj({
        "channelId": _d(_STR, "Short channel id"), "pubkey": _d(_STR, "Node reached"),
        "feeMsat": _d(_INT, "Fee of this hop")})}, "The last attempt's hops"),
    "feeMsat": _d(_INT, "Route fee"),
    "durationMs": _d(_INT, "How long the probe took"),
    "attempts": _d(_INT, "HTLC attempts lnd made"),
})

_NODE_RESULT = obj({
    "decision": _d({"type": "string", "enum": ["proceed", "caution", "avoid"]},
                   f"proceed: pSuccess >= {PROCEED_P} and ci95Low >= {PROCEED_CI_LOW}, the "
                   f"target not RISKY; avoid: pSuccess < {AVOID_P}, no route within the "
                   "budget or an expired invoice; caution otherwise"),
    "reasons": _d({"type": "array", "items": _STR}, "What decided it, in words"),
    "thresholds": _d({"type": "object", "additionalProperties": _STR},
                     "The decision rules, per decision"),
    "pSuccess": _d(_P, "Probability that this payment (amount, fee budget) from this payer "
                       "reaches the target within lnd's payment timeout, retries included "
                       "(docs/intent.md)"),
    "ci95Low": _d(_P, "95 % interval, low end (node posterior + model uncertainty)"),
    "ci95High": _d(_P, "95 % interval, high end"),
    "basis": _d({"type": "string", "enum": ["node_score_conditioned", "route_model_only",
                                            "no_route"]},
                "node_score_conditioned: the target's measured score moved by the route "
                "model for this payer and amount; route_model_only: the target has no score; "
                "no_route: no route within the fee budget (pSuccess 0)"),
    "amountSat": _d(_INT, "The amount the answer is for"),
    "maxFeeSat": _d(_INT, "The fee budget the answer is for"),
    "route": _d(nullable(_ROUTE), "The likeliest of the routes a payer would try; null "
                                  "when none fits the budget"),
    "routesConsidered": _d(_INT, "Routes within the budget the payer would try (distinct "
                                 "last hops or route hints)"),
    "maxAttempts": _d(_INT, "At most this many routes are counted as retries"),
    "paymentBasis": _d(obj({
        "amountSat": _d(_INT, "The payment's amount"),
        "feeBudget": _d({"type": "string"}, "tight or normal when maxFeeSat is that budget's "
                                            "limit, else custom"),
        "feeLimitSat": _d(_NUM, "The fee budget in sat (maxFeeSat)"),
        "payer": _d(_STR, "caller:<pubkey> when computed for the caller, "
                          "caller_peers:<pubkey>,... for a private caller from its peers, "
                          "else reference"),
        "timeoutS": _d(_INT, "lnd's payment timeout the probability is within"),
        "score": _d({"type": "string", "enum": ["grid", "default_tier", "none"]},
                    "The target's measured score read: grid = model v2's stored grid at this "
                    "amount and fee budget (as GET /api/agent/{id}?amount_sat=&fee_budget=); "
                    "default_tier = the node's 100,000 sat p_success (scored before the "
                    "grid); none = not scored"),
    }), "What pSuccess is about: amount, fee budget and payer"),
    "model": _d(obj({
        "pRoutes": _d(_P, "The route model alone for this payer and amount, retries "
                          "included"),
        "pReference": _d(_P, "The route model for what the measured score is about: the "
                             "reference payer at this amount and budget (grid; for a "
                             "caller, at this amount and the default budget, where the "
                             "grid's theta is read), or at the 100,000 sat tier "
                             "(default_tier)"),
        "moved": _d(_BOOL, "The payer (or, for default_tier, the amount) differs from what "
                           "the score measured, so the model moved the score"),
    }), "The route model's parts"),
    "payer": _d(obj({
        "publicKey": _d({"type": ["string", "null"]}, "The payer the answer is for (null: "
                                                      "a private caller)"),
        "peers": _d({"type": "array", "items": {"type": "string"}},
                    "The private caller's peers the routes start from (caller_peers)"),
        "basis": _d({"type": "string", "enum": [
            "caller", "caller_peers", "reference_unknown_caller", "reference_private_caller",
            "reference_no_caller"]},
            "caller: computed from the caller's public channels; caller_peers: from the "
            "private caller's peers; otherwise the reference payer, because the caller is "
            "unknown, has no usable public channel at this amount, or was not given"),
        "isReference": _d(_BOOL, "The answer is the reference payer's (the grid's own)"),
        "reference": _d({"type": "string", "enum": [
            "our_node", "our_channels", "vantage_node", "hubs", "largest_node"]},
            "The payer the grid measured from: our node in the graph; our vantage nodes "
            "entering at their channels' peers (private channels, referencePeers); a public "
            "vantage node; a payer with channels to the central hubs (no vantage known); "
            "the node with the most capacity only until a scoring pass has said"),
        "referencePeers": _d({"type": "array", "items": {"type": "string"}},
                             "Where a private reference payer enters the graph"),
    }), "Who the answer is computed for"),
    "target": _d(nullable(_TARGET), "The target node's verdict and evidence freshness; null "
                                    "for an invoice payee outside the public graph"),
    "invoice": _d(nullable(_INVOICE), "The decoded invoice, when the target was one"),
    "fresh": _d(nullable(_FRESH), "The fresh probe's result (fresh: true), else null"),
    "snapshotAt": _d(_INT, "When this worker's routing snapshot was built (unix s)"),
})

_STAGE = obj({
    "stage": _d({"type": "string", "enum": ["challenge", "invoice", "payment", "delivery"]},
                "The stage (docs/registry.md)"),
    "p": _d(_P, "Posterior mean of this stage succeeding, given the one before did"),
    "ci95Low": _d(_P, "95 % interval, low end"),
    "ci95High": _d(_P, "95 % interval, high end"),
    "nEff": _d(_NUM, "Decayed observations behind it"),
})

_ENDPOINT = obj({
    **{name: _d(schema, f"As in GET /api/services/{{id}} ({name}), scored at answer time")
       for name, schema in SERVICE["properties"].items()},
    "stages": _d({"type": "array", "items": _STAGE}, "Each observed stage's posterior"),
})

_URL_RESULT = obj({
    "decision": _d({"type": "string", "enum": ["proceed", "caution", "avoid"]},
                   f"proceed: {URL_THRESHOLDS['proceed']}; avoid: {URL_THRESHOLDS['avoid']}; "
                   "caution otherwise"),
    "reasons": _d({"type": "array", "items": _STR},
                  "What decided it, then the endpoint's own reasons (`endpoint stage:REASON`)"),
    "thresholds": _d({"type": "object", "additionalProperties": _STR},
                     "The decision rules, per decision"),
    "pSuccess": _d(_P, "p(challenge) x p(invoice) x p(delivery) of the endpoint (observed "
                       "stages) x pSuccess of paying its payee from this caller at its price"),
    "ci95Low": _d(_P, "95 % interval, low end: the factors' interval widths in log scale "
                      "added in quadrature around the product"),
    "ci95High": _d(_P, "95 % interval, high end (the same way)"),
    "basis": _d({"type": "string", "enum": ["endpoint_stages_x_payment", "no_payee"]},
                "no_payee: no invoice seen yet, or its payee is outside the public graph "
                "(pSuccess 0, avoid)"),
    "amountSat": _d(_INT_OR_NULL, "The amount the payment part is for: the endpoint's price "
                                  "(null without a payee)"),
    "priceSat": _d(_INT_OR_NULL, "The endpoint's newest invoice amount"),
    "endpoint": _d(_ENDPOINT, "The registered endpoint and its stage posteriors"),
    "payment": _d(nullable(_NODE_RESULT), "The node intent for paying the endpoint's payee "
                                          "(amount: the price, caller as given); null with "
                                          "basis no_payee"),
    "snapshotAt": _d(_INT, "When this worker's routing snapshot was built (unix s)"),
    "scoredAt": _d(_INT, "When the endpoint's stages were scored (unix s): now"),
})

INTENT_RESULT: Schema = {"type": "object", "properties": {"data": _d(
    {"oneOf": [_NODE_RESULT, _URL_RESULT]},
    "The answer for a node or invoice target, or (for an L402 endpoint URL) the endpoint's")},
    "required": ["data"], "additionalProperties": False}
