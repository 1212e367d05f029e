"""Unit: NOSTR_PRIVATE_KEY parsing (hex or nsec) and NIP-19 encodings, on the NIP-19 vectors."""

from __future__ import annotations

import pytest

from satrank.nostr.keys import InvalidNostrKey, NostrKey, decode_npub, encode_npub

# Test vectors from NIP-19 (nostr-protocol/nips 19.md); the two belong to one key pair.
NIP19_NSEC = "nsec1vl029mgpspedva04g90vltkh6fvh240zqtv9k0t9af8935ke9laqsnlfe5"
NIP19_SECRET_HEX = "67dea2ed018072d675f5415ecfaed7d2597555e202d85b3d65ea4e58d2d92ffa"
NIP19_NPUB = "npub10elfcs4fr0l0r8af98jlmgdh9c8tcxjvz9qkw038js35mp4dma8qzvjptg"
NIP19_PUBKEY_HEX = "7e7e9c42a91bfef19fa929e5fda1b72e0ebc1a4c1141673e2794234d86addf4e"
# BIP-340 test vector 0: secret key 3.
BIP340_SECRET_HEX = "00" * 31 + "03"
BIP340_PUBKEY_HEX = "f9308a019258c31049344f85f89d5229b531c845836f99b08601f113bce036f9"


def test_nsec_vector_decodes_to_the_hex_secret_and_its_pubkey() -> None:
    key = NostrKey.parse(NIP19_NSEC)
    assert key.secret.hex() == NIP19_SECRET_HEX
    assert key.pubkey_hex == NIP19_PUBKEY_HEX
    assert key.npub == NIP19_NPUB
    assert key.nsec() == NIP19_NSEC


def test_hex_and_nsec_forms_give_the_same_key() -> None:
    assert NostrKey.parse(NIP19_SECRET_HEX) == NostrKey.parse(NIP19_NSEC)
    assert NostrKey.parse(NIP19_SECRET_HEX.upper()).pubkey_hex == NIP19_PUBKEY_HEX
    assert NostrKey.parse(NIP19_NSEC.upper()).pubkey_hex == NIP19_PUBKEY_HEX


def test_npub_round_trip() -> None:
    assert encode_npub(NIP19_PUBKEY_HEX) == NIP19_NPUB
    assert decode_npub(NIP19_NPUB) == NIP19_PUBKEY_HEX


def test_bip340_vector_public_key() -> None:
    assert NostrKey.parse(BIP340_SECRET_HEX).pubkey_hex == BIP340_PUBKEY_HEX


def test_generated_keys_round_trip_through_nsec() -> None:
    key = NostrKey.generate()
    assert NostrKey.parse(key.nsec()) == key
    assert decode_npub(key.npub) == key.pubkey_hex


@pytest.mark.parametrize(
    "text",
    [
        "",
        "zz" * 32,
        "ab" * 31,
        "00" * 32,  # zero is not a valid secp256k1 secret
        "ff" * 32,  # above the group order
        NIP19_NSEC[:-1] + ("q" if NIP19_NSEC[-1] != "q" else "p"),  # checksum broken
        NIP19_NPUB,  # a public key is not a secret
        "nsec1" + NIP19_NSEC[5:].upper(),  # mixed case
        "nsec1bbbbbb",
    ],
    ids=["empty", "not-hex", "short-hex", "zero", "over-order", "bad-checksum", "npub",
         "mixed-case", "too-short"],
)
def test_invalid_keys_are_refused(text: str) -> None:
    with pytest.raises(InvalidNostrKey):
        NostrKey.parse(text)


def test_repr_never_shows_the_secret() -> None:
    key = NostrKey.parse(NIP19_SECRET_HEX)
    assert NIP19_SECRET_HEX not in repr(key)
    assert NIP19_SECRET_HEX not in str(key)
