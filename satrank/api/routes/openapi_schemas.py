"""JSON Schemas of the API's bodies, for the OpenAPI document (api/openapi.py)."""

from __future__ import annotations

from typing import Any

from satrank.lightning.bolt11 import MAX_INVOICE_LEN
from satrank.outcomes import ProbeOutcome

Schema = dict[str, Any]

NUM_OR_NULL: Schema = {"type": ["number", "null"]}
INT_OR_NULL: Schema = {"type": ["integer", "null"]}
VERDICT: Schema = {"type": "string", "enum": ["SAFE", "RISKY", "UNKNOWN", "INSUFFICIENT"]}
HEX66: Schema = {"type": "string", "pattern": "^0[23][0-9a-f]{64}$"}
HEX64: Schema = {"type": "string", "pattern": "^[0-9a-f]{64}$"}
NODE_ID: Schema = {"type": "string", "description": "66-hex node pubkey or 64-hex agent hash",
                   "pattern": "^(0[23][0-9a-fA-F]{64}|[0-9a-fA-F]{64})$"}


def obj(props: dict[str, Schema], required: list[str] | None = None, *,
        extra: bool = False) -> Schema:
    return {"type": "object", "properties": props,
            "required": list(props) if required is None else required,
            "additionalProperties": extra}


def nullable(schema: Schema) -> Schema:
    return {"oneOf": [schema, {"type": "null"}]}


def data(schema: Schema, meta: Schema | None = None) -> Schema:
    props = {"data": schema}
    if meta is not None:
        props["meta"] = meta
    return obj(props)


ERROR = obj({
    "error": obj({"code": {"type": "string", "pattern": "^[A-Z0-9_]+$"},
                  "message": {"type": "string"},
                  "details": {"type": "object"}}, ["code", "message"]),
    "requestId": {"type": "string"},
})

AGENT = obj({"publicKey": HEX66, "publicKeyHash": HEX64, "alias": {"type": "string"},
             "firstSeen": {"type": "integer"}, "lastSeen": {"type": "integer"},
             "active": {"type": "boolean"}})

# The one definition of the published quantity (docs/methodology.md §0, scoring/budgets.py).
P_SUCCESS_DEFINITION = (
    "p_success(node, amount, fee_budget, payer): probability that a payment of `amount` "
    "with at most `fee_budget` in routing fees, sent by `payer` (our reference payer, the "
    "vantage node(s), unless said otherwise), reaches the node within lnd's default payment "
    "timeout (60 s) with lnd's retries. `basis` says which amount, budget and payer.")
P_SUCCESS: Schema = {"type": "number", "minimum": 0, "maximum": 1,
                     "description": P_SUCCESS_DEFINITION}
P_SUCCESS_OR_NULL: Schema = {"type": ["number", "null"], "description": P_SUCCESS_DEFINITION}
CI_LOW: Schema = {"type": "number", "description": "lower end of the 95 % credible interval "
                  "of p_success (same basis)"}
CI_HIGH: Schema = {"type": "number", "description": "upper end of the 95 % credible "
                   "interval of p_success (same basis)"}
N_OBS: Schema = {"type": "number", "description": "effective observations behind the "
                 "estimate (decayed, weighted probes and capped reports; 0 = graph only)"}
BASIS = obj({
    "amountSat": {"type": "integer", "description": "payment amount the figures are for"},
    "feeBudget": {"type": "string", "enum": ["tight", "normal", "custom"],
                  "description": "tight = 10 sat; normal = 0.5 % of the amount + 5 sat; "
                                 "custom = the fee_budget in sat the client asked for"},
    "feeLimitSat": {"type": "number", "description": "the fee limit in sat at this amount"},
    "payer": {"type": "string", "description": "the reference payer: 'vantage:<pubkeys>' "
              "(our nodes, paying over their own channels, private ones included), or "
              "'hubs:N' (a payer with channels to the N most central nodes, when no "
              "vantage node is known)"},
    "timeoutS": {"type": "integer", "description": "lnd's default payment timeout"},
})
BASIS_PARAMS: list[Schema] = [
    {"name": "amount_sat", "in": "query", "schema": {"type": "integer", "minimum": 1,
                                                     "maximum": 5_000_000},
     "description": "amount of the payment to estimate (default 100000); interpolated "
                    "in log-amount between the stored grid's amounts"},
    {"name": "fee_budget", "in": "query", "schema": {"type": "string",
                                                     "pattern": "^(tight|normal|[0-9]{1,7})$"},
     "description": "tight (10 sat), normal (0.5 % + 5 sat, the default) or a limit in sat"},
]

BAYESIAN = obj({"verdict": VERDICT, "p_success": P_SUCCESS,
                "ci95_low": CI_LOW, "ci95_high": CI_HIGH,
                "n_obs": N_OBS, "last_update": {"type": "integer"}, "basis": BASIS})

