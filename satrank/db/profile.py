"""The full evidence behind one node's score, read in one statement as a `NodeProfile`.

`fetch_profile` runs ONE statement: the node row, its score, graph features computed from
the open channels, per-tier posteriors, recent probes and a per-tier probe summary, the
reports summary, fee policy statistics over `channel_policies` (outbound = the node's own
policies, inbound = its peers' policies towards it) and the score history. Postgres
aggregates; nested parts travel as JSON whose keys are the record fields below (list
items are NamedTuples: a profile holds up to ~60 of them, built on every cache miss), and
jsonb columns (addresses, features, reasons) come back as their stored JSON text. The
public shape (camelCase, key order) is `api/shapes.py`'s. Times are unix seconds.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, NamedTuple

import asyncpg

from satrank.db.nodes import IdKind
from satrank.db.scored_at import POSTERIOR_UPDATED_AT, SCORED_AT
from satrank.outcomes import ProbeOutcome
from satrank.scoring.budgets import DEFAULT_BUDGET, LND_PAYMENT_TIMEOUT_S
from satrank.scoring.tiers import DEFAULT_TIER_SAT

RECENT_PROBES = 20
HISTORY_POINTS = 30
PROBE_WINDOW_DAYS = 30
# The default payment the headline p_success is about (api/quote.py's basis block).
BASIS_SQL = (f"json_build_object('amountSat', {DEFAULT_TIER_SAT}, "
             f"'feeBudget', '{DEFAULT_BUDGET.name}', "
             f"'feeLimitSat', {DEFAULT_BUDGET.limit_sat(DEFAULT_TIER_SAT):g}, "
             "'payer', coalesce((SELECT payer FROM scoring_state), 'reference'), "
             f"'timeoutS', {LND_PAYMENT_TIMEOUT_S})")
REPORT_WINDOW_DAYS = 90


class JsonText(str):
    """JSON text as stored in a jsonb column, for the api to embed as is."""


@dataclass(frozen=True)
class ProfileNode:
    pubkey: str
    agent_hash: str
    alias: str
    color: str | None
    addresses_json: JsonText
    is_active: bool
    first_seen: int
    last_seen: int
    last_announcement: int | None


@dataclass(frozen=True)
class ProfileScore:
    rank: int
    verdict: str
    p_success: float
    ci95_low: float
    ci95_high: float
    n_eff: float
    reasons_json: JsonText
    computed_at: int
    pagerank: float
    pagerank_pct: float
    features_json: JsonText
    basis_json: JsonText  # the payment p_success is about (api/quote.py's basis block)
    grid_json: JsonText | None  # p_success per fee budget x amount; None before v2 scores


@dataclass(frozen=True)
class ChannelStats:
    """Over the node's open channels; the extremes are None without channels."""

    channels: int
    peers: int
    capacity_sat: int
    median_channel_sat: int | None
    largest_channel_sat: int | None
    oldest_channel_block: int | None
    newest_channel_block: int | None


class TierPosterior(NamedTuple):
    amount_sat: int
    p_success: float
    ci95_low: float
    ci95_high: float
    n_eff: float
    alpha: float
    beta: float
    prior_alpha: float
    prior_beta: float
    updated_at: int


class ProbeTier(NamedTuple):
    """Probes of the last PROBE_WINDOW_DAYS at one amount."""

    amount_sat: int
    total: int
    reached: int
    last_at: int


class RecentProbe(NamedTuple):
    sent_at: int
    amount_sat: int
    outcome: ProbeOutcome
    failure_code: str | None
    failing_hop_index: int | None
    hop_count: int | None
    fee_msat: int | None
    duration_ms: int
    source: str


@dataclass(frozen=True)
class ReportSummary:
    """Reports of the last `window_days`."""

    window_days: int
    total: int
    successes: int
    failures: int
    timeouts: int
    verified: int
    last_at: int | None


@dataclass(frozen=True)
class FeeStats:
    """Statistics over one side's channel policies; all but the counts None without any."""

    channels: int
    disabled: int
    fee_rate_min: int | None
    fee_rate_max: int | None
    fee_rate_median: int | None
    fee_rate_p90: int | None
    fee_base_min: int | None
    fee_base_max: int | None
    fee_base_median: int | None
    time_lock_delta_min: int | None
    time_lock_delta_max: int | None
    time_lock_delta_median: int | None
    inbound_fee_rate_min: int | None
    inbound_fee_rate_max: int | None
    last_update: int | None


class HistoryPoint(NamedTuple):
    computed_at: int
    rank: int
    verdict: str
    p_success: float
    ci95_low: float
    ci95_high: float
    pagerank: float


