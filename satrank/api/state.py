"""The api's typed state: one frozen `ApiState` per app, built by `create_app`, read by
routes through `api_state(request)` (never through untyped `app.state` attributes).

What exists only while the app runs (the database pool, the Lightning backends) is in
`Resources`, which the lifespan opens once and closes; reading it before startup is a
programming error and says so.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request

from satrank.api.cache import ApiCaches
from satrank.api.free_limits import FreeRouteLimits
from satrank.api.lightning import ApiLightning
from satrank.api.paywall import Paywall
from satrank.api.probe_flights import ProbeFlights
from satrank.config import ApiSettings, NostrSettings, Secret
from satrank.db.pool import Pool
from satrank.db.reports import ReportLimits

# Given the request, the token id of a valid SatRank L402 token it carries (no debit), or
# None: how POST /api/report recognises a past payment (the paywall's, unless a test
# passes its own).
TokenChecker = Callable[[Request], Awaitable[bytes | None]]


class Resources:
    """The pool and Lightning backends, set once by the lifespan."""

    def __init__(self) -> None:
        self._pool: Pool | None = None
        self._lightning: ApiLightning | None = None

    def open(self, pool: Pool, lightning: ApiLightning) -> None:
        self._pool = pool
        self._lightning = lightning

    @property
    def pool(self) -> Pool:
        if self._pool is None:
            raise RuntimeError("database pool used before the app's lifespan opened it")
        return self._pool

    @property
    def lightning(self) -> ApiLightning:
        if self._lightning is None:
            raise RuntimeError("Lightning backends used before the app's lifespan opened them")
        return self._lightning


@dataclass(frozen=True)
class ApiState:
    """What routes read. Of the settings, only the slices the api uses: the api slice, the
    admin API key, the Nostr identity (served in nostr.json), the data directory (health
    checks its disk) and the probe fee limit."""

    api: ApiSettings
    api_key: Secret | None
    nostr: NostrSettings
    data_dir: Path
    probe_fee_limit_sat: int  # PROBE_FEE_LIMIT_SAT: the crawler's fee budget, for paid probes too
    resources: Resources
    paywall: Paywall
    caches: ApiCaches
    free_limits: FreeRouteLimits
    report_limits: ReportLimits
    report_token_checker: TokenChecker
    probe_flights: ProbeFlights  # probes from api requests in flight, and their caps
    # REGISTRY_ALLOW_PRIVATE: POST /api/services accepts http and private addresses
    registry_allow_private: bool = False
    score_half_life_s: float = 7 * 86_400.0  # SCORE_HALF_LIFE_DAYS: registry stage posteriors

    @property
    def pool(self) -> Pool:
        return self.resources.pool

    @property
    def lightning(self) -> ApiLightning:
        return self.resources.lightning


def app_state(app: Starlette) -> ApiState:
    state = app.state.api
    if not isinstance(state, ApiState):
        raise RuntimeError("not an app built by satrank.api.app.create_app")
    return state


def api_state(request: Request) -> ApiState:
    return app_state(request.app)
