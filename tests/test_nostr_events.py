"""Unit: NIP-01 id serialization and BIP-340 signatures against fixed vectors."""

from __future__ import annotations

import copy

import pytest
from coincurve import PrivateKey

from satrank.nostr.events import (
    InvalidEvent,
    UnsignedEvent,
    event_id,
    serialize_for_id,
    sign_event,
    verify_event,
)
from satrank.nostr.keys import NostrKey

KEY = NostrKey.parse("00" * 31 + "03")
# Template with quotes, backslash, newline, U+2028, a C0 control, non-ASCII and emoji.
TRICKY = UnsignedEvent(
    kind=30382,
    created_at=1700000000,
    tags=[["d", "02aa"], ["alias", 'älias ⚡ "q" \\ \n']],
    content="a\u2028b\u0001",
)
# Computed independently by nostr-tools 2.25.2 getEventHash / finalizeEvent
# (tests/interop/nostr/sign.mjs with secret key 3).
TRICKY_ID = "de1508079461f1c6e10dddba28149a49b2906766802b4279b066e9e61a320404"


def test_id_matches_the_nostr_tools_vector() -> None:
    assert event_id(KEY.pubkey_hex, TRICKY.created_at, TRICKY.kind, TRICKY.tags,
                    TRICKY.content) == TRICKY_ID


def test_serialization_has_no_whitespace_and_keeps_unicode_verbatim() -> None:
    raw = serialize_for_id(KEY.pubkey_hex, 1, 1, [["t", "⚡"]], "x\ny")
    assert raw == ('[0,"' + KEY.pubkey_hex + '",1,1,[["t","⚡"]],"x\\ny"]').encode()


def test_signed_event_verifies_and_has_the_vector_id() -> None:
    event = sign_event(TRICKY, KEY)
    assert event["id"] == TRICKY_ID
    assert event["pubkey"] == KEY.pubkey_hex
    verify_event(event)


def test_bip340_signature_vector_0() -> None:
    # BIP-340 vector 0: key 3, aux 0^32, message 0^32.
    sig = PrivateKey(KEY.secret).sign_schnorr(bytes(32), bytes(32))
    assert sig.hex().upper() == (
        "E907831F80848D1069A5371B402410364BDF1C5F8307B0084C55F1CE2DCA8215"
        "25F66A4A85EA8B71E482A74F382D2CE5EBEEE8FDB2172F477DF4900D310536C0"
    )


@pytest.mark.parametrize(
    ("field", "value"),
    [("content", "tampered"), ("created_at", 1700000001), ("tags", [["d", "02ab"]]),
     ("sig", "00" * 64), ("id", "00" * 32), ("pubkey", "zz")],
)
def test_tampering_is_detected(field: str, value: object) -> None:
    event = copy.deepcopy(sign_event(TRICKY, KEY))
    event[field] = value
    with pytest.raises(InvalidEvent):
        verify_event(event)


def test_lone_surrogates_are_replaced_not_fatal() -> None:
    event = sign_event(UnsignedEvent(1, 1, [["alias", "a\ud800b"]], ""), KEY)
    assert event["tags"] == [["alias", "a\ufffdb"]]
    verify_event(event)
