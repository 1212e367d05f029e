"""Model v2 rescore on the mainnet snapshot: score_nodes wall time and its payer-view part.

`python bench/model2_rescore.py [RUNS]`: the snapshot's graph, 2,000 nodes with 10 probes
each (outcomes drawn from the cold graph probabilities, sent up to a day ago), probe pairs
for the persistence fit (tau 20 days), the v2 pass from the 8 most central nodes (the
snapshot has no vantage node). Prints the medians over RUNS of wall and
process CPU time (2 shared cores: CPU time is the figure that load does not inflate).
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from satrank.lightning.graph_file import load_graph_file  # noqa: E402
from satrank.outcomes import ProbeOutcome  # noqa: E402
from satrank.scoring.budgets import AMOUNT_GRID_SAT, BUDGETS  # noqa: E402
from satrank.scoring.engine import ScoringInputs, score_nodes  # noqa: E402
from satrank.scoring.evidence import ProbeEvidence, empty_probe_evidence  # noqa: E402
from satrank.scoring.graph import pagerank  # noqa: E402
from satrank.scoring.payer import reference_payer  # noqa: E402
from satrank.scoring.persistence import ProbePairs  # noqa: E402
from satrank.scoring.reach import payer_routes, payer_view  # noqa: E402
from tests.data import MAINNET  # noqa: E402
from tests.scoring_graphs import arrays_from_graph  # noqa: E402

NOW, TIP = 1_761_364_800.0, 920_000


def main(runs: int) -> None:
    g = arrays_from_graph(load_graph_file(MAINNET))
    cold = score_nodes(ScoringInputs(g, TIP, empty_probe_evidence()), now_unix=NOW)
    rng = np.random.default_rng(3)
    nodes = rng.choice(g.n_nodes, 2000, replace=False)
    ok = rng.binomial(10, np.clip(cold.default.p_success, 0.05, 0.95)[nodes])
    pks = [g.pubkeys[i] for i in nodes]
    ev = ProbeEvidence(pks * 2, np.full(4000, 100_000.0),
                       [ProbeOutcome.REACHED] * 2000 + [ProbeOutcome.FAILED_AT_TARGET] * 2000,
                       np.concatenate([ok, 10 - ok]).astype(float),
                       last_unix=NOW - rng.uniform(0.0, 86_400.0, 4000))
    # pairs as the renewal model draws them at tau 20 days (scoring/persistence.py)
    dt = np.array([3_600.0, 14_400.0, 86_400.0, 172_800.0])
    kept = np.exp(-dt / (20 * 86_400.0))
    q1, q0, m = 0.99, 0.01, 0.75
    after_reach = (kept * q1 + (1 - kept) * m) * 10_000
    after_failure = (kept * q0 + (1 - kept) * m) * 3_000
    pairs = ProbePairs(np.repeat([1.0, 1.0, 0.0, 0.0], 4), np.tile(np.repeat([1.0, 0.0], 4), 2),
                       np.concatenate([after_reach, 10_000 - after_reach, after_failure,
                                       3_000 - after_failure]), np.tile(dt, 4))
    inputs = ScoringInputs(g, TIP, ev, pairs=pairs)
    payer = reference_payer(g, pagerank(g), ())
    bounds = (np.zeros((2, g.n_edges)), np.broadcast_to(g.capacity_sat, (2, g.n_edges)))
    wall, cpu, view, searches = [], [], [], []
    for _ in range(runs):
        c = time.process_time()  # what a new graph costs once (scoring/route_cache.py)
        payer_routes(g, payer.sources, free_sources=payer.free_sources,
                     amounts_sat=AMOUNT_GRID_SAT, budgets=BUDGETS)
        searches.append(time.process_time() - c)
        t, c = time.perf_counter(), time.process_time()
        result = score_nodes(inputs, now_unix=NOW)
        wall.append(time.perf_counter() - t)
        cpu.append(time.process_time() - c)
        c = time.process_time()
        payer_view(g, payer.sources, free_sources=payer.free_sources,
                   amounts_sat=AMOUNT_GRID_SAT, budgets=BUDGETS, lower=bounds[0],
                   upper=bounds[1])
        view.append(time.process_time() - c)
    print(f"nodes {g.n_nodes} channels {g.n_edges} kappa {result.model.kappa:.2f}, "
          f"{result.model.persistence.describe()}")
    print(f"score_nodes median wall {statistics.median(wall):.3f} s, CPU "
          f"{statistics.median(cpu):.3f} s (payer_view CPU {statistics.median(view):.3f} s) "
          f"over {runs} runs; route searches of a new graph CPU "
          f"{statistics.median(searches):.3f} s")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5)
