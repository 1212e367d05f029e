"""Integration: /api/health and the error envelope over real HTTP (uvicorn)."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

import asyncpg
import httpx

from satrank.api.app import create_app
from satrank.config import Settings
from satrank.db.migrations import latest_version, load_migrations
from tests.api_seed import seed
from tests.live_server import live_server
from tests.simnet_api import simnet_settings
from tests.simnet_fixture import SimnetHandle

SETTINGS = Settings.from_environ({"L402_MACAROON_SECRET": "x" * 40})


def test_health_degraded_on_empty_migrated_database(db_dsn: str) -> None:
    with live_server(create_app(SETTINGS, db_dsn)) as url:
        response = httpx.get(f"{url}/api/health", timeout=10)
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "degraded"
    assert "graph never synced" in body["reasons"]
    assert "no scores computed yet" in body["reasons"]
    lnd = body["checks"]["lnd"]
    assert lnd["status"] == "not_configured" and "not configured" in lnd["detail"]
    assert "LND_READONLY_MACAROON_PATH" in lnd["detail"]
    assert not any("lnd" in reason for reason in body["reasons"])
    assert body["checks"]["database"]["ok"] is True
    assert body["checks"]["database"]["schemaVersion"] == latest_version(load_migrations())
    assert response.headers["cache-control"] == "no-store"
    assert len(response.headers["x-request-id"]) >= 8


def test_health_down_when_schema_missing(empty_db_dsn: str) -> None:
    with live_server(create_app(SETTINGS, empty_db_dsn)) as url:
        response = httpx.get(f"{url}/api/health", timeout=10)
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "down"
    assert body["checks"]["database"]["schemaVersion"] is None


def test_unknown_route_and_method_use_the_envelope(db_dsn: str) -> None:
    with live_server(create_app(SETTINGS, db_dsn)) as url:
        missing = httpx.get(f"{url}/api/nope", headers={"X-Request-Id": "abc-123"}, timeout=10)
        wrong = httpx.delete(f"{url}/api/health", timeout=10)
    assert missing.status_code == 404
    assert missing.json() == {
        "error": {"code": "NOT_FOUND", "message": "Not Found"},
        "requestId": "abc-123",
    }
    assert missing.headers["x-request-id"] == "abc-123"
    assert wrong.status_code == 405
    assert wrong.json()["error"]["code"] == "METHOD_NOT_ALLOWED"
    assert wrong.json()["requestId"] == wrong.headers["x-request-id"]


def test_hostile_request_id_is_replaced(db_dsn: str) -> None:
    with live_server(create_app(SETTINGS, db_dsn)) as url:
        response = httpx.get(
            f"{url}/api/health", headers={"X-Request-Id": "x\tinjected"}, timeout=10)
    assert response.headers["x-request-id"] != "x\tinjected"


def test_health_ok_with_fresh_crawler_data(db_dsn: str, tmp_path: Path) -> None:
    asyncio.run(seed(db_dsn))
    settings = Settings.from_environ({"L402_MACAROON_SECRET": "x" * 40,
                                      "SATRANK_DATA_DIR": str(tmp_path)})
    with live_server(create_app(settings, db_dsn)) as url:
        body = httpx.get(f"{url}/api/health", timeout=10).json()
    assert body["status"] == "ok", body["reasons"]
    checks = body["checks"]
    assert checks["graph"]["stale"] is False and checks["scoring"]["stale"] is False
    assert checks["probes"]["lastHour"] == 5
    assert checks["nostrOutbox"] == {"enabled": False, "pending": 0, "lagSeconds": 0}
    assert checks["disk"]["freeBytes"] > 0


def _closed_port() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"127.0.0.1:{s.getsockname()[1]}"


def test_health_reports_lnd_and_stale_scores(db_dsn: str, simnet: SimnetHandle,
                                             tmp_path: Path) -> None:
    """GetInfo through the app's own readonly backend, over gRPC + TLS to simnet; then the
    same macaroon and certificate pointed at a closed port."""
    asyncio.run(seed(db_dsn))

    async def age_scores() -> None:
        conn = await asyncpg.connect(db_dsn)
        await conn.execute("UPDATE scores SET computed_at = now() - interval '3 hours'")
        await conn.close()

    base = {"L402_MACAROON_SECRET": "x" * 40, "SATRANK_DATA_DIR": str(tmp_path)}
    with live_server(create_app(simnet_settings(simnet, base), db_dsn)) as url:
        fresh = httpx.get(f"{url}/api/health", timeout=10).json()
        asyncio.run(age_scores())
    with live_server(create_app(simnet_settings(simnet, base, host=_closed_port()),
                                db_dsn)) as url:
        down = httpx.get(f"{url}/api/health", timeout=10)
        again = httpx.get(f"{url}/api/health", timeout=10).json()
    assert fresh["status"] == "ok", fresh["reasons"]
    lnd = fresh["checks"]["lnd"]
    assert lnd["status"] == "ok" and lnd["syncedToChain"] is True
    assert lnd["blockHeight"] > 0 and lnd["version"]
    assert lnd["pubkey"] == simnet.oracle_pubkey
    assert isinstance(lnd["activeChannels"], int) and lnd["activeChannels"] > 0
    assert down.status_code == 200  # lnd down degrades the api, never takes it down
    body = down.json()
    assert body["status"] == "degraded"
    assert body["checks"]["lnd"]["status"] == "unreachable"
    assert "lnd unreachable" in body["reasons"]
    assert any(r.startswith("scores are stale") for r in body["reasons"])
    assert again["checks"]["lnd"] == body["checks"]["lnd"]


def test_health_reports_nostr_outbox_lag(db_dsn: str, tmp_path: Path) -> None:
    asyncio.run(seed(db_dsn))

    async def pending_rows() -> None:
        conn = await asyncpg.connect(db_dsn)
        await conn.execute(
            """INSERT INTO nostr_outbox (kind, subject, fingerprint, content, created_at)
               VALUES (30382, 'a', 'f1', '{}', now() - interval '20 minutes'),
                      (30382, 'b', 'f2', '{}', now())""")
        await conn.close()

    asyncio.run(pending_rows())
    settings = Settings.from_environ({"L402_MACAROON_SECRET": "x" * 40,
                                      "SATRANK_DATA_DIR": str(tmp_path),
                                      "NOSTR_RELAYS": "ws://127.0.0.1:1"})
    with live_server(create_app(settings, db_dsn)) as url:
        body = httpx.get(f"{url}/api/health", timeout=10).json()
    outbox = body["checks"]["nostrOutbox"]
    assert outbox["enabled"] is True and outbox["pending"] == 2
    assert 20 * 60 <= outbox["lagSeconds"] < 60 * 60
    assert body["status"] == "degraded"
    assert any(r.startswith("nostr outbox lags") for r in body["reasons"])
