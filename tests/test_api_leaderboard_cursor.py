"""Integration: the leaderboard's keyset pagination over real HTTP and Postgres. Following
`next_cursor` reaches every scored active node exactly once, past the 10,000 rows `offset`
can reach, in every sort order, ties included."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Iterator

import asyncpg
import httpx
import pytest

from satrank.api.app import create_app
from satrank.config import Settings
from satrank.db.nodes import SORT_AXES
from tests.live_server import live_server

SETTINGS = Settings.from_environ({"L402_MACAROON_SECRET": "x" * 40})
SCORED = 10_237  # more than offset's cap of 10,000
INACTIVE = 50  # scored but inactive: never on the leaderboard


async def _seed_many(dsn: str) -> None:
    """Nodes with few distinct values per axis, so most page boundaries fall inside ties."""
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(
            """INSERT INTO nodes (pubkey, agent_hash, alias, is_active)
               SELECT '02' || lpad(to_hex(i), 64, '0'), md5(i::text) || md5(i::text), 'n' || i,
                      i <= $1::int
               FROM generate_series(1, $1::int + $2::int) AS i""", SCORED, INACTIVE)
        await conn.execute(
            """INSERT INTO scores (pubkey, rank, verdict, p_success, ci95_low, ci95_high,
                                   n_eff, pagerank, pagerank_pct, computed_at)
               SELECT pubkey, (i * 7) % 101, 'UNKNOWN', ((i * 13) % 10) / 10.0,
                      ((i * 3) % 5) / 10.0, 0.5 + ((i * 11) % 5) / 10.0, (i % 17)::float8,
                      ((i * 5) % 3) / 1e3, 50, now()
               FROM (SELECT pubkey, row_number() OVER (ORDER BY pubkey) AS i FROM nodes) n""")
    finally:
        await conn.close()


@pytest.fixture
def client(db_dsn: str) -> Iterator[httpx.Client]:
    asyncio.run(_seed_many(db_dsn))
    with live_server(create_app(SETTINGS, db_dsn)) as url, \
            httpx.Client(base_url=url, timeout=30) as http:
        yield http


def _walk(client: httpx.Client, sort: str, limit: int) -> list[str]:
    seen: list[str] = []
    params: dict[str, str | int] = {"sort_by": sort, "limit": limit}
    while True:
        response = client.get("/api/agents/top", params=params)
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["meta"]["total"] == SCORED
        seen += [a["publicKey"] for a in body["data"]]
        cursor = body["meta"]["next_cursor"]
        if cursor is None:
            return seen
        params = {"sort_by": sort, "limit": limit, "cursor": cursor}


def test_following_the_cursor_reaches_every_node_once(client: httpx.Client) -> None:
    for sort in SORT_AXES:
        seen = _walk(client, sort, 100)
        assert len(seen) == len(set(seen)) == SCORED, sort
        # the cursor order is the offset order where offset reaches
        first = client.get("/api/agents/top",
                           params={"sort_by": sort, "limit": 100, "offset": 300}).json()
        assert [a["publicKey"] for a in first["data"]] == seen[300:400], sort
    assert client.get("/api/agents/top", params={"offset": 10_001}).status_code == 400


def test_last_page_has_no_cursor_and_bad_cursors_are_400(client: httpx.Client) -> None:
    ranks = [a["rank"] for a in client.get(
        "/api/agents/top", params={"limit": 100}).json()["data"]]
    assert ranks == sorted(ranks, reverse=True)
    cursor = client.get("/api/agents/top", params={"limit": 3}).json()["meta"]["next_cursor"]
    other_sort = client.get("/api/agents/top", params={"sort_by": "pagerank", "cursor": cursor})
    forged = base64.urlsafe_b64encode(b'["rank",1.5,"02aa"]').decode().rstrip("=")
    for params in ({"cursor": "not base64!"}, {"cursor": "x" * 300}, {"cursor": forged},
                   {"cursor": base64.urlsafe_b64encode(b"[[[[[[[[").decode()},
                   {"cursor": cursor, "offset": 5}):
        bad = client.get("/api/agents/top", params=params)
        assert bad.status_code == 400, params
        assert bad.json()["error"] == {"code": "INVALID_PARAMETER", "message": bad.json()[
            "error"]["message"], "details": {"field": "cursor"}}
    assert other_sort.status_code == 400
