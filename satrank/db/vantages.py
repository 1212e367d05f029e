"""Vantage points: the nodes probes are sent from, and which of them each node's probe
evidence rests on (probes.vantage: the sender's pubkey, NULL = the oracle)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import asyncpg


async def register_vantage(conn: asyncpg.Connection, *, name: str, pubkey: str,
                           now: datetime) -> None:
    """A worker says which node it probes from (the pubkey behind a NULL vantage too)."""
    await conn.execute(
        "INSERT INTO vantages (name, pubkey, last_seen) VALUES ($1, $2, $3) "
        "ON CONFLICT (name) DO UPDATE SET pubkey = EXCLUDED.pubkey, "
        "last_seen = EXCLUDED.last_seen", name, pubkey, now)


_NODE_VANTAGES = """
SELECT p.target_pubkey,
       array_agg(DISTINCT coalesce(p.vantage, o.pubkey, 'oracle') ORDER BY
                 coalesce(p.vantage, o.pubkey, 'oracle')) AS vantages
FROM probes p
LEFT JOIN vantages o ON o.name = 'oracle'
WHERE p.sent_at > $1 AND p.outcome <> 'error'
  AND (cardinality($2::text[]) = 0 OR p.target_pubkey = ANY($2::text[]))
GROUP BY p.target_pubkey
"""


async def load_node_vantages(conn: asyncpg.Connection, *, since: datetime,
                             pubkeys: Sequence[str] = ()) -> dict[str, list[str]]:
    """The vantage points each node's probe evidence since `since` rests on: target pubkey
    -> sorted pubkeys of the sending nodes (a probe with no vantage is the oracle's, named
    by its registered pubkey, else "oracle"). Probes that ended in `error` (no evidence)
    do not count. `pubkeys` limits the answer to those nodes (empty: every node)."""
    rows = await conn.fetch(_NODE_VANTAGES, since, list(pubkeys))
    return {r["target_pubkey"]: list(r["vantages"]) for r in rows}


async def live_vantages(conn: asyncpg.Connection, *, since: datetime) -> list[str]:
    """Pubkeys of the vantages whose worker looked at the queue since `since`, sorted."""
    rows = await conn.fetch("SELECT DISTINCT pubkey FROM vantages WHERE last_seen >= $1 "
                            "ORDER BY pubkey", since)
    return [r["pubkey"] for r in rows]


async def probes_by_vantage(conn: asyncpg.Connection, *, since: datetime,
                            targets: Sequence[str]) -> dict[str, dict[str, int]]:
    """Crawler probes of each of `targets` since `since`, per sending vantage pubkey (a
    probe with no vantage counted for the registered oracle)."""
    rows = await conn.fetch(
        "SELECT p.target_pubkey, coalesce(p.vantage, o.pubkey, 'oracle') AS vantage, "
        "count(*) AS n FROM probes p LEFT JOIN vantages o ON o.name = 'oracle' "
        "WHERE p.sent_at > $1 AND p.target_pubkey = ANY($2::text[]) GROUP BY 1, 2",
        since, list(targets))
    counts: dict[str, dict[str, int]] = {}
    for r in rows:
        counts.setdefault(r["target_pubkey"], {})[r["vantage"]] = int(r["n"])
    return counts
