"""Integration: the registry job against real loopback L402 services with real invoices
from simnet, paying through a real simnet node, over real Postgres. After a few rounds the
ranking and verdicts come out as a user would expect, and every misbehaviour is named in
the endpoint's reasons; the daily budget holds with two rounds running at once."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import UTC, datetime

from prometheus_client import REGISTRY

from satrank.config import DatabaseSettings, RegistrySettings
from satrank.crawler.registry import run_registry_round
from satrank.db.pool import Pool, create_pool
from satrank.db.registry import (
    NewService,
    list_services,
    recent_observations,
    register_service,
)
from satrank.db.registry_spend import spent_today
from satrank.lightning.bolt11 import decode
from satrank.registry.report import endpoint_report
from satrank.registry.stages import PAY_FEE_LIMIT_SAT
from tests.live_server import live_server
from tests.registry.l402_services import (
    PRICE_SAT,
    SERVICES,
    lnd_client,
    services_app,
    simnet_invoices,
)
from tests.simnet_fixture import SimnetHandle

HALF_LIFE_S = 7 * 86_400.0
ROUNDS = 11
SETTINGS = RegistrySettings(allow_private=True, host_gap_s=0, recheck_s=0, concurrency=4,
                            spend_sat_per_day=10_000, fetch_deadline_s=1.0)


async def seed_payee_score(pool: Pool, pubkey: str) -> None:
    """Our crawler's verdict on the oracle node (the payee of the good services)."""
    await pool.execute("INSERT INTO nodes (pubkey, agent_hash, alias) VALUES ($1, $2, 'payee')",
                       pubkey, "00" * 32)
    await pool.execute(
        """INSERT INTO scores (pubkey, rank, verdict, p_success, ci95_low, ci95_high, n_eff,
             pagerank, pagerank_pct, features, reasons, computed_at)
           VALUES ($1, 90, 'SAFE', 0.95, 0.9, 0.99, 20, 0.01, 99, '{}', '[]', now())""", pubkey)


async def test_rounds_rank_and_name_every_misbehaviour(simnet: SimnetHandle,
                                                       pool: Pool) -> None:
    invoices = await simnet_invoices(simnet, each=2 * ROUNDS)
    hashes: dict[str, bytes] = {}

    def hash_of(text: str) -> bytes:
        return hashes.setdefault(text, decode(text).payment_hash)

    await seed_payee_score(pool, simnet.oracle_pubkey)
    with live_server(services_app(invoices, hash_of)) as base:
        # all but one registered; the host's manifest enrols the last one
        for name in SERVICES[:-1]:
            await register_service(pool, NewService(url=f"{base}/svc/{name}", method="GET",
                                                    host="127.0.0.1", category="ai"))
        not_402 = {"stage": "challenge", "reason": "NOT_402"}
        before = REGISTRY.get_sample_value("satrank_registry_stages_total", not_402) or 0.0
        async with lnd_client(simnet.customer_host, simnet.customer_dir, "admin") as payer:
            for _ in range(ROUNDS):
                await run_registry_round(pool, SETTINGS, half_life_s=HALF_LIFE_S, payer=payer)
        after = REGISTRY.get_sample_value("satrank_registry_stages_total", not_402)
        page = await list_services(pool, "p", 20)
        drip_id = next(r.id for r in page.rows if r.url.endswith("/drip"))
        drips = await recent_observations(pool, drip_id, 100)
        report = await endpoint_report(pool, f"{base}/svc/good", now=datetime.now(UTC),
                                       half_life_s=HALF_LIFE_S)
    by_name = {row.url.rsplit("/", 1)[1]: row for row in page.rows}
    assert set(by_name) == set(SERVICES)
    assert by_name["redirect"].source == "manifest"
    ranked = [row.url.rsplit("/", 1)[1] for row in page.rows]
    assert ranked[:2] == ["good", "flaky"], ranked
    good = by_name["good"]
    assert (good.verdict, good.reasons, good.price_sat) == ("SAFE", (), PRICE_SAT)
    assert good.payee_pubkey == simnet.oracle_pubkey and good.uptime == 1.0
    expected = {
        "flaky": "challenge:HTTP_5XX",
        "mismatch": "invoice:PRICE_MISMATCH",
        "nodeliver": "delivery:NOT_DELIVERED",
        "offline": "invoice:PAYEE_UNKNOWN",
        "plain": "challenge:NOT_402",
        "drip": "challenge:TIMEOUT",
        "redirect": "challenge:ADDRESS_FORBIDDEN",
    }
    for name, reason in expected.items():
        row = by_name[name]
        assert reason in row.reasons, (name, row.reasons)
        assert row.verdict != "SAFE", name
        assert row.p_success is not None and good.p_success is not None
        assert row.p_success < good.p_success
    assert by_name["offline"].reasons[1].startswith("payment:PAYMENT_FAILED"), \
        by_name["offline"].reasons
    for name in ("mismatch", "nodeliver", "offline", "plain", "drip", "redirect"):
        assert by_name[name].verdict == "RISKY", (name, by_name[name])
    # what POST /api/intent will read for a URL
    assert report is not None and report.payee_pubkey == simnet.oracle_pubkey
    assert [s.stage for s in report.score.stages] == ["challenge", "invoice", "payment",
                                                      "delivery"]
    assert report.score.price_sat == PRICE_SAT
    assert after == before + ROUNDS  # the plain service, once per round
    # a failed stage is recorded with the time it took: the drip held it to the deadline
    assert drips and all(o.latency_ms >= 1000 * SETTINGS.fetch_deadline_s for o in drips)
    paid = await pool.fetchval("SELECT coalesce(sum(amount_sat), 0) FROM registry_payments "
                               "WHERE status = 'succeeded'")
    assert await spent_today(pool) == paid > 0  # failed payments gave their amount back


async def test_two_concurrent_rounds_never_spend_past_the_budget(
        simnet: SimnetHandle, db_dsn: str, pool: Pool) -> None:
    invoices = await simnet_invoices(simnet, each=12)
    hashes: dict[str, bytes] = {}

    def hash_of(text: str) -> bytes:
        return hashes.setdefault(text, decode(text).payment_hash)

    await seed_payee_score(pool, simnet.oracle_pubkey)
    per_payment = PRICE_SAT + PAY_FEE_LIMIT_SAT  # reserved: the amount and the fee limit
    budget = 2 * per_payment + per_payment // 2
    settings = dataclasses.replace(SETTINGS, spend_sat_per_day=budget)
    other = await create_pool(db_dsn, DatabaseSettings(url=None, pool_min=1, pool_max=8))
    try:
        with live_server(services_app(invoices, hash_of)) as base:
            for i in range(6):  # six endpoints of one good service: six payments wanted
                await register_service(pool, NewService(
                    url=f"{base}/svc/good?copy={i}", method="GET", host="127.0.0.1",
                    category="ai"))
            async with lnd_client(simnet.customer_host, simnet.customer_dir, "admin") as payer:
                await asyncio.gather(*(
                    run_registry_round(p, settings, half_life_s=HALF_LIFE_S, payer=payer)
                    for p in (pool, other)))
    finally:
        await other.close()
    spent = await spent_today(pool)
    ledger = await pool.fetchval("SELECT sum(amount_sat) FROM registry_payments")
    assert spent == ledger == 2 * per_payment <= budget

