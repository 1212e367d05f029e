"""Channel knowledge: merge what probes showed into `channel_knowledge`, read it back.

The merge rule per channel direction is lnd's mission control
(routing/missioncontrol_state.go, `setLastPairResult`):
- carried `a`: the carried bound becomes max(carried, a), with the new time; a fail bound at
  or below `a` moves up to a + 1 (the liquidity that failed has come back);
- failed `a`: the fail bound becomes `a` with the new time (amount and time belong
  together, so an older, lower failure is not revived); a carried bound at or above `a`
  moves down to a - 1.
(lnd also drops a higher failure within a minute of the last one, for HTLC results that
arrive out of order; our observations arrive in the order lnd made them, so we do not.)

A batch (one probe round) holds many observations of a direction, in order: they fold
with that rule in Python into one (carried, failed) pair per direction, and one
INSERT ... SELECT FROM unnest(...) ON CONFLICT DO UPDATE merges each pair into the stored row
as a newer success at `carried` followed by a newer failure at `failed`. (Exact unless the
batch saw a direction fail twice with a stored carried bound between the two amounts: the
second failure is then taken as the batch's word.)
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

import asyncpg
import numpy as np

from satrank.db.arrays import fetch_float8_matrix
from satrank.db.pool import affected_rows
from satrank.lightning.backend import ProbeResult
from satrank.lightning.probes import ChannelObservation, channel_observations, htlc_attempts
from satrank.scoring.knowledge import ChannelKnowledge


@dataclass
class _Fold:
    """One direction's observations in a batch, merged in order by lnd's rule."""

    carried: int = 0  # 0: none
    failed: int | None = None
    carried_count: int = 0
    failed_count: int = 0

    def add(self, amount_sat: int, carried: bool) -> None:
        if carried:
            self.carried = max(self.carried, amount_sat)
            if self.failed is not None and amount_sat >= self.failed:
                self.failed = amount_sat + 1
            self.carried_count += 1
        else:
            self.failed = amount_sat
            self.carried = min(self.carried, amount_sat - 1)
            self.failed_count += 1


def fold_observations(observations: Iterable[ChannelObservation]
                      ) -> dict[tuple[int, str], _Fold]:
    """Per (channel, node the HTLC went to): the batch's merge, in observation order."""
    folds: dict[tuple[int, str], _Fold] = {}
    for o in observations:
        folds.setdefault((o.channel_id, o.to_pubkey), _Fold()).add(o.amount_sat, o.carried)
    return folds


# The direction comes from the channel's ordered ends: HTLCs to node2 go node1 -> node2 (0).
# Channels the graph has never held (private ones, ours included) are skipped: no reader
# could place them. Sorted, so concurrent writers lock rows in the same order.
_MERGE = """
INSERT INTO channel_knowledge AS k (channel_id, direction, carried_sat, carried_at,
                                    failed_sat, failed_at, carried_count, failed_count)
SELECT b.channel_id, d.direction, b.carried,
       CASE WHEN b.n_carried > 0 THEN $7::timestamptz END, b.failed,
       CASE WHEN b.failed IS NOT NULL THEN $7::timestamptz END, b.n_carried, b.n_failed
FROM unnest($1::bigint[], $2::text[], $3::bigint[], $4::bigint[], $5::int[], $6::int[])
     AS b(channel_id, to_pub, carried, failed, n_carried, n_failed)
JOIN channels c ON c.channel_id = b.channel_id
CROSS JOIN LATERAL (SELECT CASE b.to_pub WHEN c.node2_pub THEN 0 WHEN c.node1_pub THEN 1 END
                    AS direction) d
WHERE d.direction IS NOT NULL
ORDER BY 1, 2
ON CONFLICT (channel_id, direction) DO UPDATE SET
  carried_sat = CASE WHEN EXCLUDED.failed_sat IS NULL
                     THEN greatest(k.carried_sat, EXCLUDED.carried_sat)
                     ELSE least(greatest(k.carried_sat, EXCLUDED.carried_sat),
                                EXCLUDED.failed_sat - 1) END,
  carried_at = coalesce(EXCLUDED.carried_at, k.carried_at),
  failed_sat = CASE WHEN EXCLUDED.failed_sat IS NOT NULL THEN EXCLUDED.failed_sat
                    WHEN k.failed_sat IS NULL THEN NULL
                    ELSE greatest(k.failed_sat, EXCLUDED.carried_sat + 1) END,
  failed_at = coalesce(EXCLUDED.failed_at, k.failed_at),
  carried_count = k.carried_count + EXCLUDED.carried_count,
  failed_count = k.failed_count + EXCLUDED.failed_count
"""


async def record_probe_knowledge(conn: asyncpg.Connection, results: Sequence[ProbeResult],
                                 at: datetime) -> int:
    """Merge what every HTLC attempt of `results` showed, observed at `at`, in one
    statement; returns the number of channel directions written. Concurrent writers are
    safe: each row is merged under its lock, rows are taken in key order."""
    folds = fold_observations(o for r in results for a in htlc_attempts(r)
                              for o in channel_observations(a))
    if not folds:
        return 0
    keys = list(folds)
    values = [folds[k] for k in keys]
    status = await conn.execute(
        _MERGE, [k[0] for k in keys], [k[1] for k in keys], [f.carried for f in values],
        [f.failed for f in values], [f.carried_count for f in values],
        [f.failed_count for f in values], at)
    return affected_rows(status)


# carried and failed times as unix seconds; no fail bound as +inf (ChannelKnowledge's
# conventions); the channel id in two exact float8 halves (a short channel id needs 64 bits)
_LOAD = """
SELECT (channel_id >> 32)::float8, (channel_id & 4294967295)::float8, direction::float8,
       carried_sat::float8, coalesce(extract(epoch FROM carried_at), 0)::float8,
       coalesce(failed_sat::float8, 'Infinity'::float8),
       coalesce(extract(epoch FROM failed_at), 0)::float8
FROM channel_knowledge ORDER BY channel_id, direction
"""


async def load_channel_knowledge(conn: asyncpg.Connection) -> ChannelKnowledge:
    """Every stored row, through one binary COPY (~100k rows in tens of milliseconds)."""
    m = await fetch_float8_matrix(conn, _LOAD, 7)
    return ChannelKnowledge(
        channel_id=(m[:, 0].astype(np.int64) << 32) | m[:, 1].astype(np.int64),
        direction=m[:, 2].astype(np.int64), carried_sat=m[:, 3], carried_unix=m[:, 4],
        failed_sat=m[:, 5], failed_unix=m[:, 6])


async def delete_knowledge_before(conn: asyncpg.Connection, cutoff: datetime) -> int:
    """Retention: rows whose every observation is older than `cutoff` (decayed to nothing,
    or about channels since closed)."""
    status = await conn.execute(
        "DELETE FROM channel_knowledge WHERE coalesce(greatest(carried_at, failed_at), "
        "'-infinity') < $1", cutoff)
    return affected_rows(status)
