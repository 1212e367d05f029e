"""Binary COPY into numpy against real Postgres: values, empty results, refused layouts."""

from __future__ import annotations

import io
import threading

import asyncpg
import numpy as np
import pytest

from satrank.db import arrays
from satrank.db.arrays import fetch_float8_matrix, float8_arrays_copy, parse_float8_copy


async def test_float8_matrix_round_trips_values(db_dsn: str) -> None:
    conn = await asyncpg.connect(db_dsn)
    try:
        m = await fetch_float8_matrix(
            conn, "SELECT g::float8, (g * 0.5)::float8, 'NaN'::float8, -1e300::float8 "
                  "FROM generate_series(1, 1000) g ORDER BY g", 4)
        assert m.shape == (1000, 4)
        assert m[:, 0].tolist() == list(range(1, 1001))
        assert np.allclose(m[:, 1], m[:, 0] * 0.5) and np.isnan(m[:, 2]).all()
        assert (m[:, 3] == -1e300).all()
        empty = await fetch_float8_matrix(conn, "SELECT 1::float8 WHERE false", 1)
        assert empty.shape == (0, 1)
    finally:
        await conn.close()


async def test_float8_arrays_copy_round_trips_every_value(db_dsn: str) -> None:
    rng = np.random.default_rng(3)
    a = rng.normal(size=(500, 16)) * 10.0 ** rng.integers(-300, 300, size=(500, 16))
    a[0, :4] = [np.nan, np.inf, -0.0, 5e-324]
    b = rng.random((500, 3))
    conn = await asyncpg.connect(db_dsn)
    try:
        await conn.execute("CREATE TEMP TABLE t (i int4, a float8[], b float8[])")
        await conn.copy_to_table("t", source=io.BytesIO(float8_arrays_copy(a, b)),
                                 format="binary")
        rows = await conn.fetch("SELECT i, a, b, array_dims(a) AS dims FROM t ORDER BY i")
        await conn.copy_to_table("t", source=io.BytesIO(float8_arrays_copy(
            np.zeros((0, 2)))), format="binary", columns=["i", "a"])
        assert await conn.fetchval("SELECT count(*) FROM t") == 500
    finally:
        await conn.close()
    assert [r["i"] for r in rows] == list(range(500))
    assert {r["dims"] for r in rows} == {"[1:16]"}
    got = np.array([r["a"] for r in rows])
    assert np.array_equal(got, a, equal_nan=True)
    assert np.signbit(got[0, 2]) and got[0, 3] == 5e-324
    assert np.array_equal(np.array([r["b"] for r in rows]), b)
async def test_the_parse_runs_off_the_event_loop(db_dsn: str,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """An api worker reads the whole graph this way while it serves: the numpy parse of
    the stream must not hold its event loop."""
    parsed_on: list[threading.Thread] = []

    def parse(data: bytes, ncols: int) -> np.ndarray:
        parsed_on.append(threading.current_thread())
        return parse_float8_copy(data, ncols)

    monkeypatch.setattr(arrays, "parse_float8_copy", parse)
    conn = await asyncpg.connect(db_dsn)
    try:
        m = await fetch_float8_matrix(conn, "SELECT g::float8 FROM generate_series(1, 3) g", 1)
    finally:
        await conn.close()
    assert m[:, 0].tolist() == [1.0, 2.0, 3.0]
    assert parsed_on and parsed_on[0] is not threading.current_thread()


@pytest.mark.parametrize("query, ncols", [
    ("SELECT NULL::float8, 1::float8", 2),          # a NULL shifts the layout
    ("SELECT 1::float8, 2::float8", 3),             # wrong column count
    ("SELECT 1::int4, 2::int4, 3::int4", 2),        # not float8
])
async def test_float8_matrix_refuses_other_layouts(db_dsn: str, query: str, ncols: int) -> None:
    conn = await asyncpg.connect(db_dsn)
    try:
        with pytest.raises(ValueError):
            await fetch_float8_matrix(conn, query, ncols)
    finally:
        await conn.close()


def test_parse_refuses_non_copy_bytes() -> None:
    with pytest.raises(ValueError):
        parse_float8_copy(b"not a copy stream", 1)
