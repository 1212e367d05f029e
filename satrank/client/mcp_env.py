"""What `satrank mcp` reads from its environment: the SatRank URL, one wallet, the caps.

Kept apart from mcp_server.py so the rules (no cap, no start; one wallet at most) are
checked without importing the MCP SDK. Secrets (the NWC string, macaroon files) stay in
the environment and files; nothing here echoes them.

    SATRANK_URL                     the SatRank api, e.g. https://satrank.example.com
    SATRANK_MAX_SAT_PER_REQUEST /_PER_HOUR /_PER_DAY   caps in sat: at least one (caps.py)
    SATRANK_SPEND_LEDGER            optional file remembering spending across restarts
    SATRANK_LND_HOST, SATRANK_LND_TLS_CERT, SATRANK_LND_MACAROON   an lnd with a pay macaroon
    SATRANK_NWC_URI                 or a Nostr Wallet Connect string
    SATRANK_MAX_FEE_SAT             routing fee budget per payment (default 10)
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from satrank.client.async_client import AsyncSatRankClient
from satrank.client.caps import SpendingCaps
from satrank.client.nwc import NwcWallet
from satrank.client.wallets import DEFAULT_MAX_FEE_SAT, LndWallet, Wallet

LND_VARS = ("SATRANK_LND_HOST", "SATRANK_LND_TLS_CERT", "SATRANK_LND_MACAROON")
NWC_VAR = "SATRANK_NWC_URI"


class McpConfigError(ValueError):
    """The environment does not describe a server we may start (the message says why)."""


@dataclass(frozen=True)
class McpEnv:
    url: str
    caps: SpendingCaps
    wallet: Wallet | None

    @property
    def wallet_kind(self) -> str:
        return "none" if self.wallet is None else type(self.wallet).__name__

    def client(self) -> AsyncSatRankClient:
        return AsyncSatRankClient(self.url, wallet=self.wallet, caps=self.caps)


def _wallet(env: Mapping[str, str], max_fee_sat: int) -> Wallet | None:
    lnd = [env.get(name, "").strip() for name in LND_VARS]
    nwc = env.get(NWC_VAR, "").strip()
    if any(lnd) and nwc:
        raise McpConfigError(f"set either the SATRANK_LND_* variables or {NWC_VAR}, not both")
    if any(lnd):
        if not all(lnd):
            raise McpConfigError("an lnd wallet needs all of " + ", ".join(LND_VARS))
        from satrank.client.errors import WalletError

        try:
            return LndWallet.from_files(lnd[0], Path(lnd[1]), Path(lnd[2]),
                                        max_fee_sat=max_fee_sat)
        except WalletError as exc:
            raise McpConfigError(str(exc)) from None
    if nwc:
        try:
            return NwcWallet(nwc, max_fee_sat=max_fee_sat)
        except ValueError:
            raise McpConfigError(f"{NWC_VAR} is not a nostr+walletconnect:// string") from None
    return None


def load_mcp_env(env: Mapping[str, str] | None = None) -> McpEnv:
    env = os.environ if env is None else env
    try:
        caps = SpendingCaps.from_env(env)
    except ValueError as exc:
        raise McpConfigError(f"refusing to start without a spending cap: {exc}") from None
    fee = env.get("SATRANK_MAX_FEE_SAT", "").strip()
    if fee and not fee.isdigit():
        raise McpConfigError("SATRANK_MAX_FEE_SAT must be a whole number of sat")
    url = env.get("SATRANK_URL", "").strip()
    if not url.startswith(("http://", "https://")):
        raise McpConfigError("SATRANK_URL must be the http(s) URL of a SatRank api")
    return McpEnv(url, caps, _wallet(env, int(fee) if fee else DEFAULT_MAX_FEE_SAT))
