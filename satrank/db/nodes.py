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

# Each axis as ascending keys (SQL expression, parameter type) ending with the pubkey: the
# indexes of sql/014 (ci95_width: sql/005). Descending axes are negated, so that "after
# the cursor" is one row comparison an index seeks to.
_KEYS: dict[SortAxis, tuple[tuple[str, str], ...]] = {
    "rank": (("-s.rank", "int"),),
    "p_success": (("-s.p_success", "float8"), ("-s.n_eff", "float8")),
    "n_obs": (("-s.n_eff", "float8"),),
    "ci95_width": (("(s.ci95_high - s.ci95_low)", "float8"),),
    "pagerank": (("-s.pagerank", "float8"),),
}
# Values of a page's last row that the next page starts after (keys of _KEYS, then pubkey).
SortKey = tuple[float | int | str, ...]

_COLUMNS = f"""
    n.pubkey, n.agent_hash, n.alias, n.first_seen, n.last_seen, n.is_active,
    s.rank, s.verdict, s.p_success, s.ci95_low, s.ci95_high, s.n_eff, s.reasons,
    s.p_grid, s.alpha_grid, s.beta_grid, s.max_routable_sat,
    (SELECT grid_amounts_sat FROM scoring_state) AS grid_amounts_sat,
    (SELECT grid_budgets FROM scoring_state) AS grid_budgets,
    (SELECT payer FROM scoring_state) AS payer,
    {SCORED_AT} AS computed_at
"""


@dataclass(frozen=True)
class ScoreGrid:
    """A node's p_success grid (budget-major, `budgets` x `amounts_sat`) with the Beta
    parameters of every cell, and the reference payer it is about."""

    amounts_sat: tuple[int, ...]
    budgets: tuple[str, ...]
    p: tuple[float, ...]
    alpha: tuple[float, ...]
    beta: tuple[float, ...]
    payer: str | None
    # per budget: the largest amount with a route (a ladder finer than the grid); None:
    # scored before it was stored
    max_routable_sat: tuple[float, ...] | None = None


def _grid(row: asyncpg.Record) -> ScoreGrid | None:
    if row["p_grid"] is None or row["grid_amounts_sat"] is None:
        return None  # scored before the grid existed
    return ScoreGrid(tuple(row["grid_amounts_sat"]), tuple(row["grid_budgets"]),
                     tuple(row["p_grid"]), tuple(row["alpha_grid"]), tuple(row["beta_grid"]),
                     row["payer"], None if row["max_routable_sat"] is None
                     else tuple(row["max_routable_sat"]))


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
    grid: ScoreGrid | None = None


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
        grid=_grid(row),
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




@dataclass(frozen=True)
class LeaderboardPage:
    total: int  # scored active nodes
    nodes: list[NodeSummary]
    next_after: SortKey | None  # None: this is the last page


def sort_key_types(sort: SortAxis) -> tuple[str, ...]:
    """The Postgres type of each value of a `SortKey` of this axis: "int", "float8", then
    "text" for the pubkey."""
    return tuple(kind for _, kind in _KEYS[sort]) + ("text",)


def _leaderboard_sql(sort: SortAxis, keyset: bool) -> str:
    """$1 limit; then $2 offset, or $2.. the cursor's keys and pubkey."""
    keys = _KEYS[sort]  # from a fixed table: never user text in SQL
    exprs = [expr for expr, _ in keys] + ["s.pubkey"]
    where, tail = "", "OFFSET $2"
    if keyset:
        params = [f"${i}::{kind}" for i, (_, kind) in enumerate(keys, start=2)]
        params.append(f"${len(keys) + 2}::text")
        where, tail = f"AND ({', '.join(exprs)}) > ({', '.join(params)})", ""
    columns = ", ".join(f"{expr} AS k{i}" for i, expr in enumerate(exprs))
    return f"""SELECT {_COLUMNS}, {columns}
               FROM scores s JOIN nodes n USING (pubkey)
               WHERE n.is_active {where}
               ORDER BY {', '.join(exprs)}
               LIMIT $1 {tail}"""


async def fetch_leaderboard(
    pool: asyncpg.Pool, sort: SortAxis, limit: int, *, after: SortKey | None = None,
    offset: int = 0, total: int | None = None,
) -> LeaderboardPage:
    """One page of scored active nodes in `sort` order: the first `limit` after the row
    whose sort key is `after` (the previous page's `next_after`), else after skipping
    `offset` rows. Walking `next_after` from the first page reaches every node once, as
    long as the scores do not change in between. `total`: the count of scored active
    nodes when the caller knows it (a page of the same data), else it is counted."""
    if after is None:
        rows = await pool.fetch(_leaderboard_sql(sort, False), limit, offset)
    else:
        rows = await pool.fetch(_leaderboard_sql(sort, True), limit, *after)
    if total is None:
        total = await pool.fetchval(
            "SELECT count(*) FROM scores s JOIN nodes n USING (pubkey) WHERE n.is_active")
    next_after: SortKey | None = None
    if len(rows) == limit:
        next_after = tuple(rows[-1][f"k{i}"] for i in range(len(_KEYS[sort]) + 1))
    return LeaderboardPage(int(total), [_summary(r) for r in rows], next_after)


def like_pattern(text: str) -> str:
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
        like_pattern(needle),
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
