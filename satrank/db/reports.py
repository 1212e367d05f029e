"""Outcome reports (POST /api/report): one transaction that checks limits and inserts;
the retention prune.

Anti-spam lives here because it must be exact under concurrency: advisory transaction
locks on the reporting client, token and target serialize competing inserts, so two
parallel requests cannot both pass a limit or both insert a duplicate.

The per-target cap is counted apart for verified and unverified reports, and a client
holds at most one report per target per `client_target_window_s`: neither a flood of
free claims nor one client can fill the slots honest reporters need.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta

import asyncpg

from satrank.db.pool import affected_rows

# Reports are kept this long (the profile shows 30 days, scoring reads its evidence window).
REPORT_RETENTION = timedelta(days=90)


class ReportStatus(enum.Enum):
    CREATED = "created"
    DUPLICATE = "duplicate"  # same proven payment, or same token and target in the window
    TOKEN_LIMITED = "token_limited"  # this token reported too often in the last hour
    CLIENT_LIMITED = "client_limited"  # this client: too often, or this target again
    TARGET_LIMITED = "target_limited"  # this target got too many reports in the last hour


@dataclass(frozen=True)
class ReportLimits:
    per_token_per_hour: int = 20
    per_client_per_hour: int = 20
    per_target_per_hour: int = 60  # of verified reports, and apart of unverified ones
    duplicate_window_s: int = 24 * 3600  # one report per (token, target) in this window
    client_target_window_s: int = 3600  # one report per (client, target) in this window


@dataclass(frozen=True)
class ReportWrite:
    status: ReportStatus
    report_id: int | None = None
    created_at: datetime | None = None


@dataclass(frozen=True)
class NewReport:
    target_pubkey: str
    outcome: str
    amount_sat: int | None
    payment_hash: bytes | None
    verified: bool  # the target's signed invoice and its preimage came with it
    token_id: bytes | None
    client_id: bytes  # 32-byte pseudonym of the client key (api/routes/reports.py)


_LOCK = "SELECT pg_advisory_xact_lock(hashtextextended($1 || $2, 0))"

_COUNTS = """
SELECT
  (SELECT count(*) FROM reports WHERE reporter_client = $1
     AND created_at > now() - interval '1 hour') AS client_recent,
  (SELECT count(*) FROM reports WHERE reporter_client = $1 AND target_pubkey = $2
     AND created_at > now() - make_interval(secs => $3)) AS client_same_target,
  (SELECT count(*) FROM reports WHERE target_pubkey = $2 AND verified = $4
     AND created_at > now() - interval '1 hour') AS target_recent
"""

_TOKEN_COUNTS = """
SELECT count(*) FILTER (WHERE created_at > now() - interval '1 hour') AS recent,
       count(*) FILTER (WHERE target_pubkey = $2) AS same_target
FROM reports
WHERE reporter_token_id = $1 AND created_at > now() - make_interval(secs => $3)
"""

_INSERT = """
INSERT INTO reports (target_pubkey, outcome, amount_sat, payment_hash, verified,
                     reporter_token_id, reporter_client)
VALUES ($1, $2, $3, $4, $5, $6, $7)
ON CONFLICT (payment_hash) WHERE verified DO NOTHING
RETURNING id, created_at
"""


async def _refusal(conn: asyncpg.Connection, r: NewReport, limits: ReportLimits
                   ) -> ReportStatus | None:
    if r.token_id is not None:
        token = await conn.fetchrow(_TOKEN_COUNTS, r.token_id, r.target_pubkey,
                                    float(max(limits.duplicate_window_s, 3600)))
        assert token is not None
        if token["same_target"] > 0:
            return ReportStatus.DUPLICATE
        if token["recent"] >= limits.per_token_per_hour:
            return ReportStatus.TOKEN_LIMITED
    counts = await conn.fetchrow(_COUNTS, r.client_id, r.target_pubkey,
                                 float(limits.client_target_window_s), r.verified)
    assert counts is not None
    if counts["client_same_target"] > 0 or counts["client_recent"] >= limits.per_client_per_hour:
        return ReportStatus.CLIENT_LIMITED
    if counts["target_recent"] >= limits.per_target_per_hour:
        return ReportStatus.TARGET_LIMITED
    return None


async def insert_report(pool: asyncpg.Pool, report: NewReport, limits: ReportLimits
                        ) -> ReportWrite:
    """Insert the report unless a limit or a duplicate refuses it; say which."""
    async with pool.acquire() as conn, conn.transaction():
        # Lock order is always client, token, target: no deadlock between two reporters.
        await conn.execute(_LOCK, "report-client:", report.client_id.hex())
        if report.token_id is not None:
            await conn.execute(_LOCK, "report-token:", report.token_id.hex())
        await conn.execute(_LOCK, "report-target:", report.target_pubkey)
        refused = await _refusal(conn, report, limits)
        if refused is not None:
            return ReportWrite(refused)
        inserted = await conn.fetchrow(
            _INSERT, report.target_pubkey, report.outcome, report.amount_sat,
            report.payment_hash, report.verified, report.token_id, report.client_id)
        if inserted is None:
            return ReportWrite(ReportStatus.DUPLICATE)
        return ReportWrite(ReportStatus.CREATED, inserted["id"], inserted["created_at"])


async def delete_reports_before(conn: asyncpg.Connection, cutoff: datetime) -> int:
    """Retention: one DELETE of every report made before `cutoff`."""
    status = await conn.execute("DELETE FROM reports WHERE created_at < $1", cutoff)
    return affected_rows(status)
