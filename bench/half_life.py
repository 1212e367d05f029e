"""Choose the evidence half-life and the liveness half-life on training data only (issue 15,
methodology.md §4): fit on the first rounds of a probed world, score the later rounds.

    .venv/bin/python bench/half_life.py [--nodes 800] [--rounds 8] [--step-hours 3.4]
        [--seed 6]

1. World: `satrank simnet` on the mainnet snapshot, living, time scale 0, seeded apart from
   the calibration bench's held-out world (`bench/calibration_v2.py`, seed 5): no row
   any bench holds out is seen here.
2. Training probes: the oracle probes the same `--nodes` random nodes every round, each at
   a random tier (10k, 100k, 1M) and alternately at the tight and the normal fee budget
   (the crawler's split), with the world moved `--step-hours` between rounds (the
   calibration bench's training cadence: 8 rounds over ~24 h). Each probe is recorded in
   Postgres with its simulated send time, limit and failure code (db/probes).
3. Fit: for each candidate (evidence half-life h, liveness half-life h_live), every round
   k >= 2 is predicted from the probes of rounds < k, read back through
   `db.probes.load_probe_evidence` at round k's time and turned into p by the model
   (`scoring.model.grid_evidence` + `node_model` on the engine's payer view; channel
   knowledge left empty, the same for every candidate), at the probe's amount and budget.
   Brier and log loss against "reached" over those rows; the lowest Brier wins.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import asyncpg  # noqa: E402
import numpy as np  # noqa: E402

from bench.calibration import brier  # noqa: E402
from bench.calibration_v2 import Truth, payer_graph  # noqa: E402
from satrank.db.admin import create_database  # noqa: E402
from satrank.db.embedded import embedded_postgres  # noqa: E402
from satrank.db.probes import SentProbe, load_probe_evidence, record_probes  # noqa: E402
from satrank.lightning.errors import LightningError  # noqa: E402
from satrank.lightning.lnd import LndClient  # noqa: E402
from satrank.scoring.budgets import AMOUNT_GRID_SAT, BUDGETS, NORMAL, TIGHT  # noqa: E402
from satrank.scoring.engine import reference_payer  # noqa: E402
from satrank.scoring.evidence import empty_report_evidence  # noqa: E402
from satrank.scoring.graph import GraphArrays, pagerank  # noqa: E402
from satrank.scoring.knowledge import edge_bounds, empty_channel_knowledge  # noqa: E402
from satrank.scoring.model import grid_evidence, node_model  # noqa: E402
from satrank.scoring.reach import PayerView, payer_view  # noqa: E402
from satrank.scoring.tiers import DEFAULT_TIER_SAT, DEFAULT_TIERS_SAT  # noqa: E402
from tests.data import MAINNET  # noqa: E402
from tests.simnet_fixture import start_simnet  # noqa: E402

HOUR_S = 3600.0
DAY_S = 86_400.0
EVIDENCE_HALF_LIVES_S = tuple(d * DAY_S for d in (0.25, 0.5, 1.0, 2.0, 7.0, 30.0))
LIVENESS_HALF_LIVES_S = tuple(h * HOUR_S for h in (0.5, 1.0, 3.0, 6.0, 12.0, 24.0, 168.0))
PAYMENT_TIMEOUT_S = 60.0


def limit_sat(budget: str, amount_sat: int) -> int:
    return int(TIGHT.base_sat) if budget == "tight" else NORMAL.whole_limit_sat(amount_sat)


async def probe_rounds(client: LndClient, conn: asyncpg.Connection, truth: Truth,
                       nodes: list[str], args: argparse.Namespace,
                       rng: np.random.Generator) -> list[tuple[float, list[tuple[str, int, int,
                                                                                 bool]]]]:
    """Every round: (simulated time, [(node, amount, fee limit, reached)])."""
    gate = asyncio.Semaphore(args.concurrency)
    rounds = []
    for r in range(args.rounds):
        if r:
            await asyncio.to_thread(truth.advance, args.step_hours * HOUR_S)
        now = float((await asyncio.to_thread(truth.state))["unix_time"])
        amounts = rng.choice(DEFAULT_TIERS_SAT, len(nodes)).tolist()
        budgets = ["tight" if (i + r) % 2 else "normal" for i in range(len(nodes))]

        async def one(i: int, now: float = now, amounts: list[int] = amounts,
                      budgets: list[str] = budgets) -> SentProbe | None:
            limit = limit_sat(budgets[i], int(amounts[i]))
            async with gate:
                try:
                    result = await client.send_probe(nodes[i], int(amounts[i]),
                                                     fee_limit_sat=limit,
                                                     timeout_s=PAYMENT_TIMEOUT_S)
                except LightningError:
                    return None  # our node failed us: not evidence
            return SentProbe(result, datetime.fromtimestamp(now, UTC), fee_limit_sat=limit)

        started = time.perf_counter()
        sent = [p for p in await asyncio.gather(*(one(i) for i in range(len(nodes))))
                if p is not None]
        await record_probes(conn, sent)
        rows = [(p.result.destination, p.result.amount_sat, int(p.fee_limit_sat or 0),
                 p.result.outcome.value == "reached") for p in sent]
        print(f"round {r + 1}/{args.rounds}: {len(sent)} probes in "
              f"{time.perf_counter() - started:.1f} s, reached {sum(x[3] for x in rows)}",
              flush=True)
        rounds.append((now, rows))
    return rounds


def view_of(graph: GraphArrays, payer: str, now: float) -> PayerView:
    """The engine's payer view (reference payer as `score_nodes` picks it), no knowledge."""
    sources, own, _ = reference_payer(graph, pagerank(graph), (payer,))
    lower, upper = edge_bounds(graph, empty_channel_knowledge(), now_unix=now)
    return payer_view(graph, sources, free_sources=own, amounts_sat=AMOUNT_GRID_SAT,
                      budgets=BUDGETS, lower=lower, upper=upper)


