"""Graph sync: one `ChannelGraph` into nodes, channels and policies, in ONE transaction.

Everything is set-based: the graph is COPYed into temp staging tables, then a handful of
INSERT ... ON CONFLICT / UPDATE statements merge it. Readers see either the previous graph
or the new one. Rows that did not change are not written (an unchanged re-sync writes only
its `graph_syncs` row). Vanished nodes become `is_active = false`, vanished channels
`is_open = false` with `closed_at`; nothing is deleted. A policy change moves the previous
version to `channel_policy_history` (so current + history is the full timeline; a
re-announcement that only bumps `last_update` is not a change).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from satrank.lightning.backend import ChannelGraph, GraphEdge, RoutingPolicy

_PUBKEY = re.compile(r"^0[23][0-9a-f]{64}$")
_MAX_SCID = (1 << 63) - 1  # bigint column; scids fit until block 8.3M

# the fields whose change is a policy change (last_update alone is not)
_POLICY_FIELDS = ("time_lock_delta", "min_htlc_msat", "max_htlc_msat", "fee_base_msat",
                  "fee_rate_milli_msat", "inbound_fee_base_msat",
                  "inbound_fee_rate_milli_msat", "disabled")
_ALL_POLICY = (*_POLICY_FIELDS, "last_update")


@dataclass(frozen=True)
class GraphSyncReport:
    sync_id: int
    nodes: int
    channels: int
    nodes_added: int
    nodes_gone: int
    channels_added: int
    channels_closed: int
    policies_changed: int
    skipped_edges: int  # malformed pubkeys or channel ids


def _policy_row(channel_id: int, direction: int, p: RoutingPolicy) -> tuple[object, ...]:
    return (channel_id, direction, p.time_lock_delta, p.min_htlc_msat, p.max_htlc_msat,
            p.fee_base_msat, p.fee_rate_milli_msat, p.inbound_fee_base_msat,
            p.inbound_fee_rate_milli_msat, p.disabled, p.last_update)


def _oriented(edge: GraphEdge) -> GraphEdge:
    """lnd orders node1 < node2; a foreign dump might not: swap ends and policies."""
    if edge.node1_pub < edge.node2_pub:
        return edge
    return GraphEdge(edge.channel_id, edge.chan_point, edge.node2_pub, edge.node1_pub,
                     edge.capacity_sat, edge.last_update, edge.node2_policy, edge.node1_policy)


def _staging_rows(graph: ChannelGraph) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]],
                                                list[tuple[object, ...]], int]:
    nodes = {n.pubkey: (n.pubkey, n.alias.replace("\x00", ""), n.color or None,
                        _json_list(n.addresses), n.last_update)
             for n in graph.nodes if _PUBKEY.match(n.pubkey)}
    channels: dict[int, tuple[object, ...]] = {}
    policies: dict[tuple[int, int], tuple[object, ...]] = {}
    skipped = 0
    for raw in graph.edges:
        e = _oriented(raw)
        if (not _PUBKEY.match(e.node1_pub) or not _PUBKEY.match(e.node2_pub)
                or e.node1_pub == e.node2_pub or not 0 < e.channel_id <= _MAX_SCID):
            skipped += 1
            continue
        for pub in (e.node1_pub, e.node2_pub):
            nodes.setdefault(pub, (pub, "", None, "[]", 0))  # in an edge, not announced
        channels[e.channel_id] = (e.channel_id, e.chan_point or None, e.node1_pub,
                                  e.node2_pub, e.capacity_sat, e.last_update)
        for direction, pol in enumerate((e.node1_policy, e.node2_policy)):
            if pol is not None:
                policies[(e.channel_id, direction)] = _policy_row(e.channel_id, direction, pol)
    return list(nodes.values()), list(channels.values()), list(policies.values()), skipped


def _json_list(items: tuple[str, ...]) -> str:
    return json.dumps(list(items))


def _ts(column: str) -> str:
    return f"CASE WHEN {column} > 0 THEN to_timestamp({column}) END"


_STAGE = """
CREATE TEMP TABLE stage_nodes (pubkey text, alias text, color text, addresses jsonb,
    last_update bigint) ON COMMIT DROP;
