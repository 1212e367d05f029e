"""Embedded Postgres 16 (PyPI `pgserver`) under the data directory, for demo and tests.

pgserver keeps one server per data directory and counts the processes using it: the last
one to let go stops it (`stop_when_done=True`), or leaves it running for later commands
such as `psql "$(satrank db-url)"` (`stop_when_done=False`). As root it runs Postgres as a
`pgserver` system user and opens read/traverse permissions on every parent directory.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType

PGDATA_SUBDIR = "pg"
HANDLES_FILE = ".handle_pids.json"  # pgserver's list of processes using the server

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
    _forget_dead_handles(pgdata_path(data_dir))
    server = pgserver.get_server(
        pgdata_path(data_dir), cleanup_mode="stop" if stop_when_done else None
    )
    _log.info("embedded postgres ready under %s", pgdata_path(data_dir))
    try:
        yield str(server.get_uri())
    finally:
        server.cleanup()


def _forget_dead_handles(pgdata: Path) -> None:
    """Drop pids of processes that died without releasing the server (kill -9, OOM).

    pgserver stops the server when the last registered process lets go; a dead pid left
    in its list would keep the server running forever.
    """
    handles = pgdata / HANDLES_FILE
    if not handles.exists():
        return
    from pgserver.postgres_server import PostgresServer

    with PostgresServer._lock:  # pgserver's own inter-process lock around this file
        try:
            pids = json.loads(handles.read_text() or "[]")
        except json.JSONDecodeError:
            pids = []
        alive = [pid for pid in pids if _is_alive(pid)]
        if alive != pids:
            handles.write_text(json.dumps(alive))


def _is_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def is_embedded_running(data_dir: Path) -> bool:
    _import_pgserver()
    from pgserver.utils import PostmasterInfo

    info = PostmasterInfo.read_from_pgdata(pgdata_path(data_dir))
    return info is not None and bool(info.is_running())


def stop_embedded_postgres(data_dir: Path) -> bool:
    """Stop the embedded server under `data_dir` if it runs; return whether it was running.

    For operators after `satrank db-url` left it running; processes still connected lose
    their connections, as with any `pg_ctl stop`.
    """
    if not is_embedded_running(data_dir):
        return False
    from pgserver._commands import POSTGRES_BIN_PATH  # pgserver has no public stop

    pgdata = pgdata_path(data_dir)
    subprocess.run(
        [str(POSTGRES_BIN_PATH / "pg_ctl"), "-D", str(pgdata), "-w", "stop"],
        user="pgserver" if os.geteuid() == 0 else None,  # pgserver's user when run as root
        check=True, capture_output=True, timeout=60,
    )
    (pgdata / HANDLES_FILE).unlink(missing_ok=True)
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
