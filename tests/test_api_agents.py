"""Integration: free agent routes over real HTTP against a seeded Postgres."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from satrank.api.app import create_app
from satrank.api.cache import ApiCaches
from satrank.api.routes import nodes
from satrank.config import Settings
from satrank.db.nodes import NodeSummary
from tests.api_seed import agent_hash, pubkey, seed
from tests.live_server import live_server

SETTINGS = Settings.from_environ({"L402_MACAROON_SECRET": "x" * 40})


@pytest.fixture
def api(db_dsn: str) -> Iterator[tuple[httpx.Client, list[str]]]:
    pks = asyncio.run(seed(db_dsn))
    with live_server(create_app(SETTINGS, db_dsn)) as url, \
            httpx.Client(base_url=url, timeout=10) as client:
        yield client, pks


def test_agent_by_pubkey_and_by_agent_hash(api: tuple[httpx.Client, list[str]]) -> None:
    client, pks = api
    by_pk = client.get(f"/api/agent/{pks[0]}")
    by_hash = client.get(f"/api/agent/{agent_hash(pks[0])}")
    upper = client.get(f"/api/agent/{pks[0].upper()}")
    assert by_pk.status_code == by_hash.status_code == upper.status_code == 200
    assert by_pk.json() == by_hash.json() == upper.json()
    data = by_pk.json()["data"]
    assert data["agent"]["publicKey"] == pks[0]
    assert data["agent"]["publicKeyHash"] == agent_hash(pks[0])
    assert data["agent"]["alias"] == "ACINQ"
    assert data["rank"] == 90
    assert data["bayesian"]["verdict"] == "SAFE"
    assert data["bayesian"]["p_success"] == pytest.approx(0.95)


def test_unscored_node_has_null_score(api: tuple[httpx.Client, list[str]]) -> None:
    client, pks = api
    data = client.get(f"/api/agent/{pks[5]}").json()["data"]
    assert data["rank"] is None and data["bayesian"] is None
    verdict = client.get(f"/api/agent/{pks[5]}/verdict").json()["data"]
    assert verdict["verdict"] == "INSUFFICIENT" and verdict["p_success"] is None


def test_invalid_and_unknown_ids(api: tuple[httpx.Client, list[str]]) -> None:
    client, _ = api
    for bad in ("zz", "04" + "a" * 64, "a" * 63, "0" * 65):
        response = client.get(f"/api/agent/{bad}")
        assert response.status_code == 400
        body = response.json()
        assert body["error"]["code"] == "INVALID_ID"
        assert bad not in response.text
        assert body["requestId"] == response.headers["x-request-id"]
    missing = client.get(f"/api/agent/{pubkey(999)}")
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "NOT_FOUND"


def test_verdict_etag_and_304(api: tuple[httpx.Client, list[str]]) -> None:
    client, pks = api
    first = client.get(f"/api/agent/{pks[2]}/verdict")
    assert first.status_code == 200
    data = first.json()["data"]
    assert data["verdict"] == "RISKY" and data["reasons"] == ["reason 2"]
    assert data["reason"] == "reason 2"
    etag = first.headers["etag"]
    assert etag.startswith('W/"') and first.headers["cache-control"] == "public, max-age=30"
    again = client.get(f"/api/agent/{pks[2]}/verdict", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    assert again.headers["etag"] == etag
    other = client.get(f"/api/agent/{pks[2]}/verdict", headers={"If-None-Match": 'W/"nope"'})
    assert other.status_code == 200


def _count_renders(monkeypatch: pytest.MonkeyPatch, block: str) -> list[str]:
    """The pubkeys `nodes.<block>` renders from now on, in order."""
    rendered: list[str] = []
    real = getattr(nodes, block)

    def counted(n: NodeSummary) -> dict[str, Any]:
        rendered.append(n.pubkey)
        return dict(real(n))

    monkeypatch.setattr(nodes, block, counted)
    return rendered


def _same_node_twice_then_another(client: httpx.Client, pks: list[str],
                                  suffix: str) -> list[httpx.Response]:
    answers = [client.get(f"/api/agent/{pk}{suffix}") for pk in (pks[1], pks[1], pks[2])]
    assert [a.status_code for a in answers] == [200, 200, 200]
    assert answers[0].content == answers[1].content
    return answers


def test_verdicts_are_rendered_once_per_node_and_data_version(
        api: tuple[httpx.Client, list[str]], monkeypatch: pytest.MonkeyPatch) -> None:
    client, pks = api
    rendered = _count_renders(monkeypatch, "verdict_block")
    answers = _same_node_twice_then_another(client, pks, "/verdict")
    assert answers[0].headers["etag"] == answers[1].headers["etag"]
    assert rendered == [pks[1], pks[2]]


def test_leaderboard_sort_axes_and_pagination(api: tuple[httpx.Client, list[str]]) -> None:
    client, pks = api
    top = client.get("/api/agents/top").json()
    assert top["meta"] == {"total": 5, "limit": 20, "offset": 0, "sort_by": "rank",
                           "next_cursor": None}
    assert [a["rank"] for a in top["data"]] == [90, 80, 70, 60, 50]
    page = client.get("/api/agents/top", params={"limit": 2, "offset": 2}).json()
    assert [a["publicKey"] for a in page["data"]] == pks[2:4]
    by_n = client.get("/api/agents/top", params={"sort_by": "n_obs"}).json()["data"]
    assert [a["bayesian"]["n_obs"] for a in by_n] == sorted(
        (a["bayesian"]["n_obs"] for a in by_n), reverse=True)
    widths = [a["bayesian"]["ci95_high"] - a["bayesian"]["ci95_low"] for a in client.get(
        "/api/agents/top", params={"sort_by": "ci95_width"}).json()["data"]]
    assert widths == sorted(widths)
    for params in ({"sort_by": "score"}, {"limit": "0"}, {"limit": "101"}, {"offset": "-1"},
                   {"limit": "abc"}):
        bad = client.get("/api/agents/top", params=params)
        assert bad.status_code == 400, params
        assert bad.json()["error"]["code"] == "INVALID_PARAMETER"


def test_leaderboard_pages_carry_an_etag_and_answer_304(
        api: tuple[httpx.Client, list[str]]) -> None:
    """A page is rendered with its ETag once per data version; the default page (no query
    string) is the same answer as the same page asked with its parameters spelled out."""
    client, _ = api
    first = client.get("/api/agents/top")
    spelled = client.get("/api/agents/top", params={"sort_by": "rank", "limit": 20,
                                                   "offset": 0})
    assert first.status_code == spelled.status_code == 200
    assert first.headers["content-type"] == "application/json"
    assert first.content == spelled.content
    etag = first.headers["etag"]
    assert etag.startswith('W/"') and spelled.headers["etag"] == etag
    again = client.get("/api/agents/top", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    assert again.headers["etag"] == etag and again.headers["x-request-id"]
    other = client.get("/api/agents/top", params={"limit": 2})
    assert other.headers["etag"] != etag
    assert client.get("/api/agents/top", params={"limit": 2},
                      headers={"If-None-Match": etag}).status_code == 200


def test_default_summaries_are_rendered_once_per_node_and_data_version(
        api: tuple[httpx.Client, list[str]], monkeypatch: pytest.MonkeyPatch) -> None:
    """The summary without amount or budget is kept; one with them is computed each time."""
    client, pks = api
    rendered = _count_renders(monkeypatch, "node_block")
    answers = _same_node_twice_then_another(client, pks, "")
    assert answers[0].headers["content-length"] == str(len(answers[0].content))
    assert rendered == [pks[1], pks[2]]
    for _ in range(2):
        assert client.get(f"/api/agent/{pks[1]}",
                          params={"amount_sat": 50_000}).status_code == 200
    assert rendered == [pks[1], pks[2], pks[1], pks[1]]


def test_leaderboard_cache_follows_new_scores(db_dsn: str) -> None:
    pks = asyncio.run(seed(db_dsn))

    async def bump() -> None:
        import asyncpg
        conn = await asyncpg.connect(db_dsn)
        await conn.execute("UPDATE scores SET rank = 100, computed_at = now() + interval '1 s' "
                           "WHERE pubkey = $1", pks[4])
        await conn.close()

    app = create_app(SETTINGS, db_dsn, caches=ApiCaches.build(check_interval_s=0.0))
    with live_server(app) as url:
        before = httpx.get(f"{url}/api/agents/top", timeout=10).json()["data"][0]
        assert httpx.get(f"{url}/api/agent/{pks[4]}", timeout=10).json()["data"]["rank"] == 50
        asyncio.run(bump())
        after = httpx.get(f"{url}/api/agents/top", timeout=10).json()["data"][0]
        summary = httpx.get(f"{url}/api/agent/{pks[4]}", timeout=10).json()["data"]
    assert before["publicKey"] == pks[0]
    assert after["publicKey"] == pks[4]
    assert summary["rank"] == 100


def test_pages_of_one_data_version_share_one_total(db_dsn: str) -> None:
    """The total is counted once per data version, not once per page."""
    pks = asyncio.run(seed(db_dsn))

    async def score_quietly() -> None:
        """A score row that does not move the data version (an older computed_at)."""
        import asyncpg
        conn = await asyncpg.connect(db_dsn)
        await conn.execute(
            "INSERT INTO scores (pubkey, rank, verdict, p_success, ci95_low, ci95_high, n_eff,"
            " pagerank, pagerank_pct, features, reasons, computed_at)"
            " SELECT $1, 1, verdict, p_success, ci95_low, ci95_high, n_eff, pagerank,"
            " pagerank_pct, features, reasons, computed_at - interval '1 day'"
            " FROM scores WHERE pubkey = $2", pks[5], pks[0])
        await conn.close()

    app = create_app(SETTINGS, db_dsn, caches=ApiCaches.build(check_interval_s=0.0))
    with live_server(app) as url:
        first = httpx.get(f"{url}/api/agents/top", params={"limit": 2}, timeout=10).json()
        asyncio.run(score_quietly())
        second = httpx.get(f"{url}/api/agents/top", params={"limit": 3}, timeout=10).json()
    assert first["meta"]["total"] == second["meta"]["total"] == 5


def test_alias_search(api: tuple[httpx.Client, list[str]]) -> None:
    client, pks = api
    found = client.get("/api/agents/search", params={"alias": "acinq"}).json()
    aliases = [a["alias"] for a in found["data"]]
    assert aliases == ["ACINQ", "acinq-backup"]
    sub = client.get("/api/agents/search", params={"alias": "SATOSHI"}).json()["data"]
    assert [a["alias"] for a in sub] == ["WalletOfSatoshi"]
    # LIKE metacharacters are literal text
    assert [a["alias"] for a in client.get(
        "/api/agents/search", params={"alias": "%_"}).json()["data"]] == ["50%_off"]
    assert client.get("/api/agents/search", params={"alias": "_"}).json()["meta"]["count"] == 2
    for params in ({}, {"alias": ""}, {"alias": "x" * 65}):
        bad = client.get("/api/agents/search", params=params)
        assert bad.status_code == 400 and bad.json()["error"]["code"] == "INVALID_PARAMETER"


def test_stats(api: tuple[httpx.Client, list[str]]) -> None:
    client, _ = api
    data = client.get("/api/stats").json()["data"]
    assert data["nodes"] == {"active": 6, "all": 6, "scored": 5}
    assert data["channels"]["open"] == 6
    assert data["channels"]["capacitySat"] == 21_000_000
    assert data["verdicts"] == {"SAFE": 2, "RISKY": 1, "UNKNOWN": 1, "INSUFFICIENT": 1}
    assert data["probes"]["last24h"] == 5 and data["probes"]["reachableRate7d"] == 1.0
    assert isinstance(data["scoredAt"], int)


def test_a_node_scored_without_a_grid_says_its_figures_are_the_default_ones(
        api: tuple[httpx.Client, list[str]]) -> None:
    client, pks = api
    asked = client.get(f"/api/agent/{pks[0]}", params={"amount_sat": "10000",
                                                        "fee_budget": "tight"})
    assert asked.status_code == 200
    bayes = asked.json()["data"]["bayesian"]
    assert bayes["p_success"] == pytest.approx(0.95)
    assert (bayes["basis"]["amountSat"], bayes["basis"]["feeBudget"]) == (100_000, "normal")


def test_a_served_app_freezes_its_startup_objects_out_of_the_collector(db_dsn: str) -> None:
    asyncio.run(seed(db_dsn))
    gc.unfreeze()
    try:
        with live_server(create_app(SETTINGS, db_dsn)) as url:
            assert httpx.get(f"{url}/api/health", timeout=10).status_code == 200
            assert gc.get_freeze_count() == 0  # tests' apps leave the collector alone
        with live_server(create_app(SETTINGS, db_dsn, freeze_gc=True)) as url:
            assert httpx.get(f"{url}/api/agents/top", timeout=10).status_code == 200
            assert gc.get_freeze_count() > 10_000
    finally:
        gc.unfreeze()
