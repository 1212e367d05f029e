"""GET /api/health: is this api able to serve? 200 when ok or degraded, 503 when down."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse

from satrank import __version__
from satrank.db.health import check_database
from satrank.db.migrations import latest_version, load_migrations


async def health(request: Request) -> JSONResponse:
    expected = latest_version(load_migrations())
    db = await check_database(request.app.state.pool)
    reasons: list[str] = []
    if not db.reachable:
        reasons.append("database unreachable")
    elif db.schema_version != expected:
        reasons.append(f"schema version {db.schema_version}, expected {expected}")
    status = "down" if reasons else "ok"
    body = {
        "status": status,
        "version": __version__,
        "reasons": reasons,
        "checks": {
            "database": {
                "ok": db.reachable,
                "schemaVersion": db.schema_version,
                "expectedSchemaVersion": expected,
            },
        },
    }
    return JSONResponse(
        body,
        status_code=503 if status == "down" else 200,
        headers={"Cache-Control": "no-store"},
    )
