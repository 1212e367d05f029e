"""The OpenAPI 3.1 document, hand-written and served as JSON at /api/openapi.json.

Kept next to the routes it describes; a schemathesis test (tests/test_api_openapi.py)
checks that the server never answers outside it. Schemas live in openapi_schemas.py.

One convention for every route: success answers in `{"data": ...}` (health, this
document, nostr.json and /metrics keep their own formats); a request body that is not
JSON is 400 MALFORMED_JSON, a JSON body that is not the documented object or has a bad
field is 422 VALIDATION_ERROR with `details.field`, a bad path id or query parameter is
400 (INVALID_ID, INVALID_PARAMETER), a body sent as anything but JSON is 415.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from satrank import __version__
from satrank.api.routes import openapi_intent as oi
from satrank.api.routes import openapi_schemas as s

_ERRORS = {
    "400": "Malformed request: invalid id (INVALID_ID), query parameter (INVALID_PARAMETER) "
           "or JSON (MALFORMED_JSON; JSON_TOO_DEEP past about 1,000 nested levels)",
    "401": "Proof required (REPORT_PROOF_REQUIRED)",
    "402": "Payment required: a fresh L402 challenge in WWW-Authenticate; the code says "
           "why: PAYMENT_REQUIRED (no credential), TOKEN_MALFORMED (not one readable "
           "credential), TOKEN_UNKNOWN (not a macaroon we issued, or altered), "
           "TOKEN_WRONG_PREIMAGE (preimage of another invoice), TOKEN_INVALID (its caveats "
           "refuse this request), TOKEN_EXPIRED, TOKEN_EXHAUSTED",
    "403": "Forbidden",
    "404": "Unknown node or route (NOT_FOUND)",
    "405": "Method not allowed (METHOD_NOT_ALLOWED)",
    "409": "Duplicate (DUPLICATE_REPORT, SERVICE_EXISTS)",
    "413": "Body too large (PAYLOAD_TOO_LARGE)",
    "415": "Content-Type must be application/json (UNSUPPORTED_MEDIA_TYPE)",
    "422": "Body field invalid (VALIDATION_ERROR); details.field names it. POST /api/intent "
           "also: INVALID_INVOICE, WRONG_NETWORK, FRESH_UNAVAILABLE",
    "429": "Rate limited (RATE_LIMITED), or too many probes in flight for this token or "
           "node (PROBE_BUSY, not charged); Retry-After gives the seconds to wait",
    "500": "Internal error (INTERNAL_ERROR)",
    "503": "Unavailable, retry after Retry-After seconds: a dependency is down "
           "(DATABASE_UNAVAILABLE, LIGHTNING_UNAVAILABLE, LEDGER_UNAVAILABLE, "
           "PROBE_UNAVAILABLE), the intent routing snapshot is still loading "
           "(SNAPSHOT_LOADING), too many new invoices are being requested (MINTING_BUSY), or "
           "the L402 token's last credits are held by another api process (CREDITS_BUSY: do "
           "not pay again). LIGHTNING_NOT_CONFIGURED (no Retry-After): this server sells no "
           "tokens until its operator configures LND",
    "504": "Upstream timeout (PROBE_TIMEOUT: charged once the probe's HTLC left our node)",
}


def _err(*codes: str) -> dict[str, Any]:
    # 503: any route may meet an unreachable database (DATABASE_UNAVAILABLE)
    return {c: {"$ref": f"#/components/responses/E{c}"}
            for c in ("405", "500", "503", *codes)}


def _ok(schema: dict[str, Any], description: str = "OK",
        headers: dict[str, Any] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"description": description,
                           "content": {"application/json": {"schema": schema}}}
    if headers:
        out["headers"] = headers
    return out


_ID_PARAM = {"name": "id", "in": "path", "required": True, "schema": s.NODE_ID}
_SERVICE_ID = {"name": "id", "in": "path", "required": True,
               "schema": {"type": "string", "pattern": "^[0-9]{1,18}$"}}
_PAID: list[dict[str, list[str]]] = [{"l402": []}, {"operator": []}]
# Sent on every answer to a request paid with an L402 token (not with the operator bypass).
_CREDITS_LEFT = {"X-L402-Credits-Left": {
    "description": "Credits left on the L402 token after this request (and any refund)",
    "schema": {"type": "integer", "minimum": 0}}}


def _json_body(schema: dict[str, Any]) -> dict[str, Any]:
    return {"required": True, "content": {"application/json": {"schema": schema}}}


def _paths() -> dict[str, Any]:
    q = "query"
    return {
        "/api/health": {"get": {"summary": "Service health", "operationId": "health",
                                "responses": {"200": _ok(s.HEALTH, "ok or degraded"),
                                              **_err(), "503": _ok(s.HEALTH, "down")}}},
        "/api/stats": {"get": {"summary": "Network and oracle counters", "operationId": "stats",
                               "responses": {"200": _ok(s.STATS), **_err()}}},
        "/api/agents/top": {"get": {
            "summary": "Leaderboard (ETag)", "operationId": "agentsTop",
            "parameters": [
                {"name": "sort_by", "in": q, "schema": {"type": "string", "enum": [
                    "rank", "p_success", "n_obs", "ci95_width", "pagerank"],
                    "default": "rank"}},
                {"name": "limit", "in": q, "schema": {"type": "integer", "minimum": 1,
                                                      "maximum": 100, "default": 20}},
                {"name": "offset", "in": q, "schema": {"type": "integer", "minimum": 0,
                                                       "maximum": 10000, "default": 0},
                 "description": "Rows to skip (shallow pages only; use cursor to go deeper)"},
                {"name": "cursor", "in": q, "schema": {"type": "string", "minLength": 1,
                                                       "maxLength": 256,
                                                       "pattern": "^[A-Za-z0-9_-]+$"},
                 "description": "Opaque: the meta.next_cursor of the previous page with "
                                "the same sort_by. Following next_cursor from the first "
                                "page until it is null reaches every node exactly once "
                                "(while scores do not change in between). Not with offset."},
                {"name": "If-None-Match", "in": "header", "schema": {"type": "string"}}],
            "responses": {"200": _ok(s.LEADERBOARD, headers={
                "ETag": {"schema": {"type": "string"}}}),
                "304": {"description": "Not modified"}, **_err("400")}}},
        "/api/agents/search": {"get": {
            "summary": "Case-insensitive alias search (prefix matches first)",
            "operationId": "agentsSearch",
            "parameters": [
                {"name": "alias", "in": q, "required": True,
                 "schema": {"type": "string", "minLength": 1, "maxLength": 64}},
                {"name": "limit", "in": q, "schema": {"type": "integer", "minimum": 1,
                                                      "maximum": 50, "default": 20}}],
            "responses": {"200": _ok(s.SEARCH), **_err("400", "429")}}},
        "/api/agent/{id}": {"get": {
            "summary": "Node summary", "operationId": "agent",
            "parameters": [_ID_PARAM, *s.BASIS_PARAMS],
            "responses": {"200": _ok(s.data(s.AGENT_SUMMARY)), **_err("400", "404", "429")}}},
        "/api/agent/{id}/verdict": {"get": {
            "summary": "Verdict with reasons (ETag, Cache-Control)", "operationId": "verdict",
            "parameters": [_ID_PARAM, {"name": "If-None-Match", "in": "header",
                                       "schema": {"type": "string"}}],
            "responses": {
                "200": _ok(s.data(s.VERDICT_BLOCK), headers={
                    "ETag": {"schema": {"type": "string"}},
                    "Cache-Control": {"schema": {"type": "string"}}}),
                "304": {"description": "Not modified"}, **_err("400", "404", "429")}}},
        "/api/profile/{id}": {"get": {
            "summary": "Full evidence (1 credit)", "operationId": "profile",
            "security": _PAID, "parameters": [_ID_PARAM],
            "responses": {"200": _ok(s.PROFILE, headers=_CREDITS_LEFT),
                          **_err("400", "402", "404", "429", "503")}}},
        "/api/verdicts": {"post": {
            "summary": "Batch verdicts for up to 100 ids (1 credit)", "operationId": "verdicts",
            "security": _PAID, "requestBody": _json_body(s.VERDICTS_REQUEST),
            "responses": {"200": _ok(s.data({"type": "array", "items": s.BATCH_ITEM}),
                                     headers=_CREDITS_LEFT),
                          **_err("400", "402", "413", "415", "422", "429", "503")}}},
        "/api/probe": {"post": {
            "summary": "Fresh probe payments from the oracle's node (5 credits)",
            "operationId": "probe", "security": _PAID,
            "requestBody": _json_body(s.PROBE_REQUEST),
            "responses": {"200": _ok(s.PROBE_RESULT, headers=_CREDITS_LEFT),
                          **_err("400", "402", "404", "413", "415", "422", "429", "503",
                                 "504")}}},
        "/api/intent": {"post": {
            "summary": "Before paying: will this payment from this payer succeed, and "
                       "should it be sent? (2 credits; 5 with fresh: true)",
            "description": "p_success of this payment (amount, fee budget) from this payer "
                           "with a 95 % interval, a decision with its thresholds and "
                           "reasons, the likeliest route's fee and hops, the target's "
                           "verdict and evidence age, and the decoded invoice. For an L402 "
                           "endpoint URL: its stage posteriors and price, the payment to "
                           "its payee, and one decision. Bad input is refused before "
                           "payment is asked; an unknown node or unregistered URL answers "
                           "404 and its credits go back. See docs/intent.md.",
            "operationId": "intent", "security": _PAID,
            "requestBody": _json_body(oi.INTENT_REQUEST),
            "responses": {"200": _ok(oi.INTENT_RESULT, headers=_CREDITS_LEFT),
                          **_err("400", "402", "404", "413", "415", "422", "429", "503",
                                 "504")}}},
        "/api/report": {"post": {
            "summary": "Report a payment outcome (verified with the target's invoice and preimage)",
            "operationId": "report", "requestBody": _json_body(s.REPORT_REQUEST),
            "responses": {"201": _ok(s.REPORT_CREATED, "Created"),
                          **_err("400", "401", "404", "409", "413", "415", "422", "429")}}},
        "/api/deposit/tiers": {"get": {
            "summary": "Credit bundles: price per credit by amount", "operationId": "depositTiers",
            "responses": {"200": _ok(s.DEPOSIT_TIERS), **_err()}}},
        "/api/deposit": {"post": {
            "summary": "Buy credits at the tier price: an invoice and its macaroon; after "
                       "paying, use them as any L402 token",
            "operationId": "deposit", "requestBody": _json_body(s.DEPOSIT_REQUEST),
            "responses": {"200": _ok(s.DEPOSIT_OFFER),
                          **_err("400", "413", "415", "422", "429")}}},
        "/api/services": {
            "get": {
                "summary": "L402 services the registry checks, filtered and sorted",
                "operationId": "services",
                "parameters": [
                    {"name": "sort_by", "in": q, "schema": {
                        "type": "string", "enum": ["p", "latency", "price"], "default": "p"},
                     "description": "p: end-to-end success, best first; latency, price: "
                                    "lowest first; unchecked services last"},
                    {"name": "category", "in": q, "schema": {"type": "string"}},
                    {"name": "q", "in": q, "schema": {"type": "string", "minLength": 1,
                                                      "maxLength": 64},
                     "description": "text in the name, description or URL"},
                    {"name": "max_price_sat", "in": q, "schema": {"type": "integer",
                                                                  "minimum": 0}},
                    {"name": "limit", "in": q, "schema": {"type": "integer", "minimum": 1,
                                                          "maximum": 100, "default": 20}},
                    {"name": "cursor", "in": q, "schema": {"type": "string", "minLength": 1,
                                                           "maxLength": 256,
                                                           "pattern": "^[A-Za-z0-9_-]+$"},
                     "description": "Opaque: meta.next_cursor of the previous page of the "
                                    "same sort_by"}],
                "responses": {"200": _ok(s.SERVICES), **_err("400", "429")}},
            "post": {
                "summary": "Register an L402 endpoint (10 credits, anti-spam; checked "
                           "before payment)",
                "operationId": "registerService", "security": _PAID,
                "requestBody": _json_body(s.SERVICE_REQUEST),
                "responses": {"201": _ok(s.SERVICE_CREATED, "Created", headers=_CREDITS_LEFT),
                              **_err("400", "402", "409", "413", "415", "422", "429")}}},
        "/api/services/categories": {"get": {
            "summary": "Service categories with their counts", "operationId": "serviceCategories",
            "responses": {"200": _ok(s.SERVICE_CATEGORIES), **_err()}}},
        "/api/services/{id}": {"get": {
            "summary": "One service's summary", "operationId": "service",
            "parameters": [_SERVICE_ID],
            "responses": {"200": _ok(s.data(s.SERVICE)), **_err("400", "404", "429")}}},
        "/api/services/{id}/stages": {"get": {
            "summary": "Recent stage-by-stage observations of a service (1 credit)",
            "operationId": "serviceStages", "security": _PAID, "parameters": [_SERVICE_ID],
            "responses": {"200": _ok(s.SERVICE_STAGES, headers=_CREDITS_LEFT),
                          **_err("400", "402", "404", "429")}}},
        "/.well-known/l402.json": {"get": {
            "summary": "This server's L402 discovery manifest (paid routes and prices)",
            "operationId": "l402Manifest",
            "responses": {"200": _ok(s.L402_MANIFEST), **_err()}}},
        "/api/openapi.json": {"get": {"summary": "This document", "operationId": "openapi",
                                      "responses": {"200": _ok({"type": "object"}), **_err()}}},
        "/api/docs": {"get": {"summary": "Human-readable docs (no CDN)", "operationId": "docs",
                              "responses": {"200": {"description": "HTML", "content": {
                                  "text/html": {"schema": {"type": "string"}}}}, **_err()}}},
        "/api/docs.js": {"get": {"summary": "Script of the docs page", "operationId": "docsJs",
                                 "responses": {"200": {"description": "JavaScript", "content": {
                                     "text/javascript": {"schema": {"type": "string"}}}},
                                     **_err()}}},
        "/.well-known/nostr.json": {"get": {
            "summary": "NIP-05 for the oracle's Nostr key", "operationId": "nostrJson",
            "parameters": [{"name": "name", "in": q, "schema": {"type": "string"}}],
            "responses": {"200": _ok({"type": "object", "properties": {
                "names": {"type": "object", "additionalProperties": s.HEX64},
                "relays": {"type": "object"}}, "required": ["names", "relays"]}),
                **_err("404")}}},
        "/metrics": {"get": {"summary": "Prometheus metrics (loopback or X-API-Key)",
                             "operationId": "metrics", "security": [{}, {"apiKey": []}],
                             "responses": {"200": {"description": "Prometheus text", "content": {
                                 "text/plain": {"schema": {"type": "string"}}}},
                                 **_err("403")}}},
    }


def build_document() -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {"title": "SatRank", "version": __version__,
                 "description": "Lightning trust oracle. Paid routes use L402 (HTTP 402 + "
                                "macaroon + BOLT11); errors share one envelope."},
        "servers": [{"url": "/"}],
        "paths": _paths(),
        "components": {
            "schemas": {"Error": s.ERROR},
            "responses": {f"E{code}": {
                "description": text,
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
            } for code, text in _ERRORS.items()},
            "securitySchemes": {
                "l402": {"type": "http", "scheme": "L402",
                         "description": "Authorization: L402 <macaroon>:<preimage hex>"},
                "operator": {"type": "apiKey", "in": "header", "name": "X-Operator-Token"},
                "apiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
            },
        },
    }


_DOCUMENT = json.dumps(build_document(), separators=(",", ":")).encode()


async def openapi(request: Request) -> Response:
    return Response(_DOCUMENT, media_type="application/json",
                    headers={"Cache-Control": "public, max-age=300"})


routes = [Route("/api/openapi.json", openapi, methods=["GET"])]
