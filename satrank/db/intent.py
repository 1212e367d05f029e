"""What the intent snapshot of an api worker is built from (api/cache/intent.py): the
active graph, every scored node's score fields (with model v2's grid) and its latest probe,
and the channel knowledge, read in one repeatable-read snapshot.

The graph is the slow part (~1 s on mainnet) and changes only when a sync merges a new
graph: its key is the last sync's source fingerprint (graph_syncs.fingerprint, sql/015),
and a caller holding the graph of the same key gets it back instead of a new read.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import numpy as np

from satrank.db.knowledge import load_channel_knowledge
from satrank.db.nodes import ScoreGrid
from satrank.db.scored_at import SCORED_AT
from satrank.db.scores import load_graph_arrays
from satrank.scoring.graph import FloatArray, GraphArrays
from satrank.scoring.knowledge import ChannelKnowledge

# Reads the channel knowledge rows (tests pass a slow one to hold a first build).
KnowledgeLoader = Callable[[asyncpg.Connection], Awaitable[ChannelKnowledge]]

_NODE_SCORES = f"""
SELECT n.pubkey, n.agent_hash, s.verdict, s.p_success, s.ci95_low, s.ci95_high, s.n_eff,
       s.p_grid || s.alpha_grid || s.beta_grid AS grid, s.max_routable_sat,
       date_part('epoch', {SCORED_AT}) AS scored_at,
       date_part('epoch', (SELECT max(p.sent_at) FROM probes p
                          WHERE p.target_pubkey = n.pubkey)) AS probed_at
FROM nodes n LEFT JOIN scores s USING (pubkey)
WHERE n.is_active
ORDER BY n.pubkey
"""


@dataclass(frozen=True)
class NodeScores:
    """Per node of the graph (same order as `GraphArrays.pubkeys`); NaN / None = unscored."""

    agent_hash: tuple[str, ...]
    verdict: tuple[str | None, ...]
    p_success: FloatArray
    ci95_low: FloatArray
    ci95_high: FloatArray
    n_eff: FloatArray
    scored_unix: FloatArray
    probed_unix: FloatArray  # latest probe to the node, NaN = never
    # model v2's grid (scoring_state's axes; rows: p, alpha, beta per cell), NaN = none
    grid_amounts_sat: tuple[int, ...] = ()
    grid_budgets: tuple[str, ...] = ()
    grid: FloatArray = field(default_factory=lambda: np.empty((0, 3, 0)))
    grid_payer: str | None = None
    # the population's rate of being up that the grid's theta carries (None: not stored)
    liveness_mu: float | None = None
    # (nodes, budgets): the largest routable amount per budget, NaN = not stored
    max_routable_sat: FloatArray = field(default_factory=lambda: np.empty((0, 0)))
    # where the grid's reference payer enters the graph (scoring_state.payer_sources):
    # the payer itself when free, else its channels' peers; () = not stored
    payer_sources: tuple[str, ...] = ()
    payer_sources_free: bool = False

    def grid_of(self, i: int) -> ScoreGrid | None:
        """Node `i`'s stored grid as api/quote.py reads it; None: scored without one."""
        if i < 0 or i >= self.grid.shape[0] or np.isnan(self.grid[i, 0, 0]):
            return None
        p, alpha, beta = (tuple(row.tolist()) for row in self.grid[i])
        caps = self.max_routable_sat[i] if i < self.max_routable_sat.shape[0] else None
        return ScoreGrid(self.grid_amounts_sat, self.grid_budgets, p, alpha, beta,
                         self.grid_payer, None if caps is None or np.isnan(caps).any()
                         else tuple(caps.tolist()))


@dataclass(frozen=True)
class IntentInputs:
    graph: GraphArrays
    scores: NodeScores
    knowledge: ChannelKnowledge
    graph_key: str | None = None  # the fingerprint the graph was read at; None: unknown


