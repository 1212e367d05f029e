"""Benchmark: the Nostr outbox at mainnet scale (13 000 scored nodes).

Times, on embedded Postgres in a temp dir: the first enqueue (every node new), an unchanged
rescore (nothing to publish), a rescore where 10 % of the nodes changed, and signing the
whole first batch (BIP-340 in Python via coincurve). Prints one line per step.

    .venv/bin/python bench/nostr_outbox.py [--nodes 13000]
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import secrets
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import asyncpg

from satrank.db import nostr_outbox as outbox
from satrank.db.admin import create_database
from satrank.db.embedded import embedded_postgres
from satrank.db.migrations import migrate_dsn
from satrank.nostr.events import UnsignedEvent, sign_event
from satrank.nostr.keys import NostrKey


async def write_nodes(conn: asyncpg.Connection, keys: list[str]) -> None:
    await conn.copy_records_to_table(
        "nodes", columns=["pubkey", "agent_hash", "alias"],
        records=[(k, hashlib.sha256(k.encode()).hexdigest(), f"n{i}") for i, k in enumerate(keys)],
    )


async def write_scores(conn: asyncpg.Connection, keys: list[str], shift: float) -> None:
    await conn.execute(
        """INSERT INTO scores (pubkey, rank, verdict, p_success, ci95_low, ci95_high, n_eff,
                               pagerank, pagerank_pct, computed_at)
           SELECT k, (i % 101), 'SAFE', ((i * 37) % 1000) / 1000.0 + $2,
                  ((i * 37) % 1000) / 2000.0, 1.0, i * 0.5, 0, 0, now()
           FROM unnest($1::text[]) WITH ORDINALITY AS t(k, i)
           ON CONFLICT (pubkey) DO UPDATE SET p_success = EXCLUDED.p_success""",
        keys, shift,
    )


async def run(nodes: int, admin_dsn: str) -> None:
    dsn = await create_database(admin_dsn, "nostr_bench")
    await migrate_dsn(dsn)
    conn = await asyncpg.connect(dsn)
    key = NostrKey.generate()
    keys = ["02" + secrets.token_hex(32) for _ in range(nodes)]

    def sign(row: outbox.PendingEvent, created_at: int) -> dict[str, Any]:
        return sign_event(UnsignedEvent(row.kind, created_at, row.tags, row.content), key)

    async def timed(label: str, coro: Any) -> Any:
        start = time.perf_counter()
        result = await coro
        print(f"{label:<42} {time.perf_counter() - start:8.3f} s   result={result}")
        return result

    try:
        await write_nodes(conn, keys)
        await write_scores(conn, keys, 0)
        await timed(f"enqueue, first run ({nodes} new)", outbox.enqueue_changed_score_events(conn))
        await timed("enqueue, unchanged rescore", outbox.enqueue_changed_score_events(conn))
        await write_scores(conn, keys[: nodes // 10], 0.0001)
        await timed("enqueue, 10 % changed", outbox.enqueue_changed_score_events(conn))
        await timed(f"sign all pending ({nodes} events)", outbox.sign_pending_events(
            conn, sign, now_unix=int(time.time()), limit=nodes))
    finally:
        await conn.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--nodes", type=int, default=13_000)
    args = parser.parse_args()
    data_dir = Path(tempfile.mkdtemp(prefix="satrank-bench-pg-"))
    try:
        with embedded_postgres(data_dir) as admin_dsn:
            asyncio.run(run(args.nodes, admin_dsn))
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
