"""Integration: /api/health and the error envelope over real HTTP (uvicorn)."""

from __future__ import annotations

import httpx

from satrank.api.app import create_app
from satrank.config import Settings
from satrank.db.migrations import latest_version, load_migrations
from tests.live_server import live_server

SETTINGS = Settings.from_environ({"L402_MACAROON_SECRET": "x" * 40})


def test_health_ok_on_migrated_database(db_dsn: str) -> None:
    with live_server(create_app(SETTINGS, db_dsn)) as url:
        response = httpx.get(f"{url}/api/health", timeout=10)
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
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
