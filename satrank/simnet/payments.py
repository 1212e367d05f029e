"""A sending node's payment lifecycle, as lnd's router runs it.

Attempts go one at a time: find the cheapest route (pathfinding.py), send the HTLC
(forwarding.py); on a forwarding failure prune the reported pair for this payment and try
again; stop on settlement, on the final node's INCORRECT_OR_UNKNOWN_PAYMENT_DETAILS, when
no route is left (NO_ROUTE), or when the payment's timeout has passed on the simulated
clock (TIMEOUT: lnd starts no new attempt after it). Each attempt takes the simulated
per-hop latencies, slept for real times `time_scale`.
The route search honours the fee limit as lnd's does (pathfinding.py: a fee-only search when
the cheapest route costs more than the limit), and the pairs that failed are remembered for
the rest of this payment only. Route hints: our private destinations (the vantage and
customer nodes) are reachable only when the invoice or request carries hints.
HTLCs held in flight: a destination put on hold (`Holds`, driven by the truth channel's
/hold and /release) keeps every HTLC that reaches it IN_FLIGHT, reported as such by the
payment's updates, until it is released; then the HTLC resolves as it would have. This is
the jamming attacker that holds a probe past our deadline.
Not modelled: multi-part payments, mission control memory across payments, HTLC slots,
other attempts resolve atomically (their latency is slept afterwards), fee or CLTV
mismatches from policies that changed after our gossip.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

import numpy as np

from satrank.simnet.forwarding import INCORRECT_DETAILS, HtlcFailure, send_htlc
from satrank.simnet.invoices import InvoiceRegistry
from satrank.simnet.network import Network, VirtualNode
from satrank.simnet.pathfinding import Route, RouteFinder

PATHFINDING_S = 0.005  # simulated time lnd spends finding each route


@dataclass
class Attempt:
    attempt_id: int
    route: Route
    attempt_time_ns: int
    status: str = "IN_FLIGHT"  # HTLCAttempt.HTLCStatus name
    resolve_time_ns: int = 0
    failure: HtlcFailure | None = None
    preimage: bytes = b""


@dataclass
class Payment:
    payment_hash: bytes
    value_msat: int
    payment_request: str
    creation_time_ns: int
    payment_index: int
    status: str = "IN_FLIGHT"  # Payment.PaymentStatus name
    failure_reason: str = "FAILURE_REASON_NONE"
    preimage: bytes = b""
    attempts: list[Attempt] = field(default_factory=list)
    done: asyncio.Event = field(default_factory=asyncio.Event)
    version: int = 0
    changed: asyncio.Condition = field(default_factory=asyncio.Condition)

    @property
    def fee_msat(self) -> int:
        ok = [a for a in self.attempts if a.status == "SUCCEEDED"]
        return ok[-1].route.total_fees_msat if ok else 0


@dataclass(frozen=True)
class PaymentSpec:
    dest: int
    amount_msat: int
    payment_hash: bytes
    payment_addr: bytes | None
    final_cltv: int
    fee_limit_msat: int
    timeout_s: float
    payment_request: str = ""
    hinted: bool = False  # route hints cover a private destination


class PaymentError(Exception):
    """Refused before any attempt; `code` names the grpc status lnd would use."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class Holds:
    """Destinations that hold the HTLCs reaching them until released."""

    def __init__(self) -> None:
        self._released: dict[int, asyncio.Event] = {}
        self.held: dict[int, int] = {}  # destination -> HTLCs held there now

    def hold(self, dest: int) -> None:
        self._released.setdefault(dest, asyncio.Event())

    def holding(self, dest: int) -> bool:
        return dest in self._released

    def release(self, dest: int) -> None:
        """Let every HTLC held at `dest` resolve, and hold no more there."""
        event = self._released.pop(dest, None)
        if event is not None:
            event.set()

    async def wait(self, dest: int) -> None:
        event = self._released.get(dest)
        if event is None:
            return
        self.held[dest] = self.held.get(dest, 0) + 1
        try:
            await event.wait()
        finally:
            self.held[dest] -= 1


