"""bench/intent.py --calibration: the intent's p_success against real outcomes on simnet
v2 (see bench/intent.py's docstring)."""

from __future__ import annotations

import argparse
import asyncio
import tempfile
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import httpx
import numpy as np

from bench.calibration import START, SimClock, _client, brier, ece, reliability
from satrank.api.cache.intent import build_snapshot
from satrank.api.intent_input import IntentRequest
from satrank.api.routes.intent import answer
from satrank.config import CrawlerSettings, DatabaseSettings
from satrank.crawler.cycle import probe_phase, score_phase, sync_phase
from satrank.db.admin import create_database
from satrank.db.embedded import embedded_postgres
from satrank.db.intent import load_intent_inputs
from satrank.db.migrations import migrate_dsn
from satrank.db.pool import create_pool
from satrank.scoring.intent import MODEL_ROUTE_SHARE, MODEL_SHIFT_WEIGHT
from satrank.scoring.payment import normal_fee_budget_sat
from tests.simnet_fixture import SimnetHandle, start_simnet

ROUND_EVERY = timedelta(hours=12)
HOLDOUT_AFTER_S = 6 * 3600
AMOUNTS = (10_000, 50_000, 500_000)
TIGHT_SAT = 10  # scoring.budgets.TIGHT
# (weight of the shift, share of the caller's own route model): scoring/intent.condition
CODE = (MODEL_SHIFT_WEIGHT, MODEL_ROUTE_SHARE)
WEIGHTS = tuple(sorted({(w, a) for w in (0.0, 0.25, 0.5)
                        for a in (0.0, 0.2, 0.4, 0.5, 0.6, 0.8, 1.0)} | {CODE}))


async def _train(admin_dsn: str, sim: SimnetHandle, args: argparse.Namespace
                 ) -> tuple[str, datetime]:
    dsn = await create_database(admin_dsn, "bench_intent_calibration")
    await migrate_dsn(dsn)
    pool = await create_pool(dsn, DatabaseSettings(url=None))
    cs = CrawlerSettings()  # the crawler's production settings, no overrides
    clock = SimClock()
    rng = np.random.default_rng(args.seed)
    try:
        async with _client(sim, "readonly") as source, _client(sim, "pay") as sender:
            await sync_phase(pool, source, clock=clock)
            await score_phase(pool, cs, enqueue_nostr=False, clock=clock)
            for r in range(args.rounds):
                clock.now = START + ROUND_EVERY * (r + 1)
                rep = await probe_phase(pool, sender, cs, n_probes=args.probes, rng=rng,
                                        clock=clock)
                await score_phase(pool, cs, enqueue_nostr=False, clock=clock)
                print(f"round {r + 1}: {rep.planned} probes {dict(Counter(rep.outcomes))}",
                      flush=True)
    finally:
        await pool.close()
    return dsn, clock.now


async def _snapshot(dsn: str, our_pubkey: str, now_unix: float):  # type: ignore[no-untyped-def]
    import asyncpg

    conn = await asyncpg.connect(dsn)
    try:
        inputs = await load_intent_inputs(conn)
    finally:
        await conn.close()
    # channel knowledge decays on the world's clock, the one the probes were stamped with
    return build_snapshot(inputs, version=0, our_pubkey=our_pubkey, now_unix=now_unix)


def _truth(truth: httpx.Client, payer: str, target: str, amount: int, budget: int) -> str:
    response = truth.get("/truth", params={"payer": payer, "target": target,
                                           "amount_msat": amount * 1000,
                                           "fee_limit_msat": budget * 1000})
    response.raise_for_status()
    return str(response.json()["outcome"])


@dataclass
class Rows:
    """Per payment: the intent's p at every weight of WEIGHTS, the caller-agnostic figures
    (the node's default-tier p_success, and the grid for the reference payer at the
    payment's amount and budget), the route model alone, who paid, what happened."""

    by_weight: np.ndarray  # (rows, len(WEIGHTS))
    node_p: np.ndarray
    reference_p: np.ndarray
    routes: np.ndarray
    customer: np.ndarray
    caller_aware: np.ndarray  # payer.basis == caller
    y: np.ndarray
    basis: list[str]


