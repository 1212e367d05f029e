"""Integration: bodies of the paid routes (profile, verdicts), app built without a paywall."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from satrank.api import body as api_body
from satrank.api.app import create_app
from satrank.api.body import loads_json
from satrank.config import Settings
from tests.api_seed import OPERATOR, OPERATOR_SECRET, agent_hash, pubkey, seed
from tests.live_server import live_server

SETTINGS = Settings.from_environ({"L402_MACAROON_SECRET": "x" * 40,
                                  "OPERATOR_BYPASS_SECRET": OPERATOR_SECRET})


@pytest.fixture
def api(db_dsn: str) -> Iterator[tuple[httpx.Client, list[str]]]:
    pks = asyncio.run(seed(db_dsn))
    with live_server(create_app(SETTINGS, db_dsn)) as url, \
            httpx.Client(base_url=url, timeout=10, headers=OPERATOR) as client:
        yield client, pks


def test_profile_carries_the_evidence(api: tuple[httpx.Client, list[str]]) -> None:
    client, pks = api
    response = client.get(f"/api/profile/{agent_hash(pks[1])}")
    assert response.status_code == 200
    assert response.headers["cache-control"] == "private, no-store"
    data = response.json()["data"]
    assert data["agent"]["publicKey"] == pks[1]
    assert data["score"]["verdict"] == "SAFE" and data["score"]["rank"] == 80
    assert data["centrality"]["pagerankPercentile"] == 98.0
    assert data["features"] == {"channels": 2}
    # ring: node 1 has two channels (to node 0 and node 2)
    assert data["graph"]["channels"] == 2 and data["graph"]["peers"] == 2
    assert data["graph"]["capacitySat"] == 1_000_000 + 2_000_000
    assert [p["amountSat"] for p in data["posteriors"]] == [1_000, 100_000]
    assert data["posteriors"][0]["ci95_low"] == 0.6
    assert data["probes"]["byAmount"] == [
        {"amountSat": 100_000, "total": 1, "reached": 1,
         "lastAt": data["probes"]["recent"][0]["sentAt"]}]
    assert data["reports"]["total"] == 0
    outbound = data["feePolicy"]["outbound"]
    inbound = data["feePolicy"]["inbound"]
    assert outbound["channels"] == 2 and inbound["channels"] == 2
    # uint32-max fee rates (seen on mainnet) survive as numbers
    assert max(outbound["feeRatePpm"]["max"], inbound["feeRatePpm"]["max"]) == 4294967295
    assert len(data["history"]) == 1


def test_profile_of_unknown_and_invalid(api: tuple[httpx.Client, list[str]]) -> None:
    client, _ = api
    assert client.get(f"/api/profile/{pubkey(77)}").status_code == 404
    assert client.get("/api/profile/nothex").json()["error"]["code"] == "INVALID_ID"


def test_unscored_profile_has_null_score(api: tuple[httpx.Client, list[str]]) -> None:
    client, pks = api
    data = client.get(f"/api/profile/{pks[5]}").json()["data"]
    assert data["score"] is None and data["centrality"] is None
    assert data["posteriors"] == [] and data["history"] == []


def test_batch_verdicts_in_request_order(api: tuple[httpx.Client, list[str]]) -> None:
    client, pks = api
    ids = [pks[2], agent_hash(pks[0]), pubkey(500), pks[2]]
    response = client.post("/api/verdicts", json={"ids": ids})
    assert response.status_code == 200
    data = response.json()["data"]
    assert [d["id"] for d in data] == ids
    assert [d["found"] for d in data] == [True, True, False, True]
    assert data[0]["verdict"] == "RISKY" and data[1]["publicKey"] == pks[0]
    legacy = client.post("/api/verdicts", json={"hashes": [agent_hash(pks[1])]})
    assert legacy.json()["data"][0]["verdict"] == "SAFE"


def test_a_paid_body_is_parsed_once_for_the_check_and_the_route(
        api: tuple[httpx.Client, list[str]], monkeypatch: pytest.MonkeyPatch) -> None:
    client, pks = api
    parses: list[bytes] = []

    def counted(raw: bytes) -> Any:
        parses.append(raw)
        return loads_json(raw)

    monkeypatch.setattr(api_body, "loads_json", counted)
    response = client.post("/api/verdicts", json={"ids": [pks[2]]})
    assert response.status_code == 200 and response.json()["data"][0]["verdict"] == "RISKY"
    assert len(parses) == 1  # the paywall's input check and the route share it


@pytest.mark.parametrize("body, field", [
    ({}, "ids"),
    ({"ids": []}, "ids"),
    ({"ids": ["02" + "a" * 64] * 101}, "ids"),
    ({"ids": ["02" + "a" * 64, "secret-looking-value"]}, "ids[1]"),
    ({"ids": [5]}, "ids[0]"),
    ({"ids": ["02" + "a" * 64], "hashes": ["02" + "a" * 64]}, "ids"),
    ({"ids": ["02" + "a" * 64], "extra": 1}, "extra"),
])
def test_batch_verdicts_validation(api: tuple[httpx.Client, list[str]], body: object,
                                   field: str) -> None:
    client, _ = api
    response = client.post("/api/verdicts", json=body)
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "VALIDATION_ERROR" and error["details"]["field"] == field
    assert "secret-looking-value" not in response.text


def test_verdicts_body_must_be_a_json_object(api: tuple[httpx.Client, list[str]]) -> None:
    client, _ = api
    headers = {"Content-Type": "application/json"}
    broken = client.post("/api/verdicts", content=b"{not json", headers=headers)
    assert broken.status_code == 400 and broken.json()["error"]["code"] == "MALFORMED_JSON"
    array = client.post("/api/verdicts", content=b"[1]", headers=headers)
    assert array.status_code == 422
