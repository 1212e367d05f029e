"""The shapes of SatRank's answers as the client returns them (the `data` member), typed
for editors and mypy. Taken from the api's OpenAPI schemas (api/routes/openapi_schemas.py);
`total=False` because a server may be older or newer than this client. Answers whose
shape is still moving (intent, services, profile) are plain JSON objects."""

from __future__ import annotations

from typing import Any, Literal, TypedDict

Json = dict[str, Any]
VerdictName = Literal["SAFE", "RISKY", "UNKNOWN", "INSUFFICIENT"]


class Agent(TypedDict, total=False):
    publicKey: str
    publicKeyHash: str
    alias: str
    firstSeen: int
    lastSeen: int
    active: bool


class Bayesian(TypedDict, total=False):
    verdict: VerdictName
    p_success: float
    ci95_low: float
    ci95_high: float
    n_obs: float
    last_update: int


class AgentSummary(TypedDict, total=False):
    agent: Agent
    rank: int | None
    bayesian: Bayesian | None


class Verdict(TypedDict, total=False):
    publicKey: str
    publicKeyHash: str
    alias: str
    verdict: VerdictName
    rank: int | None
    p_success: float | None
    ci95_low: float | None
    ci95_high: float | None
    n_obs: float
    reason: str
    reasons: list[str]
    last_update: int | None


class BatchVerdict(Verdict, total=False):
    id: str
    found: bool  # False: the id is not in the graph, and nothing else is set


class ProbeTarget(TypedDict, total=False):
    publicKey: str
    publicKeyHash: str
    alias: str


class ProbeAnswer(TypedDict, total=False):
    target: ProbeTarget
    probes: list[Json]  # amountSat, outcome, reachable, failureCode, hops, feeMsat, ...
    probedAt: int


class ReportReceipt(TypedDict, total=False):
    reportId: str
    target: str
    verified: bool
    timestamp: int


class DepositTier(TypedDict, total=False):
    minSat: int
    satPerCredit: float
    creditsPerSat: int


class DepositTiers(TypedDict, total=False):
    tiers: list[DepositTier]
    minSat: int
    maxSat: int
