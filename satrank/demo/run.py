"""`satrank demo`: bring everything up on loopback, print what to try, stop it all on Ctrl-C.

Order: embedded Postgres (under the data directory, unless DATABASE_URL is set) and the
migrations; `satrank simnet` (the mainnet snapshot beside the clone when present, else a
generated graph); one `satrank crawl --once` cycle, so there are scores to ask about; then
`satrank crawl` (continuing) and `satrank serve`. Each runs as its own process (group) with
its output in DATA_DIR/demo-logs/ (fresh each start). SIGINT and SIGTERM stop the children
in reverse order, then the embedded Postgres; a child that dies stops the demo with its log
tail, and so does the database when it stops answering (the api would only answer 503 and
the crawler retry forever). SIGINT works even when the demo was started with it ignored (a
background job of a script inherits that), and a Ctrl-C while Postgres starts takes effect
once it is up.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import signal
import socket
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import TextIO

from satrank.config import Settings
from satrank.db.embedded import database_dsn
from satrank.db.health import database_answers
from satrank.db.migrations import migrate_dsn
from satrank.demo.children import Child, ChildFailed, Children
from satrank.demo.pace import demo_pace_env
from satrank.demo.snapshot import mainnet_snapshot_path
from satrank.demo.walkthrough import (
    DemoApiError,
    Walkthrough,
    format_walkthrough,
    prepare_walkthrough,
    wait_for_health,
)

DEFAULT_GENERATE = 2000
SIMNET_READY_TIMEOUT_S = 300.0  # the mainnet snapshot takes a while on a busy machine
LOG_DIR = "demo-logs"
DB_CHECK_INTERVAL_S = 2.0
DB_CHECK_TIMEOUT_S = 5.0
DB_FAILURES_TO_STOP = 2  # one slow answer on a loaded machine is not a dead database


class DatabaseStopped(RuntimeError):
    """The demo's database stopped answering while the demo ran."""


class DatabaseWatch:
    """Asks the database for an answer every DB_CHECK_INTERVAL_S; `check` raises
    DatabaseStopped after DB_FAILURES_TO_STOP failures in a row."""

    def __init__(self, dsn: str, where: str) -> None:
        self._dsn = dsn
        self._where = where
        self._failures = 0
        self._next = time.monotonic() + DB_CHECK_INTERVAL_S

    def check(self) -> None:
        if time.monotonic() < self._next:
            return
        if asyncio.run(database_answers(self._dsn, timeout_s=DB_CHECK_TIMEOUT_S)):
            self._failures = 0
        else:
            self._failures += 1
            if self._failures >= DB_FAILURES_TO_STOP:
                raise self._stopped()
        self._next = time.monotonic() + DB_CHECK_INTERVAL_S

    def blame(self, failure: ChildFailed) -> ChildFailed | DatabaseStopped:
        """What to report for a child that died: the database when it does not answer
        (the crawler stops on losing its leader lock session), else the child."""
        if asyncio.run(database_answers(self._dsn, timeout_s=DB_CHECK_TIMEOUT_S)):
            return failure
        return self._stopped()

    def _stopped(self) -> DatabaseStopped:
        return DatabaseStopped(f"the database ({self._where}) stopped answering; "
                               "stopping the demo")


@dataclass(frozen=True)
class DemoOptions:
    port: int
    graph: Path | None = None
    generate: int | None = None
    seed: int = 1
    time_scale: float = 1.0
    first_probes: int = 50


@dataclass(frozen=True)
class SimnetNodes:
    oracle_host: str
    customer_host: str
    oracle_dir: Path
    customer_dir: Path
    graph_label: str


def graph_arguments(options: DemoOptions) -> tuple[list[str], str]:
    """simnet's graph arguments and a label: --graph, --generate, else snapshot or 2000."""
    if options.graph is not None:
        return ["--graph", str(options.graph)], f"graph file {options.graph}"
    if options.generate is None:
        snapshot = mainnet_snapshot_path()
        if snapshot.exists():
            return ["--graph", str(snapshot)], f"mainnet snapshot {snapshot.name}"
    count = options.generate or DEFAULT_GENERATE
    return ["--generate", str(count)], f"generated graph of {count} nodes"


