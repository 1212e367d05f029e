"""POST /api/report: an agent says how its payment to a node went.

Body: `{target, outcome: success|failure|timeout, amount_sat?, invoice?, payment_hash?,
preimage?}`.

Verified (api/report_proof.py): the BOLT 11 invoice, signed by the target's node key,
and the preimage of its payment hash. Only such a report weighs like a probe; anything
less weighs like an unverified claim (scoring/evidence.py), and reports together hold at
most a fifth of a node's evidence (docs/methodology.md §4).

Standing (anti-spam): a report without proof needs a valid SatRank L402 token in
`Authorization` (checked, never debited) or at least a preimage matching payment_hash.
Limits (db/reports.py): per client (`api.clients.client_key`) per hour and one report per
client and target per hour; per token per hour and one per token and target per day; per
target per hour, verified and unverified apart; one verified report per payment.
"""

from __future__ import annotations

import asyncio
import time

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from satrank.api.body import int_in, invalid_field, json_object
from satrank.api.clients import client_key
from satrank.api.errors import ApiError
from satrank.api.ids import ID_DESCRIPTION, classify_id, node_not_found
from satrank.api.render import dumps, json_bytes, unix
from satrank.api.report_proof import check_payee, client_pseudonym, report_proof
from satrank.api.state import api_state
from satrank.db.nodes import fetch_node
from satrank.db.reports import NewReport, ReportStatus, insert_report

OUTCOMES = ("success", "failure", "timeout")
MAX_AMOUNT_SAT = 21_000_000 * 100_000_000

_REFUSALS = {
    ReportStatus.DUPLICATE: (409, "DUPLICATE_REPORT",
                             "this payment or this token already reported on this target"),
    ReportStatus.TOKEN_LIMITED: (429, "REPORT_RATE_LIMITED",
                                 "too many reports from this token in the last hour"),
    ReportStatus.CLIENT_LIMITED: (429, "REPORT_RATE_LIMITED",
                                  "too many reports from this client in the last hour, or "
                                  "this client already reported on this target"),
    ReportStatus.TARGET_LIMITED: (429, "REPORT_RATE_LIMITED",
                                  "too many reports on this target in the last hour"),
}


async def report(request: Request) -> Response:
    body = await json_object(request, frozenset(
        {"target", "outcome", "amount_sat", "invoice", "payment_hash", "preimage"}))
    target = body.get("target")
    parsed = classify_id(target) if isinstance(target, str) else None
    if parsed is None:
        raise invalid_field("target", ID_DESCRIPTION)
    outcome = body.get("outcome")
    if outcome not in OUTCOMES:
        raise invalid_field("outcome", "one of " + ", ".join(OUTCOMES))
    amount_sat = int_in(body, "amount_sat", 1, MAX_AMOUNT_SAT)
    # Decoding a long invoice takes up to ~0.1 s of CPU: off the event loop, so other
    # requests keep being served meanwhile.
    proof = await asyncio.to_thread(report_proof, body, outcome=outcome, now_unix=time.time())
    state = api_state(request)
    token_id = await state.report_token_checker(request)
    if token_id is None and not proof.has_preimage:
        raise ApiError(401, "REPORT_PROOF_REQUIRED",
                       "a report needs a valid SatRank L402 token (Authorization header), "
                       "or the target's invoice with its preimage")
    node = await fetch_node(state.pool, *parsed)
    if node is None:
        raise node_not_found()
    check_payee(proof, node.pubkey)
    # The same client key as the paywall's minting limit; the deployment's secret keys
    # the pseudonym.
    paywall = state.paywall
    client = client_pseudonym(client_key(request.scope, trusted_proxies=paywall.trusted_proxies),
                              paywall.l402.macaroon_secret.reveal())
    written = await insert_report(state.pool, NewReport(
        target_pubkey=node.pubkey, outcome=outcome,
        amount_sat=amount_sat or proof.invoice_amount_sat, payment_hash=proof.payment_hash,
        verified=proof.verified, token_id=token_id, client_id=client), state.report_limits)
    if written.status is not ReportStatus.CREATED:
        status, code, message = _REFUSALS[written.status]
        headers = {"Retry-After": "3600"} if status == 429 else None
        raise ApiError(status, code, message, headers=headers)
    return json_bytes(dumps({"data": {
        "reportId": str(written.report_id),
        "target": node.pubkey,
        "verified": proof.verified,
        "timestamp": unix(written.created_at),
    }}), status=201)


routes = [Route("/api/report", report, methods=["POST"])]
