"""Bech32 (BIP 173) as BOLT 11 uses it: no 90-character limit, 5-bit groups in and out."""

from __future__ import annotations

from collections.abc import Sequence

CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
_REV = {c: i for i, c in enumerate(CHARSET)}
_GEN = (0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)


class Bech32Error(ValueError):
    pass


def _polymod(values: Sequence[int]) -> int:
    chk = 1
    for v in values:
        top = chk >> 25
        chk = (chk & 0x1FFFFFF) << 5 ^ v
        for i in range(5):
            if (top >> i) & 1:
                chk ^= _GEN[i]
    return chk


def _hrp_expand(hrp: str) -> list[int]:
    return [ord(c) >> 5 for c in hrp] + [0] + [ord(c) & 31 for c in hrp]


def encode(hrp: str, data: Sequence[int]) -> str:
    values = _hrp_expand(hrp) + list(data)
    mod = _polymod(values + [0] * 6) ^ 1
    checksum = [(mod >> 5 * (5 - i)) & 31 for i in range(6)]
    return hrp + "1" + "".join(CHARSET[d] for d in list(data) + checksum)


def decode(text: str) -> tuple[str, list[int]]:
    """Split and verify a bech32 string; returns (hrp, 5-bit data without checksum)."""
    if text.lower() != text and text.upper() != text:
        raise Bech32Error("mixed case")
    text = text.lower()
    pos = text.rfind("1")
    if pos < 1 or pos + 7 > len(text):
        raise Bech32Error("no separator or checksum")
    hrp = text[:pos]
    try:
        data = [_REV[c] for c in text[pos + 1:]]
    except KeyError as exc:
        raise Bech32Error(f"invalid character {exc.args[0]!r}") from None
    if _polymod(_hrp_expand(hrp) + data) != 1:
        raise Bech32Error("bad checksum")
    return hrp, data[:-6]


def bytes_to_groups(data: bytes) -> list[int]:
    """8-bit bytes to 5-bit groups, zero-padded at the end."""
    acc = bits = 0
    out: list[int] = []
    for b in data:
        acc = (acc << 8) | b
        bits += 8
        while bits >= 5:
            bits -= 5
            out.append((acc >> bits) & 31)
    if bits:
        out.append((acc << (5 - bits)) & 31)
    return out


def groups_to_bytes(groups: Sequence[int], *, pad: bool) -> bytes:
    """5-bit groups to bytes; with pad=False a trailing partial byte is dropped."""
    acc = bits = 0
    out = bytearray()
    for g in groups:
        acc = (acc << 5) | g
        bits += 5
        while bits >= 8:
            bits -= 8
            out.append((acc >> bits) & 0xFF)
    if pad and bits:
        out.append((acc << (8 - bits)) & 0xFF)
    return bytes(out)


def int_to_groups(value: int, length: int | None = None) -> list[int]:
    """Big-endian 5-bit groups, minimal length unless `length` is given."""
    out: list[int] = []
    while value:
        out.append(value & 31)
        value >>= 5
    if length is not None:
        out += [0] * (length - len(out))
    return out[::-1]


def groups_to_int(groups: Sequence[int]) -> int:
    value = 0
    for g in groups:
        value = (value << 5) | g
    return value
