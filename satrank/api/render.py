"""Wire shapes shared by the node routes (field names follow the earlier SatRank).

`bayesian` keeps its name and snake_case fields (p_success, ci95_low, ci95_high, n_obs,
verdict, last_update) so its consumers keep working; times are unix seconds.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from starlette.responses import Response

from satrank.api.quote import DEFAULT_BASIS, Basis, quote
from satrank.db.nodes import NodeSummary

NOT_SCORED_REASON = "not scored yet: the node is in the graph but no score was computed"


def unix(moment: datetime | None) -> int | None:
    return int(moment.timestamp()) if moment is not None else None


def node_block(a: NodeSummary) -> dict[str, Any]:
    return {
        "publicKey": a.pubkey,
        "publicKeyHash": a.agent_hash,
        "alias": a.alias,
        "firstSeen": unix(a.first_seen),
        "lastSeen": unix(a.last_seen),
        "active": a.is_active,
    }


def basis_block(a: NodeSummary, basis: Basis = DEFAULT_BASIS) -> dict[str, Any]:
    """The payment the figures are about: amount, fee budget, payer, timeout."""
    return basis.block(a.grid.payer if a.grid else None)


def bayesian_block(a: NodeSummary, basis: Basis | None = None) -> dict[str, Any] | None:
    """The default figures (100k sat, normal budget: what verdict and rank stand on), or
    with `basis` the figures for that amount and budget from the node's grid."""
    if a.verdict is None:
        return None
    p, low, high = a.p_success, a.ci95_low, a.ci95_high
    if basis is not None and a.grid is not None:
        p, low, high = quote(a.grid, basis)
    else:
        basis = None  # scored before the grid existed: the default figures, labelled so
    return {
        "verdict": a.verdict,
        "p_success": p,
        "ci95_low": low,
        "ci95_high": high,
        "n_obs": a.n_obs,
        "last_update": unix(a.computed_at),
        "basis": basis_block(a, basis or DEFAULT_BASIS),
    }


def leaderboard_item(a: NodeSummary) -> dict[str, Any]:
    return {
        "publicKey": a.pubkey,
        "publicKeyHash": a.agent_hash,
        "alias": a.alias,
        "rank": a.rank,
        "bayesian": bayesian_block(a),
    }


def verdict_block(a: NodeSummary) -> dict[str, Any]:
    """The verdict with its reasons; an unscored node is INSUFFICIENT with null figures."""
    scored = a.verdict is not None
    return {
        "publicKey": a.pubkey,
        "publicKeyHash": a.agent_hash,
        "alias": a.alias,
        "verdict": a.verdict if scored else "INSUFFICIENT",
        "rank": a.rank,
        "p_success": a.p_success,
        "ci95_low": a.ci95_low,
        "ci95_high": a.ci95_high,
        "n_obs": a.n_obs if scored else 0.0,
        "reason": (a.reasons[0] if a.reasons else "") if scored else NOT_SCORED_REASON,
        "reasons": list(a.reasons) if scored else [NOT_SCORED_REASON],
        "last_update": unix(a.computed_at),
        "basis": basis_block(a),
    }


def dumps(payload: Any) -> bytes:
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()


def json_bytes(body: bytes, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(body, status_code=status, headers=headers, media_type="application/json")
