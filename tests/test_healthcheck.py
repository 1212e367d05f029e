"""Integration: `satrank healthcheck` exit codes against a real api and a real database;
`--challenge` against a real api minting real invoices on simnet."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

from satrank.api.app import create_app
from satrank.config import Settings
from tests.api_seed import seed
from tests.cli import run_satrank, satrank_env
from tests.l402_simnet import SimnetApp
from tests.live_server import live_server
from tests.simnet_fixture import SimnetHandle

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


def test_challenge_check_passes_against_the_api_on_simnet(
    tmp_path: Path, simnet_app: SimnetApp
) -> None:
    """A real challenge minted by the api through simnet's oracle node: decodes, signed by
    the oracle (learned from LND's GetInfo), 21 credits x 1 sat, not paid."""
    metrics = tmp_path / "challenge.prom"
    env = satrank_env(tmp_path, DATABASE_URL=simnet_app.dsn,
                      **simnet_app.simnet.oracle_lnd_env())
    result = run_satrank("healthcheck", "--url", f"{simnet_app.base}/api/health",
                         "--challenge", "--metrics-file", str(metrics), env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert (f"challenge: ok (21 sat invoice from {simnet_app.base}/api/profile/02"
            in result.stdout), result.stdout
    assert "satrank_healthcheck_challenge_ok 1.0" in metrics.read_text()


def test_challenge_check_fails_when_another_node_signs(
    tmp_path: Path, simnet_app: SimnetApp
) -> None:
    """The api's invoices come from a node that is not ours (wrong LND or macaroon)."""
    metrics = tmp_path / "challenge.prom"
    env = satrank_env(tmp_path, DATABASE_URL=simnet_app.dsn)
    result = run_satrank("healthcheck", "--url", f"{simnet_app.base}/api/health",
                         "--challenge", "--node-pubkey", simnet_app.simnet.customer_pubkey,
                         "--metrics-file", str(metrics), env=env)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "challenge: FAILED" in result.stdout
    assert "not by our node" in result.stdout
    assert "satrank_healthcheck_challenge_ok 0.0" in metrics.read_text()


def test_challenge_check_fails_while_health_is_green_without_lnd(
    tmp_path: Path, db_dsn: str, simnet: SimnetHandle
) -> None:
    """The api cannot reach its LND: /api/health without a readonly macaroon stays ok,
    but no challenge can be minted and the check says so (exit 2)."""
    asyncio.run(seed(db_dsn))
    settings = Settings.from_environ({"L402_MACAROON_SECRET": "s" * 32,
                                      "LND_GRPC_HOST": _closed_port_url().split("/")[2],
                                      "LND_TLS_CERT_PATH": str(simnet.oracle_dir / "tls.cert"),
                                      "LND_INVOICE_MACAROON_PATH":
                                      str(simnet.oracle_dir / "invoice.macaroon")})
    with live_server(create_app(settings, db_dsn)) as base:
        result = run_satrank("healthcheck", "--url", f"{base}/api/health", "--challenge",
                             "--node-pubkey", simnet.oracle_pubkey, "--timeout", "20",
                             env=satrank_env(tmp_path, DATABASE_URL=db_dsn))
    assert result.stdout.startswith("status: ok"), result.stdout
    assert result.returncode == 2
    assert "reason: challenge: expected 402, got 503" in result.stdout
