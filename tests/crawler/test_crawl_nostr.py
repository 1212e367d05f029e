"""The crawler daemon runs the Nostr publisher: `satrank crawl` against simnet with
NOSTR_RELAYS set publishes a signed kind 30382 assertion per scored node to a real relay,
read back and verified by an independent client (npm nostr-tools)."""

from __future__ import annotations

import asyncio
import signal
import time
from pathlib import Path

import asyncpg

from satrank.nostr.keys import NostrKey
from tests.cli import satrank_env, start_satrank
from tests.nostr_relay import fetch_with_nostr_tools, running_relay
from tests.simnet_fixture import SimnetHandle

DEADLINE_S = 180.0
FETCH_CHUNK = 40


async def _outbox_drained(dsn: str) -> bool:
    conn = await asyncpg.connect(dsn)
    try:
        row = await conn.fetchrow(
            "SELECT count(*) AS total, count(*) FILTER (WHERE done_at IS NULL) AS pending "
            "FROM nostr_outbox WHERE kind = 30382")
        return bool(row["total"] > 0 and row["pending"] == 0)
    finally:
        await conn.close()


async def test_crawler_publishes_scores_to_nostr(simnet: SimnetHandle, db_dsn: str,
                                                 tmp_path: Path) -> None:
    key = NostrKey.generate()
    (tmp_path / "relay").mkdir()
    with running_relay(tmp_path / "relay") as relay:
        env = satrank_env(
            tmp_path, DATABASE_URL=db_dsn, CRAWLER_METRICS_PORT="0",
            LND_GRPC_HOST=simnet.oracle_host,
            LND_TLS_CERT_PATH=str(simnet.oracle_dir / "tls.cert"),
            LND_READONLY_MACAROON_PATH=str(simnet.oracle_dir / "readonly.macaroon"),
            LND_PAY_MACAROON_PATH=str(simnet.oracle_dir / "pay.macaroon"),
            CRAWL_PROBES_PER_ROUND="0", NOSTR_RELAYS=relay.url, NOSTR_PRIVATE_KEY=key.nsec(),
            NOSTR_PUBLISH_INTERVAL_S="0", NOSTR_POLL_INTERVAL_S="0.2")
        crawler = start_satrank("crawl", env=env)
        try:
            deadline = time.monotonic() + DEADLINE_S
            while not await _outbox_drained(db_dsn):
                assert crawler.poll() is None, crawler.stderr.read() if crawler.stderr else ""
                assert time.monotonic() < deadline, "the outbox was never drained"
                await asyncio.sleep(0.5)
            crawler.send_signal(signal.SIGTERM)
            assert crawler.wait(timeout=60) == 0
        finally:
            if crawler.poll() is None:
                crawler.kill()
                crawler.wait()
        conn = await asyncpg.connect(db_dsn)
        try:
            ranks = {r["pubkey"]: r["rank"] for r in await conn.fetch(
                "SELECT pubkey, rank FROM scores")}
        finally:
            await conn.close()
        # in chunks of d tags: the fetch script's stdout is cut at a 64 KiB pipe buffer
        subjects = sorted(ranks)
        events = [e for i in range(0, len(subjects), FETCH_CHUNK)
                  for e in fetch_with_nostr_tools(relay.url, {
                      "kinds": [30382], "authors": [key.pubkey_hex],
                      "#d": subjects[i:i + FETCH_CHUNK]})]

    assert events and all(e["verified"] is True and e["hashMatches"] is True for e in events)
    published = {}
    for e in events:
        tags = {t[0]: t[1] for t in e["tags"]}  # type: ignore[union-attr]
        published[tags["d"]] = int(tags["rank"])
    assert published == ranks  # one assertion per scored node, with its rank
