"""Integration: the embedded Postgres lifecycle (start, reuse, stop) through the CLI."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest

from satrank.db.embedded import embedded_postgres, is_embedded_running, pgdata_path
from tests.cli import run_satrank, satrank_env, start_satrank
from tests.ports import free_port


@pytest.fixture
def data_dir() -> Iterator[Path]:
    # Not pytest's tmp_path: pgserver opens permissions on every parent of its data dir.
    path = Path(tempfile.mkdtemp(prefix="satrank-embedded-"))
    yield path
    run_satrank("db-stop", env=satrank_env(path))
    shutil.rmtree(path, ignore_errors=True)


def _is_running(data_dir: Path) -> bool:
    return is_embedded_running(data_dir)


async def test_start_reuse_and_stop(data_dir: Path) -> None:
    env = satrank_env(data_dir)
    migrate = run_satrank("migrate", env=env)
    assert migrate.returncode == 0, migrate.stderr
    assert migrate.stdout.startswith("applied migrations")
    # migrate started the server and, as its last user, stopped it again.
    assert not _is_running(data_dir)

    again = run_satrank("migrate", env=env)
    assert again.stdout.startswith("nothing to apply"), again.stdout  # same data reused

    url = run_satrank("db-url", env=env)
    assert url.returncode == 0, url.stderr
    dsn = url.stdout.strip()
    assert dsn.startswith("postgresql://")
    assert _is_running(data_dir)  # left running for psql and scripts
    conn = await asyncpg.connect(dsn)
    try:
        assert await conn.fetchval("SELECT max(version) FROM schema_version") >= 1
    finally:
        await conn.close()
    assert run_satrank("db-url", env=env).stdout.strip() == dsn

    stop = run_satrank("db-stop", env=env)
    assert stop.stdout.strip() == "embedded postgres stopped"
    assert not _is_running(data_dir)
    assert run_satrank("db-stop", env=env).stdout.strip() == "embedded postgres was not running"


def test_context_manager_stops_when_done(data_dir: Path) -> None:
    with embedded_postgres(data_dir) as dsn:
        assert dsn.startswith("postgresql://")
        assert _is_running(data_dir)
    assert not _is_running(data_dir)


def _serve_until_healthy(env: dict[str, str]) -> tuple[int, subprocess.Popen[str]]:
    import httpx

    port = free_port()
    env = {**env, "PORT": str(port)}
    proc = start_satrank("serve", env=env)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/health", timeout=2).status_code == 200:
                return port, proc
        except httpx.TransportError:
            time.sleep(0.2)
    proc.kill()
    raise AssertionError(f"serve did not become healthy: {proc.communicate()}")


def test_sigterm_on_serve_stops_the_embedded_server(data_dir: Path) -> None:
    _, proc = _serve_until_healthy(satrank_env(data_dir))
    assert _is_running(data_dir)
    proc.send_signal(signal.SIGTERM)
    proc.communicate(timeout=60)
    assert proc.returncode == 0
    assert not _is_running(data_dir)


def test_a_killed_process_does_not_keep_the_server_alive(data_dir: Path) -> None:
    env = satrank_env(data_dir)
    _, proc = _serve_until_healthy(env)
    proc.kill()  # SIGKILL: no cleanup at all
    proc.communicate(timeout=60)
    handles = json.loads((pgdata_path(data_dir) / ".handle_pids.json").read_text())
    assert handles  # the dead pid is still registered
    assert run_satrank("migrate", env=env).returncode == 0
    assert not _is_running(data_dir)  # the dead pid did not count as a user


def _worker_pids(parent: int) -> list[int]:
    """The parent's children that multiprocessing spawned (uvicorn's workers)."""
    children = Path(f"/proc/{parent}/task/{parent}/children").read_text().split()
    return [int(pid) for pid in children
            if b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes()]


def test_serve_with_workers_keeps_the_server_until_they_stop(data_dir: Path) -> None:
    import httpx

    port, proc = _serve_until_healthy(satrank_env(data_dir, API_WORKERS="2"))
    workers = _worker_pids(proc.pid)
    assert len(workers) == 2
    answers = [httpx.get(f"http://127.0.0.1:{port}/api/agent/{'02' + '1' * 64}", timeout=5)
               for _ in range(10)]
    assert {a.status_code for a in answers} == {404}  # workers answer from the database
    assert _is_running(data_dir)
    proc.send_signal(signal.SIGTERM)
    proc.communicate(timeout=60)
    assert proc.returncode == 0
    assert not any(Path(f"/proc/{pid}").exists() for pid in workers)
    assert not _is_running(data_dir)
