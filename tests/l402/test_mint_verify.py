"""Unit: minted macaroons are byte-compatible, and verification refuses every forgery."""

from __future__ import annotations

import base64
import hashlib
import secrets

import pytest
from pymacaroons import MACAROON_V2, Macaroon, Verifier
from pymacaroons.caveat import Caveat as PmCaveat
from pymacaroons.serializers import BinarySerializer

from satrank.l402.caveats import Refusal, RequestContext, minted_caveats
from satrank.l402.headers import Credential
from satrank.l402.identifier import Identifier
from satrank.l402.mint import (
    MACAROON_LOCATION,
    decode_macaroon,
    derive_root_key,
    encode_macaroon,
    mint_macaroon,
)
from satrank.l402.verify import MAX_CAVEATS, VerificationFailed, verify_credential
from tests.l402_support import DEPLOYMENT

SECRET = b"s" * 40
OTHER_SECRET = b"o" * 40
NOW = 1_700_000_000


def mint(secret: bytes = SECRET, credits: int = 21) -> tuple[str, bytes, bytes]:
    preimage = secrets.token_bytes(32)
    token_id = secrets.token_bytes(32)
    ident = Identifier.new(hashlib.sha256(preimage).digest(), token_id)
    caveats = [c.encode() for c in minted_caveats(valid_until_unix=NOW + 100, credits=credits,
                                                  deployment=DEPLOYMENT)]
    return encode_macaroon(mint_macaroon(ident, caveats, secret)), preimage, token_id


def verify(mac: str, preimage: bytes, *, now: int = NOW,
           secrets_: tuple[bytes, ...] = (SECRET,)) -> Refusal | int:
    try:
        token = verify_credential(Credential((mac,), preimage), secrets=secrets_,
                                  ctx=RequestContext(now, "profile"))
    except VerificationFailed as exc:
        return exc.refusal
    return token.terms.credits


def rewrite(mac: str, edit: object) -> str:
    """Re-serialize `mac` after `edit(macaroon)` changed it, keeping the old signature."""
    m = BinarySerializer().deserialize_raw(decode_macaroon(mac))
    edit(m)  # type: ignore[operator]
    return encode_macaroon(BinarySerializer().serialize_raw(m))


def add_caveat(mac: str, text: str) -> str:
    """What a holder (lnget) may do: append a first-party caveat, re-signing the chain."""
    m = Macaroon.deserialize(mac)
    m.add_first_party_caveat(text)
    return encode_macaroon(BinarySerializer().serialize_raw(m))


def test_wire_format_is_v2_standard_base64_with_padding() -> None:
    mac, _, token_id = mint()
    raw = base64.b64decode(mac, validate=True)
    assert raw[0] == 2 and base64.b64encode(raw).decode() == mac
    assert "-" not in mac and "_" not in mac and len(mac) % 4 == 0
    m = BinarySerializer().deserialize_raw(raw)
    assert m.location == MACAROON_LOCATION
    assert Identifier.decode(m.identifier_bytes).token_id == token_id
    # the stock library, with the derived root key, agrees the signature is right
    v = Verifier()
    v.satisfy_general(lambda _c: True)
    assert v.verify(m, derive_root_key(SECRET, token_id))


def test_valid_token_and_holder_extensions() -> None:
    mac, preimage, _ = mint()
    assert verify(mac, preimage) == 21
    assert verify(add_caveat(mac, "preimage=" + preimage.hex()), preimage) == 21
    assert verify(add_caveat(mac, "satrank_credits=3"), preimage) == 3
    assert verify(mac.rstrip("=").replace("+", "-").replace("/", "_"), preimage) == 21


def test_previous_secret_still_verifies_during_rotation() -> None:
    mac, preimage, _ = mint(secret=OTHER_SECRET)
    assert verify(mac, preimage, secrets_=(SECRET, OTHER_SECRET)) == 21
    assert verify(mac, preimage, secrets_=(SECRET,)) is Refusal.UNKNOWN


