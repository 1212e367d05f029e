"""Network and oracle counters for GET /api/stats, in one statement."""

from __future__ import annotations

from typing import Any

import asyncpg

from satrank.db.scored_at import NEWEST_SCORING
from satrank.outcomes import ProbeOutcome

_STATS_SQL = f"""
SELECT
  (SELECT count(*) FROM nodes WHERE is_active) AS nodes_active,
  (SELECT count(*) FROM nodes) AS nodes_all,
  (SELECT count(*) FROM channels WHERE is_open) AS channels_open,
  (SELECT coalesce(sum(capacity_sat), 0) FROM channels WHERE is_open) AS capacity_sat,
  (SELECT count(*) FROM scores) AS nodes_scored,
  (SELECT json_object_agg(verdict, n) FROM
     (SELECT verdict, count(*) AS n FROM scores GROUP BY verdict) v)::text AS verdicts,
  {NEWEST_SCORING} AS scored_at,
  (SELECT max(finished_at) FROM graph_syncs) AS graph_synced_at,
  (SELECT count(*) FROM probes WHERE sent_at > now() - interval '24 hours') AS probes_24h,
  (SELECT count(DISTINCT target_pubkey) FROM probes
     WHERE sent_at > now() - interval '7 days') AS nodes_probed_7d,
  (SELECT count(DISTINCT target_pubkey) FROM probes
     WHERE sent_at > now() - interval '7 days' AND outcome = '{ProbeOutcome.REACHED}')
     AS nodes_reached_7d,
  (SELECT count(*) FROM reports WHERE created_at > now() - interval '30 days') AS reports_30d,
  (SELECT count(*) FROM reports
     WHERE created_at > now() - interval '30 days' AND verified) AS reports_verified_30d
"""


async def fetch_stats(pool: asyncpg.Pool) -> dict[str, Any]:
    """Column name -> value of the counters above (datetimes may be None)."""
    row = await pool.fetchrow(_STATS_SQL)
    assert row is not None
    return dict(row)
