"""A node's invoice database: add, look up, settle, and stream changes to subscribers.

Indices follow lnd: add_index counts every added invoice from 1, settle_index every
settlement from 1. A subscriber that passes add_index/settle_index first receives the
backlog after those indices, then live events (adds as OPEN, settlements as SETTLED).
"""

from __future__ import annotations

import asyncio
import enum
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace


class InvoiceState(enum.IntEnum):  # lnrpc.Invoice.InvoiceState values
    OPEN = 0
    SETTLED = 1
    CANCELED = 2
    ACCEPTED = 3


@dataclass(frozen=True)
class Invoice:
    memo: str
    r_preimage: bytes
    r_hash: bytes
    value_msat: int
    creation_date: int
    expiry: int
    cltv_expiry: int
    payment_request: str
    payment_addr: bytes
    description_hash: bytes
    private: bool
    add_index: int
    state: InvoiceState = InvoiceState.OPEN
    settle_date: int = 0
    settle_index: int = 0
    amt_paid_msat: int = 0


class InvoiceRegistry:
    def __init__(self) -> None:
        self._by_hash: dict[bytes, Invoice] = {}
        self._by_add: list[Invoice] = []
        self._settled: list[bytes] = []
        self._subscribers: set[asyncio.Queue[Invoice]] = set()

    def next_add_index(self) -> int:
        return len(self._by_add) + 1

    def add(self, invoice: Invoice) -> Invoice:
        """Store a new invoice; its add_index must be `next_add_index()`."""
        if invoice.r_hash in self._by_hash:
            raise KeyError("invoice with payment hash already exists")
        self._by_hash[invoice.r_hash] = invoice
        self._by_add.append(invoice)
        self._publish(invoice)
        return invoice

    def lookup(self, r_hash: bytes) -> Invoice | None:
        return self._by_hash.get(r_hash)

    def lookup_addr(self, payment_addr: bytes) -> Invoice | None:
        return next((i for i in self._by_add if i.payment_addr == payment_addr), None)

    def accepts(self, r_hash: bytes, amount_msat: int, payment_addr: bytes | None,
                now: int) -> Invoice | None:
        """The open invoice this HTLC would settle, or None (lnd: incorrect payment details)."""
        inv = self._by_hash.get(r_hash)
        if inv is None or inv.state != InvoiceState.OPEN:
            return None
        if inv.value_msat and amount_msat < inv.value_msat:
            return None
        if now > inv.creation_date + inv.expiry:
            return None
        if payment_addr and payment_addr != inv.payment_addr:
            return None
        return inv

    def settle(self, r_hash: bytes, amount_msat: int, now: int) -> Invoice:
        inv = replace(self._by_hash[r_hash], state=InvoiceState.SETTLED, settle_date=now,
                      settle_index=len(self._settled) + 1, amt_paid_msat=amount_msat)
        self._by_hash[r_hash] = inv
        self._by_add[inv.add_index - 1] = inv
        self._settled.append(r_hash)
        self._publish(inv)
        return inv

    def _publish(self, invoice: Invoice) -> None:
        for queue in self._subscribers:
            queue.put_nowait(invoice)

    async def subscribe(self, add_index: int, settle_index: int) -> AsyncIterator[Invoice]:
        queue: asyncio.Queue[Invoice] = asyncio.Queue()
        self._subscribers.add(queue)
        try:
            if add_index:
                for inv in self._by_add[add_index:]:
                    yield inv
            if settle_index:
                for r_hash in self._settled[settle_index:]:
                    yield self._by_hash[r_hash]
            while True:
                yield await queue.get()
        finally:
            self._subscribers.discard(queue)
