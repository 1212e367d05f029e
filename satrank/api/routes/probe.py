"""POST /api/probe (paid, 5 credits): fresh probe payments from our node to a target.

How they are sent, bounded and charged: api/probing.py (shared with POST /api/intent's
`fresh: true`); each probe's fee limit is PROBE_FEE_LIMIT_SAT.
"""

from __future__ import annotations

import time
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from satrank.api.body import int_in, invalid_field, json_object, parsed_once
from satrank.api.ids import ID_DESCRIPTION, classify_id, node_not_found
from satrank.api.probing import MAX_AMOUNT_SAT, MAX_AMOUNTS, probe_backend, probe_block, probe_now
from satrank.api.render import dumps, json_bytes
from satrank.api.state import api_state
from satrank.db.nodes import IdKind, fetch_node
from satrank.scoring.tiers import DEFAULT_TIER_SAT

DEFAULT_AMOUNT_SAT = DEFAULT_TIER_SAT  # an on-demand probe feeds the tier every score uses


def _is_amount(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and (
        1 <= value <= MAX_AMOUNT_SAT)


def _amounts(body: dict[str, Any]) -> list[int]:
    if "amounts_sat" in body and "amount_sat" in body:
        raise invalid_field("amounts_sat", "given alone (not with amount_sat)")
    if "amounts_sat" in body:
        raw = body["amounts_sat"]
        if (not isinstance(raw, list) or not 1 <= len(raw) <= MAX_AMOUNTS
                or not all(_is_amount(v) for v in raw)):
            raise invalid_field(
                "amounts_sat", f"a list of 1 to {MAX_AMOUNTS} integers from 1 to {MAX_AMOUNT_SAT}")
        return sorted(set(raw))
    single = int_in(body, "amount_sat", 1, MAX_AMOUNT_SAT)
    return [single if single is not None else DEFAULT_AMOUNT_SAT]


async def _parse(request: Request) -> tuple[tuple[IdKind, str], list[int]]:
    body = await json_object(request, frozenset({"target", "amount_sat", "amounts_sat"}))
    target = body.get("target")
    parsed = classify_id(target) if isinstance(target, str) else None
    if parsed is None:
        raise invalid_field("target", ID_DESCRIPTION)
    return parsed, _amounts(body)


async def _parsed(request: Request) -> tuple[tuple[IdKind, str], list[int]]:
    return await parsed_once(request, _parse)


async def check_input(request: Request) -> None:
    """Run by the paywall before payment: a body we would reject is never paid for."""
    await _parsed(request)


async def probe(request: Request) -> Response:
    parsed, amounts = await _parsed(request)
    state = api_state(request)
    probe_backend(request)  # 503 before anything else when probing is not configured
    node = await fetch_node(state.pool, *parsed)
    if node is None:
        raise node_not_found()
    results = await probe_now(request, node.pubkey, amounts, state.probe_fee_limit_sat)
    return json_bytes(dumps({"data": {
        "target": {"publicKey": node.pubkey, "publicKeyHash": node.agent_hash,
                   "alias": node.alias},
        "probes": [probe_block(r) for r in results],
        "probedAt": int(time.time()),
    }}))


routes = [Route("/api/probe", probe, methods=["POST"])]
