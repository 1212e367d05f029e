"""Integration: the embedded Postgres lifecycle (start, reuse, stop) through the CLI."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest

from satrank.db.embedded import embedded_postgres, pgdata_path
from tests.cli import run_satrank, satrank_env


@pytest.fixture
def data_dir() -> Iterator[Path]:
    # Not pytest's tmp_path: pgserver opens permissions on every parent of its data dir.
    path = Path(tempfile.mkdtemp(prefix="satrank-embedded-"))
    yield path
    run_satrank("db-stop", env=satrank_env(path))


def _is_running(data_dir: Path) -> bool:
    from pgserver.utils import PostmasterInfo

    info = PostmasterInfo.read_from_pgdata(pgdata_path(data_dir))
    return info is not None and info.is_running()


async def test_start_reuse_and_stop(data_dir: Path) -> None:
    env = satrank_env(data_dir)
    migrate = run_satrank("migrate", env=env)
    assert migrate.returncode == 0, migrate.stderr
    assert migrate.stdout.startswith("applied migrations")
    # migrate started the server and, as its last user, stopped it again.
    assert not _is_running(data_dir)

    again = run_satrank("migrate", env=env)
    assert again.stdout.startswith("nothing to apply"), again.stdout  # same data reused

    url = run_satrank("db-url", env=env)
    assert url.returncode == 0, url.stderr
    dsn = url.stdout.strip()
    assert dsn.startswith("postgresql://")
    assert _is_running(data_dir)  # left running for psql and scripts
    conn = await asyncpg.connect(dsn)
    try:
        assert await conn.fetchval("SELECT max(version) FROM schema_version") >= 1
    finally:
        await conn.close()
    assert run_satrank("db-url", env=env).stdout.strip() == dsn

    stop = run_satrank("db-stop", env=env)
    assert stop.stdout.strip() == "embedded postgres stopped"
    assert not _is_running(data_dir)
    assert run_satrank("db-stop", env=env).stdout.strip() == "embedded postgres was not running"


def test_context_manager_stops_when_done(data_dir: Path) -> None:
    with embedded_postgres(data_dir) as dsn:
        assert dsn.startswith("postgresql://")
        assert _is_running(data_dir)
    assert not _is_running(data_dir)
