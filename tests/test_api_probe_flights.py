"""Integration: paid probes whose HTLC is held past the request's budget (real HTTP, real
Postgres, real gRPC to simnet, whose truth channel makes a target hold every HTLC).

A held probe is charged (its HTLC left our node), keeps its slot until lnd reports the
payment final, and the caps per token and per target refuse more meanwhile, for free."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Iterator

import asyncpg
import httpx
import pytest

from satrank.api.app import create_app
from satrank.api.probe_flights import ProbeFlights
from satrank.lightning.lnd import LndClient
from tests.l402_support import PreimageIssuer
from tests.live_server import live_server
from tests.simnet_api import describe_simnet_graph, insert_graph_nodes, simnet_settings
from tests.simnet_fixture import SimnetHandle

BASE = {"L402_MACAROON_SECRET": "x" * 40, "PROBE_FEE_LIMIT_SAT": "5000"}
CHALLENGE = re.compile(r'^L402 macaroon="([A-Za-z0-9+/]+=*)", invoice="([^"]+)"$')
BUDGET_S = 1.0
POLL_S = 0.05
POLLS = 600


async def _oracle_peers(handle: SimnetHandle) -> list[str]:
    lnd_dir = handle.oracle_dir
    async with LndClient.connect(handle.oracle_host, (lnd_dir / "tls.cert").read_bytes(),
                                 (lnd_dir / "pay.macaroon").read_bytes()) as pay:
        return [c.remote_pubkey for c in await pay.list_channels(active_only=True)]


class Probing:
    def __init__(self, http: httpx.Client, truth: httpx.Client, issuer: PreimageIssuer,
                 peers: list[str]) -> None:
        self.http, self.truth, self.issuer, self.peers = http, truth, issuer, peers

    def token(self) -> dict[str, str]:
        challenge = self.http.post("/api/probe", json={"target": self.peers[0]})
        assert challenge.status_code == 402
        mac, invoice = CHALLENGE.match(
            challenge.headers.get_list("www-authenticate")[0]).groups()
        return {"Authorization": f"L402 {mac}:{self.issuer.pay(invoice).hex()}"}

    def probe(self, target: str, auth: dict[str, str]) -> httpx.Response:
        return self.http.post("/api/probe", json={"target": target, "amount_sat": 1000},
                              headers=auth)

    def held(self, target: str, action: str) -> int:
        response = self.truth.post(f"/{action}", params={"target": target})
        assert response.status_code == 200, response.text
        return int(response.json()["held"])


@pytest.fixture
def probing(db_dsn: str, simnet: SimnetHandle) -> Iterator[Probing]:
    asyncio.run(insert_graph_nodes(db_dsn, asyncio.run(describe_simnet_graph(simnet))))
    peers = asyncio.run(_oracle_peers(simnet))
    issuer = PreimageIssuer()
    app = create_app(simnet_settings(simnet, BASE), db_dsn, invoice_issuer=issuer,
                     probe_flights=ProbeFlights(total=4, per_token=1, per_target=1,
                                                budget_s=BUDGET_S))
    with live_server(app) as url, httpx.Client(base_url=url, timeout=60) as http, \
            httpx.Client(base_url=f"http://{simnet.truth_host}", timeout=10) as truth:
        probing = Probing(http, truth, issuer, peers)
        try:
            yield probing
        finally:
            for peer in peers:
                probing.held(peer, "release")


def _api_probes(dsn: str, target: str) -> list[str]:
    async def fetch() -> list[str]:
        conn = await asyncpg.connect(dsn)
        try:
            rows = await conn.fetch("SELECT outcome FROM probes WHERE target_pubkey = $1 "
                                    "AND source = 'api' ORDER BY id", target)
            return [r["outcome"] for r in rows]
        finally:
            await conn.close()

    return asyncio.run(fetch())


def test_a_held_probe_is_charged_and_keeps_its_slot_until_final(probing: Probing,
                                                                 db_dsn: str) -> None:
    held_target, other_target = probing.peers[0], probing.peers[1]
    auth, other_auth = probing.token(), probing.token()
    assert probing.held(held_target, "hold") == 0

    timed_out = probing.probe(held_target, auth)
    assert timed_out.status_code == 504, timed_out.text
    assert timed_out.json()["error"]["code"] == "PROBE_TIMEOUT"
    assert timed_out.headers["x-l402-credits-left"] == "16"  # its HTLC left: charged
    assert probing.held(held_target, "hold") == 1  # and it is still held

    # the held flight keeps its slot: more probes by this token, or to this target by
    # anyone, are refused at once and cost nothing
    same_token = probing.probe(other_target, auth)
    same_target = probing.probe(held_target, other_auth)
    for busy in (same_token, same_target):
        assert busy.status_code == 429, busy.text
        assert busy.json()["error"]["code"] == "PROBE_BUSY"
        assert "retry-after" in busy.headers
    assert same_token.headers["x-l402-credits-left"] == "16"
    assert same_target.headers["x-l402-credits-left"] == "21"
    assert probing.probe(other_target, other_auth).status_code == 200  # others go on

    probing.held(held_target, "release")  # the payment becomes final: the slot frees
    for _ in range(POLLS):
        again = probing.probe(held_target, auth)
        if again.status_code != 429:
            break
        time.sleep(POLL_S)
    assert again.status_code == 200, again.text
    assert again.headers["x-l402-credits-left"] == "11"
    # the held probe was recorded once final, like the one after it
    assert _api_probes(db_dsn, held_target) == ["reached", "reached"]


def test_a_probe_to_an_unknown_node_gives_its_credits_back(probing: Probing) -> None:
    auth = probing.token()
    unknown = probing.probe("02" + "ee" * 32, auth)
    assert unknown.status_code == 404, unknown.text
    assert unknown.headers["x-l402-credits-left"] == "21"