CREATE TEMP TABLE stage_channels (channel_id bigint, chan_point text, node1_pub text,
    node2_pub text, capacity_sat bigint, last_update bigint) ON COMMIT DROP;
CREATE TEMP TABLE stage_policies (channel_id bigint, direction smallint,
    time_lock_delta integer, min_htlc_msat bigint, max_htlc_msat bigint,
    fee_base_msat bigint, fee_rate_milli_msat bigint, inbound_fee_base_msat bigint,
    inbound_fee_rate_milli_msat bigint, disabled boolean, last_update bigint) ON COMMIT DROP;
"""

_MERGE_NODES = f"""
INSERT INTO nodes AS n (pubkey, agent_hash, alias, color, addresses, last_update,
                        first_seen, last_seen, is_active)
SELECT pubkey, encode(sha256(convert_to(pubkey, 'UTF8')), 'hex'), alias, color, addresses,
       {_ts("last_update")}, $1, $1, true
FROM stage_nodes
ON CONFLICT (pubkey) DO UPDATE SET
    alias = EXCLUDED.alias, color = EXCLUDED.color, addresses = EXCLUDED.addresses,
    last_update = EXCLUDED.last_update, last_seen = EXCLUDED.last_seen, is_active = true
WHERE (n.alias, n.color, n.addresses, n.last_update, n.is_active)
      IS DISTINCT FROM (EXCLUDED.alias, EXCLUDED.color, EXCLUDED.addresses,
                        EXCLUDED.last_update, true)
RETURNING (xmax = 0) AS inserted
"""

_GONE_NODES = """
UPDATE nodes SET is_active = false
WHERE is_active AND NOT EXISTS (SELECT 1 FROM stage_nodes s WHERE s.pubkey = nodes.pubkey)
"""

_MERGE_CHANNELS = f"""
INSERT INTO channels AS c (channel_id, chan_point, node1_pub, node2_pub, capacity_sat,
                           last_update, first_seen, last_seen, is_open, closed_at)
SELECT channel_id, chan_point, node1_pub, node2_pub, capacity_sat, {_ts("last_update")},
       $1, $1, true, NULL
FROM stage_channels
ON CONFLICT (channel_id) DO UPDATE SET
    chan_point = EXCLUDED.chan_point, capacity_sat = EXCLUDED.capacity_sat,
    last_update = EXCLUDED.last_update, last_seen = EXCLUDED.last_seen,
    is_open = true, closed_at = NULL
WHERE (c.chan_point, c.capacity_sat, c.last_update, c.is_open)
      IS DISTINCT FROM (EXCLUDED.chan_point, EXCLUDED.capacity_sat, EXCLUDED.last_update, true)
RETURNING (xmax = 0) AS inserted
"""

_CLOSE_CHANNELS = """
UPDATE channels SET is_open = false, closed_at = $1
WHERE is_open
  AND NOT EXISTS (SELECT 1 FROM stage_channels s WHERE s.channel_id = channels.channel_id)
