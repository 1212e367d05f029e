"""Integration: api/shapes writes JSON byte for byte as Postgres' json_build_object did.

The profile document used to be rendered by Postgres; these tests hold the Python renderer
to Postgres' own output on many values (random float8 bit patterns, decimal-looking
values, the exponent thresholds, every control character), and whole profile documents
to the statement that rendered them before (tests/sql/profile_before_shapes.sql).
"""

from __future__ import annotations

from pathlib import Path

import asyncpg
import numpy as np

from satrank.api.shapes import fetch_profile_json, pg_array, pg_object, pg_value
from satrank.outcomes import ProbeOutcome
from tests.api_seed import agent_hash, pubkey, seed

EDGE_FLOATS = [
    0.0, -0.0, 1.0, -1.0, 98.0, 0.5, 0.1 + 0.2, 1 / 3, 2 / 3, 0.95 - 0.1 * 3, 1e-4, 9.99e-5,
    1e-5, 1.5e-7, 1e14, 999999999999999.9, 1e15, 1.5e15, 1e16, 1e21, 123456.789,
    4294967295.0, 5e-324, 2.2250738585072014e-308, 1.7976931348623157e308,
    float("nan"), float("inf"), float("-inf"),
]


def _sample_floats() -> list[float]:
    rng = np.random.default_rng(20261202)
    bits = rng.integers(0, 2**63, 20_000, dtype=np.int64).view(np.float64)
    decimals = [round(float(x), int(k)) for x, k in
                zip(rng.random(5_000), rng.integers(0, 17, 5_000), strict=True)]
    scaled = (rng.random(5_000) * 10.0 ** rng.integers(-8, 20, 5_000)).tolist()
    negatives = (-rng.random(1_000)).tolist()
    # above 2^53 a shortest candidate can sit exactly halfway to the next float
    large = (rng.random(10_000) * 10.0 ** rng.integers(14, 19, 10_000)).tolist()
    powers = [2.0 ** k for k in range(-60, 70)] + [3 * 2.0 ** k for k in range(40, 64)]
    return EDGE_FLOATS + bits.tolist() + decimals + scaled + negatives + large + powers


async def _rendered(conn: asyncpg.Connection, sql_type: str, values: list[object]) -> list[str]:
    rows = await conn.fetch(
        f"SELECT json_build_object('v', x)::text AS t FROM unnest($1::{sql_type}[])"
        " WITH ORDINALITY AS u(x, i) ORDER BY i", values)
    return [r["t"] for r in rows]


async def test_floats_ints_and_nulls_render_as_postgres(db_dsn: str) -> None:
    floats = _sample_floats()
    ints = [0, 1, -1, 4294967295, 2**63 - 1, -(2**63), 800_000]
    conn = await asyncpg.connect(db_dsn)
    try:
        got_floats = await _rendered(conn, "float8", [*floats, None])
        got_ints = await _rendered(conn, "int8", [*ints])
        got_bools = await _rendered(conn, "bool", [True, False])
    finally:
        await conn.close()
    assert len(got_floats) == len(floats) + 1
    mismatches = [(v, want) for v, want in zip([*floats, None], got_floats, strict=True)
                  if pg_object([("v", pg_value(v))]) != want]
    assert not mismatches[:20]
    assert [pg_object([("v", pg_value(v))]) for v in ints] == got_ints
    assert [pg_object([("v", pg_value(v))]) for v in (True, False)] == got_bools


async def test_strings_render_as_postgres(db_dsn: str) -> None:
    texts = [chr(c) for c in range(1, 128)] + [
        "", 'älias ⚡ "q" \\ \n\t\r\b\f', "😀 emoji", "\u2028\u2029", "\x7f\x1f", "50%_off",
        "a" * 100,
    ]
    conn = await asyncpg.connect(db_dsn)
    try:
        got = await _rendered(conn, "text", [*texts])
        nested = await conn.fetchval(
            "SELECT json_build_object('a', json_build_object('b', 1, 'c', NULL),"
            " 'd', coalesce((SELECT json_agg(json_build_object('e', x) ORDER BY x)"
            " FROM generate_series(1, 3) x), '[]'::json), 'f', '[]'::json)::text")
    finally:
        await conn.close()
    assert [pg_object([("v", pg_value(t))]) for t in texts] == got
    assert nested == pg_object([
        ("a", pg_object([("b", "1"), ("c", "null")])),
        ("d", pg_array(pg_object([("e", str(x))]) for x in (1, 2, 3))),
        ("f", pg_array([])),
    ])


