"""Integration: two real `satrank crawl` processes elect one leader with a Postgres
advisory lock; the standby takes over when the leader is killed."""

from __future__ import annotations

import asyncio
import queue
import signal
from pathlib import Path

import asyncpg

from tests.cli import satrank_env, start_satrank, stderr_lines

WAIT_S = 60.0


def _wait_for(q: queue.Queue[str], text: str) -> str:
    while True:
        line = q.get(timeout=WAIT_S)  # raises queue.Empty (test failure) if never seen
        if text in line:
            return line


def test_standby_takes_over_when_the_leader_dies(db_dsn: str, tmp_path: Path) -> None:
    env = satrank_env(tmp_path, DATABASE_URL=db_dsn, CRAWLER_METRICS_PORT="0",
                      LND_GRPC_HOST="127.0.0.1:9")  # no LND: the leader keeps retrying
    first = start_satrank("crawl", env=env)
    second = None
    try:
        q1 = stderr_lines(first)
        _wait_for(q1, "crawler is the leader")
        _wait_for(q1, "cannot open LND")  # LND down: logged, retried, still leader
        second = start_satrank("crawl", env=env)
        q2 = stderr_lines(second)
        _wait_for(q2, "waiting as standby")
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=WAIT_S)
        _wait_for(q2, "crawler is the leader")
        second.send_signal(signal.SIGTERM)
        assert second.wait(timeout=WAIT_S) == 0
    finally:
        for proc in (first, second):
            if proc is not None and proc.poll() is None:
                proc.kill()
                proc.wait()


def test_leader_exits_non_zero_when_its_lock_session_dies(db_dsn: str, tmp_path: Path) -> None:
    """What a Postgres restart does to the leader: its lock session ends. A clean exit (0)
    would leave it down under systemd's Restart=on-failure."""
    env = satrank_env(tmp_path, DATABASE_URL=db_dsn, CRAWLER_METRICS_PORT="0",
                      LND_GRPC_HOST="127.0.0.1:9")
    crawler = start_satrank("crawl", env=env)
    try:
        lines = stderr_lines(crawler)
        _wait_for(lines, "crawler is the leader")
        asyncio.run(_terminate_lock_session(db_dsn))
        _wait_for(lines, "lost the leader lock session")
        assert crawler.wait(timeout=WAIT_S) != 0
    finally:
        if crawler.poll() is None:
            crawler.kill()
            crawler.wait()


async def _terminate_lock_session(dsn: str) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        ended = await conn.fetchval(
            "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE application_name = 'satrank-crawler-lock'")
        assert ended == 1
    finally:
        await conn.close()
