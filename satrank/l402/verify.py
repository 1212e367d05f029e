"""Verification of a credential, cheapest and most decisive checks first:

    base64 + V2 decode (every exception caught: malformed input raises non-macaroon errors)
    -> sha256(preimage) == payment hash of the identifier (constant time, before any HMAC)
    -> signature under the derived root key (current secret, then the previous one)
    -> caveats (narrowing, expiry, service, capability)

Knowing the preimage proves payment (only our node knew it before settlement), so nothing
here calls the Lightning node. The ledger debit comes after, in `gate`.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pymacaroons import Macaroon, Verifier
from pymacaroons.serializers import BinarySerializer

from satrank.l402.caveats import CaveatFailed, Refusal, RequestContext, TokenTerms, evaluate_caveats
from satrank.l402.headers import Credential
from satrank.l402.identifier import Identifier, IdentifierError
from satrank.l402.mint import decode_macaroon, derive_root_key

# We mint 3 or 4 caveats and clients append one or two (lnget: `preimage=`). Each costs a
# packet to decode and an HMAC to check (~15 us), so a 2 KiB macaroon of tiny appended
# caveats (~225) cost 3.4 ms of event loop before this cap (bench/RESULTS.md, "Parsers").
MAX_CAVEATS = 32


class VerificationFailed(Exception):
    def __init__(self, refusal: Refusal, message: str) -> None:
        super().__init__(message)
        self.refusal = refusal


@dataclass(frozen=True)
class AuthenticToken:
    """A macaroon we minted, with its signature and preimage checked; caveats not yet."""

    token_id: bytes
    payment_hash: bytes
    caveats: tuple[str, ...]


@dataclass(frozen=True)
class VerifiedToken:
    token_id: bytes
    payment_hash: bytes
    terms: TokenTerms


def _malformed(message: str) -> VerificationFailed:
    return VerificationFailed(Refusal.MALFORMED, message)


def _decode(text: str) -> Macaroon:
    try:
        raw = decode_macaroon(text)
        macaroon = BinarySerializer().deserialize_raw(raw)
        identifier = macaroon.identifier_bytes
    except Exception as exc:  # pymacaroons raises IndexError, struct.error, bare Exception...
        raise _malformed("macaroon cannot be decoded") from exc
    if not isinstance(identifier, bytes):
        raise _malformed("macaroon has no identifier")
    return macaroon


def _caveat_texts(macaroon: Macaroon) -> list[str]:
    if len(macaroon.caveats) > MAX_CAVEATS:
        raise _malformed("too many caveats")
    texts: list[str] = []
    for caveat in macaroon.caveats:
        if caveat.verification_key_id:
            raise VerificationFailed(Refusal.INVALID, "third-party caveats are not accepted")
        try:
            texts.append(caveat.caveat_id_bytes.decode("utf-8"))
        except UnicodeDecodeError as exc:
            raise _malformed("caveat is not text") from exc
    return texts


def _has_valid_signature(macaroon: Macaroon, root_key: bytes) -> bool:
    verifier = Verifier()
    # Caveats are judged by our satisfiers afterwards; here only the HMAC chain counts.
    verifier.satisfy_general(_accept_any)
    try:
        return bool(verifier.verify(macaroon, root_key))
    except Exception:
        return False


def _accept_any(_caveat: Any) -> bool:
    return True


def authenticate_credential(credential: Credential, *, secrets: Sequence[bytes]) -> AuthenticToken:
    """Everything but the caveats (which depend on time and route); VerificationFailed else.

    The result depends only on the credential and the secrets, so callers may cache it.
    Only the first macaroon counts: we never mint third-party caveats, so discharge
    macaroons after it can grant nothing and are ignored.
    """
    macaroon = _decode(credential.macaroons[0])
    try:
        identifier = Identifier.decode(macaroon.identifier_bytes)
    except IdentifierError as exc:
        raise _malformed("identifier is not L402 version 0") from exc
    if not hmac.compare_digest(hashlib.sha256(credential.preimage).digest(),
                               identifier.payment_hash):
        raise VerificationFailed(Refusal.WRONG_PREIMAGE,
                                 "preimage does not match the payment hash")
    texts = _caveat_texts(macaroon)
    if not any(_has_valid_signature(macaroon, derive_root_key(s, identifier.token_id))
               for s in secrets):
        raise VerificationFailed(Refusal.UNKNOWN, "signature does not match")
    return AuthenticToken(identifier.token_id, identifier.payment_hash, tuple(texts))


def check_caveats(token: AuthenticToken, ctx: RequestContext) -> VerifiedToken:
    try:
        terms = evaluate_caveats(token.caveats, ctx)
    except CaveatFailed as exc:
        raise VerificationFailed(exc.refusal, str(exc)) from exc
    return VerifiedToken(token.token_id, token.payment_hash, terms)


def verify_credential(
    credential: Credential, *, secrets: Sequence[bytes], ctx: RequestContext
) -> VerifiedToken:
    """The verified token of `credential`, or VerificationFailed saying which check failed."""
    return check_caveats(authenticate_credential(credential, secrets=secrets), ctx)
