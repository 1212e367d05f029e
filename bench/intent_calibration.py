"""bench/intent.py --calibration: the intent's p_success against real outcomes on simnet
v2 (see bench/intent.py's docstring)."""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from collections import Counter
from datetime import timedelta
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
from satrank.scoring.intent import MODEL_SHIFT_WEIGHT
from satrank.scoring.payment import normal_fee_budget_sat
from tests.simnet_fixture import SimnetHandle, start_simnet

ROUND_EVERY = timedelta(hours=12)
HOLDOUT_AFTER_S = 6 * 3600
AMOUNTS = (10_000, 50_000, 500_000)


async def _train(admin_dsn: str, sim: SimnetHandle, args: argparse.Namespace) -> str:
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
    return dsn


async def _snapshot(dsn: str, our_pubkey: str):  # type: ignore[no-untyped-def]
    import asyncpg

    conn = await asyncpg.connect(dsn)
    try:
        inputs = await load_intent_inputs(conn)
    finally:
        await conn.close()
    return build_snapshot(inputs, version=0, our_pubkey=our_pubkey, now_unix=time.time())


def _truth(truth: httpx.Client, payer: str, target: str, amount: int, budget: int) -> str:
    response = truth.get("/truth", params={"payer": payer, "target": target,
                                           "amount_msat": amount * 1000,
                                           "fee_limit_msat": budget * 1000})
    response.raise_for_status()
    return str(response.json()["outcome"])


def _logit(p: np.ndarray) -> np.ndarray:
    return np.asarray(np.log(p / (1 - p)))


def _report(name: str, p: np.ndarray, q: np.ndarray, y: np.ndarray) -> None:
    print(f"{name} (n={len(y)}, success share {y.mean():.3f}): intent ECE {ece(p, y):.4f} "
          f"Brier {brier(p, y):.4f} | node p_success ECE {ece(q, y):.4f} Brier "
          f"{brier(q, y):.4f}")


async def _bench(admin_dsn: str, sim: SimnetHandle, args: argparse.Namespace) -> None:
    dsn = await _train(admin_dsn, sim, args)
    with httpx.Client(base_url=f"http://{sim.truth_host}", timeout=60) as truth:
        truth.post("/advance", params={"seconds": HOLDOUT_AFTER_S}).raise_for_status()
        snapshot = await _snapshot(dsn, sim.oracle_pubkey)
        rng = np.random.default_rng(args.seed + 1)
        scored = [i for i, v in enumerate(snapshot.inputs.scores.verdict) if v is not None]
        payers = [i for i in range(len(snapshot.pubkeys)) if snapshot.can_pay(i, 1_000)]
        rows = []
        now = time.time()
        for k in range(args.holdout):
            target = snapshot.pubkeys[scored[int(rng.integers(len(scored)))]]
            customer = k % 5 == 0  # a fifth of the rows: simnet's customer (private)
            payer = (sim.customer_pubkey if customer
                     else snapshot.pubkeys[payers[int(rng.integers(len(payers)))]])
            if payer == target:
                continue
            amount = int(AMOUNTS[int(rng.integers(len(AMOUNTS)))])
            budget = normal_fee_budget_sat(amount)
            data = answer(snapshot, IntentRequest(("pubkey", target), None, ("pubkey", payer),
                                                  amount, budget, False), now)
            outcome = _truth(truth, payer, target, amount, budget)
            rows.append((data["pSuccess"], data["target"]["pSuccess"], outcome,
                         data["route"] is not None, customer, data["basis"],
                         data["model"]["pRoutes"], data["model"]["pReference"]))
    outcomes = Counter(r[2] for r in rows)
    print(f"held out {len(rows)} payments, {HOLDOUT_AFTER_S // 3600} simulated hours after "
          f"training; outcomes {dict(outcomes)}")
    p = np.array([r[0] for r in rows])
    q = np.array([r[1] for r in rows])
    y = np.array([r[2] == "SUCCEEDED" for r in rows], dtype=float)
    routable = np.array([r[3] for r in rows])
    customer = np.array([r[4] for r in rows])
    for name, sel in (("all rows", np.ones_like(routable)), ("routable rows", routable),
                      ("graph payers", ~customer), ("customer (reference payer)", customer)):
        if sel.any():
            _report(name, p[sel], q[sel], y[sel])
    basis = Counter((r[5], r[2] == "SUCCEEDED") for r in rows)
    print("basis, succeeded: " + ", ".join(f"{b} {v}: {n}" for (b, v), n in
                                            sorted(basis.items())))
    routes = np.array([r[6] for r in rows])
    reference = np.array([r[7] for r in rows])
    print(f"route model alone: ECE {ece(routes, y):.4f} Brier {brier(routes, y):.4f}; "
          f"reference at tier: mean {reference.mean():.3f}")
    print("sensitivity to the model's weight in the log-odds shift (scoring/intent.py "
          f"MODEL_SHIFT_WEIGHT = {MODEL_SHIFT_WEIGHT}):")
    node_p = np.clip(q, 1e-4, 1 - 1e-4)
    shift = _logit(np.clip(routes, 0.01, 0.99)) - _logit(np.clip(reference, 0.01, 0.99))
    for w in (0.0, 0.25, 0.5, 0.75, 1.0):
        pw = np.where(routes > 0, 1 / (1 + np.exp(-(_logit(node_p) + w * shift))), 0.0)
        print(f"  weight {w:.2f}: ECE {ece(pw, y):.4f} Brier {brier(pw, y):.4f}")
    print("reliability of the route model alone (all rows):")
    print("\n".join(reliability(routes, y)))
    print("reliability of the intent's p_success (all rows):")
    print("\n".join(reliability(p, y)))


def run_calibration(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory(prefix="satrank-bench-") as tmp:
        root = Path(tmp)
        with start_simnet(root / "sim", generate=args.generate, seed=args.world_seed,
                          time_scale=0) as sim, \
                embedded_postgres(root / "pg") as admin_dsn:
            asyncio.run(_bench(admin_dsn, sim, args))
