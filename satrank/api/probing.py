"""Fresh probes sent for a request, shared by POST /api/probe and POST /api/intent with
`fresh: true`: one set of caps, one budget, one charging rule.

Where they run: in the api process, through the pay-macaroon backend
(`ApiLightning.probe`, api/lightning.py), with the same `LightningBackend.send_probe` the
crawler uses (a random payment hash, so nothing is ever paid). Each result is stored by
the crawler's own writer (`db.probes.record_probes`) with source 'api', so it feeds the
target's posterior like a crawler probe.

Bounds (api/probe_flights.py): probes run as flights, capped per process, per token and
per target; a request over a cap gets 429 PROBE_BUSY at once. A flight keeps its slot
until lnd reports its payment final, even when the request gave up: an HTLC held on the
route past the budget keeps counting against the caps. The answer comes back within the
budget (REQUEST_BUDGET_S) or as 504.

Charging (middleware/l402.py): a failure before any HTLC left our node is refunded; once
one has left, the answer stays charged (504 included), so holding our probes past the
budget is never free.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request

from satrank.api.errors import ApiError, retry_later
from satrank.api.middleware.l402 import KEEP_CHARGE
from satrank.api.probe_flights import BUSY_RETRY_AFTER_S, Flight, FlightsFull
from satrank.api.state import api_state
from satrank.db.knowledge import record_probe_knowledge
from satrank.db.pool import connection
from satrank.db.probes import SentProbe, record_probes
from satrank.lightning.backend import LightningBackend, ProbeResult
from satrank.lightning.errors import LightningError
from satrank.outcomes import ProbeOutcome

# The crawler's largest tier: a larger probe tells a score nothing and locks more liquidity.
MAX_AMOUNT_SAT = 1_000_000
MAX_AMOUNTS = 3
PROBE_TIMEOUT_S = 6.0  # lnd's timeout per probe: MAX_AMOUNTS of them fit in the budget
REQUEST_BUDGET_S = 20.0


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


def probe_backend(request: Request) -> LightningBackend:
    """The pay-macaroon backend, or 503 LIGHTNING_NOT_CONFIGURED."""
    backend = api_state(request).lightning.probe
    if backend is None:
        # no Retry-After: nothing changes until an operator configures it
        raise ApiError(503, "LIGHTNING_NOT_CONFIGURED", "probing is not configured on this "
                       "server (its operator has not set LND_PAY_MACAROON_PATH)")
    return backend


async def probe_now(request: Request, target_pubkey: str, amounts: Sequence[int],
                    fee_limit_sat: int) -> list[ProbeResult]:
    """Probe `target_pubkey` at each amount, one after the other (they share channels),
    within the flights' caps and budget; raises ApiError 429/503/504 as documented."""
    state = api_state(request)
    backend = probe_backend(request)
    pool = state.pool
    flights = state.probe_flights
    abandoned = False  # the request gave up: send no further amount

    async def one(flight: Flight, amount: int) -> ProbeResult:
        sent_at = datetime.now(UTC)
        result = await backend.send_probe(target_pubkey, amount, fee_limit_sat=fee_limit_sat,
                                          timeout_s=PROBE_TIMEOUT_S, on_htlc=flight.mark_htlc,
                                          until_final=True)
        # the crawler's writers: one code path for the probe and what it showed of channels
        async with connection(pool, transaction=True) as conn:
            await record_probes(conn, [SentProbe(result, sent_at, fee_limit_sat)], source="api")
            await record_probe_knowledge(conn, [result], sent_at)
        return result

    async def run(flight: Flight) -> list[ProbeResult]:
        results = []
        for amount in amounts:
            if abandoned:
                break
            results.append(await one(flight, amount))
        return results

    grant = getattr(request.state, "l402", None)
    token = grant.token_id if grant is not None else None
    try:
        flight, task = flights.start(token, target_pubkey, run)
    except FlightsFull as exc:
        raise retry_later(429, "PROBE_BUSY", f"{exc}; retry later, nothing was charged",
                          BUSY_RETRY_AFTER_S) from None
    try:
        return await asyncio.wait_for(asyncio.shield(task), flights.budget_s)
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


def _keep_charge_if_sent(request: Request, flight: Flight) -> None:
    """An HTLC that left our node cost liquidity (possibly for hours, if held): the failed
    request stays charged, so holding our probes is never free (middleware/l402.py)."""
    if flight.htlc_left:
        setattr(request.state, KEEP_CHARGE, True)
