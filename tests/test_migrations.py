"""Integration: the migration runner against real Postgres."""

from __future__ import annotations

import asyncio
from pathlib import Path

import asyncpg
import pytest

from satrank.db.migrations import (
    SchemaTooNew,
    apply_migrations,
    current_schema_version,
    latest_version,
    load_migrations,
)


async def test_fresh_database_gets_every_migration(empty_db_dsn: str) -> None:
    conn = await asyncpg.connect(empty_db_dsn)
    try:
        assert await current_schema_version(conn) is None
        report = await apply_migrations(conn)
        expected = [m.version for m in load_migrations()]
        assert list(report.applied) == expected
        assert await current_schema_version(conn) == latest_version(load_migrations())
        tables = {r["tablename"] for r in await conn.fetch(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")}
        assert {"nodes", "channels", "channel_policies", "channel_policy_history", "probes",
                "posteriors", "scores", "score_history", "l402_tokens", "reports",
                "nostr_outbox", "schema_version"} <= tables
    finally:
        await conn.close()


async def test_second_run_changes_nothing(db_dsn: str) -> None:
    conn = await asyncpg.connect(db_dsn)
    try:
        before = await conn.fetch("SELECT version, applied_at FROM schema_version ORDER BY 1")
        report = await apply_migrations(conn)
        after = await conn.fetch("SELECT version, applied_at FROM schema_version ORDER BY 1")
        assert report.applied == ()
        assert before == after
    finally:
        await conn.close()


async def test_concurrent_starts_apply_each_migration_once(empty_db_dsn: str) -> None:
    conns = [await asyncpg.connect(empty_db_dsn) for _ in range(4)]
    try:
        reports = await asyncio.gather(*(apply_migrations(c) for c in conns))
        applied = [v for r in reports for v in r.applied]
        assert sorted(applied) == [m.version for m in load_migrations()]
        rows = await conns[0].fetchval("SELECT count(*) FROM schema_version")
        assert rows == len(load_migrations())
    finally:
        for c in conns:
            await c.close()


async def test_newer_schema_is_refused(db_dsn: str) -> None:
    conn = await asyncpg.connect(db_dsn)
    try:
        await conn.execute(
            "INSERT INTO schema_version (version, name, checksum) VALUES (999, 'future', 'x')")
        with pytest.raises(SchemaTooNew, match="version 999"):
            await apply_migrations(conn)
    finally:
        await conn.close()


async def test_failing_migration_leaves_nothing_behind(empty_db_dsn: str, tmp_path: Path) -> None:
    (tmp_path / "001_ok.sql").write_text("CREATE TABLE a (x int);")
    (tmp_path / "002_broken.sql").write_text("CREATE TABLE b (x int); SELECT nonsense_fn();")
    conn = await asyncpg.connect(empty_db_dsn)
    try:
        with pytest.raises(asyncpg.UndefinedFunctionError):
            await apply_migrations(conn, load_migrations(tmp_path))
        assert await current_schema_version(conn) == 1
        assert await conn.fetchval("SELECT to_regclass('b')") is None
        # The lock was released: a fixed migration set can run at once.
        (tmp_path / "002_broken.sql").write_text("CREATE TABLE b (x int);")
        report = await apply_migrations(conn, load_migrations(tmp_path))
        assert report.applied == (2,)
    finally:
        await conn.close()


def test_badly_named_file_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "1_init.sql").write_text("")
    with pytest.raises(Exception, match="001_name.sql"):
        load_migrations(tmp_path)