def _flip_signature(m: Macaroon) -> None:
    sig = bytearray(bytes.fromhex(m.signature))  # pymacaroons keeps the signature as hex
    sig[0] ^= 1
    m.signature = sig.hex()


def _tamper_credits(m: Macaroon) -> None:
    m.caveats[2] = PmCaveat(caveat_id="satrank_credits=9999", version=MACAROON_V2)


def _drop_validity(m: Macaroon) -> None:
    del m.caveats[1]


def _drop_last(m: Macaroon) -> None:
    del m.caveats[-1]


@pytest.mark.parametrize(
    "edit",
    [_flip_signature, _tamper_credits, _drop_validity, _drop_last],
    ids=["forged-signature", "tampered-caveat", "removed-validity", "removed-credits"],
)
def test_tampering_is_invalid(edit: object) -> None:
    mac, preimage, _ = mint()
    assert verify(rewrite(mac, edit), preimage) is Refusal.UNKNOWN


def test_signed_by_another_secret_is_invalid() -> None:
    mac, preimage, _ = mint(secret=OTHER_SECRET)
    assert verify(mac, preimage) is Refusal.UNKNOWN


def test_preimage_must_match_this_token() -> None:
    mac, preimage, _ = mint()
    _, other_preimage, _ = mint()
    assert verify(mac, other_preimage) is Refusal.WRONG_PREIMAGE
    assert verify(mac, bytes(32)) is Refusal.WRONG_PREIMAGE
    the_hash_itself = hashlib.sha256(preimage).digest()
    assert verify(mac, the_hash_itself) is Refusal.WRONG_PREIMAGE


def test_expired_token() -> None:
    mac, preimage, _ = mint()
    assert verify(mac, preimage, now=NOW + 100) is Refusal.EXPIRED


def test_widening_caveat_added_by_holder_is_invalid() -> None:
    mac, preimage, _ = mint()
    assert verify(add_caveat(mac, "satrank_credits=1000"), preimage) is Refusal.INVALID
    assert verify(add_caveat(mac, f"satrank_valid_until={NOW + 10**6}"), preimage) \
        is Refusal.INVALID


def test_third_party_caveat_is_invalid() -> None:
    mac, preimage, _ = mint()
    m = Macaroon.deserialize(mac)
    m.add_third_party_caveat("https://elsewhere", "key" * 11, "tp-id")
    assert verify(encode_macaroon(BinarySerializer().serialize_raw(m)), preimage) \
        is Refusal.INVALID


@pytest.mark.parametrize(
    "mac",
    ["", "AA==", "AgE=", base64.b64encode(b"\x02\x01\xff\xff\xff\xff").decode(),
     base64.b64encode(b"\x02" + b"\x00" * 40).decode(), "////", "not base64!",
     base64.b64encode(bytes(range(256))).decode()],
    ids=["empty", "zero-byte", "truncated", "huge-varint", "zeros", "all-ones", "not-base64",
         "byte-soup"],
)
def test_malformed_macaroons_are_invalid_not_crashes(mac: str) -> None:
    assert verify(mac, bytes(32)) is Refusal.MALFORMED


def test_identifier_of_another_version_is_invalid() -> None:
    preimage = secrets.token_bytes(32)
    m = Macaroon(location="satrank", identifier=b"\x00\x01" + hashlib.sha256(preimage).digest()
                 + bytes(32), key=derive_root_key(SECRET, bytes(32)), version=MACAROON_V2)
    assert verify(encode_macaroon(BinarySerializer().serialize_raw(m)), preimage) \
        is Refusal.MALFORMED


def test_more_caveats_than_the_cap_are_refused_before_the_signature_chain() -> None:
    mac, preimage, _ = mint()
    minted = len(minted_caveats(valid_until_unix=NOW + 100, credits=21, deployment=DEPLOYMENT))
    for _ in range(MAX_CAVEATS - minted):
        mac = add_caveat(mac, "x=y")  # unknown to us: ignored, but signed and counted
    assert verify(mac, preimage) == 21
    assert verify(add_caveat(mac, "x=y"), preimage) is Refusal.MALFORMED
