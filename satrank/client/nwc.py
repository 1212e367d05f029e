"""`NwcWallet`: pay through Nostr Wallet Connect (NIP-47) with rust-nostr's maintained
client (`nostr-sdk` on PyPI, the `[nwc]` extra), imported on first payment.

The connection string (`nostr+walletconnect://<wallet pubkey>?relay=...&secret=...`) is a
spending key: it is never logged or put in an error message.
"""

from __future__ import annotations

import datetime
from typing import Any

from satrank.client.errors import WalletError
from satrank.client.wallets import DEFAULT_MAX_FEE_SAT, DEFAULT_PAY_TIMEOUT_S, Payment

NWC_SCHEME = "nostr+walletconnect://"


class NwcWallet:
    def __init__(self, uri: str, *, max_fee_sat: int = DEFAULT_MAX_FEE_SAT,
                 timeout_s: float = DEFAULT_PAY_TIMEOUT_S) -> None:
        if not uri.startswith(NWC_SCHEME):
            raise ValueError(f"an NWC connection string starts with {NWC_SCHEME}")
        self.max_fee_sat = max_fee_sat  # NIP-47 has no fee limit field: the wallet's own rules
        self._uri = uri
        self._timeout_s = timeout_s
        self._nwc: Any = None

    def __repr__(self) -> str:
        return "NwcWallet(<connection string hidden>)"

    def _client(self) -> Any:
        if self._nwc is None:
            try:
                import nostr_sdk
            except ImportError:
                raise WalletError("NwcWallet needs nostr-sdk: pip install 'satrank[nwc]'") from None
            try:
                uri = nostr_sdk.NostrWalletConnectUri.parse(self._uri)
            except Exception:
                raise WalletError("the NWC connection string is not valid") from None
            self._nwc = (nostr_sdk.NostrWalletConnectBuilder(uri)
                         .timeout(datetime.timedelta(seconds=self._timeout_s)).build())
        return self._nwc

    async def pay(self, invoice: str) -> Payment:
        from nostr_sdk import PayInvoiceRequest

        nwc = self._client()
        try:
            answer = await nwc.pay_invoice(PayInvoiceRequest(id=None, invoice=invoice,
                                                             amount=None))
        except Exception as exc:  # the bindings raise their own tree; keep only its kind
            # A request that timed out may still be paid by the wallet later.
            raise WalletError(f"NWC wallet did not pay ({type(exc).__name__}: {exc})",
                              maybe_paid="timeout" in str(exc).lower()) from None
        try:
            preimage = bytes.fromhex(answer.preimage)
        except ValueError:
            raise WalletError("NWC wallet answered without a valid preimage",
                              maybe_paid=True) from None
        fees_msat = answer.fees_paid or 0
        return Payment(preimage, -(-fees_msat // 1000))

    async def close(self) -> None:
        if self._nwc is not None:
            nwc, self._nwc = self._nwc, None
            await nwc.client().shutdown()
