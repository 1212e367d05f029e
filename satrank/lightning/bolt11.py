"""BOLT 11 payment requests, through the `bolt11` package (lnbits, MIT).

One codec for every reader and writer: simnet signs its invoices with each virtual node's key;
the healthcheck (and later the api) decode invoices others wrote. The package does the bech32
text, the hrp amount, the tagged fields and the recoverable signature; this module only maps
its `Bolt11` to the typed `PaymentRequest` our code uses, and covers three gaps of bolt11 2.2.0:
- its route-hint reader loses data: it drops the last hop of a hint whose bit length is a
  multiple of 5 (5, 10, ... hops) and reads the integers as signed (`intbe`), so a fee rate
  of 4294967295, common in the mainnet graph, comes back as -1. The `r` fields are read here,
  from the bech32 groups the package has already checked;
- it truncates a `p` amount that is not a whole millisatoshi, which BOLT 11 says to reject;
- its feature model names bit pairs; simnet works with BOLT 9 bit numbers, so the `9` field
  is passed as raw bits.
Like lnd, no `n` field is written: the payee is recovered from the signature.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import bech32
import bolt11 as lib
import coincurve
from bitstring import Bits
from bolt11.bit_utils import int_to_scid
from bolt11.models.tags import TagChar

MSAT_PER_BTC = 100_000_000_000
DEFAULT_EXPIRY_S = 3600  # BOLT 11 default when `x` is absent
DEFAULT_MIN_FINAL_CLTV = 18  # BOLT 11 default when `c` is absent

# BOLT 9 bits lnd sets on its invoices: var_onion_optin (8, required), payment_secret
# (14, required), basic_mpp (17, optional).
LND_INVOICE_FEATURES = (8, 14, 17)

_TAG_R = bech32.CHARSET.index(TagChar.route_hint.value)
_HOP_SIZE = 51  # pubkey 33, short channel id 8, fee base 4, fee rate 4, cltv delta 2
_SIGNATURE_GROUPS = 104  # 65 bytes
_SUB_MSAT = re.compile(r"ln[a-z]+\d*[1-9]p")  # a pico-BTC amount not a multiple of 10
# Decoding is linear but slow (bitstring: tens of microseconds per character on a loaded
# machine), so a client's invoice is refused by length first. Real invoices are a few
# hundred characters; the longest (a 639-byte description and a dozen route-hint hops)
# come to about 2,400. bench/RESULTS.md, "Parsers of client input", has the figures.
MAX_INVOICE_LEN = 4096


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


def _feature_bits(bits: tuple[int, ...]) -> Bits:
    value = sum(1 << b for b in set(bits))
    width = -(-value.bit_length() // 5) * 5  # whole 5-bit groups, as short as possible
    return Bits(uint=value, length=width)


def _tags(req: PaymentRequest) -> lib.Tags:
    tags = lib.Tags()
    tags.add(TagChar.payment_hash, req.payment_hash.hex())
    if req.payment_secret is not None:
        tags.add(TagChar.payment_secret, req.payment_secret.hex())
    if req.description_hash is not None:
        tags.add(TagChar.description_hash, req.description_hash.hex())
    else:
        tags.add(TagChar.description, req.description)
    if req.expiry_s != DEFAULT_EXPIRY_S:
        tags.add(TagChar.expire_time, req.expiry_s)
    tags.add(TagChar.min_final_cltv_expiry, req.min_final_cltv)
    for hint in req.route_hints:
        tags.add(TagChar.route_hint, lib.RouteHint([lib.Route(
            public_key=h.node_id.hex(), short_channel_id=int_to_scid(h.chan_id),
            base_fee=h.fee_base_msat, ppm_fee=h.fee_proportional_millionths,
            cltv_expiry_delta=h.cltv_expiry_delta) for h in hint]))
    if req.features:
        tags.add(TagChar.features, lib.Features(_feature_bits(req.features), {}))
    return tags


def encode(req: PaymentRequest, private_key: coincurve.PrivateKey) -> str:
    """Sign `req` (its `payee` is ignored: the key decides) and return the bech32 text."""
    invoice = lib.Bolt11(currency=req.network, date=req.timestamp, tags=_tags(req),
                         amount_msat=lib.MilliSatoshi(req.amount_msat))
    # ignore_exceptions: the package's validation demands a payment secret, which BOLT 11
    # (and lnd's decoder) treat as optional.
    return str(lib.encode(invoice, private_key.to_hex(), ignore_exceptions=True))


def _hints(raw: bytes) -> tuple[HopHint, ...]:
    if not raw or len(raw) % _HOP_SIZE:
        raise InvalidPaymentRequest("bad route hint length")
    return tuple(
        HopHint(node_id=raw[i:i + 33], chan_id=int.from_bytes(raw[i + 33:i + 41], "big"),
                fee_base_msat=int.from_bytes(raw[i + 41:i + 45], "big"),
                fee_proportional_millionths=int.from_bytes(raw[i + 45:i + 49], "big"),
                cltv_expiry_delta=int.from_bytes(raw[i + 49:i + 51], "big"))
        for i in range(0, len(raw), _HOP_SIZE))


def _route_hints(text: str) -> tuple[tuple[HopHint, ...], ...]:
    """The `r` fields of a string `lib.decode` accepted (see the module docstring)."""
    _, groups = bech32.bech32_decode(text.lower())
    body = (groups or [])[7:-_SIGNATURE_GROUPS]  # after the 35-bit timestamp
    hints, pos = [], 0
    while pos + 3 <= len(body):
        tag, length = body[pos], body[pos + 1] << 5 | body[pos + 2]
        if tag == _TAG_R:
            raw = bech32.convertbits(body[pos + 3:pos + 3 + length], 5, 8, False)
            hints.append(_hints(bytes(raw or b"")))
        pos += 3 + length
    return tuple(hints)


def _features(invoice: lib.Bolt11) -> tuple[int, ...]:
    raw = invoice.features
    value = raw.data.uint if raw is not None and raw.data.len else 0
    return tuple(b for b in range(value.bit_length()) if value >> b & 1)


def _optional_bytes(hex_text: str | None) -> bytes | None:
    return None if hex_text is None else bytes.fromhex(hex_text)


def decode(text: str) -> PaymentRequest:
    """Parse and verify a BOLT 11 string; raises InvalidPaymentRequest."""
    text = text.strip()
    if len(text) > MAX_INVOICE_LEN:
        raise InvalidPaymentRequest(f"longer than {MAX_INVOICE_LEN} characters")
    if _SUB_MSAT.fullmatch(text.lower().rpartition("1")[0]):
        raise InvalidPaymentRequest("sub-millisatoshi amount")
    try:
        # Validation is ours (a payment hash is required, a secret is not); the signature
        # is still checked: recovered, or verified against an `n` field when present.
        invoice = lib.decode(text, ignore_exceptions=True)
        if not invoice.has_payment_hash:
            raise InvalidPaymentRequest("missing payment hash")
        payee = bytes.fromhex(invoice.payee or "")
        return PaymentRequest(
            network=invoice.currency, amount_msat=int(invoice.amount_msat or 0),
            timestamp=invoice.date, payment_hash=bytes.fromhex(invoice.payment_hash),
            payment_secret=_optional_bytes(invoice.payment_secret),
            description=invoice.description or "",
            description_hash=_optional_bytes(invoice.description_hash),
            expiry_s=int(invoice.expiry), min_final_cltv=int(invoice.min_final_cltv_expiry),
            route_hints=_route_hints(text), features=_features(invoice), payee=payee)
    # The package raises its own tree for format errors, but bitstring's ReadError
    # (an IndexError), UnicodeDecodeError and coincurve's ValueError/Exception on a
    # malformed signature escape it.
    except InvalidPaymentRequest:
        raise
    except Exception as exc:
        raise InvalidPaymentRequest(f"{type(exc).__name__}: {exc}") from None
