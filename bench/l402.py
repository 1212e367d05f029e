"""Bench: paid requests (valid L402 token) vs the same route with operator bypass vs a
trivial free route, in ONE interleaved run series with wrk against uvicorn (uvloop +
httptools) and Postgres. Optionally the challenge minting rate (402/s) against simnet.

Two paid routes: a cheap one (`/bench/paid/{id}`, priced 1 credit here, answers a
constant: the paywall's own cost shows) and the real `/api/profile/{id}` of a seeded
node (tests/api_seed.py; served from the api's per-node profile cache, as in production).

    .venv/bin/python bench/l402.py [--duration 10] [--connections 50] [--rounds 2]
    .venv/bin/python bench/l402.py --simnet-oracle-dir DIR --simnet-host H:P   # + 402/s
    .venv/bin/python bench/l402.py --pin     # server alone on one core (less noise)

The server is a separate process (`bench/l402.py serve ...`) so wrk, uvicorn and Postgres
share the 2 cores the same way for every variant; compare the ratios, not absolute rps.
"bypass+pad" sends a header as long as a credential with the bypass: the part of the
paid cost that is only receiving the macaroon. Every paid and bypass variant sends its
headers from a wrk Lua script, so the load generator costs the same for all of them.
Paid tokens are minted with the server's secret and a known preimage (exactly what paying
an invoice yields); "64 tokens" rotates over 64 tokens the way many clients would,
"1 token" hammers one token (one ledger row, one lease). After the run the server is
stopped (SIGTERM gives back leased credits) and the ledger must count exactly the paid
requests it served.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SECRET = "b" * 40
OPERATOR = "bench-operator-secret"
ENV = {
    "L402_MACAROON_SECRET": SECRET,
    "OPERATOR_BYPASS_SECRET": OPERATOR,
    "L402_TOKEN_RATE_PER_S": "1000000",
    "L402_TOKEN_BURST": "1000000",
    "L402_CHALLENGE_RATE_PER_MIN": "1000000",
    "L402_CHALLENGE_BURST": "1000000",
    "L402_MINT_GLOBAL_PER_S": "1000000",
    "L402_MINT_GLOBAL_BURST": "1000000",
    "LOG_LEVEL": "WARNING",
}
CHEAP_TEMPLATE = "/bench/paid/{id}"
CHEAP = "/bench/paid/02" + "ab" * 32


def serve(dsn: str, port: int, lnd_dir: str | None, lnd_host: str | None,
          lease_max: int | None) -> None:
    import uvicorn
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    from satrank.api.app import create_app
    from satrank.config import Settings

    env = dict(ENV)
    if lease_max is not None:
        env["L402_LEASE_MAX_CREDITS"] = str(lease_max)
    if lnd_dir and lnd_host:
        env.update(LND_GRPC_HOST=lnd_host, LND_TLS_CERT_PATH=f"{lnd_dir}/tls.cert",
                   LND_INVOICE_MACAROON_PATH=f"{lnd_dir}/invoice.macaroon")
    settings = Settings.from_environ(env)

    async def cheap(request: Request) -> JSONResponse:
        return JSONResponse({"id": request.path_params["id"], "verdict": "SAFE"})

    async def ping(request: Request) -> JSONResponse:
        return JSONResponse({"ok": True})

    from satrank.api.prices import ROUTE_PRICES

    ROUTE_PRICES[("GET", CHEAP_TEMPLATE)] = 1  # bench process only: price the cheap route
    app = create_app(settings, dsn)
    app.router.routes.append(Route(CHEAP_TEMPLATE, cheap, methods=["GET"]))
    app.router.routes.append(Route("/bench/ping", ping, methods=["GET"]))
    uvicorn.run(app, host="127.0.0.1", port=port, loop="uvloop", http="httptools",
                access_log=False, log_level="warning")


def _token() -> str:
    from satrank.l402.caveats import minted_caveats
    from satrank.l402.identifier import Identifier
    from satrank.l402.mint import encode_macaroon, mint_macaroon

    preimage = secrets.token_bytes(32)
    ident = Identifier.new(hashlib.sha256(preimage).digest(), secrets.token_bytes(32))
    caveats = minted_caveats(valid_until_unix=int(time.time()) + 86_400, credits=2**31 - 1,
                             deployment="bcrt:02" + "5a" * 32)
    mac = encode_macaroon(mint_macaroon(ident, [c.encode() for c in caveats], SECRET.encode()))
    return f"L402 {mac}:{preimage.hex()}"


_TICK_S = 1 / os.sysconf("SC_CLK_TCK")


def _cpu_s(pids: list[int]) -> float:
    """User + system CPU seconds used so far by `pids` (gone processes count 0)."""
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) * _TICK_S
    return total


def _postgres_pids(data_dir: str) -> list[int]:
    """The postmaster whose command line names `data_dir`, and its children (backends)."""
    procs: dict[int, tuple[int, str, str]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        comm = stat[stat.index("(") + 1:stat.rindex(")")]
        procs[int(entry.name)] = (int(stat.rsplit(")", 1)[1].split()[1]), comm, cmdline)
    masters = [pid for pid, (_, comm, cmd) in procs.items()
               if comm == "postgres" and data_dir in cmd]
    return masters + [pid for pid, (ppid, _, _) in procs.items() if ppid in masters]


class Cpu:
    """CPU per request of the server process and of Postgres during one wrk run: unlike
    req/s, it barely moves when other jobs share the cores."""

    def __init__(self, server_pid: int, data_dir: str) -> None:
        self.server = [server_pid]
        self.postgres = _postgres_pids(data_dir)

    def snapshot(self) -> tuple[float, float]:
        return _cpu_s(self.server), _cpu_s(self.postgres)


CPU: Cpu | None = None


def _wrk(url: str, args: argparse.Namespace, *,
         script: str | None = None) -> tuple[float, float, float]:
    """(req/s, server CPU µs per request, Postgres CPU µs per request)."""
    cmd = ["wrk", f"-t{args.threads}", f"-c{args.connections}", f"-d{args.duration}s"]
    if script:
        cmd += ["-s", script]
    assert CPU is not None
    before = CPU.snapshot()
    done = subprocess.run([*cmd, url], capture_output=True, text=True)
    after = CPU.snapshot()
    if done.returncode != 0:
        raise SystemExit(f"wrk failed: {done.stdout}{done.stderr}")
    out = done.stdout
    if "Non-2xx" in out:
        raise SystemExit(f"non-2xx answers in a run that must all be 200:\n{out}")
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    n = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    return rps, (after[0] - before[0]) / n * 1e6, (after[1] - before[1]) / n * 1e6


def _headers_script(header_sets: list[dict[str, str]], path: Path) -> str:
    """A wrk Lua script sending the header sets in turn. Every paid and bypass variant
    goes through one, so wrk spends the same per request on all of them (on 2 cores its
    Lua work competes with the server)."""
    sets = ",\n".join(
        "{" + ", ".join(f'["{k}"] = "{v}"' for k, v in headers.items()) + "}"
        for headers in header_sets)
    path.write_text(
        f"local sets = {{\n{sets}\n}}\nlocal i = 0\n"
        "request = function()\n  i = i + 1\n"
        "  return wrk.format(nil, nil, sets[(i % #sets) + 1])\n"
        "end\n"
    )
    return str(path)


def _mint_rate(base: str, n: int) -> float:
    with httpx.Client(base_url=base, timeout=30) as client:
        start = time.perf_counter()
        for _ in range(n):
            assert client.get(CHEAP).status_code == 402
        return n / (time.perf_counter() - start)


def _metric(base: str, name: str) -> float:
    """The server's counter `name`, summed over its labels."""
    text = httpx.get(base + "/metrics", timeout=10).text
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
               if re.split(r"[{ ]", line, maxsplit=1)[0] == name)


