"""Read-only score queries for the API and the export command (no writes, few statements).

Node ids are a 66-hex pubkey or the 64-hex sha256 of the pubkey text (agent hash). Sort
keys are whitelisted here, so callers pass names, never SQL.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

PUBKEY_RE = re.compile(r"^0[23][0-9a-f]{64}$")
AGENT_HASH_RE = re.compile(r"^[0-9a-f]{64}$")
SORT_KEYS = {
    "rank": "s.rank DESC, s.pubkey",
    "p_success": "s.p_success DESC, s.pubkey",
    "pagerank": "s.pagerank DESC, s.pubkey",
    "capacity": "(s.features->>'capacity_sat')::float8 DESC NULLS LAST, s.pubkey",
    "n_eff": "s.n_eff DESC, s.pubkey",
}
MAX_PAGE = 500


@dataclass(frozen=True)
class ScoreRow:
    pubkey: str
    agent_hash: str
    alias: str
    rank: int
    verdict: str
    p_success: float
    ci95_low: float
    ci95_high: float
    n_eff: float
    pagerank: float
    pagerank_pct: float
    features: dict[str, Any]
    reasons: list[str]
    computed_at: datetime


@dataclass(frozen=True)
class PosteriorRow:
    amount_sat: int
    prior_alpha: float
    prior_beta: float
    alpha: float
    beta: float
    n_eff: float
    p_success: float
    ci95_low: float
    ci95_high: float
    updated_at: datetime


_SELECT = """
SELECT s.pubkey, n.agent_hash, n.alias, s.rank, s.verdict, s.p_success, s.ci95_low,
       s.ci95_high, s.n_eff, s.pagerank, s.pagerank_pct, s.features::text AS features,
       s.reasons::text AS reasons, s.computed_at
FROM scores s JOIN nodes n USING (pubkey)
"""


def _row(r: asyncpg.Record) -> ScoreRow:
    d = dict(r)
    d["features"] = json.loads(d["features"])
    d["reasons"] = json.loads(d["reasons"])
    return ScoreRow(**d)


def normalize_node_id(node_id: str) -> str | None:
    """Lower-cased id if it is a pubkey or an agent hash, else None."""
    value = node_id.strip().lower()
    return value if PUBKEY_RE.match(value) or AGENT_HASH_RE.match(value) else None


async def score_by_id(conn: asyncpg.Connection, node_id: str) -> ScoreRow | None:
    """The score of a node named by pubkey or agent hash; None if unknown or malformed."""
    value = normalize_node_id(node_id)
    if value is None:
        return None
    column = "s.pubkey" if len(value) == 66 else "n.agent_hash"
    r = await conn.fetchrow(f"{_SELECT} WHERE {column} = $1", value)
    return _row(r) if r is not None else None


async def top_scores(conn: asyncpg.Connection, *, sort: str = "rank", limit: int = 50,
                     offset: int = 0) -> list[ScoreRow]:
    """A leaderboard page; `sort` must be a key of SORT_KEYS (ValueError otherwise)."""
    if sort not in SORT_KEYS:
        raise ValueError(f"sort must be one of {', '.join(SORT_KEYS)}")
    limit = max(1, min(limit, MAX_PAGE))
    rows = await conn.fetch(f"{_SELECT} ORDER BY {SORT_KEYS[sort]} LIMIT $1 OFFSET $2",
                            limit, max(0, offset))
    return [_row(r) for r in rows]


async def count_scores(conn: asyncpg.Connection) -> int:
    return int(await conn.fetchval("SELECT count(*) FROM scores"))


async def search_scores_by_alias(conn: asyncpg.Connection, alias: str, *,
                                 limit: int = 20) -> list[ScoreRow]:
    """Nodes whose alias starts with `alias` (case-insensitive, uses the alias index),
    then those containing it; best rank first."""
    needle = alias.strip().lower()
    if not needle:
        return []
    escaped = needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    rows = await conn.fetch(
        f"{_SELECT} WHERE lower(n.alias) LIKE $1 "
        "ORDER BY (lower(n.alias) LIKE $2) DESC, s.rank DESC, s.pubkey LIMIT $3",
        f"%{escaped}%", f"{escaped}%", max(1, min(limit, MAX_PAGE)))
    return [_row(r) for r in rows]


async def posteriors_of(conn: asyncpg.Connection, pubkey: str) -> list[PosteriorRow]:
    rows = await conn.fetch(
        "SELECT amount_sat, prior_alpha, prior_beta, alpha, beta, n_eff, p_success, "
        "ci95_low, ci95_high, updated_at FROM posteriors WHERE pubkey = $1 "
        "ORDER BY amount_sat", pubkey)
    return [PosteriorRow(**dict(r)) for r in rows]


async def score_history_of(conn: asyncpg.Connection, pubkey: str, *,
                           limit: int = 100) -> list[dict[str, Any]]:
    rows = await conn.fetch(
        "SELECT computed_at, rank, verdict, p_success, ci95_low, ci95_high, pagerank "
        "FROM score_history WHERE pubkey = $1 ORDER BY computed_at DESC LIMIT $2",
        pubkey, max(1, min(limit, MAX_PAGE)))
    return [dict(r) for r in rows]


async def iter_export_rows(conn: asyncpg.Connection) -> AsyncIterator[dict[str, Any]]:
    """Every scored node for `satrank export scores` (cursor: constant memory).
    Must run inside a transaction."""
    async for r in conn.cursor(
            "SELECT s.pubkey, n.alias, s.rank, s.pagerank, s.pagerank_pct, s.p_success, "
            "s.ci95_low, s.ci95_high, s.n_eff, s.verdict, s.computed_at "
            "FROM scores s JOIN nodes n USING (pubkey) ORDER BY s.rank DESC, s.pubkey"):
        yield dict(r)
