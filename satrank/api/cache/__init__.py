"""Every cache of the api process, in one place.

Answers built from stored data are valid for one data version (`version.DataVersion`):
the node summaries and leaderboard pages, and the profiles, which also drop single
nodes as their probes and reports arrive; the intent snapshot (routing arrays for
POST /api/intent) is rebuilt in the background when the version moves. Answers that move
with the clock instead (stats over the last 24 h, LND's GetInfo) are `Expiring`. All live
in the worker's memory.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from satrank.api.cache.expiring import Expiring, ExpiringMap
from satrank.api.cache.intent import IntentSnapshots
from satrank.api.cache.nodes import LeaderboardCache, NodeCache
from satrank.api.cache.profile import ProfileCache
from satrank.api.cache.version import DEFAULT_CHECK_INTERVAL_S, DataVersion

STATS_TTL_S = 30.0
LND_CHECK_TTL_S = 10.0  # health polling cannot load lnd
# GET /api/services pages: the registry rescoring an endpoint or a new registration shows
# within this long; the first pages agents poll are served from memory meanwhile.
SERVICES_TTL_S = 5.0
SERVICES_MAX_PAGES = 512


@dataclass(frozen=True)
class ApiCaches:
    version: DataVersion
    leaderboard: LeaderboardCache
    nodes: NodeCache
    profiles: ProfileCache
    intent: IntentSnapshots
    stats: Expiring[bytes] = field(default_factory=lambda: Expiring[bytes](STATS_TTL_S))
    lnd_check: Expiring[dict[str, Any]] = field(
        default_factory=lambda: Expiring[dict[str, Any]](LND_CHECK_TTL_S))
    services: ExpiringMap[str, bytes] = field(
        default_factory=lambda: ExpiringMap[str, bytes](SERVICES_TTL_S, SERVICES_MAX_PAGES))

    @classmethod
    def build(cls, *, check_interval_s: float = DEFAULT_CHECK_INTERVAL_S) -> ApiCaches:
        """The caches of one app; `check_interval_s`: how often new data is looked for."""
        version = DataVersion(check_interval_s=check_interval_s)
        return cls(version, LeaderboardCache(version), NodeCache(version),
                   ProfileCache(version, check_interval_s=check_interval_s),
                   IntentSnapshots(version))
