"""POST /api/probe (paid, 5 credits): fresh probe payments from our node to a target.

Where it runs: in the api process, through the pay-macaroon backend
(`ApiLightning.probe`, api/lightning.py), with the same `LightningBackend.send_probe` the
crawler uses (a random payment hash, so nothing is ever paid). Each result is stored by
the crawler's own writer (`db.probes.record_probes`) with source 'api', so it feeds the
target's posterior like a crawler probe.

Bounds (api/probe_flights.py): probes run as flights, capped per process, per token and
per target; a request over a cap gets 429 PROBE_BUSY at once. A flight keeps its slot
until lnd reports its payment final, even when the request gave up: an HTLC held on the
route past the budget keeps counting against the caps. The answer comes back within the
budget (REQUEST_BUDGET_S) or as 504; each probe's fee limit is PROBE_FEE_LIMIT_SAT.

Charging (middleware/l402.py): a failure before any HTLC left our node is refunded; once
one has left, the answer stays charged (504 included), so holding our probes past the
budget is never free.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from satrank.api.body import int_in, invalid_field, json_object, parsed_once
from satrank.api.errors import ApiError, retry_later
from satrank.api.ids import ID_DESCRIPTION, classify_id, node_not_found
from satrank.api.middleware.l402 import KEEP_CHARGE
from satrank.api.probe_flights import BUSY_RETRY_AFTER_S, Flight, FlightsFull
from satrank.api.render import dumps, json_bytes
from satrank.api.state import api_state
from satrank.db.nodes import IdKind, fetch_node
from satrank.db.pool import connection
from satrank.db.probes import SentProbe, record_probes
from satrank.lightning.backend import ProbeResult
from satrank.lightning.errors import LightningError
from satrank.outcomes import ProbeOutcome
from satrank.scoring.tiers import DEFAULT_TIER_SAT

DEFAULT_AMOUNT_SAT = DEFAULT_TIER_SAT  # an on-demand probe feeds the tier every score uses
# The crawler's largest tier: a larger probe tells a score nothing and locks more liquidity.
MAX_AMOUNT_SAT = 1_000_000
MAX_AMOUNTS = 3
PROBE_TIMEOUT_S = 6.0  # lnd's timeout per probe: MAX_AMOUNTS of them fit in the budget
REQUEST_BUDGET_S = 20.0


def _is_amount(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and (
        1 <= value <= MAX_AMOUNT_SAT)


def _amounts(body: dict[str, Any]) -> list[int]:
    if "amounts_sat" in body and "amount_sat" in body:
        raise invalid_field("amounts_sat", "given alone (not with amount_sat)")
    if "amounts_sat" in body:
        raw = body["amounts_sat"]
        if (not isinstance(raw, list) or not 1 <= len(raw) <= MAX_AMOUNTS
                or not all(_is_amount(v) for v in raw)):
            raise invalid_field(
                "amounts_sat", f"a list of 1 to {MAX_AMOUNTS} integers from 1 to {MAX_AMOUNT_SAT}")
        return sorted(set(raw))
    single = int_in(body, "amount_sat", 1, MAX_AMOUNT_SAT)
    return [single if single is not None else DEFAULT_AMOUNT_SAT]


def probe_block(result: ProbeResult) -> dict[str, Any]:
    return {
        "amountSat": result.amount_sat,
        "outcome": result.outcome.value,
        "reachable": result.outcome is ProbeOutcome.REACHED,
        "failureCode": result.failure_code,
        "failingHopIndex": result.failure_source_index,
        "failingChannelId": str(result.failing_channel_id)
        if result.failing_channel_id is not None else None,
        "hopCount": len(result.hops),
        "hops": [{"channelId": str(h.channel_id), "pubkey": h.pubkey, "feeMsat": h.fee_msat}
                 for h in result.hops],
        "feeMsat": result.fee_msat,
        "durationMs": result.duration_ms,
        "attempts": result.attempts,
    }


async def _parse(request: Request) -> tuple[tuple[IdKind, str], list[int]]:
    body = await json_object(request, frozenset({"target", "amount_sat", "amounts_sat"}))
    target = body.get("target")
    parsed = classify_id(target) if isinstance(target, str) else None
    if parsed is None:
        raise invalid_field("target", ID_DESCRIPTION)
    return parsed, _amounts(body)


async def _parsed(request: Request) -> tuple[tuple[IdKind, str], list[int]]:
    return await parsed_once(request, _parse)


async def check_input(request: Request) -> None:
    """Run by the paywall before payment: a body we would reject is never paid for."""
    await _parsed(request)


async def probe(request: Request) -> Response:
    parsed, amounts = await _parsed(request)
    state = api_state(request)
    lightning = state.lightning
    if lightning.probe is None:
        # no Retry-After: nothing changes until an operator configures it
        raise ApiError(503, "LIGHTNING_NOT_CONFIGURED", "probing is not configured on this "
                       "server (its operator has not set LND_PAY_MACAROON_PATH)")
    pool = state.pool
    node = await fetch_node(pool, *parsed)
    if node is None:
        raise node_not_found()
    backend = lightning.probe
    fee_limit = state.probe_fee_limit_sat
    flights = state.probe_flights
    abandoned = False  # the request gave up: send no further amount

    async def one(flight: Flight, amount: int) -> dict[str, Any]:
        sent_at = datetime.now(UTC)
        result = await backend.send_probe(node.pubkey, amount, fee_limit_sat=fee_limit,
                                          timeout_s=PROBE_TIMEOUT_S, on_htlc=flight.mark_htlc,
                                          until_final=True)
        async with connection(pool) as conn:  # the crawler's writer: one code path
            await record_probes(conn, [SentProbe(result, sent_at)], source="api")
        return probe_block(result)

    async def run(flight: Flight) -> list[dict[str, Any]]:
        blocks = []
        for amount in amounts:  # one at a time: they share channels
            if abandoned:
                break
            blocks.append(await one(flight, amount))
        return blocks

    grant = getattr(request.state, "l402", None)
    token = grant.token_id if grant is not None else None
    try:
        flight, task = flights.start(token, node.pubkey, run)
    except FlightsFull as exc:
        raise retry_later(429, "PROBE_BUSY", f"{exc}; retry later, nothing was charged",
                          BUSY_RETRY_AFTER_S) from None
    try:
        blocks = await asyncio.wait_for(asyncio.shield(task), flights.budget_s)
    except TimeoutError:
        abandoned = True
        _keep_charge_if_sent(request, flight)
        raise ApiError(504, "PROBE_TIMEOUT",
                       f"probe did not finish within {flights.budget_s:.0f} s"
                       + (" (its HTLC is still held on the route; charged)"
                          if flight.htlc_left else "")) from None
    except LightningError as exc:
        _keep_charge_if_sent(request, flight)
        raise ApiError(503, "PROBE_UNAVAILABLE", f"lightning node error ({type(exc).__name__})",
                       headers={"Retry-After": "60"}) from None
    return json_bytes(dumps({"data": {
        "target": {"publicKey": node.pubkey, "publicKeyHash": node.agent_hash,
                   "alias": node.alias},
        "probes": blocks,
        "probedAt": int(time.time()),
    }}))


def _keep_charge_if_sent(request: Request, flight: Flight) -> None:
    """An HTLC that left our node cost liquidity (possibly for hours, if held): the failed
    request stays charged, so holding our probes is never free (middleware/l402.py)."""
    if flight.htlc_left:
        setattr(request.state, KEEP_CHARGE, True)


routes = [Route("/api/probe", probe, methods=["POST"])]
