"""Shared fixtures: one Postgres per session, a fresh database per test, live HTTP servers.

Postgres is the embedded pgserver in a temp dir, or the server of DATABASE_URL when set.
Each test database is cloned from a migrated template, so a test starts from the full
schema in a few milliseconds and never sees another test's rows.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from satrank.db.admin import create_database, drop_database
from satrank.db.embedded import embedded_postgres
from satrank.db.migrations import migrate_dsn

TEMPLATE_DB = "satrank_template"
_counter = itertools.count()


@pytest.fixture(scope="session")
def pg_admin_dsn() -> Iterator[str]:
    """DSN of a maintenance database on the session's Postgres server."""
    if os.environ.get("DATABASE_URL"):
        yield os.environ["DATABASE_URL"]
        return
    # Under a temp dir: pgserver, as root, opens permissions on every parent of its data dir.
    data_dir = Path(tempfile.mkdtemp(prefix="satrank-test-pg-"))
    try:
        with embedded_postgres(data_dir) as dsn:
            yield dsn
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


@pytest.fixture(scope="session")
def template_dsn(pg_admin_dsn: str) -> str:
    async def build() -> str:
        await drop_database(pg_admin_dsn, TEMPLATE_DB)
        dsn = await create_database(pg_admin_dsn, TEMPLATE_DB)
        await migrate_dsn(dsn)
        return dsn

    return asyncio.run(build())


@pytest.fixture
def db_dsn(pg_admin_dsn: str, template_dsn: str) -> Iterator[str]:
    """A fresh, fully migrated database for one test."""
    name = f"satrank_t{os.getpid()}_{next(_counter)}"
    dsn = asyncio.run(create_database(pg_admin_dsn, name, template=TEMPLATE_DB))
    yield dsn
    asyncio.run(drop_database(pg_admin_dsn, name))


@pytest.fixture
def empty_db_dsn(pg_admin_dsn: str) -> Iterator[str]:
    """A fresh database with no schema at all."""
    name = f"satrank_e{os.getpid()}_{next(_counter)}"
    dsn = asyncio.run(create_database(pg_admin_dsn, name))
    yield dsn
    asyncio.run(drop_database(pg_admin_dsn, name))


from tests.l402_simnet import simnet_app  # noqa: E402,F401  (fixture: api on simnet)
from tests.simnet_fixture import simnet, simnet_mainnet  # noqa: E402,F401  (session fixtures)
