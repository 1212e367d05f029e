"""BOLT 11 payment requests: encode (signed by a node key) and decode (recovering the payee).

Encoding follows BOLT 11: hrp `ln` + network + amount with the largest exact multiplier,
a 35-bit timestamp, tagged fields, and a 65-byte recoverable secp256k1 signature over
sha256(hrp bytes || data groups packed to bytes, zero-padded). Like lnd, no `n` field is
written: the payee is recovered from the signature.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field

import coincurve

from satrank.simnet import bech32

_MULTIPLIERS_MSAT = (("m", 100_000_000), ("u", 100_000), ("n", 100))
MSAT_PER_BTC = 100_000_000_000
DEFAULT_EXPIRY_S = 3600  # BOLT 11 default when `x` is absent
DEFAULT_MIN_FINAL_CLTV = 18  # BOLT 11 default when `c` is absent

# BOLT 9 bits lnd sets on its invoices: var_onion_optin (8, required), payment_secret
# (14, required), basic_mpp (17, optional).
LND_INVOICE_FEATURES = (8, 14, 17)

_TAG_P, _TAG_S, _TAG_D, _TAG_H, _TAG_X, _TAG_C, _TAG_R, _TAG_9, _TAG_N = (
    1, 16, 13, 23, 6, 24, 3, 5, 19)


class InvalidPaymentRequest(ValueError):
    pass


@dataclass(frozen=True)
class HopHint:
    node_id: bytes  # 33-byte compressed pubkey of the hop's source
    chan_id: int
    fee_base_msat: int
    fee_proportional_millionths: int
    cltv_expiry_delta: int


@dataclass(frozen=True)
class PaymentRequest:
    network: str  # "bc", "tb", "bcrt", ...
    amount_msat: int  # 0 = any amount
    timestamp: int
    payment_hash: bytes
    payment_secret: bytes | None
    description: str
    description_hash: bytes | None
    expiry_s: int
    min_final_cltv: int
    route_hints: tuple[tuple[HopHint, ...], ...] = ()
    features: tuple[int, ...] = ()
    payee: bytes = field(default=b"")  # 33-byte compressed pubkey (recovered on decode)


def _amount_text(amount_msat: int) -> str:
    if amount_msat == 0:
        return ""
    if amount_msat % MSAT_PER_BTC == 0:
        return str(amount_msat // MSAT_PER_BTC)
    for suffix, unit in _MULTIPLIERS_MSAT:
        if amount_msat % unit == 0:
            return f"{amount_msat // unit}{suffix}"
    return f"{amount_msat * 10}p"


def _tagged(tag: int, groups: Sequence[int]) -> list[int]:
    if len(groups) >= 1024:
        raise InvalidPaymentRequest("tagged field too long")
    return [tag, len(groups) >> 5, len(groups) & 31, *groups]


def _feature_groups(bits: Sequence[int]) -> list[int]:
    value = sum(1 << b for b in set(bits))
    return bech32.int_to_groups(value)


def encode(req: PaymentRequest, private_key: coincurve.PrivateKey) -> str:
    """Sign `req` (its `payee` is ignored: the key decides) and return the bech32 text."""
    hrp = "ln" + req.network + _amount_text(req.amount_msat)
    data = bech32.int_to_groups(req.timestamp, 7)
    data += _tagged(_TAG_P, bech32.bytes_to_groups(req.payment_hash))
    if req.payment_secret is not None:
        data += _tagged(_TAG_S, bech32.bytes_to_groups(req.payment_secret))
    if req.description_hash is not None:
        data += _tagged(_TAG_H, bech32.bytes_to_groups(req.description_hash))
    else:
        data += _tagged(_TAG_D, bech32.bytes_to_groups(req.description.encode()))
    if req.expiry_s != DEFAULT_EXPIRY_S:
        data += _tagged(_TAG_X, bech32.int_to_groups(req.expiry_s))
    data += _tagged(_TAG_C, bech32.int_to_groups(req.min_final_cltv))
    for hint in req.route_hints:
        raw = b"".join(
            h.node_id + h.chan_id.to_bytes(8, "big") + h.fee_base_msat.to_bytes(4, "big")
            + h.fee_proportional_millionths.to_bytes(4, "big")
            + h.cltv_expiry_delta.to_bytes(2, "big")
            for h in hint)
        data += _tagged(_TAG_R, bech32.bytes_to_groups(raw))
    if req.features:
        data += _tagged(_TAG_9, _feature_groups(req.features))
    digest = hashlib.sha256(hrp.encode() + bech32.groups_to_bytes(data, pad=True)).digest()
    signature = private_key.sign_recoverable(digest, hasher=None)
    return bech32.encode(hrp, data + bech32.bytes_to_groups(signature))


def _parse_hrp(hrp: str) -> tuple[str, int]:
    if not hrp.startswith("ln"):
        raise InvalidPaymentRequest("not a lightning invoice")
    rest = hrp[2:]
    i = 0
    while i < len(rest) and not rest[i].isdigit():
        i += 1
    network, amount = rest[:i], rest[i:]
    if not network:
        raise InvalidPaymentRequest("missing network")
    if not amount:
        return network, 0
    suffix = amount[-1]
    if suffix.isdigit():
        return network, int(amount) * MSAT_PER_BTC
    digits = amount[:-1]
    if not digits.isdigit():
        raise InvalidPaymentRequest("bad amount")
    if suffix == "p":
        if int(digits) % 10:
            raise InvalidPaymentRequest("sub-millisatoshi amount")
        return network, int(digits) // 10
    units = dict(_MULTIPLIERS_MSAT)
    if suffix not in units:
        raise InvalidPaymentRequest(f"unknown multiplier {suffix!r}")
    return network, int(digits) * units[suffix]


def _hints(raw: bytes) -> tuple[HopHint, ...]:
    if len(raw) % 51:
        raise InvalidPaymentRequest("bad route hint length")
    return tuple(
        HopHint(node_id=raw[i:i + 33], chan_id=int.from_bytes(raw[i + 33:i + 41], "big"),
                fee_base_msat=int.from_bytes(raw[i + 41:i + 45], "big"),
                fee_proportional_millionths=int.from_bytes(raw[i + 45:i + 49], "big"),
                cltv_expiry_delta=int.from_bytes(raw[i + 49:i + 51], "big"))
        for i in range(0, len(raw), 51))


def decode(text: str) -> PaymentRequest:
    """Parse and verify a BOLT 11 string; raises InvalidPaymentRequest."""
    try:
        hrp, data = bech32.decode(text.strip())
    except bech32.Bech32Error as exc:
        raise InvalidPaymentRequest(str(exc)) from None
    if len(data) < 7 + 104:
        raise InvalidPaymentRequest("too short")
    network, amount_msat = _parse_hrp(hrp)
    body, sig_groups = data[:-104], data[-104:]
    signature = bech32.groups_to_bytes(sig_groups, pad=False)
    fields: dict[str, object] = {"expiry_s": DEFAULT_EXPIRY_S,
                                 "min_final_cltv": DEFAULT_MIN_FINAL_CLTV}
    hints: list[tuple[HopHint, ...]] = []
    payee = b""
    pos = 7
    while pos + 3 <= len(body):
        tag, length = body[pos], body[pos + 1] << 5 | body[pos + 2]
        groups = body[pos + 3:pos + 3 + length]
        pos += 3 + length
        if tag == _TAG_P and length == 52:
            fields["payment_hash"] = bech32.groups_to_bytes(groups, pad=False)
        elif tag == _TAG_S and length == 52:
            fields["payment_secret"] = bech32.groups_to_bytes(groups, pad=False)
        elif tag == _TAG_D:
            fields["description"] = bech32.groups_to_bytes(groups, pad=False).decode(
                "utf-8", "replace")
        elif tag == _TAG_H and length == 52:
            fields["description_hash"] = bech32.groups_to_bytes(groups, pad=False)
        elif tag == _TAG_X:
            fields["expiry_s"] = bech32.groups_to_int(groups)
        elif tag == _TAG_C:
            fields["min_final_cltv"] = bech32.groups_to_int(groups)
        elif tag == _TAG_R:
            hints.append(_hints(bech32.groups_to_bytes(groups, pad=False)))
        elif tag == _TAG_9:
            value = bech32.groups_to_int(groups)
            fields["features"] = tuple(b for b in range(value.bit_length()) if value >> b & 1)
        elif tag == _TAG_N and length == 53:
            payee = bech32.groups_to_bytes(groups, pad=False)
    if "payment_hash" not in fields:
        raise InvalidPaymentRequest("missing payment hash")
    digest = hashlib.sha256(hrp.encode() + bech32.groups_to_bytes(body, pad=True)).digest()
    try:
        recovered = coincurve.PublicKey.from_signature_and_message(
            signature, digest, hasher=None).format()
    except Exception as exc:  # coincurve raises plain Exception/ValueError on bad input
        raise InvalidPaymentRequest(f"bad signature: {exc}") from None
    if payee and payee != recovered:
        raise InvalidPaymentRequest("signature does not match payee")
    return PaymentRequest(
        network=network, amount_msat=amount_msat, timestamp=bech32.groups_to_int(body[:7]),
        payment_hash=fields["payment_hash"],  # type: ignore[arg-type]
        payment_secret=fields.get("payment_secret"),  # type: ignore[arg-type]
        description=str(fields.get("description", "")),
        description_hash=fields.get("description_hash"),  # type: ignore[arg-type]
        expiry_s=int(fields["expiry_s"]),  # type: ignore[call-overload]
        min_final_cltv=int(fields["min_final_cltv"]),  # type: ignore[call-overload]
        route_hints=tuple(hints),
        features=fields.get("features", ()),  # type: ignore[arg-type]
        payee=recovered)
