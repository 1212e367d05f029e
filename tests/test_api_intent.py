"""Integration: POST /api/intent over real HTTP and Postgres: the 402 of DEPLOY.md's smoke
test, input refused before payment, the answer for node and invoice targets, payers, and
an unknown node's credits given back."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import coincurve
import httpx
import pytest

from satrank.api.app import create_app
from satrank.lightning.bolt11 import HopHint, PaymentRequest, encode
from tests.api_seed import OPERATOR, OPERATOR_SECRET, agent_hash, pubkey, seed
from tests.l402_support import CHALLENGE, PreimageIssuer, paid_authorization, settings_for
from tests.live_server import live_server
from tests.registry_seed import register_endpoint

PAYEE_KEY = coincurve.PrivateKey(b"\x11" * 32)  # a private node: not in the graph


class Api:
    def __init__(self, http: httpx.Client, issuer: PreimageIssuer, pks: list[str]) -> None:
        self.http, self.issuer, self.pks = http, issuer, pks

    def intent(self, body: object, headers: dict[str, str] | None = None) -> httpx.Response:
        return self.http.post("/api/intent", json=body, headers=headers or OPERATOR)

    def token(self) -> dict[str, str]:
        challenge = self.http.post("/api/intent", json={"target": self.pks[1],
                                                        "amount_sat": 1000})
        return paid_authorization(challenge, self.issuer)


@pytest.fixture
def api(db_dsn: str) -> Iterator[Api]:
    pks = asyncio.run(seed(db_dsn))
    issuer = PreimageIssuer()
    app = create_app(settings_for(OPERATOR_BYPASS_SECRET=OPERATOR_SECRET), db_dsn,
                     invoice_issuer=issuer)
    with live_server(app) as base, httpx.Client(base_url=base, timeout=30) as http:
        yield Api(http, issuer, pks)


def invoice(*, amount_msat: int = 5_000_000, network: str = "bcrt", age_s: int = 0,
            hints: tuple[tuple[HopHint, ...], ...] = ()) -> str:
    return encode(PaymentRequest(
        network=network, amount_msat=amount_msat, timestamp=int(time.time()) - age_s,
        payment_hash=b"\x01" * 32, payment_secret=b"\x02" * 32, description="coffee",
        description_hash=None, expiry_s=3600, min_final_cltv=18, route_hints=hints,
        features=(8, 14)), PAYEE_KEY)


def hint_from(pk: str) -> tuple[HopHint, ...]:
    return (HopHint(node_id=bytes.fromhex(pk), chan_id=(900_000 << 40) | 7,
                    fee_base_msat=1000, fee_proportional_millionths=100,
                    cltv_expiry_delta=40),)


def test_smoke_test_of_deploy_md_gets_an_l402_challenge(api: Api) -> None:
    """DEPLOY.md: `{"target": <64hex>, "caller": <64hex>}` answers 402 with the challenge."""
    response = api.http.post("/api/intent", json={"target": agent_hash(api.pks[1]),
                                                  "caller": agent_hash(api.pks[0])})
    assert response.status_code == 402
    assert CHALLENGE.match(response.headers.get_list("www-authenticate")[0])
    assert response.json()["error"]["details"]["price"] == 2


BAD = {
    "target-not-an-id": ({"target": "nothex", "amount_sat": 10}, 422, "VALIDATION_ERROR"),
    "bad-invoice": ({"target": "lnbcrt1notaninvoice", "amount_sat": 10}, 422,
                    "INVALID_INVOICE"),
    "url-loopback": ({"target": "https://127.0.0.1/paid"}, 422, "VALIDATION_ERROR"),
    "url-plain-http": ({"target": "http://example.com/paid"}, 422, "VALIDATION_ERROR"),
    "url-credentials": ({"target": "https://u:p@example.com/paid"}, 422, "VALIDATION_ERROR"),
    "url-fresh": ({"target": "https://example.com/paid", "fresh": True}, 422,
                  "VALIDATION_ERROR"),
    "caller-not-an-id": ({"target": pubkey(1), "caller": "x", "amount_sat": 10}, 422,
                         "VALIDATION_ERROR"),
    "caller-peers-not-a-list": ({"target": pubkey(1), "caller_peers": pubkey(2)}, 422,
                                "VALIDATION_ERROR"),
    "caller-peers-empty": ({"target": pubkey(1), "caller_peers": []}, 422,
                           "VALIDATION_ERROR"),
    "caller-peers-too-many": ({"target": pubkey(1),
                               "caller_peers": [pubkey(i) for i in range(9)]}, 422,
                              "VALIDATION_ERROR"),
    "caller-peer-not-an-id": ({"target": pubkey(1), "caller_peers": [pubkey(2), 7]}, 422,
                              "VALIDATION_ERROR"),
    "amount-zero": ({"target": pubkey(1), "amount_sat": 0}, 422, "VALIDATION_ERROR"),
    "amount-too-big": ({"target": pubkey(1), "amount_sat": 10**9}, 422, "VALIDATION_ERROR"),
    "fee-negative": ({"target": pubkey(1), "amount_sat": 10, "max_fee_sat": -1}, 422,
                     "VALIDATION_ERROR"),
    "fresh-not-bool": ({"target": pubkey(1), "amount_sat": 10, "fresh": "yes"}, 422,
                       "VALIDATION_ERROR"),
    "unknown-field": ({"target": pubkey(1), "amount_sat": 10, "x": 1}, 422,
                      "VALIDATION_ERROR"),
}


@pytest.mark.parametrize("case", list(BAD), ids=list(BAD))
def test_bad_input_is_refused_before_payment_is_asked(api: Api, case: str) -> None:
    body, status, code = BAD[case]
    response = api.http.post("/api/intent", json=body)
    assert response.status_code == status, response.text
    assert response.json()["error"]["code"] == code
    assert "www-authenticate" not in response.headers and api.issuer.calls == []


def test_missing_amount_without_an_invoice_amount(api: Api) -> None:
    """A node target defaults to the tier amount; an invoice without amount needs one."""
    tier = api.intent({"target": api.pks[1]}).json()["data"]
    assert tier["amountSat"] == 100_000 and not tier["model"]["moved"]
    response = api.http.post("/api/intent", json={"target": invoice(amount_msat=0)})
    assert response.status_code == 422
    assert response.json()["error"]["details"]["field"] == "amount_sat"
    differs = api.http.post("/api/intent", json={"target": invoice(), "amount_sat": 1})
    assert differs.status_code == 422 and api.issuer.calls == []


def test_invoice_of_another_network_is_refused(api: Api) -> None:
    api.token()  # the paywall learns this deployment's network (regtest) from its invoice
    response = api.http.post("/api/intent", json={"target": invoice(network="bc")})
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "WRONG_NETWORK"


def test_node_target_answer(api: Api) -> None:
    response = api.intent({"target": api.pks[2], "caller": api.pks[0], "amount_sat": 10_000})
    assert response.status_code == 200, response.text
    data = response.json()["data"]
    assert data["decision"] in {"proceed", "caution", "avoid"} and data["reasons"]
    assert 0 <= data["ci95Low"] <= data["pSuccess"] <= data["ci95High"] <= 1
    assert data["payer"]["publicKey"] == api.pks[0] and data["payer"]["basis"] == "caller"
    assert data["maxFeeSat"] == 55  # the normal budget: 0.5 % + 5 sat
    route = data["route"]
    # around the ring 0-1-2 (the other way, 5 -> 0 charges a uint32-max fee rate)
    assert [h["pubkey"] for h in route["hops"]] == [api.pks[1], api.pks[2]]
    assert route["feeSat"] == pytest.approx(10_000 * 100e-6)  # node 1's 100 ppm, no base
    target = data["target"]
    assert target["verdict"] == "RISKY" and target["pSuccess"] == pytest.approx(0.75)
    assert target["lastProbeAt"] is not None and target["evidenceAgeS"] >= 500
    assert data["invoice"] is None and data["basis"] == "node_score_conditioned"


def test_unknown_or_private_caller_falls_back_to_the_reference_payer(api: Api) -> None:
    unknown = api.intent({"target": api.pks[1], "caller": pubkey(77), "amount_sat": 1000})
    data = unknown.json()["data"]
    assert data["payer"]["basis"] == "reference_unknown_caller"
    assert data["payer"]["isReference"] and data["payer"]["reference"] == "largest_node"
    none = api.intent({"target": agent_hash(api.pks[2]), "amount_sat": 1000}).json()["data"]
    assert none["payer"]["basis"] == "reference_no_caller"


def test_a_private_caller_is_answered_from_its_channel_peers(api: Api) -> None:
    """A wallet whose only channel (to node 0) is private: its routes start at node 0,
    which forwards and charges, so it pays more than node 0 paying itself; peers the graph
    does not know are left out, and with none known the reference payer answers."""
    own = api.intent({"target": api.pks[2], "caller": api.pks[0],
                      "amount_sat": 10_000}).json()["data"]
    body = {"target": api.pks[2], "caller_peers": [api.pks[0], pubkey(77)],
            "amount_sat": 10_000}
    data = api.intent(body).json()["data"]
    assert data["payer"]["basis"] == "caller_peers" and data["payer"]["publicKey"] is None
    assert data["payer"]["peers"] == [api.pks[0]] and not data["payer"]["isReference"]
    assert data["paymentBasis"]["payer"] == f"caller_peers:{api.pks[0]}"
    route = data["route"]
    assert [h["pubkey"] for h in route["hops"]] == [api.pks[1], api.pks[2]]
    assert route["feeSat"] > own["route"]["feeSat"]  # node 0's own fee on 0 -> 1 is charged
    assert data["model"]["moved"] and data["basis"] == "node_score_conditioned"
    tight = api.intent({**body, "max_fee_sat": 1}).json()["data"]
    assert tight["pSuccess"] == 0.0 and tight["decision"] == "avoid"
    assert api.intent({"target": api.pks[2], "caller": api.pks[0], "amount_sat": 10_000,
                       "max_fee_sat": 1}).json()["data"]["pSuccess"] > 0
    unknown = api.intent({"target": api.pks[2], "caller_peers": [pubkey(77)],
                          "amount_sat": 10_000}).json()["data"]
    assert unknown["payer"]["basis"] == "reference_unknown_caller"
    assert unknown["payer"]["peers"] == []


def test_fee_budget_of_zero_leaves_no_route_and_avoid(api: Api) -> None:
    data = api.intent({"target": api.pks[1], "caller": api.pks[4], "amount_sat": 10_000,
                       "max_fee_sat": 0}).json()["data"]
    assert data["decision"] == "avoid" and data["pSuccess"] == 0.0 and data["route"] is None


def test_private_payee_is_reached_through_its_route_hint(api: Api) -> None:
    data = api.intent({"target": invoice(hints=(hint_from(api.pks[2]),)),
                       "caller": api.pks[0]}).json()["data"]
    assert data["amountSat"] == 5_000
    inv = data["invoice"]
    assert inv["payee"] == PAYEE_KEY.public_key.format().hex()
    assert inv["signatureValid"] and not inv["expired"] and inv["routeHintUsed"]
    assert data["route"]["usesRouteHint"] and data["route"]["hops"][-1]["routeHint"]
    assert data["pSuccess"] > 0 and data["basis"] == "route_model_only"
    without = api.intent({"target": invoice(), "caller": api.pks[0]}).json()["data"]
    assert without["decision"] == "avoid" and without["route"] is None


def test_expired_invoice_is_avoid(api: Api) -> None:
    data = api.intent({"target": invoice(age_s=7200, hints=(hint_from(api.pks[2]),))}
                      ).json()["data"]
    assert data["invoice"]["expired"] and data["decision"] == "avoid"
    assert any("expired" in r for r in data["reasons"])


def test_unknown_node_after_payment_is_404_and_refunded(api: Api) -> None:
    auth = api.token()
    unknown = api.intent({"target": pubkey(77), "amount_sat": 1000}, auth)
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "NOT_FOUND"
    assert unknown.headers["x-l402-credits-left"] == "21"
    ok = api.intent({"target": api.pks[1], "amount_sat": 1000}, auth)
    assert ok.status_code == 200 and ok.headers["x-l402-credits-left"] == "19"


ENDPOINT = "https://paid.example/v1/answer"
def test_endpoint_target_combines_its_stages_with_the_payee_payment(
        api: Api, db_dsn: str) -> None:
    # checked often enough that its stages leave room for the payment's p under proceed
    register_endpoint(db_dsn, ENDPOINT, api.pks[1], checks=60)
    response = api.intent({"target": ENDPOINT, "caller": api.pks[0]})
    assert response.status_code == 200, response.text
    data = response.json()["data"]
    endpoint = data["endpoint"]
    assert endpoint["url"] == ENDPOINT and endpoint["verdict"] == "SAFE"
    assert [s["stage"] for s in endpoint["stages"]] == ["challenge", "invoice", "payment",
                                                        "delivery"]
    assert data["priceSat"] == endpoint["priceSat"] == 10 and data["amountSat"] == 10
    payment = data["payment"]  # the node intent: the payee, at the price, from the caller
    assert payment["target"]["publicKey"] == api.pks[1] and payment["amountSat"] == 10
    assert payment["payer"]["publicKey"] == api.pks[0] and payment["maxFeeSat"] == 6
    # the registry's own payment stage is replaced by the caller's payment
    stages = {s["stage"]: s["p"] for s in endpoint["stages"]}
    expected = stages["challenge"] * stages["invoice"] * stages["delivery"] * payment[
        "pSuccess"]
    assert data["pSuccess"] == pytest.approx(expected)
    assert 0 <= data["ci95Low"] <= data["pSuccess"] <= data["ci95High"] <= 1
    assert data["basis"] == "endpoint_stages_x_payment"
    # a SAFE endpoint, a payment the node intent says to proceed with: proceed
    assert payment["decision"] == "proceed" and data["decision"] == "proceed", data["reasons"]
    assert data["ci95Low"] >= 0.5 and data["reasons"][0].startswith("pSuccess")


def test_endpoint_that_never_delivers_is_avoid_with_the_registry_reason(
        api: Api, db_dsn: str) -> None:
    register_endpoint(db_dsn, ENDPOINT, api.pks[1], delivers=False)
    data = api.intent({"target": ENDPOINT}).json()["data"]
    assert data["decision"] == "avoid" and data["endpoint"]["verdict"] == "RISKY"
    assert "the endpoint's verdict is RISKY" in data["reasons"]
    assert "endpoint delivery:NOT_DELIVERED" in data["reasons"]


def test_endpoint_whose_payee_is_outside_the_graph_is_avoid(api: Api, db_dsn: str) -> None:
    register_endpoint(db_dsn, ENDPOINT, pubkey(77))
    data = api.intent({"target": ENDPOINT}).json()["data"]
    assert data["decision"] == "avoid" and data["payment"] is None
    assert data["pSuccess"] == 0.0 and data["basis"] == "no_payee"
    assert any("payee node is unknown" in r for r in data["reasons"])


def test_unregistered_endpoint_after_payment_is_404_refunded_and_says_how_to_register(
        api: Api) -> None:
    auth = api.token()
    response = api.intent({"target": "https://unlisted.example/x"}, auth)
    assert response.status_code == 404, response.text
    error = response.json()["error"]
    assert error["code"] == "NOT_FOUND" and "POST /api/services" in error["message"]
    assert response.headers["x-l402-credits-left"] == "21"
