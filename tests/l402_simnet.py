"""Shared by the L402 tests on simnet: an api whose LND is simnet's oracle node, over a
seeded database, and a wallet paying through simnet's customer node.

`simnet_app` is a pytest fixture (re-exported by conftest.py).
"""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from satrank.api.app import create_app
from tests.api_seed import seed
from tests.cli import run_satrank, satrank_env
from tests.l402_support import settings_for
from tests.live_server import live_server
from tests.simnet_fixture import SimnetHandle


@dataclass(frozen=True)
class SimnetApp:
    base: str
    profile: str  # path of the paid profile of a seeded node
    pubkey: str
    simnet: SimnetHandle
    dsn: str


def simnet_settings_env(simnet: SimnetHandle) -> dict[str, str]:
    """The LND settings of an api whose node is simnet's oracle."""
    return {
        "LND_GRPC_HOST": simnet.oracle_host,
        "LND_TLS_CERT_PATH": str(simnet.oracle_dir / "tls.cert"),
        "LND_INVOICE_MACAROON_PATH": str(simnet.oracle_dir / "invoice.macaroon"),
    }


@pytest.fixture
def simnet_app(simnet: SimnetHandle, db_dsn: str) -> Iterator[SimnetApp]:
    pks = asyncio.run(seed(db_dsn))
    settings = settings_for(**simnet_settings_env(simnet))
    with live_server(create_app(settings, db_dsn)) as base:
        yield SimnetApp(base, f"/api/profile/{pks[1]}", pks[1], simnet, db_dsn)


def pay_through_customer(simnet: SimnetHandle, bolt11: str) -> str:
    """Pay from simnet's customer node with `satrank pay` (its own process, as an agent's
    wallet is; one process also keeps grpc.aio off the test's event loops); the preimage
    hex, as a wallet returns it."""
    with tempfile.TemporaryDirectory(prefix="satrank-pay-") as data_dir:
        paid = run_satrank("pay", bolt11, "--lnd-dir", str(simnet.customer_dir),
                           "--lnd-host", simnet.customer_host, env=satrank_env(Path(data_dir)))
    assert paid.returncode == 0, paid.stderr
    preimage = paid.stdout.strip()
    assert len(bytes.fromhex(preimage)) == 32
    return preimage
