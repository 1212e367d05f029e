"""The 66-byte version-0 macaroon identifier Aperture, lnget and lsat-js decode.

    offset 0  uint16 big-endian version (0)
    offset 2  32-byte payment hash of the invoice that pays for the token
    offset 34 32-byte random token id
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

VERSION_0 = 0
VERSION_SIZE = 2
PAYMENT_HASH_SIZE = 32
TOKEN_ID_SIZE = 32
IDENTIFIER_SIZE = VERSION_SIZE + PAYMENT_HASH_SIZE + TOKEN_ID_SIZE  # 66

_VERSION = struct.Struct(">H")


class IdentifierError(ValueError):
    """The identifier bytes are not a version-0 L402 identifier."""


class UnknownIdentifierVersion(IdentifierError):
    pass


@dataclass(frozen=True)
class Identifier:
    version: int
    payment_hash: bytes
    token_id: bytes

    def __post_init__(self) -> None:
        if self.version != VERSION_0:
            raise UnknownIdentifierVersion(f"identifier version {self.version} is not supported")
        if len(self.payment_hash) != PAYMENT_HASH_SIZE:
            raise IdentifierError(f"payment hash must be {PAYMENT_HASH_SIZE} bytes")
        if len(self.token_id) != TOKEN_ID_SIZE:
            raise IdentifierError(f"token id must be {TOKEN_ID_SIZE} bytes")

    @classmethod
    def new(cls, payment_hash: bytes, token_id: bytes) -> Identifier:
        return cls(VERSION_0, payment_hash, token_id)

    def encode(self) -> bytes:
        return _VERSION.pack(self.version) + self.payment_hash + self.token_id

    @classmethod
    def decode(cls, raw: bytes) -> Identifier:
        if len(raw) < VERSION_SIZE:
            raise IdentifierError("identifier too short")
        (version,) = _VERSION.unpack_from(raw)
        if version != VERSION_0:
            raise UnknownIdentifierVersion(f"identifier version {version} is not supported")
        if len(raw) != IDENTIFIER_SIZE:
            raise IdentifierError(f"identifier must be {IDENTIFIER_SIZE} bytes")
        hash_end = VERSION_SIZE + PAYMENT_HASH_SIZE
        return cls(version, raw[VERSION_SIZE:hash_end], raw[hash_end:])
