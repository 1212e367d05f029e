"""Outcome reports (POST /api/report): one transaction that checks limits and inserts.

Anti-spam lives here because it must be exact under concurrency: advisory transaction
locks on the reporting token and on the target serialize competing inserts, so two
parallel requests cannot both pass a limit or both insert a duplicate.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

import asyncpg


class ReportStatus(enum.Enum):
    CREATED = "created"
    DUPLICATE = "duplicate"  # same payment hash, or same token and target in the window
    TOKEN_LIMITED = "token_limited"  # this token reported too often in the last hour
    TARGET_LIMITED = "target_limited"  # this target got too many reports in the last hour


@dataclass(frozen=True)
class ReportLimits:
    per_token_per_hour: int = 20
    per_target_per_hour: int = 60
    duplicate_window_s: int = 24 * 3600  # one report per (token, target) in this window


@dataclass(frozen=True)
class ReportWrite:
    status: ReportStatus
    report_id: int | None = None
    created_at: datetime | None = None


async def insert_report(
    pool: asyncpg.Pool,
    *,
    target_pubkey: str,
    outcome: str,
    amount_sat: int | None,
    payment_hash: bytes | None,
    verified: bool,
    token_id: bytes | None,
    limits: ReportLimits,
) -> ReportWrite:
    """Insert the report unless a limit or a duplicate refuses it; say which."""
    async with pool.acquire() as conn, conn.transaction():
        # Lock order is always token, then target: no deadlock between two reporters.
        if token_id is not None:
            await conn.execute(
                "SELECT pg_advisory_xact_lock(hashtextextended('report-token:' || $1, 0))",
                token_id.hex(),
            )
        await conn.execute(
            "SELECT pg_advisory_xact_lock(hashtextextended('report-target:' || $1, 0))",
            target_pubkey,
        )
        if token_id is not None:
            row = await conn.fetchrow(
                """SELECT count(*) FILTER (WHERE created_at > now() - interval '1 hour') AS recent,
                          count(*) FILTER (WHERE target_pubkey = $2) AS same_target
                   FROM reports
                   WHERE reporter_token_id = $1
                     AND created_at > now() - make_interval(secs => $3)""",
                token_id, target_pubkey, float(max(limits.duplicate_window_s, 3600)),
            )
            assert row is not None
            if row["same_target"] > 0:
                return ReportWrite(ReportStatus.DUPLICATE)
            if row["recent"] >= limits.per_token_per_hour:
                return ReportWrite(ReportStatus.TOKEN_LIMITED)
        recent_on_target = await conn.fetchval(
            """SELECT count(*) FROM reports
               WHERE target_pubkey = $1 AND created_at > now() - interval '1 hour'""",
            target_pubkey,
        )
        if recent_on_target >= limits.per_target_per_hour:
            return ReportWrite(ReportStatus.TARGET_LIMITED)
        inserted = await conn.fetchrow(
            """INSERT INTO reports (target_pubkey, outcome, amount_sat, payment_hash, verified,
                                    reporter_token_id)
               VALUES ($1, $2, $3, $4, $5, $6)
               ON CONFLICT (payment_hash) WHERE payment_hash IS NOT NULL DO NOTHING
               RETURNING id, created_at""",
            target_pubkey, outcome, amount_sat, payment_hash, verified, token_id,
        )
        if inserted is None:
            return ReportWrite(ReportStatus.DUPLICATE)
        return ReportWrite(ReportStatus.CREATED, inserted["id"], inserted["created_at"])
