"""GET /.well-known/nostr.json: NIP-05 for the oracle's Nostr key, built from configuration.

`{"names": {<NOSTR_NIP05_NAME>: <hex pubkey>}, "relays": {<hex pubkey>: [NOSTR_RELAYS]}}`
with `Access-Control-Allow-Origin: *` (NIP-05: web clients fetch it cross-origin), the key
as lowercase hex (never npub) and no redirect. The pubkey is derived from
NOSTR_PRIVATE_KEY, so it cannot drift from the key that signs the events.
"""

from __future__ import annotations

from functools import lru_cache

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from satrank.api.errors import ApiError
from satrank.api.state import api_state
from satrank.nostr.keys import NostrKey

CORS = {"Access-Control-Allow-Origin": "*"}


@lru_cache(maxsize=4)
def _pubkey_of(secret_text: str) -> str:
    return NostrKey.parse(secret_text).pubkey_hex


async def nostr_json(request: Request) -> JSONResponse:
    nostr = api_state(request).nostr
    if nostr.private_key is None:
        raise ApiError(404, "NOSTR_NOT_CONFIGURED", "this oracle has no Nostr identity",
                       headers=CORS)
    pubkey = _pubkey_of(nostr.private_key.reveal())
    asked = request.query_params.get("name")
    names = {} if asked is not None and asked.lower() != nostr.nip05_name else {
        nostr.nip05_name: pubkey
    }
    body = {"names": names, "relays": {pubkey: list(nostr.relays)} if names else {}}
    return JSONResponse(body, headers={**CORS, "Cache-Control": "public, max-age=300"})


routes = [Route("/.well-known/nostr.json", nostr_json, methods=["GET"])]
