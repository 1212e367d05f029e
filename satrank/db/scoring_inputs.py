"""What a scoring pass reads, summarised cheaply, and the last stored pass's record, so the
crawler can tell an unchanged pass before loading anything (`crawler/rescore.py`).

The summary changes whenever an input of `db.scores.load_scoring_inputs` changes:
- the graph: the last sync's source digest (the graph tables are the merge of the graph
  with that digest: every sync merges the complete graph), its block height and payer;
  a sync without a digest gives no summary (such a pass is never skipped);
- probes and reports in the evidence window (since, now]: rows are only inserted (with
  increasing ids) and deleted, so (count, max id, sum of ids) changes with the set;
- channel knowledge: every merge adds to the observation counts and stamps its time, and
  retention deletes rows, so (rows, total count, newest times) changes with the table.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import asyncpg

from satrank.db.scores import StoredScores, store_scores
from satrank.scoring.engine import ScoreResult

_SUMMARY = """
WITH g AS (SELECT fingerprint, block_height, payer_pubkey FROM graph_syncs
           ORDER BY id DESC LIMIT 1)
SELECT g.fingerprint, g.block_height, g.payer_pubkey,
       (SELECT row(count(*), max(id), sum(id))::text FROM probes
        WHERE sent_at > $1 AND sent_at <= $2) AS probes,
       (SELECT row(count(*), max(id), sum(id))::text FROM reports
        WHERE created_at > $1 AND created_at <= $2) AS reports,
       (SELECT row(count(*), sum(carried_count::bigint + failed_count), max(carried_at),
                   max(failed_at))::text FROM channel_knowledge) AS knowledge
FROM g WHERE g.fingerprint IS NOT NULL
"""


@dataclass(frozen=True)
class LastPass:
    computed_at: datetime
    inputs_key: str | None


async def scoring_inputs_summary(conn: asyncpg.Connection, *, since: datetime,
                                 now: datetime) -> tuple[object, ...] | None:
    """The inputs of a pass at `now` with evidence in (since, now], as plain values; None
    when they cannot be summarised (no sync yet, or one without a source digest)."""
    row = await conn.fetchrow(_SUMMARY, since, now)
    return None if row is None else tuple(row.values())


async def last_scoring_pass(conn: asyncpg.Connection) -> LastPass | None:
    row = await conn.fetchrow("SELECT computed_at, inputs_key FROM scoring_state")
    return None if row is None else LastPass(row["computed_at"], row["inputs_key"])


async def store_scores_of(conn: asyncpg.Connection, result: ScoreResult, *,
                          inputs_key: str | None, computed_at: datetime,
                          enqueue_nostr: bool) -> StoredScores:
    """`store_scores`, with the key of the inputs `result` was computed from recorded in
    the same transaction: a key never outlives or precedes the pass it is of."""
    async with conn.transaction():
        stored = await store_scores(conn, result, computed_at=computed_at,
                                    enqueue_nostr=enqueue_nostr)
        await conn.execute("UPDATE scoring_state SET inputs_key = $1", inputs_key)
    return stored
