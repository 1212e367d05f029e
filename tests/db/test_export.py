"""Integration: `export_scores` writes one JSON line per scored node."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg

from satrank.db.export import EXPORT_FIELDS, export_scores
from satrank.db.graph import sync_graph
from satrank.db.scores import load_scoring_inputs, store_scores
from satrank.scoring.engine import score_nodes
from tests.scoring_graphs import small_graph

NOW = datetime(2025, 10, 25, 12, tzinfo=UTC)


async def test_export_scores_json_lines(db_dsn: str, tmp_path: Path) -> None:
    conn = await asyncpg.connect(db_dsn)
    try:
        await sync_graph(conn, small_graph(3, [(0, 1, 500_000), (1, 2, 700_000)]),
                         block_height=800_100, now=NOW)
        inputs = await load_scoring_inputs(conn, now=NOW, half_life_s=604_800.0,
                                           evidence_window=timedelta(days=30))
        await store_scores(conn, score_nodes(inputs, now_unix=NOW.timestamp()),
                           computed_at=NOW)
    finally:
        await conn.close()
    out = tmp_path / "scores.jsonl"
    assert await export_scores(db_dsn, out) == 3
    lines = [json.loads(x) for x in out.read_text().splitlines()]
    assert len(lines) == 3 and set(EXPORT_FIELDS) <= set(lines[0])
    assert lines[0]["rank"] >= lines[-1]["rank"]
    assert all(0 <= x["ci95_low"] <= x["p_success"] <= x["ci95_high"] <= 1 for x in lines)
    first = lines[0]
    assert (first["amount_sat"], first["fee_budget"]) == (100_000, "normal")
    assert first["payer"].startswith("hubs:")  # no vantage node recorded by this sync
    grid = first["p_grid"]
    assert len(grid) == len(first["grid_budgets"]) * len(first["grid_amounts_sat"])
    at = first["grid_budgets"].index("normal") * len(first["grid_amounts_sat"]) + \
        first["grid_amounts_sat"].index(100_000)
    assert grid[at] == first["p_success"]
    # per budget the largest routable amount (every node is one of the hub payers here)
    assert all(x["max_routable_sat"] == [5_000_000.0] * len(x["grid_budgets"]) for x in lines)
