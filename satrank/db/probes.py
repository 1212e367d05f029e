"""Probe results: record them set-based, read decayed evidence, enforce retention.

The raw probes table keeps `retention` (30 days by default); the scoring state that
matters (posteriors) is recomputed from it, and a probe 30 days old weighs 2^-30/7 ~ 5 %,
so deleting older rows changes scores by little while bounding the table.
"""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

import asyncpg
import numpy as np

from satrank.db.pool import affected_rows
from satrank.lightning.backend import ProbeResult
from satrank.outcomes import ProbeOutcome
from satrank.scoring.evidence import (
    CAUSE_DOWN,
    CAUSE_SHORT,
    CAUSE_UNKNOWN,
    DECAY_BASE,
    DEFAULT_LIVENESS_HALF_LIFE_S,
    DOWN_CODES,
    SHORT_CODES,
    ProbeEvidence,
    ReportEvidence,
)
from satrank.scoring.graph import FloatArray
from satrank.scoring.persistence import PAIR_LAGS, PAIR_RUN, ProbePairs


@dataclass(frozen=True)
class SentProbe:
    result: ProbeResult
    sent_at: datetime
    fee_limit_sat: int | None = None
    vantage: str | None = None  # pubkey of the sending node; None = the oracle
    reason: str | None = None  # why the scheduler chose it (PlannedProbe.reason); None: not planned


def _route(result: ProbeResult) -> str:
    return json.dumps([{"channel_id": str(h.channel_id), "pubkey": h.pubkey,
                        "amt_to_forward_msat": h.amt_to_forward_msat, "fee_msat": h.fee_msat}
                       for h in result.hops])


async def record_probes(conn: asyncpg.Connection, probes: Sequence[SentProbe], *,
                        source: str = "crawler") -> int:
    """Insert every probe with one COPY; returns the number stored."""
    rows = [(p.result.destination, p.result.amount_sat, p.sent_at, p.result.duration_ms,
             p.result.outcome.value, p.result.failure_code, p.result.failure_source_index,
             p.result.failing_channel_id, len(p.result.hops), _route(p.result),
             p.result.fee_msat, source, p.vantage, p.fee_limit_sat, p.reason) for p in probes]
    await conn.copy_records_to_table(
        "probes", records=rows,
        columns=["target_pubkey", "amount_sat", "sent_at", "duration_ms", "outcome",
                 "failure_code", "failing_hop_index", "failing_channel_id", "hop_count",
                 "route", "fee_msat", "source", "vantage", "fee_limit_sat", "reason"])
    return len(rows)



# float8 power() reports a result that underflows to 0 as an error: the exponent stops at
# the last one whose result is still a (subnormal) double, weight ~5e-324 instead of 0.
_MAX_HALF_LIVES = math.floor(math.log(sys.float_info.min * sys.float_info.epsilon)
                             / math.log(DECAY_BASE))


def decay_sql(time_column: str, half_life: str = "$2") -> str:
    """`scoring.evidence.decay_factor` in SQL: age = $1 - `time_column`, half-life = the
    parameter `half_life`.

    Generated from scoring's DECAY_BASE; a test compares it with the numpy version. Float
    math throughout (date_part, float8 power): `extract` gives a numeric, which made the
    power an exact-decimal one, tens of times slower per evidence row."""
    return (f"power({DECAY_BASE!r}::float8, least(greatest(date_part('epoch', $1 - "
            f"{time_column}), 0) / {half_life}::float8, {_MAX_HALF_LIVES}))")


