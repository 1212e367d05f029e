"""A stand-in LightningBackend for api tests, used until the simnet fixture is merged.

It answers only what the api calls (get_info, send_probe) and records the calls, so
tests can check what the api asked for. Replace with `tests/simnet_fixture.py` (real
gRPC over TLS) once it is on main.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from satrank.lightning.backend import NodeStatus, ProbeOutcome, ProbeResult, RouteHop


@dataclass
class StandInLightning:
    outcome: ProbeOutcome = ProbeOutcome.REACHED
    probes: list[tuple[str, int, int, float]] = field(default_factory=list)

    async def get_info(self) -> NodeStatus:
        return NodeStatus("02" + "f" * 64, "oracle", 900_000, "00" * 32, True, True, 3, 3,
                          "0.20.3-beta")

    async def send_probe(self, destination: str, amount_sat: int, *, fee_limit_sat: int,
                         timeout_s: float) -> ProbeResult:
        self.probes.append((destination, amount_sat, fee_limit_sat, timeout_s))
        hops = (RouteHop(123 << 40, "03" + "e" * 64, amount_sat * 1000, 1000, 800_100),
                RouteHop(456 << 40, destination, amount_sat * 1000, 0, 800_040))
        reached = self.outcome is ProbeOutcome.REACHED
        return ProbeResult(
            destination=destination, amount_sat=amount_sat, outcome=self.outcome,
            failure_code="INCORRECT_OR_UNKNOWN_PAYMENT_DETAILS" if reached
            else "TEMPORARY_CHANNEL_FAILURE",
            failure_source_index=2 if reached else 1,
            failing_channel_id=None if reached else 456 << 40,
            hops=hops, fee_msat=1000, duration_ms=420, attempts=1)
