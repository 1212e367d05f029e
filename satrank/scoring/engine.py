"""One scoring pass over every node: PageRank, features, prior, posteriors, verdict, rank."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from satrank.scoring.evidence import (
    ProbeEvidence,
    ReportEvidence,
    cap_evidence,
    cap_report_share,
    empty_report_evidence,
    probe_tier_evidence,
    report_tier_evidence,
)
from satrank.scoring.features import NodeFeatures, node_features
from satrank.scoring.graph import GraphArrays, IntArray, PageRank, pagerank
from satrank.scoring.posterior import Posterior, beta_posterior
from satrank.scoring.prior import PriorModel, fit_prior_model, prior_design
from satrank.scoring.tiers import DEFAULT_TIER_SAT, DEFAULT_TIERS_SAT
from satrank.scoring.verdict import (
    VERDICTS,
    rank_of,
    report_reasons,
    verdict_codes,
    verdict_reasons,
)


@dataclass(frozen=True)
class ScoringParams:
    tiers_sat: tuple[int, ...] = DEFAULT_TIERS_SAT
    default_tier_sat: int = DEFAULT_TIER_SAT

    def __post_init__(self) -> None:
        if self.default_tier_sat not in self.tiers_sat:
            raise ValueError("default_tier_sat must be one of tiers_sat")


@dataclass(frozen=True)
class ScoringInputs:
    graph: GraphArrays
    block_height: int | None
    probes: ProbeEvidence
    reports: ReportEvidence = field(default_factory=empty_report_evidence)


@dataclass(frozen=True)
class ScoreResult:
    pubkeys: tuple[str, ...]
    tiers_sat: tuple[int, ...]
    pagerank: PageRank
    features: NodeFeatures
    posteriors: Sequence[Posterior]  # one per tier, arrays of length n
    default: Posterior
    prior: PriorModel
    verdict: IntArray  # index into VERDICTS
    rank: IntArray
    reasons: list[list[str]]

    def verdict_names(self) -> list[str]:
        return [VERDICTS[c] for c in self.verdict.tolist()]


def score_nodes(inputs: ScoringInputs, *, now_unix: float,
                params: ScoringParams | None = None) -> ScoreResult:
    """Score every node of `inputs.graph`; deterministic for equal inputs and `now_unix`."""
    params = params or ScoringParams()
    graph = inputs.graph
    index = {p: i for i, p in enumerate(graph.pubkeys)}
    pr = pagerank(graph)
    feats = node_features(graph, now_unix=now_unix, block_height=inputs.block_height)
    ps, pf = cap_evidence(*probe_tier_evidence(inputs.probes, index, params.tiers_sat))
    designs = [prior_design(feats, pr.percentile, float(t)) for t in params.tiers_sat]
    # The prior learns from our own probes only: reports must not shape it for every node.
    model = fit_prior_model(np.vstack(designs), ps.ravel(), pf.ravel())
    rs, rf = cap_report_share(
        *report_tier_evidence(inputs.reports, index, params.tiers_sat,
                              params.default_tier_sat),
        probe_weight=ps + pf, prior_strength=model.kappa)
    s, f = cap_evidence(ps + rs, pf + rf)
    posteriors = [beta_posterior(model.prior_mean(designs[t]), model.kappa, s[t], f[t])
                  for t in range(len(params.tiers_sat))]
    d = params.tiers_sat.index(params.default_tier_sat)
    default = posteriors[d]
    codes = verdict_codes(default, feats.active_channels)
    if np.array_equal(s[d], ps[d]) and np.array_equal(f[d], pf[d]):
        probes_only = codes  # no report counted: the very same posterior (saves 25k betaincinv)
    else:
        probes_only = verdict_codes(
            beta_posterior(model.prior_mean(designs[d]), model.kappa, ps[d], pf[d]),
            feats.active_channels)
    reasons = verdict_reasons(default, feats.active_channels, codes, params.default_tier_sat)
    for i, lines in report_reasons(rs[d] + rf[d], codes, probes_only).items():
        reasons[i].extend(lines)
    return ScoreResult(
        pubkeys=graph.pubkeys, tiers_sat=params.tiers_sat, pagerank=pr, features=feats,
        posteriors=posteriors, default=default, prior=model, verdict=codes,
        rank=rank_of(default, pr.percentile), reasons=reasons,
    )