# The merged graph's identity: the last sync's fingerprint (a sync of the same graph
# repeats it); None when the source gave none.
_GRAPH_KEY = "SELECT fingerprint FROM graph_syncs ORDER BY id DESC LIMIT 1"
_GRID_AXES = ("SELECT grid_amounts_sat, grid_budgets, payer, liveness_mu, payer_sources, "
              "payer_sources_free FROM scoring_state")


def _matrix(rows: list[asyncpg.Record], column: str, width: int) -> FloatArray:
    """(nodes, width): each row's float8[] `column`; NaN for a row without it or with
    another length (stored on other axes than scoring_state's)."""
    out = np.full((len(rows), width), np.nan)
    values = [r[column] for r in rows]
    full = [i for i, v in enumerate(values) if v is not None and len(v) == width]
    if width and full:  # one conversion for all of them: 12.8k small arrays on mainnet
        out[full] = np.array([values[i] for i in full], dtype=np.float64)
    return out


def _grids(rows: list[asyncpg.Record], cells: int) -> FloatArray:
    """(nodes, 3, cells): p, alpha, beta per cell; NaN for a node without a grid."""
    return _matrix(rows, "grid", 3 * cells).reshape(len(rows), 3, cells)


def _floats(rows: list[asyncpg.Record], column: str) -> FloatArray:
    return np.array([np.nan if r[column] is None else r[column] for r in rows],
                    dtype=np.float64)


def _grid_fields(rows: list[asyncpg.Record], axes: asyncpg.Record | None
                 ) -> dict[str, Any]:
    if axes is None or axes["grid_amounts_sat"] is None or axes["grid_budgets"] is None:
        return {}
    amounts, budgets = tuple(axes["grid_amounts_sat"]), tuple(axes["grid_budgets"])
    caps = _matrix(rows, "max_routable_sat", len(budgets))
    return {"grid_amounts_sat": amounts, "grid_budgets": budgets,
            "grid": _grids(rows, len(amounts) * len(budgets)), "grid_payer": axes["payer"],
            "liveness_mu": axes["liveness_mu"],
            "max_routable_sat": caps, "payer_sources": tuple(axes["payer_sources"] or ()),
            "payer_sources_free": bool(axes["payer_sources_free"])}


async def load_intent_inputs(conn: asyncpg.Connection,
                             knowledge: KnowledgeLoader = load_channel_knowledge, *,
                             previous: IntentInputs | None = None) -> IntentInputs:
    """`previous`: the inputs of the snapshot in use; its graph is reused when the graph
    key has not moved (and its nodes line up with the scores read now)."""
    async with conn.transaction(isolation="repeatable_read", readonly=True):
        await conn.execute("SET LOCAL work_mem = '64MB'")
        await conn.execute("SET LOCAL enable_mergejoin = off")  # as load_scoring_inputs
        key = await conn.fetchval(_GRAPH_KEY)
        rows = await conn.fetch(_NODE_SCORES)
        pubkeys = tuple(r["pubkey"] for r in rows)
        if (previous is not None and key is not None and previous.graph_key == key
                and previous.graph.pubkeys == pubkeys):
            graph = previous.graph
        else:
            graph = await load_graph_arrays(conn)
        channels = await knowledge(conn)
        axes = await conn.fetchrow(_GRID_AXES)
    if pubkeys != graph.pubkeys:  # same snapshot, same order
        raise RuntimeError("node scores do not line up with the graph's nodes")
    # ~13k rows into arrays: 12-20 ms of CPU, kept off the api worker's event loop
    scores = await asyncio.to_thread(_node_scores, rows, axes)
    return IntentInputs(graph, scores, channels, key)


def _node_scores(rows: list[asyncpg.Record], axes: asyncpg.Record | None) -> NodeScores:
    return NodeScores(
        agent_hash=tuple(r["agent_hash"] for r in rows),
        verdict=tuple(r["verdict"] for r in rows),
        p_success=_floats(rows, "p_success"), ci95_low=_floats(rows, "ci95_low"),
        ci95_high=_floats(rows, "ci95_high"), n_eff=_floats(rows, "n_eff"),
        scored_unix=_floats(rows, "scored_at"), probed_unix=_floats(rows, "probed_at"),
        **_grid_fields(rows, axes))
