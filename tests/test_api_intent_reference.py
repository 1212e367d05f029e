"""Integration: the intent's reference payer is the one the grid measured from. Our
vantage node is private (not in the gossip graph, as simnet's and many real ones are):
the scoring pass places it at its channels' peers and stores them; the api's snapshot
answers from the same place, so a request without a caller gets the grid's own answer
and routes that start at the peer, charged there. Real Postgres, a real scoring pass,
real HTTP."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import httpx
import pytest

from satrank.api.app import create_app
from satrank.scoring.payer import OwnChannel
from tests.api_seed import OPERATOR, OPERATOR_SECRET
from tests.grid_seed import score_small_graph
from tests.l402_support import settings_for
from tests.live_server import live_server
from tests.scoring_graphs import pubkey

BIG = 5_000_000
VANTAGE = pubkey(90)  # ours: private, one channel to node 1
AMOUNT = 20_000


@pytest.fixture
def client(db_dsn: str) -> Iterator[httpx.Client]:
    # node 0 is the largest (the old fallback reference) and far from 3: 0 - 4 - 1 - 2 - 3
    own = (OwnChannel(VANTAGE, pubkey(1), 10_000_000, 9_000_000, True),)
    asyncio.run(score_small_graph(db_dsn, 5, [(0, 4, 8 * BIG), (4, 1, BIG), (1, 2, BIG),
                                              (2, 3, BIG)], own))
    app = create_app(settings_for(OPERATOR_BYPASS_SECRET=OPERATOR_SECRET), db_dsn)
    with live_server(app) as url, httpx.Client(base_url=url, timeout=30,
                                               headers=OPERATOR) as c:
        yield c


def _intent(client: httpx.Client, **body: object) -> dict[str, object]:
    response = client.post("/api/intent", json={"target": pubkey(3), "amount_sat": AMOUNT,
                                                 **body})
    assert response.status_code == 200, response.text
    data: dict[str, object] = response.json()["data"]
    return data


def test_the_reference_is_our_private_node_at_its_channels_peer(client: httpx.Client) -> None:
    data = _intent(client)
    payer = data["payer"]
    assert payer == {"publicKey": None, "peers": [], "basis": "reference_no_caller",  # type: ignore[comparison-overlap]
                     "isReference": True, "reference": "our_channels",
                     "referencePeers": [pubkey(1)]}
    route = data["route"]
    # from the peer: 1 -> 2 -> 3, node 1 forwarding (charged), not from node 0 over 4
    assert [h["pubkey"] for h in route["hops"]] == [pubkey(2), pubkey(3)]  # type: ignore[index]
    assert route["feeSat"] == pytest.approx(2 * (1 + AMOUNT * 100e-6), rel=1e-3)  # type: ignore[index]
    quoted = client.get(f"/api/agent/{pubkey(3)}",
                        params={"amount_sat": str(AMOUNT)}).json()["data"]["bayesian"]
    assert not data["model"]["moved"]  # type: ignore[index]
    assert data["pSuccess"] == pytest.approx(quoted["p_success"], abs=1e-4)


def test_a_private_caller_behind_the_same_peer_gets_the_reference_answer(
        client: httpx.Client) -> None:
    reference = _intent(client)
    same = _intent(client, caller_peers=[pubkey(1)])
    assert same["payer"]["basis"] == "caller_peers"  # type: ignore[index]
    assert same["payer"]["isReference"]  # type: ignore[index]
    assert same["pSuccess"] == pytest.approx(reference["pSuccess"])
    further = _intent(client, caller_peers=[pubkey(0)])  # behind node 0: two more hops
    assert not further["payer"]["isReference"]  # type: ignore[index]
    assert further["route"]["hopCount"] == 4  # type: ignore[index]
    assert float(further["pSuccess"]) < float(reference["pSuccess"])  # type: ignore[arg-type]
