"""The real `satrank crawl --once` against simnet skips a scoring pass whose inputs are
those of the stored pass, and runs it when an input changed or the stored pass is older
than CRAWL_RESCORE_MAX_AGE_S."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg

from satrank.crawler.rescore import max_pass_age_s, rescore_reason
from satrank.db.scoring_inputs import LastPass
from satrank.nostr.keys import NostrKey
from tests.cli import run_satrank
from tests.crawler.test_crawl_simnet import WAIT_S, _crawler_env
from tests.simnet_fixture import SimnetHandle


async def _last_pass(dsn: str) -> tuple[datetime, str | None, int]:
    conn = await asyncpg.connect(dsn)
    try:
        row = await conn.fetchrow("SELECT computed_at, inputs_key FROM scoring_state")
        history = await conn.fetchval("SELECT count(*) FROM score_history")
    finally:
        await conn.close()
    return row["computed_at"], row["inputs_key"], int(history)


def _crawl(tmp: Path, dsn: str, net: SimnetHandle, probes: int, **extra: str) -> str:
    done = run_satrank("crawl", "--once", "--probes", str(probes),
                       env=_crawler_env(tmp, dsn, net, **extra), timeout=WAIT_S)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


async def test_an_unchanged_cycle_skips_the_pass_and_new_evidence_does_not(
        simnet: SimnetHandle, db_dsn: str, tmp_path: Path) -> None:
    first = _crawl(tmp_path, db_dsn, simnet, 0)
    assert "scores: StoredScores(" in first
    computed, key, history = await _last_pass(db_dsn)
    assert key is not None

    # same graph, no probe, report or knowledge since: the stored pass stands
    again = _crawl(tmp_path, db_dsn, simnet, 0)
    assert "scores: ScoringSkipped(" in again
    assert await _last_pass(db_dsn) == (computed, key, history)

    # new evidence: the pass before the round is skipped, the one after it is not
    probed = _crawl(tmp_path, db_dsn, simnet, 5)
    assert "rescoring:" in probed and "scores: StoredScores(" in probed
    after, new_key, _ = await _last_pass(db_dsn)
    assert after > computed and new_key not in (None, key)


async def test_a_stored_pass_older_than_the_interval_is_redone(
        simnet: SimnetHandle, db_dsn: str, tmp_path: Path) -> None:
    _crawl(tmp_path, db_dsn, simnet, 0)
    computed, key, _ = await _last_pass(db_dsn)
    again = _crawl(tmp_path, db_dsn, simnet, 0, CRAWL_RESCORE_MAX_AGE_S="0")
    assert "scores: StoredScores(" in again
    after, same_key, _ = await _last_pass(db_dsn)
    assert after > computed and same_key == key


def test_the_reasons_to_rescore() -> None:
    now = datetime(2026, 12, 7, tzinfo=UTC)
    last = LastPass(now - timedelta(minutes=30), "k")
    assert rescore_reason(last, "k", now=now, max_age_s=3600) is None
    assert rescore_reason(last, "other", now=now, max_age_s=3600) == "inputs changed"
    assert rescore_reason(last, None, now=now, max_age_s=3600) == "inputs without a digest"
    assert rescore_reason(None, "k", now=now, max_age_s=3600) == "no stored pass"
    assert rescore_reason(last, "k", now=now, max_age_s=1800) == "stored pass too old"
    assert rescore_reason(last, "k", now=now - timedelta(hours=1),
                          max_age_s=3600) == "clock before the stored pass"
    assert rescore_reason(LastPass(now, None), "k", now=now, max_age_s=3600) == "inputs changed"


def test_the_interval_is_capped_where_decay_could_move_p_by_the_history_threshold() -> None:
    week = 7 * 86_400.0
    assert max_pass_age_s(3600, week) == 3600  # 0.0041 at most in an hour
    assert max_pass_age_s(3600, 3600) < 30  # a one-hour half-life: 26 s


async def test_publishing_turned_on_rescores_and_queues_the_events(
        simnet: SimnetHandle, db_dsn: str, tmp_path: Path) -> None:
    assert "nostr_events=0)" in _crawl(tmp_path, db_dsn, simnet, 0)
    publish = {"NOSTR_RELAYS": "ws://127.0.0.1:9",  # --once queues, never connects
               "NOSTR_PRIVATE_KEY": NostrKey.generate().nsec()}
    again = _crawl(tmp_path, db_dsn, simnet, 0, **publish)
    assert "scores: StoredScores(" in again and "nostr_events=0)" not in again
    assert "scores: ScoringSkipped(" in _crawl(tmp_path, db_dsn, simnet, 0, **publish)