async def predict(conn: asyncpg.Connection, graph: GraphArrays, view: PayerView, now: float,
                  rows: list[tuple[str, int, int, bool]], half_life_s: float,
                  live_half_life_s: float) -> np.ndarray:
    """p of each row (sent at `now`) from the probes sent before it."""
    at = datetime.fromtimestamp(now, UTC) - timedelta(seconds=1)
    probes = await load_probe_evidence(conn, now=at, half_life_s=half_life_s,
                                       since=at - timedelta(days=30),
                                       liveness_half_life_s=live_half_life_s)
    index = {p: i for i, p in enumerate(graph.pubkeys)}
    ev = grid_evidence(probes, empty_report_evidence(), index, AMOUNT_GRID_SAT, view.last_hop,
                       default_amount_sat=DEFAULT_TIER_SAT, budgets=BUDGETS,
                       probe_budget=TIGHT)
    model = node_model(view, ev, amounts_sat=AMOUNT_GRID_SAT, budgets=BUDGETS,
                       probe_budget=BUDGETS.index(TIGHT))
    p = model.p_success()
    out = np.zeros(len(rows))
    for i, (node, amount, limit, _) in enumerate(rows):
        b = BUDGETS.index(TIGHT if limit <= TIGHT.base_sat else NORMAL)
        out[i] = p[b, AMOUNT_GRID_SAT.index(amount), index[node]] if node in index else 0.0
    return out


def log_loss(p: np.ndarray, y: np.ndarray) -> float:
    q = np.clip(p, 1e-4, 1 - 1e-4)
    return float(-np.mean(y * np.log(q) + (1 - y) * np.log(1 - q)))


async def fit(dsn: str, graph: GraphArrays, payer: str,
              rounds: list[tuple[float, list[tuple[str, int, int, bool]]]]) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        views = {k: view_of(graph, payer, now) for k, (now, _) in enumerate(rounds) if k}
        y = np.concatenate([[float(r[3]) for r in rows] for _, rows in rounds[1:]])
        print(f"\nscored rows: {len(y)} (rounds 2-{len(rounds)}, each node probed in every "
              f"earlier round), observed success {y.mean():.3f}")
        results = []
        for h in EVIDENCE_HALF_LIVES_S:
            for hl in LIVENESS_HALF_LIVES_S:
                p = np.concatenate([await predict(conn, graph, views[k], now, rows, h, hl)
                                    for k, (now, rows) in enumerate(rounds) if k])
                results.append((brier(p, y), log_loss(p, y), h, hl))
        print("\nevidence half-life, liveness half-life: Brier, log loss (rounds >= 2)")
        for b, ll, h, hl in sorted(results):
            print(f"  h {h / DAY_S:6.2f} d  h_live {hl / HOUR_S:6.1f} h: Brier {b:.5f}  "
                  f"log loss {ll:.5f}")
        b, ll, h, hl = min(results)
        base = next(r for r in results if math.isclose(r[2], 7 * DAY_S)
                    and math.isclose(r[3], 168 * HOUR_S))
        print(f"\nchosen: evidence half-life {h / DAY_S:g} d, liveness half-life "
              f"{hl / HOUR_S:g} h (Brier {b:.5f}, log loss {ll:.5f}; 7 d / 7 d: Brier "
              f"{base[0]:.5f})")
    finally:
        await conn.close()


async def run(admin_dsn: str, sim_root: Path, args: argparse.Namespace) -> None:
    rng = np.random.default_rng(args.seed)
    with start_simnet(sim_root, graph=None if args.generate else MAINNET,
                      generate=args.generate, seed=args.seed, time_scale=0) as sim:
        truth = Truth(sim.truth_host)
        d = sim.oracle_dir
        dsn = await create_database(admin_dsn, "bench_half_life")
        async with LndClient.connect(sim.oracle_host, (d / "tls.cert").read_bytes(),
                                     (d / "readonly.macaroon").read_bytes(),
                                     rpc_timeout_s=120) as source:
            graph = await payer_graph(dsn, source)
        picks = rng.choice(len(graph.pubkeys), min(args.nodes, len(graph.pubkeys)),
                           replace=False)
        nodes = [graph.pubkeys[i] for i in sorted(picks.tolist())]
        conn = await asyncpg.connect(dsn)
        try:
            async with LndClient.connect(sim.oracle_host, (d / "tls.cert").read_bytes(),
                                         (d / "pay.macaroon").read_bytes(),
                                         rpc_timeout_s=120) as pay:
                rounds = await probe_rounds(pay, conn, truth, nodes, args, rng)
        finally:
            await conn.close()
        await fit(dsn, graph, sim.oracle_pubkey, rounds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--nodes", type=int, default=800)
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--step-hours", type=float, default=3.4)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--seed", type=int, default=6)
    parser.add_argument("--generate", type=int, default=None, metavar="N",
                        help="a generated graph of N nodes instead of the mainnet snapshot")
    args = parser.parse_args()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="satrank-halflife-") as tmp, \
            embedded_postgres(Path(tmp) / "pg") as admin_dsn:
        asyncio.run(run(admin_dsn, Path(tmp) / "sim", args))
    print(f"total {time.perf_counter() - started:.0f} s wall")


if __name__ == "__main__":
    main()
