"""Unit + integration: the kind 30382 tag layout, its formatting, and SQL/Python agreement
(db/nostr_outbox generates its SQL from nostr/assertions.ASSERTION_TAGS)."""

from __future__ import annotations

import json

import asyncpg
import numpy as np
import pytest

from satrank.db.nostr_outbox import enqueue_changed_score_events
from satrank.nostr.assertions import (
    ASSERTION_AMOUNT_SAT,
    ASSERTION_FEE_BUDGET,
    ASSERTION_TAG_KEYS,
    Profile,
    ScoredNode,
    assertion_tags,
    fixed_decimals,
    profile_content,
    trusted_provider_tags,
    whole_number,
)
from satrank.scoring.budgets import DEFAULT_BUDGET
from satrank.scoring.tiers import DEFAULT_TIER_SAT
from tests.nostr_rows import ScoreRow, random_node_pubkey, write_scores

LN_KEY = "02" + "ab" * 32


@pytest.mark.parametrize(
    ("value", "text"),
    [(0.0, "0.0000"), (1.0, "1.0000"), (0.5, "0.5000"), (0.12345, "0.1235"),
     (0.99995, "1.0000"), (0.00005, "0.0001"), (0.000049, "0.0000"), (1 / 3, "0.3333"),
     (2 / 3, "0.6667"), (1e-9, "0.0000"), (0.87654999, "0.8765")],
)
def test_fixed_decimals(value: float, text: str) -> None:
    assert fixed_decimals(value) == text


@pytest.mark.parametrize(
    ("value", "text"),
    [(0.0, "0"), (2.5, "3"), (3.5, "4"), (0.49999, "0"), (1234.5, "1235"), (1e6, "1000000")],
)
def test_whole_number(value: float, text: str) -> None:
    assert whole_number(value) == text


def test_tag_set_order_and_values() -> None:
    node = ScoredNode(LN_KEY, "ACINQ", 87, "SAFE", 0.91234, 0.8, 0.95, 41.6)
    assert assertion_tags(node) == [
        ["d", LN_KEY], ["n", "lightning"], ["rank", "87"], ["alias", "ACINQ"],
        ["verdict", "SAFE"], ["p_success", "0.9123"], ["ci95_low", "0.8000"],
        ["ci95_high", "0.9500"], ["n_obs", "42"], ["amount_sat", "100000"],
        ["fee_budget", "normal"],
    ]
    assert tuple(t[0] for t in assertion_tags(node)) == ASSERTION_TAG_KEYS


def test_the_basis_tags_name_what_scoring_publishes() -> None:
    assert int(ASSERTION_AMOUNT_SAT) == DEFAULT_TIER_SAT
    assert ASSERTION_FEE_BUDGET == DEFAULT_BUDGET.name


def test_no_lightning_key_in_a_p_tag_and_alias_fallback() -> None:
    tags = assertion_tags(ScoredNode(LN_KEY, "", 0, "INSUFFICIENT", 0, 0, 1, 0))
    assert all(tag[0] != "p" for tag in tags)
    assert ["alias", LN_KEY[:16]] in tags
    assert all(isinstance(v, str) for tag in tags for v in tag)


def test_profile_and_10040_example() -> None:
    profile = Profile("SatRank", "about", "https://oracle.example.org/x", "satrank")
    assert json.loads(profile_content(profile)) == {
        "name": "SatRank", "about": "about", "website": "https://oracle.example.org/x",
        "nip05": "satrank@oracle.example.org",
    }
    assert "nip05" not in json.loads(profile_content(Profile("S", "a", "", "satrank")))
    pk = "ab" * 32
    assert trusted_provider_tags(pk, ("wss://a", "wss://b")) == [
        ["30382:rank", pk, "wss://a"], ["30382:rank", pk, "wss://b"]]
    assert trusted_provider_tags(pk, ()) == [["30382:rank", pk]]


async def test_sql_tags_equal_python_tags_on_edge_values(db_dsn: str) -> None:
    values = [0.0, 1.0, 0.12345, 0.99995, 0.00005, 0.000049, 1 / 3, 2 / 3, 1e-9, 0.87654999,
              0.5, 0.1 + 0.2, 0.045, 0.00015]
    n_effs = [0.0, 2.5, 3.5, 0.49999, 1234.5, 1e6, 7.4999999, 0.5]
    aliases = ["", "plain", 'älias ⚡ "q" \\ \n', "x" * 32, "😀 emoji"]
    rows = [
        ScoreRow(random_node_pubkey(), aliases[i % len(aliases)], i % 101,
                 ("SAFE", "RISKY", "UNKNOWN", "INSUFFICIENT")[i % 4],
                 v, values[(i + 3) % len(values)], values[(i + 7) % len(values)],
                 n_effs[i % len(n_effs)])
        for i, v in enumerate(values * 2)
    ]
    await _assert_sql_tags_equal_python_tags(db_dsn, rows)


async def test_sql_tags_equal_python_tags_on_many_random_values(db_dsn: str) -> None:
    rng = np.random.default_rng(30382)
    # decimals near the rounding boundary, plain uniforms and large effective counts
    near = np.round(rng.random(300), 5)
    rows = [
        ScoreRow(random_node_pubkey(), f"n{i}" if i % 3 else "", int(rng.integers(0, 101)),
                 ("SAFE", "RISKY", "UNKNOWN", "INSUFFICIENT")[i % 4], float(near[i]),
                 float(rng.random()), float(np.round(rng.random(), 6)),
                 float(rng.choice([np.round(rng.uniform(0, 100), 1), rng.uniform(0, 1e6)])))
        for i in range(300)
    ]
    await _assert_sql_tags_equal_python_tags(db_dsn, rows)


async def _assert_sql_tags_equal_python_tags(db_dsn: str, rows: list[ScoreRow]) -> None:
    conn = await asyncpg.connect(db_dsn)
    try:
        async with conn.transaction():
            await write_scores(conn, rows)
            assert await enqueue_changed_score_events(conn) == len(rows)
        stored = {r["subject"]: json.loads(r["content"]) for r in
                  await conn.fetch("SELECT subject, content FROM nostr_outbox")}
    finally:
        await conn.close()
    for row in rows:
        expected = assertion_tags(ScoredNode(row.pubkey, row.alias, row.rank, row.verdict,
                                             row.p_success, row.ci95_low, row.ci95_high,
                                             row.n_eff))
        assert stored[row.pubkey] == {"tags": expected, "content": ""}
