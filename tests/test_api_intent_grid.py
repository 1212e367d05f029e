"""Integration: POST /api/intent reads model v2's stored grid at the payment's amount and fee
budget (as GET /api/agent/{id}?amount_sat=&fee_budget= does), then conditions it on the
caller; the grid comes from a real scoring pass (real Postgres, real HTTP)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import httpx
import pytest

from satrank.api.app import create_app
from tests.api_seed import OPERATOR, OPERATOR_SECRET
from tests.grid_seed import score_small_graph
from tests.l402_support import settings_for
from tests.live_server import live_server
from tests.scoring_graphs import pubkey

BIG = 5_000_000


async def _score(dsn: str) -> None:
    # payer 0 (the grid's payer, a public vantage: the intent's reference) -> 1 -> 2,
    # 1 -> 3; node 4 hangs off node 0, one hop further from everybody
    await score_small_graph(dsn, 5, [(0, 1, BIG), (1, 2, BIG), (1, 3, 50_000),
                                     (0, 4, 2 * BIG)])


@pytest.fixture
def client(db_dsn: str) -> Iterator[httpx.Client]:
    asyncio.run(_score(db_dsn))
    app = create_app(settings_for(OPERATOR_BYPASS_SECRET=OPERATOR_SECRET), db_dsn)
    with live_server(app) as url, httpx.Client(base_url=url, timeout=30,
                                               headers=OPERATOR) as c:
        yield c


def _intent(client: httpx.Client, **body: object) -> dict[str, object]:
    response = client.post("/api/intent", json={"target": pubkey(2), **body})
    assert response.status_code == 200, response.text
    data: dict[str, object] = response.json()["data"]
    return data


def _grid(client: httpx.Client, **params: str) -> dict[str, object]:
    response = client.get(f"/api/agent/{pubkey(2)}", params=params)
    assert response.status_code == 200, response.text
    block: dict[str, object] = response.json()["data"]["bayesian"]
    return block


def test_the_reference_payer_gets_the_grid_at_an_off_grid_amount_and_budget(
        client: httpx.Client) -> None:
    # 37k sat lies between the grid's 30k and 100k; 40 sat between the tight (10) and the
    # normal (190) limits at that amount
    data = _intent(client, amount_sat=37_000, max_fee_sat=40)
    quoted = _grid(client, amount_sat="37000", fee_budget="40")
    assert data["payer"]["isReference"] and not data["model"]["moved"]  # type: ignore[index]
    # the intent keeps figures 1e-4 from 0 and 1 (scoring/intent.py's _NODE_CLIP)
    assert (data["pSuccess"], data["ci95Low"], data["ci95High"]) == pytest.approx(
        (quoted["p_success"], quoted["ci95_low"], quoted["ci95_high"]), abs=1e-4)
    default = _grid(client)
    assert abs(float(data["pSuccess"]) - float(default["p_success"])) > 0.01  # type: ignore[arg-type]
    assert data["paymentBasis"] == {"amountSat": 37_000, "feeBudget": "custom",
                                    "feeLimitSat": 40.0, "payer": "reference",
                                    "timeoutS": 60, "score": "grid"}


def test_a_tight_fee_budget_reads_the_tight_row(client: httpx.Client) -> None:
    # at 10k sat node 1 charges 2 sat: within the tight budget, so a route; the tight row's
    # p is the grid's, not the default tier's
    data = _intent(client, amount_sat=10_000, max_fee_sat=10)
    quoted = _grid(client, amount_sat="10000", fee_budget="tight")
    assert data["pSuccess"] == pytest.approx(quoted["p_success"])
    assert data["paymentBasis"]["feeBudget"] == "tight"  # type: ignore[index]
    assert data["pSuccess"] != pytest.approx(_grid(client)["p_success"])


def test_a_caller_further_away_gets_the_grid_moved_by_the_route_model(
        client: httpx.Client) -> None:
    reference = _intent(client, amount_sat=37_000)
    caller = _intent(client, amount_sat=37_000, caller=pubkey(4))
    assert caller["payer"] == {"publicKey": pubkey(4), "basis": "caller", "peers": [],
                               "isReference": False, "reference": "vantage_node",
                               "referencePeers": []}
    assert caller["paymentBasis"]["payer"] == f"caller:{pubkey(4)}"  # type: ignore[index]
    assert reference["paymentBasis"]["payer"] == "reference"  # type: ignore[index]
    model = caller["model"]
    assert model["moved"] and model["pRoutes"] < model["pReference"]  # type: ignore[index,operator]
    assert model["pReference"] == pytest.approx(reference["model"]["pRoutes"])  # type: ignore[index]
    assert float(caller["pSuccess"]) < float(reference["pSuccess"])  # type: ignore[arg-type]
    assert float(caller["ci95Low"]) < float(reference["ci95Low"])  # type: ignore[arg-type]
    assert caller["route"]["hopCount"] == 3  # type: ignore[index]
