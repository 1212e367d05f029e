"""Scoring I/O: load the inputs of a scoring pass, store its results set-based.

`store_scores` writes scores, posteriors and score_history with COPY + merges and then
queues the Nostr events for changed scores, all inside the caller's transaction (the one
place the crawler wires scoring to publishing). The API reads scores through
`db/nodes.py` and `db/profile.py`.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from datetime import datetime, timedelta

import asyncpg
import numpy as np

from satrank.db.arrays import fetch_float8_matrix, float8_arrays_copy
from satrank.db.graph_cache import GRAPHS
from satrank.db.knowledge import load_channel_knowledge
from satrank.db.nostr_outbox import enqueue_changed_score_events
from satrank.db.pool import affected_rows
from satrank.db.probes import load_probe_evidence, load_probe_pairs, load_report_evidence
from satrank.scoring.engine import ScoreResult, ScoringInputs
from satrank.scoring.features import FEATURE_NAMES
from satrank.scoring.graph import GraphArrays
from satrank.scoring.persistence import PAIRS_WINDOW_S

# a change smaller than this in p_success (and no change of rank or verdict) is not history
HISTORY_MIN_P_CHANGE = 0.005

_GRAPH_NODES = """
SELECT array_agg(pubkey ORDER BY pubkey) AS pubkeys,
       array_agg(alias ORDER BY pubkey) AS aliases,
       array_agg(coalesce(date_part('epoch', last_update), 0) ORDER BY pubkey) AS lu
FROM nodes WHERE is_active
"""

_p = ("has", "disabled", "fee_base_msat", "fee_rate_milli_msat", "max_htlc_msat", "lu")


# Times as unix seconds with date_part (float8): extract() computes a numeric, and the cast
# of ~100k of them to float8 was a tenth of this query; both are the correctly rounded
# double of the same exact value, so the numbers are identical.
def _pol(alias: str) -> str:
    return (f"({alias}.channel_id IS NOT NULL)::int::float8, "
            f"coalesce({alias}.disabled, false)::int::float8, "
            f"coalesce({alias}.fee_base_msat, 0)::float8, "
            f"coalesce({alias}.fee_rate_milli_msat, 0)::float8, "
            f"coalesce({alias}.max_htlc_msat, 0)::float8, "
            f"coalesce(date_part('epoch', {alias}.last_update), 0)")


# One row per open channel between active nodes; node indices follow ORDER BY pubkey.
# Every column is a non-null float8 so the rows travel as one binary COPY into numpy.
_GRAPH_EDGES = f"""
WITH n AS (SELECT pubkey, (row_number() OVER (ORDER BY pubkey) - 1)::float8 AS idx
           FROM nodes WHERE is_active)
SELECT a.idx, b.idx, c.capacity_sat::float8, c.block_height::float8, {_pol("p0")}, {_pol("p1")},
       (c.channel_id >> 32)::float8, (c.channel_id & 4294967295)::float8