def satrank_argv(*args: str) -> list[str]:
    return [sys.executable, "-m", "satrank", *args]


def shown_satrank() -> str:
    """How the user should type `satrank` (the venv's script when there is one)."""
    script = Path(sys.executable).with_name("satrank")
    if not script.exists():
        return f"{sys.executable} -m satrank"
    return shown_path(script)


def shown_path(path: Path) -> str:
    relative = os.path.relpath(path)
    return relative if not relative.startswith("..") else str(path)


def _wait_for_ready_line(child: Child, timeout_s: float) -> dict[str, object]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if child.process.poll() is not None:
            raise child.failure("exited before it was ready")
        for line in child.log_path.read_text(errors="replace").splitlines():
            if line.startswith("{") and '"ready"' in line:
                ready: dict[str, object] = json.loads(line)
                return ready
        time.sleep(0.2)
    raise child.failure(f"was not ready within {timeout_s:.0f} s")


def start_simnet(children: Children, options: DemoOptions, env: Mapping[str, str],
                 simnet_dir: Path) -> SimnetNodes:
    graph_args, label = graph_arguments(options)
    child = children.start("simnet", satrank_argv(
        "simnet", "--listen", "127.0.0.1:0", "--customer-listen", "127.0.0.1:0",
        "--data-dir", str(simnet_dir), *graph_args, "--seed", str(options.seed),
        "--time-scale", str(options.time_scale)), env)
    ready = _wait_for_ready_line(child, SIMNET_READY_TIMEOUT_S)
    data_dir = Path(str(ready["data_dir"]))
    return SimnetNodes(str(ready["oracle"]), str(ready["customer"]), data_dir / "oracle",
                       data_dir / "customer", label)


def service_env(base: Mapping[str, str], *, dsn: str, port: int, simnet: SimnetNodes,
                operator_secret: str) -> dict[str, str]:
    """The environment of crawler and api: this database, simnet's oracle, one macaroon
    per role, loopback only, the demo's probe pace unless `base` sets it."""
    env = demo_pace_env(base)
    oracle = simnet.oracle_dir
    env.update(
        DATABASE_URL=dsn, HOST="127.0.0.1", PORT=str(port),
        LND_GRPC_HOST=simnet.oracle_host,
        LND_TLS_CERT_PATH=str(oracle / "tls.cert"),
        LND_INVOICE_MACAROON_PATH=str(oracle / "invoice.macaroon"),
        LND_READONLY_MACAROON_PATH=str(oracle / "readonly.macaroon"),
        LND_PAY_MACAROON_PATH=str(oracle / "pay.macaroon"),
        OPERATOR_BYPASS_SECRET=operator_secret,
    )
    return env


def busy_ports(ports: dict[str, int]) -> list[str]:
    """Which of the loopback ports the demo will listen on are taken already.

    Checked before anything starts: otherwise the health wait could reach another server
    that happens to answer on the api's port.
    """
    busy = []
    for name, port in ports.items():
        with socket.socket() as sock:
            # as uvicorn binds: a port left in TIME_WAIT by an earlier run is free
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                busy.append(f"{name} port {port}")
    return busy


def _say(out: TextIO, text: str) -> None:
    print(text, file=out, flush=True)


def _raise_interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


_STOP_SIGNALS = {signal.SIGINT, signal.SIGTERM}


