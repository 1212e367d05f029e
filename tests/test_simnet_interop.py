"""Interop: simnet driven by an LND client library we did not write (npm `lightning`,
the library under ln-service): info, graph, node, invoice, decode, pay, route, send-to-route."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

from tests.simnet_fixture import SimnetHandle

CLIENT = Path(__file__).parent / "interop" / "lnd_client"


def test_lightning_npm_client_runs_a_wallet_session_against_simnet(
        simnet: SimnetHandle) -> None:
    assert (CLIENT / "node_modules").is_dir(), "run `make tests/interop/lnd_client/node_modules`"
    node = shutil.which("node")
    assert node is not None, "node is a system dependency (scripts/install-system-deps.sh)"
    cfg = {"oracle": {"socket": simnet.oracle_host, "dir": str(simnet.oracle_dir)},
           "customer": {"socket": simnet.customer_host, "dir": str(simnet.customer_dir)}}
    done = subprocess.run([node, "drive.mjs"], cwd=CLIENT, capture_output=True, text=True,
                          timeout=120, env={"PATH": "/usr/bin:/bin",
                                            "SIMNET_JSON": json.dumps(cfg)})
    assert done.returncode == 0, done.stderr[-3000:]
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["info"]["public_key"] == simnet.oracle_pubkey
    assert out["info"]["active_channels_count"] > 0
    assert out["graph"]["nodes"] > 0 and out["graph"]["channels"] > 0
    assert out["graph"]["color"].startswith("#")
    assert out["node"]["channel_count"] > 0 and out["node"]["features"] > 0
    assert out["decoded"] == {"destination": simnet.oracle_pubkey, "tokens": 1234,
                              "id": out["invoice"]["id"]}
    assert len(out["paid"]["secret"]) == 64 and out["paid"]["tokens"] == 1234
    assert out["route"]["hops"] >= 1 and out["route"]["tokens"] == 777
    assert len(out["via_route"]["secret"]) == 64
