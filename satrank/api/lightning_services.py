"""The Lightning backends the api process may hold, one per macaroon role.

- `info`: readonly macaroon (LND_READONLY_MACAROON_PATH). Used only by /api/health for
  GetInfo. Without it the health check reports lnd as "unchecked" instead of guessing.
- `probe`: pay macaroon (LND_PAY_MACAROON_PATH). Used by POST /api/probe, which runs in
  the api process (see api/probe.py). Without it /api/probe answers 503.

The invoice backend for L402 challenges belongs to the paywall and is not held here.
Whoever builds the app (cli `serve`, tests) opens these and closes them.
"""

from __future__ import annotations

from dataclasses import dataclass

from satrank.lightning.backend import LightningBackend


@dataclass(frozen=True)
class ApiLightning:
    info: LightningBackend | None = None
    probe: LightningBackend | None = None
