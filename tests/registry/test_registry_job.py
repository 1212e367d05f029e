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
    Invoices,
    lnd_client,
    services_app,
    simnet_invoices,
    unreachable_invoice,
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



async def test_delivered_bodies_are_checked_against_the_declared_schemas(
        simnet: SimnetHandle, pool: Pool) -> None:
    """Three services delivering {"data": {"service": name}}: one declares (in the manifest) a
    schema the body matches, one (through the OpenAPI document the manifest links) a schema
    it breaks, one declares none."""
    rounds = 14  # five stages at p ~ 15/16 each: SAFE needs the product past 0.7
    names = ("matches", "breaks", "undeclared")
    async with lnd_client(simnet.oracle_host, simnet.oracle_dir, "invoice") as node:
        invoices = {name: Invoices([
            (await node.add_invoice(PRICE_SAT, "registry test", 3600)).payment_request
            for _ in range(2 * rounds)]) for name in names}
    hashes: dict[str, bytes] = {}

    def hash_of(text: str) -> bytes:
        return hashes.setdefault(text, decode(text).payment_hash)

    service = {"type": "object", "required": ["data"], "properties": {"data": {
        "type": "object", "required": ["service"],
        "properties": {"service": {"type": "string"}}}}}
    openapi = {"openapi": "3.1.0", "paths": {"/svc/breaks": {"get": {"responses": {"200": {
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Count"}}}}}}}},
        "components": {"schemas": {"Count": {"type": "object", "properties": {"data": {
            "type": "object", "properties": {"service": {"type": "integer"}}}}}}}}
    await seed_payee_score(pool, simnet.oracle_pubkey)
    app = services_app(invoices, hash_of, names=names, schemas={"matches": service},
                       openapi=openapi)
    with live_server(app) as base:
        for name in names:
            await register_service(pool, NewService(url=f"{base}/svc/{name}", method="GET",
                                                    host="127.0.0.1", category="ai"))
        mismatch = {"stage": "quality", "reason": "SCHEMA_MISMATCH"}
        before = REGISTRY.get_sample_value("satrank_registry_stages_total", mismatch) or 0.0
        async with lnd_client(simnet.customer_host, simnet.customer_dir, "admin") as payer:
            for _ in range(rounds):
                await run_registry_round(pool, SETTINGS, half_life_s=HALF_LIFE_S, payer=payer)
        after = REGISTRY.get_sample_value("satrank_registry_stages_total", mismatch)
        page = await list_services(pool, "p", 20)
        by_name = {row.url.rsplit("/", 1)[1]: row for row in page.rows}
        observed = {name: await recent_observations(pool, by_name[name].id, 100)
                    for name in names}
        reports = {name: await endpoint_report(pool, f"{base}/svc/{name}",
                                               now=datetime.now(UTC), half_life_s=HALF_LIFE_S)
                   for name in names}

    def quality(name: str) -> list[tuple[bool, str]]:
        return [(o.ok, o.reason) for o in observed[name] if o.stage == "quality"]

    assert quality("matches") == [(True, "OK")] * rounds
    assert quality("breaks") == [(False, "SCHEMA_MISMATCH@/data/service")] * rounds
    assert quality("undeclared") == [(True, "NO_SCHEMA")] * rounds
    assert by_name["matches"].verdict == "SAFE" and by_name["matches"].reasons == ()
    assert by_name["undeclared"].verdict == "SAFE" and by_name["undeclared"].reasons == ()
    assert by_name["breaks"].verdict == "RISKY"
    assert by_name["breaks"].reasons == ("quality:SCHEMA_MISMATCH@/data/service",)
    stages = {name: [s.stage for s in r.score.stages] for name, r in reports.items() if r}
    assert stages["matches"] == stages["breaks"] == [
        "challenge", "invoice", "payment", "delivery", "quality"]
    assert stages["undeclared"] == ["challenge", "invoice", "payment", "delivery"]
    # the metric is labelled with the code: the body's paths never become label values
    assert after == before + rounds


async def test_the_provider_key_a_challenge_carries_claims_the_endpoint(pool: Pool) -> None:
    """The host's manifest names provider key A. One endpoint's 402 carries A in
    L402-Provider-Key (claimed), one carries B (a mismatch: nobody claimed, a reason), one
    carries none (the manifest's claim alone). On a host without a provider key in its
    manifest, the header alone claims."""
    key_a, key_b = "02" + "aa" * 32, "03" + "bb" * 32
    names = ("agrees", "disagrees", "silent")
    # no payer: the checks stop after the invoice stage, the claim is in the challenge
    invoices = {name: Invoices([unreachable_invoice(PRICE_SAT)]) for name in names}
    hashes: dict[str, bytes] = {}

    def hash_of(text: str) -> bytes:
        return hashes.setdefault(text, decode(text).payment_hash)

    with live_server(services_app(invoices, hash_of, names=names, provider_key=key_a,
                                  header_keys={"agrees": key_a,
                                               "disagrees": "bcrt:" + key_b})) as base, \
            live_server(services_app(invoices, hash_of, names=("agrees",),
                                     header_keys={"agrees": key_b.upper()})) as other:
        for url in [f"{base}/svc/{name}" for name in names] + [f"{other}/svc/agrees"]:
            # host with the port: the two servers are two hosts, each read its own manifest
            await register_service(pool, NewService(url=url, method="GET",
                                                    host=url.split("/")[2], category="ai"))
        await run_registry_round(pool, SETTINGS, half_life_s=HALF_LIFE_S)
        rows = {row.url: row for row in (await list_services(pool, "p", 20)).rows}
    claims = {url.split("//", 1)[1]: (row.owner_pubkey, "challenge:PROVIDER_KEY_MISMATCH"
                                      in row.reasons) for url, row in rows.items()}
    host, other_host = base.split("//", 1)[1], other.split("//", 1)[1]
    assert claims == {
        f"{host}/svc/agrees": (key_a, False),
        f"{host}/svc/disagrees": (None, True),
        f"{host}/svc/silent": (key_a, False),
        f"{other_host}/svc/agrees": (key_b, False),
    }
