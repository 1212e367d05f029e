"""Embedded Postgres 16 (PyPI `pgserver`) under the data directory, for demo and tests.

pgserver keeps one server per data directory and counts the processes using it: the last
one to let go stops it (`stop_when_done=True`), or leaves it running for later commands
such as `psql "$(satrank db-url)"` (`stop_when_done=False`). As root it runs Postgres as a
`pgserver` system user and opens read/traverse permissions on every parent directory.
"""

from __future__ import annotations

import logging
import os
import subprocess
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType

PGDATA_SUBDIR = "pg"

_log = logging.getLogger(__name__)


def _import_pgserver() -> ModuleType:
    # Imported on use: at import time it looks up a runtime dir and warns when
    # XDG_RUNTIME_DIR is unset, which would add noise to every `satrank` command.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pgserver
    return pgserver


def pgdata_path(data_dir: Path) -> Path:
    return (data_dir / PGDATA_SUBDIR).resolve()


@contextmanager
def embedded_postgres(data_dir: Path, *, stop_when_done: bool = True) -> Iterator[str]:
    """Start (or join) the embedded server under `data_dir`; yield its DSN (Unix socket)."""
    pgserver = _import_pgserver()
    data_dir.mkdir(parents=True, exist_ok=True)
    server = pgserver.get_server(
        pgdata_path(data_dir), cleanup_mode="stop" if stop_when_done else None
    )
    _log.info("embedded postgres ready under %s", pgdata_path(data_dir))
    try:
        yield str(server.get_uri())
    finally:
        server.cleanup()


def stop_embedded_postgres(data_dir: Path) -> bool:
    """Stop the embedded server under `data_dir` if it runs; return whether it was running.

    For operators after `satrank db-url` left it running; processes still connected lose
    their connections, as with any `pg_ctl stop`.
    """
    _import_pgserver()
    from pgserver._commands import POSTGRES_BIN_PATH  # pgserver has no public stop
    from pgserver.utils import PostmasterInfo

    pgdata = pgdata_path(data_dir)
    info = PostmasterInfo.read_from_pgdata(pgdata)
    if info is None or not info.is_running():
        return False
    subprocess.run(
        [str(POSTGRES_BIN_PATH / "pg_ctl"), "-D", str(pgdata), "-w", "stop"],
        user="pgserver" if os.geteuid() == 0 else None,  # pgserver's user when run as root
        check=True, capture_output=True, timeout=60,
    )
    (pgdata / ".handle_pids.json").unlink(missing_ok=True)
    return True


@contextmanager
def database_dsn(url: str | None, data_dir: Path, *, stop_when_done: bool = True) -> Iterator[str]:
    """`url` when the operator gave DATABASE_URL, else the embedded server's DSN."""
    if url:
        yield url
        return
    with embedded_postgres(data_dir, stop_when_done=stop_when_done) as dsn:
        yield dsn


def running_embedded_dsn(data_dir: Path) -> str | None:
    """The DSN of the embedded server under `data_dir` if it runs now; never starts it."""
    _import_pgserver()
    from pgserver.utils import PostmasterInfo

    info = PostmasterInfo.read_from_pgdata(pgdata_path(data_dir))
    if info is None or not info.is_running():
        return None
    return str(info.get_uri())
