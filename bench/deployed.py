"""SatRank as an operator runs it, for bench/api.py and bench/crawl.py.

`deployment()` starts an embedded Postgres (in a temp dir, reached by DATABASE_URL as a
production server would be) and `satrank simnet` on the mainnet snapshot, and yields a
`Deployment` whose `env` is what a production unit file sets: SATRANK_ENV=production,
DATABASE_URL, the L402 secrets, LND's address, certificate and one macaroon per role.
Every SatRank process the benches time is the real `satrank` command in its own process.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from satrank.db.admin import create_database  # noqa: E402
from satrank.db.embedded import embedded_postgres  # noqa: E402
from tests.data import MAINNET  # noqa: E402
from tests.simnet_fixture import SimnetHandle, start_simnet  # noqa: E402

OPERATOR_TOKEN = "bench-operator-token-0123456789"


@dataclass(frozen=True)
class Deployment:
    admin_dsn: str
    simnet: SimnetHandle
    tmp: Path

    def database(self, name: str, tree: Path = ROOT) -> tuple[str, dict[str, str]]:
        """A fresh database `name` and the production environment of the SatRank code
        in `tree` (a checkout: compare another commit in the same run) on it."""
        dsn = asyncio.run(create_database(self.admin_dsn, name))
        # as the image does (Dockerfile): the package's bytecode compiled once, ahead
        subprocess.run([sys.executable, "-m", "compileall", "-q", str(tree / "satrank")],
                       check=True)
        return dsn, production_env(dsn, self.simnet, self.tmp / "data", tree)


@dataclass(frozen=True)
class ProcessRun:
    seconds: float
    peak_rss_mb: float
    stdout: str
    cpu_s: float = 0.0  # its own user + system CPU time: steadier than wall on a busy box
    stderr: str = ""  # its log


def production_env(dsn: str, simnet: SimnetHandle, data_dir: Path,
                   tree: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SATRANK_", "LND_"))}
    env.update(simnet.oracle_lnd_env())
    env.update(SATRANK_ENV="production", SATRANK_DATA_DIR=str(data_dir), DATABASE_URL=dsn,
               L402_MACAROON_SECRET="b" * 40, OPERATOR_BYPASS_SECRET=OPERATOR_TOKEN,
               LOG_LEVEL="INFO", PYTHONPATH=str(tree.resolve()))
    return env


@contextmanager
def deployment() -> Iterator[Deployment]:
    """Postgres + simnet (mainnet snapshot, time scale 0)."""
    with tempfile.TemporaryDirectory(prefix="satrank-bench-") as tmp_name:
        tmp = Path(tmp_name)
        with embedded_postgres(tmp / "pg") as admin_dsn, \
                start_simnet(tmp / "simnet", graph=MAINNET, time_scale=0) as sim:
            yield Deployment(admin_dsn, sim, tmp)


def py_spy(out: Path | None) -> list[str]:
    """The argv prefix recording a process under py-spy into `out` (collapsed stacks)."""
    if out is None:
        return []
    return [str(Path(sys.executable).parent / "py-spy"), "record", "--rate", "250",
            "--format", "raw", "--nonblocking", "--output", str(out), "--"]


def run_satrank(env: dict[str, str], *args: str, profile: Path | None = None) -> ProcessRun:
    """Run `satrank ARGS` (the code of the tree on env's PYTHONPATH) to completion: wall
    time, its own peak RSS (wait4), stdout. With `profile`, under py-spy (then the RSS is
    py-spy's, not the command's)."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        started = time.perf_counter()
        proc = subprocess.Popen([*py_spy(profile), sys.executable, "-m", "satrank", *args],
                                env=env, cwd=env["PYTHONPATH"],
                                stdout=out, stderr=err, text=True)
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        if proc.returncode != 0:
            raise RuntimeError(f"satrank {' '.join(args)} exited {proc.returncode}:\n"
                               f"{err.read()[-3000:]}")
        return ProcessRun(seconds, usage.ru_maxrss / 1024, out.read(),
                          usage.ru_utime + usage.ru_stime, err.read())
