"""Run the real `satrank simnet` in a subprocess for tests, benchmarks and demos.

`start_simnet(tmp_dir, ...)` yields a `SimnetHandle` once the ready line arrived and stops
the process (SIGTERM, then SIGKILL) on exit. `simnet` (generated graph) and
`simnet_mainnet` (the shared snapshot) are session fixtures re-exported by conftest.py.
"""

from __future__ import annotations

import json
import select
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.cli import satrank_env
from tests.data import MAINNET

READY_TIMEOUT_S = 180.0  # the mainnet snapshot takes a few seconds to load on a busy box
STOP_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class SimnetHandle:
    oracle_host: str
    customer_host: str
    oracle_dir: Path
    customer_dir: Path
    oracle_pubkey: str
    customer_pubkey: str
    truth_host: str = ""  # the truth side channel (HTTP, not lnd's API)
    vantages: tuple[tuple[str, str, Path, str], ...] = ()  # (name, host, dir, pubkey)

    def oracle_lnd_env(self, *, host: str | None = None) -> dict[str, str]:
        """SatRank's LND_* variables for the oracle node, every macaroon role;
        `host` overrides where clients dial (a closed port, say)."""
        return {
            "LND_GRPC_HOST": host or self.oracle_host,
            "LND_TLS_CERT_PATH": str(self.oracle_dir / "tls.cert"),
            "LND_INVOICE_MACAROON_PATH": str(self.oracle_dir / "invoice.macaroon"),
            "LND_READONLY_MACAROON_PATH": str(self.oracle_dir / "readonly.macaroon"),
            "LND_PAY_MACAROON_PATH": str(self.oracle_dir / "pay.macaroon"),
        }


def _read_ready_line(proc: subprocess.Popen[str]) -> dict[str, object]:
    assert proc.stdout is not None
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            err = proc.stderr.read() if proc.stderr else ""
            raise RuntimeError(f"satrank simnet exited with {proc.returncode}: {err[-2000:]}")
        ready, _, _ = select.select([proc.stdout], [], [], 0.5)
        if ready:
            line = proc.stdout.readline()
            if line.strip().startswith("{"):
                parsed: dict[str, object] = json.loads(line)
                return parsed
    raise TimeoutError("satrank simnet did not print its ready line")


def _vantages(ready: dict[str, object]) -> list[dict[str, object]]:
    listed = ready.get("vantages")
    assert isinstance(listed, list)
    return listed


@contextmanager
def start_simnet(tmp_dir: Path, *, graph: Path | None = None, generate: int | None = 300,
                 seed: int = 7, time_scale: float = 0, vantage: int = 1,
                 extra: tuple[str, ...] = ()) -> Iterator[SimnetHandle]:
    source = ["--graph", str(graph)] if graph is not None else ["--generate", str(generate)]
    env = satrank_env(tmp_dir / "satrank-data")
    proc = subprocess.Popen(
        [sys.executable, "-m", "satrank", "simnet", "--listen", "127.0.0.1:0",
         "--customer-listen", "127.0.0.1:0", "--data-dir", str(tmp_dir), *source,
         "--seed", str(seed), "--time-scale", str(time_scale), "--vantage", str(vantage),
         *extra],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        ready = _read_ready_line(proc)
        data_dir = Path(str(ready["data_dir"]))
        yield SimnetHandle(
            oracle_host=str(ready["oracle"]), customer_host=str(ready["customer"]),
            oracle_dir=data_dir / "oracle", customer_dir=data_dir / "customer",
            oracle_pubkey=str(ready["oracle_pubkey"]),
            customer_pubkey=str(ready["customer_pubkey"]), truth_host=str(ready["truth"]),
            vantages=tuple((str(v["name"]), str(v["host"]), Path(str(v["dir"])),
                            str(v["pubkey"])) for v in _vantages(ready)))
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()


@pytest.fixture(scope="session")
def simnet() -> Iterator[SimnetHandle]:
    """A simnet over a generated 300-node graph, shared by the session."""
    with tempfile.TemporaryDirectory(prefix="simnet-") as tmp, start_simnet(Path(tmp)) as h:
        yield h


@pytest.fixture(scope="session")
def simnet_mainnet() -> Iterator[SimnetHandle]:
    """A simnet over the shared mainnet snapshot (skips where the snapshot is absent)."""
    if not MAINNET.exists():
        pytest.skip(f"mainnet snapshot not found at {MAINNET}")
    with tempfile.TemporaryDirectory(prefix="simnet-main-") as tmp, start_simnet(
            Path(tmp), graph=MAINNET) as h:
        yield h