@dataclass(frozen=True)
class NodeProfile:
    node: ProfileNode
    score: ProfileScore | None  # None until the node is scored
    channels: ChannelStats
    posteriors: tuple[TierPosterior, ...]  # by amount
    probe_tiers: tuple[ProbeTier, ...]  # by amount
    recent_probes: tuple[RecentProbe, ...]  # newest first, at most RECENT_PROBES
    reports: ReportSummary
    outbound: FeeStats
    inbound: FeeStats
    history: tuple[HistoryPoint, ...]  # newest first, at most HISTORY_POINTS


_EPOCH = "extract(epoch FROM {})::bigint"


def _epoch(expr: str) -> str:
    return _EPOCH.format(expr)


def _fee_stats(side: str) -> str:
    """JSON object (FeeStats fields) of statistics over the policies CTE `side`."""
    return f"""(SELECT json_build_object(
        'channels', count(*),
        'disabled', count(*) FILTER (WHERE disabled),
        'fee_rate_min', min(fee_rate_milli_msat), 'fee_rate_max', max(fee_rate_milli_msat),
        'fee_rate_median',
            percentile_disc(0.5) WITHIN GROUP (ORDER BY fee_rate_milli_msat),
        'fee_rate_p90', percentile_disc(0.9) WITHIN GROUP (ORDER BY fee_rate_milli_msat),
        'fee_base_min', min(fee_base_msat), 'fee_base_max', max(fee_base_msat),
        'fee_base_median', percentile_disc(0.5) WITHIN GROUP (ORDER BY fee_base_msat),
        'time_lock_delta_min', min(time_lock_delta),
        'time_lock_delta_max', max(time_lock_delta),
        'time_lock_delta_median',
            percentile_disc(0.5) WITHIN GROUP (ORDER BY time_lock_delta),
        'inbound_fee_rate_min', min(inbound_fee_rate_milli_msat),
        'inbound_fee_rate_max', max(inbound_fee_rate_milli_msat),
        'last_update', {_epoch('max(last_update)')}
    ) FROM {side}) AS {side}"""


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
SELECT node.pubkey, node.agent_hash, node.alias, node.color,
       node.addresses::text AS addresses_json, node.is_active,
       {_epoch('node.first_seen')} AS first_seen, {_epoch('node.last_seen')} AS last_seen,
       {_epoch('node.last_update')} AS last_announcement,
       s.pubkey IS NOT NULL AS scored, s.rank, s.verdict, s.p_success, s.ci95_low,
       s.ci95_high, s.n_eff, s.reasons::text AS reasons_json,
       {_epoch(SCORED_AT)} AS computed_at, s.pagerank, s.pagerank_pct,
       s.features::text AS features_json, {BASIS_SQL}::text AS basis_json,
       (SELECT json_build_object('amountsSat', st.grid_amounts_sat,
                                 'budgets', st.grid_budgets, 'p', s.p_grid)
        FROM scoring_state st WHERE s.p_grid IS NOT NULL)::text AS grid_json,
  (SELECT json_build_object(
      'channels', count(*), 'peers', count(DISTINCT peer),
      'capacity_sat', coalesce(sum(capacity_sat), 0),
      'median_channel_sat', percentile_disc(0.5) WITHIN GROUP (ORDER BY capacity_sat),
      'largest_channel_sat', max(capacity_sat),
      'oldest_channel_block', min(block_height), 'newest_channel_block', max(block_height))
      FROM chans) AS channels,
  coalesce((SELECT json_agg(json_build_object(
      'amount_sat', p.amount_sat, 'p_success', p.p_success, 'ci95_low', p.ci95_low,
      'ci95_high', p.ci95_high, 'n_eff', p.n_eff, 'alpha', p.alpha, 'beta', p.beta,
      'prior_alpha', p.prior_alpha, 'prior_beta', p.prior_beta,
      'updated_at', {_epoch(POSTERIOR_UPDATED_AT)}) ORDER BY p.amount_sat)
      FROM posteriors p WHERE p.pubkey = node.pubkey), '[]'::json) AS posteriors,
  coalesce((SELECT json_agg(json_build_object(
      'amount_sat', amount_sat, 'total', total, 'reached', reached,
      'last_at', {_epoch('last_at')}) ORDER BY amount_sat)
      FROM (SELECT amount_sat, count(*) AS total,
                   count(*) FILTER (WHERE outcome = '{ProbeOutcome.REACHED}') AS reached,
                   max(sent_at) AS last_at
            FROM probes
            WHERE target_pubkey = node.pubkey
              AND sent_at > now() - interval '{PROBE_WINDOW_DAYS} days'
            GROUP BY amount_sat) t), '[]'::json) AS probe_tiers,
  coalesce((SELECT json_agg(json_build_object(
      'sent_at', {_epoch('r.sent_at')}, 'amount_sat', r.amount_sat, 'outcome', r.outcome,
      'failure_code', r.failure_code, 'failing_hop_index', r.failing_hop_index,
      'hop_count', r.hop_count, 'fee_msat', r.fee_msat, 'duration_ms', r.duration_ms,
      'source', r.source) ORDER BY r.sent_at DESC)
      FROM (SELECT * FROM probes WHERE target_pubkey = node.pubkey
            ORDER BY sent_at DESC LIMIT {RECENT_PROBES}) r), '[]'::json) AS recent_probes,
  (SELECT json_build_object(
      'window_days', {REPORT_WINDOW_DAYS}, 'total', count(*),
      'successes', count(*) FILTER (WHERE outcome = 'success'),
      'failures', count(*) FILTER (WHERE outcome = 'failure'),
      'timeouts', count(*) FILTER (WHERE outcome = 'timeout'),
      'verified', count(*) FILTER (WHERE verified),
      'last_at', {_epoch('max(created_at)')})
      FROM reports WHERE target_pubkey = node.pubkey
        AND created_at > now() - interval '{REPORT_WINDOW_DAYS} days') AS reports,
  {_fee_stats('outbound')},
  {_fee_stats('inbound')},
  coalesce((SELECT json_agg(json_build_object(
      'computed_at', {_epoch('h.computed_at')}, 'rank', h.rank, 'verdict', h.verdict,
      'p_success', h.p_success, 'ci95_low', h.ci95_low, 'ci95_high', h.ci95_high,
      'pagerank', h.pagerank) ORDER BY h.computed_at DESC)
      FROM (SELECT * FROM score_history WHERE pubkey = node.pubkey
            ORDER BY computed_at DESC LIMIT {HISTORY_POINTS}) h), '[]'::json) AS history
