"""End to end on simnet v2 (issue 15 item 6): after a day of hourly probes from the oracle
at the normal fee budget, the verdicts are decisive and honest against the truth port.

Real gRPC probes to a living simnet world, the truth port's outcome of the very same
payment each hour (the node's true p is the share of hours it would have been paid), the
real scoring pass. Targets: >= 90 % of the nodes whose true p >= 0.9 and that were probed
>= 5 times are SAFE; < 2 % of the nodes whose true p <= 0.2 are SAFE.
"""

from __future__ import annotations

import asyncio
import collections
import tempfile
from pathlib import Path

import httpx
import numpy as np

from satrank.lightning.lnd import LndClient
from satrank.outcomes import ProbeOutcome
from satrank.scoring.budgets import NORMAL
from satrank.scoring.engine import ScoringInputs, ScoringParams, score_nodes
from satrank.scoring.evidence import DEFAULT_HALF_LIFE_S, ProbeEvidence, decay_factor
from tests.scoring_graphs import arrays_from_graph
from tests.simnet_api import describe_simnet_graph
from tests.simnet_fixture import SimnetHandle, start_simnet

NODES = 120
ROUNDS = 6
AMOUNT_SAT = 100_000
HOUR_S = 3600
CONCURRENCY = 16


async def _probe_round(pay: LndClient, targets: list[str]) -> list[ProbeOutcome]:
    gate = asyncio.Semaphore(CONCURRENCY)

    async def one(target: str) -> ProbeOutcome:
        async with gate:
            result = await pay.send_probe(target, AMOUNT_SAT,
                                          fee_limit_sat=int(NORMAL.limit_sat(AMOUNT_SAT)),
                                          timeout_s=60.0)
            return result.outcome

    return list(await asyncio.gather(*(one(t) for t in targets)))


def _truth(truth: httpx.Client, payer: str, target: str) -> bool:
    answer = truth.get("/truth", params={
        "payer": payer, "target": target, "amount_msat": AMOUNT_SAT * 1000,
        "fee_limit_msat": int(NORMAL.limit_sat(AMOUNT_SAT) * 1000), "timeout_s": 60})
    answer.raise_for_status()
    return bool(answer.json()["outcome"] == "SUCCEEDED")


async def _day_of_probes(net: SimnetHandle) -> tuple[ScoringInputs, float, dict[str, float]]:
    graph = await describe_simnet_graph(net)
    targets = [n.pubkey for n in graph.nodes]
    counts: dict[tuple[str, ProbeOutcome], list[float]] = collections.defaultdict(list)
    truth_hits = collections.Counter[str]()
    d = net.oracle_dir
    with httpx.Client(base_url=f"http://{net.truth_host}", timeout=30) as truth:
        async with LndClient.connect(net.oracle_host, (d / "tls.cert").read_bytes(),
                                     (d / "pay.macaroon").read_bytes()) as pay:
            for _ in range(ROUNDS):
                for t in targets:
                    truth_hits[t] += _truth(truth, net.oracle_pubkey, t)
                now = float(truth.get("/state").json()["unix_time"])
                for t, outcome in zip(targets, await _probe_round(pay, targets), strict=True):
                    counts[(t, outcome)].append(now)
                truth.post("/advance", params={"seconds": HOUR_S}).raise_for_status()
            now = float(truth.get("/state").json()["unix_time"])
    keys = list(counts)
    evidence = ProbeEvidence(
        [k[0] for k in keys], np.full(len(keys), float(AMOUNT_SAT)), [k[1] for k in keys],
        np.array([float(decay_factor(now - np.array(counts[k]), DEFAULT_HALF_LIFE_S).sum())
                  for k in keys]))
    inputs = ScoringInputs(arrays_from_graph(graph), None, evidence,
                           payer_pubkeys=(net.oracle_pubkey,))
    return inputs, now, {t: truth_hits[t] / ROUNDS for t in targets}


def test_verdicts_on_simnet_meet_the_targets() -> None:
    with tempfile.TemporaryDirectory(prefix="simnet-verdict-") as tmp, \
            start_simnet(Path(tmp), generate=NODES, seed=11) as net:
        inputs, now, true_p = asyncio.run(_day_of_probes(net))
    result = score_nodes(inputs, now_unix=now, params=ScoringParams(probe_budget=NORMAL))
    verdict = dict(zip(result.pubkeys, result.verdict_names(), strict=True))
    healthy = [pk for pk, p in true_p.items() if p >= 0.9]
    broken = [pk for pk, p in true_p.items() if p <= 0.2]
    assert len(healthy) >= 20 and len(broken) >= 5  # the world has both kinds
    safe_healthy = sum(verdict[pk] == "SAFE" for pk in healthy) / len(healthy)
    safe_broken = sum(verdict[pk] == "SAFE" for pk in broken) / len(broken)
    assert safe_healthy >= 0.90, collections.Counter(verdict[pk] for pk in healthy)
    assert safe_broken < 0.02, collections.Counter(verdict[pk] for pk in broken)
