"""LND static channel backups (SCB), kept current beside the database backups.

lnd's multi-channel backup blob (encrypted by lnd with a key from the wallet seed) plus
the seed is what recovers the funds of every channel after the node is lost. This keeps a
versioned copy: one file per snapshot (`channel-YYYYmmddTHHMMSSZ.backup`, the same bytes
as lnd's own `channel.backup`), written when lnd reports a channel change
(SubscribeChannelBackups) and at least once per `export_interval_s`
(ExportAllChannelBackups), pruned after `retention_days`, handed to the same offsite
command as the database backups, and its time recorded for the SatRankBackupStale alert.

Run it as `satrank backup channels --dir DIR [--follow]`, or as a crawler job:
`keep_channel_backups(open_lnd(settings.lnd, "pay"), ChannelBackupStore(...))`.
"""

from __future__ import annotations

import asyncio
import logging
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from satrank.backup_files import (
    BackupFileError,
    place_versioned,
    prune,
    record_success,
    ship_offsite,
)
from satrank.lightning.backend import ChannelBackupSnapshot
from satrank.lightning.errors import LightningError
from satrank.lightning.lnd import LndClient

_log = logging.getLogger(__name__)

PREFIX = "channel"
SUFFIX = ".backup"
DEFAULT_RETENTION_DAYS = 90
DEFAULT_EXPORT_INTERVAL_S = 86_400.0
RESUBSCRIBE_DELAY_S = 30.0


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class ChannelBackupStore:
    """Where and how snapshots are kept."""

    directory: Path
    retention_days: int = DEFAULT_RETENTION_DAYS
    offsite_command: str | None = None
    metrics_file: Path | None = None
    clock: Callable[[], datetime] = _utc_now

    def write(self, snapshot: ChannelBackupSnapshot) -> Path:
        """Write one new versioned file (mode 0600), prune, ship offsite, record success."""
        now = self.clock()
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, name = tempfile.mkstemp(prefix=".channel-", dir=self.directory)  # mode 0600
        with os.fdopen(fd, "wb") as f:
            f.write(snapshot.multi_chan_backup)
            f.flush()
            os.fsync(f.fileno())
        out = place_versioned(Path(name), self.directory, PREFIX, SUFFIX, now)
        prune(self.directory, PREFIX, self.retention_days, now)
        if self.offsite_command:
            ship_offsite(self.offsite_command, out)
        if self.metrics_file is not None:
            record_success(self.metrics_file, "channels", now, out.stat().st_size)
        _log.info("channel backup %s: %d channels", out.name, len(snapshot.chan_points))
        return out


async def export_channel_backup(lnd: LndClient, store: ChannelBackupStore) -> Path:
    """One ExportAllChannelBackups into a new file."""
    snapshot = await lnd.export_all_channel_backups()
    return await asyncio.to_thread(store.write, snapshot)


async def _write_logged(store: ChannelBackupStore, snapshot: ChannelBackupSnapshot) -> None:
    # A full disk or a failing offsite copy must not end the job: it is logged, the
    # success time is not recorded, and SatRankBackupStale fires if it persists.
    try:
        await asyncio.to_thread(store.write, snapshot)
    except (OSError, BackupFileError) as exc:
        _log.error("channel backup not completed: %s", exc)


async def _follow_changes(lnd: LndClient, store: ChannelBackupStore) -> None:
    while True:
        try:
            async for snapshot in lnd.subscribe_channel_backups():
                await _write_logged(store, snapshot)
        except LightningError as exc:
            _log.warning("channel backup subscription failed (%s); again in %.0fs",
                         exc, RESUBSCRIBE_DELAY_S)
        await asyncio.sleep(RESUBSCRIBE_DELAY_S)


async def keep_channel_backups(
    lnd: LndClient, store: ChannelBackupStore, *,
    export_interval_s: float = DEFAULT_EXPORT_INTERVAL_S,
) -> None:
    """Run until cancelled: a snapshot at start, on every channel change, and every
    `export_interval_s` (so the newest file is never older than that, even without
    changes, and the backup-age alert stays meaningful)."""
    follower = asyncio.create_task(_follow_changes(lnd, store))
    try:
        while True:
            try:
                await _write_logged(store, await lnd.export_all_channel_backups())
            except LightningError as exc:
                _log.warning("channel backup export failed (%s); retry in %.0fs",
                             exc, RESUBSCRIBE_DELAY_S)
                await asyncio.sleep(RESUBSCRIBE_DELAY_S)
                continue
            await asyncio.sleep(export_interval_s)
    finally:
        follower.cancel()
        await asyncio.gather(follower, return_exceptions=True)
