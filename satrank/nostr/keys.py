"""The oracle's Nostr key: parse hex or NIP-19 `nsec`, derive the x-only public key, `npub`.

NIP-19 uses bech32 (BIP-173, not bech32m) with a 32-byte payload. The codec lives here
because it is twenty lines and the only place that needs it; `NostrKey` never shows its
secret in a repr.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field

from coincurve import PrivateKey

_CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
_GENERATOR = (0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)
SECRET_SIZE = 32


class InvalidNostrKey(ValueError):
    """The text is neither 64 hex characters nor a valid NIP-19 string of the expected kind."""


def _polymod(values: list[int]) -> int:
    chk = 1
    for value in values:
        top = chk >> 25
        chk = (chk & 0x1FFFFFF) << 5 ^ value
        for i, gen in enumerate(_GENERATOR):
            if (top >> i) & 1:
                chk ^= gen
    return chk


def _hrp_expand(hrp: str) -> list[int]:
    return [ord(c) >> 5 for c in hrp] + [0] + [ord(c) & 31 for c in hrp]


def _regroup(data: bytes | list[int], from_bits: int, to_bits: int, pad: bool) -> list[int]:
    acc = bits = 0
    out: list[int] = []
    mask = (1 << to_bits) - 1
    for value in data:
        acc = (acc << from_bits) | value
        bits += from_bits
        while bits >= to_bits:
            bits -= to_bits
            out.append((acc >> bits) & mask)
    if pad and bits:
        out.append((acc << (to_bits - bits)) & mask)
    elif not pad and (bits >= from_bits or (acc << (to_bits - bits)) & mask):
        raise InvalidNostrKey("bech32 payload has non-zero padding")
    return out


def bech32_encode(hrp: str, payload: bytes) -> str:
    data = _regroup(payload, 8, 5, pad=True)
    checksum = _polymod(_hrp_expand(hrp) + data + [0] * 6) ^ 1
    data += [(checksum >> 5 * (5 - i)) & 31 for i in range(6)]
    return hrp + "1" + "".join(_CHARSET[d] for d in data)


def bech32_decode(expected_hrp: str, text: str) -> bytes:
    """The payload of a bech32 string whose prefix must be `expected_hrp`."""
    if text.lower() != text and text.upper() != text:
        raise InvalidNostrKey("bech32 string mixes upper and lower case")
    text = text.lower()
    hrp, sep, rest = text.rpartition("1")
    if not sep or hrp != expected_hrp or len(rest) < 6:
        raise InvalidNostrKey(f"expected a bech32 string starting with {expected_hrp}1")
    try:
        data = [_CHARSET.index(c) for c in rest]
    except ValueError:
        raise InvalidNostrKey("bech32 string has a character outside the charset") from None
    if _polymod(_hrp_expand(hrp) + data) != 1:
        raise InvalidNostrKey("bech32 checksum mismatch")
    return bytes(_regroup(data[:-6], 5, 8, pad=False))


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
        xonly = private.public_key_xonly.format()
        return cls(secret=secret, pubkey_hex=xonly.hex())

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
        return bech32_encode("nsec", self.secret)

    def __repr__(self) -> str:
        return f"NostrKey(pubkey_hex={self.pubkey_hex!r})"

    __str__ = __repr__


def encode_npub(pubkey_hex: str) -> str:
    return bech32_encode("npub", bytes.fromhex(pubkey_hex))


def decode_npub(npub: str) -> str:
    payload = bech32_decode("npub", npub)
    if len(payload) != 32:
        raise InvalidNostrKey("an npub carries 32 bytes")
    return payload.hex()
