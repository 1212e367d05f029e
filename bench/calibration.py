"""Calibration on simnet, where the truth is known: are our p_success values true?

    .venv/bin/python bench/calibration.py [--rounds 12] [--probes 1000] [--holdout 3000]

1. simnet on the mainnet snapshot (time scale 0); the crawler's own phases over gRPC:
   graph sync, scoring, then `--rounds` probe rounds of `--probes`, one every 12 simulated
   hours (the scheduler picks targets and tiers as in production), each followed by the
   set-based rescore.
2. Held out: `--holdout` fresh probes to nodes drawn uniformly from the active graph, at a
   uniformly drawn tier, sent after the last scoring and never recorded. Label 1 when the
   probe reached the destination, 0 for any failure ("error" rows, our own fault, are
   dropped).
3. Predictions for each held-out (node, tier) from the stored posteriors: p_success, and
   the graph-features-only baseline = the empirical-Bayes prior mean
   prior_alpha / (prior_alpha + prior_beta) (the same logistic model, without the node's
   own probes). Expected calibration error over 10 equal-width bins and Brier score, for
   all held-out rows and split by whether the node had probe evidence.
Target: ECE <= 0.05 and Brier better than the baseline.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from satrank.config import CrawlerSettings, DatabaseSettings  # noqa: E402
from satrank.crawler.cycle import probe_phase, score_phase, sync_phase  # noqa: E402
from satrank.crawler.probes import run_probe_round  # noqa: E402
from satrank.crawler.scheduler import PlannedProbe  # noqa: E402
from satrank.db.admin import create_database  # noqa: E402
from satrank.db.embedded import embedded_postgres  # noqa: E402
from satrank.db.migrations import migrate_dsn  # noqa: E402
from satrank.db.pool import Pool, create_pool  # noqa: E402
from satrank.lightning.lnd import LndClient  # noqa: E402
from tests.data import MAINNET  # noqa: E402
from tests.simnet_fixture import SimnetHandle, start_simnet  # noqa: E402

START = datetime(2025, 10, 1, tzinfo=UTC)
ROUND_EVERY = timedelta(hours=12)
BINS = 10


def ece(p: np.ndarray, y: np.ndarray, bins: int = BINS) -> float:
    """Expected calibration error: sum over equal-width bins of share * |mean p - mean y|."""
    idx = np.minimum((p * bins).astype(int), bins - 1)
    total = 0.0
    for b in range(bins):
        sel = idx == b
        if sel.any():
            total += sel.mean() * abs(p[sel].mean() - y[sel].mean())
    return total


def brier(p: np.ndarray, y: np.ndarray) -> float:
    return float(np.mean((p - y) ** 2))


def reliability(p: np.ndarray, y: np.ndarray, bins: int = BINS) -> list[str]:
    idx = np.minimum((p * bins).astype(int), bins - 1)
    rows = []
    for b in range(bins):
        sel = idx == b
        if sel.any():
            rows.append(f"  [{b / bins:.1f}, {(b + 1) / bins:.1f}): n={int(sel.sum()):5d} "
                        f"mean p={p[sel].mean():.3f} observed={y[sel].mean():.3f}")
    return rows


class SimClock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


def _client(sim: SimnetHandle, macaroon: str) -> LndClient:
    return LndClient.connect(sim.oracle_host, (sim.oracle_dir / "tls.cert").read_bytes(),
                             (sim.oracle_dir / f"{macaroon}.macaroon").read_bytes(),
                             rpc_timeout_s=120)


async def _predictions(pool: Pool, keys: list[tuple[str, int]]
                       ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """posterior p_success, prior mean, probed flag and prior strength per (node, tier)."""
    async with pool.acquire() as conn:
        rows = await conn.fetch(
            "SELECT p.pubkey, p.amount_sat, p.p_success, "
            "p.prior_alpha / (p.prior_alpha + p.prior_beta) AS prior_mean, "
            "p.prior_alpha + p.prior_beta AS kappa, "
            "EXISTS (SELECT 1 FROM probes r WHERE r.target_pubkey = p.pubkey) AS probed "
            "FROM posteriors p")
    by_key = {(r["pubkey"], r["amount_sat"]): r for r in rows}
    got = [by_key[k] for k in keys]
    return (np.array([r["p_success"] for r in got]), np.array([r["prior_mean"] for r in got]),
            np.array([r["probed"] for r in got], dtype=bool),
            np.array([r["kappa"] for r in got]))


async def _last_outcomes(pool: Pool, keys: list[tuple[str, int]]) -> list[str | None]:
    """The last training probe's outcome at the same node and tier (None: not probed)."""
    async with pool.acquire() as conn:
        rows = await conn.fetch(
            "SELECT DISTINCT ON (target_pubkey, amount_sat) target_pubkey, amount_sat, outcome "
            "FROM probes ORDER BY target_pubkey, amount_sat, sent_at DESC")
    last = {(r["target_pubkey"], r["amount_sat"]): r["outcome"] for r in rows}
    return [last.get(k) for k in keys]


