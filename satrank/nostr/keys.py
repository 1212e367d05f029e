"""The oracle's Nostr key: parse hex or NIP-19 `nsec`, derive the x-only public key, `npub`.

Keys and NIP-19 text come from pynostr (MIT). Its own NIP-19 reader (`from_nsec`,
`from_npub`) is too lenient for a key read from the environment: it never checks the prefix
(an npub would load as a secret), turns a bad checksum into a TypeError and keeps a non-zero
padding byte. So decoding goes through pynostr's bundled BIP-173 reference codec with those
checks; `NostrKey` never shows its secret in a repr.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field

from pynostr import bech32 as nip19
from pynostr.key import PrivateKey, PublicKey

SECRET_SIZE = 32


class InvalidNostrKey(ValueError):
    """The text is neither 64 hex characters nor a valid NIP-19 string of the expected kind."""


def bech32_encode(hrp: str, payload: bytes) -> str:
    groups = nip19.convertbits(payload, 8, 5)
    return str(nip19.bech32_encode(hrp, groups, nip19.Encoding.BECH32))


def bech32_decode(expected_hrp: str, text: str) -> bytes:
    """The payload of a bech32 (not bech32m) string whose prefix must be `expected_hrp`."""
    hrp, groups, spec = nip19.bech32_decode(text)
    if hrp is None or spec != nip19.Encoding.BECH32:
        raise InvalidNostrKey("not a bech32 string (case, charset or checksum)")
    if hrp != expected_hrp:
        raise InvalidNostrKey(f"expected a bech32 string starting with {expected_hrp}1")
    payload = nip19.convertbits(groups, 5, 8, False)
    if payload is None:
        raise InvalidNostrKey("bech32 payload has non-zero padding")
    return bytes(payload)


@dataclass(frozen=True)
class NostrKey:
    """A BIP-340 key pair; `pubkey_hex` is the 32-byte x-only key Nostr events carry."""

    secret: bytes = field(repr=False)
    pubkey_hex: str

    @classmethod
    def from_secret(cls, secret: bytes) -> NostrKey:
        if len(secret) != SECRET_SIZE:
            raise InvalidNostrKey("a Nostr secret key is 32 bytes")
        try:
            private = PrivateKey(secret)
        except ValueError:
            raise InvalidNostrKey("secret key out of the secp256k1 range") from None
        return cls(secret=secret, pubkey_hex=str(private.public_key.hex()))

    @classmethod
    def parse(cls, text: str) -> NostrKey:
        """Accept 64 hex characters (either case) or `nsec1…`."""
        text = text.strip()
        if text.lower().startswith("nsec1"):
            return cls.from_secret(bech32_decode("nsec", text))
        if len(text) != 2 * SECRET_SIZE:
            raise InvalidNostrKey("expected 64 hex characters or nsec1…")
        try:
            return cls.from_secret(bytes.fromhex(text))
        except ValueError:
            raise InvalidNostrKey("expected 64 hex characters or nsec1…") from None

    @classmethod
    def generate(cls) -> NostrKey:
        while True:
            try:
                return cls.from_secret(secrets.token_bytes(SECRET_SIZE))
            except InvalidNostrKey:  # probability ~2^-128: out of range
                continue

    @property
    def npub(self) -> str:
        return encode_npub(self.pubkey_hex)

    def nsec(self) -> str:
        """The secret as NIP-19 text: for `satrank keygen` output only, never for logs."""
        return str(PrivateKey(self.secret).bech32())

    def __repr__(self) -> str:
        return f"NostrKey(pubkey_hex={self.pubkey_hex!r})"

    __str__ = __repr__


def encode_npub(pubkey_hex: str) -> str:
    return str(PublicKey.from_hex(pubkey_hex).bech32())


def decode_npub(npub: str) -> str:
    payload = bech32_decode("npub", npub)
    if len(payload) != 32:
        raise InvalidNostrKey("an npub carries 32 bytes")
    return payload.hex()