AGENT_SUMMARY = obj({"agent": AGENT, "rank": INT_OR_NULL, "bayesian": nullable(BAYESIAN)})

VERDICT_BLOCK_PROPS: dict[str, Schema] = {
    "publicKey": HEX66, "publicKeyHash": HEX64, "alias": {"type": "string"},
    "verdict": VERDICT, "rank": INT_OR_NULL, "p_success": P_SUCCESS_OR_NULL,
    "ci95_low": {**CI_LOW, "type": ["number", "null"]},
    "ci95_high": {**CI_HIGH, "type": ["number", "null"]}, "n_obs": N_OBS,
    "reason": {"type": "string"}, "reasons": {"type": "array", "items": {"type": "string"}},
    "last_update": INT_OR_NULL, "basis": BASIS,
}
VERDICT_BLOCK = obj(VERDICT_BLOCK_PROPS)

LEADER_ITEM = obj({"publicKey": HEX66, "publicKeyHash": HEX64, "alias": {"type": "string"},
                   "rank": INT_OR_NULL, "bayesian": nullable(BAYESIAN)})

LEADERBOARD = data({"type": "array", "items": LEADER_ITEM},
                   obj({"total": {"type": "integer"}, "limit": {"type": "integer"},
                        "offset": {"type": "integer"}, "sort_by": {"type": "string"},
                        "next_cursor": {"type": ["string", "null"],
                                        "description": "cursor of the next page; null on "
                                                       "the last one"}}))

SEARCH = data({"type": "array", "items": LEADER_ITEM},
              obj({"count": {"type": "integer"}, "limit": {"type": "integer"}}))

BATCH_ITEM: Schema = {"oneOf": [
    obj({"id": {"type": "string"}, "found": {"const": False}}),
    obj({"id": {"type": "string"}, "found": {"const": True}, **VERDICT_BLOCK_PROPS}),
]}

VERDICTS_REQUEST = {
    "type": "object",
    "properties": {
        "ids": {"type": "array", "items": NODE_ID, "minItems": 1, "maxItems": 100},
        "hashes": {"type": "array", "items": NODE_ID, "minItems": 1, "maxItems": 100,
                   "deprecated": True, "description": "legacy name of ids"},
    },
    "additionalProperties": False,
    "oneOf": [{"required": ["ids"]}, {"required": ["hashes"]}],
}

STATS = data(obj({
    "nodes": obj({"active": {"type": "integer"}, "all": {"type": "integer"},
                  "scored": {"type": "integer"}}),
    "channels": obj({"open": {"type": "integer"}, "capacitySat": {"type": "integer"},
                     "capacityBtc": {"type": "number"}}),
    "verdicts": obj({v: {"type": "integer"} for v in VERDICT["enum"]}),
    "probes": obj({"last24h": {"type": "integer"}, "nodesProbed7d": {"type": "integer"},
                   "nodesReached7d": {"type": "integer"}, "reachableRate7d": NUM_OR_NULL}),
    "reports": obj({"last30d": {"type": "integer"}, "verified30d": {"type": "integer"}}),
    "graphSyncedAt": INT_OR_NULL, "scoredAt": INT_OR_NULL,
}))

# ok / not_synced carry our node's identity and channels; unreachable and not_configured
# (no readonly macaroon: nothing to retry) carry a detail instead
_HEALTH_LND = {"type": "object", "properties": {
    "status": {"type": "string",
               "enum": ["ok", "not_synced", "unreachable", "not_configured"]},
    "detail": {"type": "string"}, "pubkey": HEX66, "alias": {"type": "string"},
    "activeChannels": {"type": "integer", "minimum": 0},
    "peers": {"type": "integer", "minimum": 0}, "blockHeight": {"type": "integer"},
    "syncedToChain": {"type": "boolean"}, "syncedToGraph": {"type": "boolean"},
    "version": {"type": "string"}}, "required": ["status"]}

HEALTH = obj({
    "status": {"type": "string", "enum": ["ok", "degraded", "down"]},
    "version": {"type": "string"},
    "reasons": {"type": "array", "items": {"type": "string"}},
    "checks": {"type": "object", "properties": {
        "database": {"type": "object"}, "lnd": _HEALTH_LND,
        "graph": {"type": "object"}, "scoring": {"type": "object"},
        "probes": {"type": "object"}, "nostrOutbox": {"type": "object"},
        "disk": {"type": "object"}}, "required": ["database", "lnd", "disk"]},
})

_FEE_SIDE = {"type": "object", "properties": {
    "channels": {"type": "integer"}, "disabled": {"type": "integer"},
    "feeRatePpm": {"type": "object"}, "feeBaseMsat": {"type": "object"},
    "timeLockDelta": {"type": "object"}, "inboundFeeRatePpm": {"type": "object"},
    "lastUpdate": INT_OR_NULL}}