class Router:
    """One node's outgoing payments (SendPaymentV2 / TrackPaymentV2)."""

    def __init__(self, net: Network, finder: RouteFinder, node: VirtualNode,
                 invoices_of: Callable[[int], InvoiceRegistry | None], time_scale: float,
                 seed: int, elapse: Callable[[float], None] = lambda dt: None,
                 holds: Holds | None = None) -> None:
        self.net, self.finder, self.node = net, finder, node
        self.holds = holds or Holds()
        self._invoices_of = invoices_of
        self._elapse = elapse
        self.time_scale = time_scale
        self._rng = np.random.default_rng([seed, node.index, 0xF1A])
        self.payments: dict[bytes, Payment] = {}

    def start(self, spec: PaymentSpec) -> Payment:
        """Register the payment (lnd's control tower checks) and start its lifecycle."""
        if spec.dest == self.node.index:
            raise PaymentError("UNKNOWN", "self-payments not allowed")
        existing = self.payments.get(spec.payment_hash)
        if existing is not None:
            if existing.status == "IN_FLIGHT":
                raise PaymentError("ALREADY_EXISTS", "payment is in transition")
            if existing.status == "SUCCEEDED":
                raise PaymentError("ALREADY_EXISTS", "invoice is already paid")
        payment = Payment(payment_hash=spec.payment_hash, value_msat=spec.amount_msat,
                          payment_request=spec.payment_request,
                          creation_time_ns=time.time_ns(), payment_index=len(self.payments) + 1)
        self.payments[spec.payment_hash] = payment
        task = asyncio.get_running_loop().create_task(self._run(payment, spec))
        task.add_done_callback(lambda t: t.exception() if not t.cancelled() else None)
        return payment

    async def _notify(self, payment: Payment) -> None:
        async with payment.changed:
            payment.version += 1
            payment.changed.notify_all()

    async def _run(self, payment: Payment, spec: PaymentSpec) -> None:
        pruned: set[tuple[int, int]] = set()
        clock_s = 0.0
        invoices = self._invoices_of(spec.dest)
        while True:
            if clock_s >= spec.timeout_s:
                reason = "FAILURE_REASON_TIMEOUT"
                break
            clock_s += PATHFINDING_S
            route = None
            known = 0 <= spec.dest < self.net.n_nodes
            if known and not (self._is_private_dest(spec.dest) and not spec.hinted):
                route = self.finder.find_route(self.node, spec.dest, spec.amount_msat,
                                               spec.final_cltv, pruned, spec.fee_limit_msat)
            if route is None or route.total_fees_msat > spec.fee_limit_msat:
                reason = "FAILURE_REASON_NO_ROUTE"
                break
            attempt = Attempt(attempt_id=len(payment.attempts) + 1, route=route,
                              attempt_time_ns=time.time_ns())
            payment.attempts.append(attempt)
            if self.holds.holding(spec.dest):
                await self._notify(payment)  # lnd reports the HTLC in flight
                await self.holds.wait(spec.dest)
            outcome = send_htlc(self.net, route, spec.payment_hash, spec.payment_addr,
                                invoices, int(time.time()), self._rng)
            clock_s += outcome.duration_s
            self._elapse(outcome.duration_s + PATHFINDING_S)
            if self.time_scale > 0:
                await asyncio.sleep(outcome.duration_s * self.time_scale)
            attempt.resolve_time_ns = time.time_ns()
            if outcome.failure is None:
                attempt.status, attempt.preimage = "SUCCEEDED", outcome.preimage or b""
                payment.status, payment.preimage = "SUCCEEDED", attempt.preimage
                await self._finish(payment)
                return
            attempt.status, attempt.failure = "FAILED", outcome.failure
            if outcome.failure.code == INCORRECT_DETAILS:
                reason = "FAILURE_REASON_INCORRECT_PAYMENT_DETAILS"
                break
            if outcome.failure.pair is not None:
                pruned.add(outcome.failure.pair)
            await asyncio.sleep(0)  # let other payments and RPCs run between attempts
        payment.status, payment.failure_reason = "FAILED", reason
        await self._finish(payment)

    async def send_to_route(self, payment_hash: bytes, route: Route,
                            payment_addr: bytes | None) -> Attempt:
        """SendToRouteV2: one HTLC over a route the caller built; no retries."""
        dest = route.hops[-1].node
        attempt = Attempt(attempt_id=sum(len(p.attempts) for p in self.payments.values()) + 1,
                          route=route, attempt_time_ns=time.time_ns())
        outcome = send_htlc(self.net, route, payment_hash, payment_addr,
                            self._invoices_of(dest), int(time.time()), self._rng)
        self._elapse(outcome.duration_s)
        if self.time_scale > 0:
            await asyncio.sleep(outcome.duration_s * self.time_scale)
        attempt.resolve_time_ns = time.time_ns()
        if outcome.failure is None:
            attempt.status, attempt.preimage = "SUCCEEDED", outcome.preimage or b""
        else:
            attempt.status, attempt.failure = "FAILED", outcome.failure
        return attempt

    def _is_private_dest(self, dest: int) -> bool:
        return dest >= self.net.n_graph_nodes and not self.net.announce_own

    async def _finish(self, payment: Payment) -> None:
        payment.done.set()
        await self._notify(payment)

    async def updates(self, payment: Payment) -> AsyncIterator[Payment]:
        """Yield the payment now, then after each change, until it is final."""
        seen = -1
        while True:
            async with payment.changed:
                if payment.version == seen:
                    await payment.changed.wait()
                seen = payment.version
            final = payment.done.is_set()  # decided before the consumer resumes us
            yield payment
            if final:
                return
