"""Integration: driver failures reach callers as one `DatabaseError` tree."""

from __future__ import annotations

import socket

import asyncpg
import pytest

from satrank.db.errors import (
    DatabaseError,
    DatabaseRejected,
    DatabaseTimeout,
    DatabaseUnavailable,
    database_errors,
    translate,
)


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


async def test_refused_connection_is_unavailable() -> None:
    with pytest.raises(DatabaseUnavailable) as caught:
        async with database_errors():
            await asyncpg.connect(host="127.0.0.1", port=_closed_port(), user="x",
                                  database="x", timeout=5)
    assert isinstance(caught.value.__cause__, OSError)


async def test_bad_sql_is_rejected_and_a_statement_timeout_is_a_timeout(db_dsn: str) -> None:
    pool = await asyncpg.create_pool(db_dsn, min_size=1, max_size=1)
    assert pool is not None
    try:
        with pytest.raises(DatabaseRejected):
            async with database_errors(), pool.acquire() as conn:
                await conn.execute("SELECT * FROM no_such_table")
        with pytest.raises(DatabaseTimeout):
            async with database_errors(), pool.acquire() as conn:
                await conn.execute("SET statement_timeout = 10; SELECT pg_sleep(2)")
        with pytest.raises(DatabaseTimeout):
            with database_errors():
                await pool.fetchval("SELECT pg_sleep(2)", timeout=0.05)
    finally:
        await pool.close()
    with pytest.raises(DatabaseUnavailable):
        with database_errors():
            await pool.fetchval("SELECT 1")  # the pool is closed


def test_the_tree_and_what_is_left_alone() -> None:
    assert issubclass(DatabaseTimeout, DatabaseUnavailable)
    assert issubclass(DatabaseUnavailable, DatabaseError)
    assert issubclass(DatabaseRejected, DatabaseError)
    assert translate(ValueError("not ours")) is None
    # a connection broken mid-statement, used again while Postgres restarts
    broken = asyncpg.InternalClientError("cannot switch to state 12; another operation "
                                         "(2) is in progress")
    assert isinstance(translate(broken), DatabaseUnavailable)
    already = DatabaseRejected("x")
    assert translate(already) is already
    with pytest.raises(ValueError), database_errors():
        raise ValueError("passes through unchanged")