PROFILE = data(obj({
    "agent": obj({"publicKey": HEX66, "publicKeyHash": HEX64, "alias": {"type": "string"},
                  "color": {"type": ["string", "null"]}, "addresses": {},
                  "active": {"type": "boolean"}, "firstSeen": {"type": "integer"},
                  "lastSeen": {"type": "integer"}, "lastAnnouncement": INT_OR_NULL}),
    "score": nullable(obj({
        "rank": {"type": "integer"}, "verdict": VERDICT, "p_success": P_SUCCESS,
        "ci95_low": CI_LOW, "ci95_high": CI_HIGH,
        "n_obs": N_OBS, "reasons": {"type": "array"},
        "computedAt": {"type": "integer"}, "basis": BASIS,
        "grid": nullable(obj({
            "amountsSat": {"type": "array", "items": {"type": "integer"}},
            "budgets": {"type": "array", "items": {"type": "string"}},
            "p": {"type": "array", "items": {"type": "number"},
                  "description": "p_success per (budget, amount), budget-major; "
                                 + P_SUCCESS_DEFINITION}}))})),
    "centrality": nullable(obj({"pagerank": {"type": "number"},
                                "pagerankPercentile": {"type": "number"}})),
    "features": {"type": ["object", "null"]},
    "graph": obj({"channels": {"type": "integer"}, "peers": {"type": "integer"},
                  "capacitySat": {"type": "integer"}, "medianChannelSat": INT_OR_NULL,
                  "largestChannelSat": INT_OR_NULL, "oldestChannelBlock": INT_OR_NULL,
                  "newestChannelBlock": INT_OR_NULL}),
    "posteriors": {"type": "array", "description": "per probed amount tier, with the "
                   "normal fee budget", "items": {"type": "object", "properties": {
        "amountSat": {"type": "integer"}, "p_success": P_SUCCESS,
        "ci95_low": CI_LOW, "ci95_high": CI_HIGH, "n_obs": N_OBS}}},
    "probes": obj({"byAmount": {"type": "array"}, "recent": {"type": "array"}}),
    "reports": obj({"windowDays": {"type": "integer"}, "total": {"type": "integer"},
                    "successes": {"type": "integer"}, "failures": {"type": "integer"},
                    "timeouts": {"type": "integer"}, "verified": {"type": "integer"},
                    "lastAt": INT_OR_NULL}),
    "feePolicy": obj({"outbound": _FEE_SIDE, "inbound": _FEE_SIDE}),
    "history": {"type": "array", "items": {"type": "object"}},
}))

PROBE_REQUEST = {
    "type": "object",
    "properties": {
        "target": NODE_ID,
        "amount_sat": {"type": "integer", "minimum": 1, "maximum": 1_000_000},
        "amounts_sat": {"type": "array", "minItems": 1, "maxItems": 3, "items": {
            "type": "integer", "minimum": 1, "maximum": 1_000_000}},
    },
    "required": ["target"],
    "additionalProperties": False,
}

PROBE_RESULT = data(obj({
    "target": obj({"publicKey": HEX66, "publicKeyHash": HEX64, "alias": {"type": "string"}}),
    "probes": {"type": "array", "items": {"type": "object", "properties": {
        "amountSat": {"type": "integer"},
        "outcome": {"type": "string", "enum": [o.value for o in ProbeOutcome]},
        "reachable": {"type": "boolean"}, "failureCode": {"type": ["string", "null"]},
        "failingHopIndex": INT_OR_NULL, "failingChannelId": {"type": ["string", "null"]},
        "hopCount": {"type": "integer"}, "hops": {"type": "array"},
        "feeMsat": {"type": "integer"}, "durationMs": {"type": "integer"},
        "attempts": {"type": "integer"}}}},
    "probedAt": {"type": "integer"},
}))

REPORT_REQUEST = {
    "type": "object",
    "properties": {
        "target": NODE_ID,
        "outcome": {"type": "string", "enum": ["success", "failure", "timeout"]},
        "amount_sat": {"type": "integer", "minimum": 1},
        "invoice": {"type": "string", "minLength": 1, "maxLength": MAX_INVOICE_LEN,
                    "description": "BOLT 11 invoice of the payment, signed by the target "
                                   "node; with its preimage the report is verified"},
        "payment_hash": {"type": "string", "pattern": "^[0-9a-fA-F]{64}$",
                         "description": "the invoice's payment hash when both are given"},
        "preimage": {"type": "string", "pattern": "^[0-9a-fA-F]{64}$",
                     "description": "sha256(preimage) must equal the payment hash; only "
                                    "with outcome success"},
    },
    "required": ["target", "outcome"],
    "additionalProperties": False,
}

