"""The route template a request belongs to, for logs and metrics, also when the answer left
before routing ran (the paywall's 402, the body guard's 413, a 429)."""

from __future__ import annotations

from starlette.routing import BaseRoute, Match
from starlette.types import Scope


def route_template(scope: Scope) -> str | None:
    """The path template (`/api/agent/{id}`) of the route for `scope`, None when no route
    has this path. Never the concrete path: ids and query strings stay out."""
    route = scope.get("route") or _matching_route(scope)
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else None


def _matching_route(scope: Scope) -> BaseRoute | None:
    routes: list[BaseRoute] = getattr(scope.get("app"), "routes", [])
    partial: BaseRoute | None = None
    for route in routes:
        match, _ = route.matches(scope)
        if match is Match.FULL:
            return route
        if match is Match.PARTIAL and partial is None:
            partial = route  # the path matches, the method does not (a 405)
    return partial
