"""Seed a small scored graph for the api tests (plain SQL: the tests own their fixtures)."""

from __future__ import annotations

import hashlib
import json

import asyncpg

NOW = "now()"


def pubkey(i: int) -> str:
    return "02" + f"{i:064x}"


def agent_hash(pk: str) -> str:
    return hashlib.sha256(pk.encode()).hexdigest()


ALIASES = ["ACINQ", "Bitrefill", "WalletOfSatoshi", "acinq-backup", "zeus_node", "50%_off"]


async def seed(dsn: str, *, nodes: int = 6, scored: int = 5) -> list[str]:
    """`nodes` nodes in a ring of channels with policies; the first `scored` have scores,
    posteriors, history and probes. Returns the pubkeys in order."""
    conn = await asyncpg.connect(dsn)
    try:
        pks = [pubkey(i + 1) for i in range(nodes)]
        await conn.executemany(
            "INSERT INTO nodes (pubkey, agent_hash, alias) VALUES ($1, $2, $3)",
            [(pk, agent_hash(pk), ALIASES[i % len(ALIASES)]) for i, pk in enumerate(pks)],
        )
        chans = []
        for i in range(nodes):
            a, b = sorted((pks[i], pks[(i + 1) % nodes]))
            chans.append(((800_000 + i) << 40 | i, a, b, 1_000_000 * (i + 1)))
        await conn.executemany(
            "INSERT INTO channels (channel_id, node1_pub, node2_pub, capacity_sat) "
            "VALUES ($1, $2, $3, $4)", chans)
        await conn.executemany(
            """INSERT INTO channel_policies (channel_id, direction, time_lock_delta,
                 min_htlc_msat, max_htlc_msat, fee_base_msat, fee_rate_milli_msat, disabled,
                 last_update)
               VALUES ($1, $2, 80, 1000, 990000000, $3, $4, false, now())""",
            [(c[0], d, 1000 * d, 4294967295 if c[0] & 1 and d else 100 * (d + 1))
             for c in chans for d in (0, 1)])
        for i, pk in enumerate(pks[:scored]):
            rank = 90 - 10 * i
            verdict = ["SAFE", "SAFE", "RISKY", "UNKNOWN", "INSUFFICIENT"][i % 5]
            await conn.execute(
                """INSERT INTO scores (pubkey, rank, verdict, p_success, ci95_low, ci95_high,
                     n_eff, pagerank, pagerank_pct, features, reasons, computed_at)
                   VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10::jsonb, $11::jsonb, now())""",
                pk, rank, verdict, 0.95 - 0.1 * i, 0.9 - 0.15 * i, 0.99 - 0.05 * i,
                20.0 - i, 0.01 / (i + 1), 99.0 - i, json.dumps({"channels": 2}),
                json.dumps([f"reason {i}"]))
            for amount in (1_000, 100_000):
                await conn.execute(
                    """INSERT INTO posteriors (pubkey, amount_sat, prior_alpha, prior_beta,
                         alpha, beta, n_eff, p_success, ci95_low, ci95_high, updated_at)
                       VALUES ($1, $2, 1, 1, 9, 2, 9, 0.8, 0.6, 0.95, now())""", pk, amount)
            await conn.execute(
                """INSERT INTO score_history (pubkey, computed_at, rank, verdict, p_success,
                     ci95_low, ci95_high, pagerank)
                   VALUES ($1, now() - interval '1 day', $2, $3, 0.5, 0.2, 0.8, 0.01)""",
                pk, rank, verdict)
            await conn.execute(
                """INSERT INTO probes (target_pubkey, amount_sat, sent_at, duration_ms, outcome,
                     hop_count) VALUES ($1, 100000, now() - interval '10 minutes', 850,
                     'reached', 3)""", pk)
        await conn.execute(
            "INSERT INTO graph_syncs (started_at, finished_at, nodes, channels) "
            "VALUES (now() - interval '5 minutes', now(), $1, $1)", nodes)
        return pks
    finally:
        await conn.close()


OPERATOR_SECRET = "operator-secret-for-tests"
# Paid routes are reached through the operator bypass where a test is about the body.
OPERATOR = {"X-Operator-Token": OPERATOR_SECRET}
