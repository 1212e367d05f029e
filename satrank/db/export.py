"""`satrank export scores`: every scored node as one JSON line.

The headline figures are for the default payment (100,000 sat, normal fee budget, our
reference payer: `amount_sat`, `fee_budget`, `payer` say so); `p_grid` holds p_success for
every (fee budget, amount) of `grid_budgets` x `grid_amounts_sat`, budget-major;
`max_routable_sat` per budget the largest amount with a route (null: not yet scored so),
above which p_success is 0 whatever the grid's cells say."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg

from satrank.db.scored_at import SCORED_AT
from satrank.scoring.budgets import DEFAULT_BUDGET
from satrank.scoring.tiers import DEFAULT_TIER_SAT

EXPORT_FIELDS = ("pubkey", "alias", "rank", "pagerank", "pagerank_pct", "p_success",
                 "ci95_low", "ci95_high", "n_eff", "verdict", "amount_sat", "fee_budget",
                 "payer", "grid_budgets", "grid_amounts_sat", "p_grid",
                 "max_routable_sat")


async def export_scores(dsn: str, out: Path) -> int:
    """Write JSON lines to `out` (atomically via a temp file); returns the line count."""
    tmp = out.with_name(out.name + ".tmp")
    count = 0
    conn = await asyncpg.connect(dsn, timeout=10)
    try:
        with tmp.open("w", encoding="utf-8") as f:
            async with conn.transaction(isolation="repeatable_read", readonly=True):
                async for row in iter_export_rows(conn):
                    line = {k: row[k] for k in EXPORT_FIELDS}
                    line["computed_at"] = row["computed_at"].isoformat()
                    f.write(json.dumps(line, ensure_ascii=False) + "\n")
                    count += 1
        tmp.replace(out)
    finally:
        await conn.close()
    return count


async def iter_export_rows(conn: asyncpg.Connection) -> AsyncIterator[dict[str, Any]]:
    """Every scored node, best first (a server-side cursor: constant memory).
    Must run inside a transaction."""
    async for r in conn.cursor(
            "SELECT s.pubkey, n.alias, s.rank, s.pagerank, s.pagerank_pct, s.p_success, "
            "s.ci95_low, s.ci95_high, s.n_eff, s.verdict, s.p_grid, s.max_routable_sat, "
            "st.payer, "
            "st.grid_budgets, st.grid_amounts_sat, " + SCORED_AT + " AS computed_at "
            "FROM scores s JOIN nodes n USING (pubkey) LEFT JOIN scoring_state st ON true "
            "ORDER BY s.rank DESC, s.pubkey"):
        yield {**dict(r), "amount_sat": DEFAULT_TIER_SAT, "fee_budget": DEFAULT_BUDGET.name}
