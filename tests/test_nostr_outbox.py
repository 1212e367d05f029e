"""Integration: the outbox in real Postgres: change-only enqueueing, superseding, signing
with monotonic created_at, per-relay delivery state and the lag query."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest

from satrank.db import nostr_outbox as outbox
from satrank.nostr.assertions import KIND_ASSERTION
from satrank.nostr.events import UnsignedEvent, sign_event, verify_event
from satrank.nostr.keys import NostrKey
from tests.nostr_rows import ScoreRow, sample_rows, write_scores

KEY = NostrKey.generate()
RELAYS = ("ws://relay-a.invalid", "ws://relay-b.invalid")


def _sign(row: outbox.PendingEvent, created_at: int) -> dict[str, Any]:
    return sign_event(UnsignedEvent(row.kind, created_at, row.tags, row.content), KEY)


@pytest.fixture
async def conn(db_dsn: str) -> AsyncIterator[asyncpg.Connection]:
    connection = await asyncpg.connect(db_dsn)
    try:
        yield connection
    finally:
        await connection.close()


async def _pending(conn: asyncpg.Connection) -> list[asyncpg.Record]:
    return list(await conn.fetch(
        "SELECT * FROM nostr_outbox WHERE done_at IS NULL ORDER BY id"))


async def test_only_changes_are_enqueued(conn: asyncpg.Connection) -> None:
    rows = sample_rows(30)
    async with conn.transaction():
        await write_scores(conn, rows)
        assert await outbox.enqueue_changed_score_events(conn) == 30
    async with conn.transaction():
        await write_scores(conn, rows)  # a rescore with identical results
        assert await outbox.enqueue_changed_score_events(conn) == 0
    changed = [rows[3].changed(p_success=0.123), rows[7].changed(alias="renamed")]
    async with conn.transaction():
        await write_scores(conn, changed)
        assert await outbox.enqueue_changed_score_events(conn) == 2
    pending = await _pending(conn)
    assert len(pending) == 30  # the two older rows were superseded by the two new ones
    superseded = await conn.fetch(
        "SELECT subject, superseded_by FROM nostr_outbox WHERE superseded_by IS NOT NULL")
    assert {r["subject"] for r in superseded} == {rows[3].pubkey, rows[7].pubkey}
    newest = {r["subject"]: json.loads(r["content"])["tags"] for r in pending}
    assert ["p_success", "0.1230"] in newest[rows[3].pubkey]
    assert ["alias", "renamed"] in newest[rows[7].pubkey]


async def test_rolled_back_scores_leave_no_outbox_row(conn: asyncpg.Connection) -> None:
    with pytest.raises(RuntimeError):
        async with conn.transaction():
            await write_scores(conn, sample_rows(5))
            await outbox.enqueue_changed_score_events(conn)
            raise RuntimeError("scoring failed after enqueueing")
    assert await conn.fetchval("SELECT count(*) FROM nostr_outbox") == 0
    assert await conn.fetchval("SELECT count(*) FROM nostr_publish_state") == 0


async def test_signing_is_once_and_created_at_increases_per_subject(
    conn: asyncpg.Connection,
) -> None:
    rows = sample_rows(3)
    await write_scores(conn, rows)
    await outbox.enqueue_changed_score_events(conn)
    assert await outbox.sign_pending_events(conn, _sign, now_unix=1_000, limit=10) == 3
    assert await outbox.sign_pending_events(conn, _sign, now_unix=1_000, limit=10) == 0
    await write_scores(conn, [rows[0].changed(rank=99)])
    await outbox.enqueue_changed_score_events(conn)
    # Same wall clock second as the first version: the new one must still be newer.
    assert await outbox.sign_pending_events(conn, _sign, now_unix=1_000, limit=10) == 1
    events = [json.loads(r["event"]) for r in await conn.fetch(
        "SELECT event FROM nostr_outbox WHERE subject = $1 ORDER BY id", rows[0].pubkey)]
    assert [e["created_at"] for e in events] == [1_000, 1_001]
    for event in events:
        verify_event(event)
    assert ["rank", "99"] in events[1]["tags"]


async def test_delivery_state_per_relay(conn: asyncpg.Connection) -> None:
    await write_scores(conn, sample_rows(4))
    await outbox.enqueue_changed_score_events(conn)
    await outbox.sign_pending_events(conn, _sign, now_unix=1_000, limit=10)
    due_a = await outbox.fetch_due_for_relay(conn, RELAYS[0], limit=10)
    assert len(due_a) == 4 and all(d.attempts == 0 for d in due_a)
    ids = [d.outbox_id for d in due_a]
    await outbox.record_relay_results(conn, RELAYS[0], [
        outbox.RelayResult(ids[0], "ok"),
        outbox.RelayResult(ids[1], "rejected", "blocked: no"),
        outbox.RelayResult(ids[2], "failed", "timeout", retry_after_s=3600),
        outbox.RelayResult(ids[3], "failed", "timeout", retry_after_s=0),
    ])
    # ok and rejected are final, the 1 h backoff is not due yet, the 0 s one is.
    again = await outbox.fetch_due_for_relay(conn, RELAYS[0], limit=10)
    assert [(d.outbox_id, d.attempts) for d in again] == [(ids[3], 1)]
    assert await outbox.mark_delivered(conn, ids, RELAYS) == 0  # relay b has nothing yet
    await outbox.record_relay_results(
        conn, RELAYS[1], [outbox.RelayResult(i, "ok") for i in ids])
    assert await outbox.mark_delivered(conn, ids, RELAYS) == 2  # ids[0] and ids[1]
    lag = await outbox.fetch_outbox_lag(conn)
    assert lag.pending == 2 and lag.oldest_pending_age_s >= 0
    # Relay a removed from the configuration: the sweep finishes what relay b has.
    assert await outbox.mark_delivered(conn, None, RELAYS[1:]) == 2
    assert (await outbox.fetch_outbox_lag(conn)).pending == 0


async def test_single_event_enqueue_is_change_only(conn: asyncpg.Connection) -> None:
    assert await outbox.enqueue_event_if_changed(conn, 0, "", [], '{"name":"a"}')
    assert not await outbox.enqueue_event_if_changed(conn, 0, "", [], '{"name":"a"}')
    assert await outbox.enqueue_event_if_changed(conn, 0, "", [], '{"name":"b"}')
    pending = await _pending(conn)
    assert [json.loads(r["content"])["content"] for r in pending] == ['{"name":"b"}']


async def test_empty_outbox_lag_and_pruning(conn: asyncpg.Connection) -> None:
    assert await outbox.fetch_outbox_lag(conn) == outbox.OutboxLag(0, 0.0)
    await write_scores(conn, sample_rows(2))
    await outbox.enqueue_changed_score_events(conn)
    await conn.execute("UPDATE nostr_outbox SET done_at = now() - interval '8 days'")
    assert await outbox.prune_finished(conn, keep_delivered_s=7 * 86_400) == 2


async def _rescore(conn: asyncpg.Connection, rows: list[ScoreRow]) -> None:
    await write_scores(conn, rows)
    await outbox.enqueue_changed_score_events(conn)


async def _deliver_all(conn: asyncpg.Connection) -> None:
    await outbox.sign_pending_events(conn, _sign, now_unix=1_000, limit=100)
    due = await outbox.fetch_due_for_relay(conn, RELAYS[0], limit=100)
    await outbox.record_relay_results(
        conn, RELAYS[0], [outbox.RelayResult(d.outbox_id, "ok") for d in due])
    await outbox.mark_delivered(conn, None, RELAYS[:1])


async def test_prune_keeps_pending_rows_and_the_newest_delivered_one(
    conn: asyncpg.Connection,
) -> None:
    rows = sample_rows(3)
    await _rescore(conn, rows)
    await _deliver_all(conn)
    await _rescore(conn, [rows[0].changed(rank=77), rows[1].changed(rank=78)])
    await _deliver_all(conn)  # rows 0 and 1: delivered twice now
    await _rescore(conn, [rows[0].changed(rank=79)])  # row 0: a third version, pending
    assert await conn.fetchval("SELECT count(*) FROM nostr_outbox") == 6

    # Gone: every delivered version with a newer row; kept: the pending one and each
    # subject's newest delivered row.
    assert await outbox.prune_finished(conn, keep_delivered_s=86_400) == 3
    left = await conn.fetch("SELECT subject, done_at IS NULL AS pending FROM nostr_outbox")
    assert sorted((r["subject"], r["pending"]) for r in left) == sorted(
        [(rows[0].pubkey, True), (rows[1].pubkey, False), (rows[2].pubkey, False)])
    assert await conn.fetchval("SELECT count(*) FROM nostr_relay_status") == 2
    # A delivered row past the retention goes even when it is the newest of its subject.
    await conn.execute("UPDATE nostr_outbox SET done_at = now() - interval '2 days' "
                       "WHERE subject = $1", rows[2].pubkey)
    assert await outbox.prune_finished(conn, keep_delivered_s=86_400) == 1
    assert (await outbox.fetch_outbox_lag(conn)).pending == 1


def _rows_of_cte(plan: Any, name: str) -> int | None:
    if plan.get("Subplan Name") == f"CTE {name}":
        return int(plan["Actual Rows"])
    for child in plan.get("Plans", ()):
        found = _rows_of_cte(child, name)
        if found is not None:
            return found
    return None


async def _tag_sets_rendered(conn: asyncpg.Connection) -> int | None:
    """How many tag sets the enqueue statement renders (its executed plan, rolled back)."""
    tr = conn.transaction()
    await tr.start()
    try:
        plan = await conn.fetchval("EXPLAIN (ANALYZE, FORMAT JSON) "
                                   + outbox._ENQUEUE_ASSERTIONS, KIND_ASSERTION)
    finally:
        await tr.rollback()
    return _rows_of_cte(json.loads(plan)[0]["Plan"], "fingerprinted")


async def test_only_rewritten_rows_are_rendered_and_compared(conn: asyncpg.Connection) -> None:
    rows = sample_rows(20)
    await write_scores(conn, rows)
    assert await outbox.enqueue_changed_score_events(conn) == 20
    assert await _tag_sets_rendered(conn) == 0  # an unchanged pass renders nothing

    await conn.execute("UPDATE scores SET p_success = 0.4242 WHERE pubkey = $1", rows[0].pubkey)
    await conn.execute("UPDATE scores SET pagerank = 0.5 WHERE pubkey = $1", rows[1].pubkey)
    await conn.execute("UPDATE nodes SET alias = 'renamed' WHERE pubkey = $1", rows[2].pubkey)
    assert await _tag_sets_rendered(conn) == 3
    last_id = await conn.fetchval("SELECT max(id) FROM nostr_outbox")
    # pagerank is in no tag: only the p_success and alias changes are queued
    assert await outbox.enqueue_changed_score_events(conn) == 2
    queued = await conn.fetch("SELECT subject FROM nostr_outbox WHERE id > $1", last_id)
    assert {r["subject"] for r in queued} == {rows[0].pubkey, rows[2].pubkey}
    assert await _tag_sets_rendered(conn) == 0

    # versions unknown (as right after the migration, or rows restored from a backup):
    # every subject is compared once, and nothing that was queued is queued again
    await conn.execute("UPDATE nostr_publish_state SET scores_xmin = NULL, nodes_xmin = NULL")
    assert await _tag_sets_rendered(conn) == 20
    assert await outbox.enqueue_changed_score_events(conn) == 0
    assert await _tag_sets_rendered(conn) == 0
