"""`SatRankClient`: the async client driven from a private event loop on its own thread.

One loop for the client's whole life, because the wallets keep connections bound to the
loop that opened them (grpc.aio channels, Nostr relays); a fresh `asyncio.run` per call
would strand them. Calls from several threads are safe: they queue on that loop.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from typing import Any, Literal, TypeVar

from satrank.client.answers import (
    AgentSummary,
    BatchVerdict,
    DepositTiers,
    Json,
    ProbeAnswer,
    ReportReceipt,
    Verdict,
)
from satrank.client.async_client import AsyncSatRankClient
from satrank.client.tokens import Token

T = TypeVar("T")


class SatRankClient:
    """Same arguments and methods as `AsyncSatRankClient`, blocking (their docstrings there)."""

    def __init__(self, base_url: str, **options: Any) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True,
                                        name="satrank-client")
        self._thread.start()

        async def build() -> AsyncSatRankClient:
            return AsyncSatRankClient(base_url, **options)

        try:
            self.aio = self._run(build())
        except BaseException:
            self._stop_loop()
            raise

    def _run(self, coro: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result()

    def _stop_loop(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join()
        self._loop.close()

    def close(self) -> None:
        if self._loop.is_closed():
            return
        try:
            self._run(self.aio.aclose())
        finally:
            self._stop_loop()

    def __enter__(self) -> SatRankClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def health(self) -> Json:
        return self._run(self.aio.health())

    def stats(self) -> Json:
        return self._run(self.aio.stats())

    def agent(self, node_id: str) -> AgentSummary:
        return self._run(self.aio.agent(node_id))

    def verdict(self, node_id: str) -> Verdict:
        return self._run(self.aio.verdict(node_id))

    def leaderboard(self, *, sort_by: str = "rank", limit: int = 20,
                    cursor: str | None = None) -> Json:
        return self._run(self.aio.leaderboard(sort_by=sort_by, limit=limit, cursor=cursor))

    def search(self, alias: str, *, limit: int = 20) -> Json:
        return self._run(self.aio.search(alias, limit=limit))

    def services(self, *, q: str | None = None, category: str | None = None,
                 max_price_sat: int | None = None,
                 sort_by: Literal["p", "latency", "price"] | None = None,
                 limit: int | None = None, cursor: str | None = None) -> Json:
        return self._run(self.aio.services(q=q, category=category, max_price_sat=max_price_sat,
                                           sort_by=sort_by, limit=limit, cursor=cursor))

    def deposit_tiers(self) -> DepositTiers:
        return self._run(self.aio.deposit_tiers())

    def report(self, target: str, outcome: str, *, amount_sat: int | None = None,
               invoice: str | None = None, payment_hash: str | None = None,
               preimage: str | None = None) -> ReportReceipt:
        return self._run(self.aio.report(target, outcome, amount_sat=amount_sat,
                                         invoice=invoice, payment_hash=payment_hash,
                                         preimage=preimage))

    def profile(self, node_id: str) -> Json:
        return self._run(self.aio.profile(node_id))

    def verdicts(self, node_ids: list[str]) -> list[BatchVerdict]:
        return self._run(self.aio.verdicts(node_ids))

    def probe(self, target: str, *, amounts_sat: list[int] | None = None) -> ProbeAnswer:
        return self._run(self.aio.probe(target, amounts_sat=amounts_sat))

    def intent(self, target: str, *, caller: str | None = None,
               amount_sat: int | None = None, max_fee_sat: int | None = None,
               fresh: bool = False, caller_peers: list[str] | None = None) -> Json:
        return self._run(self.aio.intent(target, caller=caller, amount_sat=amount_sat,
                                         max_fee_sat=max_fee_sat, fresh=fresh,
                                         caller_peers=caller_peers))

    def deposit(self, amount_sat: int) -> Token:
        return self._run(self.aio.deposit(amount_sat))
