"""Minting: an invoice from our node, a 66-byte identifier, a macaroon under a derived key.

The root key of every token is HMAC-SHA256(L402_MACAROON_SECRET, token id): nothing to
store, and rotating the secret revokes every token (a previous secret may still verify).
Macaroons travel as libmacaroons V2 binary in STANDARD base64 with padding; pymacaroons'
`serialize()` gives URL-safe unpadded text, which Go clients (lnget, Aperture) reject.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from pymacaroons import MACAROON_V2, Macaroon
from pymacaroons.serializers import BinarySerializer

from satrank.l402.caveats import minted_caveats
from satrank.l402.identifier import TOKEN_ID_SIZE, Identifier

MACAROON_LOCATION = "satrank"  # V2 writes the identifier packet only when a location is set
INVOICE_EXPIRY_S = 600
TOKEN_LIFETIME_S = 30 * 24 * 3600


class InvoiceUnavailable(Exception):
    """The invoice backend cannot create an invoice right now (node down, timeout, refusal)."""


@dataclass(frozen=True)
class IssuedInvoice:
    payment_request: str  # BOLT11
    payment_hash: bytes
    deployment: str  # the issuing node's `satrank_node` value (caveats.deployment_of)


class InvoiceIssuer(Protocol):
    """The slice of a Lightning node minting needs. Raises InvoiceUnavailable on failure."""

    async def create_invoice(self, amount_sat: int, memo: str, expiry_s: int) -> IssuedInvoice:
        ...


@dataclass(frozen=True)
class Challenge:
    """A freshly minted, unpaid token and the invoice that pays for it."""

    macaroon: str  # standard base64 of the V2 bytes
    invoice: str
    payment_hash: bytes
    token_id: bytes
    credits: int
    amount_sat: int
    valid_until_unix: int
    invoice_expires_unix: int
    deployment: str  # the `satrank_node` caveat it carries


def derive_root_key(secret: bytes, token_id: bytes) -> bytes:
    return hmac.new(secret, token_id, hashlib.sha256).digest()


def mint_macaroon(identifier: Identifier, caveats: Iterable[str], secret: bytes) -> bytes:
    """Raw V2 macaroon bytes for `identifier`, signed under the token's derived root key."""
    macaroon = Macaroon(
        location=MACAROON_LOCATION,
        identifier=identifier.encode(),
        key=derive_root_key(secret, identifier.token_id),
        version=MACAROON_V2,
    )
    for caveat in caveats:
        macaroon.add_first_party_caveat(caveat)
    raw: bytes = BinarySerializer().serialize_raw(macaroon)
    return raw


def encode_macaroon(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def decode_macaroon(text: str) -> bytes:
    """Raw bytes of a base64 macaroon, standard or URL-safe, padded or not; ValueError else."""
    body = text.strip().translate(str.maketrans("-_", "+/")).rstrip("=")
    try:
        return base64.b64decode(body + "=" * (-len(body) % 4), validate=True)
    except binascii.Error as exc:
        raise ValueError("macaroon is not base64") from exc


async def mint_challenge(
    issuer: InvoiceIssuer,
    *,
    secret: bytes,
    token_id: bytes,
    credits: int,
    amount_sat: int,
    now_unix: int,
    memo: str,
    lifetime_s: int = TOKEN_LIFETIME_S,
    invoice_expiry_s: int = INVOICE_EXPIRY_S,
    capabilities: Iterable[str] = (),
) -> Challenge:
    """Ask the node for an invoice, then mint the token bound to its payment hash."""
    if len(token_id) != TOKEN_ID_SIZE:
        raise ValueError(f"token id must be {TOKEN_ID_SIZE} bytes")
    if amount_sat <= 0 or credits <= 0:
        raise ValueError("amount and credits must be positive")
    invoice = await issuer.create_invoice(amount_sat, memo, invoice_expiry_s)
    identifier = Identifier.new(invoice.payment_hash, token_id)
    valid_until = now_unix + lifetime_s
    caveats = minted_caveats(valid_until_unix=valid_until, credits=credits,
                             deployment=invoice.deployment, capabilities=capabilities)
    raw = mint_macaroon(identifier, (c.encode() for c in caveats), secret)
    return Challenge(
        macaroon=encode_macaroon(raw),
        invoice=invoice.payment_request,
        payment_hash=invoice.payment_hash,
        token_id=token_id,
        credits=credits,
        amount_sat=amount_sat,
        valid_until_unix=valid_until,
        invoice_expires_unix=now_unix + invoice_expiry_s,
        deployment=invoice.deployment,
    )
