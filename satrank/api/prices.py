"""What each paid route costs, in credits, keyed by (method, Starlette path template)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from starlette.routing import compile_path

ROUTE_PRICES: dict[tuple[str, str], int] = {
    ("GET", "/api/profile/{id}"): 1,
    ("POST", "/api/verdicts"): 1,
    ("POST", "/api/probe"): 5,
    # anti-spam: registering an endpoint costs about ten paid lookups
    ("POST", "/api/services"): 10,
    ("GET", "/api/services/{id}/stages"): 1,
    ("POST", "/api/intent"): 2,
}


@dataclass(frozen=True)
class PricedRoute:
    method: str
    template: str
    credits: int
    capability: str  # the group a `satrank_capabilities` caveat names: "profile", "probe", ...


class PriceTable:
    """Matches a request's method and path against the priced templates."""

    def __init__(self, prices: Mapping[tuple[str, str], int]) -> None:
        self._routes: list[tuple[re.Pattern[str], PricedRoute]] = []
        for (method, template), credits in prices.items():
            if credits < 1:
                raise ValueError(f"{method} {template}: price must be at least 1 credit")
            regex, _format, _converters = compile_path(template)
            capability = template.strip("/").split("/")[1] if template.count("/") > 1 else ""
            self._routes.append((regex, PricedRoute(method.upper(), template, credits,
                                                    capability)))

    def path_params(self, route: PricedRoute, path: str) -> dict[str, str]:
        """The template's parameters in `path` (which `match` matched to `route`)."""
        for regex, candidate in self._routes:
            if candidate is route:
                found = regex.match(path)
                return found.groupdict() if found else {}
        return {}

    def match(self, method: str, path: str) -> PricedRoute | None:
        # Starlette serves HEAD wherever it serves GET: HEAD must cost the same.
        method = "GET" if method == "HEAD" else method
        for regex, route in self._routes:
            if route.method == method and regex.match(path):
                return route
        return None
