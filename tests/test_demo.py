"""Integration: the real `satrank demo` in a subprocess, as a user runs it from a clone.

Small generated graph, instant HTLCs, ports chosen at run time. The first test follows
the printed walkthrough to the letter: health, the 402 challenge, the printed
`satrank pay` line against simnet's customer node, the printed paid request; then Ctrl-C
(SIGINT), after which no process the demo started (simnet, crawler, api, the embedded
Postgres) may be left. The others stop it with SIGTERM, by killing one of its children
and by stopping its Postgres (errors), with the same requirement.
"""

from __future__ import annotations

import asyncio
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from satrank.db.embedded import (
    embedded_postgres,
    is_embedded_running,
    pgdata_path,
    stop_embedded_postgres,
)
from tests.cli import satrank_env
from tests.ports import free_port

READY_TIMEOUT_S = 300.0
STOP_TIMEOUT_S = 120.0
_PAY_LINE = re.compile(r"^\s*PREIMAGE=\$\((.+)\)\s*$", re.M)
_PAID_LINE = re.compile(r'Authorization: L402 ([A-Za-z0-9+/=_-]+):\$PREIMAGE" (\S+)')
_PROFILE_LINE = re.compile(r"^\s*curl -i (\S+/api/profile/\S+)\s*$", re.M)
_INTENT_LINES = re.compile(r"curl -s -X POST (\S+/api/intent) .*\n.*\n\s*-d '(\{.*\})'$",
                           re.M)


@dataclass
class RunningDemo:
    process: subprocess.Popen[bytes]
    out_path: Path
    data_dir: Path
    cwd: Path
    base_url: str

    def output(self) -> str:
        return self.out_path.read_text(errors="replace")

    def descendants(self) -> dict[int, str]:
        """pid -> command line of every live process below the demo, plus the postmaster."""
        children: dict[int, list[int]] = {}
        for pid in _pids():
            stat = _read(f"/proc/{pid}/stat")
            if stat:
                ppid = int(stat.rsplit(")", 1)[1].split()[1])
                children.setdefault(ppid, []).append(pid)
        found: dict[int, str] = {}
        todo = [self.process.pid]
        while todo:
            for child in children.get(todo.pop(), []):
                found[child] = _cmdline(child)
                todo.append(child)
        postmaster = _read(str(pgdata_path(self.data_dir) / "postmaster.pid"))
        if postmaster:
            pid = int(postmaster.split()[0])
            found[pid] = _cmdline(pid)
        return found

    def stop(self, signum: int) -> int:
        self.process.send_signal(signum)
        return self.process.wait(STOP_TIMEOUT_S)


def _pids() -> list[int]:
    return [int(p) for p in os.listdir("/proc") if p.isdigit()]


def _read(path: str) -> str:
    try:
        with open(path, "rb") as f:
            return f.read().decode(errors="replace")
    except OSError:
        return ""


def _cmdline(pid: int) -> str:
    return _read(f"/proc/{pid}/cmdline").replace("\0", " ").strip()


def _is_running(pid: int) -> bool:
    stat = _read(f"/proc/{pid}/stat")
    return bool(stat) and stat.rsplit(")", 1)[1].split()[0] != "Z"  # zombies are dead


def _processes_using(data_dir: Path) -> list[str]:
    """Any live process whose environment names this data directory (all the demo's do)."""
    marker = f"SATRANK_DATA_DIR={data_dir}".encode()
    found = []
    for pid in _pids():
        try:
            with open(f"/proc/{pid}/environ", "rb") as f:
                environ = f.read().split(b"\0")
        except OSError:
            continue
        if marker in environ and _is_running(pid):
            found.append(f"{pid} {_cmdline(pid)}")
    return found


