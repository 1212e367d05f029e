"""Loopback L402 services for the registry tests, each misbehaving its own way, with real
BOLT 11 invoices: minted by simnet's oracle node (so a payment settles and yields the
preimage), or signed by a key no simnet node holds (a payee nobody can reach).

Every service sells one resource for PRICE_SAT; the host's /.well-known/l402.json
advertises them all at that price, with the response schemas the test declares (in the
manifest itself or in the OpenAPI document it links). The credential check is the real one:
the preimage's sha256 must be the payment hash of an invoice this service handed out.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import itertools
import secrets
import time
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import coincurve
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response, StreamingResponse
from starlette.routing import Route

from satrank.l402.headers import MalformedCredential, build_challenge, parse_authorization
from satrank.lightning.bolt11 import PaymentRequest, encode
from satrank.lightning.lnd import LndClient
from tests.simnet_fixture import SimnetHandle

PRICE_SAT = 10
SERVICES = ("good", "flaky", "mismatch", "nodeliver", "offline", "plain", "drip", "redirect")
FORBIDDEN_TARGET = "http://169.254.169.254/latest/meta-data/"


@dataclass
class Invoices:
    """Invoices handed out in order; the payment hashes this service would accept."""
    texts: list[str]
    issued: set[bytes] = field(default_factory=set)
    _next: itertools.count[int] = field(default_factory=itertools.count)

    def take(self, hash_of: Callable[[str], bytes]) -> str:
        text = self.texts[next(self._next) % len(self.texts)]
        self.issued.add(hash_of(text))
        return text


def unreachable_invoice(amount_sat: int) -> str:
    """An invoice of a node outside simnet's graph: it decodes, nobody can pay it."""
    preimage = secrets.token_bytes(32)
    return encode(PaymentRequest(
        network="bcrt", amount_msat=amount_sat * 1000, timestamp=int(time.time()),
        payment_hash=hashlib.sha256(preimage).digest(), payment_secret=secrets.token_bytes(32),
        description="unreachable", description_hash=None, expiry_s=3600, min_final_cltv=40,
    ), coincurve.PrivateKey())


def services_app(invoices: dict[str, Invoices], hash_of: Callable[[str], bytes], *,
                 names: Sequence[str] = SERVICES,
                 schemas: Mapping[str, dict[str, Any]] | None = None,
                 openapi: dict[str, Any] | None = None, provider_key: str | None = None,
                 header_keys: Mapping[str, str] | None = None) -> Starlette:
    """`names`: the services the host offers (any name not special-cased below behaves as
    `good`); `schemas`: a response schema per name, declared in the manifest; `openapi`:
    an OpenAPI document the manifest links; `provider_key`: the manifest's provider key;
    `header_keys`: the provider key a service's 402 carries in L402-Provider-Key."""
    counters = {name: itertools.count() for name in names}

    def challenge(name: str) -> Response:
        invoice = invoices[name].take(hash_of)
        mac = base64.b64encode(hash_of(invoice)).decode()
        headers = {"WWW-Authenticate": build_challenge(mac, invoice)}
        if header_keys and name in header_keys:
            headers["L402-Provider-Key"] = header_keys[name]
        return JSONResponse({"error": "payment required"}, status_code=402, headers=headers)

    def paid(request: Request, name: str) -> bool:
        try:
            credential = parse_authorization(request.headers.get("authorization", ""))
        except MalformedCredential:
            return False
        return hashlib.sha256(credential.preimage).digest() in invoices[name].issued

    async def l402(request: Request) -> Response:
        name = request.path_params["name"]
        n = next(counters[name])
        if name == "flaky" and n % 10 in (0, 3, 6):  # 30 % of requests
            return JSONResponse({"error": "overloaded"}, status_code=503)
        if name == "nodeliver" or not paid(request, name):
            return challenge(name)
        return JSONResponse({"data": {"service": name}})

    async def plain(request: Request) -> Response:
        return JSONResponse({"data": "free and not L402"})

    async def drip(request: Request) -> Response:
        async def body() -> AsyncIterator[bytes]:
            for _ in range(600):
                yield b" "
                await asyncio.sleep(0.05)
        return StreamingResponse(body(), status_code=402, media_type="application/json")

    async def redirect(request: Request) -> Response:
        return RedirectResponse(FORBIDDEN_TARGET, status_code=302)

    async def manifest(request: Request) -> Response:
        base = str(request.base_url).rstrip("/")
        resources = [{"method": "GET", "url": f"{base}/svc/{name}", "priceSat": PRICE_SAT}
                     for name in names]
        for resource, name in zip(resources, names, strict=True):
            if schemas and name in schemas:
                resource["responseSchema"] = schemas[name]
        provider = {"name": "test services"}
        if provider_key is not None:
            provider["node"] = provider_key
        doc: dict[str, Any] = {"version": 1, "provider": provider, "resources": resources}
        if openapi is not None:
            doc["openapi"] = "/openapi.json"
        return JSONResponse(doc)

    async def openapi_doc(request: Request) -> Response:
        return JSONResponse(openapi)

    return Starlette(routes=[
        Route("/svc/plain", plain), Route("/svc/drip", drip),
        Route("/svc/redirect", redirect), Route("/svc/{name}", l402),
        Route("/.well-known/l402.json", manifest), Route("/openapi.json", openapi_doc),
    ])


def lnd_client(host: str, lnd_dir: Path, macaroon: str) -> LndClient:
    return LndClient.connect(host, (lnd_dir / "tls.cert").read_bytes(),
                             (lnd_dir / f"{macaroon}.macaroon").read_bytes())


async def simnet_invoices(simnet: SimnetHandle, *, each: int) -> dict[str, Invoices]:
    """Oracle-node invoices for the services that take payments; others never pay out."""
    async with lnd_client(simnet.oracle_host, simnet.oracle_dir, "invoice") as node:
        async def mint(amount: int) -> list[str]:
            return [(await node.add_invoice(amount, "registry test", 3600)).payment_request
                    for _ in range(each)]
        made = {name: Invoices(await mint(PRICE_SAT)) for name in ("good", "flaky", "nodeliver")}
        made["mismatch"] = Invoices(await mint(PRICE_SAT + 15))
    made["offline"] = Invoices([unreachable_invoice(PRICE_SAT) for _ in range(each)])
    return made
