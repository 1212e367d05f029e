"""POST /api/report: an agent says how its payment to a node went.

Body: `{target, outcome: success|failure|timeout, amount_sat?, payment_hash?, preimage?}`.

Proof (anti-spam): a report is accepted with either
- a valid SatRank L402 token in `Authorization` (checked, never debited), or
- a preimage whose sha256 equals payment_hash: the report is then `verified`.
A preimage with no payment_hash, or one that does not hash to it, is refused (422): a
"verified" flag must mean something. Limits: per token per hour, per target per hour, one
report per (token, target) per day, one report per payment hash ever (409 otherwise).

Known limit, stated so nobody over-trusts it: a preimage/hash pair proves a payment only
if the hash came from the target's invoice, and without the invoice anyone can mint a
pair. Verified-only reports are therefore bounded by the per-target cap; the scoring side
weighs them accordingly.
"""

from __future__ import annotations

import hashlib
import hmac

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from satrank.api.body import hex32, int_in, invalid_field, json_object
from satrank.api.errors import ApiError
from satrank.api.ids import ID_DESCRIPTION, classify_id, node_not_found
from satrank.api.render import dumps, json_bytes, unix
from satrank.api.state import api_state
from satrank.db.nodes import fetch_node
from satrank.db.reports import ReportStatus, insert_report

OUTCOMES = ("success", "failure", "timeout")
MAX_AMOUNT_SAT = 21_000_000 * 100_000_000

_REFUSALS = {
    ReportStatus.DUPLICATE: (409, "DUPLICATE_REPORT",
                             "this payment or this token already reported on this target"),
    ReportStatus.TOKEN_LIMITED: (429, "REPORT_RATE_LIMITED",
                                 "too many reports from this token in the last hour"),
    ReportStatus.TARGET_LIMITED: (429, "REPORT_RATE_LIMITED",
                                  "too many reports on this target in the last hour"),
}


async def report(request: Request) -> Response:
    body = await json_object(
        request, frozenset({"target", "outcome", "amount_sat", "payment_hash", "preimage"}))
    target = body.get("target")
    parsed = classify_id(target) if isinstance(target, str) else None
    if parsed is None:
        raise invalid_field("target", ID_DESCRIPTION)
    outcome = body.get("outcome")
    if outcome not in OUTCOMES:
        raise invalid_field("outcome", "one of " + ", ".join(OUTCOMES))
    amount_sat = int_in(body, "amount_sat", 1, MAX_AMOUNT_SAT)
    payment_hash = hex32(body, "payment_hash")
    preimage = hex32(body, "preimage")
    verified = False
    if preimage is not None:
        if payment_hash is None:
            raise invalid_field("payment_hash", "given with preimage")
        if not hmac.compare_digest(hashlib.sha256(preimage).digest(), payment_hash):
            raise invalid_field("preimage", "the sha256 preimage of payment_hash")
        verified = True
    state = api_state(request)
    token_id = await state.report_token_checker(request)
    if token_id is None and not verified:
        raise ApiError(401, "REPORT_PROOF_REQUIRED",
                       "a report needs a valid SatRank L402 token (Authorization header) "
                       "or a preimage matching payment_hash")
    node = await fetch_node(state.pool, *parsed)
    if node is None:
        raise node_not_found()
    written = await insert_report(
        state.pool, target_pubkey=node.pubkey, outcome=outcome,
        amount_sat=amount_sat, payment_hash=payment_hash, verified=verified,
        token_id=token_id, limits=state.report_limits,
    )
    if written.status is not ReportStatus.CREATED:
        status, code, message = _REFUSALS[written.status]
        headers = {"Retry-After": "3600"} if status == 429 else None
        raise ApiError(status, code, message, headers=headers)
    return json_bytes(dumps({"data": {
        "reportId": str(written.report_id),
        "target": node.pubkey,
        "verified": verified,
        "timestamp": unix(written.created_at),
    }}), status=201)


routes = [Route("/api/report", report, methods=["POST"])]
