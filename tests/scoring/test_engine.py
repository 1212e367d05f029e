"""Unit: a whole scoring pass on the mainnet snapshot with synthetic probe evidence."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest

from satrank.lightning.graph_file import load_graph_file
from satrank.outcomes import ProbeOutcome
from satrank.scoring.engine import ScoringInputs, ScoringParams, score_nodes
from satrank.scoring.evidence import ProbeEvidence, empty_probe_evidence
from satrank.scoring.graph import GraphArrays
from tests.data import MAINNET
from tests.scoring_graphs import arrays_from_graph

NOW = 1_761_364_800.0  # 2025-10-25, the snapshot's day
TIP = 920_000


@pytest.fixture(scope="module")
def mainnet() -> Iterator[GraphArrays]:
    yield arrays_from_graph(load_graph_file(MAINNET))


def _evidence(g: GraphArrays, rng: np.random.Generator, truth: np.ndarray, k: int
              ) -> ProbeEvidence:
    nodes = rng.choice(g.n_nodes, 2000, replace=False)
    ok = rng.binomial(k, truth[nodes])
    pubkeys = [g.pubkeys[i] for i in nodes]
    return ProbeEvidence(pubkeys * 2, np.full(2 * len(nodes), 100_000.0),
                         [ProbeOutcome.REACHED] * len(nodes)
                         + [ProbeOutcome.FAILED_AT_TARGET] * len(nodes),
                         np.concatenate([ok, k - ok]).astype(float))


def test_scoring_mainnet_is_sane_and_deterministic(mainnet: GraphArrays) -> None:
    cold = score_nodes(ScoringInputs(mainnet, TIP, empty_probe_evidence()), now_unix=NOW)
    assert cold.pagerank.l1_change < 1e-9
    assert not cold.model.kappa_fitted
    assert set(cold.verdict_names()) <= {"INSUFFICIENT", "RISKY"}  # no evidence yet
    rng = np.random.default_rng(3)
    truth = np.clip(cold.default.p_success, 0.05, 0.95)
    inputs = ScoringInputs(mainnet, TIP, _evidence(mainnet, rng, truth, 10))
    a = score_nodes(inputs, now_unix=NOW)
    b = score_nodes(inputs, now_unix=NOW)
    assert a.rank.tolist() == b.rank.tolist()
    assert a.model.kappa_fitted
    for post in a.posteriors:
        assert np.all((post.p_success >= 0) & (post.p_success <= 1))
        assert np.all((post.ci95_low <= post.p_success) & (post.p_success <= post.ci95_high))
    names = a.verdict_names()
    assert {"SAFE", "RISKY", "UNKNOWN", "INSUFFICIENT"} <= set(names)


def test_informed_prior_tracks_the_truth_for_never_probed_nodes(mainnet: GraphArrays) -> None:
    cold = score_nodes(ScoringInputs(mainnet, TIP, empty_probe_evidence()), now_unix=NOW)
    truth = np.clip(cold.default.p_success, 0.05, 0.95)
    ev = _evidence(mainnet, np.random.default_rng(5), truth, 10)
    res = score_nodes(ScoringInputs(mainnet, TIP, ev), now_unix=NOW,
                      params=ScoringParams())
    probed = {mainnet.pubkeys.index(p) for p in set(ev.pubkeys)}
    unprobed = np.array([i for i in range(mainnet.n_nodes) if i not in probed])
    prior = res.default.p_success[unprobed]
    assert np.std(prior) > 0.1  # not a flat 0.5
    assert np.corrcoef(prior, truth[unprobed])[0, 1] > 0.7