ORACLE = (Path(__file__).parent / "sql" / "profile_before_shapes.sql").read_text()


async def _vary(conn: asyncpg.Connection, pks: list[str]) -> None:
    """Beyond api_seed: every probe outcome, reports, odd floats, jsonb, unicode, NULLs."""
    await conn.execute(
        """UPDATE nodes SET color = '#3399ff', addresses = '[{"addr": "1.2.3.4:9735",
             "network": "tcp"}]'::jsonb, alias = 'älias ⚡ "q" \\ ' || chr(10),
             last_update = now() - interval '3 hours'
           WHERE pubkey = $1""", pks[0])
    await conn.execute(
        """UPDATE scores SET pagerank = 1.0 / 3, pagerank_pct = 98, n_eff = 1e-7,
             p_success = 0.1 + 0.2, features = '{"zeta": 0.30000000000000004, "a": [1, 2.5],
             "channels": 2, "capacity": 1e20}'::jsonb, reasons = '["x", "y\\"z"]'::jsonb
           WHERE pubkey = $1""", pks[0])
    await conn.execute("UPDATE scores SET p_grid = ARRAY[0.1 + 0.2, 0, 1e-7, 1] WHERE pubkey = $1",
                       pks[0])
    await conn.execute(
        """INSERT INTO scoring_state (computed_at, grid_amounts_sat, grid_budgets, payer)
           VALUES ('2000-01-01', ARRAY[1000, 100000], ARRAY['tight', 'normal'], 'vantage:02ab')""")
    outcomes = [o.value for o in ProbeOutcome]
    await conn.executemany(
        """INSERT INTO probes (target_pubkey, amount_sat, sent_at, duration_ms, outcome,
             failure_code, failing_hop_index, hop_count, fee_msat, source)
           VALUES ($1, $2, now() - make_interval(mins => $3), $4, $5, $6, $7, $8, $9, $10)""",
        [(pks[i % 3], (1_000, 100_000, 1_000_000)[i % 3], i, 100 + i, outcomes[i % 6],
          None if i % 6 == 0 else "TEMPORARY_CHANNEL_FAILURE", None if i % 2 else i % 4,
          None if i % 5 == 0 else 3, None if i % 7 == 0 else i * 1000,
          ("crawler", "api")[i % 2]) for i in range(40)])
    await conn.executemany(
        """INSERT INTO reports (target_pubkey, outcome, amount_sat, verified, created_at)
           VALUES ($1, $2, $3, $4, now() - make_interval(days => $5))""",
        [(pks[i % 2], ("success", "failure", "timeout")[i % 3], None if i % 4 else 5000,
          i % 3 == 0, i * 9) for i in range(15)])
    await conn.execute(
        """UPDATE channel_policies SET disabled = true, inbound_fee_rate_milli_msat = -25,
             inbound_fee_base_msat = -1 WHERE direction = 1""")
    await conn.execute(
        """UPDATE posteriors SET alpha = 12345678.125, beta = 2.0 / 3, p_success = 1e-5
           WHERE pubkey = $1 AND amount_sat = 1000""", pks[1])


async def test_profile_documents_are_byte_identical_to_the_postgres_rendering(
        db_dsn: str) -> None:
    pks = await seed(db_dsn, nodes=8, scored=6)
    pool = await asyncpg.create_pool(db_dsn, min_size=1, max_size=2)
    assert pool is not None
    try:
        async with pool.acquire() as conn:
            await _vary(conn, pks)
        for pk in pks:
            expected = await pool.fetchval(ORACLE, pk)
            assert await fetch_profile_json(pool, "pubkey", pk) == expected
            assert await fetch_profile_json(pool, "agent_hash", agent_hash(pk)) == expected
        assert await fetch_profile_json(pool, "pubkey", pubkey(99)) is None
    finally:
        await pool.close()
