"""The truth side channel: what a real payment would do now, for benches to score against.

Not part of lnd's API; served over plain HTTP on its own port (`--truth-listen`):
- GET /truth?payer=PUBKEY&target=PUBKEY&amount_msat=N[&fee_limit_msat=N][&timeout_s=S][&at=T]
  runs lnd's payment loop (payments.py semantics: route search within the fee limit,
  retries over other routes with this payment's failed pairs pruned, until no route is left
  or the timeout passes on the simulated clock) without moving any balance or settling;
  reaching the target counts as success. The payer may be any graph node or one of ours.
  Flaky nodes draw from a copy of the world's generator, so asking changes nothing.
  `at` (unix seconds of the simulated clock) advances the world to that time first when
  the clock is activity-driven (time-scale 0); a past `at` is refused (409): the world keeps
  no history.
- POST /advance?seconds=S moves the world clock (time-scale 0 only).
- GET /state: the clock and the world's counters.
- POST /hold?target=PUBKEY: the target holds every HTLC that reaches it (a jamming node:
  the payment stays in flight) until POST /release?target=PUBKEY; both answer
  {"held": N}, the HTLCs held at the target now.
"""

from __future__ import annotations

import copy
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route as HttpRoute

from satrank.simnet.forwarding import forward
from satrank.simnet.network import Network
from satrank.simnet.pathfinding import Payer
from satrank.simnet.payments import PATHFINDING_S
from satrank.simnet.simulator import Simulator

DEFAULT_TIMEOUT_S = 60.0
DEFAULT_CLTV = 40


@dataclass(frozen=True)
class Truth:
    outcome: str  # SUCCEEDED or a Payment.PaymentFailureReason name
    attempts: int
    fee_msat: int
    hops: int
    sim_duration_s: float
    unix_time: int


def _payer(net: Network, index: int) -> Payer:
    return next((v for v in net.virtual if v.index == index), None) or net.sender(index)


def true_outcome(sim: Simulator, payer: int, target: int, amount_msat: int,
                 fee_limit_msat: int | None, timeout_s: float) -> Truth:
    net = sim.net
    rng: np.random.Generator = copy.deepcopy(sim.world.rng)
    sender = _payer(net, payer)
    pruned: set[tuple[int, int]] = set()
    clock = 0.0
    attempts = 0
    while clock < timeout_s:
        clock += PATHFINDING_S
        route = sim.finder.find_route(sender, target, amount_msat, DEFAULT_CLTV, pruned,
                                      fee_limit_msat)
        if route is None or (fee_limit_msat is not None
                             and route.total_fees_msat > fee_limit_msat):
            return Truth("FAILURE_REASON_NO_ROUTE", attempts, 0, 0, clock, sim.world.unix_now)
        attempts += 1
        sent = forward(net, route, rng)
        clock += sent.duration_s
        if sent.failure is None:
            return Truth("SUCCEEDED", attempts, route.total_fees_msat, len(route.hops), clock,
                         sim.world.unix_now)
        if sent.failure.pair is not None:
            pruned.add(sent.failure.pair)
    return Truth("FAILURE_REASON_TIMEOUT", attempts, 0, 0, clock, sim.world.unix_now)


def _node(net: Network, params: Any, name: str) -> int:
    index = net.index.get(str(params.get(name, "")).lower())
    if index is None:
        raise ValueError(f"unknown {name}")
    return index


def truth_app(sim: Simulator) -> Starlette:
    async def truth(request: Request) -> JSONResponse:
        q = request.query_params
        try:
            payer, target = _node(sim.net, q, "payer"), _node(sim.net, q, "target")
            amount = int(q["amount_msat"])
            fee_limit = int(q["fee_limit_msat"]) if "fee_limit_msat" in q else None
            timeout = float(q.get("timeout_s", DEFAULT_TIMEOUT_S))
            at = int(q["at"]) if "at" in q else None
        except (KeyError, ValueError) as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        if at is not None:
            if at < sim.world.unix_now:
                return JSONResponse({"error": "the world keeps no history",
                                     "now": sim.world.unix_now}, status_code=409)
            if sim.time_scale == 0:
                sim.world.advance(at - sim.world.unix_now)
        return JSONResponse(asdict(true_outcome(sim, payer, target, amount, fee_limit, timeout)))

    async def advance(request: Request) -> JSONResponse:
        if sim.time_scale != 0:
            return JSONResponse({"error": "the clock follows the wall clock"}, status_code=409)
        try:
            seconds = float(request.query_params["seconds"])
        except (KeyError, ValueError):
            return JSONResponse({"error": "seconds required"}, status_code=400)
        sim.world.advance(max(0.0, seconds))
        return await state(request)

    async def state(request: Request) -> JSONResponse:
        w = sim.world
        return JSONResponse({"unix_time": w.unix_now, "sim_s": w.now_s,
                             "gossip_version": sim.net.gossip_version, **asdict(w.stats)})

    async def hold(request: Request) -> JSONResponse:
        target = sim.net.index.get(request.query_params.get("target", "").lower())
        if target is None:
            return JSONResponse({"error": "target must be a known pubkey"}, status_code=400)
        if request.url.path == "/hold":
            sim.holds.hold(target)
        else:
            sim.holds.release(target)
        return JSONResponse({"held": sim.holds.held.get(target, 0)})

    return Starlette(routes=[HttpRoute("/truth", truth), HttpRoute("/state", state),
                             HttpRoute("/advance", advance, methods=["POST"]),
                             HttpRoute("/hold", hold, methods=["POST"]),
                             HttpRoute("/release", hold, methods=["POST"])])
