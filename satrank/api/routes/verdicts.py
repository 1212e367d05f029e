"""POST /api/verdicts (paid, 1 credit): verdicts for up to 100 node ids in one query.

Body `{"ids": [...]}` (the earlier SatRank's `{"hashes": [...]}` is accepted too). Every
id is validated before any lookup; the answer lists one entry per id, in request order,
with `found: false` for ids not in the graph.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from satrank.api.body import invalid_field, json_object, parsed_once
from satrank.api.ids import ID_DESCRIPTION, classify_id
from satrank.api.render import dumps, json_bytes, verdict_block
from satrank.api.state import api_state
from satrank.db.nodes import fetch_nodes

MAX_IDS = 100


def _ids(body: dict[str, Any]) -> tuple[str, list[tuple[str, str]]]:
    if ("ids" in body) == ("hashes" in body):
        raise invalid_field("ids", "present (or its legacy name hashes), not both")
    field = "ids" if "ids" in body else "hashes"
    raw = body[field]
    if not isinstance(raw, list) or not 1 <= len(raw) <= MAX_IDS:
        raise invalid_field(field, f"a list of 1 to {MAX_IDS} node ids")
    parsed: list[tuple[str, str]] = []
    for i, item in enumerate(raw):
        kind_value = classify_id(item) if isinstance(item, str) else None
        if kind_value is None:
            raise invalid_field(f"{field}[{i}]", ID_DESCRIPTION)
        parsed.append(kind_value)
    return field, parsed


async def _parse_ids(request: Request) -> list[tuple[str, str]]:
    return _ids(await json_object(request, frozenset({"ids", "hashes"})))[1]


async def _parsed_ids(request: Request) -> list[tuple[str, str]]:
    return await parsed_once(request, _parse_ids)


async def check_input(request: Request) -> None:
    """Run by the paywall before payment: a body we would reject is never paid for."""
    await _parsed_ids(request)


async def verdicts(request: Request) -> Response:
    parsed = await _parsed_ids(request)
    pubkeys = [v for k, v in parsed if k == "pubkey"]
    hashes = [v for k, v in parsed if k == "agent_hash"]
    found = await fetch_nodes(api_state(request).pool, pubkeys, hashes)
    by_id = {n.pubkey: n for n in found} | {n.agent_hash: n for n in found}
    data: list[dict[str, Any]] = []
    for _, value in parsed:
        node = by_id.get(value)
        if node is None:
            data.append({"id": value, "found": False})
        else:
            data.append({"id": value, "found": True, **verdict_block(node)})
    return json_bytes(dumps({"data": data}))


routes = [Route("/api/verdicts", verdicts, methods=["POST"])]
