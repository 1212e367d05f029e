"""What the intent snapshot of an api worker is built from (api/cache/intent.py): the
active graph, every scored node's score fields and its latest probe, and the channel
knowledge, read in one repeatable-read snapshot.

The graph is the slow part (~1 s on mainnet) and changes only when a sync merges a new
graph: its key is the last sync's source fingerprint (graph_syncs.fingerprint, sql/015),
and a caller holding the graph of the same key gets it back instead of a new read.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import asyncpg
import numpy as np

from satrank.db.knowledge import load_channel_knowledge
from satrank.db.scored_at import SCORED_AT
from satrank.db.scores import load_graph_arrays
from satrank.scoring.graph import FloatArray, GraphArrays
from satrank.scoring.knowledge import ChannelKnowledge

# Reads the channel knowledge rows (tests pass a slow one to hold a first build).
KnowledgeLoader = Callable[[asyncpg.Connection], Awaitable[ChannelKnowledge]]

_NODE_SCORES = f"""
SELECT n.pubkey, n.agent_hash, s.verdict, s.p_success, s.ci95_low, s.ci95_high, s.n_eff,
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


@dataclass(frozen=True)
class IntentInputs:
    graph: GraphArrays
    scores: NodeScores
    knowledge: ChannelKnowledge
    graph_key: str | None = None  # the fingerprint the graph was read at; None: unknown


# The merged graph's identity: the last sync's fingerprint (a sync of the same graph
# repeats it); None when the source gave none.
_GRAPH_KEY = "SELECT fingerprint FROM graph_syncs ORDER BY id DESC LIMIT 1"


def _floats(rows: list[asyncpg.Record], column: str) -> FloatArray:
    return np.array([np.nan if r[column] is None else r[column] for r in rows],
                    dtype=np.float64)


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
    if pubkeys != graph.pubkeys:  # same snapshot, same order
        raise RuntimeError("node scores do not line up with the graph's nodes")
    # ~13k rows into arrays: 12-20 ms of CPU, kept off the api worker's event loop
    scores = await asyncio.to_thread(_node_scores, rows)
    return IntentInputs(graph, scores, channels, key)


def _node_scores(rows: list[asyncpg.Record]) -> NodeScores:
    return NodeScores(
        agent_hash=tuple(r["agent_hash"] for r in rows),
        verdict=tuple(r["verdict"] for r in rows),
        p_success=_floats(rows, "p_success"), ci95_low=_floats(rows, "ci95_low"),
        ci95_high=_floats(rows, "ci95_high"), n_eff=_floats(rows, "n_eff"),
        scored_unix=_floats(rows, "scored_at"), probed_unix=_floats(rows, "probed_at"))
