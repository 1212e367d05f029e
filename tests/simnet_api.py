"""Glue for api tests against simnet: settings that point the app at simnet's oracle node
(real gRPC over TLS with lnd's macaroons), the simnet graph's nodes in the database, and
the targets whose probe outcome the fixture's seed decides."""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import asyncpg

from satrank.config import Settings
from satrank.db.graph import sync_graph
from satrank.lightning.backend import ChannelGraph
from satrank.lightning.lnd import LndClient
from satrank.simnet.generator import generate_graph
from satrank.simnet.network import Network
from tests.simnet_fixture import SimnetHandle, start_simnet


def simnet_settings(handle: SimnetHandle, base: dict[str, str], *,
                    host: str | None = None) -> Settings:
    """`base` plus the LND variables of simnet's oracle node (readonly and pay roles);
    `host` overrides where the app dials (a closed port, say)."""
    lnd_dir: Path = handle.oracle_dir
    return Settings.from_environ({
        **base,
        "LND_GRPC_HOST": host or handle.oracle_host,
        "LND_TLS_CERT_PATH": str(lnd_dir / "tls.cert"),
        "LND_READONLY_MACAROON_PATH": str(lnd_dir / "readonly.macaroon"),
        "LND_PAY_MACAROON_PATH": str(lnd_dir / "pay.macaroon"),
    })


async def describe_simnet_graph(handle: SimnetHandle) -> ChannelGraph:
    lnd_dir = handle.oracle_dir
    async with LndClient.connect(handle.oracle_host, (lnd_dir / "tls.cert").read_bytes(),
                                 (lnd_dir / "readonly.macaroon").read_bytes()) as client:
        return await client.describe_graph()


async def insert_graph_nodes(dsn: str, graph: ChannelGraph) -> None:
    """Store the graph with the crawler's own sync (what /api/probe needs: its nodes)."""
    conn = await asyncpg.connect(dsn)
    try:
        await sync_graph(conn, graph, block_height=None, now=datetime.now(UTC))
    finally:
        await conn.close()


@dataclass(frozen=True)
class ProbeTargets:
    offline: list[str]  # offline, but an online peer still forwards to them
    cut_off: list[str]  # every inbound policy disabled: no route


def probe_targets(graph: ChannelGraph) -> ProbeTargets:
    """Targets of the `simnet` fixture's graph, from the network rebuilt from its seed."""
    defaults = inspect.signature(start_simnet).parameters
    seed, nodes = defaults["seed"].default, defaults["generate"].default
    truth = Network(generate_graph(nodes, seed), seed)
    assert truth.graph == graph  # same seed, same graph
    online_in: set[str] = set()
    enabled_in: set[str] = set()
    for e in graph.edges:
        for peer, target, policy in ((e.node1_pub, e.node2_pub, e.node1_policy),
                                     (e.node2_pub, e.node1_pub, e.node2_policy)):
            if policy is not None and not policy.disabled:
                enabled_in.add(target)
                if not truth.offline[truth.index[peer]]:
                    online_in.add(target)
    offline = [pk for i, pk in enumerate(truth.pubkeys[:len(graph.nodes)])
               if truth.offline[i] and pk in online_in]
    cut_off = [n.pubkey for n in graph.nodes if n.pubkey not in enabled_in]
    return ProbeTargets(offline, cut_off)
