"""Test data for the Nostr tests: scored nodes written with plain SQL (the scoring branch
owns these tables in production)."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, replace

import asyncpg


@dataclass(frozen=True)
class ScoreRow:
    pubkey: str
    alias: str = ""
    rank: int = 50
    verdict: str = "UNKNOWN"
    p_success: float = 0.5
    ci95_low: float = 0.3
    ci95_high: float = 0.7
    n_eff: float = 10.0

    def changed(self, **fields: object) -> ScoreRow:
        return replace(self, **fields)  # type: ignore[arg-type]


def random_node_pubkey() -> str:
    return secrets.choice(("02", "03")) + secrets.token_hex(32)


def sample_rows(count: int) -> list[ScoreRow]:
    verdicts = ("SAFE", "RISKY", "UNKNOWN", "INSUFFICIENT")
    return [
        ScoreRow(
            pubkey=random_node_pubkey(),
            alias=f"node-{i}" if i % 5 else "",
            rank=i % 101,
            verdict=verdicts[i % 4],
            p_success=(i * 37 % 1000) / 1000,
            ci95_low=(i * 37 % 1000) / 2000,
            ci95_high=min(1.0, (i * 37 % 1000) / 1000 + 0.1),
            n_eff=i * 1.5,
        )
        for i in range(count)
    ]


async def write_scores(conn: asyncpg.Connection, rows: list[ScoreRow]) -> None:
    """Upsert nodes and their scores, as a scoring run would."""
    await conn.executemany(
        """INSERT INTO nodes (pubkey, agent_hash, alias) VALUES ($1, $2, $3)
           ON CONFLICT (pubkey) DO UPDATE SET alias = EXCLUDED.alias""",
        [(r.pubkey, hashlib.sha256(r.pubkey.encode()).hexdigest(), r.alias) for r in rows],
    )
    await conn.executemany(
        """INSERT INTO scores (pubkey, rank, verdict, p_success, ci95_low, ci95_high, n_eff,
                               pagerank, pagerank_pct, computed_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, 0, 0, now())
           ON CONFLICT (pubkey) DO UPDATE SET rank = EXCLUDED.rank, verdict = EXCLUDED.verdict,
               p_success = EXCLUDED.p_success, ci95_low = EXCLUDED.ci95_low,
               ci95_high = EXCLUDED.ci95_high, n_eff = EXCLUDED.n_eff,
               computed_at = EXCLUDED.computed_at""",
        [(r.pubkey, r.rank, r.verdict, r.p_success, r.ci95_low, r.ci95_high, r.n_eff)
         for r in rows],
    )
