"""Shared by the client and MCP tests: a wallet paying through simnet's customer node with
its pay macaroon, and a record of what it was asked to pay (the real wallet underneath)."""

from __future__ import annotations

from satrank.client.wallets import LndWallet, Payment
from tests.simnet_fixture import SimnetHandle


def customer_wallet(simnet: SimnetHandle, *, max_fee_sat: int = 10) -> LndWallet:
    return LndWallet.from_files(simnet.customer_host, simnet.customer_dir / "tls.cert",
                                simnet.customer_dir / "pay.macaroon", max_fee_sat=max_fee_sat)


class RecordingWallet:
    """The real wallet, plus the invoices it paid (the assertion "nothing was paid")."""

    def __init__(self, wallet: LndWallet) -> None:
        self.wallet = wallet
        self.max_fee_sat = wallet.max_fee_sat
        self.paid: list[str] = []

    async def pay(self, invoice: str) -> Payment:
        payment = await self.wallet.pay(invoice)
        self.paid.append(invoice)
        return payment

    async def close(self) -> None:
        await self.wallet.close()
