"""The api's `InvoiceIssuer`: LND's AddInvoice through the invoice macaroon.

`open_invoice_issuer(settings)` is the one place that knows where invoices come from.
"""

from __future__ import annotations

import logging

from satrank.config import Settings
from satrank.l402.mint import InvoiceUnavailable, IssuedInvoice
from satrank.lightning.backend import LightningBackend
from satrank.lightning.errors import LightningError

_log = logging.getLogger(__name__)


class LightningInvoiceIssuer:
    """`InvoiceIssuer` over any `LightningBackend`; every Lightning error becomes
    InvoiceUnavailable (the paywall answers 503 + Retry-After)."""

    def __init__(self, backend: LightningBackend) -> None:
        self._backend = backend

    async def create_invoice(self, amount_sat: int, memo: str, expiry_s: int) -> IssuedInvoice:
        try:
            added = await self._backend.add_invoice(amount_sat, memo, expiry_s)
        except LightningError as exc:
            _log.warning("cannot create an invoice: %s", type(exc).__name__)
            raise InvoiceUnavailable(type(exc).__name__) from exc
        return IssuedInvoice(added.payment_request, added.payment_hash)

    async def close(self) -> None:
        await self._backend.close()


class UnconfiguredInvoiceIssuer:
    """No LND invoice macaroon/certificate configured: paid routes cannot sell tokens
    (503), though tokens minted earlier still work."""

    async def create_invoice(self, amount_sat: int, memo: str, expiry_s: int) -> IssuedInvoice:
        raise InvoiceUnavailable("LND is not configured (LND_INVOICE_MACAROON_PATH)")

    async def close(self) -> None:
        return None


async def open_invoice_issuer(
    settings: Settings,
) -> LightningInvoiceIssuer | UnconfiguredInvoiceIssuer:
    lnd = settings.lnd
    if lnd.tls_cert_path is None or lnd.invoice_macaroon_path is None:
        _log.warning("LND invoice macaroon or TLS certificate not set: challenges answer 503")
        return UnconfiguredInvoiceIssuer()
    from satrank.lightning.lnd import open_lnd

    return LightningInvoiceIssuer(open_lnd(lnd, "invoice"))
