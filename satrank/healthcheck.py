"""`satrank healthcheck`: one verdict for cron, systemd timers and external monitors.

Asks the running api's /api/health over HTTP (with a timeout); when no api answers, checks
the database directly so a monitor can tell "api down" from "everything down".
Exit codes: 0 ok, 1 degraded, 2 down or unreachable. Reasons go to stdout, one per line.
"""

from __future__ import annotations

import asyncio
import json
import urllib.error
import urllib.request
from dataclasses import dataclass, field

from satrank.config import DatabaseSettings
from satrank.db.health import check_database
from satrank.db.migrations import latest_version, load_migrations
from satrank.db.pool import create_pool

DEFAULT_TIMEOUT_S = 5.0
EXIT_CODES = {"ok": 0, "degraded": 1, "down": 2}


@dataclass(frozen=True)
class HealthVerdict:
    status: str  # ok | degraded | down
    source: str  # what was asked: the api URL or the database
    reasons: list[str] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        return EXIT_CODES.get(self.status, 2)

    def lines(self) -> list[str]:
        return [f"status: {self.status} (from {self.source})"] + [
            f"reason: {r}" for r in self.reasons
        ]


def health_url(host: str, port: int) -> str:
    # A server bound to every address is reached on loopback.
    shown = "127.0.0.1" if host in ("0.0.0.0", "", "::") else host
    return f"http://{shown}:{port}/api/health"


def ask_api(url: str, timeout_s: float = DEFAULT_TIMEOUT_S) -> HealthVerdict | None:
    """The api's own verdict, or None when nothing answers at `url` (refused, timeout)."""
    request = urllib.request.Request(url, headers={"Accept": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:  # noqa: S310
            body = response.read()
    except urllib.error.HTTPError as exc:  # 503 still carries the health document
        body = exc.read()
    except (urllib.error.URLError, TimeoutError, ConnectionError):
        return None
    try:
        document = json.loads(body)
        status = str(document["status"])
        reasons = [str(r) for r in document.get("reasons", [])]
    except (ValueError, KeyError, TypeError):
        return HealthVerdict("down", url, ["the api answered without a health document"])
    if status not in EXIT_CODES:
        return HealthVerdict("down", url, [f"unknown status {status!r}"])
    return HealthVerdict(status, url, reasons)


async def _database_verdict(dsn: str, timeout_s: float) -> HealthVerdict:
    try:
        pool = await asyncio.wait_for(
            create_pool(dsn, DatabaseSettings(url=None, pool_min=1, pool_max=1)), timeout_s
        )
    except Exception as exc:  # asyncpg's error types stay in db/; any failure here means down
        return HealthVerdict("down", "database", [f"database unreachable ({type(exc).__name__})"])
    try:
        db = await check_database(pool, timeout_s=timeout_s)
    finally:
        await pool.close()
    expected = latest_version(load_migrations())
    if not db.reachable:
        return HealthVerdict("down", "database", ["database unreachable"])
    reasons = ["api not answering"]
    if db.schema_version != expected:
        reasons.append(f"schema version {db.schema_version}, expected {expected}")
    return HealthVerdict("down", "database", reasons + ["database reachable"])


def check_database_directly(dsn: str | None, timeout_s: float = DEFAULT_TIMEOUT_S) -> HealthVerdict:
    """Verdict when the api does not answer: always down, with what the database says."""
    if dsn is None:
        return HealthVerdict("down", "database", ["api not answering",
                                                  "embedded database not running"])
    return asyncio.run(_database_verdict(dsn, timeout_s))