FROM channels c
JOIN n a ON a.pubkey = c.node1_pub
JOIN n b ON b.pubkey = c.node2_pub
LEFT JOIN channel_policies p0 ON p0.channel_id = c.channel_id AND p0.direction = 0
LEFT JOIN channel_policies p1 ON p1.channel_id = c.channel_id AND p1.direction = 1
WHERE c.is_open
ORDER BY c.channel_id
"""


async def load_graph_arrays(conn: asyncpg.Connection) -> GraphArrays:
    """The active graph as arrays (one consistent snapshot: run inside a transaction)."""
    head = await conn.fetchrow(_GRAPH_NODES)
    pubkeys = tuple(head["pubkeys"] or ())
    m = await fetch_float8_matrix(conn, _GRAPH_EDGES, 6 + 2 * len(_p))

    def pair(k: int) -> np.ndarray:
        return np.vstack([m[:, 4 + k], m[:, 4 + len(_p) + k]])

    return GraphArrays(
        pubkeys=pubkeys,
        aliases=tuple(head["aliases"] or ()),
        node_last_update_unix=np.array(head["lu"] or (), dtype=np.float64),
        node1=m[:, 0].astype(np.int64), node2=m[:, 1].astype(np.int64),
        capacity_sat=m[:, 2].copy(), block_height=m[:, 3].astype(np.int64),
        has_policy=pair(0).astype(bool), disabled=pair(1).astype(bool),
        fee_base_msat=pair(2), fee_rate_ppm=pair(3), max_htlc_msat=pair(4),
        policy_last_update_unix=pair(5),
        # a short channel id exceeds float8's 53 exact bits: it travels as two 32-bit halves
        channel_id=(m[:, -2].astype(np.int64) << 32) | m[:, -1].astype(np.int64),
    )


async def load_scoring_inputs(conn: asyncpg.Connection, *, now: datetime, half_life_s: float,
                              evidence_window: timedelta) -> ScoringInputs:
    """Graph, chain tip and payer of the last sync, decayed probe and report evidence and
    channel knowledge, in one snapshot."""
    async with conn.transaction(isolation="repeatable_read", readonly=True):
        await conn.execute("SET LOCAL work_mem = '64MB'")  # hash joins of the graph, in memory
        # The node index is a CTE without statistics, so the planner sorts ~50k channels
        # twice by text pubkey for merge joins; hash joins read the same rows in about
        # half the time (measured on mainnet, bench/RESULTS.md).
        await conn.execute("SET LOCAL enable_mergejoin = off")
        graph_key = await GRAPHS.key(conn)  # in this snapshot, as the graph read below
        graph = GRAPHS.get(graph_key) or GRAPHS.put(graph_key, await load_graph_arrays(conn))
        last_sync = await conn.fetchrow(
            "SELECT block_height, payer_pubkey FROM graph_syncs ORDER BY id DESC LIMIT 1")
        since = now - evidence_window
        probes = await load_probe_evidence(conn, now=now, half_life_s=half_life_s, since=since)
        pairs = await load_probe_pairs(
            conn, now=now, since=max(since, now - timedelta(seconds=PAIRS_WINDOW_S)))
        reports = await load_report_evidence(conn, now=now, half_life_s=half_life_s,
                                             since=since)
        knowledge = await load_channel_knowledge(conn)
    tip = last_sync["block_height"] if last_sync else None
    payer = (last_sync["payer_pubkey"],) if last_sync and last_sync["payer_pubkey"] else ()
    return ScoringInputs(graph=graph, block_height=tip, probes=probes, reports=reports,
                         payer_pubkeys=payer, knowledge=knowledge, pairs=pairs)


_feature_cols = ", ".join(f"{name} float8" for name in FEATURE_NAMES)
_feature_json = ", ".join(f"'{name}', NULLIF({name}, 'NaN'::float8)" for name in FEATURE_NAMES)

_STAGE = f"""
CREATE TEMP TABLE stage_score_values (node_row int4, pubkey text, rank smallint,
    verdict text, p_success float8, ci95_low float8, ci95_high float8, n_eff float8,
    pagerank float8, pagerank_pct float8, reasons jsonb, {_feature_cols}) ON COMMIT DROP;
CREATE TEMP TABLE stage_grids (node_row int4, p_grid float8[], alpha_grid float8[],
    beta_grid float8[], max_routable_sat float8[]) ON COMMIT DROP;
CREATE TEMP TABLE stage_posteriors (pubkey text, amount_sat bigint, prior_alpha float8,
    prior_beta float8, alpha float8, beta float8, n_eff float8, p_success float8,
    ci95_low float8, ci95_high float8) ON COMMIT DROP;
"""

# the grids travel in their own binary COPY (`arrays.float8_arrays_copy`), joined by row
_JOIN_STAGE = """
CREATE TEMP TABLE stage_scores ON COMMIT DROP AS
SELECT v.*, g.p_grid, g.alpha_grid, g.beta_grid, g.max_routable_sat
FROM stage_score_values v JOIN stage_grids g USING (node_row)
"""

_HISTORY = """
INSERT INTO score_history (pubkey, computed_at, rank, verdict, p_success, ci95_low, ci95_high,
                           pagerank)
SELECT s.pubkey, $1, s.rank, s.verdict, s.p_success, s.ci95_low, s.ci95_high, s.pagerank
FROM stage_scores s LEFT JOIN scores c USING (pubkey)
WHERE c.pubkey IS NULL OR c.rank <> s.rank OR c.verdict <> s.verdict
   OR abs(c.p_success - s.p_success) >= $2
