"""One probe round: send the planned probes with bounded concurrency, record every result.

`ProbeSender` is the slice of `LightningBackend` the crawler needs (STYLE §5.2).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Protocol

from satrank.crawler.metrics import PROBE_SECONDS, PROBES
from satrank.crawler.scheduler import PlannedProbe
from satrank.db.probes import SentProbe
from satrank.lightning.backend import ProbeResult
from satrank.lightning.errors import LightningError
from satrank.outcomes import ProbeOutcome

_log = logging.getLogger(__name__)


class ProbeSender(Protocol):
    """Sends one probe payment (random hash) and classifies how it ended."""

    async def send_probe(self, destination: str, amount_sat: int, *, fee_limit_sat: int,
                         timeout_s: float) -> ProbeResult: ...


def _error_result(probe: PlannedProbe, code: str) -> ProbeResult:
    return ProbeResult(destination=probe.pubkey, amount_sat=probe.amount_sat,
                       outcome=ProbeOutcome.ERROR, failure_code=code,
                       failure_source_index=None, failing_channel_id=None, hops=(),
                       fee_msat=0, duration_ms=0, attempts=0)


async def run_probe_round(sender: ProbeSender, plan: Sequence[PlannedProbe], *,
                          concurrency: int, fee_limit_sat: int, timeout_s: float,
                          clock: Callable[[], datetime],
                          vantage: str | None = None) -> list[SentProbe]:
    """Every planned probe yields one SentProbe, stamped with its fee limit (the probe's
    own, else `fee_limit_sat`), `vantage` (the sender's pubkey) and the reason it was
    planned (the population fits read the "sample" ones); a Lightning error
    becomes outcome `error` (no evidence) rather than aborting the round."""
    gate = asyncio.Semaphore(concurrency)

    async def one(probe: PlannedProbe) -> SentProbe:
        limit = fee_limit_sat if probe.fee_limit_sat is None else probe.fee_limit_sat
        async with gate:
            sent_at = clock()
            try:
                result = await sender.send_probe(probe.pubkey, probe.amount_sat,
                                                 fee_limit_sat=limit, timeout_s=timeout_s)
            except LightningError as exc:
                _log.warning("probe failed before a result: %s", type(exc).__name__)
                result = _error_result(probe, type(exc).__name__)
            PROBES.labels(result.outcome.value, str(probe.amount_sat)).inc()
            PROBE_SECONDS.observe(result.duration_ms / 1000.0)
            return SentProbe(result, sent_at, limit, vantage, probe.reason)

    return list(await asyncio.gather(*(one(p) for p in plan)))
