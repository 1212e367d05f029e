"""Unit: the 66-byte version-0 identifier round-trips and rejects everything else."""

from __future__ import annotations

import pytest

from satrank.l402.identifier import (
    IDENTIFIER_SIZE,
    Identifier,
    IdentifierError,
    UnknownIdentifierVersion,
)

HASH = bytes(range(32))
TOKEN = bytes(range(32, 64))


def test_layout_is_version_then_hash_then_token_id() -> None:
    raw = Identifier.new(HASH, TOKEN).encode()
    assert len(raw) == IDENTIFIER_SIZE == 66
    assert raw[:2] == b"\x00\x00" and raw[2:34] == HASH and raw[34:] == TOKEN
    assert Identifier.decode(raw) == Identifier(0, HASH, TOKEN)


@pytest.mark.parametrize(
    ("raw", "error"),
    [
        (b"", IdentifierError),
        (b"\x00", IdentifierError),
        (b"\x00\x01" + HASH + TOKEN, UnknownIdentifierVersion),
        (b"\x00\x00" + HASH + TOKEN[:-1], IdentifierError),
        (b"\x00\x00" + HASH + TOKEN + b"x", IdentifierError),
    ],
    ids=["empty", "one-byte", "version-1", "short-token-id", "trailing-byte"],
)
def test_decode_refuses(raw: bytes, error: type[Exception]) -> None:
    with pytest.raises(error):
        Identifier.decode(raw)


def test_constructor_checks_sizes() -> None:
    with pytest.raises(IdentifierError):
        Identifier.new(HASH[:31], TOKEN)
