"""The full evidence behind one node's score, built by Postgres as one JSON document.

`fetch_profile_json` runs ONE statement: the node row, its score, graph features computed
from the open channels, per-tier posteriors, recent probes and a per-tier probe summary,
the reports summary, fee policy statistics over `channel_policies` (outbound = the node's
own policies, inbound = its peers' policies towards it) and the score history. Postgres
renders the JSON text, so the api passes it through without rebuilding it in Python.
Times are unix seconds; amounts carry their unit in the field name.
"""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg

from satrank.db.nodes import IdKind

RECENT_PROBES = 20
HISTORY_POINTS = 30
PROBE_WINDOW_DAYS = 30
REPORT_WINDOW_DAYS = 90

_EPOCH = "extract(epoch FROM {})::bigint"


def _epoch(expr: str) -> str:
    return _EPOCH.format(expr)


def _fee_stats(side: str) -> str:
    """JSON object of statistics over the policies CTE `side` (outbound or inbound)."""
    return f"""(SELECT json_build_object(
        'channels', count(*),
        'disabled', count(*) FILTER (WHERE disabled),
        'feeRatePpm', json_build_object(
            'min', min(fee_rate_milli_msat), 'max', max(fee_rate_milli_msat),
            'median', percentile_disc(0.5) WITHIN GROUP (ORDER BY fee_rate_milli_msat),
            'p90', percentile_disc(0.9) WITHIN GROUP (ORDER BY fee_rate_milli_msat)),
        'feeBaseMsat', json_build_object(
            'min', min(fee_base_msat), 'max', max(fee_base_msat),
            'median', percentile_disc(0.5) WITHIN GROUP (ORDER BY fee_base_msat)),
        'timeLockDelta', json_build_object(
            'min', min(time_lock_delta), 'max', max(time_lock_delta),
            'median', percentile_disc(0.5) WITHIN GROUP (ORDER BY time_lock_delta)),
        'inboundFeeRatePpm', json_build_object(
            'min', min(inbound_fee_rate_milli_msat), 'max', max(inbound_fee_rate_milli_msat)),
        'lastUpdate', {_epoch('max(last_update)')}
    ) FROM {side})"""