def _rows(snapshot, truth: httpx.Client, sim: SimnetHandle,  # type: ignore[no-untyped-def]
          rng: np.random.Generator, n: int, now: float) -> Rows:
    """n payments: half from simnet's customer, half from random graph nodes, to random
    scored targets, at AMOUNTS with a normal budget (two thirds) or the tight 10 sat."""
    scored = [i for i, v in enumerate(snapshot.inputs.scores.verdict) if v is not None]
    ours = {sim.customer_pubkey, *(v[3] for v in sim.vantages)}
    payers = [i for i in range(len(snapshot.pubkeys))
              if snapshot.can_pay(i, 1_000) and snapshot.pubkeys[i] not in ours]
    out: list[tuple[list[float], float, float, float, bool, bool, bool, str]] = []
    for k in range(n):
        target = snapshot.pubkeys[scored[int(rng.integers(len(scored)))]]
        customer = k % 2 == 0
        payer = (sim.customer_pubkey if customer
                 else snapshot.pubkeys[payers[int(rng.integers(len(payers)))]])
        if payer == target or target in ours:
            continue
        amount = int(AMOUNTS[int(rng.integers(len(AMOUNTS)))])
        budget = normal_fee_budget_sat(amount) if rng.random() < 2 / 3 else TIGHT_SAT
        ask = IntentRequest(("pubkey", target), None, ("pubkey", payer), amount, budget, False)
        answers = [answer(snapshot, ask, now, weight=w, route_share=a) for w, a in WEIGHTS]
        agnostic = answer(snapshot, IntentRequest(("pubkey", target), None, None, amount,
                                                  budget, False), now)
        outcome = _truth(truth, payer, target, amount, budget)
        first = answers[0]
        out.append(([a["pSuccess"] for a in answers], first["target"]["pSuccess"],
                    agnostic["pSuccess"], first["model"]["pRoutes"], customer,
                    first["payer"]["basis"] == "caller", outcome == "SUCCEEDED",
                    first["basis"]))
    return Rows(np.array([r[0] for r in out]), np.array([r[1] for r in out]),
                np.array([r[2] for r in out]), np.array([r[3] for r in out]),
                np.array([r[4] for r in out]), np.array([r[5] for r in out]),
                np.array([r[6] for r in out], dtype=float), [r[7] for r in out])


def _report(name: str, rows: Rows, col: int, sel: np.ndarray) -> None:
    y = rows.y[sel]
    p = rows.by_weight[sel, col]
    print(f"  {name} (n={int(sel.sum())}, success share {y.mean():.3f}): intent ECE "
          f"{ece(p, y):.4f} Brier {brier(p, y):.4f} | node p_success (default tier) ECE "
          f"{ece(rows.node_p[sel], y):.4f} Brier {brier(rows.node_p[sel], y):.4f} | grid "
          f"for the reference payer ECE {ece(rows.reference_p[sel], y):.4f} Brier "
          f"{brier(rows.reference_p[sel], y):.4f}")


async def _bench(admin_dsn: str, sim: SimnetHandle, args: argparse.Namespace) -> None:
    dsn, trained = await _train(admin_dsn, sim, args)
    rng = np.random.default_rng(args.seed + 1)
    with httpx.Client(base_url=f"http://{sim.truth_host}", timeout=60) as truth:
        # the weight is chosen on payments at the end of the training window, before the gap
        snapshot = await _snapshot(dsn, sim.oracle_pubkey, trained.timestamp())
        assert snapshot.reference_is_ours, "run simnet with --announce-own-channels"
        fit = _rows(snapshot, truth, sim, rng, args.fit, trained.timestamp())
        if args.dump is not None:  # training-window rows only: for looking at, not tuning
            np.savez(args.dump, by_weight=fit.by_weight, node_p=fit.node_p,
                     reference_p=fit.reference_p, routes=fit.routes, customer=fit.customer,
                     y=fit.y, basis=np.array(fit.basis))
        briers = [brier(fit.by_weight[:, j], fit.y) for j in range(len(WEIGHTS))]
        chosen = int(np.argmin(briers))
        print(f"training-window payments (n={len(fit.y)}), Brier by (shift weight, route "
              "share): " + ", ".join(f"{w}/{a}: {b:.4f}" for (w, a), b in zip(
                  WEIGHTS, briers, strict=True))
              + f" -> {WEIGHTS[chosen]} (the code's: {CODE})")
        truth.post("/advance", params={"seconds": HOLDOUT_AFTER_S}).raise_for_status()
        later = trained.timestamp() + HOLDOUT_AFTER_S
        held = _rows(await _snapshot(dsn, sim.oracle_pubkey, later), truth, sim, rng,
                     args.holdout, later)
    print(f"held out {len(held.y)} payments, {HOLDOUT_AFTER_S // 3600} simulated hours after "
          f"training; success share {held.y.mean():.3f}; basis: "
          f"{dict(Counter(held.basis))}")
    code = WEIGHTS.index(CODE)
    for label, col in ((f"chosen (weight, route share) {WEIGHTS[chosen]}", chosen),
                       (f"code's {CODE}", code)):
        print(f"held out, intent at the {label}:")
        everyone = np.ones(len(held.y), dtype=bool)
        for name, sel in (("all rows", everyone), ("customer as caller", held.customer),
                          ("graph payers", ~held.customer),
                          ("caller-aware rows", held.caller_aware)):
            if sel.any():
                _report(name, held, col, sel)
    print(f"route model alone: ECE {ece(held.routes, held.y):.4f} Brier "
          f"{brier(held.routes, held.y):.4f}")
    print("reliability of the intent's p_success, customer rows, chosen weight:")
    print("\n".join(reliability(held.by_weight[held.customer, chosen], held.y[held.customer])))


def run_calibration(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory(prefix="satrank-bench-") as tmp:
        root = Path(tmp)
        with start_simnet(root / "sim", generate=args.generate, seed=args.world_seed,
                          time_scale=0, vantage=2,
                          extra=("--announce-own-channels",)) as sim, \
                embedded_postgres(root / "pg") as admin_dsn:
            asyncio.run(_bench(admin_dsn, sim, args))
