"""Fixtures of the registry tests."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from satrank.config import DatabaseSettings
from satrank.db.pool import Pool, create_pool


@pytest.fixture
async def pool(db_dsn: str) -> AsyncIterator[Pool]:
    pool = await create_pool(db_dsn, DatabaseSettings(url=None, pool_min=1, pool_max=8))
    try:
        yield pool
    finally:
        await pool.close()