FROM node LEFT JOIN scores s ON s.pubkey = node.pubkey
"""

_BY_PUBKEY = _PROFILE_SQL.replace("{where}", "pubkey = $1")
_BY_HASH = _PROFILE_SQL.replace("{where}", "agent_hash = $1")
_SCORE_FIELDS = ("rank", "verdict", "p_success", "ci95_low", "ci95_high", "n_eff",
                 "reasons_json", "computed_at", "pagerank", "pagerank_pct", "features_json",
                 "basis_json", "grid_json")
_NODE_FIELDS = ("pubkey", "agent_hash", "alias", "color", "addresses_json", "is_active",
                "first_seen", "last_seen", "last_announcement")
# Float fields of the JSON parts: a float8 with an integral value arrives as a JSON integer.
_FLOATS = frozenset({"p_success", "ci95_low", "ci95_high", "n_eff", "alpha", "beta",
                     "prior_alpha", "prior_beta", "pagerank", "pagerank_pct"})


def _floats(part: dict[str, Any]) -> dict[str, Any]:
    return {k: float(v) if k in _FLOATS and v is not None else v for k, v in part.items()}


def _json_texts(part: dict[str, Any]) -> dict[str, Any]:
    return {k: JsonText(v) if k.endswith("_json") and v is not None else v
            for k, v in part.items()}


def _profile(row: asyncpg.Record) -> NodeProfile:
    recent = [RecentProbe(**{**r, "outcome": ProbeOutcome(r["outcome"])})
              for r in json.loads(row["recent_probes"])]
    score = (ProfileScore(**_json_texts(_floats({f: row[f] for f in _SCORE_FIELDS})))
             if row["scored"] else None)
    return NodeProfile(
        node=ProfileNode(**_json_texts({f: row[f] for f in _NODE_FIELDS})),
        score=score,
        channels=ChannelStats(**json.loads(row["channels"])),
        posteriors=tuple(TierPosterior(**_floats(p)) for p in json.loads(row["posteriors"])),
        probe_tiers=tuple(ProbeTier(**t) for t in json.loads(row["probe_tiers"])),
        recent_probes=tuple(recent),
        reports=ReportSummary(**json.loads(row["reports"])),
        outbound=FeeStats(**json.loads(row["outbound"])),
        inbound=FeeStats(**json.loads(row["inbound"])),
        history=tuple(HistoryPoint(**_floats(h)) for h in json.loads(row["history"])),
    )


async def fetch_profile(pool: asyncpg.Pool, by: IdKind, value: str) -> NodeProfile | None:
    """The profile of the node, or None when the node is unknown."""
    row = await pool.fetchrow(_BY_PUBKEY if by == "pubkey" else _BY_HASH, value)
    return _profile(row) if row is not None else None


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
