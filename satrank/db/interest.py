"""Which nodes agents asked about through the API (`probe_requests`), for the crawler."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

import asyncpg

from satrank.db.pool import affected_rows


async def record_interest(conn: asyncpg.Connection | asyncpg.Pool, ids: Collection[str], *,
                          now: datetime) -> int:
    """Note that `ids` (66-hex pubkeys or 64-hex agent hashes) were asked about at `now`.

    One statement; ids that match no node are ignored. Returns the rows touched.
    """
    if not ids:
        return 0
    status = await conn.execute(
        """INSERT INTO probe_requests (pubkey, requested_at)
           SELECT pubkey, $2 FROM nodes
           WHERE pubkey = ANY($1::text[]) OR agent_hash = ANY($1::text[])
           ON CONFLICT (pubkey) DO UPDATE
              SET requested_at = GREATEST(probe_requests.requested_at, EXCLUDED.requested_at),
                  asks = probe_requests.asks + 1""",
        list(ids), now,
    )
    return affected_rows(status)


async def forget_requests_before(conn: asyncpg.Connection, cutoff: datetime) -> int:
    status = await conn.execute("DELETE FROM probe_requests WHERE requested_at < $1", cutoff)
    return affected_rows(status)
