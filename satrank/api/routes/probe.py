"""POST /api/probe (paid, 5 credits): fresh probe payments from our node to a target.

Where it runs: in the api process, through the pay-macaroon backend
(`ApiLightning.probe`, api/lightning.py), with the same `LightningBackend.send_probe` the
crawler uses (a random payment hash, so nothing is ever paid). Each result is stored by
the crawler's own writer (`db.probes.record_probes`) with source 'api', so it feeds the
target's posterior like a crawler probe.

Bounds: at most PROBE_SLOTS probes from api requests run at once across the process; a
request waits for a slot only within its own budget; the whole answer comes back within
REQUEST_BUDGET_S. Price is applied by the L402 middleware; nothing here grants anything.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from satrank.api.body import int_in, invalid_field, json_object
from satrank.api.errors import ApiError
from satrank.api.ids import ID_DESCRIPTION, classify_id, node_not_found
from satrank.api.render import dumps, json_bytes
from satrank.api.state import api_state
from satrank.db.nodes import fetch_node
from satrank.db.pool import connection
from satrank.db.probes import SentProbe, record_probes
from satrank.lightning.backend import ProbeResult
from satrank.lightning.errors import LightningError
from satrank.outcomes import ProbeOutcome
from satrank.scoring.tiers import DEFAULT_TIER_SAT

DEFAULT_AMOUNT_SAT = DEFAULT_TIER_SAT  # an on-demand probe feeds the tier every score uses
MAX_AMOUNT_SAT = 10_000_000
MAX_AMOUNTS = 3
PROBE_TIMEOUT_S = 6.0  # per probe: MAX_AMOUNTS of them fit in the budget
REQUEST_BUDGET_S = 20.0
PROBE_SLOTS = 4


def fee_limit_sat(amount_sat: int) -> int:
    """Route fee budget: 0.5 % of the amount plus 5 sat (a probe never pays it)."""
    return amount_sat // 200 + 5


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


async def probe(request: Request) -> Response:
    body = await json_object(request, frozenset({"target", "amount_sat", "amounts_sat"}))
    target = body.get("target")
    parsed = classify_id(target) if isinstance(target, str) else None
    if parsed is None:
        raise invalid_field("target", ID_DESCRIPTION)
    amounts = _amounts(body)
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
    slots = state.probe_slots
    backend = lightning.probe
    deadline = time.monotonic() + REQUEST_BUDGET_S

    async def one(amount: int) -> dict[str, Any]:
        sent_at = datetime.now(UTC)
        result = await backend.send_probe(node.pubkey, amount, fee_limit_sat=fee_limit_sat(
            amount), timeout_s=PROBE_TIMEOUT_S)
        async with connection(pool) as conn:  # the crawler's writer: one code path
            await record_probes(conn, [SentProbe(result, sent_at)], source="api")
        return probe_block(result)

    async def run() -> list[dict[str, Any]]:
        async with slots:
            return [await one(a) for a in amounts]  # one at a time: they share channels

    try:
        blocks = await asyncio.wait_for(run(), max(0.1, deadline - time.monotonic()))
    except TimeoutError:
        raise ApiError(504, "PROBE_TIMEOUT",
                       f"probe did not finish within {REQUEST_BUDGET_S:.0f} s") from None
    except LightningError as exc:
        raise ApiError(503, "PROBE_UNAVAILABLE", f"lightning node error ({type(exc).__name__})",
                       headers={"Retry-After": "60"}) from None
    return json_bytes(dumps({"data": {
        "target": {"publicKey": node.pubkey, "publicKeyHash": node.agent_hash,
                   "alias": node.alias},
        "probes": blocks,
        "probedAt": int(time.time()),
    }}))


routes = [Route("/api/probe", probe, methods=["POST"])]
