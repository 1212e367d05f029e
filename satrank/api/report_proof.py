"""What a report proves (POST /api/report).

A report is *verified* only when it carries the BOLT 11 invoice of the payment, the
invoice's signature recovers to the target's node key, and sha256(preimage) equals the
invoice's payment hash: the target asked for that payment and the preimage shows it was
made. A preimage/hash pair without the invoice proves nothing (anyone can make one up),
so it is accepted as standing for an unverified report, never as proof.

Parts that contradict each other are refused (422, naming the field): an invoice another
node signed, a payment hash or preimage that does not match, a preimage given with an
outcome other than success (the preimage says the payment went through), an invoice
older than the reports we keep (a proven payment counts once: after its report is pruned,
its invoice must not count again).
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from typing import Any

from satrank.api.body import hex32, invalid_field
from satrank.db.reports import REPORT_RETENTION
from satrank.lightning.bolt11 import MAX_INVOICE_LEN, InvalidPaymentRequest, decode


@dataclass(frozen=True)
class Proof:
    verified: bool  # true once `check_payee` passed for the target
    payment_hash: bytes | None
    payee: str | None  # hex node key the invoice's signature recovers to
    has_preimage: bool
    invoice_amount_sat: int | None  # from the invoice, when it states one


def _invoice_text(body: dict[str, Any]) -> str | None:
    value = body.get("invoice")
    if value is None:
        return None
    if not isinstance(value, str) or not 0 < len(value) <= MAX_INVOICE_LEN:
        raise invalid_field("invoice", f"a BOLT 11 invoice of at most {MAX_INVOICE_LEN} "
                                       "characters")
    return value


def _matches(preimage: bytes, payment_hash: bytes) -> bool:
    return hmac.compare_digest(hashlib.sha256(preimage).digest(), payment_hash)


def report_proof(body: dict[str, Any], *, outcome: str, now_unix: float) -> Proof:
    """Check the proof fields of a report body against each other (module docstring);
    `check_payee` then checks the invoice against the target."""
    text = _invoice_text(body)
    payment_hash = hex32(body, "payment_hash")
    preimage = hex32(body, "preimage")
    amount_sat = payee = None
    if text is not None:
        try:
            invoice = decode(text)
        except InvalidPaymentRequest:
            raise invalid_field("invoice", "a BOLT 11 invoice") from None
        if invoice.timestamp < now_unix - REPORT_RETENTION.total_seconds():
            raise invalid_field("invoice", "an invoice from the last "
                                           f"{REPORT_RETENTION.days} days")
        payee = invoice.payee.hex()
        if payment_hash is not None and payment_hash != invoice.payment_hash:
            raise invalid_field("payment_hash", "the invoice's payment hash")
        payment_hash = invoice.payment_hash
        amount_sat = -(-invoice.amount_msat // 1000) or None
    if preimage is not None:
        if payment_hash is None:
            raise invalid_field("payment_hash", "given with preimage (or an invoice)")
        if not _matches(preimage, payment_hash):
            raise invalid_field("preimage", "the sha256 preimage of payment_hash")
        if outcome != "success":
            raise invalid_field("outcome", "success when a preimage proves the payment")
    return Proof(verified=text is not None and preimage is not None,
                 payment_hash=payment_hash, payee=payee, has_preimage=preimage is not None,
                 invoice_amount_sat=amount_sat)


def check_payee(proof: Proof, target_pubkey: str) -> None:
    if proof.payee is not None and proof.payee != target_pubkey:
        raise invalid_field("invoice", "an invoice signed by the target node")


def client_pseudonym(client_key: str, secret: str) -> bytes:
    """32 bytes that stand for a client in the reports table: HMAC under the deployment's
    secret, so the stored value does not give the address back (IPv4 is easy to enumerate
    under a plain hash)."""
    return hmac.new(secret.encode(), b"report-client\0" + client_key.encode(),
                    hashlib.sha256).digest()
