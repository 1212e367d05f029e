"""Soak: minutes of mixed paid and free load against `satrank serve` (2 workers) and
`satrank crawl` on simnet, through an api worker SIGKILL, a crawler SIGKILL, a relay outage
and a Postgres restart; then the books are checked.

    .venv/bin/python bench/soak.py [--load-s 300] [--free 6] [--paid 6]

Everything is real and local: embedded Postgres, `satrank simnet` (300 nodes), a Nostr
relay (tests/nostr_relay.py), the api and the crawler as processes with their own logs.
The crawler runs under a supervisor that acts as systemd's `Restart=on-failure` with
`RestartSec=5s`: restarted after a non-zero exit or a signal, left down after exit 0.

Timeline, as fractions of --load-s: 0.2 SIGKILL one api worker (uvicorn starts another);
0.33 SIGKILL the crawler; 0.43 relay down; 0.5 Postgres stopped (fast) for --pg-down-s,
then started; 0.67 relay back; 1.0 load stops. Then: the outbox rows that existed when the
relay came back must all be finished, the api is stopped with SIGTERM (leases go back)
and the crawler too.

Checks (exit 1 if one fails): credits used in the ledger >= paid answers received (nothing
unpaid was served) and exceed them by at most the SIGKILL bound (DEPLOY.md "Credit
leases": the killed worker's leases, at most L402_LEASE_MAX_CREDITS per token, plus the
paid requests in flight when it died); no 5xx but 503; every Nostr event pending when the
relay came back delivered (or superseded by a delivered newer version).
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import hashlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SECRET = "s" * 40
LEASE_MAX = 20
PAID_CREDITS = 150  # per self-minted token: tokens run out and are replaced during the soak
CRAWLER_RESTART_S = 5.0  # RestartSec of infra/systemd/satrank-crawler.service


@dataclass
class Books:
    """What the clients saw, per phase."""

    phase: str = "steady"
    statuses: dict[str, collections.Counter[str]] = field(
        default_factory=lambda: collections.defaultdict(collections.Counter))
    server_errors: list[tuple[str, str, int, str]] = field(default_factory=list)
    paid_ok: int = 0
    transport_errors: collections.Counter[str] = field(default_factory=collections.Counter)
    in_flight_paid: int = 0
    in_flight_paid_at_kill: int = 0
    events: list[tuple[float, str]] = field(default_factory=list)

    def record(self, kind: str, path: str, response: httpx.Response) -> None:
        code = ""
        if response.status_code >= 400:
            try:
                code = response.json()["error"]["code"]
            except (ValueError, KeyError, TypeError):
                code = "?"
        self.statuses[self.phase][f"{kind} {response.status_code} {code}".strip()] += 1
        if response.status_code >= 500 and response.status_code != 503:
            self.server_errors.append((self.phase, _template(path), response.status_code,
                                       code))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _token(credits: int, deployment: str) -> tuple[str, bytes]:
    """A token exactly as paying its invoice yields it (minted with the server's secret and
    bound to its deployment, as learnt from a real purchase)."""
    from satrank.l402.caveats import minted_caveats
    from satrank.l402.identifier import Identifier
    from satrank.l402.mint import encode_macaroon, mint_macaroon

    preimage = secrets.token_bytes(32)
    payment_hash = hashlib.sha256(preimage).digest()
    ident = Identifier.new(payment_hash, secrets.token_bytes(32))
    caveats = minted_caveats(valid_until_unix=int(time.time()) + 86_400, credits=credits,
                             deployment=deployment)
    mac = encode_macaroon(mint_macaroon(ident, [c.encode() for c in caveats], SECRET.encode()))
    return f"L402 {mac}:{preimage.hex()}", payment_hash


def _api_workers(pid: int) -> list[int]:
    """uvicorn's worker processes under its supervisor (not multiprocessing's helpers)."""
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return []
    workers = []
    for child in children:
        try:
            cmdline = Path(f"/proc/{child}/cmdline").read_bytes()
        except OSError:
            continue
        if b"spawn_main" in cmdline and b"resource_tracker" not in cmdline:
            workers.append(int(child))
    return workers


def _template(path: str) -> str:
    parts = path.split("?")[0].split("/")
    return "/".join("{id}" if len(p) in (64, 66) else p for p in parts)


def _spawn(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with open(log, "ab") as out:
        return subprocess.Popen([sys.executable, "-m", "satrank", *args], env=env,
                                stdout=out, stderr=subprocess.STDOUT, start_new_session=True)


class Supervisor:
    """systemd Restart=on-failure for the crawler: restart after a failure, not after 0."""

    def __init__(self, args: list[str], env: dict[str, str], log: Path, books: Books,
                 t0: float) -> None:
        self.args, self.env, self.log, self.books, self.t0 = args, env, log, books, t0
        self.proc = _spawn(args, env, log)
        self.restarts = 0
        self.clean_exits = 0
        self.stopping = False

    async def run(self) -> None:
        while not self.stopping:
            code = self.proc.poll()
            if code is not None and not self.stopping:
                if code == 0:
                    self.clean_exits += 1
                    self.books.events.append((time.monotonic() - self.t0,
                                              "crawler exited 0: systemd would leave it down"))
                    return
                self.books.events.append((time.monotonic() - self.t0,
                                          f"crawler exited {code}; restart in 5 s"))
                await asyncio.sleep(CRAWLER_RESTART_S)
                if self.stopping:
                    return
                self.proc = _spawn(self.args, self.env, self.log)
                self.restarts += 1
            await asyncio.sleep(0.2)

    def stop(self) -> int | None:
        self.stopping = True
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            return self.proc.wait(timeout=60)
        return self.proc.returncode


async def _free_worker(client: httpx.AsyncClient, books: Books, pubkeys: list[str],
                       stop: asyncio.Event, rng: Any) -> None:
    while not stop.is_set():
        pk = rng.choice(pubkeys)
        path = rng.choice([f"/api/agent/{pk}", f"/api/agent/{pk}/verdict", "/api/agents/top",
                           "/api/stats", "/api/health", "/api/agents/top?sort_by=p_success"])
        try:
            books.record("free", path, await client.get(path))
        except httpx.TransportError as exc:
            books.transport_errors[f"{books.phase} free {type(exc).__name__}"] += 1
        await asyncio.sleep(0.02)


async def _paid_worker(client: httpx.AsyncClient, books: Books, pubkeys: list[str],
                       stop: asyncio.Event, rng: Any, tokens: list[bytes],
                       deployment: str) -> None:
    auth, payment_hash = _token(PAID_CREDITS, deployment)
    tokens.append(payment_hash)
    while not stop.is_set():
        pk = rng.choice(pubkeys)
        books.in_flight_paid += 1
        try:
            if rng.random() < 0.7:
                path = f"/api/profile/{pk}"
                response = await client.get(path, headers={"Authorization": auth})
            else:
                path = "/api/verdicts"
                response = await client.post(path, json={"ids": [pk]},
                                             headers={"Authorization": auth})
            books.record("paid", path, response)
            if response.status_code == 200:
                books.paid_ok += 1
            elif response.status_code == 402:  # this token is spent: buy the next one
                auth, payment_hash = _token(PAID_CREDITS, deployment)
                tokens.append(payment_hash)
        except httpx.TransportError as exc:
            books.transport_errors[f"{books.phase} paid {type(exc).__name__}"] += 1
        finally:
            books.in_flight_paid -= 1
        await asyncio.sleep(0.02)


def _deployment_of(macaroon_text: str) -> str:
    """The `satrank_node` caveat of a token the server minted: which deployment it is."""
    from pymacaroons.serializers import BinarySerializer

    from satrank.l402.caveats import COND_NODE
    from satrank.l402.mint import decode_macaroon

    macaroon = BinarySerializer().deserialize_raw(decode_macaroon(macaroon_text))
    for caveat in macaroon.caveats:
        condition, _, value = str(caveat.caveat_id_bytes.decode()).partition("=")
        if condition.strip() == COND_NODE:
            return value.strip()
    raise SystemExit("the server minted a token without a satrank_node caveat")


async def _buy_with_simnet(base: str, pk: str, simnet: Any, books: Books) -> str:
    """One real purchase: 402 -> pay the invoice from simnet's customer node -> use it.
    Returns the deployment the server binds its tokens to."""
    from tests.l402_simnet import pay_through_customer

    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        challenge = await client.get(f"/api/profile/{pk}")
        assert challenge.status_code == 402, challenge.text
        header = challenge.headers["www-authenticate"].split(", L")[0]
        macaroon = header.split('macaroon="')[1].split('"')[0]
        invoice = header.split('invoice="')[1].split('"')[0]
        preimage = await asyncio.to_thread(pay_through_customer, simnet, invoice)
        for _ in range(5):
            response = await client.get(f"/api/profile/{pk}",
                                        headers={"Authorization": f"L402 {macaroon}:{preimage}"})
            books.record("paid", "/api/profile (simnet purchase)", response)
            if response.status_code == 200:
                books.paid_ok += 1
    return _deployment_of(macaroon)


async def _sql(dsn: str, query: str, *args: object) -> Any:
    import asyncpg

    conn = await asyncpg.connect(dsn, timeout=10)
    try:
        return await conn.fetchval(query, *args)
    finally:
        await conn.close()


def _pg_ctl(pgdata: Path, *args: str) -> None:
    from pgserver._commands import pg_ctl  # the embedded server's own pg_ctl, as its user

    user = "pgserver" if os.geteuid() == 0 else None
    pg_ctl(["-w", *args], pgdata=pgdata, user=user, timeout=60)


async def _wait_for(check: Any, timeout_s: float, what: str) -> float:
    started = time.monotonic()
    while True:
        try:
            if await check():
                return time.monotonic() - started
        except Exception:  # the thing we wait for may be down yet
            pass
        if time.monotonic() - started > timeout_s:
            raise SystemExit(f"timed out waiting for {what}")
        await asyncio.sleep(1)


async def soak(args: argparse.Namespace, tmp: Path) -> int:
    from satrank.db.embedded import database_dsn, pgdata_path
    from satrank.db.migrations import migrate_dsn
    from satrank.nostr.keys import NostrKey
    from tests.cli import satrank_env
    from tests.nostr_relay import NostrRelay
    from tests.simnet_api import describe_simnet_graph
    from tests.simnet_fixture import start_simnet

    books = Books()
    with database_dsn(None, tmp / "data") as dsn, \
            start_simnet(tmp / "simnet", time_scale=args.time_scale) as simnet:
        await migrate_dsn(dsn)
        (tmp / "relay").mkdir()
        relay = NostrRelay(tmp / "relay")
        relay.start()
        port = _free_port()
        base = f"http://127.0.0.1:{port}"
        common = {**simnet.oracle_lnd_env(), "DATABASE_URL": dsn,
                  "L402_MACAROON_SECRET": SECRET, "LOG_LEVEL": "WARNING",
                  "L402_LEASE_MAX_CREDITS": str(LEASE_MAX),
                  "L402_TOKEN_RATE_PER_S": "100000", "L402_TOKEN_BURST": "100000",
                  "L402_CHALLENGE_RATE_PER_MIN": "100000", "L402_CHALLENGE_BURST": "100000",
                  "RATE_LIMIT_AGENT_BURST": "1000000000",
                  "RATE_LIMIT_SEARCH_BURST": "1000000000"}
        api_env = satrank_env(tmp / "api", HOST="127.0.0.1", PORT=str(port), API_WORKERS="2",
                              **common)
        crawl_env = satrank_env(
            tmp / "crawler", CRAWLER_METRICS_PORT="0", CRAWL_GRAPH_INTERVAL_S="30",
            CRAWL_PROBE_INTERVAL_S="5", CRAWL_PROBES_PER_ROUND="20",
            CRAWL_LND_BACKOFF_MAX_S="5", NOSTR_RELAYS=relay.url,
            NOSTR_PRIVATE_KEY=NostrKey.generate().nsec(), NOSTR_PUBLISH_INTERVAL_S="0",
            NOSTR_POLL_INTERVAL_S="1", NOSTR_RETRY_BASE_S="1", NOSTR_RETRY_MAX_S="5",
            **common)
        api = _spawn(["serve"], api_env, tmp / "api.log")
        t0 = time.monotonic()
        crawler = Supervisor(["crawl"], crawl_env, tmp / "crawler.log", books, t0)
        supervise = asyncio.create_task(crawler.run())
        graph = await describe_simnet_graph(simnet)
        pubkeys = [n.pubkey for n in graph.nodes]
        try:
            warm = await _wait_for(
                lambda: _sql(dsn, "SELECT count(*) > 0 FROM scores"), 300, "first scores")
            await _wait_for(lambda: _health_ok(base), 120, "the api")
            print(f"first scores after {warm:.0f} s; {len(pubkeys)} nodes on simnet")
            deployment = await _buy_with_simnet(base, pubkeys[0], simnet, books)
            stop = asyncio.Event()
            tokens: list[bytes] = []
            rng = __import__("random").Random(7)
            limits = httpx.Limits(max_connections=args.free + args.paid)
            async with httpx.AsyncClient(base_url=base, timeout=30, limits=limits) as client:
                workers = [asyncio.create_task(_free_worker(client, books, pubkeys, stop, rng))
                           for _ in range(args.free)]
                workers += [asyncio.create_task(
                    _paid_worker(client, books, pubkeys, stop, rng, tokens, deployment))
                    for _ in range(args.paid)]
                killed_workers, relay_up_max_id, pending_at_relay_up = await _timeline(
                    args, books, api, crawler, relay, pgdata_path(tmp / "data"), dsn)
                stop.set()
                await asyncio.gather(*workers)
            drained = await _wait_for(
                lambda: _sql(dsn, "SELECT count(*) = 0 FROM nostr_outbox "
                                  "WHERE id <= $1 AND done_at IS NULL", relay_up_max_id),
                args.drain_timeout_s, "the outbox rows pending when the relay came back")
            undelivered = await _sql(
                dsn, """SELECT count(*) FROM nostr_outbox o WHERE o.id <= $1
                        AND o.superseded_by IS NULL AND NOT EXISTS (
                          SELECT 1 FROM nostr_relay_status r WHERE r.outbox_id = o.id
                          AND r.status = 'ok')""", relay_up_max_id)
        finally:
            crawler_exit = crawler.stop()
            supervise.cancel()
            api.send_signal(signal.SIGTERM)
            api_exit = api.wait(timeout=60)
            relay.stop()
        used = await _sql(dsn, "SELECT COALESCE(sum(credits_used), 0) FROM l402_tokens")
        outbox_rows = await _sql(dsn, "SELECT count(*) FROM nostr_outbox")
        scored = await _sql(dsn, "SELECT count(*) FROM scores")
    bound = killed_workers * (LEASE_MAX * (args.paid + 1)) + books.in_flight_paid_at_kill
    lost = int(used) - books.paid_ok
    report = {
        "load_s": args.load_s, "free_workers": args.free, "paid_workers": args.paid,
        "events": [f"{t:6.1f} s {what}" for t, what in books.events],
        "statuses": {phase: dict(c) for phase, c in books.statuses.items()},
        "transport_errors": dict(books.transport_errors),
        "paid_answers": books.paid_ok, "credits_used": int(used), "lost_to_sigkill": lost,
        "sigkill_bound": bound, "tokens": len(tokens) + 1,
        "server_errors_not_503": collections.Counter(
            f"{p} {path} {s} {c}" for p, path, s, c in books.server_errors),
        "nostr_pending_at_relay_up": pending_at_relay_up,
        "nostr_drained_after_s": round(drained, 1),
        "nostr_undelivered": int(undelivered),
        "outbox_rows_at_end": int(outbox_rows), "scored_nodes": int(scored),
        "crawler_restarts": crawler.restarts, "crawler_clean_exits": crawler.clean_exits,
        "crawler_exit": crawler_exit, "api_exit": api_exit,
    }
    print(json.dumps(report, indent=1, default=str))
    failures = []
    if not 0 <= lost <= bound:
        failures.append(f"ledger: {used} credits used for {books.paid_ok} paid answers "
                        f"(bound on SIGKILL losses {bound})")
    if books.server_errors:
        failures.append(f"{len(books.server_errors)} 5xx answers other than 503")
    if undelivered:
        failures.append(f"{undelivered} Nostr events never delivered")
    if crawler.clean_exits:
        failures.append("the crawler exited 0 and would have stayed down")
    for failure in failures:
        print("FAILED:", failure)
    return 1 if failures else 0


async def _health_ok(base: str) -> bool:
    async with httpx.AsyncClient(timeout=5) as client:
        return (await client.get(base + "/api/stats")).status_code == 200


async def _timeline(args: argparse.Namespace, books: Books, api: subprocess.Popen[bytes],
                    crawler: Supervisor, relay: Any, pgdata: Path, dsn: str
                    ) -> tuple[int, int, int]:
    start = time.monotonic()
    events = books.events
    t0 = crawler.t0

    async def at(fraction: float) -> None:
        await asyncio.sleep(max(0.0, start + fraction * args.load_s - time.monotonic()))

    def note(what: str) -> None:
        what += f" [api workers {','.join(map(str, _api_workers(api.pid)))}]"
        events.append((time.monotonic() - t0, what))
        print(f"{time.monotonic() - start:6.1f} s  {what}", flush=True)

    note("load started")
    await at(0.2)
    books.phase = "api_worker_killed"
    workers = _api_workers(api.pid)
    books.in_flight_paid_at_kill = books.in_flight_paid
    os.kill(workers[0], signal.SIGKILL)
    note(f"SIGKILL api worker {workers[0]} (of {len(workers)})")
    await at(0.33)
    books.phase = "crawler_killed"
    crawler.proc.send_signal(signal.SIGKILL)
    note("SIGKILL crawler")
    await at(0.43)
    books.phase = "relay_down"
    relay.stop()
    note("relay stopped")
    await at(0.5)
    books.phase = "postgres_down"
    await asyncio.to_thread(_pg_ctl, pgdata, "-m", "fast", "stop")
    note("postgres stopped")
    await asyncio.sleep(args.pg_down_s)
    await asyncio.to_thread(_pg_ctl, pgdata, "-l", str(pgdata / "restart.log"), "restart")
    books.phase = "postgres_back"
    note("postgres started")
    await at(0.67)
    pending = int(await _sql(dsn, "SELECT count(*) FROM nostr_outbox WHERE done_at IS NULL"))
    max_id = int(await _sql(dsn, "SELECT COALESCE(max(id), 0) FROM nostr_outbox"))
    relay.start()
    books.phase = "relay_back"
    note(f"relay started ({pending} events pending)")
    await at(0.85)
    note("steady again")
    await at(1.0)
    note("load stopped")
    return 1, max_id, pending


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--load-s", type=float, default=300.0)
    parser.add_argument("--pg-down-s", type=float, default=20.0)
    parser.add_argument("--free", type=int, default=6, help="free-route client loops")
    parser.add_argument("--paid", type=int, default=6, help="paid-route client loops")
    parser.add_argument("--time-scale", type=float, default=0.0, help="simnet churn")
    parser.add_argument("--drain-timeout-s", type=float, default=300.0)
    parser.add_argument("--log-dir", type=Path, default=None,
                        help="keep the api, crawler and relay logs here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="satrank-soak-") as tmp:
        path = Path(tmp)
        os.chmod(path, 0o755)  # the embedded Postgres runs as its own user
        try:
            code = asyncio.run(soak(args, path))
        finally:
            if args.log_dir is not None:
                args.log_dir.mkdir(parents=True, exist_ok=True)
                for log in (path / "api.log", path / "crawler.log", path / "relay" / "relay.log"):
                    if log.exists():
                        shutil.copy(log, args.log_dir / log.name)
    raise SystemExit(code)


if __name__ == "__main__":
    main()
