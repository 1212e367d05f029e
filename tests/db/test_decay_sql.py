"""Integration: the evidence decay applied in SQL (db/probes) is scoring's decay_factor."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import asyncpg
import numpy as np
import pytest

from satrank.db.probes import decay_sql
from satrank.scoring.evidence import decay_factor

NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)


async def test_sql_decay_equals_python_decay_on_many_ages(db_dsn: str) -> None:
    rng = np.random.default_rng(85)
    ages_s = np.concatenate([
        [0.0, -1.0, -86_400.0, 1e-6, 86_400.0, 7 * 86_400.0, 30 * 86_400.0, 3e9],
        rng.uniform(-3600.0, 60 * 86_400.0, 3_000),
        np.round(rng.uniform(0.0, 90 * 86_400.0, 1_000), 6),
    ])
    half_lives = [1.0, 3600.0, 7 * 86_400.0, 12_345.678, 90 * 86_400.0]
    # microsecond timestamps: the ages Python sees are the ages Postgres sees
    sent = [NOW - timedelta(microseconds=round(a * 1e6)) for a in ages_s]
    exact_ages = np.array([(NOW - t).total_seconds() for t in sent])
    conn = await asyncpg.connect(db_dsn)
    try:
        for half_life in half_lives:
            rows = await conn.fetch(
                f"SELECT {decay_sql('t')} AS d"
                " FROM unnest($3::timestamptz[]) WITH ORDINALITY AS u(t, i) ORDER BY i",
                NOW, half_life, sent)
            got = np.array([r["d"] for r in rows])
            want = decay_factor(exact_ages, half_life)
            assert got == pytest.approx(want, rel=1e-12, abs=1e-300)
    finally:
        await conn.close()


async def test_sql_decay_is_float_math(db_dsn: str) -> None:
    """float8 all through: an exact-decimal power() took ~50x longer per evidence row
    (200k probes: seconds instead of ~0.2 s, bench/RESULTS.md)."""
    conn = await asyncpg.connect(db_dsn)
    try:
        kind = await conn.fetchval(
            f"SELECT pg_typeof({decay_sql('t')})::text FROM (SELECT $3::timestamptz AS t) s",
            NOW, 3600.0, NOW - timedelta(hours=1))
        assert kind == "double precision"
    finally:
        await conn.close()
