"""Reports as clients make them: proven (the target's signed invoice and its preimage) or
forged (a preimage/hash pair anyone can make up), and target nodes whose key a test holds."""

from __future__ import annotations

import hashlib
import os
import time

import asyncpg
import coincurve

from satrank.l402.caveats import minted_caveats
from satrank.l402.identifier import Identifier
from satrank.l402.mint import encode_macaroon, mint_macaroon
from satrank.lightning import bolt11
from tests.api_seed import agent_hash
from tests.l402_support import DEPLOYMENT

SECRET = "x" * 40
# TRUST_PROXY with the live server's loopback peer: X-Forwarded-For names the client.
SETTINGS_ENV = {"L402_MACAROON_SECRET": SECRET, "TRUST_PROXY": "true"}


def client(i: int) -> dict[str, str]:
    """Headers of the i-th distinct client (distinct /24s, so distinct limit keys)."""
    return {"X-Forwarded-For": f"198.51.{i // 250}.{i % 250 + 1}"}


def forged_pair() -> tuple[str, str]:
    """(preimage hex, payment hash hex): free to make, proves nothing."""
    preimage = os.urandom(32)
    return preimage.hex(), hashlib.sha256(preimage).hexdigest()


def paid_token(secret: str = SECRET, valid_until: int = 2_000_000_000) -> tuple[bytes, str]:
    """(token id, Authorization value) of a SatRank L402 token signed with `secret`, as
    a client holds it after paying its invoice."""
    preimage, token_id = os.urandom(32), os.urandom(32)
    ident = Identifier.new(hashlib.sha256(preimage).digest(), token_id)
    caveats = [c.encode() for c in minted_caveats(valid_until_unix=valid_until, credits=21,
                                                  deployment=DEPLOYMENT)]
    mac = encode_macaroon(mint_macaroon(ident, caveats, secret.encode()))
    return token_id, f"L402 {mac}:{preimage.hex()}"


def signed_invoice(key: coincurve.PrivateKey, *, amount_sat: int = 2100,
                   preimage: bytes | None = None, age_s: int = 60) -> tuple[str, str]:
    """(BOLT 11 invoice signed by `key`, made `age_s` ago; preimage hex of its hash)."""
    preimage = preimage or os.urandom(32)
    req = bolt11.PaymentRequest(
        network="bcrt", amount_msat=amount_sat * 1000, timestamp=int(time.time()) - age_s,
        payment_hash=hashlib.sha256(preimage).digest(), payment_secret=os.urandom(32),
        description="coffee", description_hash=None, expiry_s=3600, min_final_cltv=40)
    return bolt11.encode(req, key), preimage.hex()


async def add_keyed_node(dsn: str, key: coincurve.PrivateKey, peer: str) -> str:
    """A node whose key the test holds, with one channel (an enabled policy into it) to
    `peer`; returns its pubkey."""
    pk = key.public_key.format().hex()
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute("INSERT INTO nodes (pubkey, agent_hash, alias) VALUES ($1, $2, $3)",
                           pk, agent_hash(pk), "keyed")
        a, b = sorted((pk, peer))
        chan = 900_000 << 40 | int.from_bytes(os.urandom(2), "big")
        await conn.execute("INSERT INTO channels (channel_id, node1_pub, node2_pub, "
                           "capacity_sat) VALUES ($1, $2, $3, 5000000)", chan, a, b)
        await conn.executemany(
            """INSERT INTO channel_policies (channel_id, direction, time_lock_delta,
                 min_htlc_msat, max_htlc_msat, fee_base_msat, fee_rate_milli_msat, disabled,
                 last_update)
               VALUES ($1, $2, 80, 1000, 4990000000, 1000, 100, false, now())""",
            [(chan, 0), (chan, 1)])
        return pk
    finally:
        await conn.close()
