"""Bench: the L402 service registry at 1,000 endpoints (issue 17, Performance).

    .venv/bin/python bench/registry.py

1. GET /api/services over real HTTP (uvicorn, one worker) with 1,000 scored endpoints:
   p50/p99 of the first page by each sort, of a filtered page and of a deep cursor page
   (repeated: served from the 5 s page cache after the first), and of pages that are all
   different (each one a query), against GET /.well-known/l402.json (no database) as the
   trivial route of the same server, same client, same run.
2. One registry round over 1,000 unpaid endpoints on 50 host names (all resolving to one
   loopback L402 server that answers 402 with a signed BOLT 11 invoice): wall time with
   REGISTRY_HOST_GAP_S=0, i.e. the crawler's capacity; the politeness gap then bounds a
   host's rate, not the crawler's.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import secrets
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

N_SERVICES = 1_000
N_HOSTS = 50
REQUESTS = 400


async def seed(dsn: str) -> None:
    from satrank.config import DatabaseSettings
    from satrank.db.pool import create_pool
    from satrank.db.registry import NewService, ServiceSummary, register_service, store_summary

    pool = await create_pool(dsn, DatabaseSettings(url=None, pool_min=1, pool_max=4))
    try:
        for i in range(N_SERVICES):
            service_id, _ = await register_service(pool, NewService(
                url=f"https://h{i % N_HOSTS}.example/api/{i}", method="GET",
                host=f"h{i % N_HOSTS}.example", category=("ai", "data", "news")[i % 3],
                name=f"service {i}", description="bench endpoint"))
            await store_summary(pool, service_id, ServiceSummary(
                price_sat=1 + i % 97, payee_pubkey="02" + "ab" * 32,
                p_success=(i * 7919 % 1000) / 1000, uptime=0.99, median_latency_ms=i % 500,
                verdict="UNKNOWN", reasons=()))
        await pool.execute("ANALYZE registry_services")
    finally:
        await pool.close()


def timed(client: httpx.Client, path: str) -> tuple[float, float]:
    """`{i}` in `path` makes every request another page (a cache miss)."""
    samples = []
    for i in range(REQUESTS):
        started = time.perf_counter()
        response = client.get(path.replace("{i}", str(i)))
        samples.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.text
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.99) - 1]


def bench_listing(dsn: str) -> None:
    from satrank.api.app import create_app
    from satrank.config import Settings
    from tests.live_server import live_server

    settings = Settings.from_environ({"L402_MACAROON_SECRET": "b" * 40,
                                      "RATE_LIMIT_AGENT_PER_MIN": "100000000",
                                      "RATE_LIMIT_AGENT_BURST": "100000000"})
    with live_server(create_app(settings, dsn)) as base, \
            httpx.Client(base_url=base, timeout=10) as client:
        deep = None
        for _ in range(30):  # 30 pages of 20 in: a cursor 600 rows deep
            meta = client.get("/api/services", params={"sort_by": "p", **(
                {"cursor": deep} if deep else {})}).json()["meta"]
            deep = meta["next_cursor"]
        cases = {
            "trivial /.well-known/l402.json": "/.well-known/l402.json",
            "services sort p": "/api/services?sort_by=p",
            "services sort latency": "/api/services?sort_by=latency",
            "services sort price": "/api/services?sort_by=price",
            "services category+q+max_price": "/api/services?category=ai&q=service%201"
                                              "&max_price_sat=50",
            "services cursor 600 deep": f"/api/services?sort_by=p&cursor={deep}",
            "services, every request a miss": "/api/services?sort_by=p&q=s{i}",
        }
        results = {name: timed(client, path) for name, path in cases.items()}
    trivial_p99 = results["trivial /.well-known/l402.json"][1]
    for name, (p50, p99) in results.items():
        print(f"{name:34s} p50 {p50:6.2f} ms  p99 {p99:6.2f} ms  "
              f"p99/trivial {p99 / trivial_p99:4.1f}")


async def bench_round(dsn: str) -> None:
    import coincurve
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route

    from satrank.config import DatabaseSettings, RegistrySettings
    from satrank.crawler.registry import run_registry_round
    from satrank.db.pool import create_pool
    from satrank.l402.headers import build_challenge
    from satrank.lightning.bolt11 import PaymentRequest, encode
    from tests.live_server import live_server

    key = coincurve.PrivateKey()
    invoices = [encode(PaymentRequest(
        network="bcrt", amount_msat=10_000, timestamp=int(time.time()),
        payment_hash=hashlib.sha256(secrets.token_bytes(32)).digest(),
        payment_secret=secrets.token_bytes(32), description="bench", description_hash=None,
        expiry_s=3600, min_final_cltv=40), key) for _ in range(20)]

    async def challenge(request: Request) -> Response:
        invoice = invoices[hash(request.url.path) % len(invoices)]
        return Response(b"{}", status_code=402, media_type="application/json", headers={
            "WWW-Authenticate": build_challenge("AgEEYmVuY2g=", invoice)})

    app = Starlette(routes=[Route("/api/{i}", challenge)])
    pool = await create_pool(dsn, DatabaseSettings(url=None, pool_min=1, pool_max=10))
    try:
        with live_server(app) as base:
            port = base.rsplit(":", 1)[1]
            await pool.execute(
                "UPDATE registry_services SET url = replace(replace(url, 'https://', "
                "'http://'), '.example/', $1), next_check_at = now()", f".example:{port}/")

            async def loopback(_host: str, _port: int) -> list[str]:
                return ["127.0.0.1"]

            for concurrency in (8, 32):
                await pool.execute("UPDATE registry_services SET next_check_at = now()")
                settings = RegistrySettings(allow_private=True, host_gap_s=0,
                                            concurrency=concurrency,
                                            endpoints_per_round=N_SERVICES)
                started = time.perf_counter()
                summary = await run_registry_round(pool, settings, half_life_s=7 * 86_400,
                                                   resolver=loopback)
                wall = time.perf_counter() - started
                print(f"round of {summary.checked} endpoints on {N_HOSTS} hosts, "
                      f"concurrency {concurrency}: {wall:5.1f} s "
                      f"({summary.checked / wall * 3600:,.0f} endpoints/hour); "
                      f"stages {summary.stages}")
    finally:
        await pool.close()


def main() -> None:
    from satrank.db.embedded import database_dsn
    from satrank.db.migrations import migrate_dsn

    with tempfile.TemporaryDirectory(prefix="satrank-bench-reg-") as tmp:
        os.chmod(tmp, 0o755)  # the embedded Postgres runs as its own user
        with database_dsn(os.environ.get("DATABASE_URL"), Path(tmp)) as dsn:
            asyncio.run(migrate_dsn(dsn))
            asyncio.run(seed(dsn))
            bench_listing(dsn)
            asyncio.run(bench_round(dsn))


if __name__ == "__main__":
    main()
