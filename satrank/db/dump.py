"""pg_dump / pg_restore and the table facts a backup records and a restore verifies.

Tool choice: pg_dump refuses a server newer than itself, and pg_restore must be at least as
new as the pg_dump that wrote the archive. So the tool is the first of (PATH's, pgserver's
bundled PostgreSQL 16) whose major version reaches what is needed.

Passwords never go on a command line (visible in `ps`): they travel in PGPASSWORD.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import warnings
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from satrank.db.migrations import current_schema_version

DUMP_TIMEOUT_S = 6 * 3600.0
CONNECT_TIMEOUT_S = 10.0
_VERSION = re.compile(r"\(PostgreSQL\)\s+(\d+)")
# Tables of the application schema; system schemas never count.
_USER_TABLES = """
    SELECT n.nspname AS schema, c.relname AS name
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE c.relkind IN ('r', 'p')
       AND n.nspname NOT IN ('pg_catalog', 'information_schema')
       AND n.nspname NOT LIKE 'pg_toast%' AND n.nspname NOT LIKE 'pg_temp%'
     ORDER BY 1, 2"""
_PRIMARY_KEY = """
    SELECT a.attname FROM pg_index i
      JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
     WHERE i.indrelid = $1::regclass AND i.indisprimary
     ORDER BY array_position(i.indkey, a.attnum)"""


class DumpError(Exception):
    """pg_dump/pg_restore could not run or failed; the message says what to do."""


def tool_major_version(tool: Path) -> int:
    out = subprocess.run(
        [str(tool), "--version"], capture_output=True, text=True, timeout=30, check=True
    ).stdout
    match = _VERSION.search(out)
    if match is None:
        raise DumpError(f"cannot read the version of {tool}: {out.strip()!r}")
    return int(match.group(1))


def bundled_bin_dir() -> Path:
    with warnings.catch_warnings():  # pgserver warns about XDG_RUNTIME_DIR on import
        warnings.simplefilter("ignore")
        from pgserver._commands import POSTGRES_BIN_PATH
    return Path(POSTGRES_BIN_PATH)


def find_pg_tool(name: str, min_major: int) -> Path:
    """`name` (pg_dump, pg_restore) from PATH or pgserver, whichever is new enough."""
    candidates = [Path(p) for p in (shutil.which(name),) if p]
    candidates.append(bundled_bin_dir() / name)
    seen: list[str] = []
    for tool in candidates:
        if not tool.exists():
            continue
        major = tool_major_version(tool)
        if major >= min_major:
            return tool
        seen.append(f"{tool} is {major}")
    raise DumpError(
        f"no {name} of PostgreSQL {min_major} or newer ({'; '.join(seen) or 'none found'}): "
        f"install postgresql-client-{min_major}"
    )


def libpq_target(dsn: str) -> tuple[str, dict[str, str]]:
    """The DSN without its password, and the environment that carries the password."""
    parts = urlsplit(dsn)
    env = dict(os.environ)
    if parts.password:
        env["PGPASSWORD"] = parts.password
        host = parts.netloc.rpartition("@")[2]
        user = f"{parts.username}@" if parts.username else ""
        parts = parts._replace(netloc=user + host)
    return urlunsplit(parts), env


def _run(args: list[str], env: dict[str, str], what: str, timeout_s: float) -> None:
    try:
        result = subprocess.run(
            args, env=env, capture_output=True, text=True, timeout=timeout_s, check=False
        )
    except subprocess.TimeoutExpired as exc:
        raise DumpError(f"{what} did not finish within {timeout_s:.0f} s") from exc
    if result.returncode != 0:
        detail = result.stderr.strip().splitlines()[-5:]
        raise DumpError(f"{what} failed (exit {result.returncode}): " + " | ".join(detail))


def run_pg_dump(tool: Path, dsn: str, out: Path, *, timeout_s: float = DUMP_TIMEOUT_S) -> None:
    """Custom-format dump (compressed, restorable table by table) of the whole database."""
    target, env = libpq_target(dsn)
    _run(
        [str(tool), "--format=custom", "--no-owner", "--no-privileges",
         f"--file={out}", f"--dbname={target}"],
        env, "pg_dump", timeout_s,
    )


def run_pg_restore(
    tool: Path, dsn: str, archive: Path, *, timeout_s: float = DUMP_TIMEOUT_S
) -> None:
    """Restore in one transaction: a failure leaves the target database as empty as before."""
    target, env = libpq_target(dsn)
    _run(
        [str(tool), "--no-owner", "--no-privileges", "--exit-on-error",
         "--single-transaction", f"--dbname={target}", str(archive)],
        env, "pg_restore", timeout_s,
    )


async def _connect(dsn: str) -> asyncpg.Connection:
    return await asyncpg.connect(dsn, timeout=CONNECT_TIMEOUT_S)


async def server_major_version(dsn: str) -> int:
    conn = await _connect(dsn)
    try:
        return int(await conn.fetchval("SHOW server_version_num")) // 10000
    finally:
        await conn.close()


async def schema_version_of(dsn: str) -> int | None:
    conn = await _connect(dsn)
    try:
        return await current_schema_version(conn)
    finally:
        await conn.close()


async def user_tables(dsn: str) -> list[str]:
    """Qualified names (schema.table) of every application table; [] means empty."""
    conn = await _connect(dsn)
    try:
        return [f"{r['schema']}.{r['name']}" for r in await conn.fetch(_USER_TABLES)]
    finally:
        await conn.close()


def _quoted(qualified: str) -> str:
    schema, name = qualified.split(".", 1)
    return '"' + schema.replace('"', '""') + '"."' + name.replace('"', '""') + '"'


async def table_row_counts(dsn: str) -> dict[str, int]:
    """Exact row count of every application table, in one statement."""
    tables = await user_tables(dsn)
    if not tables:
        return {}
    conn = await _connect(dsn)
    try:
        sql = " UNION ALL ".join(
            f"SELECT {i} AS i, count(*) AS n FROM {_quoted(t)}" for i, t in enumerate(tables)
        )
        rows = await conn.fetch(sql)
        return {tables[r["i"]]: int(r["n"]) for r in rows}
    finally:
        await conn.close()


async def table_checksums(dsn: str) -> dict[str, str]:
    """md5 of every table's rows as text, in primary-key order (row text if none)."""
    tables = await user_tables(dsn)
    conn = await _connect(dsn)
    try:
        sums: dict[str, str] = {}
        for table in tables:
            keys = [r["attname"] for r in await conn.fetch(_PRIMARY_KEY, _quoted(table))]
            order = ", ".join('t."' + k.replace('"', '""') + '"' for k in keys) or "t::text"
            sums[table] = await conn.fetchval(
                f"SELECT md5(coalesce(string_agg(t::text, E'\\n' ORDER BY {order}), '')) "
                f"FROM {_quoted(table)} t"
            )
        return sums
    finally:
        await conn.close()
