"""Numbered SQL migrations (`sql/NNN_name.sql`), applied in order under an advisory lock.

Each file runs in its own transaction together with its row in `schema_version`, so a
crash leaves either the whole migration or none of it. Two processes starting together
serialize on the lock; the second finds nothing left to do. A database whose schema is
newer than the files this code knows is refused rather than guessed at.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

import asyncpg

SQL_DIR = Path(__file__).resolve().parents[2] / "sql"
# Arbitrary but fixed: the advisory lock key every SatRank process uses for migrations.
MIGRATION_LOCK_KEY = 0x5A7_2A4B_0001
_FILE_NAME = re.compile(r"^(\d{3})_([a-z0-9_]+)\.sql$")


class MigrationError(Exception):
    pass


class SchemaTooNew(MigrationError):
    """The database was migrated by a newer SatRank than this one."""


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


@dataclass(frozen=True)
class MigrationReport:
    applied: tuple[int, ...]
    current_version: int


def load_migrations(sql_dir: Path = SQL_DIR) -> list[Migration]:
    """Every `NNN_name.sql` in `sql_dir`, sorted by version; duplicates are an error."""
    migrations: dict[int, Migration] = {}
    for path in sorted(sql_dir.glob("*.sql")):
        match = _FILE_NAME.match(path.name)
        if match is None:
            raise MigrationError(f"migration file name must look like 001_name.sql: {path.name}")
        version = int(match.group(1))
        if version in migrations:
            raise MigrationError(f"two migrations share version {version}")
        migrations[version] = Migration(version, match.group(2), path.read_text())
    return [migrations[v] for v in sorted(migrations)]


def latest_version(migrations: list[Migration]) -> int:
    return migrations[-1].version if migrations else 0


async def apply_migrations(
    conn: asyncpg.Connection, migrations: list[Migration] | None = None
) -> MigrationReport:
    """Apply what is pending; raise `SchemaTooNew` if the database is ahead of the code."""
    migrations = load_migrations() if migrations is None else migrations
    await conn.execute("SELECT pg_advisory_lock($1)", MIGRATION_LOCK_KEY)
    try:
        await conn.execute(
            """CREATE TABLE IF NOT EXISTS schema_version (
                   version integer PRIMARY KEY,
                   name text NOT NULL,
                   checksum text NOT NULL,
                   applied_at timestamptz NOT NULL DEFAULT now())"""
        )
        applied = {r["version"]: r["checksum"] for r in
                   await conn.fetch("SELECT version, checksum FROM schema_version")}
        known = latest_version(migrations)
        newest = max(applied, default=0)
        if newest > known:
            raise SchemaTooNew(
                f"database schema is at version {newest} but this SatRank knows only up to "
                f"{known}: upgrade SatRank instead of running an older release"
            )
        done: list[int] = []
        for migration in migrations:
            if migration.version in applied:
                continue
            async with conn.transaction():
                await conn.execute(migration.sql)
                await conn.execute(
                    "INSERT INTO schema_version (version, name, checksum) VALUES ($1, $2, $3)",
                    migration.version, migration.name, migration.checksum,
                )
            done.append(migration.version)
        return MigrationReport(applied=tuple(done), current_version=max(newest, known))
    finally:
        await conn.execute("SELECT pg_advisory_unlock($1)", MIGRATION_LOCK_KEY)


async def current_schema_version(conn: asyncpg.Connection) -> int | None:
    """The highest applied version, or None when the database was never migrated."""
    exists = await conn.fetchval("SELECT to_regclass('schema_version') IS NOT NULL")
    if not exists:
        return None
    version = await conn.fetchval("SELECT max(version) FROM schema_version")
    return int(version) if version is not None else None


async def migrate_dsn(dsn: str) -> MigrationReport:
    conn = await asyncpg.connect(dsn, timeout=10)
    try:
        return await apply_migrations(conn)
    finally:
        await conn.close()
