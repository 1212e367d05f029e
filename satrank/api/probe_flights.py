"""Probes from api requests in flight, and the caps that keep them from locking our
liquidity (POST /api/probe, routes/probe.py).

Why a registry and not a semaphore around the request: a probe's HTLC can be held by any
node on its route (or the target) far beyond the request's budget; lnd keeps the payment
in flight, and our channel's liquidity with it, until the HTLC resolves. A request that
times out must therefore not free its slot: the flight goes on in the background (the
result is still recorded) and keeps its slot until lnd reports the payment final.

Caps, per api process: `total` flights at once, `per_token` per L402 token (the operator
counts as one token) and `per_target` per target node. A request over a cap is refused
at once (429 PROBE_BUSY with Retry-After), before anything is sent.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any, TypeVar

T = TypeVar("T")

BUSY_RETRY_AFTER_S = 10


@dataclass(eq=False)  # each flight is its own: kept in a set by identity
class Flight:
    """One request's probes, running to their final state whatever the request does."""

    token: str | None
    target: str
    htlc_left: bool = False  # an HTLC left our node: the probe cost liquidity
    task: asyncio.Task[Any] | None = field(default=None, repr=False)

    def mark_htlc(self) -> None:
        self.htlc_left = True


class FlightsFull(Exception):
    def __init__(self, which: str) -> None:
        super().__init__(f"too many probes in flight {which}")
        self.which = which


class ProbeFlights:
    def __init__(self, *, total: int = 4, per_token: int = 1, per_target: int = 1,
                 budget_s: float = 20.0) -> None:
        if min(total, per_token, per_target) < 1 or budget_s <= 0:
            raise ValueError("caps must be at least 1 and the budget positive")
        self.total, self.per_token, self.per_target = total, per_token, per_target
        self.budget_s = budget_s
        self._flights: set[Flight] = set()
        self._tokens: Counter[str] = Counter()
        self._targets: Counter[str] = Counter()

    def __len__(self) -> int:
        return len(self._flights)

    def start(self, token: str | None, target: str,
              run: Callable[[Flight], Coroutine[object, object, T]],
              ) -> tuple[Flight, asyncio.Task[T]]:
        """Reserve a slot and start `run(flight)` as its own task, or raise FlightsFull.
        The slot is freed when the task ends, never before."""
        if len(self._flights) >= self.total:
            raise FlightsFull("on this server")
        if token is not None and self._tokens[token] >= self.per_token:
            raise FlightsFull("for this token")
        if self._targets[target] >= self.per_target:
            raise FlightsFull("to this node")
        flight = Flight(token, target)
        task: asyncio.Task[T] = asyncio.create_task(run(flight))
        flight.task = task
        self._flights.add(flight)
        if token is not None:
            self._tokens[token] += 1
        self._targets[target] += 1
        task.add_done_callback(lambda _t: self._land(flight))
        return flight, task

    def _land(self, flight: Flight) -> None:
        self._flights.discard(flight)
        if flight.token is not None:
            self._tokens[flight.token] -= 1
            if self._tokens[flight.token] <= 0:
                del self._tokens[flight.token]
        self._targets[flight.target] -= 1
        if self._targets[flight.target] <= 0:
            del self._targets[flight.target]

    async def close(self) -> None:
        """At shutdown: stop following what is still in flight (lnd keeps the payments;
        their results are not recorded)."""
        tasks = [f.task for f in self._flights if f.task is not None]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(BaseException):
                await task
