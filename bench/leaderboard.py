"""Bench: a leaderboard page by cursor (keyset) vs by offset, on 10,237 scored nodes.

    .venv/bin/python bench/leaderboard.py

Seeds the graph of tests/test_api_leaderboard_cursor.py into an embedded Postgres, checks
that every sort axis seeks through its sql/014 index (EXPLAIN shows an Index Cond on the
row comparison), then times `db.nodes.fetch_leaderboard` (each page includes the total
count): the page at offset 10,000 against the mean page of a full cursor walk.
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


async def run(dsn: str) -> None:
    import asyncpg

    from satrank.db import nodes
    from satrank.db.migrations import migrate_dsn
    from tests.test_api_leaderboard_cursor import _seed_many

    await migrate_dsn(dsn)
    await _seed_many(dsn)
    pool = await asyncpg.create_pool(dsn, min_size=1, max_size=2)
    try:
        await pool.execute("ANALYZE")
        for sort in nodes.SORT_AXES:
            first = await nodes.fetch_leaderboard(pool, sort, 100)
            assert first.next_after is not None
            plan = "\n".join(r[0] for r in await pool.fetch(
                "EXPLAIN " + nodes._leaderboard_sql(sort, True), 100, *first.next_after))
            seeks = "Index Cond: (ROW(" in plan
            started = time.perf_counter()
            await nodes.fetch_leaderboard(pool, sort, 100, offset=10_000)
            offset_ms = (time.perf_counter() - started) * 1000
            started, pages, after = time.perf_counter(), 0, None
            while True:
                page = await nodes.fetch_leaderboard(pool, sort, 100, after=after)
                pages += 1
                if page.next_after is None:
                    break
                after = page.next_after
            keyset_ms = (time.perf_counter() - started) * 1000 / pages
            print(f"{sort:10s} index seek: {seeks}; offset 10,000: {offset_ms:6.1f} ms; "
                  f"cursor: {keyset_ms:5.1f} ms per page over {pages} pages")
    finally:
        await pool.close()


def main() -> None:
    from satrank.db.embedded import database_dsn

    with tempfile.TemporaryDirectory(prefix="satrank-bench-lb-") as tmp:
        os.chmod(tmp, 0o755)  # the embedded Postgres runs as its own user
        with database_dsn(os.environ.get("DATABASE_URL"), Path(tmp)) as dsn:
            asyncio.run(run(dsn))


if __name__ == "__main__":
    main()
