"""GET /.well-known/l402.json: SatRank's own L402 discovery manifest, built from the price
table the paywall charges by (api/prices.py), so it cannot list a route or a price the
paywall does not.

    {"version": 1, "provider": {"name", "url", "node"}, "payment": {"scheme": "L402",
     "challengeCredits", "challengePriceSat"}, "resources": [{"method", "path", "url",
     "credits", "priceSat"}]}

`priceSat` is what one call costs (credits x L402_CHALLENGE_PRICE_SAT, the sat per credit); the
registry's crawler reads other hosts' manifests in this shape (registry/manifest.py).
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from satrank.api.prices import ROUTE_PRICES
from satrank.api.render import dumps, json_bytes
from satrank.api.state import api_state

MANIFEST_VERSION = 1
CORS = {"Access-Control-Allow-Origin": "*", "Cache-Control": "public, max-age=300"}


async def manifest(request: Request) -> Response:
    state = api_state(request)
    l402 = state.paywall.l402
    base = str(request.base_url).rstrip("/")
    return json_bytes(dumps({
        "version": MANIFEST_VERSION,
        "provider": {"name": "SatRank", "url": base, "node": state.paywall.deployment},
        "payment": {"scheme": "L402", "challengeCredits": l402.challenge_credits,
                    "challengePriceSat": l402.challenge_price_sat},
        "resources": [{"method": method, "path": path, "url": base + path, "credits": credits,
                       "priceSat": credits * l402.challenge_price_sat}
                      for (method, path), credits in ROUTE_PRICES.items()],
    }), headers=CORS)


routes = [Route("/.well-known/l402.json", manifest, methods=["GET"])]
