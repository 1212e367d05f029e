"""Integration: LND static channel backups on simnet, over real gRPC with lnd's macaroons.

`satrank backup channels` writes lnd's multi-channel blob (ExportAllChannelBackups) into a
new versioned file with mode 0600 and records its time for the backup-age alert; the job
the crawler runs (`keep_channel_backups`) keeps writing new files while its clock moves
and rotates them out after the retention, never the newest; a macaroon without
offchain:read is refused with a clear message.
"""

from __future__ import annotations

import asyncio
import signal
import stat
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

from satrank.backup_channels import ChannelBackupStore, keep_channel_backups
from satrank.lightning.lnd import LndClient
from tests.cli import run_satrank, satrank_env, start_satrank
from tests.simnet_fixture import SimnetHandle


def _client(simnet: SimnetHandle, macaroon: str = "pay.macaroon") -> LndClient:
    return LndClient.connect(simnet.oracle_host, (simnet.oracle_dir / "tls.cert").read_bytes(),
                             (simnet.oracle_dir / macaroon).read_bytes())


async def _export(simnet: SimnetHandle) -> tuple[bytes, tuple[str, ...]]:
    async with _client(simnet) as lnd:
        snapshot = await lnd.export_all_channel_backups()
    return snapshot.multi_chan_backup, snapshot.chan_points


def test_backup_channels_writes_lnds_blob(tmp_path: Path, simnet: SimnetHandle) -> None:
    blob, points = asyncio.run(_export(simnet))
    assert points and all(len(p.split(":")[0]) == 64 for p in points)
    backups, metrics = tmp_path / "channels", tmp_path / "satrank-backup-channels.prom"
    env = satrank_env(tmp_path / "data", **simnet.oracle_lnd_env())
    made = run_satrank("backup", "channels", "--dir", str(backups), "--metrics-file",
                       str(metrics), env=env)
    assert made.returncode == 0, made.stderr
    [written] = list(backups.iterdir())
    assert written.name.startswith("channel-") and written.suffix == ".backup"
    assert written.read_bytes() == blob
    assert stat.S_IMODE(written.stat().st_mode) == 0o600
    assert 'satrank_backup_last_success_timestamp_seconds{kind="channels"}' in metrics.read_text()

    again = run_satrank("backup", "channels", "--dir", str(backups), env=env)
    assert again.returncode == 0, again.stderr
    assert len(list(backups.iterdir())) == 2  # a new version, the first one untouched
    assert written.read_bytes() == blob


def test_a_macaroon_without_offchain_read_is_refused(
    tmp_path: Path, simnet: SimnetHandle
) -> None:
    env = satrank_env(tmp_path / "data", **simnet.oracle_lnd_env())
    refused = run_satrank("backup", "channels", "--dir", str(tmp_path / "c"), "--macaroon",
                          str(simnet.oracle_dir / "invoice.macaroon"), env=env)
    assert refused.returncode == 1
    assert "satrank backup channels:" in refused.stderr and "Traceback" not in refused.stderr
    assert not (tmp_path / "c").exists() or not list((tmp_path / "c").iterdir())


def _clock(start: datetime, step: timedelta) -> Iterator[datetime]:
    now = start
    while True:
        yield now
        now += step


def test_the_job_keeps_versions_and_rotates_them_out(
    tmp_path: Path, simnet: SimnetHandle
) -> None:
    """Each export is a new file; with 40 simulated days between exports and 90 days of
    retention, at most three files remain and the newest is the last written."""
    ticks = _clock(datetime(2026, 1, 1, tzinfo=UTC), timedelta(days=40))
    offsite = tmp_path / "offsite"
    offsite.mkdir()
    store = ChannelBackupStore(tmp_path / "channels", retention_days=90,
                               offsite_command=f"cp {{file}} {offsite}/",
                               clock=lambda: next(ticks))

    async def run() -> None:
        async with _client(simnet) as lnd:
            job = asyncio.create_task(keep_channel_backups(lnd, store, export_interval_s=0.05))
            for _ in range(400):
                await asyncio.sleep(0.05)
                if len(list(offsite.iterdir())) >= 6:
                    break
            job.cancel()
            await asyncio.gather(job, return_exceptions=True)

    asyncio.run(run())
    shipped = sorted(p.name for p in offsite.iterdir())
    kept = sorted(p.name for p in store.directory.iterdir())
    assert len(shipped) >= 6, shipped  # every version went offsite
    assert 1 <= len(kept) <= 3 and kept[-1] == shipped[-1]
    assert set(kept) <= set(shipped) and shipped[0] not in kept
    blob, _ = asyncio.run(_export(simnet))
    assert (store.directory / kept[-1]).read_bytes() == blob


def test_follow_runs_until_sigterm(tmp_path: Path, simnet: SimnetHandle) -> None:
    """`satrank backup channels --follow` as its systemd unit runs it: a file at start,
    then waiting on lnd's subscription; SIGTERM ends it cleanly."""
    backups = tmp_path / "channels"
    process = start_satrank("backup", "channels", "--follow", "--dir", str(backups),
                            "--macaroon", str(simnet.oracle_dir / "readonly.macaroon"),
                            env=satrank_env(tmp_path / "data", **simnet.oracle_lnd_env()))
    try:
        deadline = time.monotonic() + 60
        while not (backups.exists() and list(backups.glob("channel-*.backup"))):
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline, "no channel backup within 60 s"
            time.sleep(0.1)
    finally:
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=30)
    assert process.returncode == 0, err[-2000:]
    assert len(list(backups.glob("channel-*.backup"))) == 1
