"""How the client pays: the `Wallet` protocol and its LND implementation.

`LndWallet` pays with SendPaymentV2 through `satrank.lightning` (the only package that
touches lnd's stubs), imported on first payment so `import satrank.client` stays free of
grpc. A pay macaroon (offchain:read/write) is all it needs: bake one with
`lncli bakemacaroon offchain:read offchain:write info:read`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from satrank.client.errors import WalletError

if TYPE_CHECKING:
    from satrank.lightning.lnd import LndClient

DEFAULT_MAX_FEE_SAT = 10  # routing fee budget per payment; SatRank's invoices are small
DEFAULT_PAY_TIMEOUT_S = 60.0


@dataclass(frozen=True)
class Payment:
    preimage: bytes
    fee_sat: int  # routing fee paid, rounded up


class Wallet(Protocol):
    """Pays one BOLT 11 invoice and returns its preimage; raises WalletError when it did not
    pay. `max_fee_sat` is the most it spends on routing fees (the caps reserve it)."""

    max_fee_sat: int

    async def pay(self, invoice: str) -> Payment: ...

    async def close(self) -> None: ...


class LndWallet:
    """An lnd node (real or simnet) over gRPC with TLS and a pay macaroon."""

    def __init__(self, host: str, tls_cert: bytes, macaroon: bytes, *,
                 max_fee_sat: int = DEFAULT_MAX_FEE_SAT,
                 timeout_s: float = DEFAULT_PAY_TIMEOUT_S) -> None:
        self.host = host
        self.max_fee_sat = max_fee_sat
        self._tls_cert = tls_cert
        self._macaroon = macaroon
        self._timeout_s = timeout_s
        self._client: LndClient | None = None

    @classmethod
    def from_files(cls, host: str, tls_cert_path: Path, macaroon_path: Path, *,
                   max_fee_sat: int = DEFAULT_MAX_FEE_SAT) -> LndWallet:
        try:
            return cls(host, tls_cert_path.read_bytes(), macaroon_path.read_bytes(),
                       max_fee_sat=max_fee_sat)
        except OSError as exc:
            raise WalletError(f"cannot read {exc.filename}: {exc.strerror}") from None

    async def pay(self, invoice: str) -> Payment:
        from satrank.lightning.errors import LightningError
        from satrank.lightning.lnd import LndClient
        from satrank.lightning.pay import PaymentFailed, pay_through

        try:
            if self._client is None:
                self._client = LndClient.connect(self.host, self._tls_cert, self._macaroon)
            result = await pay_through(self._client, invoice, fee_limit_sat=self.max_fee_sat,
                                       timeout_s=self._timeout_s)
        except PaymentFailed as exc:
            raise WalletError(f"lnd did not pay: {exc}") from None
        except LightningError as exc:  # it may still be in flight: count it as spent
            raise WalletError(f"lnd payment unfinished: {exc}", maybe_paid=True) from None
        assert result.preimage is not None  # pay_through checked it
        return Payment(result.preimage, -(-result.fee_msat // 1000))

    async def close(self) -> None:
        if self._client is not None:
            client, self._client = self._client, None
            await client.close()
