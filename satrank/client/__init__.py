"""SatRank's agent-side client: ask before you pay, and pay SatRank by itself.

    from satrank.client import SatRankClient, SpendingCaps, LndWallet

Importable without the server's dependencies (no Starlette, asyncpg, numpy, scipy or grpc
at import time): wallets load what they need on first payment. The MCP server
(`satrank mcp`, client/mcp_server.py) is not imported from here.
"""

from satrank.client.async_client import AsyncSatRankClient
from satrank.client.caps import SpendingCaps
from satrank.client.errors import (
    ApiError,
    InvalidRequest,
    NotFound,
    PaymentRequired,
    ProtocolError,
    RateLimited,
    SatRankError,
    ServiceUnavailable,
    SpendingCapExceeded,
    TransportError,
    WalletError,
)
from satrank.client.nwc import NwcWallet
from satrank.client.sync_client import SatRankClient
from satrank.client.wallets import LndWallet, Payment, Wallet

__all__ = [
    "ApiError",
    "AsyncSatRankClient",
    "InvalidRequest",
    "LndWallet",
    "NotFound",
    "NwcWallet",
    "Payment",
    "PaymentRequired",
    "ProtocolError",
    "RateLimited",
    "SatRankClient",
    "SatRankError",
    "ServiceUnavailable",
    "SpendingCapExceeded",
    "SpendingCaps",
    "TransportError",
    "Wallet",
    "WalletError",
]
