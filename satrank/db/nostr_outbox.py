"""The Nostr outbox: change-only enqueueing, claiming for signing, per-relay delivery state.

Life of an outbox row: `enqueue_*` inserts it (same transaction as the change that caused
it) -> `sign_pending_events` signs it once (created_at strictly after the subject's last
signed event) -> each relay worker takes it from `fetch_due_for_relay`, sends it, and
`record_relay_results` stores ok / rejected / failed(+backoff) -> `mark_delivered` sets
`done_at` once every configured relay is in a final state (ok or rejected). A newer row for
the same subject supersedes an older pending one (`done_at` + `superseded_by`).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import asyncpg

from satrank.db.pool import affected_rows
from satrank.nostr.assertions import (
    ALIAS_FALLBACK_CHARS,
    ASSERTION_TAGS,
    DECIMALS,
    KIND_ASSERTION,
    TagFormat,
    TagSpec,
)

Pool = asyncpg.Pool
RelayOutcome = Literal["ok", "rejected", "failed"]



def _sql_text(value: str) -> str:
    """A SQL string literal (the values come from nostr/'s constants, never from users)."""
    return "'" + value.replace("'", "''") + "'"


def _tag_value_sql(spec: TagSpec) -> str:
    """The SQL rendering of one tag format over `scores s JOIN nodes n`; each branch is the
    Postgres twin of `nostr.assertions.tag_value` (a test compares them on many inputs)."""
    column = ("n." if spec.source == "alias" else "s.") + spec.source
    match spec.format:
        case TagFormat.CONSTANT:
            return _sql_text(spec.source)
        case TagFormat.ALIAS:
            return f"COALESCE(NULLIF({column}, ''), left(s.pubkey, {ALIAS_FALLBACK_CHARS}))"
        case TagFormat.FIXED:
            return f"round({column}::numeric, {DECIMALS})::text"
        case TagFormat.WHOLE:
            return f"round({column}::numeric)::text"
        case TagFormat.INTEGER:
            return f"{column}::text"
        case TagFormat.TEXT:
            return column


# Tags of kind 30382 as one jsonb array per scored node, generated from nostr/'s table.
_ASSERTION_TAGS_SQL = "jsonb_build_array(" + ", ".join(
    f"jsonb_build_array({_sql_text(spec.key)}, {_tag_value_sql(spec)})"
    for spec in ASSERTION_TAGS
) + ")"

_ENQUEUE_ASSERTIONS = f"""
WITH current AS (
    SELECT s.pubkey AS subject, s.xmin AS scores_xmin, n.xmin AS nodes_xmin,
           {_ASSERTION_TAGS_SQL} AS tags, st.fingerprint AS published
    FROM scores s JOIN nodes n ON n.pubkey = s.pubkey
    LEFT JOIN nostr_publish_state st ON st.kind = $1 AND st.subject = s.pubkey
    WHERE st.subject IS NULL OR st.scores_xmin IS DISTINCT FROM s.xmin
       OR st.nodes_xmin IS DISTINCT FROM n.xmin
), fingerprinted AS (
    SELECT subject, scores_xmin, nodes_xmin, tags, published,
           encode(sha256(convert_to(tags::text, 'UTF8')), 'hex') AS fingerprint
    FROM current
), changed AS (
    SELECT * FROM fingerprinted WHERE published IS DISTINCT FROM fingerprint
), state AS (
    INSERT INTO nostr_publish_state AS st (kind, subject, fingerprint, scores_xmin,
                                           nodes_xmin, updated_at)
    SELECT $1, subject, fingerprint, scores_xmin, nodes_xmin, now() FROM fingerprinted
    ON CONFLICT (kind, subject)
    DO UPDATE SET fingerprint = EXCLUDED.fingerprint, scores_xmin = EXCLUDED.scores_xmin,
                  nodes_xmin = EXCLUDED.nodes_xmin,
                  updated_at = CASE WHEN st.fingerprint IS DISTINCT FROM EXCLUDED.fingerprint
                                    THEN now() ELSE st.updated_at END
), inserted AS (
    INSERT INTO nostr_outbox (kind, subject, fingerprint, content)
    SELECT $1, subject, fingerprint, jsonb_build_object('tags', tags, 'content', '')
    FROM changed ORDER BY subject
    RETURNING id, subject
), superseded AS (
    UPDATE nostr_outbox o SET done_at = now(), superseded_by = i.id
    FROM inserted i
    WHERE o.kind = $1 AND o.subject = i.subject AND o.done_at IS NULL
    RETURNING o.id
)
SELECT count(*) FROM inserted
"""


async def enqueue_changed_score_events(conn: asyncpg.Connection) -> int:
    """Queue a kind 30382 event for every scored node whose tag set changed; return how many.

    One statement over `scores` JOIN `nodes`: tags and their sha256 fingerprint are
    computed in SQL, compared with `nostr_publish_state`, and only differences produce an
    outbox row (and an upserted state). Only subjects whose `scores` or `nodes` row was
    rewritten since their state was last recorded (another xmin) are rendered at all: an
    unchanged pass renders nothing. Older unpublished rows for the same node are
    superseded. Run it inside the transaction that wrote the scores, after the writes (a
    row rewritten later by the same (sub)transaction keeps its xmin), so an outbox row
    exists exactly when the score change committed. Nodes without a `scores` row are not
    touched.
    """
    return int(await conn.fetchval(_ENQUEUE_ASSERTIONS, KIND_ASSERTION))


def event_fingerprint(tags: Sequence[Sequence[str]], content: str) -> str:
    text = json.dumps([list(map(list, tags)), content], separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


async def enqueue_event_if_changed(
    conn: asyncpg.Connection, kind: int, subject: str, tags: Sequence[Sequence[str]],
    content: str,
) -> bool:
    """Queue one event (e.g. the kind 0 profile) unless the same one was already queued."""
    fingerprint = event_fingerprint(tags, content)
    async with conn.transaction():
        previous = await conn.fetchval(
            """INSERT INTO nostr_publish_state AS st (kind, subject, fingerprint)
               VALUES ($1, $2, $3)
               ON CONFLICT (kind, subject) DO UPDATE
                   SET fingerprint = EXCLUDED.fingerprint, updated_at = now()
                   WHERE st.fingerprint <> EXCLUDED.fingerprint
               RETURNING fingerprint""",
            kind, subject, fingerprint,
        )
        if previous is None:
            return False
        new_id = await conn.fetchval(
            """INSERT INTO nostr_outbox (kind, subject, fingerprint, content)
               VALUES ($1, $2, $3, $4::jsonb) RETURNING id""",
            kind, subject, fingerprint,
            json.dumps({"tags": [list(t) for t in tags], "content": content}),
        )
        await conn.execute(
            """UPDATE nostr_outbox SET done_at = now(), superseded_by = $3
               WHERE kind = $1 AND subject = $2 AND done_at IS NULL AND id <> $3""",
            kind, subject, new_id,
        )
    return True


@dataclass(frozen=True)
class PendingEvent:
    """An unsigned outbox row and the created_at of the newest event signed for its subject."""

    outbox_id: int
    kind: int
    subject: str
    tags: list[list[str]]
    content: str
    last_created_at: int


Signer = Callable[[PendingEvent, int], dict[str, Any]]


async def sign_pending_events(
    conn: asyncpg.Connection, sign: Signer, *, now_unix: int, limit: int
) -> int:
    """Sign up to `limit` unsigned pending rows (oldest first); return how many.

    `sign(row, created_at)` returns the signed event; created_at is
    max(now, last signed for the subject + 1), so a newer version always replaces the
    older one on relays. Rows are locked with SKIP LOCKED: a second publisher would not
    sign the same row twice.
    """
    async with conn.transaction():
        rows = await conn.fetch(
            """SELECT o.id, o.kind, o.subject, o.content,
                      COALESCE(st.last_created_at, 0) AS last_created_at
               FROM nostr_outbox o
               LEFT JOIN nostr_publish_state st ON st.kind = o.kind AND st.subject = o.subject
               WHERE o.done_at IS NULL AND o.event IS NULL
               ORDER BY o.id LIMIT $1
               FOR UPDATE OF o SKIP LOCKED""",
            limit,
        )
        if not rows:
            return 0
        ids: list[int] = []
        events: list[str] = []
        event_ids: list[str] = []
        for row in rows:
            body = json.loads(row["content"])
            pending = PendingEvent(
                row["id"], row["kind"], row["subject"], body["tags"], body["content"],
                row["last_created_at"],
            )
            event = sign(pending, max(now_unix, pending.last_created_at + 1))
            ids.append(pending.outbox_id)
            events.append(json.dumps(event, separators=(",", ":"), ensure_ascii=False))
            event_ids.append(event["id"])
        await conn.execute(
            """WITH signed AS (
                   SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[]) AS t(id, ev, eid)
               ), updated AS (
                   UPDATE nostr_outbox o SET event = s.ev::jsonb, event_id = s.eid
                   FROM signed s WHERE o.id = s.id
                   RETURNING o.kind, o.subject, (s.ev::jsonb ->> 'created_at')::bigint AS ts
               )
               UPDATE nostr_publish_state st SET last_created_at = u.ts
               FROM (SELECT kind, subject, max(ts) AS ts FROM updated
                     GROUP BY kind, subject) u
               WHERE st.kind = u.kind AND st.subject = u.subject AND st.last_created_at < u.ts""",
            ids, events, event_ids,
        )
    return len(rows)


@dataclass(frozen=True)
class DueEvent:
    outbox_id: int
    event: dict[str, Any]
    attempts: int  # deliveries already tried on this relay


async def fetch_due_for_relay(
    conn: asyncpg.Connection, relay: str, *, limit: int
) -> list[DueEvent]:
    """Signed, undelivered rows this relay has not accepted yet and whose backoff expired."""
    rows = await conn.fetch(
        """SELECT o.id, o.event, COALESCE(r.attempts, 0) AS attempts
           FROM nostr_outbox o
           LEFT JOIN nostr_relay_status r ON r.outbox_id = o.id AND r.relay = $1
           WHERE o.done_at IS NULL AND o.event IS NOT NULL
             AND (r.outbox_id IS NULL
                  OR (r.status IN ('pending', 'failed') AND r.next_attempt_at <= now()))
           ORDER BY o.id LIMIT $2""",
        relay, limit,
    )
    return [DueEvent(r["id"], json.loads(r["event"]), r["attempts"]) for r in rows]


@dataclass(frozen=True)
class RelayResult:
    outbox_id: int
    outcome: RelayOutcome
    message: str = ""
    retry_after_s: float = 0.0  # for "failed": how long to wait before the next attempt


async def record_relay_results(
    conn: asyncpg.Connection, relay: str, results: Sequence[RelayResult]
) -> None:
    """Upsert one status row per result; attempts count every delivery tried."""
    if not results:
        return
    await conn.execute(
        """INSERT INTO nostr_relay_status AS r
               (outbox_id, relay, status, attempts, last_error, next_attempt_at, updated_at)
           SELECT t.id, $1, t.status, 1, NULLIF(t.msg, ''),
                  now() + make_interval(secs => t.delay), now()
           FROM unnest($2::bigint[], $3::text[], $4::text[], $5::float8[])
                AS t(id, status, msg, delay)
           WHERE EXISTS (SELECT 1 FROM nostr_outbox o WHERE o.id = t.id)
           ON CONFLICT (outbox_id, relay) DO UPDATE SET
               status = EXCLUDED.status, attempts = r.attempts + 1,
               last_error = EXCLUDED.last_error, next_attempt_at = EXCLUDED.next_attempt_at,
               updated_at = now()""",
        relay,
        [r.outbox_id for r in results],
        [r.outcome for r in results],
        [r.message[:500] for r in results],
        [r.retry_after_s for r in results],
    )


async def mark_delivered(
    conn: asyncpg.Connection, outbox_ids: Sequence[int] | None, relays: Sequence[str]
) -> int:
    """Set done_at on rows that every configured relay accepted or finally rejected.

    `outbox_ids` None checks every signed pending row (after the relay list changed).
    """
    result = await conn.execute(
        """UPDATE nostr_outbox o SET done_at = now()
           WHERE ($1::bigint[] IS NULL OR o.id = ANY($1::bigint[]))
             AND o.done_at IS NULL AND o.event IS NOT NULL
             AND (SELECT count(*) FROM nostr_relay_status r
                  WHERE r.outbox_id = o.id AND r.relay = ANY($2::text[])
                    AND r.status IN ('ok', 'rejected')) = cardinality($2::text[])""",
        None if outbox_ids is None else list(outbox_ids), list(relays),
    )
    return affected_rows(result)


@dataclass(frozen=True)
class OutboxLag:
    """What /api/health reports: undelivered rows and the age of the oldest one."""

    pending: int
    oldest_pending_age_s: float  # 0.0 when nothing is pending


async def fetch_outbox_lag(conn: asyncpg.Connection) -> OutboxLag:
    row = await conn.fetchrow(
        """SELECT count(*) AS pending,
                  COALESCE(EXTRACT(EPOCH FROM now() - min(created_at)), 0)::float8 AS age
           FROM nostr_outbox WHERE done_at IS NULL"""
    )
    assert row is not None
    return OutboxLag(int(row["pending"]), float(row["age"]))


async def prune_finished(conn: asyncpg.Connection, *, keep_delivered_s: float) -> int:
    """Delete finished rows nothing will read again; return how many (statuses cascade).

    Superseded rows go at once (a newer version replaced them), and so does a delivered row
    once a newer row for the same subject exists (relays keep only the newest addressable
    event); the newest delivered row of a subject stays `keep_delivered_s` for inspection.
    Pending rows are never touched, so after a prune the outbox holds at most one row per
    subject, however often nodes are rescored.
    """
    result = await conn.execute(
        """DELETE FROM nostr_outbox o
           WHERE o.done_at IS NOT NULL
             AND (o.superseded_by IS NOT NULL
                  OR o.done_at < now() - make_interval(secs => $1)
                  OR EXISTS (SELECT 1 FROM nostr_outbox n
                             WHERE n.kind = o.kind AND n.subject = o.subject AND n.id > o.id))""",
        keep_delivered_s,
    )
    return affected_rows(result)
