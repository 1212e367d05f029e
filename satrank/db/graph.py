"""Graph sync: one `ChannelGraph` into nodes, channels and policies, in ONE transaction.

Everything is set-based: the graph is COPYed into temp staging tables, then a handful of
UPDATE ... FROM / INSERT ... WHERE NOT EXISTS statements merge it. Readers see either the
previous graph or the new one. Rows that did not change are not written, not even locked
(an unchanged re-sync writes only its `graph_syncs` row); `last_seen` therefore moves when
a row changes, and `is_active` / `is_open` say whether it is in the current graph.
Vanished nodes become `is_active = false`, vanished channels `is_open = false` with
`closed_at`; nothing is deleted. A policy change moves the previous version to
`channel_policy_history` (so current + history is the full timeline; a re-announcement
that only bumps `last_update` is not a change).

This function is the only writer of nodes, channels and channel_policies and keeps their
references whole (migration 002 dropped the per-row foreign-key triggers for speed);
`graph_integrity_problems` checks that invariant set-based.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from satrank.collector import collector_paused
from satrank.db.pool import affected_rows
from satrank.lightning.backend import (
    POLICY_RECORD_FIELDS,
    ChannelGraph,
    DeferredGraph,
    EdgeRecord,
    GraphRecords,
    PolicyRecord,
    graph_records,
)

_PUBKEY = re.compile(r"^0[23][0-9a-f]{64}$")
_MAX_SCID = (1 << 63) - 1  # bigint column; scids fit until block 8.3M

# the fields whose change is a policy change (last_update alone is not), in the order of
# the records' policies
_ALL_POLICY = POLICY_RECORD_FIELDS
_POLICY_FIELDS = _ALL_POLICY[:-1]
assert _ALL_POLICY[-1] == "last_update"
# re-gather planner statistics in the sync when it added more than this share of rows
_REANALYZE_SHARE = 0.1


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


Row = tuple[object, ...]
_Oriented = tuple[EdgeRecord, str, str, PolicyRecord | None, PolicyRecord | None]


def _staging_rows(graph: GraphRecords) -> tuple[list[Row], list[Row], list[Row], int]:
    """COPY records for nodes, channels and policies, plus the number of skipped edges.

    lnd orders node1 < node2; a foreign dump might not, so ends and policies are swapped
    where needed. A node seen only as a channel end gets an empty announcement. The last
    edge wins when a channel id repeats. Hot loop over ~50k edges: plain locals, no calls.
    """
    match = _PUBKEY.match
    nodes: dict[str, Row] = {
        pubkey: (pubkey, alias.replace("\x00", ""), color or None, json.dumps(list(addresses)),
                 last_update)
        for pubkey, alias, color, addresses, last_update in graph.nodes if match(pubkey)}
    valid = set(nodes)
    edges: dict[int, _Oriented] = {}
    skipped = 0
    for e in graph.edges:
        cid, _, a, b, _, _, p1, p2 = e
        if a > b:
            a, b, p1, p2 = b, a, p2, p1
        ok = a != b and 0 < cid <= _MAX_SCID
        for pub in (a, b):
            if ok and pub not in valid:
                ok = match(pub) is not None
                if ok:  # in an edge, not announced
                    valid.add(pub)
                    nodes[pub] = (pub, "", None, "[]", 0)
        if not ok:
            skipped += 1
            continue
        edges[cid] = (e, a, b, p1, p2)
    channels: list[Row] = []
    policies: list[Row] = []
    for cid, (e, a, b, p1, p2) in edges.items():
        channels.append((cid, e[1] or None, a, b, e[4], e[5]))
        if p1 is not None:
            policies.append((cid, 0, *p1))
        if p2 is not None:
            policies.append((cid, 1, *p2))
    return list(nodes.values()), channels, policies, skipped


def _ts(column: str) -> str:
    return f"CASE WHEN {column} > 0 THEN to_timestamp({column}) END"


# last_update arrives as unix seconds and is stored once as timestamptz, so the merges
# compare like with like.
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

_UPDATE_NODES = f"""
UPDATE nodes n SET alias = s.alias, color = s.color, addresses = s.addresses,
    last_update = {_ts("s.last_update")}, last_seen = $1, is_active = true
FROM stage_nodes s
WHERE n.pubkey = s.pubkey
  AND (n.alias, n.color, n.addresses, n.last_update, n.is_active)
      IS DISTINCT FROM (s.alias, s.color, s.addresses, {_ts("s.last_update")}, true)
"""

_INSERT_NODES = f"""
INSERT INTO nodes (pubkey, agent_hash, alias, color, addresses, last_update,
                   first_seen, last_seen, is_active)
SELECT pubkey, encode(sha256(convert_to(pubkey, 'UTF8')), 'hex'), alias, color, addresses,
       {_ts("last_update")}, $1, $1, true
