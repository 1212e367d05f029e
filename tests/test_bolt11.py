"""Unit: simnet's BOLT 11 against the specification's own vector, and the gaps of the bolt11
package that lightning/bolt11.py covers (long route hints, uint32 fees, sub-msat amounts)."""

from __future__ import annotations

import dataclasses

import coincurve
import pytest

from satrank.lightning import bolt11

# BOLT 11 "Examples", the first one: a donation of any amount, signed by the spec's key
# e126f68f...; written by the spec authors' encoder, not by anything in this repository.
SPEC_DONATION = (
    "lnbc1pvjluezsp5zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zygspp5qqqsyqcyq5rqwzqfq"
    "qqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqypqdpl2pkx2ctnv5sxxmmwwd5kgetjypeh2ursdae8g6twvus8g6rfwv"
    "s8qun0dfjkxaq9qrsgq357wnc5r2ueh7ck6q93dj32dlqnls087fxdwk8qakdyafkq3yap9us6v52vjjsrvywa6r"
    "t52cm9r9zqt8r2t7mlcwspyetp5h2tztugp9lfyql")
SPEC_KEY = coincurve.PrivateKey(bytes.fromhex(
    "e126f68f7eafcc8b74f54d269fe206be715000f94dac067d1c04a8ca3b2db734"))


def test_the_specification_vector_decodes() -> None:
    req = bolt11.decode(SPEC_DONATION)
    assert req.payee == SPEC_KEY.public_key.format()
    assert req.payee.hex() == "03e7156ae33b0a208d0744199163177e909e80176e55d97a2f221ede0f934dd9ad"
    assert (req.network, req.amount_msat, req.timestamp) == ("bc", 0, 1496314658)
    assert req.payment_hash == bytes(range(10)) * 3 + bytes([1, 2])
    assert req.payment_secret == bytes([0x11]) * 32
    assert req.description == "Please consider supporting this project"
    assert req.features == (8, 14)  # var_onion_optin, payment_secret: both required
    assert (req.expiry_s, req.min_final_cltv, req.route_hints) == (3600, 18, ())


def _request(hint: tuple[bolt11.HopHint, ...], amount_msat: int = 1000) -> bolt11.PaymentRequest:
    return bolt11.PaymentRequest(
        network="bc", amount_msat=amount_msat, timestamp=1_761_364_800, payment_hash=bytes(32),
        payment_secret=None, description="hint", description_hash=None, expiry_s=600,
        min_final_cltv=40, route_hints=(hint,) if hint else ())


@pytest.mark.parametrize("hops", [1, 4, 5, 6, 10])
def test_route_hints_keep_every_hop_and_unsigned_values(hops: int) -> None:
    # 5 and 10 hops are whole 5-bit groups: the package's own reader drops their last hop.
    # uint32-max fee rates exist in the mainnet graph: the package reads them as -1.
    hint = tuple(bolt11.HopHint(
        node_id=SPEC_KEY.public_key.format(), chan_id=(1 << 64) - 1 - i,
        fee_base_msat=0xFFFF_FFFF - i, fee_proportional_millionths=4_294_967_295,
        cltv_expiry_delta=0xFFFF - i) for i in range(hops))
    assert bolt11.decode(bolt11.encode(_request(hint), SPEC_KEY)).route_hints == (hint,)


def _long_request(hints: int) -> bolt11.PaymentRequest:
    """The longest `d` field and `hints` route hints of 12 hops each (about all one `r`
    field holds)."""
    hint = tuple(bolt11.HopHint(node_id=SPEC_KEY.public_key.format(), chan_id=i,
                                fee_base_msat=1, fee_proportional_millionths=1,
                                cltv_expiry_delta=40) for i in range(12))
    return dataclasses.replace(_request(()), description="d" * 639,
                               route_hints=(hint,) * hints)


def test_the_longest_real_invoices_fit_under_the_length_cap() -> None:
    # the largest `d` field and a dozen route-hint hops: more than any wallet writes
    text = bolt11.encode(_long_request(1), SPEC_KEY)
    assert 2_000 < len(text) <= bolt11.MAX_INVOICE_LEN
    assert len(bolt11.decode(text).route_hints[0]) == 12


def test_an_invoice_over_the_length_cap_is_refused_before_decoding() -> None:
    text = bolt11.encode(_long_request(3), SPEC_KEY)  # valid, signed, just too long
    assert len(text) > bolt11.MAX_INVOICE_LEN
    with pytest.raises(bolt11.InvalidPaymentRequest, match="longer than"):
        bolt11.decode(text)


def test_a_sub_millisatoshi_amount_is_rejected() -> None:
    text = bolt11.encode(_request(()), SPEC_KEY)
    assert text.startswith("lnbc10n1")
    # 15 pico-BTC is 1.5 msat; re-signing is unnecessary: the hrp is refused first.
    with pytest.raises(bolt11.InvalidPaymentRequest, match="sub-millisatoshi"):
        bolt11.decode("lnbc15p1" + text[len("lnbc10n1"):])


def test_amounts_use_the_largest_exact_multiplier() -> None:
    amounts = {1: "lnbc10p1", 1000: "lnbc10n1", 100_000: "lnbc1u1", 150_000_000: "lnbc1500u1",
               100_000_000_000: "lnbc11"}
    for msat, prefix in amounts.items():
        text = bolt11.encode(_request((), msat), SPEC_KEY)
        assert text.startswith(prefix) and bolt11.decode(text).amount_msat == msat
