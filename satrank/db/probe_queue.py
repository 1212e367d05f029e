"""The probe queue (sql/018): the leader plans rows, probe workers claim and finish them.

A worker claims with `FOR UPDATE SKIP LOCKED`, so any number of workers (one per vantage
node, on any machine) share the queue without taking a row twice; a claim older than the
claim TTL is open again, so a dead worker's rows are sent by another. Finishing stores the
probes with their vantage and marks the rows done in one transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import asyncpg
import numpy as np

from satrank.db.knowledge import record_probe_knowledge
from satrank.db.pool import affected_rows
from satrank.db.probes import SentProbe, record_probes


@dataclass(frozen=True)
class PlanningInputs:
    """What the planner ranks active scored nodes by, in pubkey order."""

    pubkeys: list[str]
    pagerank: np.ndarray  # (n,)
    alpha: np.ndarray  # (n, tiers): posterior at each tier; Beta(1, 1) where none is stored
    beta: np.ndarray  # (n, tiers)
    asks: np.ndarray  # (n,): asks through the API since `requested_since`
    n_eff: np.ndarray  # (n,): effective observations behind the stored verdict
    # (n, len(budgets)): per fee budget asked for, the largest amount the reference payer
    # has a route for (0: none); +inf where the scoring pass stored none for that budget
    max_routable_sat: np.ndarray


async def load_planning_inputs(conn: asyncpg.Connection, *, tiers_sat: Sequence[int],
                               requested_since: datetime,
                               budgets: Sequence[str]) -> PlanningInputs:
    rows = await conn.fetch(
        "SELECT s.pubkey, s.pagerank, s.n_eff, coalesce(r.asks, 0) AS asks, "
        "ARRAY(SELECT s.max_routable_sat[array_position(st.grid_budgets, u.name)] "
        "      FROM unnest($2::text[]) WITH ORDINALITY AS u(name, k) ORDER BY u.k) AS caps "
        "FROM scores s JOIN nodes n USING (pubkey) "
        "LEFT JOIN probe_requests r ON r.pubkey = s.pubkey AND r.requested_at >= $1 "
        "LEFT JOIN scoring_state st ON true "
        "WHERE n.is_active ORDER BY s.pubkey", requested_since, list(budgets))
    index = {r["pubkey"]: i for i, r in enumerate(rows)}
    tiers = {int(t): j for j, t in enumerate(tiers_sat)}
    alpha = np.ones((len(rows), len(tiers)))
    beta = np.ones((len(rows), len(tiers)))
    for p in await conn.fetch(
            "SELECT pubkey, amount_sat, alpha, beta FROM posteriors "
            "WHERE amount_sat = ANY($1::bigint[])", list(tiers)):
        i = index.get(p["pubkey"])
        if i is not None:
            alpha[i, tiers[p["amount_sat"]]] = p["alpha"]
            beta[i, tiers[p["amount_sat"]]] = p["beta"]
    # NULL (scored before the column, or a budget the pass did not grid): not known
    caps = np.array([r["caps"] for r in rows], dtype=np.float64).reshape(len(rows), len(budgets))
    max_routable = np.where(np.isnan(caps), np.inf, caps)
    return PlanningInputs([r["pubkey"] for r in rows],
                          np.array([r["pagerank"] for r in rows], dtype=np.float64),
                          alpha, beta, np.array([r["asks"] for r in rows], dtype=np.float64),
                          np.array([r["n_eff"] for r in rows], dtype=np.float64),
                          max_routable)


@dataclass(frozen=True)
class QueuedProbe:
    """A probe the planner wants sent."""

    target: str
    amount_sat: int
    fee_limit_sat: int
    reason: str
    priority: float
    vantage: str | None = None  # pubkey of the node to send it (any after the TTL); None = any


@dataclass(frozen=True)
class ClaimedProbe:
    id: int
    target: str
    amount_sat: int
    fee_limit_sat: int
    reason: str


async def enqueue_probes(conn: asyncpg.Connection, probes: Sequence[QueuedProbe], *,
                         planned_at: datetime) -> int:
    """Insert the planned rows with one COPY; returns how many."""
    rows = [(p.target, p.amount_sat, p.fee_limit_sat, p.vantage, p.reason, p.priority,
             planned_at) for p in probes]
    await conn.copy_records_to_table(
        "probe_queue", records=rows,
        columns=["target", "amount_sat", "fee_limit_sat", "vantage", "reason", "priority",
                 "planned_at"])
    return len(rows)


_CLAIM = """
WITH picked AS (
  SELECT id FROM probe_queue
  WHERE done_at IS NULL
    AND (vantage IS NULL OR vantage = $1
         OR planned_at < $3::timestamptz - make_interval(secs => $4))
    AND (claimed_at IS NULL OR claimed_at < $3::timestamptz - make_interval(secs => $4))
  ORDER BY priority DESC, id
  LIMIT $5
  FOR UPDATE SKIP LOCKED)
UPDATE probe_queue q SET claimed_by = $2, claimed_at = $3
FROM picked WHERE q.id = picked.id
RETURNING q.id, q.target, q.amount_sat, q.fee_limit_sat, q.reason, q.priority
"""


async def claim_probes(conn: asyncpg.Connection, *, vantage: str, worker: str, limit: int,
                       now: datetime, claim_ttl_s: float) -> list[ClaimedProbe]:
    """Claim up to `limit` open rows for `vantage` (its own and the "any" rows, and rows
    planned for another vantage more than `claim_ttl_s` ago: that one may be down), best
    first: rows never claimed and rows whose claim is older than `claim_ttl_s`."""
    rows = await conn.fetch(_CLAIM, vantage, worker, now, claim_ttl_s, limit)
    rows = sorted(rows, key=lambda r: (-r["priority"], r["id"]))
    return [ClaimedProbe(r["id"], r["target"], r["amount_sat"], r["fee_limit_sat"],
                         r["reason"]) for r in rows]


async def finish_probes(conn: asyncpg.Connection, claimed: Sequence[ClaimedProbe],
                        sent: Sequence[SentProbe], *, worker: str, now: datetime) -> int:
    """Store `sent`, the channel knowledge its attempts showed, and mark the rows `worker`
    still holds done, in one transaction.

    A probe whose claim was meanwhile taken over is stored all the same (it was sent);
    its row is left to the worker that holds it. Returns the rows marked done."""
    async with conn.transaction():
        await record_probes(conn, sent)
        await record_probe_knowledge(conn, [p.result for p in sent], now)
        status = await conn.execute(
            "UPDATE probe_queue SET done_at = $3 "
            "WHERE id = ANY($1::bigint[]) AND claimed_by = $2 AND done_at IS NULL",
            [c.id for c in claimed], worker, now)
    return affected_rows(status)


async def open_targets(conn: asyncpg.Connection) -> set[str]:
    """Targets with a row not done yet: the planner does not queue them twice."""
    rows = await conn.fetch("SELECT DISTINCT target FROM probe_queue WHERE done_at IS NULL")
    return {r["target"] for r in rows}


async def prune_queue(conn: asyncpg.Connection, *, done_before: datetime,
                      planned_before: datetime) -> int:
    """Drop rows done before `done_before` and rows planned before `planned_before` that
    nobody finished (planned for a vantage that is gone, say): the queue stays small."""
    status = await conn.execute(
        "DELETE FROM probe_queue WHERE done_at < $1 OR (done_at IS NULL AND planned_at < $2)",
        done_before, planned_before)
    return affected_rows(status)