FROM stage_nodes s
WHERE NOT EXISTS (SELECT 1 FROM nodes n WHERE n.pubkey = s.pubkey)
"""

_GONE_NODES = """
UPDATE nodes SET is_active = false
WHERE is_active AND NOT EXISTS (SELECT 1 FROM stage_nodes s WHERE s.pubkey = nodes.pubkey)
"""

_UPDATE_CHANNELS = f"""
UPDATE channels c SET chan_point = s.chan_point, capacity_sat = s.capacity_sat,
    last_update = {_ts("s.last_update")}, last_seen = $1, is_open = true, closed_at = NULL
FROM stage_channels s
WHERE c.channel_id = s.channel_id
  AND (c.chan_point, c.capacity_sat, c.last_update, c.is_open)
      IS DISTINCT FROM (s.chan_point, s.capacity_sat, {_ts("s.last_update")}, true)
"""

_INSERT_CHANNELS = f"""
INSERT INTO channels (channel_id, chan_point, node1_pub, node2_pub, capacity_sat,
                      last_update, first_seen, last_seen, is_open, closed_at)
SELECT channel_id, chan_point, node1_pub, node2_pub, capacity_sat, {_ts("last_update")},
       $1, $1, true, NULL
FROM stage_channels s
WHERE NOT EXISTS (SELECT 1 FROM channels c WHERE c.channel_id = s.channel_id)
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

# One pass over the current policies finds every existing row the sync must touch:
# vanished from a still-open channel (gone), changed, or only re-announced (touched).
# An unchanged re-sync yields an empty diff, so the statements after it write nothing.
_POLICY_DIFF = f"""
CREATE TEMP TABLE policy_diff ON COMMIT DROP AS
SELECT p.channel_id, p.direction, s.channel_id IS NULL AS gone,
       s.channel_id IS NOT NULL AND {_changed} AS changed
FROM channel_policies p
LEFT JOIN stage_policies s USING (channel_id, direction)
WHERE (s.channel_id IS NULL
       AND EXISTS (SELECT 1 FROM stage_channels sc WHERE sc.channel_id = p.channel_id))
   OR (s.channel_id IS NOT NULL
       AND ({_changed} OR p.last_update IS DISTINCT FROM {_ts("s.last_update")}))
"""

# Previous versions of policies that changed, or that vanished from a still-open channel.
_POLICY_HISTORY = f"""
INSERT INTO channel_policy_history (channel_id, direction, {_cols}, recorded_at)
SELECT p.channel_id, p.direction, {_p_cols}, p.recorded_at
FROM channel_policies p JOIN policy_diff d USING (channel_id, direction)
WHERE d.gone OR d.changed
"""

_DROP_VANISHED_POLICIES = """
DELETE FROM channel_policies p USING policy_diff d
WHERE d.gone AND p.channel_id = d.channel_id AND p.direction = d.direction
"""

# recorded_at is when this version began: it moves on a change, not on a re-announcement.
_UPDATE_POLICIES = f"""
UPDATE channel_policies p SET
    {", ".join(f"{c} = s.{c}" for c in _POLICY_FIELDS)},
    last_update = {_ts("s.last_update")},
    recorded_at = CASE WHEN d.changed THEN $1 ELSE p.recorded_at END
FROM policy_diff d JOIN stage_policies s USING (channel_id, direction)
WHERE NOT d.gone AND p.channel_id = d.channel_id AND p.direction = d.direction
"""

_INSERT_POLICIES = f"""
INSERT INTO channel_policies (channel_id, direction, {_cols}, recorded_at)
SELECT channel_id, direction, {", ".join(_POLICY_FIELDS)}, {_ts("last_update")}, $1
FROM stage_policies s
WHERE NOT EXISTS (SELECT 1 FROM channel_policies p
                  WHERE p.channel_id = s.channel_id AND p.direction = s.direction)
"""

_RECORD_SYNC = """
INSERT INTO graph_syncs (started_at, finished_at, block_height, nodes, channels, nodes_added,
                         nodes_gone, channels_added, channels_closed, policies_changed,
                         fingerprint, skipped_edges)
VALUES ($1, clock_timestamp(), $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
RETURNING id
"""

# A sync of the graph the last sync merged (same source digest): the merges would write
# nothing, so only the sync itself is recorded, with the sizes of the last one.
_RECORD_UNCHANGED_SYNC = """
INSERT INTO graph_syncs (started_at, finished_at, block_height, nodes, channels,
                         fingerprint, skipped_edges)
SELECT $1, clock_timestamp(), $2, nodes, channels, fingerprint, skipped_edges
FROM (SELECT * FROM graph_syncs ORDER BY id DESC LIMIT 1) last
WHERE last.fingerprint = $3
RETURNING id, nodes, channels, skipped_edges
"""