@pytest.fixture
def demo_dir() -> Iterator[Path]:
    # Not pytest's tmp_path: pgserver, as root, opens permissions on every parent of its
    # data dir, and another pytest session closes them again on its shared root.
    path = Path(tempfile.mkdtemp(prefix="satrank-demo-"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def _ignore_sigint() -> None:
    # As a script's background job starts: SIGINT ignored, inherited through exec.
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def launch_demo(work_dir: Path, data_dir: Path, *, sigint_ignored: bool = False,
                out_name: str = "demo.out") -> RunningDemo:
    """Start `satrank demo` on `data_dir` in its own session (so a test can signal its
    process group as a terminal's Ctrl-C does); do not wait for it."""
    port = free_port()
    env = satrank_env(data_dir, CRAWLER_METRICS_PORT=str(free_port()))
    out_path = work_dir / out_name
    with open(out_path, "wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "satrank", "demo", "--port", str(port), "--generate", "200",
             "--time-scale", "0", "--probes", "10"],
            cwd=work_dir, env=env, stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True, preexec_fn=_ignore_sigint if sigint_ignored else None)
    return RunningDemo(process, out_path, data_dir, work_dir, f"http://127.0.0.1:{port}")


def wait_until_running(running: RunningDemo) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_S
    while "SatRank demo is running" not in running.output():
        assert running.process.poll() is None, running.output()
        assert time.monotonic() < deadline, running.output()
        time.sleep(0.2)


@contextmanager
def demo_process(work_dir: Path, data_dir: Path, **options: Any) -> Iterator[RunningDemo]:
    """A launched demo, killed (whole group) if a test leaves it running."""
    running = launch_demo(work_dir, data_dir, **options)
    try:
        yield running
    finally:
        if running.process.poll() is None:
            os.killpg(running.process.pid, signal.SIGKILL)
            running.process.wait()


@pytest.fixture
def demo(demo_dir: Path) -> Iterator[RunningDemo]:
    with demo_process(demo_dir, demo_dir / "data") as running:
        wait_until_running(running)
        yield running


def _assert_all_stopped(demo: RunningDemo, started: dict[int, str]) -> None:
    left = {pid: cmd for pid, cmd in started.items() if _is_running(pid)}
    assert left == {}, left
    assert not is_embedded_running(demo.data_dir)
    assert _processes_using(demo.data_dir) == []


def _started_parts(started: dict[int, str]) -> set[str]:
    parts = set()
    for cmd in started.values():
        for part in ("simnet", "crawl", "serve", "postgres"):
            if re.search(rf"(satrank |bin/){part}\b", cmd):
                parts.add(part)
    return parts


def test_demo_walkthrough_pays_over_l402_and_ctrl_c_stops_everything(
    demo: RunningDemo,
) -> None:
    text = demo.output()
    with httpx.Client(timeout=30) as client:
        health = client.get(f"{demo.base_url}/api/health")
        assert health.status_code == 200 and health.json()["status"] == "ok", health.text

        profile_match = _PROFILE_LINE.search(text)
        assert profile_match, text
        profile_url = profile_match.group(1)
        unpaid = client.get(profile_url)
        assert unpaid.status_code == 402
        assert unpaid.headers["www-authenticate"].startswith("L402 macaroon=")

        pay_match, paid_match = _PAY_LINE.search(text), _PAID_LINE.search(text)
        assert pay_match and paid_match, text
        paid = subprocess.run(shlex.split(pay_match.group(1)), cwd=demo.cwd,
                              capture_output=True, text=True, timeout=120, check=False)
        assert paid.returncode == 0, paid.stderr
        preimage = paid.stdout.strip()
        assert re.fullmatch(r"[0-9a-f]{64}", preimage)

        macaroon, url = paid_match.groups()
        assert url == profile_url
        answer = client.get(url, headers={"Authorization": f"L402 {macaroon}:{preimage}"})
        assert answer.status_code == 200, answer.text
        assert answer.json()["data"]["agent"]["publicKey"] == url.rsplit("/", 1)[1]

        intent_match = _INTENT_LINES.search(text)
        assert intent_match, text
        intent = client.post(intent_match.group(1), content=intent_match.group(2),
                             headers={"Authorization": f"L402 {macaroon}:{preimage}",
                                      "Content-Type": "application/json"})
        assert intent.status_code == 200, intent.text
        assert intent.json()["data"]["decision"] in {"proceed", "caution", "avoid"}

    started = demo.descendants()
    assert _started_parts(started) == {"simnet", "crawl", "serve", "postgres"}, started
    assert demo.stop(signal.SIGINT) == 0, demo.output()
    assert "nothing left running" in demo.output()
    _assert_all_stopped(demo, started)


def test_sigterm_stops_everything(demo: RunningDemo) -> None:
    started = demo.descendants()
    assert _started_parts(started) == {"simnet", "crawl", "serve", "postgres"}, started
    assert demo.stop(signal.SIGTERM) == 0, demo.output()
    _assert_all_stopped(demo, started)


def test_a_dead_child_stops_the_demo_and_everything_else(demo: RunningDemo) -> None:
    started = demo.descendants()
    api = next(pid for pid, cmd in started.items() if re.search(r"satrank serve\b", cmd))
    os.kill(api, signal.SIGKILL)
    assert demo.process.wait(STOP_TIMEOUT_S) == 1
    output = demo.output()
    assert "api stopped unexpectedly" in output and "api.log" in output, output
    _assert_all_stopped(demo, started)


def test_a_dead_database_stops_the_demo_with_a_message(demo: RunningDemo) -> None:
    """Postgres stopped under the running demo: the api would answer 503 forever and the
    crawler retry; the demo must say so and exit non-zero instead."""
    started = demo.descendants()
    assert stop_embedded_postgres(demo.data_dir)
    assert demo.process.wait(STOP_TIMEOUT_S) == 1, demo.output()
    output = demo.output()
    assert "the database (embedded" in output and "stopped answering" in output, output
    assert "Traceback" not in output
    _assert_all_stopped(demo, started)


def test_a_taken_port_is_refused_before_anything_starts(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = satrank_env(tmp_path / "data", CRAWLER_METRICS_PORT=str(free_port()))
        result = subprocess.run(
            [sys.executable, "-m", "satrank", "demo", "--port", str(port), "--generate", "50"],
            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 2
    assert f"api port {port} in use" in result.stderr
    assert not (tmp_path / "data" / "pg").exists()  # nothing was started


def test_a_second_start_on_the_same_data_directory_comes_up(demo_dir: Path) -> None:
    # The first start's logs (simnet's ready line with its ports above all) are still in
    # demo-logs/ when the second one starts.
    data_dir = demo_dir / "data"
    with demo_process(demo_dir, data_dir) as first:
        wait_until_running(first)
        assert first.stop(signal.SIGINT) == 0, first.output()
    with demo_process(demo_dir, data_dir, out_name="demo-again.out") as second:
        wait_until_running(second)
        with httpx.Client(timeout=30) as client:
            health = client.get(f"{second.base_url}/api/health")
            assert health.status_code == 200 and health.json()["status"] == "ok", health.text
            profile_match = _PROFILE_LINE.search(second.output())
            assert profile_match, second.output()
            assert client.get(profile_match.group(1)).status_code == 402
        started = second.descendants()
        assert second.stop(signal.SIGINT) == 0, second.output()
        _assert_all_stopped(second, started)
    assert (data_dir / "demo-logs" / "simnet.log.1").exists()


def test_sigint_stops_a_demo_started_with_sigint_ignored(demo_dir: Path) -> None:
    with demo_process(demo_dir, demo_dir / "data", sigint_ignored=True) as running:
        wait_until_running(running)
        started = running.descendants()
        assert _started_parts(started) == {"simnet", "crawl", "serve", "postgres"}, started
        assert running.stop(signal.SIGINT) == 0, running.output()
        assert "nothing left running" in running.output()
        _assert_all_stopped(running, started)


@pytest.mark.parametrize("stage", ["initdb", "pg_ctl"])
def test_ctrl_c_while_postgres_starts_stops_everything(demo_dir: Path, stage: str) -> None:
    # A terminal's Ctrl-C: SIGINT to the whole process group, Postgres' setup programs
    # included, while `stage` runs; the demo was started with SIGINT ignored.
    with demo_process(demo_dir, demo_dir / "data", sigint_ignored=True) as running:
        deadline = time.monotonic() + READY_TIMEOUT_S
        started: dict[int, str] = {}
        while not any(f"bin/{stage} " in cmd for cmd in started.values()):
            assert running.process.poll() is None, running.output()
            assert "starting simnet" not in running.output(), f"{stage} was never seen"
            assert time.monotonic() < deadline, running.output()
            time.sleep(0.02)
            started = running.descendants()
        os.killpg(running.process.pid, signal.SIGINT)
        assert running.process.wait(STOP_TIMEOUT_S) == 0, running.output()
        output = running.output()
        assert "nothing left running" in output and "starting simnet" not in output, output
        _assert_all_stopped(running, {**started, **running.descendants()})
    # initdb and pg_ctl ran to their end: the data directory serves the next start
    with embedded_postgres(running.data_dir) as dsn:
        assert asyncio.run(_select_one(dsn)) == 1
    assert not is_embedded_running(running.data_dir)


async def _select_one(dsn: str) -> int:
    connection = await asyncpg.connect(dsn)
    try:
        return int(await connection.fetchval("SELECT 1"))
    finally:
        await connection.close()
