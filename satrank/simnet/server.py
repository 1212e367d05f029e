"""Run simnet: build the network, write lnd's files, serve every node over gRPC+TLS.

Entry point `run_simnet(options)` is called by `satrank simnet`; it prints one JSON ready
line on stdout and returns after SIGTERM/SIGINT once every server has stopped. Each node
(the oracle, vantage-1.., the customer) has its own directory with its own TLS pair and
macaroons, and its own port; the truth side channel (truth.py) has one more.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import sys
from datetime import UTC, datetime
from pathlib import Path

import grpc
import uvicorn

from satrank.lightning import invoices_pb2_grpc as inv_grpc
from satrank.lightning import lightning_pb2_grpc as ln_grpc
from satrank.lightning import router_pb2_grpc as router_grpc
from satrank.lightning.graph_file import load_graph_file
from satrank.simnet.auth import MacaroonInterceptor, write_macaroons
from satrank.simnet.generator import generate_graph
from satrank.simnet.lightning_service import GraphCache, LightningService
from satrank.simnet.network import Network
from satrank.simnet.options import SimnetOptions
from satrank.simnet.router_service import InvoicesService, RouterService
from satrank.simnet.simulator import SimNode, Simulator
from satrank.simnet.tls import write_tls_pair
from satrank.simnet.truth import truth_app

log = logging.getLogger(__name__)
MAX_MESSAGE_BYTES = 200 * 1024 * 1024  # lnd's MaxGrpcMsgSize
SHUTDOWN_GRACE_S = 2.0


def build_simulator(options: SimnetOptions) -> Simulator:
    if options.graph is not None:
        graph = load_graph_file(options.graph)
    else:
        graph = generate_graph(options.generate or 0, options.seed)
    net = Network(graph, options.seed, options.world, vantage=options.vantage,
                  announce_own=options.announce_own)
    return Simulator(net, time_scale=options.time_scale, seed=options.seed)


async def _start_node(sim: Simulator, node: SimNode, cache: GraphCache, listen: str,
                      directory: Path) -> tuple[grpc.aio.Server, str]:
    cert, key = write_tls_pair(directory, world_start=datetime.fromtimestamp(
        sim.world.unix_now, UTC))
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


def _host_of(listen: str) -> str:
    return listen.rpartition(":")[0] or "127.0.0.1"


async def _start_truth(sim: Simulator, listen: str) -> tuple[uvicorn.Server, str]:
    host, _, port = listen.rpartition(":")
    server = uvicorn.Server(uvicorn.Config(truth_app(sim), host=host.strip("[]") or "127.0.0.1",
                                           port=int(port), log_level="warning", lifespan="off"))
    asyncio.get_running_loop().create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.02)
    bound = server.servers[0].sockets[0].getsockname()
    return server, f"{bound[0]}:{bound[1]}"


async def serve(options: SimnetOptions) -> None:
    sim = build_simulator(options)
    cache = GraphCache(sim)
    listens = {"oracle": options.listen, "customer": options.customer_listen}
    servers: list[grpc.aio.Server] = []
    addrs: dict[str, str] = {}
    for name, node in sim.nodes.items():
        listen = listens.get(name, f"{_host_of(options.listen)}:0")
        server, addrs[name] = await _start_node(sim, node, cache, listen, options.data_dir / name)
        servers.append(server)
    truth, truth_addr = await _start_truth(sim, options.truth_listen)
    clock = asyncio.get_running_loop().create_task(sim.run_clock())
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    cache.describe_graph()  # build the big response before anyone waits on it
    data_dir = options.data_dir.resolve()
    ready = {"ready": True, "oracle": addrs["oracle"], "customer": addrs["customer"],
             "oracle_pubkey": sim.net.oracle.pubkey, "customer_pubkey": sim.net.customer.pubkey,
             "data_dir": str(data_dir), "truth": truth_addr,
             "vantages": [{"name": v.name, "host": addrs[v.name], "pubkey": v.pubkey,
                           "dir": str(data_dir / v.name)} for v in sim.net.vantages]}
    sys.stdout.write(json.dumps(ready) + "\n")
    sys.stdout.flush()
    await stop.wait()
    log.info("simnet stopping")
    clock.cancel()
    truth.should_exit = True
    await asyncio.gather(*(s.stop(SHUTDOWN_GRACE_S) for s in servers))


def run_simnet(options: SimnetOptions) -> int:
    asyncio.run(serve(options))
    return 0
