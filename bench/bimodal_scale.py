"""Fit lnd's bimodal scale s to our own probes on simnet v2 (issue 15 item 2).

    .venv/bin/python bench/bimodal_scale.py [--rounds 6] [--probes 1000] [--gap-h 6]
        [--cache /tmp/probes.pickle]

1. simnet v2 on the mainnet snapshot (time scale 0, the living world: traffic, churn,
   gossip lag); `--rounds` rounds of `--probes` probes from the oracle through
   `LndClient.send_probe` (every HTLC attempt kept) to active nodes drawn uniformly, at
   amounts log-uniform in [2k, 2M] sat, fee limit 1 % + 10 sat; the world runs `--gap-h`
   simulated hours between rounds (POST /advance).
2. Replay every attempt in order through `lightning.probes.channel_observations`: each
   observation (a channel direction carried or could not carry amount a) is scored with
   what was known of that direction before it (lnd's merge rule and its one-week decay,
   `scoring.liquidity.decayed_bounds`), then merged. Channels outside the graph (our own
   private ones) are left out.
3. Maximum likelihood of the observations over s:
   sum log p (carried) + log(1 - p) (failed), p = bimodal_success(a, c, lower, upper, s);
   p clipped to [1e-6, 1 - 1e-6] (lnd's estimator says 1 or 0 outside the bounds). Reported:
   the fitted s, the mean log loss at s, at lnd's 300k, and under Pickhardt's uniform model,
   for all observations and for first sightings (the prior alone decides those).
"""

from __future__ import annotations

import argparse
import asyncio
import pickle
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
import numpy as np  # noqa: E402
from scipy.optimize import minimize_scalar  # noqa: E402

from satrank.lightning.backend import ProbeResult  # noqa: E402
from satrank.lightning.lnd import LndClient  # noqa: E402
from satrank.lightning.probes import channel_observations, htlc_attempts  # noqa: E402
from satrank.scoring.liquidity import (  # noqa: E402
    LND_BIMODAL_SCALE_SAT,
    bimodal_success,
    decayed_bounds,
    uniform_success,
)
from tests.data import MAINNET  # noqa: E402
from tests.simnet_fixture import SimnetHandle, start_simnet  # noqa: E402

CONCURRENCY = 16
PROBE_TIMEOUT_S = 60.0
EPS = 1e-6


@dataclass
class Known:
    carried: float = 0.0
    carried_t: float = -np.inf
    failed: float = np.inf
    failed_t: float = -np.inf


@dataclass
class Observations:
    amount: np.ndarray
    capacity: np.ndarray
    carried: np.ndarray  # the direction's state before the observation
    carried_age: np.ndarray
    failed: np.ndarray
    failed_age: np.ndarray
    outcome: np.ndarray  # 1 = carried
    first: np.ndarray  # nothing was known of the direction


Rounds = list[tuple[float, list[ProbeResult]]]  # (simulated unix time, results)


def replay(rounds: Rounds, capacity: dict[int, float]
           ) -> tuple[Observations, dict[tuple[int, str], Known]]:
    """The observations scored against the knowledge before each, and the final knowledge
    per (channel, node the HTLCs went to)."""
    known: dict[tuple[int, str], Known] = {}
    rows: list[tuple[float, ...]] = []
    for t, results in rounds:
        for r in results:
            for attempt in htlc_attempts(r):
                for o in channel_observations(attempt):
                    cap = capacity.get(o.channel_id)
                    if cap is None:
                        continue
                    k = known.setdefault((o.channel_id, o.to_pubkey), Known())
                    rows.append((o.amount_sat, cap, k.carried, t - k.carried_t, k.failed,
                                 t - k.failed_t, float(o.carried),
                                 float(k.carried == 0 and np.isinf(k.failed))))
                    if o.carried:  # lnd's merge rule (db/knowledge.py)
                        k.carried, k.carried_t = max(k.carried, o.amount_sat), t
                        if o.amount_sat >= k.failed:
                            k.failed = o.amount_sat + 1
                    else:
                        k.failed, k.failed_t = o.amount_sat, t
                        k.carried = min(k.carried, o.amount_sat - 1)
    m = np.array(rows, dtype=np.float64).reshape(-1, 8)
    return Observations(m[:, 0], m[:, 1], m[:, 2], m[:, 3], m[:, 4], m[:, 5], m[:, 6],
                        m[:, 7] > 0), known


def _bounds(o: Observations) -> tuple[np.ndarray, np.ndarray]:
    return decayed_bounds(o.capacity, o.carried, o.carried_age, o.failed, o.failed_age)


def log_loss(p: np.ndarray, y: np.ndarray) -> float:
    p = np.clip(p, EPS, 1 - EPS)
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))