REPORT_CREATED = data(obj({
    "reportId": {"type": "string"}, "target": HEX66,
    "verified": {"type": "boolean",
                 "description": "true only with the target-signed invoice and its preimage"},
    "timestamp": {"type": "integer"}}))

DEPOSIT_TIER = obj({"minSat": {"type": "integer"}, "satPerCredit": {"type": "number"},
                    "creditsPerSat": {"type": "integer"}})
DEPOSIT_TIERS = data(obj({"tiers": {"type": "array", "items": DEPOSIT_TIER},
                          "minSat": {"type": "integer"}, "maxSat": {"type": "integer"}}))
DEPOSIT_REQUEST = {
    "type": "object",
    "properties": {"amount": {"type": "integer", "minimum": 21, "maximum": 10_000_000,
                              "description": "sat to pay; credits follow the tier table"}},
    "required": ["amount"],
    "additionalProperties": False,
}
DEPOSIT_OFFER = data(obj({
    "credits": {"type": "integer"}, "amountSat": {"type": "integer"},
    "invoice": {"type": "string"}, "macaroon": {"type": "string"},
    "paymentHash": HEX64, "expiresAt": {"type": "string"}, "validUntil": {"type": "string"},
    "tier": DEPOSIT_TIER, "usage": {"type": "string"},
}))

# --- the L402 service registry (api/routes/services.py) ----------------------------------
SERVICE = obj({
    "id": {"type": "integer"}, "url": {"type": "string"},
    "method": {"type": "string", "enum": ["GET", "POST", "PUT", "PATCH", "DELETE"]},
    "name": {"type": ["string", "null"]}, "category": {"type": "string"},
    "description": {"type": ["string", "null"]},
    "source": {"type": "string", "enum": ["registered", "manifest"]},
    "ownerPubkey": {"type": ["string", "null"]}, "priceSat": INT_OR_NULL,
    "advertisedPriceSat": INT_OR_NULL, "payeePubkey": {"type": ["string", "null"]},
    "pSuccess": NUM_OR_NULL, "uptime": NUM_OR_NULL, "medianLatencyMs": INT_OR_NULL,
    "verdict": {"type": ["string", "null"]},
    "reasons": {"type": "array", "items": {"type": "string"}},
    "registeredAt": {"type": "integer"}, "checkedAt": INT_OR_NULL,
})
SERVICES = data({"type": "array", "items": SERVICE}, obj({
    "count": {"type": "integer"}, "limit": {"type": "integer"},
    "sort_by": {"type": "string"}, "next_cursor": {"type": ["string", "null"]}}))
SERVICE_REQUEST = {
    "type": "object",
    "properties": {
        "url": {"type": "string", "minLength": 1, "maxLength": 2048,
                "description": "absolute https URL of the paid endpoint (no credentials)"},
        "method": {"type": "string", "enum": ["GET", "POST", "PUT", "PATCH", "DELETE"],
                   "default": "GET"},
        "category": {"type": "string"},
        "name": {"type": "string", "minLength": 1, "maxLength": 100},
        "description": {"type": "string", "minLength": 1, "maxLength": 1000},
    },
    "required": ["url", "category"],
    "additionalProperties": False,
}
SERVICE_CREATED = data(obj({"id": {"type": "integer"}, "url": {"type": "string"},
                            "method": {"type": "string"}}))
SERVICE_CATEGORIES = data({"type": "array", "items": obj({
    "category": {"type": "string"}, "count": {"type": "integer"}})})
SERVICE_STAGES = data(obj({"service": SERVICE, "stages": {"type": "array", "items": obj({
    "stage": {"type": "string"}, "p": {"type": "number"}, "ci95Low": {"type": "number"},
    "ci95High": {"type": "number"}, "nEff": {"type": "number"}})},
    "observations": {"type": "array", "items": obj({
    "stage": {"type": "string",
              "enum": ["challenge", "invoice", "payment", "delivery", "quality"]},
    "ok": {"type": "boolean"}, "reason": {"type": "string"},
    "latencyMs": {"type": "integer"}, "priceSat": INT_OR_NULL,
    "payeePubkey": {"type": ["string", "null"]}, "observedAt": {"type": "integer"}})}}))
L402_MANIFEST = obj({
    "version": {"type": "integer"},
    "provider": obj({"name": {"type": "string"}, "url": {"type": "string"},
                     "node": {"type": ["string", "null"]}}),
    "payment": obj({"scheme": {"type": "string"}, "challengeCredits": {"type": "integer"},
                    "challengePriceSat": {"type": "integer"}}),
    "resources": {"type": "array", "items": obj({
        "method": {"type": "string"}, "path": {"type": "string"}, "url": {"type": "string"},
        "credits": {"type": "integer"}, "priceSat": {"type": "integer"}})},
})
