"""`satrank simnet` command-line options: the listeners, the graph, and the world's knobs."""

from __future__ import annotations

import argparse
from dataclasses import dataclass, replace
from pathlib import Path

from satrank.simnet.params import WorldParams


@dataclass(frozen=True)
class SimnetOptions:
    listen: str
    customer_listen: str
    data_dir: Path
    graph: Path | None
    generate: int | None
    seed: int
    time_scale: float
    vantage: int = 1
    truth_listen: str = "127.0.0.1:0"
    world: WorldParams = WorldParams()
    announce_own: bool = False


# flag -> WorldParams field; each flag's default is the field's
_WORLD_FLAGS = {
    "--payments-per-hour": "payments_per_hour",
    "--payment-median-sat": "payment_median_sat",
    "--node-mean-up-h": "node_mean_up_h",
    "--node-mean-down-h": "node_mean_down_h",
    "--flaky-share": "flaky_share",
    "--channel-closes-per-day": "channel_closes_per_day",
    "--channel-opens-per-day": "channel_opens_per_day",
    "--policy-changes-per-day": "policy_changes_per_day",
    "--gossip-lag-s": "gossip_lag_s",
}


def add_arguments(simnet: argparse.ArgumentParser) -> None:
    simnet.add_argument("--listen", default="127.0.0.1:10009", help="oracle node HOST:PORT")
    simnet.add_argument("--customer-listen", default="127.0.0.1:10010",
                        help="customer node HOST:PORT")
    simnet.add_argument("--data-dir", type=Path, required=True,
                        help="receives oracle/, vantage-K/ and customer/ (tls.cert, *.macaroon)")
    simnet.add_argument("--graph", type=Path, help="describegraph JSON (.gz accepted)")
    simnet.add_argument("--generate", type=int, metavar="N", help="generate a graph of N nodes")
    simnet.add_argument("--seed", type=int, default=1, help="hidden state, keys and the world")
    simnet.add_argument("--time-scale", type=float, default=1.0,
                        help="real seconds per simulated second (0 = as fast as possible; the "
                        "clock then follows payment activity)")
    simnet.add_argument("--vantage", type=int, default=1, metavar="N",
                        help="oracle-like nodes: the oracle (well connected), then a mid and a "
                        "small one, ... each on its own port next to --listen")
    simnet.add_argument("--truth-listen", default="127.0.0.1:0",
                        help="HOST:PORT of the truth side channel for benches (not lnd's API)")
    simnet.add_argument("--announce-own-channels", action="store_true",
                        help="announce the vantages' and the customer's channels in the "
                        "public graph (default: private, reachable through route hints), "
                        "so they can be callers and route like any public node")
    simnet.add_argument("--static", action="store_true",
                        help="no background traffic and no churn (simnet v1's frozen world)")
    defaults = WorldParams()
    for flag, name in _WORLD_FLAGS.items():
        simnet.add_argument(flag, type=float, default=None,
                            help=f"world: {name.replace('_', ' ')} (default "
                            f"{getattr(defaults, name)})")


def options_from_args(args: argparse.Namespace) -> SimnetOptions:
    base = WorldParams.static() if args.static else WorldParams()
    changes = {name: getattr(args, flag[2:].replace("-", "_"))
               for flag, name in _WORLD_FLAGS.items()}
    world = replace(base, **{k: v for k, v in changes.items() if v is not None})
    return SimnetOptions(
        listen=args.listen, customer_listen=args.customer_listen, data_dir=args.data_dir,
        graph=args.graph, generate=args.generate, seed=args.seed, time_scale=args.time_scale,
        vantage=max(1, args.vantage), truth_listen=args.truth_listen, world=world,
        announce_own=args.announce_own_channels)
