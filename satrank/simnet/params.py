"""The living network's knobs, with defaults meant to look like a quiet mainnet day.

Rates are per simulated time; `docs/lightning.md` explains each and what it stands for.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class WorldParams:
    payments_per_hour: float = 120.0  # background payments between graph nodes
    payment_median_sat: float = 20_000.0  # log-normal amounts ...
    payment_sigma: float = 1.6  # ... heavy right tail (p99 ~ 40x the median)
    payment_max_sat: int = 5_000_000
    payment_attempts: int = 2  # background payers give up sooner than lnd's 60 s
    node_mean_up_h: float = 24.0 * 14
    node_mean_down_h: float = 4.0
    flaky_share: float = 0.03  # chronically flaky nodes: short uptimes, lost HTLCs
    flaky_mean_up_h: float = 3.0
    flaky_mean_down_h: float = 1.0
    channel_closes_per_day: float = 0.002  # share of open channels closed per day
    channel_opens_per_day: float = 0.002  # new channels per day, as a share of channels
    policy_changes_per_day: float = 0.02  # share of directed policies changing per day
    gossip_lag_s: float = 600.0  # until a change reaches our view of the graph

    @classmethod
    def static(cls) -> WorldParams:
        """No traffic and no churn: the frozen world simnet v1 served."""
        return cls(payments_per_hour=0.0, node_mean_up_h=1e12, flaky_mean_up_h=1e12,
                   channel_closes_per_day=0.0, channel_opens_per_day=0.0,
                   policy_changes_per_day=0.0)