"""

_cols = ", ".join(_ALL_POLICY)
_p_cols = ", ".join(f"p.{c}" for c in _ALL_POLICY)
_changed = (f"({', '.join('p.' + c for c in _POLICY_FIELDS)}) IS DISTINCT FROM "
            f"({', '.join('s.' + c for c in _POLICY_FIELDS)})")

# Previous versions of policies that changed, or that vanished from a still-open channel.
_POLICY_HISTORY = f"""
WITH old AS (
    SELECT p.channel_id, p.direction, {_p_cols}, p.recorded_at
    FROM channel_policies p
    LEFT JOIN stage_policies s USING (channel_id, direction)
    WHERE (s.channel_id IS NULL
           AND EXISTS (SELECT 1 FROM stage_channels sc WHERE sc.channel_id = p.channel_id))
       OR (s.channel_id IS NOT NULL AND {_changed})
)
INSERT INTO channel_policy_history (channel_id, direction, {_cols}, recorded_at)
SELECT channel_id, direction, {_cols}, recorded_at FROM old
RETURNING channel_id
"""

_DROP_VANISHED_POLICIES = """
DELETE FROM channel_policies p
WHERE EXISTS (SELECT 1 FROM stage_channels sc WHERE sc.channel_id = p.channel_id)
  AND NOT EXISTS (SELECT 1 FROM stage_policies s
                  WHERE s.channel_id = p.channel_id AND s.direction = p.direction)
"""

_excluded_changed = (f"({', '.join('p.' + c for c in _POLICY_FIELDS)}) IS DISTINCT FROM "
                     f"({', '.join('EXCLUDED.' + c for c in _POLICY_FIELDS)})")
_MERGE_POLICIES = f"""
INSERT INTO channel_policies AS p (channel_id, direction, {_cols}, recorded_at)
SELECT channel_id, direction, {", ".join(c for c in _POLICY_FIELDS)},
       {_ts("last_update")}, $1
FROM stage_policies
ON CONFLICT (channel_id, direction) DO UPDATE SET
    {", ".join(f"{c} = EXCLUDED.{c}" for c in _ALL_POLICY)},
    recorded_at = CASE WHEN {_excluded_changed} THEN EXCLUDED.recorded_at
                       ELSE p.recorded_at END
WHERE (p.last_update IS DISTINCT FROM EXCLUDED.last_update) OR {_excluded_changed}
"""

_RECORD_SYNC = """
INSERT INTO graph_syncs (started_at, finished_at, block_height, nodes, channels, nodes_added,
                         nodes_gone, channels_added, channels_closed, policies_changed)
VALUES ($1, clock_timestamp(), $2, $3, $4, $5, $6, $7, $8, $9)
RETURNING id
"""


def _count(status: str) -> int:
    """Row count from an asyncpg command status such as 'UPDATE 12'."""
    return int(status.rsplit(" ", 1)[-1])


async def sync_graph(conn: asyncpg.Connection, graph: ChannelGraph, *,
                     block_height: int | None, now: datetime) -> GraphSyncReport:
    """Merge `graph` as the complete current graph; one transaction, set-based statements.

    `now` (timestamptz) stamps first_seen/last_seen/closed_at and the sync's start.
    """
    nodes, channels, policies, skipped = _staging_rows(graph)
    async with conn.transaction():
        await conn.execute(_STAGE)
        await conn.copy_records_to_table("stage_nodes", records=nodes)
        await conn.copy_records_to_table("stage_channels", records=channels)
        await conn.copy_records_to_table("stage_policies", records=policies)
        await conn.execute("ANALYZE stage_nodes; ANALYZE stage_channels; ANALYZE stage_policies")
        added_nodes = await conn.fetch(_MERGE_NODES, now)
        gone = _count(await conn.execute(_GONE_NODES))
        added_channels = await conn.fetch(_MERGE_CHANNELS, now)
        closed = _count(await conn.execute(_CLOSE_CHANNELS, now))
        changed = len(await conn.fetch(_POLICY_HISTORY))
        await conn.execute(_DROP_VANISHED_POLICIES)
        await conn.execute(_MERGE_POLICIES, now)
        n_nodes_added = sum(1 for r in added_nodes if r["inserted"])
        n_channels_added = sum(1 for r in added_channels if r["inserted"])
        sync_id = await conn.fetchval(_RECORD_SYNC, now, block_height, len(nodes),
                                      len(channels), n_nodes_added, gone, n_channels_added,
                                      closed, changed)
    return GraphSyncReport(int(sync_id), len(nodes), len(channels), n_nodes_added, gone,
                           n_channels_added, closed, changed, skipped)