@contextmanager
def _stop_signals_held() -> Iterator[None]:
    """SIGINT and SIGTERM wait until the block is over, in this process and in the programs
    it starts meanwhile (they inherit the mask). For the embedded Postgres: a terminal's
    Ctrl-C reaches the whole process group, and initdb or pg_ctl killed half-way leave a
    half-made data directory or a running postmaster nobody stops (Postgres sets its own
    mask, so the server is not affected). A held signal is delivered, and stops the demo,
    when the block ends."""
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, _STOP_SIGNALS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def run_demo(options: DemoOptions, settings: Settings, out: TextIO = sys.stdout) -> int:
    """Run until SIGINT/SIGTERM (exit 0) or until a part fails (exit 1)."""
    data_dir = settings.data_dir.resolve()
    busy = busy_ports({"api": options.port, "crawler metrics": settings.crawler.metrics_port})
    if busy:
        _say(sys.stderr, f"satrank demo: {', '.join(busy)} in use; choose others with "
                         "--port / PORT and CRAWLER_METRICS_PORT")
        return 2
    base_env = {k: v for k, v in os.environ.items() if k != "SATRANK_ENV"}
    base_env["SATRANK_DATA_DIR"] = str(data_dir)
    # Set, not inherited: a script's background job starts with SIGINT ignored, and Python
    # then installs no KeyboardInterrupt handler of its own.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _raise_interrupt)
    stack = ExitStack()
    try:
        url = settings.database.url.reveal() if settings.database.url else None
        where = "DATABASE_URL" if url else f"embedded, {data_dir}"
        _say(out, f"starting Postgres ({where})")
        with _stop_signals_held():
            dsn = stack.enter_context(database_dsn(url, data_dir))
        asyncio.run(migrate_dsn(dsn))
        children = stack.enter_context(Children(data_dir / LOG_DIR))
        _say(out, "starting simnet (LND-compatible network simulator)")
        simnet = start_simnet(children, options, base_env, data_dir / "simnet")
        env = service_env(base_env, dsn=dsn, port=options.port, simnet=simnet,
                          operator_secret=secrets.token_hex(24))
        _say(out, f"first crawler cycle: graph sync, scoring, {options.first_probes} probes, "
                  "rescoring")
        children.run("crawl-once", satrank_argv("crawl", "--once", "--probes",
                                                str(options.first_probes)), env)
        children.start("crawler", satrank_argv("crawl"), env)
        children.start("api", satrank_argv("serve"), env)
        base_url = f"http://127.0.0.1:{options.port}"
        wait_for_health(base_url, children.check_alive)
        walkthrough = prepare_walkthrough(base_url)
        _say(out, format_walkthrough(walkthrough, _summary(simnet, settings, data_dir),
                                     _pay_command(walkthrough, simnet)))
        database = DatabaseWatch(dsn, where)
        while True:
            try:
                children.check_alive()
            except ChildFailed as failure:
                raise database.blame(failure) from None
            database.check()
            time.sleep(0.5)
    except KeyboardInterrupt:
        _say(out, "stopping api, crawler, simnet and Postgres ...")
        return _stop(stack, out, 0)
    except (ChildFailed, DemoApiError, DatabaseStopped) as exc:
        _say(sys.stderr, f"satrank demo: {exc}")
        return _stop(stack, out, 1)
    except BaseException:
        _stop(stack, out, 1)
        raise


def _stop(stack: ExitStack, out: TextIO, code: int) -> int:
    # A second Ctrl-C must not cut the clean-up short and leave processes behind.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    stack.close()
    _say(out, "demo stopped; nothing left running")
    return code


def _pay_command(walkthrough: Walkthrough, simnet: SimnetNodes) -> str:
    return (f"{shown_satrank()} pay {walkthrough.invoice} --lnd-dir "
            f"{shown_path(simnet.customer_dir)} --lnd-host {simnet.customer_host}")


def _summary(simnet: SimnetNodes, settings: Settings, data_dir: Path) -> list[str]:
    logs = shown_path(data_dir / LOG_DIR)
    return [
        f"simnet     {simnet.graph_label}; oracle {simnet.oracle_host}, "
        f"customer {simnet.customer_host}",
        f"crawler    sync/score/probe loop, metrics "
        f"http://127.0.0.1:{settings.crawler.metrics_port}/metrics",
        f"logs       {logs}/ (api.log, crawler.log, simnet.log)",
    ]

