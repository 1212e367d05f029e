"""Integration: `satrank healthcheck` exit codes against a real api and a real database."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

from satrank.api.app import create_app
from satrank.config import Settings
from tests.api_seed import seed
from tests.cli import run_satrank, satrank_env
from tests.live_server import live_server

SETTINGS = Settings.from_environ({"L402_MACAROON_SECRET": "s" * 32})


def _closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/api/health"


def test_ok_when_the_api_says_ok(tmp_path: Path, db_dsn: str) -> None:
    asyncio.run(seed(db_dsn))  # fresh crawler rows: /api/health says ok, not degraded
    with live_server(create_app(SETTINGS, db_dsn)) as base:
        result = run_satrank("healthcheck", "--url", f"{base}/api/health",
                             env=satrank_env(tmp_path, DATABASE_URL=db_dsn))
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith(f"status: ok (from {base}/api/health)")


def test_down_when_the_api_reports_an_unmigrated_database(
    tmp_path: Path, empty_db_dsn: str
) -> None:
    with live_server(create_app(SETTINGS, empty_db_dsn)) as base:
        result = run_satrank("healthcheck", "--url", f"{base}/api/health",
                             env=satrank_env(tmp_path, DATABASE_URL=empty_db_dsn))
    assert result.returncode == 2
    assert "status: down" in result.stdout and "reason: schema version None" in result.stdout


def test_without_an_api_the_database_is_checked_directly(tmp_path: Path, db_dsn: str) -> None:
    result = run_satrank("healthcheck", "--url", _closed_port_url(), "--timeout", "2",
                         env=satrank_env(tmp_path, DATABASE_URL=db_dsn))
    assert result.returncode == 2
    assert result.stdout.splitlines() == [
        "status: down (from database)",
        "reason: api not answering",
        "reason: database reachable",
    ]


def test_down_with_reasons_when_nothing_answers(tmp_path: Path, db_dsn: str) -> None:
    missing_db = db_dsn.rsplit("/", 1)[0] + "/no_such_database" + (
        "?" + db_dsn.split("?", 1)[1] if "?" in db_dsn else "")
    result = run_satrank("healthcheck", "--url", _closed_port_url(), "--timeout", "2",
                         env=satrank_env(tmp_path, DATABASE_URL=missing_db))
    assert result.returncode == 2
    assert "reason: database unreachable" in result.stdout
    assert "Traceback" not in result.stderr
