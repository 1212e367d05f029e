"""Integration: POST /api/intent on L402 endpoints the registry job has really checked:
loopback services with simnet invoices, the job paying from simnet's customer node, the
api over real HTTP and Postgres. The payee (simnet's oracle) is stored as the crawler
leaves a scored node; its channels are not in this database, so the payment part has no
route: what is checked here is the wiring, the rule is checked in tests/test_api_intent.py
on a graph with routes."""

from __future__ import annotations

import httpx

from satrank.api.app import create_app
from satrank.crawler.registry import run_registry_round
from satrank.db.pool import Pool
from satrank.db.registry import NewService, register_service
from satrank.lightning.bolt11 import decode
from tests.api_seed import OPERATOR, OPERATOR_SECRET
from tests.l402_support import settings_for
from tests.live_server import live_server
from tests.registry.l402_services import PRICE_SAT, lnd_client, services_app, simnet_invoices
from tests.registry.test_registry_job import HALF_LIFE_S, SETTINGS, seed_payee_score
from tests.simnet_fixture import SimnetHandle

ROUNDS = 4


async def test_intent_on_checked_endpoints(simnet: SimnetHandle, db_dsn: str,
                                           pool: Pool) -> None:
    await seed_payee_score(pool, simnet.oracle_pubkey)  # the payee, as the crawler left it
    invoices = await simnet_invoices(simnet, each=2 * ROUNDS)
    hashes: dict[str, bytes] = {}

    def hash_of(text: str) -> bytes:
        return hashes.setdefault(text, decode(text).payment_hash)

    app = create_app(settings_for(OPERATOR_BYPASS_SECRET=OPERATOR_SECRET,
                                  REGISTRY_ALLOW_PRIVATE="true"), db_dsn)
    with live_server(services_app(invoices, hash_of)) as services, \
            live_server(app) as api, httpx.Client(base_url=api, timeout=30) as http:
        for name in ("good", "nodeliver"):
            await register_service(pool, NewService(url=f"{services}/svc/{name}", method="GET",
                                                    host="127.0.0.1", category="ai"))
        async with lnd_client(simnet.customer_host, simnet.customer_dir, "admin") as payer:
            for _ in range(ROUNDS):
                await run_registry_round(pool, SETTINGS, half_life_s=HALF_LIFE_S, payer=payer)

        def intent(name: str) -> dict[str, object]:
            response = http.post("/api/intent", headers=OPERATOR, json={
                "target": f"{services}/svc/{name}", "caller": simnet.customer_pubkey})
            assert response.status_code == 200, response.text
            data: dict[str, object] = response.json()["data"]
            return data

        good, nodeliver = intent("good"), intent("nodeliver")
        unlisted = http.post("/api/intent", headers=OPERATOR,
                             json={"target": f"{services}/not-listed"})
    endpoint, payment = good["endpoint"], good["payment"]
    assert isinstance(endpoint, dict) and isinstance(payment, dict)
    assert [s["stage"] for s in endpoint["stages"]] == ["challenge", "invoice", "payment",
                                                        "delivery"]
    assert good["priceSat"] == good["amountSat"] == PRICE_SAT
    assert endpoint["payeePubkey"] == simnet.oracle_pubkey
    # the payment part: the customer paying the oracle (the payee) the endpoint's price
    assert payment["target"]["publicKey"] == simnet.oracle_pubkey
    assert payment["amountSat"] == PRICE_SAT and payment["target"]["verdict"] == "SAFE"
    assert good["basis"] == "endpoint_stages_x_payment"
    assert nodeliver["decision"] == "avoid"
    assert "endpoint delivery:NOT_DELIVERED" in nodeliver["reasons"]  # type: ignore[operator]
    assert endpoint["pSuccess"] > nodeliver["endpoint"]["pSuccess"]  # type: ignore[index]
    assert unlisted.status_code == 404 and "POST /api/services" in unlisted.text
