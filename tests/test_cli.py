"""Integration: the `satrank` command line against real Postgres (DATABASE_URL mode)."""

from __future__ import annotations

from pathlib import Path

import asyncpg
import pytest

from satrank import __version__
from satrank.db.migrations import latest_version, load_migrations
from tests.cli import run_satrank, satrank_env, start_satrank


def test_version_and_help(tmp_path: Path) -> None:
    env = satrank_env(tmp_path)
    version = run_satrank("--version", env=env)
    assert version.returncode == 0
    assert version.stdout.strip() == f"satrank {__version__}"
    help_ = run_satrank("--help", env=env)
    assert help_.returncode == 0
    for command in ("serve", "migrate", "db-url"):
        assert command in help_.stdout


def test_migrate_twice_reports_nothing_applied(empty_db_dsn: str, tmp_path: Path) -> None:
    env = satrank_env(tmp_path, DATABASE_URL=empty_db_dsn)
    first = run_satrank("migrate", env=env)
    assert first.returncode == 0, first.stderr
    assert first.stdout.startswith("applied migrations 001")
    second = run_satrank("migrate", env=env)
    assert second.returncode == 0, second.stderr
    assert second.stdout.startswith("nothing to apply")
    assert f"schema version {latest_version(load_migrations())}" in second.stdout


async def test_two_migrate_processes_at_once(empty_db_dsn: str, tmp_path: Path) -> None:
    env = satrank_env(tmp_path, DATABASE_URL=empty_db_dsn)
    procs = [start_satrank("migrate", env=env) for _ in range(2)]
    outputs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outputs
    stdouts = sorted(out for out, _ in outputs)
    assert stdouts[0].startswith("applied migrations")
    assert stdouts[1].startswith("nothing to apply")
    conn = await asyncpg.connect(empty_db_dsn)
    try:
        rows = await conn.fetch("SELECT version FROM schema_version ORDER BY version")
        assert [r["version"] for r in rows] == [m.version for m in load_migrations()]
    finally:
        await conn.close()


def test_db_url_prints_the_configured_url(tmp_path: Path) -> None:
    url = "postgresql://satrank@db.invalid/satrank"
    result = run_satrank("db-url", env=satrank_env(tmp_path, DATABASE_URL=url))
    assert result.returncode == 0
    assert result.stdout.strip() == url


def test_config_error_exits_2_with_the_variable_named(tmp_path: Path) -> None:
    env = satrank_env(tmp_path, PORT="not-a-port")
    result = run_satrank("migrate", env=env)
    assert result.returncode == 2
    assert "PORT must be a whole number" in result.stderr
    assert "Traceback" not in result.stderr


def test_production_without_secret_refuses_to_start(tmp_path: Path) -> None:
    env = satrank_env(tmp_path, SATRANK_ENV="production")
    result = run_satrank("serve", env=env)
    assert result.returncode == 2
    assert "L402_MACAROON_SECRET is required" in result.stderr


def test_worker_factory_needs_the_dsn_from_serve(tmp_path: Path) -> None:
    from satrank.api.app import app_from_environ
    from satrank.api.state import app_state

    env = {"L402_MACAROON_SECRET": "x" * 40, "SATRANK_DATA_DIR": str(tmp_path),
           "RATE_LIMIT_SEARCH_BURST": "3"}
    with pytest.raises(RuntimeError, match="SATRANK_SERVE_DSN"):
        app_from_environ(env)
    app = app_from_environ({**env, "SATRANK_SERVE_DSN": "postgresql:///x"})
    assert app_state(app).api.free_rate.search_burst == 3  # read from that environ