def _mint_rate_concurrent(base: str, args: argparse.Namespace) -> float:
    """402/s with wrk (no credential: every answer must be a fresh challenge, checked
    against the server's own count of minted challenges)."""
    before = _metric(base, "satrank_l402_challenges_total")
    done = subprocess.run(["wrk", f"-t{args.threads}", f"-c{args.mint_connections}",
                           f"-d{args.duration}s", base + CHEAP], capture_output=True, text=True)
    minted = _metric(base, "satrank_l402_challenges_total") - before
    n = int(re.search(r"(\d+) requests in", done.stdout).group(1))  # type: ignore[union-attr]
    if abs(minted - n) > args.mint_connections:  # requests cut off when wrk stops
        raise SystemExit(f"{n} requests but {minted:.0f} challenges minted:\n{done.stdout}")
    return float(re.search(r"Requests/sec:\s+([\d.]+)",  # type: ignore[union-attr]
                           done.stdout).group(1))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", nargs="?", default="run", choices=["run", "serve"])
    parser.add_argument("--dsn")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--simnet-oracle-dir")
    parser.add_argument("--simnet-host")
    parser.add_argument("--mint-requests", type=int, default=300)
    parser.add_argument("--mint-connections", type=int, default=10)
    parser.add_argument("--pin", action="store_true",
                        help="server alone on CPU 0; wrk, Postgres and this script on CPU 1")
    parser.add_argument("--lease-max", type=int,
                        help="L402_LEASE_MAX_CREDITS for the server (1: no credit leases)")
    args = parser.parse_args()
    if args.mode == "serve":
        serve(args.dsn, args.port, args.simnet_oracle_dir, args.simnet_host, args.lease_max)
        return
    run(args)


