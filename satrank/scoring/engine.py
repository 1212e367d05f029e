"""One scoring pass over every node: PageRank, features, the payer's view of the graph,
the node model on the amount x budget grid, verdict, rank."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from satrank.scoring.budgets import AMOUNT_GRID_SAT, BUDGETS, DEFAULT_BUDGET, TIGHT, FeeBudget
from satrank.scoring.centrality import payment_centrality_percentile
from satrank.scoring.evidence import ProbeEvidence, ReportEvidence, empty_report_evidence
from satrank.scoring.features import NodeFeatures, node_features
from satrank.scoring.graph import FloatArray, GraphArrays, IntArray, PageRank, pagerank
from satrank.scoring.knowledge import ChannelKnowledge, edge_bounds, empty_channel_knowledge
from satrank.scoring.liquidity import LND_BIMODAL_SCALE_SAT
from satrank.scoring.model import NodeModel, grid_evidence, node_model
from satrank.scoring.payer import OwnChannel, reference_payer
from satrank.scoring.persistence import Persistence, ProbePairs, fit_persistence
from satrank.scoring.posterior import Posterior
from satrank.scoring.reach import payer_view
from satrank.scoring.route_cache import ROUTES
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
    tiers_sat: tuple[int, ...] = DEFAULT_TIERS_SAT  # rows of the posteriors table
    default_tier_sat: int = DEFAULT_TIER_SAT
    amounts_sat: tuple[int, ...] = AMOUNT_GRID_SAT
    budgets: tuple[FeeBudget, ...] = BUDGETS
    default_budget: FeeBudget = DEFAULT_BUDGET
    probe_budget: FeeBudget = TIGHT  # the fee limit the evidence's probes were sent with
    # the bimodal liquidity prior's scale (lnd's default until one fitted on our probes)
    bimodal_scale_sat: float = LND_BIMODAL_SCALE_SAT

    def __post_init__(self) -> None:
        if self.default_tier_sat not in self.tiers_sat:
            raise ValueError("default_tier_sat must be one of tiers_sat")
        if not set(self.tiers_sat) <= set(self.amounts_sat):
            raise ValueError("every tier must be on the amount grid")
        if self.default_budget not in self.budgets or self.probe_budget not in self.budgets:
            raise ValueError("default_budget and probe_budget must be among budgets")


@dataclass(frozen=True)
class ScoringInputs:
    graph: GraphArrays
    block_height: int | None
    probes: ProbeEvidence
    reports: ReportEvidence = field(default_factory=empty_report_evidence)
    knowledge: ChannelKnowledge = field(default_factory=empty_channel_knowledge)
    # the reference payer: our vantage node(s); those not in the graph are ignored
    payer_pubkeys: tuple[str, ...] = ()
    # their own channels (ListChannels), private ones included (scoring/payer.py)
    payer_channels: tuple[OwnChannel, ...] = ()
    # consecutive probes of a node, for how long a state persists (scoring/persistence.py);
    # None: not read, the evidence is taken as current
    pairs: ProbePairs | None = None


@dataclass(frozen=True)
class ScoreResult:
    pubkeys: tuple[str, ...]
    tiers_sat: tuple[int, ...]
    pagerank: PageRank
    features: NodeFeatures
    posteriors: Sequence[Posterior]  # one per tier at the default budget, arrays of length n
    default: Posterior
    model: NodeModel
    payer: str  # which reference payer the numbers are about
    verdict: IntArray  # index into VERDICTS
    rank: IntArray
    reasons: list[list[str]]
    # (len(budgets), n): the largest amount with a route within each budget on a fine
    # ladder of amounts (`reach.amount_ladder`); the api's answer is 0 above it
    max_routable_sat: FloatArray
    # where the reference payer's payments enter the graph, and whether they are the
    # payer itself (free: it charges itself no fee) or its channels' peers
    payer_sources: tuple[str, ...] = ()
    payer_sources_free: bool = False

    def verdict_names(self) -> list[str]:
        return [VERDICTS[c] for c in self.verdict.tolist()]

    def grid(self) -> FloatArray:
        """(n, len(budgets) * len(amounts)): p_success per node, budget-major."""
        p = self.model.p_success()
        return np.asarray(p.reshape(-1, p.shape[2]).T, dtype=np.float64)


def score_nodes(inputs: ScoringInputs, *, now_unix: float,
                params: ScoringParams | None = None) -> ScoreResult:
    """Score every node of `inputs.graph`; deterministic for equal inputs and `now_unix`."""
    params = params or ScoringParams()
    graph = inputs.graph
    index = {p: i for i, p in enumerate(graph.pubkeys)}
    pr = pagerank(graph)
    feats = node_features(graph, now_unix=now_unix, block_height=inputs.block_height)
    payer = reference_payer(graph, pr, inputs.payer_pubkeys, inputs.payer_channels)
    lower, upper = edge_bounds(graph, inputs.knowledge, now_unix=now_unix)
    routes = ROUTES.routes(graph, payer.sources, free_sources=payer.free_sources,
                           amounts_sat=params.amounts_sat, budgets=params.budgets,
                           first_hop_sat=payer.first_hop_sat)
    view = payer_view(graph, payer.sources, free_sources=payer.free_sources,
                      amounts_sat=params.amounts_sat, budgets=params.budgets, lower=lower,
                      upper=upper, bimodal_scale_sat=params.bimodal_scale_sat,
                      first_hop_sat=payer.first_hop_sat, routes=routes)
    ev = grid_evidence(inputs.probes, inputs.reports, index, params.amounts_sat,
                       view.last_hop, default_amount_sat=params.default_tier_sat,
                       budgets=params.budgets, probe_budget=params.probe_budget)
    persistence = Persistence() if inputs.pairs is None else fit_persistence(inputs.pairs)
    model = node_model(view, ev, amounts_sat=params.amounts_sat, budgets=params.budgets,
                       probe_budget=params.budgets.index(params.probe_budget),
                       persistence=persistence, now_unix=now_unix)
    b = params.budgets.index(params.default_budget)
    posteriors = [model.posterior(b, params.amounts_sat.index(t)) for t in params.tiers_sat]
    d = params.amounts_sat.index(params.default_tier_sat)
    default = posteriors[params.tiers_sat.index(params.default_tier_sat)]
    reachable = model.reachable[b, d]
    codes = verdict_codes(default, reachable)
    report_w = model.report_weight[b, d]
    if not report_w.any():
        probes_only = codes  # no report counted: the very same posterior
    else:
        probes_only = verdict_codes(
            model.posterior_without_reports(b, d), reachable)
    reasons = verdict_reasons(default, reachable, codes, params.default_tier_sat,
                              params.default_budget, model.liveness,
                              evidence_age_s=model.evidence_age_s, rho=model.rho)
    for i, lines in report_reasons(report_w, codes, probes_only).items():
        reasons[i].extend(lines)
    return ScoreResult(
        pubkeys=graph.pubkeys, tiers_sat=params.tiers_sat, pagerank=pr, features=feats,
        posteriors=posteriors, default=default, model=model, payer=payer.description,
        verdict=codes,
        rank=rank_of(default, payment_centrality_percentile(graph, inputs.knowledge,
                                                             now_unix=now_unix)),
        reasons=reasons, max_routable_sat=routes.max_routable_sat,
        payer_sources=tuple(graph.pubkeys[i] for i in payer.sources.tolist()),
        payer_sources_free=payer.free_sources,
    )
