"""Integration: POST /api/intent with `fresh: true` probes the target from our node first
(real HTTP, Postgres and gRPC to simnet's oracle node): it costs what /api/probe costs,
the probe is recorded like /api/probe's, and its outcome moves the answer."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import asyncpg
import httpx
import pytest

from satrank.api.app import create_app
from tests.api_seed import pubkey
from tests.l402_support import PreimageIssuer, paid_authorization
from tests.live_server import live_server
from tests.simnet_api import describe_simnet_graph, insert_graph_nodes, simnet_settings
from tests.simnet_fixture import SimnetHandle
from tests.test_api_probe_flights import _oracle_peers


class Fresh:
    def __init__(self, http: httpx.Client, issuer: PreimageIssuer, peers: list[str]) -> None:
        self.http, self.issuer, self.peers = http, issuer, peers

    def challenge(self, body: dict[str, object]) -> httpx.Response:
        response = self.http.post("/api/intent", json=body)
        assert response.status_code == 402, response.text
        return response

    def token(self, body: dict[str, object]) -> dict[str, str]:
        return paid_authorization(self.challenge(body), self.issuer)


@pytest.fixture
def fresh(db_dsn: str, simnet: SimnetHandle) -> Iterator[Fresh]:
    asyncio.run(insert_graph_nodes(db_dsn, asyncio.run(describe_simnet_graph(simnet))))
    issuer = PreimageIssuer()
    app = create_app(simnet_settings(simnet, {"L402_MACAROON_SECRET": "x" * 40}), db_dsn,
                     invoice_issuer=issuer)
    with live_server(app) as url, httpx.Client(base_url=url, timeout=60) as http:
        yield Fresh(http, issuer, asyncio.run(_oracle_peers(simnet)))


def _api_probes(dsn: str, target: str) -> int:
    async def count() -> int:
        conn = await asyncpg.connect(dsn)
        try:
            return int(await conn.fetchval(
                "SELECT count(*) FROM probes WHERE target_pubkey = $1 AND source = 'api'",
                target))
        finally:
            await conn.close()

    return asyncio.run(count())


def test_fresh_costs_a_probe_and_probes_first(fresh: Fresh, db_dsn: str) -> None:
    target = fresh.peers[0]
    body = {"target": target, "amount_sat": 1000, "fresh": True}
    assert fresh.challenge(body).json()["error"]["details"]["price"] == 5
    auth = fresh.token(body)
    response = fresh.http.post("/api/intent", json=body, headers=auth)
    assert response.status_code == 200, response.text
    assert response.headers["x-l402-credits-left"] == str(21 - 5)
    data = response.json()["data"]
    probe = data["fresh"]
    assert probe["amountSat"] == 1000 and probe["outcome"] == "reached"
    assert _api_probes(db_dsn, target) == 1
    # the target has no score yet: the probe reached now is the evidence the answer rests
    # on, not the route model alone
    assert data["payer"]["isReference"] and data["target"]["verdict"] == "INSUFFICIENT"
    assert data["basis"] == "node_score_conditioned" and data["pSuccess"] > 0.5
    plain = fresh.http.post("/api/intent", json={"target": target, "amount_sat": 1000},
                            headers=auth)
    assert plain.headers["x-l402-credits-left"] == str(21 - 5 - 2)
    assert plain.json()["data"]["fresh"] is None


def test_fresh_for_an_unknown_node_is_refunded(fresh: Fresh) -> None:
    auth = fresh.token({"target": fresh.peers[0], "fresh": True})
    response = fresh.http.post("/api/intent", json={"target": pubkey(99), "fresh": True},
                               headers=auth)
    assert response.status_code == 404
    assert response.headers["x-l402-credits-left"] == "21"