async def sync_graph(conn: asyncpg.Connection, described: ChannelGraph | DeferredGraph, *,
                     block_height: int | None, now: datetime) -> GraphSyncReport:
    """Merge `graph` as the complete current graph; one transaction, set-based statements.

    `now` (timestamptz) stamps first_seen/last_seen/closed_at and the sync's start.
    Only one sync may run at a time (the crawler's leader lock guarantees it): the
    update-then-insert merges assume no concurrent writer of the graph tables.
    A graph whose fingerprint equals the last sync's is only recorded (nothing to merge);
    a `DeferredGraph` is then never converted, and otherwise only into its records.
    """
    if described.fingerprint is not None:
        same = await conn.fetchrow(_RECORD_UNCHANGED_SYNC, now, block_height,
                                   described.fingerprint)
        if same is not None:
            return GraphSyncReport(int(same["id"]), int(same["nodes"]), int(same["channels"]),
                                   0, 0, 0, 0, 0, int(same["skipped_edges"]))
    records = (described.records() if isinstance(described, DeferredGraph)
               else graph_records(described))
    # ~200k short-lived tuples while the big graph is alive: the cyclic GC would rescan
    # the graph many times over for nothing (none of these objects form cycles).
    with collector_paused():
        nodes, channels, policies, skipped = _staging_rows(records)
    async with conn.transaction():
        # the joins below hash ~100k-row tables: keep them in memory (the default 4 MB
        # spills them to disk in batches and sorts)
        await conn.execute("SET LOCAL work_mem = '64MB'")
        await conn.execute(_STAGE)
        await conn.copy_records_to_table("stage_nodes", records=nodes)
        await conn.copy_records_to_table("stage_channels", records=channels)
        await conn.copy_records_to_table("stage_policies", records=policies)
        await conn.execute(_UPDATE_NODES, now)
        nodes_added = affected_rows(await conn.execute(_INSERT_NODES, now))
        gone = affected_rows(await conn.execute(_GONE_NODES))
        await conn.execute(_UPDATE_CHANNELS, now)
        channels_added = affected_rows(await conn.execute(_INSERT_CHANNELS, now))
        closed = affected_rows(await conn.execute(_CLOSE_CHANNELS, now))
        await conn.execute(_POLICY_DIFF)
        await conn.execute("ANALYZE policy_diff")  # empty or small: plan by its true size
        changed = affected_rows(await conn.execute(_POLICY_HISTORY))
        await conn.execute(_DROP_VANISHED_POLICIES)
        await conn.execute(_UPDATE_POLICIES, now)
        await conn.execute(_INSERT_POLICIES, now)
        if nodes_added + channels_added > _REANALYZE_SHARE * (len(nodes) + len(channels)):
            # fresh statistics now, not when autovacuum gets round to it: the scoring
            # query right after a first sync otherwise plans for empty tables (sorts
            # spilled to disk instead of hash joins, ~3x slower)
            await conn.execute("ANALYZE nodes, channels, channel_policies")
        sync_id = await conn.fetchval(_RECORD_SYNC, now, block_height, len(nodes),
                                      len(channels), nodes_added, gone, channels_added,
                                      closed, changed, described.fingerprint, skipped)
    return GraphSyncReport(int(sync_id), len(nodes), len(channels), nodes_added, gone,
                           channels_added, closed, changed, skipped)


_INTEGRITY = """
SELECT
  (SELECT count(*) FROM channels c
   WHERE NOT EXISTS (SELECT 1 FROM nodes n WHERE n.pubkey = c.node1_pub)
      OR NOT EXISTS (SELECT 1 FROM nodes n WHERE n.pubkey = c.node2_pub)) AS channels_without_node,
  (SELECT count(*) FROM channel_policies p
   WHERE NOT EXISTS (SELECT 1 FROM channels c WHERE c.channel_id = p.channel_id))
     AS policies_without_channel,
  (SELECT count(*) FROM channels c JOIN nodes n ON n.pubkey IN (c.node1_pub, c.node2_pub)
   WHERE c.is_open AND NOT n.is_active) AS open_channels_of_inactive_nodes
"""


async def graph_integrity_problems(conn: asyncpg.Connection) -> dict[str, int]:
    """Counts of broken references in the graph tables; all zero when the sync did its job."""
    row = await conn.fetchrow(_INTEGRITY)
    return {k: int(v) for k, v in row.items()}


async def record_sync_payer(conn: asyncpg.Connection, sync_id: int, payer_pubkey: str) -> None:
    """Our node's pubkey at sync `sync_id`: the reference payer scoring computes routes from."""
    await conn.execute("UPDATE graph_syncs SET payer_pubkey = $2 WHERE id = $1", sync_id,
                       payer_pubkey)