def run(args: argparse.Namespace) -> None:
    import asyncio
    import socket

    from satrank.db.embedded import database_dsn
    from satrank.db.migrations import migrate_dsn

    if args.pin:  # before Postgres starts, so it inherits the CPU
        os.sched_setaffinity(0, {1})
    with tempfile.TemporaryDirectory(prefix="satrank-bench-") as tmp, \
            database_dsn(os.environ.get("DATABASE_URL"), Path(tmp)) as dsn:
        asyncio.run(migrate_dsn(dsn))
        from tests.api_seed import seed

        profile = f"/api/profile/{asyncio.run(seed(dsn))[1]}"
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        cmd = [sys.executable, __file__, "serve", "--dsn", dsn, "--port", str(port)]
        if args.simnet_oracle_dir:
            cmd += ["--simnet-oracle-dir", args.simnet_oracle_dir,
                    "--simnet-host", args.simnet_host]
        if args.lease_max is not None:
            cmd += ["--lease-max", str(args.lease_max)]
        server = subprocess.Popen(
            cmd, preexec_fn=(lambda: os.sched_setaffinity(0, {0})) if args.pin else None)
        base = f"http://127.0.0.1:{port}"
        try:
            for _ in range(200):
                try:
                    httpx.get(base + "/bench/ping", timeout=1)
                    break
                except httpx.TransportError:
                    time.sleep(0.1)
            global CPU
            CPU = Cpu(server.pid, tmp)
            one = _token()
            bypass = {"X-Operator-Token": OPERATOR}
            scripts = {name: _headers_script(sets, Path(tmp) / f"{name}.lua") for name, sets in {
                "bypass": [bypass],
                # the same bytes on the wire as a credential: what receiving one costs
                "padded": [{**bypass, "X-Padding": "p" * (len(one) - len("L402 "))}],
                "64 tokens": [{"Authorization": _token()} for _ in range(64)],
                "1 token": [{"Authorization": one}],
            }.items()}
            variants = {
                "trivial free route": lambda: _wrk(base + "/bench/ping", args),
                "cheap: bypass": lambda: _wrk(base + CHEAP, args, script=scripts["bypass"]),
                "cheap: bypass+pad": lambda: _wrk(base + CHEAP, args, script=scripts["padded"]),
                "cheap: 64 tokens": lambda: _wrk(base + CHEAP, args, script=scripts["64 tokens"]),
                "cheap: 1 token": lambda: _wrk(base + CHEAP, args, script=scripts["1 token"]),
                "profile: bypass": lambda: _wrk(base + profile, args, script=scripts["bypass"]),
                "profile: 64 tokens": lambda: _wrk(base + profile, args,
                                                   script=scripts["64 tokens"]),
            }
            _wrk(base + CHEAP, args, script=scripts["1 token"])  # warm-up
            results: dict[str, list[tuple[float, float, float]]] = {n: [] for n in variants}
            for _ in range(args.rounds):
                for name, measure in variants.items():
                    results[name].append(measure())
            mean = {name: sum(v[0] for v in vs) / len(vs) for name, vs in results.items()}
            cpu = {name: (sum(v[1] for v in vs) / len(vs), sum(v[2] for v in vs) / len(vs))
                   for name, vs in results.items()}
            print(f"wrk -t{args.threads} -c{args.connections} -d{args.duration}s, "
                  f"{args.rounds} interleaved rounds; CPU per request: server + postgres")
            for name, values in results.items():
                runs = " / ".join(f"{v[0]:,.0f}" for v in values)
                server_us, pg_us = cpu[name]
                print(f"  {name:20s} {mean[name]:8,.0f} rps  {server_us:5.0f} + {pg_us:4.0f} µs"
                      f"   (runs: {runs})")
            cheap, real = mean["cheap: bypass"], mean["profile: bypass"]
            print(f"  paid/bypass: cheap 64 tokens {mean['cheap: 64 tokens'] / cheap:.0%}, "
                  f"cheap 1 token {mean['cheap: 1 token'] / cheap:.0%}, "
                  f"profile 64 tokens {mean['profile: 64 tokens'] / real:.0%}; "
                  f"bypass with a credential-sized header {mean['cheap: bypass+pad'] / cheap:.0%}")

            def capacity(paid: str, free: str) -> str:
                return f"{sum(cpu[free]) / sum(cpu[paid]):.0%}"

            print("  CPU capacity paid/bypass (bypass CPU per request / paid CPU per request): "
                  f"cheap 64 tokens {capacity('cheap: 64 tokens', 'cheap: bypass')}, "
                  f"cheap 1 token {capacity('cheap: 1 token', 'cheap: bypass')}, "
                  f"profile 64 tokens {capacity('profile: 64 tokens', 'profile: bypass')}")
            if args.simnet_oracle_dir:
                print(f"  challenge minting (sequential, simnet AddInvoice): "
                      f"{_mint_rate(base, args.mint_requests):,.0f} 402/s")
                print(f"  challenge minting (wrk -c{args.mint_connections}): "
                      f"{_mint_rate_concurrent(base, args):,.0f} 402/s")
            served = _metric(base, "satrank_l402_paid_requests_total")
        finally:
            server.terminate()
            server.wait(timeout=20)
        # SIGTERM made the server give back every leased credit it did not spend: the
        # ledger must now count exactly the paid requests it served, no more, no fewer.
        used = asyncio.run(_credits_used(dsn))
        print(f"  ledger check: {served:,.0f} paid requests served, {used:,} credits used "
              f"in Postgres after shutdown")
        if used != served:
            raise SystemExit("the ledger does not match the paid requests served")


async def _credits_used(dsn: str) -> int:
    from satrank.config import DatabaseSettings
    from satrank.db.pool import create_pool
    from satrank.db.tokens import credits_used_total

    pool = await create_pool(dsn, DatabaseSettings(url=None, pool_min=1, pool_max=1))
    try:
        return await credits_used_total(pool)
    finally:
        await pool.close()


if __name__ == "__main__":
    main()