"""

_SCORE_COLS = ("rank", "verdict", "p_success", "ci95_low", "ci95_high", "n_eff", "pagerank",
               "pagerank_pct", "reasons", "p_grid", "alpha_grid", "beta_grid",
               "max_routable_sat")
_POSTERIOR_COLS = ("prior_alpha", "prior_beta", "alpha", "beta", "n_eff", "p_success",
                   "ci95_low", "ci95_high")

# Update-then-insert rather than INSERT ... ON CONFLICT: the speculative insertion path
# costs ~2x on a first pass into empty tables, and the crawler's leader lock guarantees a
# single writer.
# Only rows whose values changed are rewritten (an unchanged pass writes no score row);
# the pass itself is recorded in scoring_state.
_UPDATE_SCORES = f"""
UPDATE scores c SET {", ".join(f"{k} = s.{k}" for k in _SCORE_COLS)},
    features = s.features, computed_at = $1
FROM (SELECT *, jsonb_build_object({_feature_json}) AS features FROM stage_scores) s
WHERE c.pubkey = s.pubkey
  AND ({", ".join(f"c.{k}" for k in _SCORE_COLS)}, c.features)
      IS DISTINCT FROM ({", ".join(f"s.{k}" for k in _SCORE_COLS)}, s.features)
"""

_INSERT_SCORES = f"""
INSERT INTO scores (pubkey, {", ".join(_SCORE_COLS)}, features, computed_at)
SELECT pubkey, {", ".join(_SCORE_COLS)}, jsonb_build_object({_feature_json}), $1
FROM stage_scores s WHERE NOT EXISTS (SELECT 1 FROM scores c WHERE c.pubkey = s.pubkey)
"""

_UPDATE_POSTERIORS = f"""
UPDATE posteriors p SET {", ".join(f"{k} = s.{k}" for k in _POSTERIOR_COLS)}, updated_at = $1
FROM stage_posteriors s WHERE p.pubkey = s.pubkey AND p.amount_sat = s.amount_sat
  AND ({", ".join(f"p.{k}" for k in _POSTERIOR_COLS)})
      IS DISTINCT FROM ({", ".join(f"s.{k}" for k in _POSTERIOR_COLS)})
"""

_INSERT_POSTERIORS = f"""
INSERT INTO posteriors (pubkey, amount_sat, {", ".join(_POSTERIOR_COLS)}, updated_at)
SELECT pubkey, amount_sat, {", ".join(_POSTERIOR_COLS)}, $1
FROM stage_posteriors s
WHERE NOT EXISTS (SELECT 1 FROM posteriors p
                  WHERE p.pubkey = s.pubkey AND p.amount_sat = s.amount_sat)
"""

_RECORD_PASS = """
INSERT INTO scoring_state (singleton, computed_at, grid_amounts_sat, grid_budgets, payer,
                           liveness_mu, payer_sources, payer_sources_free)
VALUES (true, $1, $2, $3, $4, $5, $6, $7)
ON CONFLICT (singleton) DO UPDATE SET computed_at = EXCLUDED.computed_at,
    grid_amounts_sat = EXCLUDED.grid_amounts_sat, grid_budgets = EXCLUDED.grid_budgets,
    payer = EXCLUDED.payer, liveness_mu = EXCLUDED.liveness_mu,
    payer_sources = EXCLUDED.payer_sources, payer_sources_free = EXCLUDED.payer_sources_free
