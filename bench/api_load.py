"""Load the mainnet snapshot plus synthetic scores into a database, for bench/api.py.

Graph: `load_graph_file` + COPY (the scoring branch's db/graph.py replaces this once it
is on main). Scores, posteriors, history and probes are synthetic but shaped like the
crawler's output (one score per node, three amount tiers, 5 history points, 6 probes),
so the api's queries touch as many rows as they would in production.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from pathlib import Path

import asyncpg

from satrank.lightning.graph_file import load_graph_file


async def load_snapshot(dsn: str, path: Path) -> list[str]:
    """Fill nodes/channels/policies from the snapshot and synthetic scores; return pubkeys."""
    graph = load_graph_file(path)
    conn = await asyncpg.connect(dsn)
    try:
        await conn.copy_records_to_table(
            "nodes", columns=["pubkey", "agent_hash", "alias"], records=[
                (n.pubkey, hashlib.sha256(n.pubkey.encode()).hexdigest(),
                 n.alias.replace("\x00", "")) for n in graph.nodes])
        known = {n.pubkey for n in graph.nodes}
        chans, pols = [], []
        for e in graph.edges:
            if e.node1_pub not in known or e.node2_pub not in known or e.node1_pub == e.node2_pub:
                continue
            a, b, p1, p2 = e.node1_pub, e.node2_pub, e.node1_policy, e.node2_policy
            if a > b:
                a, b, p1, p2 = b, a, p2, p1
            chans.append((e.channel_id, e.chan_point, a, b, e.capacity_sat))
            for direction, p in ((0, p1), (1, p2)):
                if p is not None:
                    pols.append((e.channel_id, direction, p.time_lock_delta, p.min_htlc_msat,
                                 p.max_htlc_msat, p.fee_base_msat, p.fee_rate_milli_msat,
                                 p.disabled, datetime.fromtimestamp(p.last_update, UTC)))
        await conn.copy_records_to_table("channels", columns=[
            "channel_id", "chan_point", "node1_pub", "node2_pub", "capacity_sat"], records=chans)
        await conn.copy_records_to_table("channel_policies", columns=[
            "channel_id", "direction", "time_lock_delta", "min_htlc_msat", "max_htlc_msat",
            "fee_base_msat", "fee_rate_milli_msat", "disabled", "last_update"], records=pols)
        await conn.execute("""
            INSERT INTO graph_syncs (started_at, finished_at, nodes, channels)
            SELECT now(), now(), (SELECT count(*) FROM nodes), (SELECT count(*) FROM channels);
            WITH deg AS (
              SELECT n.pubkey, count(c.pub) AS d, coalesce(sum(c.capacity_sat), 0) AS cap
              FROM nodes n LEFT JOIN (
                  SELECT node1_pub AS pub, capacity_sat FROM channels
                  UNION ALL SELECT node2_pub, capacity_sat FROM channels) c ON c.pub = n.pubkey
              GROUP BY n.pubkey),
            r AS (SELECT *, percent_rank() OVER (ORDER BY d, cap) AS pr FROM deg)
            INSERT INTO scores (pubkey, rank, verdict, p_success, ci95_low, ci95_high, n_eff,
                                pagerank, pagerank_pct, features, reasons, computed_at)
            SELECT pubkey, round(pr * 100)::smallint,
                   CASE WHEN pr > 0.6 THEN 'SAFE' WHEN pr > 0.3 THEN 'UNKNOWN'
                        WHEN pr > 0.1 THEN 'RISKY' ELSE 'INSUFFICIENT' END,
                   0.3 + 0.69 * pr, greatest(0, 0.3 + 0.69 * pr - 0.2),
                   least(1, 0.3 + 0.69 * pr + 0.05),
                   d * 0.5, d::float / 100000, pr * 100,
                   jsonb_build_object('channels', d, 'capacitySat', cap),
                   jsonb_build_array('synthetic bench score'), now()
            FROM r;
            INSERT INTO posteriors (pubkey, amount_sat, prior_alpha, prior_beta, alpha, beta,
                                    n_eff, p_success, ci95_low, ci95_high, updated_at)
            SELECT s.pubkey, t.amount, 1, 1, 1 + s.n_eff, 2, s.n_eff, s.p_success, s.ci95_low,
                   s.ci95_high, now()
            FROM scores s CROSS JOIN (VALUES (1000), (100000), (1000000)) t(amount);
            INSERT INTO score_history (pubkey, computed_at, rank, verdict, p_success, ci95_low,
                                       ci95_high, pagerank)
            SELECT s.pubkey, now() - make_interval(days => g), s.rank, s.verdict, s.p_success,
                   s.ci95_low, s.ci95_high, s.pagerank
            FROM scores s CROSS JOIN generate_series(1, 5) g;
            INSERT INTO probes (target_pubkey, amount_sat, sent_at, duration_ms, outcome,
                                hop_count)
            SELECT s.pubkey, (ARRAY[1000, 100000, 1000000])[1 + g % 3],
                   now() - make_interval(hours => g * 7), 500 + g * 10,
                   CASE WHEN g % 4 = 0 THEN 'failed_in_route' ELSE 'reached' END, 3
            FROM scores s CROSS JOIN generate_series(1, 6) g;
            ANALYZE;
        """)
        rows = await conn.fetch("SELECT pubkey FROM nodes ORDER BY pubkey")
        return [r["pubkey"] for r in rows]
    finally:
        await conn.close()