_PROFILE_SQL = f"""
WITH node AS (
    SELECT * FROM nodes WHERE {{where}}
), chans AS (
    -- two index scans (channels_node1_idx, channels_node2_idx), not one OR over the table
    SELECT c.channel_id, c.capacity_sat, c.block_height, c.node2_pub AS peer,
           0 AS own_direction
    FROM node JOIN channels c ON c.is_open AND c.node1_pub = node.pubkey
    UNION ALL
    SELECT c.channel_id, c.capacity_sat, c.block_height, c.node1_pub AS peer,
           1 AS own_direction
    FROM node JOIN channels c ON c.is_open AND c.node2_pub = node.pubkey
), outbound AS (
    SELECT p.* FROM chans JOIN channel_policies p
      ON p.channel_id = chans.channel_id AND p.direction = chans.own_direction
), inbound AS (
    SELECT p.* FROM chans JOIN channel_policies p
      ON p.channel_id = chans.channel_id AND p.direction = 1 - chans.own_direction
)
SELECT json_build_object(
  'agent', json_build_object(
      'publicKey', node.pubkey, 'publicKeyHash', node.agent_hash, 'alias', node.alias,
      'color', node.color, 'addresses', node.addresses, 'active', node.is_active,
      'firstSeen', {_epoch('node.first_seen')}, 'lastSeen', {_epoch('node.last_seen')},
      'lastAnnouncement', {_epoch('node.last_update')}),
  'score', (SELECT json_build_object(
      'rank', s.rank, 'verdict', s.verdict, 'p_success', s.p_success,
      'ci95_low', s.ci95_low, 'ci95_high', s.ci95_high, 'n_obs', s.n_eff,
      'reasons', s.reasons, 'computedAt', {_epoch('s.computed_at')})
      FROM scores s WHERE s.pubkey = node.pubkey),
  'centrality', (SELECT json_build_object(
      'pagerank', s.pagerank, 'pagerankPercentile', s.pagerank_pct)
      FROM scores s WHERE s.pubkey = node.pubkey),
  'features', (SELECT s.features FROM scores s WHERE s.pubkey = node.pubkey),
  'graph', (SELECT json_build_object(
      'channels', count(*), 'peers', count(DISTINCT peer),
      'capacitySat', coalesce(sum(capacity_sat), 0),
      'medianChannelSat', percentile_disc(0.5) WITHIN GROUP (ORDER BY capacity_sat),
      'largestChannelSat', max(capacity_sat),
      'oldestChannelBlock', min(block_height), 'newestChannelBlock', max(block_height))
      FROM chans),
  'posteriors', coalesce((SELECT json_agg(json_build_object(
      'amountSat', p.amount_sat, 'p_success', p.p_success, 'ci95_low', p.ci95_low,
      'ci95_high', p.ci95_high, 'n_obs', p.n_eff, 'alpha', p.alpha, 'beta', p.beta,
      'priorAlpha', p.prior_alpha, 'priorBeta', p.prior_beta,
      'updatedAt', {_epoch('p.updated_at')}) ORDER BY p.amount_sat)
      FROM posteriors p WHERE p.pubkey = node.pubkey), '[]'::json),
  'probes', json_build_object(
      'byAmount', coalesce((SELECT json_agg(json_build_object(
          'amountSat', amount_sat, 'total', total, 'reached', reached,
          'lastAt', {_epoch('last_at')}) ORDER BY amount_sat)
          FROM (SELECT amount_sat, count(*) AS total,
                       count(*) FILTER (WHERE outcome = 'reached') AS reached,
                       max(sent_at) AS last_at
                FROM probes
                WHERE target_pubkey = node.pubkey
                  AND sent_at > now() - interval '{PROBE_WINDOW_DAYS} days'
                GROUP BY amount_sat) t), '[]'::json),
      'recent', coalesce((SELECT json_agg(json_build_object(
          'sentAt', {_epoch('r.sent_at')}, 'amountSat', r.amount_sat, 'outcome', r.outcome,
          'failureCode', r.failure_code, 'failingHopIndex', r.failing_hop_index,
          'hops', r.hop_count, 'feeMsat', r.fee_msat, 'durationMs', r.duration_ms,
          'source', r.source) ORDER BY r.sent_at DESC)
          FROM (SELECT * FROM probes WHERE target_pubkey = node.pubkey
                ORDER BY sent_at DESC LIMIT {RECENT_PROBES}) r), '[]'::json)),
  'reports', (SELECT json_build_object(
      'windowDays', {REPORT_WINDOW_DAYS}, 'total', count(*),
      'successes', count(*) FILTER (WHERE outcome = 'success'),
      'failures', count(*) FILTER (WHERE outcome = 'failure'),
      'timeouts', count(*) FILTER (WHERE outcome = 'timeout'),
      'verified', count(*) FILTER (WHERE verified),
      'lastAt', {_epoch('max(created_at)')})
      FROM reports WHERE target_pubkey = node.pubkey
        AND created_at > now() - interval '{REPORT_WINDOW_DAYS} days'),
  'feePolicy', json_build_object('outbound', {_fee_stats('outbound')},
                                 'inbound', {_fee_stats('inbound')}),
  'history', coalesce((SELECT json_agg(json_build_object(
      'computedAt', {_epoch('h.computed_at')}, 'rank', h.rank, 'verdict', h.verdict,
      'p_success', h.p_success, 'ci95_low', h.ci95_low, 'ci95_high', h.ci95_high,
      'pagerank', h.pagerank) ORDER BY h.computed_at DESC)
      FROM (SELECT * FROM score_history WHERE pubkey = node.pubkey
            ORDER BY computed_at DESC LIMIT {HISTORY_POINTS}) h), '[]'::json)
)::text
FROM node
"""

_BY_PUBKEY = _PROFILE_SQL.replace("{where}", "pubkey = $1")
_BY_HASH = _PROFILE_SQL.replace("{where}", "agent_hash = $1")


async def fetch_profile_json(pool: asyncpg.Pool, by: IdKind, value: str) -> str | None:
    """The profile document (JSON text) of the node, or None when the node is unknown."""
    text: str | None = await pool.fetchval(_BY_PUBKEY if by == "pubkey" else _BY_HASH, value)
    return text


@dataclass(frozen=True)
class EvidenceMark:
    """The newest probe and report ids seen (0 when the table is empty)."""

    probe_id: int
    report_id: int


_CHANGES_SQL = """
SELECT (SELECT coalesce(max(id), 0) FROM probes) AS probe_id,
       (SELECT coalesce(max(id), 0) FROM reports) AS report_id,
       ARRAY(SELECT target_pubkey FROM probes WHERE id > $1
             UNION
             SELECT target_pubkey FROM reports WHERE id > $2) AS changed
"""


async def fetch_evidence_changes(
    pool: asyncpg.Pool, since: EvidenceMark | None
) -> tuple[EvidenceMark, list[str]]:
    """The current mark and the targets of the probes and reports newer than `since`
    (two primary-key range scans). With `since` None: the mark only, no targets."""
    horizon = since or EvidenceMark(2**63 - 1, 2**63 - 1)
    row = await pool.fetchrow(_CHANGES_SQL, horizon.probe_id, horizon.report_id)
    assert row is not None
    mark = EvidenceMark(int(row["probe_id"]), int(row["report_id"]))
    return mark, list(row["changed"])
