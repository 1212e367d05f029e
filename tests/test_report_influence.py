"""Integration: what reports do to a node's score, through the real path: HTTP reports on
the live api, Postgres, the crawler's scoring pass (`score_phase`), the stored scores.

Goal (issue 13): 60 forged reports from one client move a node's p_success by less than
0.02, both ways (a dead node pushed up, a healthy one pushed down); a proven report (the
target's signed invoice and its preimage) counts as verified.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass

import asyncpg
import coincurve
import httpx
import pytest

from satrank.api.app import create_app
from satrank.config import DatabaseSettings, Settings
from satrank.crawler.cycle import score_phase
from satrank.db.pool import create_pool
from tests.api_seed import seed
from tests.live_server import live_server
from tests.report_support import (
    SETTINGS_ENV,
    add_keyed_node,
    client,
    forged_pair,
    paid_token,
    signed_invoice,
)

SETTINGS = Settings.from_environ(SETTINGS_ENV)
PROBES = 10  # recent probes per node: a node the crawler has looked at a few times
MAX_MOVE = 0.02


@dataclass(frozen=True)
class Net:
    dsn: str
    dead: str  # every probe failed at the node
    healthy: str  # every probe reached the node
    keyed: str  # a dead node whose key the test holds (it can sign invoices)
    key: coincurve.PrivateKey


async def _add_probes(dsn: str, pubkey: str, outcome: str, n: int) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        await conn.executemany(
            """INSERT INTO probes (target_pubkey, amount_sat, sent_at, duration_ms, outcome,
                 hop_count) VALUES ($1, 100000, now() - make_interval(mins => $2), 900, $3, 3)""",
            [(pubkey, 10 + i, outcome) for i in range(n)])
    finally:
        await conn.close()


@pytest.fixture
def net(db_dsn: str) -> Net:
    pks = asyncio.run(seed(db_dsn))
    key = coincurve.PrivateKey()
    keyed = asyncio.run(add_keyed_node(db_dsn, key, pks[0]))
    dead, healthy = pks[5], pks[4]  # pks[5] has no seeded probe, pks[4] one success
    asyncio.run(_add_probes(db_dsn, dead, "failed_at_target", PROBES))
    asyncio.run(_add_probes(db_dsn, healthy, "reached", PROBES - 1))
    asyncio.run(_add_probes(db_dsn, keyed, "failed_at_target", PROBES))
    return Net(db_dsn, dead, healthy, keyed, key)


def _score(dsn: str) -> dict[str, tuple[float, list[str]]]:
    """One scoring pass as the crawler runs it; p_success and reasons per node."""
    async def run() -> dict[str, tuple[float, list[str]]]:
        pool = await create_pool(dsn, DatabaseSettings(url=None, pool_min=1, pool_max=2))
        try:
            await score_phase(pool, SETTINGS.crawler, enqueue_nostr=False)
            rows = await pool.fetch("SELECT pubkey, p_success, reasons::text FROM scores")
        finally:
            await pool.close()
        return {r["pubkey"]: (r["p_success"], json.loads(r["reasons"])) for r in rows}
    return asyncio.run(run())


@pytest.fixture
def http(net: Net) -> Iterator[httpx.Client]:
    with live_server(create_app(SETTINGS, net.dsn)) as url, \
            httpx.Client(base_url=url, timeout=10) as c:
        yield c


def test_sixty_forged_reports_from_one_client_barely_move_a_node(
        net: Net, http: httpx.Client) -> None:
    before = _score(net.dsn)
    attacker = client(0)
    statuses = []
    for _ in range(60):  # "it succeeded": self-made preimage/hash pairs
        preimage, payment_hash = forged_pair()
        statuses.append(http.post("/api/report", headers=attacker, json={
            "target": net.dead, "outcome": "success", "payment_hash": payment_hash,
            "preimage": preimage}).status_code)
    for _ in range(60):  # "it failed": even with a fresh paid token each time
        _, authorization = paid_token()
        statuses.append(http.post(
            "/api/report", headers={**attacker, "Authorization": authorization},
            json={"target": net.healthy, "outcome": "failure"}).status_code)
    # Invoices the attacker signed itself, for its own key: refused, not verified.
    own_invoice, own_preimage = signed_invoice(coincurve.PrivateKey())
    statuses.append(http.post("/api/report", headers=attacker, json={
        "target": net.dead, "outcome": "success", "invoice": own_invoice,
        "preimage": own_preimage}).status_code)
    after = _score(net.dsn)
    dead_move = after[net.dead][0] - before[net.dead][0]
    healthy_move = before[net.healthy][0] - after[net.healthy][0]
    assert 0 <= dead_move < MAX_MOVE, (before[net.dead], after[net.dead])
    assert 0 <= healthy_move < MAX_MOVE, (before[net.healthy], after[net.healthy])
    assert statuses.count(201) == 2  # one slot per target for this client
    assert before[net.dead][0] < 0.2 and before[net.healthy][0] > 0.8  # dead, healthy
    assert any("user reports weigh 0.1 observations" in r for r in after[net.dead][1])


async def _forge_rows(dsn: str, target: str, outcome: str, n: int) -> None:
    """`n` forged reports from one client, one per hour: what the limits let through in
    two and a half days."""
    conn = await asyncpg.connect(dsn)
    try:
        reporter = os.urandom(32)
        await conn.executemany(
            """INSERT INTO reports (target_pubkey, outcome, verified, reporter_client,
                 created_at) VALUES ($1, $2, false, $3, now() - make_interval(hours => $4))""",
            [(target, outcome, reporter, i) for i in range(n)])
    finally:
        await conn.close()


def test_one_clients_reports_over_days_count_as_one(net: Net) -> None:
    before = _score(net.dsn)
    asyncio.run(_forge_rows(net.dsn, net.dead, "success", 60))
    asyncio.run(_forge_rows(net.dsn, net.healthy, "failure", 60))
    after = _score(net.dsn)
    assert 0 <= after[net.dead][0] - before[net.dead][0] < MAX_MOVE
    assert 0 <= before[net.healthy][0] - after[net.healthy][0] < MAX_MOVE


def test_a_proven_report_counts_as_verified(net: Net, http: httpx.Client) -> None:
    before = _score(net.dsn)
    invoice, preimage = signed_invoice(net.key, amount_sat=100_000)  # the default tier
    proven = http.post("/api/report", headers=client(1), json={
        "target": net.keyed, "outcome": "success", "invoice": invoice, "preimage": preimage})
    assert proven.status_code == 201 and proven.json()["data"]["verified"] is True
    after = _score(net.dsn)
    assert any("user reports weigh 1.0 observations" in r for r in after[net.keyed][1])
    verdict = http.get(f"/api/agent/{net.keyed}/verdict").json()["data"]
    assert "user reports weigh 1.0 observations" in verdict["reasons"]  # what clients read
    # A verified report weighs like a probe (ten forged ones): one moves the dead node
    # more than sixty forged reports may.
    assert after[net.keyed][0] - before[net.keyed][0] > 2 * MAX_MOVE
