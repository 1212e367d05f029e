"""Integration: the gate's verified-credential cache never outlives a check it skips
(expiry is redone on every hit; capability is part of the key), over the real ledger."""

from __future__ import annotations

import asyncio
import hashlib
import secrets

from satrank.api.ledger import CreditLeases
from satrank.config import DatabaseSettings
from satrank.db.pool import create_pool
from satrank.db.tokens import TokenStore
from satrank.l402.caveats import Refusal, RequestContext, minted_caveats
from satrank.l402.gate import ChallengeNeeded, Granted, PaywallGate
from satrank.l402.identifier import Identifier
from satrank.l402.mint import encode_macaroon, mint_macaroon
from tests.l402_support import DEPLOYMENT

SECRET = b"g" * 40
NOW = 1_700_000_000


def _authorization(valid_until: int, capabilities: tuple[str, ...] = ()) -> str:
    preimage = secrets.token_bytes(32)
    ident = Identifier.new(hashlib.sha256(preimage).digest(), secrets.token_bytes(32))
    caveats = [c.encode() for c in minted_caveats(valid_until_unix=valid_until, credits=21,
                                                  deployment=DEPLOYMENT,
                                                  capabilities=capabilities)]
    return f"L402 {encode_macaroon(mint_macaroon(ident, caveats, SECRET))}:{preimage.hex()}"


def test_cached_credentials_still_expire_and_keep_their_capabilities(db_dsn: str) -> None:
    async def run() -> list[object]:
        pool = await create_pool(db_dsn, DatabaseSettings(url=None, pool_min=1, pool_max=2))
        gate = PaywallGate(secrets=[SECRET], ledger=CreditLeases(TokenStore(pool)))
        header = [_authorization(NOW + 100, capabilities=("profile",))]

        async def at(now: int, capability: str) -> object:
            return await gate.check(authorizations=header, operator_token=None, cost=1,
                                    ctx=RequestContext(now_unix=now, capability=capability))

        try:
            return [await at(NOW, "profile"), await at(NOW + 99, "profile"),
                    await at(NOW + 99, "probe"), await at(NOW + 100, "profile"),
                    gate.valid_token_id(authorizations=header, now_unix=NOW + 100)]
        finally:
            await pool.close()

    first, cached, other_route, expired, as_proof = asyncio.run(run())
    assert isinstance(first, Granted) and first.credits_left == 20
    assert isinstance(cached, Granted) and cached.credits_left == 19
    assert other_route == ChallengeNeeded(Refusal.INVALID)
    assert expired == ChallengeNeeded(Refusal.EXPIRED)
    assert as_proof is None


def test_junk_beside_a_valid_credential_does_not_grow_the_cache(db_dsn: str) -> None:
    """The cache is keyed by the parsed credential: 2,000 requests that each carry the same
    valid token beside a different 4 KB junk Authorization value (and differently spaced)
    keep one small entry, where keying by the raw header kept 2,000 × 4 KB."""
    import tracemalloc

    async def run() -> int:
        pool = await create_pool(db_dsn, DatabaseSettings(url=None, pool_min=1, pool_max=2))
        gate = PaywallGate(secrets=[SECRET], ledger=CreditLeases(TokenStore(pool)))
        valid = _authorization(NOW + 100)
        scheme, rest = valid.split(" ", 1)
        try:
            assert gate.valid_token_id(authorizations=[valid], now_unix=NOW) is not None
            tracemalloc.start()
            before = tracemalloc.get_traced_memory()[0]
            for i in range(2000):
                junk = f"Basic {i:08d}{secrets.token_hex(1996)}"
                spaced = f"{scheme}{' ' * (1 + i % 7)}{rest}"
                assert gate.valid_token_id(authorizations=[junk, spaced],
                                           now_unix=NOW) is not None
            grown = tracemalloc.get_traced_memory()[0] - before
            tracemalloc.stop()
            return grown
        finally:
            await pool.close()

    assert asyncio.run(run()) < 1_000_000
