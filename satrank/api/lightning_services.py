"""The Lightning backends the api process may hold, one per macaroon role.

- `info`: readonly macaroon (LND_READONLY_MACAROON_PATH). Used only by /api/health for
  GetInfo. Without it the health check reports lnd as "unchecked" instead of guessing.
- `probe`: pay macaroon (LND_PAY_MACAROON_PATH). Used by POST /api/probe, which runs in
  the api process (see api/probe.py). Without it /api/probe answers 503.

The invoice backend for L402 challenges belongs to the paywall and is not held here.
`open_api_lightning(settings)` opens what the settings configure; the app's lifespan
calls it (inside the server's event loop, where grpc.aio channels must live) unless the
caller passed its own backends.
"""

from __future__ import annotations

from dataclasses import dataclass

from satrank.config import Settings
from satrank.lightning.backend import LightningBackend


@dataclass(frozen=True)
class ApiLightning:
    info: LightningBackend | None = None
    probe: LightningBackend | None = None

    async def close(self) -> None:
        for backend in (self.info, self.probe):
            if backend is not None:
                await backend.close()


def open_api_lightning(settings: Settings) -> ApiLightning:
    """The readonly and pay backends the settings configure (no I/O until used)."""
    from satrank.lightning.lnd import open_lnd

    lnd = settings.lnd
    if lnd.tls_cert_path is None:
        return ApiLightning()
    return ApiLightning(
        info=open_lnd(lnd, "readonly") if lnd.readonly_macaroon_path else None,
        probe=open_lnd(lnd, "pay") if lnd.pay_macaroon_path else None,
    )
