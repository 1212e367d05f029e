"""Server-level operations: DSN rewriting, creating and dropping databases."""

from __future__ import annotations

import re
from urllib.parse import urlsplit, urlunsplit

import asyncpg

_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def dsn_with_database(dsn: str, database: str) -> str:
    """The same server and credentials, another database."""
    parts = urlsplit(dsn)
    return urlunsplit(parts._replace(path="/" + database))


def _checked(name: str) -> str:
    if not _IDENTIFIER.match(name):
        raise ValueError(f"not a plain database name: {name!r}")
    return name


async def create_database(admin_dsn: str, name: str, *, template: str | None = None) -> str:
    """Create `name` (optionally as a copy of `template`); return its DSN."""
    conn = await asyncpg.connect(admin_dsn, timeout=10)
    try:
        sql = f"CREATE DATABASE {_checked(name)}"
        if template is not None:
            sql += f" TEMPLATE {_checked(template)}"
        await conn.execute(sql)
    finally:
        await conn.close()
    return dsn_with_database(admin_dsn, name)


async def drop_database(admin_dsn: str, name: str) -> None:
    conn = await asyncpg.connect(admin_dsn, timeout=10)
    try:
        await conn.execute(f"DROP DATABASE IF EXISTS {_checked(name)} WITH (FORCE)")
    finally:
        await conn.close()
