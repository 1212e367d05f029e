"""`satrank pay`: pay a BOLT11 invoice through any lnd (real or simnet) from its lnd dir.

Uses `DIR/tls.cert` and `DIR/admin.macaroon`, lnd's own file names, as an agent's wallet
would. Returns the payment; the command prints the preimage.
"""

from __future__ import annotations

from pathlib import Path

from satrank.lightning.backend import PaymentResult, PaymentStatus
from satrank.lightning.errors import LightningError, LightningRejected
from satrank.lightning.lnd import LndClient

PAY_FEE_LIMIT_SAT = 1_000  # lnd's own default cap for small payments is far lower; be kind
PAY_TIMEOUT_S = 60.0  # lnd's default payment timeout


class PaymentFailed(LightningError):
    """The node answered, and the payment ended FAILED (reason in the message)."""


def read_lnd_dir(lnd_dir: Path) -> tuple[bytes, bytes]:
    """(tls.cert bytes, admin.macaroon bytes) of an lnd directory."""
    found = []
    for name in ("tls.cert", "admin.macaroon"):
        try:
            found.append((lnd_dir / name).read_bytes())
        except OSError as exc:
            raise LightningError(f"cannot read {lnd_dir / name}: {exc.strerror}") from exc
    return found[0], found[1]


async def pay_from_lnd_dir(payment_request: str, *, lnd_dir: Path, host: str,
                           fee_limit_sat: int = PAY_FEE_LIMIT_SAT,
                           timeout_s: float = PAY_TIMEOUT_S) -> PaymentResult:
    """Pay from the node of `lnd_dir` (its admin macaroon); see `pay_through`."""
    tls_cert, macaroon = read_lnd_dir(lnd_dir)
    async with LndClient.connect(host, tls_cert, macaroon) as client:
        return await pay_through(client, payment_request, fee_limit_sat=fee_limit_sat,
                                 timeout_s=timeout_s)


async def pay_through(client: LndClient, payment_request: str, *, fee_limit_sat: int,
                      timeout_s: float = PAY_TIMEOUT_S) -> PaymentResult:
    """Pay through an open client (SendPaymentV2: a pay macaroon is enough) and wait for
    the end; raises `PaymentFailed` unless it SUCCEEDED with a preimage."""
    result = await client.pay_invoice(payment_request, fee_limit_sat=fee_limit_sat,
                                      timeout_s=timeout_s)
    if result.status is PaymentStatus.SUCCEEDED and result.preimage is not None:
        return result
    if result.status is PaymentStatus.FAILED:
        raise PaymentFailed(f"payment failed: {result.failure_reason}")
    raise LightningRejected(f"payment did not finish: {result.status.value}")
