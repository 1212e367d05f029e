"""Backup files on disk, shared by the database and the LND channel backups.

Every backup is a new file named by its UTC time (`PREFIX-YYYYmmddTHHMMSSZ.EXT`), placed
with a hard link so that an existing file is never replaced, pruned by the time in its
name (copies and restores change mtimes, names stay) while the newest is always kept,
handed to the operator's offsite command, and its success recorded for Prometheus
(node exporter's textfile collector) so that a stale backup raises an alert.
"""

from __future__ import annotations

import logging
import os
import re
import shlex
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

from prometheus_client import CollectorRegistry, Gauge, write_to_textfile

_log = logging.getLogger(__name__)

_STAMP = "%Y%m%dT%H%M%SZ"
OFFSITE_TIMEOUT_S = 3600.0
OFFSITE_PLACEHOLDER = "{file}"


class BackupFileError(Exception):
    """A backup file could not be placed or shipped; the message says why."""


def versioned_path(directory: Path, prefix: str, suffix: str, now: datetime) -> Path:
    return directory / f"{prefix}-{now.astimezone(UTC).strftime(_STAMP)}{suffix}"


def place_versioned(partial: Path, directory: Path, prefix: str, suffix: str,
                    now: datetime) -> Path:
    """Link `partial` to the first free `prefix-STAMP[-N]suffix` name; return it."""
    base = versioned_path(directory, prefix, suffix, now)
    stem = base.name[: -len(suffix)] if suffix else base.name
    for n in range(100):
        out = base if n == 0 else directory / f"{stem}-{n}{suffix}"
        try:
            place_new(partial, out)
        except BackupFileError:
            continue
        return out
    raise BackupFileError(f"no free name for {base} (100 backups in one second?)")


def _time_in_name(path: Path, prefix: str) -> datetime | None:
    match = re.match(rf"{re.escape(prefix)}-(\d{{8}}T\d{{6}}Z)[.-]", path.name)
    if match is None:
        return None
    return datetime.strptime(match.group(1), _STAMP).replace(tzinfo=UTC)


def place_new(partial: Path, out: Path) -> None:
    """Give the complete file `partial` its final name `out`, which must not exist yet.

    A hard link fails atomically when `out` exists, where a rename would replace it.
    """
    try:
        os.link(partial, out)
    except FileExistsError as exc:
        raise BackupFileError(f"{out} exists: a backup never replaces another") from exc
    partial.unlink()


def prune(directory: Path, prefix: str, retention_days: int, now: datetime) -> list[Path]:
    """Delete `prefix-*` backups older than the retention; never the newest one."""
    dated = sorted((t, p) for p in directory.glob(f"{prefix}-*")
                   if (t := _time_in_name(p, prefix)) is not None)
    cutoff = now - timedelta(days=retention_days)
    removed = [p for t, p in dated[:-1] if t < cutoff]
    for path in removed:
        path.unlink()
        _log.info("backup %s is older than %d days: deleted", path.name, retention_days)
    return removed


def ship_offsite(command: str, path: Path) -> None:
    """Run the operator's offsite command for `path` (no shell).

    `{file}` in the command is replaced by the path; without it the path is appended,
    e.g. `rclone copy {file} offsite:satrank/` or `/usr/local/bin/ship-backup`.
    """
    argv = shlex.split(command)
    if OFFSITE_PLACEHOLDER in command:
        argv = [a.replace(OFFSITE_PLACEHOLDER, str(path)) for a in argv]
    else:
        argv.append(str(path))
    try:
        result = subprocess.run(argv, capture_output=True, text=True, check=False,
                                timeout=OFFSITE_TIMEOUT_S)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise BackupFileError(f"offsite command failed to run: {exc}") from exc
    if result.returncode != 0:
        raise BackupFileError(f"offsite command exited {result.returncode}: "
                              f"{result.stderr.strip()[-500:]}")


def record_success(metrics_file: Path, kind: str, when: datetime, size_bytes: int) -> None:
    """Write the node-exporter textfile read by the SatRankBackupStale alert (atomic)."""
    registry = CollectorRegistry()
    stamp = Gauge("satrank_backup_last_success_timestamp_seconds",
                  "time of the last successful backup", ["kind"], registry=registry)
    size = Gauge("satrank_backup_last_size_bytes", "size of the last backup file",
                 ["kind"], registry=registry)
    stamp.labels(kind=kind).set(when.timestamp())
    size.labels(kind=kind).set(size_bytes)
    write_to_textfile(str(metrics_file), registry)
