"""Read queries about Lightning nodes: one node's summary, batches, leaderboard, search.

They serve the public `/api/agent*` routes (the earlier SatRank's name for a node, kept in
the HTTP paths and JSON; inside the code a node is a node).

Every function is one SQL statement served by an index (see sql/001 and sql/005). A node is
addressed by its 66-hex pubkey or by the earlier SatRank's agent hash (sha256 of the pubkey
text); the caller says which with `by`. Nodes not yet scored come back with score fields None.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import asyncpg

from satrank.db.scored_at import NEWEST_SCORING, SCORED_AT

IdKind = Literal["pubkey", "agent_hash"]
SortAxis = Literal["rank", "p_success", "n_obs", "ci95_width", "pagerank"]
SORT_AXES: tuple[SortAxis, ...] = ("rank", "p_success", "n_obs", "ci95_width", "pagerank")

# ORDER BY clauses matching the indexes of sql/005 (and scores_rank_idx of 001).
_ORDER: dict[SortAxis, str] = {
    "rank": "s.rank DESC, s.pubkey",
    "p_success": "s.p_success DESC, s.n_eff DESC, s.pubkey",
    "n_obs": "s.n_eff DESC, s.pubkey",
    "ci95_width": "(s.ci95_high - s.ci95_low), s.pubkey",
    "pagerank": "s.pagerank DESC, s.pubkey",
}

_COLUMNS = f"""
    n.pubkey, n.agent_hash, n.alias, n.first_seen, n.last_seen, n.is_active,
    s.rank, s.verdict, s.p_success, s.ci95_low, s.ci95_high, s.n_eff, s.reasons,
    {SCORED_AT} AS computed_at
"""


@dataclass(frozen=True)
class NodeSummary:
    pubkey: str
    agent_hash: str
    alias: str
    first_seen: datetime
    last_seen: datetime
    is_active: bool
    rank: int | None
    verdict: str | None
    p_success: float | None
    ci95_low: float | None
    ci95_high: float | None
    n_obs: float | None
    reasons: tuple[str, ...]
    computed_at: datetime | None


def _summary(row: asyncpg.Record) -> NodeSummary:
    reasons: Any = row["reasons"]
    if isinstance(reasons, str):
        reasons = json.loads(reasons)
    return NodeSummary(
        pubkey=row["pubkey"],
        agent_hash=row["agent_hash"],
        alias=row["alias"],
        first_seen=row["first_seen"],
        last_seen=row["last_seen"],
        is_active=row["is_active"],
        rank=row["rank"],
        verdict=row["verdict"],
        p_success=row["p_success"],
        ci95_low=row["ci95_low"],
        ci95_high=row["ci95_high"],
        n_obs=row["n_eff"],
        reasons=tuple(str(r) for r in reasons or ()),
        computed_at=row["computed_at"],
    )


_BY_PUBKEY = f"SELECT {_COLUMNS} FROM nodes n LEFT JOIN scores s USING (pubkey) WHERE n.pubkey = $1"
_BY_HASH = (
    f"SELECT {_COLUMNS} FROM nodes n LEFT JOIN scores s USING (pubkey) WHERE n.agent_hash = $1"
)


async def fetch_node(pool: asyncpg.Pool, by: IdKind, value: str) -> NodeSummary | None:
    """The node with this pubkey or agent hash (lower-case hex), or None."""
    row = await pool.fetchrow(_BY_PUBKEY if by == "pubkey" else _BY_HASH, value)
    return _summary(row) if row is not None else None


async def fetch_nodes(
    pool: asyncpg.Pool, pubkeys: Sequence[str], agent_hashes: Sequence[str]
) -> list[NodeSummary]:
    """Every known node among the given pubkeys and agent hashes (order not guaranteed)."""
    rows = await pool.fetch(
        f"""SELECT {_COLUMNS} FROM nodes n LEFT JOIN scores s USING (pubkey)
            WHERE n.pubkey = ANY($1::text[]) OR n.agent_hash = ANY($2::text[])""",
        list(pubkeys),
        list(agent_hashes),
    )
    return [_summary(r) for r in rows]




async def fetch_leaderboard(
    pool: asyncpg.Pool, sort: SortAxis, limit: int, offset: int
) -> tuple[int, list[NodeSummary]]:
    """(number of scored active nodes, one page of them in `sort` order)."""
    order = _ORDER[sort]  # from a fixed table: never user text in SQL
    rows = await pool.fetch(
        f"""SELECT {_COLUMNS}, count(*) OVER () AS total
            FROM scores s JOIN nodes n USING (pubkey)
            WHERE n.is_active
            ORDER BY {order}
            LIMIT $1 OFFSET $2""",
        limit,
        offset,
    )
    if rows:
        return int(rows[0]["total"]), [_summary(r) for r in rows]
    total = await pool.fetchval(
        "SELECT count(*) FROM scores s JOIN nodes n USING (pubkey) WHERE n.is_active"
    )
    return int(total), []


def _like_pattern(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


async def search_nodes(pool: asyncpg.Pool, alias: str, limit: int) -> list[NodeSummary]:
    """Nodes whose alias contains `alias` (case-insensitive): prefix matches first, then by rank.

    Substring matching scans `nodes` (about 13k rows on mainnet: a few ms); the result is
    bounded by `limit`.
    """
    needle = alias.lower()
    rows = await pool.fetch(
        f"""SELECT {_COLUMNS} FROM nodes n LEFT JOIN scores s USING (pubkey)
            WHERE lower(n.alias) LIKE $1
            ORDER BY starts_with(lower(n.alias), $2) DESC, s.rank DESC NULLS LAST,
                     n.alias, n.pubkey
            LIMIT $3""",
        _like_pattern(needle),
        needle,
        limit,
    )
    return [_summary(r) for r in rows]


async def data_version(pool: asyncpg.Pool) -> tuple[datetime | None, datetime | None]:
    """(newest score computation, newest graph sync): what the node routes' data depends on."""
    row = await pool.fetchrow(
        f"""SELECT {NEWEST_SCORING} AS scored,
                  (SELECT max(finished_at) FROM graph_syncs) AS synced""")
    assert row is not None
    return row["scored"], row["synced"]
