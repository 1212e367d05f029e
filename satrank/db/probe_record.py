"""Record one probe result in `probes` (the API's on-demand probes, source 'api').

The crawler's own recording lives with the scoring branch (db/probes.py); this minimal
writer stores the same columns so both kinds of probe feed the same posterior.
"""

from __future__ import annotations

import json
from datetime import datetime

import asyncpg

from satrank.lightning.backend import ProbeResult


def route_json(result: ProbeResult) -> str:
    return json.dumps([
        {"channelId": str(h.channel_id), "pubkey": h.pubkey,
         "amtToForwardMsat": h.amt_to_forward_msat, "feeMsat": h.fee_msat,
         "expiry": h.expiry}
        for h in result.hops
    ])


async def record_probe(
    pool: asyncpg.Pool, result: ProbeResult, sent_at: datetime, *, source: str = "api"
) -> int:
    """Insert the probe; return its id."""
    probe_id: int = await pool.fetchval(
        """INSERT INTO probes (target_pubkey, amount_sat, sent_at, duration_ms, outcome,
                               failure_code, failing_hop_index, failing_channel_id,
                               hop_count, route, fee_msat, source)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10::jsonb, $11, $12)
           RETURNING id""",
        result.destination, result.amount_sat, sent_at, result.duration_ms,
        result.outcome.value, result.failure_code, result.failure_source_index,
        result.failing_channel_id, len(result.hops) or None, route_json(result),
        result.fee_msat, source,
    )
    return probe_id
