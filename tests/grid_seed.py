"""Test helper: a small hand-made graph synced and scored by a real scoring pass (model v2's
grid stored), with node 0 as the reference payer."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import asyncpg

from satrank.db.graph import record_sync_payer, sync_graph
from satrank.db.scores import load_scoring_inputs, store_scores
from satrank.scoring.engine import score_nodes
from satrank.scoring.payer import OwnChannel
from tests.scoring_graphs import pubkey, small_graph

NOW = datetime(2025, 10, 25, 12, tzinfo=UTC)


async def score_small_graph(dsn: str, n_nodes: int, links: list[tuple[int, int, int]],
                            own_channels: Sequence[OwnChannel] = ()) -> None:
    """`small_graph(n_nodes, links)` synced, payer 0 recorded, then one scoring pass at NOW
    (with `own_channels`, the payer's channels as its LND lists them, as the crawler
    passes them)."""
    conn = await asyncpg.connect(dsn)
    try:
        sync = await sync_graph(conn, small_graph(n_nodes, links), block_height=800_500,
                                now=NOW)
        await record_sync_payer(conn, sync.sync_id, pubkey(0))
        inputs = await load_scoring_inputs(conn, now=NOW, half_life_s=7 * 86_400.0,
                                           evidence_window=timedelta(days=30))
        if own_channels:
            inputs = replace(inputs, payer_channels=tuple(own_channels))
        await store_scores(conn, score_nodes(inputs, now_unix=NOW.timestamp()),
                           computed_at=NOW, enqueue_nostr=False)
    finally:
        await conn.close()
