"""Run simnet: build the network, write lnd's files, serve both nodes over gRPC+TLS.

Entry point `run_simnet(options)` is called by `satrank simnet`; it prints one JSON ready
line on stdout and returns after SIGTERM/SIGINT once both servers have stopped.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import sys
from dataclasses import dataclass
from pathlib import Path

import grpc

from satrank.lightning import invoices_pb2_grpc as inv_grpc
from satrank.lightning import lightning_pb2_grpc as ln_grpc
from satrank.lightning import router_pb2_grpc as router_grpc
from satrank.lightning.graph_file import load_graph_file
from satrank.simnet.auth import MacaroonInterceptor, write_macaroons
from satrank.simnet.generator import generate_graph
from satrank.simnet.lightning_service import GraphCache, LightningService
from satrank.simnet.network import Network
from satrank.simnet.router_service import InvoicesService, RouterService
from satrank.simnet.simulator import SimNode, Simulator
from satrank.simnet.tls import write_tls_pair

log = logging.getLogger(__name__)
MAX_MESSAGE_BYTES = 200 * 1024 * 1024  # lnd's MaxGrpcMsgSize
SHUTDOWN_GRACE_S = 2.0


@dataclass(frozen=True)
class SimnetOptions:
    listen: str
    customer_listen: str
    data_dir: Path
    graph: Path | None
    generate: int | None
    seed: int
    time_scale: float


def build_simulator(options: SimnetOptions) -> Simulator:
    if options.graph is not None:
        graph = load_graph_file(options.graph)
    else:
        graph = generate_graph(options.generate or 0, options.seed)
    return Simulator(Network(graph, options.seed), time_scale=options.time_scale,
                     seed=options.seed)


async def _start_node(sim: Simulator, node: SimNode, cache: GraphCache, listen: str,
                      directory: Path) -> tuple[grpc.aio.Server, str]:
    cert, key = write_tls_pair(directory)
    root_key = os.urandom(32)
    write_macaroons(directory, root_key)
    server = grpc.aio.server(
        interceptors=[MacaroonInterceptor(root_key)],
        options=[("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
                 ("grpc.max_send_message_length", MAX_MESSAGE_BYTES)])
    ln_grpc.add_LightningServicer_to_server(LightningService(sim, node, cache), server)
    router_grpc.add_RouterServicer_to_server(RouterService(sim, node), server)
    inv_grpc.add_InvoicesServicer_to_server(InvoicesService(sim, node), server)
    host, _, port = listen.rpartition(":")
    bound = server.add_secure_port(listen, grpc.ssl_server_credentials([(key, cert)]))
    if not bound:
        raise OSError(f"cannot listen on {listen}")
    await server.start()
    return server, f"{host.strip('[]') or '127.0.0.1'}:{bound}"


async def serve(options: SimnetOptions) -> None:
    sim = build_simulator(options)
    cache = GraphCache(sim)
    oracle, oracle_addr = await _start_node(sim, sim.nodes["oracle"], cache, options.listen,
                                            options.data_dir / "oracle")
    customer, customer_addr = await _start_node(sim, sim.nodes["customer"], cache,
                                                options.customer_listen,
                                                options.data_dir / "customer")
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    cache.describe_graph()  # build the big response before anyone waits on it
    ready = {"ready": True, "oracle": oracle_addr, "customer": customer_addr,
             "oracle_pubkey": sim.net.oracle.pubkey, "customer_pubkey": sim.net.customer.pubkey,
             "data_dir": str(options.data_dir.resolve())}
    sys.stdout.write(json.dumps(ready) + "\n")
    sys.stdout.flush()
    await stop.wait()
    log.info("simnet stopping")
    await asyncio.gather(oracle.stop(SHUTDOWN_GRACE_S), customer.stop(SHUTDOWN_GRACE_S))


def run_simnet(options: SimnetOptions) -> int:
    asyncio.run(serve(options))
    return 0
