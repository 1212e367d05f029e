"""The quality stage's parts: finding the response schema a service declares (its manifest
or its OpenAPI document), validating a delivered body against it, and how scoring counts
the outcome (a skipped check is no evidence; a mismatch is a failure with its path)."""

from __future__ import annotations

import json

from satrank.registry.manifest import parse_manifest
from satrank.registry.quality import check_body, openapi_response_schema
from satrank.scoring.registry import StageObservation, score_endpoint

SERVICE = "https://api.example.com/v1/weather"
WEATHER = {"type": "object", "required": ["data"], "properties": {"data": {
    "type": "object", "required": ["temp"], "properties": {"temp": {"type": "number"}}}}}
OPENAPI = {
    "openapi": "3.1.0",
    "paths": {"/v1/weather": {"get": {"responses": {"200": {"content": {
        "application/json": {"schema": {"$ref": "#/components/schemas/Weather"}}}}}}}},
    "components": {"schemas": {"Weather": WEATHER}},
}


def test_a_body_that_matches_passes() -> None:
    assert check_body(WEATHER, b'{"data": {"temp": 21.5}}') == (True, "OK")


def test_a_mismatch_names_the_first_error_path() -> None:
    assert check_body(WEATHER, b'{"data": {"temp": "warm"}}') == (
        False, "SCHEMA_MISMATCH@/data/temp")
    assert check_body(WEATHER, b'[1]') == (False, "SCHEMA_MISMATCH@/")
    assert check_body(WEATHER, b"<html>") == (False, "NOT_JSON")


def test_no_schema_or_an_unusable_one_skips_the_stage() -> None:
    assert check_body(None, b"anything") == (True, "NO_SCHEMA")
    assert check_body({"type": 12}, b"{}") == (True, "SCHEMA_INVALID")
    # a reference we would have to fetch: never fetched
    assert check_body({"$ref": "https://schemas.example.com/x.json"}, b"{}") == (
        True, "SCHEMA_INVALID")


def test_a_path_from_the_body_is_short_and_printable_in_the_reason() -> None:
    schema = {"type": "object", "additionalProperties": {"type": "integer"}}
    ok, reason = check_body(schema, json.dumps({"a/b~\n" + "x" * 500: "no"}).encode())
    assert not ok and reason.startswith("SCHEMA_MISMATCH@/a~1b~0?xxx")
    assert len(reason) <= len("SCHEMA_MISMATCH@") + 120


def test_openapi_operation_schema_with_refs_into_components() -> None:
    schema = openapi_response_schema(OPENAPI, "/v1/weather", "GET")
    assert schema is not None
    assert check_body(schema, b'{"data": {"temp": 3}}') == (True, "OK")
    assert check_body(schema, b'{"data": {}}') == (False, "SCHEMA_MISMATCH@/data")
    assert openapi_response_schema(OPENAPI, "/v1/other", "GET") is None
    assert openapi_response_schema(OPENAPI, "/v1/weather", "POST") is None
    assert openapi_response_schema(["not", "a", "document"], "/v1/weather", "GET") is None


def test_the_manifest_carries_resource_schemas_and_its_openapi_link() -> None:
    body = json.dumps({"openapi": "/openapi.json", "resources": [
        {"method": "GET", "path": "/v1/weather", "priceSat": 5, "responseSchema": WEATHER},
        {"method": "GET", "path": "/v1/plain", "responseSchema": "not a schema"}]}).encode()
    manifest = parse_manifest(body, SERVICE, allow_private=False)
    assert manifest is not None
    assert manifest.openapi_url == "https://api.example.com/openapi.json"
    assert [r.response_schema for r in manifest.resources] == [WEATHER, None]
    elsewhere = json.dumps({"openapi": "https://other.example.com/openapi.json"}).encode()
    assert parse_manifest(elsewhere, SERVICE, allow_private=False).openapi_url is None  # type: ignore[union-attr]


def _check(quality_reason: str | None, age_s: float) -> list[StageObservation]:
    done = [StageObservation(stage, True, "OK", 10, age_s)
            for stage in ("challenge", "invoice", "payment", "delivery")]
    if quality_reason is not None:
        done.append(StageObservation("quality", quality_reason in ("OK", "NO_SCHEMA"),
                                     quality_reason, 1, age_s))
    return done


def test_skipped_quality_checks_are_no_evidence() -> None:
    skipped = score_endpoint([o for i in range(20) for o in _check("NO_SCHEMA", i)],
                             half_life_s=86_400)
    untested = score_endpoint([o for i in range(20) for o in _check(None, i)],
                              half_life_s=86_400)
    assert skipped == untested
    assert "quality" not in [s.stage for s in skipped.stages]


def test_a_schema_mismatch_lowers_p_and_is_named() -> None:
    broken = score_endpoint([o for i in range(20) for o in _check(
        "SCHEMA_MISMATCH@/data/temp", i)], half_life_s=86_400)
    passing = score_endpoint([o for i in range(20) for o in _check("OK", i)],
                             half_life_s=86_400)
    assert broken.reasons[0] == "quality:SCHEMA_MISMATCH@/data/temp"
    assert broken.verdict == "RISKY" and passing.verdict == "SAFE"
    assert [s.stage for s in passing.stages][-1] == "quality"
    assert broken.p_success < 0.5 * passing.p_success
