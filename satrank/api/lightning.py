"""The api's Lightning adapters, one per macaroon role; `open_*` is the one place that
knows which backends the LND settings configure.

- invoices (invoice macaroon, LND_INVOICE_MACAROON_PATH): the paywall's `InvoiceIssuer`
  for 402 challenges and deposits (`open_invoice_issuer`).
- `ApiLightning.info`: readonly macaroon (LND_READONLY_MACAROON_PATH). Used only by
  /api/health for GetInfo. Without it the health check reports lnd as "not_configured"
  instead of guessing.
- `ApiLightning.probe`: pay macaroon (LND_PAY_MACAROON_PATH). Used by POST /api/probe,
  which runs in the api process (see routes/probe.py). Without it /api/probe answers 503.

The app's lifespan opens them (inside the server's event loop, where grpc.aio channels
must live) unless the caller passed its own.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from satrank.config import LndSettings
from satrank.l402.caveats import deployment_of
from satrank.l402.mint import InvoiceUnavailable, IssuedInvoice
from satrank.lightning import bolt11
from satrank.lightning.backend import LightningBackend
from satrank.lightning.errors import LightningError

_log = logging.getLogger(__name__)


def invoice_deployment(payment_request: str) -> str:
    """The `satrank_node` caveat value of the node that issued `payment_request`: its
    network prefix and the payee recovered from its signature."""
    decoded = bolt11.decode(payment_request)
    return deployment_of(decoded.network, decoded.payee.hex())


async def node_deployment(info: LightningBackend, *, timeout_s: float) -> str | None:
    """Our node's `satrank_node` value from GetInfo (readonly macaroon), so the paywall
    checks token bindings from its first request rather than from its first minted
    invoice; None when LND does not answer in time or names no known chain."""
    try:
        status = await asyncio.wait_for(info.get_info(), timeout_s)
    except (LightningError, TimeoutError) as exc:
        _log.warning("GetInfo failed at start (%s): token bindings are checked from the "
                     "first minted invoice", type(exc).__name__)
        return None
    if status.network is None:
        return None
    return deployment_of(status.network, status.identity_pubkey)


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
        try:
            deployment = invoice_deployment(added.payment_request)
        except bolt11.InvalidPaymentRequest as exc:  # never from a sane node
            _log.warning("the node returned an invoice that does not decode")
            raise InvoiceUnavailable("undecodable invoice") from exc
        return IssuedInvoice(added.payment_request, added.payment_hash, deployment)

    async def close(self) -> None:
        await self._backend.close()


class InvoicesNotConfigured(InvoiceUnavailable):
    """No invoice can ever be made until the operator configures LND: retrying is useless,
    so the paywall says "not configured" instead of "retry later"."""


class UnconfiguredInvoiceIssuer:
    """No LND invoice macaroon/certificate configured: paid routes cannot sell tokens
    (503 LIGHTNING_NOT_CONFIGURED), though tokens minted earlier still work."""

    async def create_invoice(self, amount_sat: int, memo: str, expiry_s: int) -> IssuedInvoice:
        raise InvoicesNotConfigured("LND is not configured (LND_INVOICE_MACAROON_PATH)")

    async def close(self) -> None:
        return None


async def open_invoice_issuer(
    lnd: LndSettings,
) -> LightningInvoiceIssuer | UnconfiguredInvoiceIssuer:
    if lnd.tls_cert_path is None or lnd.invoice_macaroon_path is None:
        _log.warning("LND invoice macaroon or TLS certificate not set: challenges answer 503")
        return UnconfiguredInvoiceIssuer()
    from satrank.lightning.lnd import open_lnd

    return LightningInvoiceIssuer(open_lnd(lnd, "invoice"))


@dataclass(frozen=True)
class ApiLightning:
    info: LightningBackend | None = None
    probe: LightningBackend | None = None

    async def close(self) -> None:
        for backend in (self.info, self.probe):
            if backend is not None:
                await backend.close()


def open_api_lightning(lnd: LndSettings) -> ApiLightning:
    """The readonly and pay backends the settings configure (no I/O until used)."""
    from satrank.lightning.lnd import open_lnd

    if lnd.tls_cert_path is None:
        return ApiLightning()
    return ApiLightning(
        info=open_lnd(lnd, "readonly") if lnd.readonly_macaroon_path else None,
        probe=open_lnd(lnd, "pay") if lnd.pay_macaroon_path else None,
    )
