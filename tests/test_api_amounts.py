"""Integration: /api/agent/{id} answers for any amount and fee budget from the grid a real
scoring pass stored (real Postgres, real HTTP), and says what its figures are about."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import httpx
import pytest

from satrank.api.app import create_app
from satrank.config import Settings
from tests.grid_seed import score_small_graph
from tests.live_server import live_server
from tests.scoring_graphs import pubkey

SETTINGS = Settings.from_environ({"L402_MACAROON_SECRET": "x" * 40})
BIG = 5_000_000


async def _score(dsn: str) -> None:
    # payer 0 -> 1 -> 2, 1 -> 3 over a 50k channel and 1 -> 4 over 600k (reachable at the
    # grid's 300k, not at 1M); node 1 charges 1 sat + 100 ppm
    await score_small_graph(dsn, 5, [(0, 1, BIG), (1, 2, BIG), (1, 3, 50_000),
                                     (1, 4, 600_000)])


@pytest.fixture
def client(db_dsn: str) -> Iterator[httpx.Client]:
    asyncio.run(_score(db_dsn))
    with live_server(create_app(SETTINGS, db_dsn)) as url, \
            httpx.Client(base_url=url, timeout=10) as c:
        yield c


def _bayes(client: httpx.Client, node: int, **params: str) -> dict[str, object]:
    response = client.get(f"/api/agent/{pubkey(node)}", params=params)
    assert response.status_code == 200, response.text
    block: dict[str, object] = response.json()["data"]["bayesian"]
    return block


def test_default_figures_say_what_they_are_about(client: httpx.Client) -> None:
    default = _bayes(client, 2)
    assert default["basis"] == {"amountSat": 100_000, "feeBudget": "normal",
                                "feeLimitSat": 505.0, "payer": f"vantage:{pubkey(0)}",
                                "timeoutS": 60}
    assert default == _bayes(client, 2, amount_sat="100000", fee_budget="normal")
    verdict = client.get(f"/api/agent/{pubkey(2)}/verdict").json()["data"]
    assert verdict["basis"] == default["basis"]


def test_any_amount_and_budget_from_the_grid(client: httpx.Client) -> None:
    normal = _bayes(client, 2)
    assert float(normal["p_success"]) > 0  # type: ignore[arg-type]
    # node 1 charges 11 sat to forward 100k: over the tight budget, so no route
    tight = _bayes(client, 2, fee_budget="tight")
    assert (tight["p_success"], tight["ci95_high"]) == (0.0, 0.0)
    assert tight["basis"]["feeBudget"] == "tight"  # type: ignore[index]
    assert _bayes(client, 2, fee_budget="10")["p_success"] == 0.0
    custom = _bayes(client, 2, fee_budget="600")
    assert custom["basis"]["feeBudget"] == "custom"  # type: ignore[index]
    assert custom["p_success"] == pytest.approx(normal["p_success"])
    # 10k sat costs 2 sat: within the tight budget; 50k fits node 3's channel, 100k not
    assert float(_bayes(client, 2, amount_sat="10000", fee_budget="tight")["p_success"]) > 0  # type: ignore[arg-type]
    small = _bayes(client, 3, amount_sat="30000")
    assert 0 < float(small["ci95_low"]) <= float(small["p_success"]) <= float(small["ci95_high"])  # type: ignore[arg-type]
    assert small["basis"]["amountSat"] == 30_000  # type: ignore[index]
    assert _bayes(client, 3)["p_success"] == 0.0


def test_an_amount_between_grid_amounts_is_not_dragged_across_a_capacity_cliff(
        client: httpx.Client) -> None:
    at_300k = _bayes(client, 4, amount_sat="300000")
    at_500k = _bayes(client, 4, amount_sat="500000")
    assert float(at_300k["p_success"]) > 0.3  # type: ignore[arg-type]
    # 600k carries 500k: the cell with a route, not a line down to the 1M cell without one
    assert at_500k["p_success"] == pytest.approx(at_300k["p_success"], rel=0.05)
    assert 0 < float(at_500k["ci95_low"]) < float(at_500k["ci95_high"])  # type: ignore[arg-type]
    assert at_500k["basis"]["amountSat"] == 500_000  # type: ignore[index]
    over = _bayes(client, 4, amount_sat="700000")
    assert (over["p_success"], over["ci95_low"], over["ci95_high"]) == (0.0, 0.0, 0.0)


@pytest.mark.parametrize(("params", "field"), [
    ({"amount_sat": "0"}, "amount_sat"), ({"amount_sat": "5000001"}, "amount_sat"),
    ({"amount_sat": "1e5"}, "amount_sat"), ({"fee_budget": "loose"}, "fee_budget"),
    ({"fee_budget": "-1"}, "fee_budget"), ({"fee_budget": "99999999"}, "fee_budget"),
])
def test_bad_amounts_and_budgets_are_400(client: httpx.Client, params: dict[str, str],
                                          field: str) -> None:
    response = client.get(f"/api/agent/{pubkey(2)}", params=params)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "INVALID_PARAMETER"
    assert response.json()["error"]["details"]["field"] == field
