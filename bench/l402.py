"""Bench: paid requests (valid L402 token) vs the same route with operator bypass vs a
trivial free route, in ONE interleaved run series with wrk against uvicorn (uvloop +
httptools) and Postgres. Optionally the challenge minting rate (402/s) against simnet.

    .venv/bin/python bench/l402.py [--duration 10] [--connections 50] [--rounds 2]
    .venv/bin/python bench/l402.py --simnet-oracle-dir DIR --simnet-host H:P   # + 402/s

The server is a separate process (`bench/l402.py serve ...`) so wrk, uvicorn and Postgres
share the 2 cores the same way for every variant; compare the ratios, not absolute rps.
Paid tokens are minted with the server's secret and a known preimage (exactly what paying
an invoice yields); "paid, 64 tokens" rotates over 64 tokens the way many clients would,
"paid, 1 token" hammers one ledger row (the worst case: every debit waits on one row lock).
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
    "LOG_LEVEL": "WARNING",
}
PROFILE = "/api/profile/02" + "ab" * 32


def serve(dsn: str, port: int, lnd_dir: str | None, lnd_host: str | None) -> None:
    import uvicorn
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    from satrank.api.app import create_app
    from satrank.config import Settings

    env = dict(ENV)
    if lnd_dir and lnd_host:
        env.update(LND_GRPC_HOST=lnd_host, LND_TLS_CERT_PATH=f"{lnd_dir}/tls.cert",
                   LND_INVOICE_MACAROON_PATH=f"{lnd_dir}/invoice.macaroon")
    settings = Settings.from_environ(env)

    async def profile(request: Request) -> JSONResponse:
        return JSONResponse({"id": request.path_params["id"], "verdict": "SAFE"})

    async def ping(request: Request) -> JSONResponse:
        return JSONResponse({"ok": True})

    app = create_app(settings, dsn)
    app.router.routes.append(Route("/api/profile/{id}", profile, methods=["GET"]))
    app.router.routes.append(Route("/bench/ping", ping, methods=["GET"]))
    uvicorn.run(app, host="127.0.0.1", port=port, loop="uvloop", http="httptools",
                access_log=False, log_level="warning")


def _token() -> str:
    from satrank.l402.caveats import minted_caveats
    from satrank.l402.identifier import Identifier
    from satrank.l402.mint import encode_macaroon, mint_macaroon

    preimage = secrets.token_bytes(32)
    ident = Identifier.new(hashlib.sha256(preimage).digest(), secrets.token_bytes(32))
    caveats = minted_caveats(valid_until_unix=int(time.time()) + 86_400, credits=2**31 - 1)
    mac = encode_macaroon(mint_macaroon(ident, [c.encode() for c in caveats], SECRET.encode()))
    return f"L402 {mac}:{preimage.hex()}"


def _wrk(url: str, args: argparse.Namespace, *, headers: list[str] = (),  # type: ignore[assignment]
         script: str | None = None) -> float:
    cmd = ["wrk", f"-t{args.threads}", f"-c{args.connections}", f"-d{args.duration}s"]
    for header in headers:
        cmd += ["-H", header]
    if script:
        cmd += ["-s", script]
    done = subprocess.run([*cmd, url], capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"wrk failed: {done.stdout}{done.stderr}")
    out = done.stdout
    if "Non-2xx" in out:
        raise SystemExit(f"non-2xx answers in a run that must all be 200:\n{out}")
    return float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]


def _rotation_script(tokens: list[str], path: Path) -> str:
    lines = ",\n".join(f'"{t}"' for t in tokens)
    path.write_text(
        f"local tokens = {{\n{lines}\n}}\nlocal i = 0\n"
        "request = function()\n  i = i + 1\n"
        "  return wrk.format(nil, nil, {[\"Authorization\"] = tokens[(i % #tokens) + 1]})\n"
        "end\n"
    )
    return str(path)


def _mint_rate(base: str, n: int) -> float:
    with httpx.Client(base_url=base, timeout=30) as client:
        start = time.perf_counter()
        for _ in range(n):
            assert client.get(PROFILE).status_code == 402
        return n / (time.perf_counter() - start)


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
    args = parser.parse_args()
    if args.mode == "serve":
        serve(args.dsn, args.port, args.simnet_oracle_dir, args.simnet_host)
        return
    run(args)


def run(args: argparse.Namespace) -> None:
    import asyncio
    import socket

    from satrank.db.embedded import database_dsn
    from satrank.db.migrations import migrate_dsn

    with tempfile.TemporaryDirectory(prefix="satrank-bench-") as tmp, \
            database_dsn(os.environ.get("DATABASE_URL"), Path(tmp)) as dsn:
        asyncio.run(migrate_dsn(dsn))
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        cmd = [sys.executable, __file__, "serve", "--dsn", dsn, "--port", str(port)]
        if args.simnet_oracle_dir:
            cmd += ["--simnet-oracle-dir", args.simnet_oracle_dir,
                    "--simnet-host", args.simnet_host]
        server = subprocess.Popen(cmd)
        base = f"http://127.0.0.1:{port}"
        try:
            for _ in range(200):
                try:
                    httpx.get(base + "/bench/ping", timeout=1)
                    break
                except httpx.TransportError:
                    time.sleep(0.1)
            one = _token()
            script = _rotation_script([_token() for _ in range(64)], Path(tmp) / "rot.lua")
            variants = {
                "trivial free route": lambda: _wrk(base + "/bench/ping", args),
                "operator bypass": lambda: _wrk(base + PROFILE, args,
                                                headers=[f"X-Operator-Token: {OPERATOR}"]),
                "paid, 64 tokens": lambda: _wrk(base + PROFILE, args, script=script),
                "paid, 1 token": lambda: _wrk(base + PROFILE, args,
                                              headers=[f"Authorization: {one}"]),
            }
            _wrk(base + PROFILE, args, headers=[f"Authorization: {one}"])  # warm-up
            results: dict[str, list[float]] = {name: [] for name in variants}
            for _ in range(args.rounds):
                for name, measure in variants.items():
                    results[name].append(measure())
            mean = {name: sum(v) / len(v) for name, v in results.items()}
            print(f"wrk -t{args.threads} -c{args.connections} -d{args.duration}s, "
                  f"{args.rounds} interleaved rounds")
            for name, values in results.items():
                runs = " / ".join(f"{v:,.0f}" for v in values)
                print(f"  {name:20s} {mean[name]:8,.0f} rps   (runs: {runs})")
            bypass = mean["operator bypass"]
            print(f"  paid/bypass: 64 tokens {mean['paid, 64 tokens'] / bypass:.0%}, "
                  f"1 token {mean['paid, 1 token'] / bypass:.0%}")
            if args.simnet_oracle_dir:
                print(f"  challenge minting (sequential, simnet AddInvoice): "
                      f"{_mint_rate(base, args.mint_requests):,.0f} 402/s")
        finally:
            server.terminate()
            server.wait(timeout=20)


if __name__ == "__main__":
    main()
