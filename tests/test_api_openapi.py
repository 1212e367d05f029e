"""Contract: schemathesis drives every documented operation over real HTTP; the server
never answers 5xx and never answers outside /api/openapi.json. Also the docs page."""

from __future__ import annotations

import asyncio

import httpx
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.generation.case import Case
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from satrank.api.app import create_app
from satrank.config import Settings
from tests.api_seed import OPERATOR, OPERATOR_SECRET, seed
from tests.live_server import live_server
from tests.simnet_api import simnet_settings
from tests.simnet_fixture import SimnetHandle

BASE = {"L402_MACAROON_SECRET": "x" * 40, "OPERATOR_BYPASS_SECRET": OPERATOR_SECRET}
SETTINGS = Settings.from_environ(BASE)
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_headers_conformance, response_schema_conformance]
EXAMPLES = 25


def test_every_operation_conforms_to_the_document(db_dsn: str, simnet: SimnetHandle) -> None:
    asyncio.run(seed(db_dsn))
    # probes and health go to simnet over gRPC + TLS (the seeded nodes are not in its graph:
    # a probe to them ends with no route, which the document covers like any outcome)
    app = create_app(simnet_settings(simnet, BASE), db_dsn)
    with live_server(app) as url:
        schema = schemathesis.openapi.from_url(f"{url}/api/openapi.json")
        operations = [result.ok() for result in schema.get_all_operations()]
        documented = {(op.method.upper(), op.path) for op in operations}
        assert ("GET", "/api/agent/{id}") in documented
        # schemathesis skips the document's own path; every other route is exercised
        assert {("POST", "/api/report"), ("POST", "/api/verdicts"), ("POST", "/api/probe"),
                ("POST", "/api/intent"),
                ("GET", "/api/profile/{id}"), ("GET", "/metrics"),
                ("GET", "/api/deposit/tiers"), ("POST", "/api/deposit")} <= documented
        # every route the app serves is documented
        served = {(method, route.path) for route in app.routes
                  for method in getattr(route, "methods", None) or () if method != "HEAD"}
        assert served <= documented | {("GET", "/api/openapi.json")}, served - documented
        for operation in operations:
            @settings(max_examples=EXAMPLES, deadline=None, database=None,
                      suppress_health_check=list(HealthCheck))
            @given(case=operation.as_strategy())
            def check(case: Case) -> None:
                case.call_and_validate(base_url=url, checks=CHECKS, headers=OPERATOR)

            check()


def test_docs_page_renders_from_local_assets_only(db_dsn: str) -> None:
    with live_server(create_app(SETTINGS, db_dsn)) as url:
        page = httpx.get(f"{url}/api/docs", timeout=10)
        script = httpx.get(f"{url}/api/docs.js", timeout=10)
        document = httpx.get(f"{url}/api/openapi.json", timeout=10)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert '<script src="/api/docs.js">' in page.text
    assert "http://" not in page.text and "https://" not in page.text
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert 'fetch("/api/openapi.json")' in script.text
    assert document.json()["openapi"] == "3.1.0"
    assert document.headers["content-type"] == "application/json"


def test_paid_answers_document_the_credits_left_header() -> None:
    from satrank.api.routes.openapi import build_document

    paths = build_document()["paths"]
    for path, method in (("/api/profile/{id}", "get"), ("/api/verdicts", "post"),
                         ("/api/probe", "post"), ("/api/intent", "post")):
        headers = paths[path][method]["responses"]["200"]["headers"]
        assert headers["X-L402-Credits-Left"]["schema"]["type"] == "integer"


def test_every_field_of_the_intent_is_described() -> None:
    from satrank.api.routes.openapi import build_document

    post = build_document()["paths"]["/api/intent"]["post"]
    undescribed: list[str] = []

    def walk(schema: dict[str, object], where: str) -> None:
        for name, sub in (schema.get("properties") or {}).items():  # type: ignore[attr-defined]
            inner = sub.get("oneOf", [sub])[0]
            if "description" not in sub and where.count(".") > 1:
                undescribed.append(f"{where}.{name}")
            walk(inner, f"{where}.{name}")
            walk(inner.get("items") or {}, f"{where}.{name}[]")

    walk(post["requestBody"]["content"]["application/json"]["schema"], "request.body")
    walk(post["responses"]["200"]["content"]["application/json"]["schema"], "response.body")
    assert undescribed == []
