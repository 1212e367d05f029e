"""The lease ledger, the gate's `CreditLedger` (l402/gate.py): an api process serves paid
requests from credits it reserved in Postgres.

Why: a paid request that waits for its own debit statement costs the server about 40 %
more than an operator's request that does not (bench/RESULTS.md, "L402 paywall"). Here a
request waits for Postgres only when its process holds too few of the token's credits;
otherwise it is debited in memory, where the event loop makes the debit atomic.

The contract, and what it costs:
- Credits reach a process only through `TokenStore.lease` (db/tokens.py): one statement per
  batch whose row locks make the grants of all processes add up to at most a token's
  credits. A process serves a request only from credits it holds, so nothing unpaid is
  ever served, and N concurrent requests on a token with C credits are served min(N, C)
  times once the processes that hold credits give them back.
- A lease is sized to the token's recent traffic: it starts at what the waiting requests
  need, doubles while leases follow each other within `GROW_S`, halves when they are
  more than `SHRINK_S` apart, and never exceeds `max_lease` (L402_LEASE_MAX_CREDITS; 1
  turns leasing off: every request waits for its own grant). Once a token's leases grow,
  the next one is asked for when half of the last is spent, so a steady client's
  requests never wait for Postgres.
- Unspent credits go back (`TokenStore.give_back`) when a lease is spent (so other processes
  see the token free), when the token was idle for `IDLE_RETURN_S`, when a lease is older
  than `MAX_HOLD_S`, and on shutdown; never while a request granted from the lease is
  still running (`release` ends it), since a 5xx would refund its credits into the lease.
- A return whose outcome is unknown (the statement failed, maybe after its commit) is
  retried with the same return id until it succeeds, and its credits are not spent again
  meanwhile: Postgres applies each return id once, so no credit comes back twice.
- Leased credits count as used in Postgres from the moment they are granted: a process
  killed with SIGKILL loses the credits it held (under 2 x `max_lease` per token, about
  a second of that token's traffic), and never lets a request be served twice.
- A process that runs dry while Postgres has no credits left but other processes still
  hold some answers HELD_ELSEWHERE (a retry will find them given back) instead of
  EXHAUSTED, so the client is not asked to pay again for credits it has.
- `X-L402-Credits-Left` is Postgres's unleased credits at the last grant plus what this
  process holds: exact with one process; with several, credits other processes hold are
  not counted.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from satrank.config import L402Settings
from satrank.db.tokens import CreditReturn, LeaseGrant, LeaseRequest, TokenStore
from satrank.l402.gate import Debit, LedgerUnavailable, Shortfall

_log = logging.getLogger(__name__)

GROW_S = 0.5
SHRINK_S = 2.0
IDLE_RETURN_S = 1.0
MAX_HOLD_S = 5.0
# Postgres presumes a holder dead this long after its last grant (credits_leased is then
# ignored); well above MAX_HOLD_S, so a live holder has always given its credits back.
LEASE_TTL_S = 15.0
SWEEP_S = 0.25
MAX_BATCH = 512
# Two batches in flight: a request arriving during a round trip need not wait for it to
# end before its own starts (one batch at a time roughly doubled paid-request latency).
BATCHES_IN_FLIGHT = 2
CLOSE_TIMEOUT_S = 5.0


_Key = tuple[bytes, int]  # (token id, credit caveat)


@dataclass
class _Holding:
    """What this process holds of one token under one credit caveat."""

    debit: Debit  # the first request's, for the lease statement's token fields
    balance: int = 0  # leased, not yet spent
    granted: int = 0  # grants since the last return (this process's part of credits_leased)
    remaining: int = 0  # unleased credits in Postgres after our last grant
    size: int = 1
    leased_at: float = -math.inf
    used_at: float = 0.0
    # Requests granted from this holding and not finished yet (see `release`): their
    # credits may still come back by a refund, so nothing is given back meanwhile.
    active: int = 0
    in_flight: bool = False  # a lease is asked for: queued in _pending or being granted
    waiters: deque[tuple[int, asyncio.Future[int | Shortfall]]] = field(default_factory=deque)

    def serve_waiters(self) -> None:
        """Serve waiting requests in arrival order while the balance covers them."""
        while self.waiters:
            cost, future = self.waiters[0]
            if future.done():  # its client went away; nothing was taken
                self.waiters.popleft()
                continue
            if cost > self.balance:
                return
            self.waiters.popleft()
            self.balance -= cost
            self.active += 1
            future.set_result(self.remaining + self.balance)

    def refuse_waiters(self, reason: Shortfall) -> None:
        while self.waiters:
            _, future = self.waiters.popleft()
            if not future.done():
                future.set_result(reason)


class CreditLeases:
    """The paywall's `CreditLedger`: `debit` answers credits left or a Shortfall;
    `refund` gives a failed request's credits back to this process's balance.
    `start` and `close` run in the api lifespan (close gives every held credit back)."""

    def __init__(self, store: TokenStore, *, max_lease: int = L402Settings.lease_max_credits,
                 ttl_s: float = LEASE_TTL_S,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if max_lease < 1:
            raise ValueError("max_lease must be at least 1")
        self._store = store
        self._max_lease = max_lease
        self._ttl_s = ttl_s
        self._clock = clock
        self._holdings: dict[_Key, _Holding] = {}
        self._pending: dict[_Key, None] = {}  # holdings waiting for a lease, in order
        self._workers: set[asyncio.Task[None]] = set()
        self._sweeper: asyncio.Task[None] | None = None
        self._unsettled: list[CreditReturn] = []  # returns sent with an unknown outcome

    def start(self) -> None:
        self._sweeper = asyncio.create_task(self._sweep_forever())

    async def close(self) -> None:
        """Stop leasing and give back everything held (bounded by CLOSE_TIMEOUT_S)."""
        tasks = [t for t in (self._sweeper, *self._workers) if t is not None]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        for holding in self._holdings.values():
            holding.refuse_waiters(Shortfall.HELD_ELSEWHERE)
        returns = [self._take_return(key, h) for key, h in self._holdings.items()]
        self._holdings.clear()
        try:
            await asyncio.wait_for(self._give_back(returns), CLOSE_TIMEOUT_S)
        except Exception:
            _log.exception("leased credits could not be given back at shutdown; "
                           "%d credits stay counted as used",
                           sum(r.unused for r in self._unsettled))

    async def leases_done(self) -> None:
        """Wait until no lease is being asked for (refills run in the background)."""
        while self._workers:
            await asyncio.gather(*self._workers, return_exceptions=True)

    def spend_held(self, token_id: bytes, credits_total: int, cost: int) -> int | None:
        """Credits left after spending `cost` from what this process holds, or None when
        it holds too few (or earlier requests wait): then call `debit`."""
        key = (token_id, credits_total)
        holding = self._holdings.get(key)
        if holding is None or holding.waiters or holding.balance < cost or cost < 0:
            return None
        holding.used_at = self._clock()
        holding.balance -= cost
        holding.active += 1
        if holding.size > 1 and holding.balance * 2 < holding.size:
            self._want_lease(key, holding)  # refill before a request has to wait
        return holding.remaining + holding.balance

    async def debit(self, debit: Debit) -> int | Shortfall:
        """Credits left after the debit, or why not; raises LedgerUnavailable when this
        process holds too few and Postgres cannot grant more."""
        if debit.cost < 0:
            raise ValueError("cost must not be negative")
        left = self.spend_held(debit.token_id, debit.credits_total, debit.cost)
        if left is not None:
            return left
        key = (debit.token_id, debit.credits_total)
        holding = self._holdings.get(key)
        if holding is None:
            holding = self._holdings[key] = _Holding(debit)
        holding.used_at = self._clock()
        future: asyncio.Future[int | Shortfall] = asyncio.get_running_loop().create_future()
        holding.waiters.append((debit.cost, future))
        self._want_lease(key, holding)
        return await future

    def release(self, token_id: bytes, credits_total: int) -> None:
        """A granted request finished (refunded or not): once none is left in progress,
        the holding may give its credits back."""
        holding = self._holdings.get((token_id, credits_total))
        if holding is not None and holding.active > 0:
            holding.active -= 1
            holding.used_at = self._clock()

    def refund(self, debit: Debit) -> None:
        """Give back the credits of a granted request (its route failed on our side): they
        join this process's balance and reach Postgres with its next return."""
        key = (debit.token_id, debit.credits_total)
        holding = self._holdings.get(key)
        if holding is None:
            holding = self._holdings[key] = _Holding(debit, used_at=self._clock())
        holding.balance += debit.cost
        holding.serve_waiters()

    def _want_lease(self, key: _Key, holding: _Holding) -> None:
        if holding.in_flight:
            return  # the lease asked for re-queues the holding if it falls short
        holding.in_flight = True
        self._pending[key] = None
        if len(self._workers) < BATCHES_IN_FLIGHT:
            worker = asyncio.create_task(self._drain())
            self._workers.add(worker)
            worker.add_done_callback(self._workers.discard)  # if cancelled or failed

    def _next_batch(self) -> list[tuple[_Key, _Holding, LeaseRequest]]:
        """Up to MAX_BATCH pending holdings, one per token (the statement's rule)."""
        batch: list[tuple[_Key, _Holding, LeaseRequest]] = []
        tokens: set[bytes] = set()
        now = self._clock()
        for key in list(self._pending):
            if len(batch) == MAX_BATCH:
                break
            if key[0] in tokens:
                continue  # stays pending for the next batch
            del self._pending[key]
            holding = self._holdings[key]  # never given back while a lease is asked for
            tokens.add(key[0])
            batch.append((key, holding, self._lease_request(holding, now)))
        return batch

    def _lease_request(self, holding: _Holding, now: float) -> LeaseRequest:
        since = now - holding.leased_at
        if since < GROW_S:
            holding.size = min(holding.size * 2, self._max_lease)
        elif since > SHRINK_S:
            holding.size = max(holding.size // 2, 1)
        holding.leased_at = now
        needed = sum(cost for cost, future in holding.waiters if not future.done())
        want = max(needed - holding.balance, min(holding.size, self._max_lease))
        d = holding.debit
        return LeaseRequest(d.token_id, d.payment_hash, d.credits_total, d.valid_until_unix,
                            want, d.credits_minted)

    async def _drain(self) -> None:
        batch: list[tuple[_Key, _Holding, LeaseRequest]] = []
        try:
            while batch := self._next_batch():
                try:
                    grants = await self._store.lease([r for _, _, r in batch],
                                                     ttl_s=self._ttl_s)
                except Exception as exc:
                    # the type only: Postgres messages may quote row data (token ids)
                    _log.warning("no credits could be leased: %s", type(exc).__name__)
                    for _, holding, _ in batch:
                        holding.in_flight = False
                        for _, future in holding.waiters:
                            if not future.done():
                                future.set_exception(LedgerUnavailable(type(exc).__name__))
                        holding.waiters.clear()
                    continue
                for (key, holding, request), grant in zip(batch, grants, strict=True):
                    self._apply_grant(key, holding, request, grant)
            # No await since the empty batch: leaving the worker set here, not in a done
            # callback, lets the next `_want_lease` start a worker for what comes next.
            self._workers.discard(asyncio.current_task())
        finally:
            # Only when the worker itself was cancelled (shutdown): nobody waits forever.
            for _, holding, _ in batch:
                holding.in_flight = False
                for _, future in holding.waiters:
                    future.cancel()
                holding.waiters.clear()

    def _apply_grant(self, key: _Key, holding: _Holding, request: LeaseRequest,
                     grant: LeaseGrant | None) -> None:
        holding.in_flight = False
        if grant is None:  # no row could be made for this token: treat as spent
            holding.refuse_waiters(Shortfall.EXHAUSTED)
            return
        holding.balance += grant.granted
        holding.granted += grant.granted
        holding.remaining = grant.remaining
        holding.serve_waiters()
        if not holding.waiters:
            return
        if grant.granted < request.want:  # Postgres has nothing more for this caveat
            others = grant.leased - holding.granted
            holding.refuse_waiters(Shortfall.HELD_ELSEWHERE if others > 0
                                   else Shortfall.EXHAUSTED)
        else:  # more requests arrived while the lease was in flight
            self._want_lease(key, holding)

    def _take_return(self, key: _Key, holding: _Holding) -> CreditReturn:
        ret = CreditReturn(key[0], holding.balance, holding.granted)
        holding.balance = holding.granted = 0
        return ret

    async def _sweep_forever(self) -> None:
        while True:
            await asyncio.sleep(SWEEP_S)
            try:
                await self.sweep()
            except Exception:
                _log.exception("giving back leased credits failed; retrying")

    async def sweep(self) -> None:
        """Give back what is no longer worth holding (see the module docstring)."""
        now = self._clock()
        taken: list[CreditReturn] = []
        for key, holding in list(self._holdings.items()):
            if holding.waiters or holding.in_flight or holding.active:
                continue
            idle = now - holding.used_at >= IDLE_RETURN_S
            due = idle or holding.balance == 0 or now - holding.leased_at >= MAX_HOLD_S
            if due and (holding.balance or holding.granted):
                taken.append(self._take_return(key, holding))
            if idle:
                del self._holdings[key]
        await self._give_back(taken)

    async def _give_back(self, returns: list[CreditReturn]) -> None:
        """Send `returns` with every return still unsettled. A failed statement may have
        committed (a timeout, a connection lost after COMMIT): its returns are retried
        later with the SAME ids, which the store applies at most once, and their credits
        are never spent here again (they may already be back in Postgres)."""
        batch = self._unsettled + returns
        if not batch:
            return
        self._unsettled = batch
        await self._store.give_back(batch)
        self._unsettled = []
