"""Binary COPY into numpy against real Postgres: values, empty results, refused layouts."""

from __future__ import annotations

import threading

import asyncpg
import numpy as np
import pytest

from satrank.db import arrays
from satrank.db.arrays import fetch_float8_matrix, parse_float8_copy


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
