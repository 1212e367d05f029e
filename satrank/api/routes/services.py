"""The L402 service registry's routes (issue 17):

- `POST /api/services` (paid, anti-spam): register an endpoint `{url, method?, name?,
  category, description?}`; the body is checked, and a (method, URL) already listed is
  refused with 409, before the paywall asks for payment;
- `GET /api/services` (free): filter by `category`, `q` (text in name, description or URL)
  and `max_price_sat`; sort by `p` (end-to-end success, best first), `latency` or `price`
  (lowest first); keyset pagination with `cursor` = the previous page's `next_cursor`;
- `GET /api/services/categories` (free): categories with their counts;
- `GET /api/services/{id}` (free): the summary; `GET /api/services/{id}/stages` (paid):
  each stage's posterior (scoring/registry.py) and the recent observations behind them.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from satrank.api.body import invalid_field, json_object, query_int
from satrank.api.cursors import decode_keyset, encode_cursor
from satrank.api.errors import ApiError
from satrank.api.render import dumps, json_bytes, unix
from satrank.api.state import api_state
from satrank.db.registry import (
    SERVICE_SORTS,
    NewService,
    ServiceRow,
    ServiceSort,
    fetch_service,
    find_service_id,
    list_services,
    recent_observations,
    register_service,
    service_categories,
    sort_key_kind,
)
from satrank.registry import catalogue
from satrank.registry.catalogue import InvalidEndpoint
from satrank.registry.report import score_service
from satrank.scoring.registry import StagePosterior

STAGE_DETAIL_ROWS = 100
MAX_PRICE_FILTER_SAT = 10**12
_FIELDS = frozenset({"url", "method", "name", "category", "description"})


def _optional_text(body: dict[str, Any], field: str, max_len: int) -> str | None:
    value = body.get(field)
    if value is None:
        return None
    if not isinstance(value, str) or not 1 <= len(value.strip()) <= max_len or "\x00" in value:
        raise invalid_field(field, f"a string of 1 to {max_len} characters")
    return value.strip()


def _field(name: str, check: Any, *args: Any, **kwargs: Any) -> Any:
    try:
        return check(*args, **kwargs)
    except InvalidEndpoint as exc:
        raise invalid_field(name, str(exc)) from None


async def _new_service(request: Request) -> NewService:
    body = await json_object(request, _FIELDS)
    allow_private = api_state(request).registry_allow_private
    url = body.get("url")
    if not isinstance(url, str):
        raise invalid_field("url", "an absolute https URL")
    where = _field("url", catalogue.endpoint, url, allow_private=allow_private)
    return NewService(
        url=where.url, host=where.host,
        method=_field("method", catalogue.method, body.get("method", "GET")),
        category=_field("category", catalogue.category, body.get("category")),
        name=_optional_text(body, "name", catalogue.MAX_NAME_LEN),
        description=_optional_text(body, "description", catalogue.MAX_DESCRIPTION_LEN))


def _already_listed(service_id: int) -> ApiError:
    return ApiError(409, "SERVICE_EXISTS", "this method and URL are already registered",
                    details={"id": service_id})


async def check_registration(request: Request) -> None:
    """Run by the paywall before payment: nobody pays to be refused."""
    service = await _new_service(request)
    existing = await find_service_id(api_state(request).pool, service.method, service.url)
    if existing is not None:
        raise _already_listed(existing)


async def register(request: Request) -> Response:
    service = await _new_service(request)
    service_id, created = await register_service(api_state(request).pool, service)
    if not created:  # registered by a concurrent request since the check
        raise _already_listed(service_id)
    return json_bytes(dumps({"data": {"id": service_id, "url": service.url,
                                      "method": service.method}}), status=201)


def service_block(s: ServiceRow) -> dict[str, Any]:
    return {
        "id": s.id, "url": s.url, "method": s.method, "name": s.name,
        "category": s.category, "description": s.description, "source": s.source,
        "ownerPubkey": s.owner_pubkey, "priceSat": s.price_sat,
        "advertisedPriceSat": s.advertised_price_sat, "payeePubkey": s.payee_pubkey,
        "pSuccess": s.p_success, "uptime": s.uptime, "medianLatencyMs": s.median_latency_ms,
        "verdict": s.verdict, "reasons": list(s.reasons),
        "registeredAt": unix(s.registered_at), "checkedAt": unix(s.checked_at),
    }


def stage_blocks(stages: Sequence[StagePosterior]) -> list[dict[str, Any]]:
    return [{"stage": s.stage, "p": s.p, "ci95Low": s.ci95_low, "ci95High": s.ci95_high,
             "nEff": s.n_eff} for s in stages]


def _sort(request: Request) -> ServiceSort:
    raw = request.query_params.get("sort_by", "p")
    for sort in SERVICE_SORTS:
        if raw == sort:
            return sort
    raise ApiError(400, "INVALID_PARAMETER", "sort_by must be one of " + ", ".join(SERVICE_SORTS),
                   details={"field": "sort_by"})


def _query_text(request: Request, name: str, max_len: int) -> str | None:
    raw = request.query_params.get(name)
    if raw is None:
        return None
    if not 1 <= len(raw.strip()) <= max_len or "\x00" in raw:
        raise ApiError(400, "INVALID_PARAMETER", f"{name} must be 1 to {max_len} characters",
                       details={"field": name})
    return raw.strip()


async def services(request: Request) -> Response:
    state = api_state(request)
    state.free_limits.check(request, "node")  # one indexed query: the cheap reads' bucket
    sort = _sort(request)
    limit = query_int(request, "limit", 20, 1, 100)
    category = _query_text(request, "category", 32)
    if category is not None and category not in catalogue.CATEGORIES:
        raise ApiError(400, "INVALID_PARAMETER",
                       "category must be one of " + ", ".join(catalogue.CATEGORIES),
                       details={"field": "category"})
    max_price = (query_int(request, "max_price_sat", 0, 0, MAX_PRICE_FILTER_SAT)
                 if "max_price_sat" in request.query_params else None)
    text = _query_text(request, "q", 64)
    cursor = request.query_params.get("cursor")
    after = None
    if cursor is not None:
        key, service_id = decode_keyset(sort, cursor, (sort_key_kind(sort), "int8"))
        assert not isinstance(key, str)  # the kinds above are numbers
        after = (key, int(service_id))
    # every input validated above: the key holds only values we would query with
    page_key = repr((sort, limit, category, text, max_price, after))
    cached = state.caches.services.get(page_key)
    if cached is None:
        page = await list_services(state.pool, sort, limit, category=category, text=text,
                                   max_price_sat=max_price, after=after)
        cached = state.caches.services.put(page_key, dumps({
            "data": [service_block(s) for s in page.rows],
            "meta": {"count": len(page.rows), "limit": limit, "sort_by": sort,
                     "next_cursor": (encode_cursor(sort, page.next_after)
                                     if page.next_after is not None else None)},
        }))
    return json_bytes(cached)


async def categories(request: Request) -> Response:
    counts = dict(await service_categories(api_state(request).pool))
    return json_bytes(dumps({"data": [{"category": c, "count": counts.get(c, 0)}
                                      for c in catalogue.CATEGORIES]}))


def _service_id(request: Request) -> int:
    raw = str(request.path_params["id"])
    if not raw.isdigit() or len(raw) > 18 or int(raw) < 1:
        raise ApiError(400, "INVALID_ID", "id must be a service id (a positive integer)",
                       details={"field": "id"})
    return int(raw)


async def _service_or_404(request: Request) -> ServiceRow:
    service = await fetch_service(api_state(request).pool, _service_id(request))
    if service is None:
        raise ApiError(404, "NOT_FOUND", "no service with this id")
    return service


async def check_stages(request: Request) -> None:
    """Run by the paywall before payment: an unknown id is never paid for."""
    await _service_or_404(request)


async def service(request: Request) -> Response:
    api_state(request).free_limits.check(request, "node")
    return json_bytes(dumps({"data": service_block(await _service_or_404(request))}))


async def stages(request: Request) -> Response:
    found = await _service_or_404(request)
    state = api_state(request)
    score = await score_service(state.pool, found.id, now=datetime.now(UTC),
                                half_life_s=state.score_half_life_s)
    rows = await recent_observations(state.pool, found.id, STAGE_DETAIL_ROWS)
    return json_bytes(dumps({"data": {
        "service": service_block(found),
        "stages": stage_blocks(score.stages),
        "observations": [{"stage": o.stage, "ok": o.ok, "reason": o.reason,
                          "latencyMs": o.latency_ms, "priceSat": o.price_sat,
                          "payeePubkey": o.payee_pubkey, "observedAt": unix(o.observed_at)}
                         for o in rows],
    }}))


routes = [
    Route("/api/services", services, methods=["GET"]),
    Route("/api/services", register, methods=["POST"]),
    Route("/api/services/categories", categories, methods=["GET"]),
    Route("/api/services/{id}", service, methods=["GET"]),
    Route("/api/services/{id}/stages", stages, methods=["GET"]),
]