# The cause of a failure at the target (scoring.evidence's CAUSE_*): the peer before the
# target (failing_hop_index = hop_count - 1) reporting a short channel ($5) or an
# unreachable target ($6); anything else is left to the liveness model.
_PROBE_EVIDENCE = f"""
SELECT target_pubkey, amount_sat, outcome,
       CASE WHEN outcome <> 'failed_at_target' OR failing_hop_index IS DISTINCT FROM
                 hop_count - 1 THEN {CAUSE_UNKNOWN}
            WHEN failure_code = ANY($5::text[]) THEN {CAUSE_SHORT}
            WHEN failure_code = ANY($6::text[]) THEN {CAUSE_DOWN}
            ELSE {CAUSE_UNKNOWN} END AS cause,
       fee_limit_sat,
       CASE WHEN outcome = 'reached' THEN ceil(fee_msat / 1000.0)::int8 END AS route_fee_sat,
       reason IS NOT DISTINCT FROM 'sample' AS sample,
       sum({decay_sql("sent_at")}) AS decayed, sum({decay_sql("sent_at", "$4")}) AS live,
       max(date_part('epoch', sent_at)) AS last_unix
FROM probes
WHERE sent_at > $3 AND sent_at <= $1
GROUP BY 1, 2, 3, 4, 5, 6, 7
"""

# One reporter (client, else token, else the row itself for rows older than the client
# column) counts at most one fresh report per target: its reports share that weight.
_REPORT_EVIDENCE = f"""
WITH r AS (
  SELECT target_pubkey, coalesce(amount_sat, 0) AS amount_sat,
         outcome = 'success' AS success, verified, {decay_sql("created_at")} AS decayed,
         coalesce(reporter_client, reporter_token_id, int8send(id)) AS reporter
  FROM reports
  WHERE created_at > $3 AND created_at <= $1
)
SELECT target_pubkey, amount_sat, success, verified, sum(decayed / per_reporter) AS decayed
FROM (SELECT *, greatest(1.0, sum(decayed) OVER (PARTITION BY target_pubkey, reporter))
                AS per_reporter
      FROM r) weighted
GROUP BY 1, 2, 3, 4
"""


async def load_probe_evidence(conn: asyncpg.Connection, *, now: datetime, half_life_s: float,
                              since: datetime,
                              liveness_half_life_s: float = DEFAULT_LIVENESS_HALF_LIFE_S
                              ) -> ProbeEvidence:
    """Decayed probe counts per (node, amount, outcome, failure cause, fee limit, a reach's
    route fee, drawn as a sample by the scheduler) for probes in (since, now], decayed with
    the evidence and with the liveness half-life."""
    rows = await conn.fetch(_PROBE_EVIDENCE, now, half_life_s, since, liveness_half_life_s,
                            list(SHORT_CODES), list(DOWN_CODES))
    return ProbeEvidence(
        pubkeys=[r["target_pubkey"] for r in rows],
        amount_sat=np.array([r["amount_sat"] for r in rows], dtype=np.float64),
        outcomes=[ProbeOutcome(r["outcome"]) for r in rows],
        decayed_count=np.array([r["decayed"] for r in rows], dtype=np.float64),
        cause=np.array([r["cause"] for r in rows], dtype=np.int64),
        live_count=np.array([r["live"] for r in rows], dtype=np.float64),
        fee_limit_sat=_floats(r["fee_limit_sat"] for r in rows),
        route_fee_sat=_floats(r["route_fee_sat"] for r in rows),
        sample=np.array([r["sample"] for r in rows], dtype=bool),
        last_unix=np.array([r["last_unix"] for r in rows], dtype=np.float64),
    )


# Pairs of probes of the same node at the same amount, both with a located outcome, `k`
# located probes apart for each lag (lags beyond the next probe show the state over
# longer times than the cadence's), binned by time apart in doublings of a minute. The
# earlier probe of a pair ends a run of at least $3 equal located outcomes since the
# window began: a settled state, whose drift is what the fit is after (after a single
# outcome the next one mostly says how noisy one outcome is).
def _pairs_sql(lags: Sequence[int]) -> str:
    """The pairs query for `lags`: window functions over one sort of the window's probes
    (a self-join per lag took longer), float math for the bins (numeric logarithms took
    most of the time): ~0.4 s on three days of a production crawler's probes (150,000)."""
    leads = ", ".join(f"lead(y, {k}) OVER w" for k in lags)
    times = ", ".join(f"lead(sent_at, {k}) OVER w" for k in lags)
    return f"""
WITH located AS (
  SELECT y, sent_at, row_number() OVER w AS i, sum(y) OVER w AS run_successes,
         ARRAY[{leads}] AS later_y, ARRAY[{times}] AS later_at
  FROM (SELECT target_pubkey, amount_sat, sent_at, id, (outcome = 'reached')::int AS y
        FROM probes
        WHERE sent_at > $2 AND sent_at <= $1
          AND outcome IN ('reached', 'failed_at_target')) p
  WINDOW w AS (PARTITION BY target_pubkey, amount_sat ORDER BY sent_at, id)
), pairs AS (
  SELECT located.y AS first, later.y AS second,
         date_part('epoch', later.at - located.sent_at) AS dt
  FROM located, unnest(later_y, later_at) AS later(y, at)
  WHERE later.at IS NOT NULL AND i >= $3
    AND (run_successes = 0 OR run_successes = i)
)
SELECT first, second, count(*) AS n, avg(dt) AS mean_dt
FROM pairs
GROUP BY first, second, floor(ln(greatest(dt, 60.0::float8) / 60.0::float8) / ln(2.0::float8))
"""