async def bench(admin_dsn: str, sim: SimnetHandle, args: argparse.Namespace) -> None:
    dsn = await create_database(admin_dsn, "bench_calibration")
    await migrate_dsn(dsn)
    pool = await create_pool(dsn, DatabaseSettings(url=None))
    cs = CrawlerSettings(probe_fee_limit_sat=5_000)
    clock = SimClock()
    rng = np.random.default_rng(args.seed)
    try:
        async with _client(sim, "readonly") as source, _client(sim, "pay") as sender:
            await sync_phase(pool, source, clock=clock)
            await score_phase(pool, cs, enqueue_nostr=True, clock=clock)
            for r in range(args.rounds):
                clock.now = START + ROUND_EVERY * (r + 1)
                rep = await probe_phase(pool, sender, cs, n_probes=args.probes, rng=rng,
                                        clock=clock)
                await score_phase(pool, cs, enqueue_nostr=True, clock=clock)
                print(f"round {r + 1}: {rep.planned} probes {dict(Counter(rep.outcomes))}")
            clock.now += timedelta(hours=1)
            await score_phase(pool, cs, enqueue_nostr=True, clock=clock)
            async with pool.acquire() as conn:
                active = [r["pubkey"] for r in await conn.fetch(
                    "SELECT pubkey FROM scores ORDER BY pubkey")]
            picks = rng.choice(len(active), size=min(args.holdout, len(active)), replace=False)
            plan = [PlannedProbe(active[i], int(rng.choice(cs.probe_tiers_sat)), "holdout")
                    for i in picks.tolist()]
            keys = [(p.pubkey, p.amount_sat) for p in plan]
            p_post, p_prior, probed, kappa = await _predictions(pool, keys)
            before = await _last_outcomes(pool, keys)
            sent = await run_probe_round(sender, plan, concurrency=cs.probe_concurrency,
                                         fee_limit_sat=cs.probe_fee_limit_sat,
                                         timeout_s=cs.probe_timeout_s, clock=clock)
    finally:
        await pool.close()
    outcome = [s.result.outcome.value for s in sent]
    keep = np.array([o != "error" for o in outcome])
    y = np.array([o == "reached" for o in outcome], dtype=float)[keep]
    p_post, p_prior, probed, kappa = p_post[keep], p_prior[keep], probed[keep], kappa[keep]
    before = [b for b, k in zip(before, keep.tolist(), strict=True) if k]
    print(f"prior strength (kappa) fitted: {np.median(kappa):.1f}")
    same = Counter((b, int(v)) for b, v in zip(before, y.tolist(), strict=True) if b)
    print("held-out label by the last training outcome at the same node and tier: "
          + ", ".join(f"{b}->{v}: {n}" for (b, v), n in sorted(same.items())))
    print(f"held out: {len(y)} probes ({int(probed.sum())} to nodes with probe evidence), "
          f"reached share {y.mean():.3f}; outcomes {dict(Counter(outcome))}")
    for label, sel in (("all", np.ones_like(probed)), ("probed nodes", probed),
                       ("never-probed nodes", ~probed)):
        if not sel.any():
            continue
        print(f"{label} (n={int(sel.sum())}): posterior ECE {ece(p_post[sel], y[sel]):.4f} "
              f"Brier {brier(p_post[sel], y[sel]):.4f} | features-only baseline ECE "
              f"{ece(p_prior[sel], y[sel]):.4f} Brier {brier(p_prior[sel], y[sel]):.4f}")
    print("reliability of the posterior p_success (all held-out rows):")
    print("\n".join(reliability(p_post, y)))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=12)
    parser.add_argument("--probes", type=int, default=1000)
    parser.add_argument("--holdout", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="satrank-bench-") as tmp:
        root = Path(tmp)
        with start_simnet(root / "sim", graph=MAINNET, time_scale=0) as sim, \
                embedded_postgres(root / "pg") as admin_dsn:
            asyncio.run(bench(admin_dsn, sim, args))


if __name__ == "__main__":
    main()
