"""Integration: 200 parallel requests on one 21-credit token over real HTTP and Postgres."""

from __future__ import annotations

import asyncio
import collections

import httpx

from tests.l402_support import PreimageIssuer, serve_paid_app
from tests.test_paywall import CHALLENGE, PROFILE


async def _burst(base: str, header: str, n: int) -> collections.Counter[int]:
    limits = httpx.Limits(max_connections=n, max_keepalive_connections=n)
    async with httpx.AsyncClient(base_url=base, timeout=60, limits=limits) as client:
        responses = await asyncio.gather(
            *(client.get(PROFILE, headers={"Authorization": header}) for _ in range(n))
        )
    return collections.Counter(r.status_code for r in responses)


def test_200_parallel_requests_on_21_credits_serve_exactly_21(db_dsn: str) -> None:
    issuer = PreimageIssuer()
    with serve_paid_app(db_dsn, issuer) as base:
        challenge = httpx.get(base + PROFILE)
        mac, invoice = CHALLENGE.match(challenge.headers.get_list("www-authenticate")[0]).groups()
        header = f"L402 {mac}:{issuer.pay(invoice).hex()}"
        counts = asyncio.run(_burst(base, header, 200))
    assert counts == {200: 21, 402: 179}