async def load_probe_pairs(conn: asyncpg.Connection, *, now: datetime, since: datetime,
                           lags: Sequence[int] = PAIR_LAGS, run: int = PAIR_RUN
                           ) -> ProbePairs:
    """Probe pairs in (since, now] for `scoring.persistence`, aggregated by outcomes and
    time apart, the earlier of each ending a run of `run` equal outcomes or more."""
    rows = await conn.fetch(_pairs_sql(lags), now, since, run)
    return ProbePairs(
        first=np.array([r["first"] for r in rows], dtype=np.float64),
        second=np.array([r["second"] for r in rows], dtype=np.float64),
        count=np.array([r["n"] for r in rows], dtype=np.float64),
        mean_dt_s=np.array([r["mean_dt"] for r in rows], dtype=np.float64),
    )


def _floats(values: Iterable[int | None]) -> FloatArray:
    """Nullable integers as floats, NULL as NaN."""
    return np.array([np.nan if v is None else v for v in values], dtype=np.float64)


async def load_report_evidence(conn: asyncpg.Connection, *, now: datetime, half_life_s: float,
                               since: datetime) -> ReportEvidence:
    """Decayed report counts per (node, amount, success, verified), each reporter's reports
    on a node together counting at most 1."""
    rows = await conn.fetch(_REPORT_EVIDENCE, now, half_life_s, since)
    return ReportEvidence(
        pubkeys=[r["target_pubkey"] for r in rows],
        amount_sat=np.array([r["amount_sat"] for r in rows], dtype=np.float64),
        success=np.array([r["success"] for r in rows], dtype=bool),
        verified=np.array([r["verified"] for r in rows], dtype=bool),
        decayed_count=np.array([r["decayed"] for r in rows], dtype=np.float64),
    )


async def delete_probes_before(conn: asyncpg.Connection, cutoff: datetime) -> int:
    """Retention: one DELETE of every probe sent before `cutoff`."""
    status = await conn.execute("DELETE FROM probes WHERE sent_at < $1", cutoff)
    return affected_rows(status)


@dataclass(frozen=True)
class ProbeHistory:
    """What the scheduler needs per node: last probe time and today's probe count."""

    last_probed: dict[str, datetime]
    probes_since_day_start: dict[str, int]


async def load_probe_history(conn: asyncpg.Connection, *, day_start: datetime,
                             since: datetime) -> ProbeHistory:
    rows = await conn.fetch(
        "SELECT target_pubkey, max(sent_at) AS last, count(*) FILTER (WHERE sent_at >= $1) AS n "
        "FROM probes WHERE sent_at > $2 AND source = 'crawler' GROUP BY target_pubkey",
        day_start, since)
    return ProbeHistory({r["target_pubkey"]: r["last"] for r in rows},
                        {r["target_pubkey"]: int(r["n"]) for r in rows})


async def count_crawler_probes_since(conn: asyncpg.Connection, since: datetime) -> int:
    """Crawler probes sent since `since` (for the global daily cap)."""
    return int(await conn.fetchval(
        "SELECT count(*) FROM probes WHERE sent_at >= $1 AND source = 'crawler'", since))