def bimodal_loss(o: Observations, scale_sat: float, sel: np.ndarray | None = None) -> float:
    lo, hi = _bounds(o)
    s = slice(None) if sel is None else sel
    p = bimodal_success(o.amount[s], o.capacity[s], lo[s], hi[s], scale_sat=scale_sat)
    return log_loss(p, o.outcome[s])


def fit_scale(o: Observations) -> float:
    grid = np.geomspace(5e3, 5e8, 41)
    losses = [bimodal_loss(o, s) for s in grid]
    best = int(np.argmin(losses))
    lo, hi = np.log(grid[max(best - 1, 0)]), np.log(grid[min(best + 1, len(grid) - 1)])
    res = minimize_scalar(lambda x: bimodal_loss(o, float(np.exp(x))), bounds=(lo, hi),
                          method="bounded")
    return float(np.exp(res.x))


async def collect(sim: SimnetHandle, rounds: int, n: int, gap_h: float, seed: int
                  ) -> tuple[Rounds, dict[int, float]]:
    rng = np.random.default_rng(seed)
    client = LndClient.connect(sim.oracle_host, (sim.oracle_dir / "tls.cert").read_bytes(),
                               (sim.oracle_dir / "pay.macaroon").read_bytes(),
                               rpc_timeout_s=120)
    out: Rounds = []
    async with client, httpx.AsyncClient(base_url=f"http://{sim.truth_host}",
                                          timeout=600) as truth:
        graph = await client.describe_graph()
        capacity = {e.channel_id: float(e.capacity_sat) for e in graph.edges}
        nodes = sorted({p for e in graph.edges for p in (e.node1_pub, e.node2_pub)})
        gate = asyncio.Semaphore(CONCURRENCY)

        async def probe(dest: str, amount: int) -> ProbeResult:
            async with gate:
                return await client.send_probe(dest, amount, fee_limit_sat=amount // 100 + 10,
                                               timeout_s=PROBE_TIMEOUT_S)

        for r in range(rounds):
            clock = float((await truth.get("/state")).json()["unix_time"])
            dests = rng.choice(len(nodes), n)
            amounts = np.exp(rng.uniform(np.log(2e3), np.log(2e6), n)).astype(int)
            t0 = time.perf_counter()
            results = await asyncio.gather(*(probe(nodes[d], int(a))
                                             for d, a in zip(dests, amounts, strict=True)))
            attempts = sum(len(htlc_attempts(x)) for x in results)
            print(f"round {r + 1}: {n} probes, {attempts} HTLC attempts in "
                  f"{time.perf_counter() - t0:.1f} s", flush=True)
            out.append((clock, list(results)))
            (await truth.post("/advance", params={"seconds": gap_h * 3600})).raise_for_status()
    return out, capacity


def add_collect_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--probes", type=int, default=1000)
    parser.add_argument("--gap-h", type=float, default=6.0)
    parser.add_argument("--seed", type=int, default=15)
    parser.add_argument("--cache", type=Path, default=None,
                        help="pickle of the probe rounds: read if it exists, else written")


def collected(args: argparse.Namespace) -> tuple[Rounds, dict[int, float]]:
    """The probe rounds of a simnet v2 run (or of an earlier one, from --cache)."""
    if args.cache is not None and args.cache.exists():
        with args.cache.open("rb") as f:
            return pickle.load(f)  # type: ignore[no-any-return]
    with tempfile.TemporaryDirectory(prefix="satrank-bench-") as tmp, \
            start_simnet(Path(tmp) / "sim", graph=MAINNET, time_scale=0) as sim:
        data = asyncio.run(collect(sim, args.rounds, args.probes, args.gap_h, args.seed))
    if args.cache is not None:
        with args.cache.open("wb") as f:
            pickle.dump(data, f)
    return data


def main() -> None:
    parser = argparse.ArgumentParser()
    add_collect_arguments(parser)
    rounds, capacity = collected(parser.parse_args())
    o, _ = replay(rounds, capacity)
    s = fit_scale(o)
    lo, hi = _bounds(o)
    uniform = uniform_success(o.amount, o.capacity, lo, hi)
    print(f"{len(o.amount)} hop observations ({int(o.outcome.sum())} carried, "
          f"{int(o.first.sum())} first sightings)")
    print(f"fitted scale s = {s:,.0f} sat (lnd's default {LND_BIMODAL_SCALE_SAT:,.0f})")
    for name, sel in (("all", None), ("first sightings", o.first),
                      ("with knowledge", ~o.first)):
        if sel is not None and not sel.any():
            continue
        u = log_loss(uniform if sel is None else uniform[sel],
                     o.outcome if sel is None else o.outcome[sel])
        print(f"  {name}: log loss at s {bimodal_loss(o, s, sel):.4f}, at 300k "
              f"{bimodal_loss(o, LND_BIMODAL_SCALE_SAT, sel):.4f}, uniform {u:.4f}")


if __name__ == "__main__":
    main()