"""

# Nodes that left the graph leave the leaderboard (no stale scores, W9); history stays.
_DROP_UNSCORED = """
DELETE FROM scores s WHERE NOT EXISTS (SELECT 1 FROM stage_scores t WHERE t.pubkey = s.pubkey);
DELETE FROM posteriors p
WHERE NOT EXISTS (SELECT 1 FROM stage_scores t WHERE t.pubkey = p.pubkey);
"""


@dataclass(frozen=True)
class StoredScores:
    scores: int
    history_rows: int
    nostr_events: int


def _grid_matrix(cube: np.ndarray) -> np.ndarray:
    """(B, A, n) -> (n, B * A): one budget-major row of values per node."""
    return np.ascontiguousarray(cube.reshape(-1, cube.shape[2]).T, dtype=np.float64)


def _score_rows(result: ScoreResult) -> list[tuple[object, ...]]:
    d = result.default
    feats = np.vstack([getattr(result.features, n) for n in FEATURE_NAMES]).T.tolist()
    names = result.verdict_names()
    cols = zip(range(len(result.pubkeys)), result.pubkeys, result.rank.tolist(), names,
               d.p_success.tolist(), d.ci95_low.tolist(), d.ci95_high.tolist(),
               d.n_eff.tolist(), result.pagerank.value.tolist(),
               result.pagerank.percentile.tolist(), (json.dumps(r) for r in result.reasons),
               feats, strict=True)
    return [(*head, *f) for *head, f in cols]


def _grid_copy(result: ScoreResult) -> io.BytesIO:
    model = result.model
    return io.BytesIO(float8_arrays_copy(_grid_matrix(model.p_success()),
                                         _grid_matrix(model.alpha()),
                                         _grid_matrix(model.beta()),
                                         np.ascontiguousarray(result.max_routable_sat.T,
                                                              dtype=np.float64)))


def _posterior_rows(result: ScoreResult) -> list[tuple[object, ...]]:
    rows: list[tuple[object, ...]] = []
    for tier, post in zip(result.tiers_sat, result.posteriors, strict=True):
        rows.extend(zip(result.pubkeys, [tier] * len(result.pubkeys),
                        post.prior_alpha.tolist(), post.prior_beta.tolist(),
                        post.alpha.tolist(), post.beta.tolist(), post.n_eff.tolist(),
                        post.p_success.tolist(), post.ci95_low.tolist(),
                        post.ci95_high.tolist(), strict=True))
    return rows


async def store_scores(conn: asyncpg.Connection, result: ScoreResult, *,
                       computed_at: datetime, enqueue_nostr: bool = True) -> StoredScores:
    """Replace the current scores with `result` and queue Nostr events, atomically.

    Runs in a transaction (nested in the caller's if there is one): readers see the old
    or the new scores, and the outbox rows commit or roll back with them. With
    `enqueue_nostr` False (publishing off) nothing is queued and the publish state is left
    alone, so turning publishing on later queues every node that differs from what was
    last published.
    """
    async with conn.transaction():
        await conn.execute("SET LOCAL work_mem = '64MB'")  # hash joins of ~40k rows in memory
        # the stage tables have no statistics (ANALYZE costs 0.3 s): without these the
        # anti-join of INSERT posteriors sorts ~40k rows twice by text pubkey (merge) or
        # probes the index 40k times (nested loop); hashed it takes a third of the time
        await conn.execute("SET LOCAL enable_mergejoin = off")
        await conn.execute(_STAGE)
        await conn.copy_records_to_table("stage_score_values", records=_score_rows(result))
        await conn.copy_to_table("stage_grids", source=_grid_copy(result), format="binary")
        await conn.execute(_JOIN_STAGE)
        await conn.copy_records_to_table("stage_posteriors", records=_posterior_rows(result))
        history = await conn.execute(_HISTORY, computed_at, HISTORY_MIN_P_CHANGE)
        await conn.execute(_UPDATE_SCORES, computed_at)
        await conn.execute(_INSERT_SCORES, computed_at)
        await conn.execute(_UPDATE_POSTERIORS, computed_at)
        await conn.execute("SET LOCAL enable_nestloop = off")
        await conn.execute(_INSERT_POSTERIORS, computed_at)
        await conn.execute("SET LOCAL enable_nestloop = on")  # the outbox enqueue wants it
        await conn.execute(_DROP_UNSCORED)
        await conn.execute(_RECORD_PASS, computed_at, list(result.model.amounts_sat),
                           [b.name for b in result.model.budgets], result.payer,
                           result.model.liveness.mu, list(result.payer_sources),
                           result.payer_sources_free)
        events = await enqueue_changed_score_events(conn) if enqueue_nostr else 0
    return StoredScores(len(result.pubkeys), affected_rows(history), events)
