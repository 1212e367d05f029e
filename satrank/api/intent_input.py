"""The body of POST /api/intent, validated before the paywall asks for payment.

`target` is a node id (66-hex pubkey or 64-hex agent hash) or a BOLT11 invoice of this
deployment's network (decoded by lightning/bolt11.py, which checks the signature: an
invoice whose signature does not verify is refused), or an L402 endpoint's URL, checked
by the registry's rules (registry/catalogue.py: https, a public host; http and private
hosts only where REGISTRY_ALLOW_PRIVATE is set) and normalised as the registry stores it.
For a URL the amount is the endpoint's price once it is looked up (`amount_sat` is only
the fallback for an endpoint whose price the registry has not seen yet). Messages never
echo what was sent.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request

from satrank.api.body import int_in, invalid_field, json_object
from satrank.api.errors import ApiError
from satrank.api.ids import ID_DESCRIPTION, classify_id
from satrank.api.state import api_state
from satrank.db.nodes import IdKind
from satrank.lightning.bolt11 import (
    MAX_INVOICE_LEN,
    InvalidPaymentRequest,
    PaymentRequest,
    decode,
)
from satrank.registry.catalogue import InvalidEndpoint, endpoint
from satrank.scoring.payment import normal_fee_budget_sat
from satrank.scoring.tiers import DEFAULT_TIER_SAT

FIELDS = frozenset({"target", "caller", "caller_peers", "amount_sat", "max_fee_sat", "fresh"})
MAX_CALLER_PEERS = 8  # a private wallet's channels: its LSP or a few peers
MAX_AMOUNT_SAT = 10_000_000  # 0.1 BTC: above lnd's non-wumbo payment limit, MPP aside
MAX_FEE_SAT = 1_000_000
TARGET_DESCRIPTION = f"{ID_DESCRIPTION}, a BOLT11 invoice, or an L402 endpoint's https URL"
DECODED_INVOICES = 256  # decoding costs milliseconds: the check and the route share it


@dataclass(frozen=True)
class IntentRequest:
    node: tuple[IdKind, str] | None  # the target when it is a node id
    invoice: PaymentRequest | None  # the target when it is an invoice
    caller: tuple[IdKind, str] | None
    amount_sat: int
    max_fee_sat: int
    fresh: bool
    url: str | None = None  # the target when it is an L402 endpoint (normalised)
    max_fee_given: bool = True  # False: max_fee_sat is the normal budget for amount_sat
    # a private caller's channel peers (its channels are not in the public graph)
    caller_peers: tuple[tuple[IdKind, str], ...] = ()


_decoded: OrderedDict[str, PaymentRequest | str] = OrderedDict()


def _decode_cached(text: str) -> PaymentRequest:
    """`decode`, remembering the last few results (errors too) by text."""
    if len(text) > MAX_INVOICE_LEN:  # refused at once, and never kept
        raise ApiError(422, "INVALID_INVOICE", f"target is longer than an invoice can be "
                       f"({MAX_INVOICE_LEN} characters)", details={"field": "target"})
    found = _decoded.get(text)
    if found is None:
        try:
            found = decode(text)
        except InvalidPaymentRequest as exc:
            found = str(exc)
        _decoded[text] = found
        if len(_decoded) > DECODED_INVOICES:
            _decoded.popitem(last=False)
    if isinstance(found, str):
        raise ApiError(422, "INVALID_INVOICE", "target is not a valid BOLT11 invoice "
                       "(format, checksum or signature)", details={"field": "target"})
    return found


def _url_target(text: str, *, allow_private: bool) -> str:
    """The URL as the registry stores it, or 422 with the registry's rule."""
    try:
        return endpoint(text, allow_private=allow_private).url
    except InvalidEndpoint as exc:
        raise invalid_field("target", str(exc)) from None


def network_of(deployment: str | None) -> str | None:
    """The invoice network prefix of a `satrank_node` value ("bc:<pubkey>")."""
    return deployment.split(":", 1)[0] if deployment else None


def our_pubkey(deployment: str | None) -> str | None:
    """Our node's pubkey from a `satrank_node` value: the reference payer."""
    return deployment.split(":", 1)[1] if deployment and ":" in deployment else None


def _invoice(text: str, network: str | None) -> PaymentRequest:
    invoice = _decode_cached(text)
    if network is not None and invoice.network != network:
        raise ApiError(422, "WRONG_NETWORK", f"the invoice is for another network than this "
                       f"server's ({network})", details={"field": "target"})
    return invoice


def _amount(body: dict[str, Any], invoice: PaymentRequest | None) -> int:
    """The invoice's amount, else `amount_sat`; a node target without one is asked about
    the default tier (what scores speak about, and what DEPLOY.md's smoke test sends)."""
    given = int_in(body, "amount_sat", 1, MAX_AMOUNT_SAT)
    if invoice is None:
        return DEFAULT_TIER_SAT if given is None else given
    invoiced = -(-invoice.amount_msat // 1000)
    if not invoiced:
        if given is None:
            raise invalid_field("amount_sat", f"an integer between 1 and {MAX_AMOUNT_SAT} "
                                "(required: the invoice carries no amount)")
        return given
    if invoiced > MAX_AMOUNT_SAT:
        raise invalid_field("target", f"an invoice of at most {MAX_AMOUNT_SAT} sat")
    if given is not None and given != invoiced:
        raise invalid_field("amount_sat", "absent or equal to the invoice's amount")
    return invoiced


def parse_intent(body: dict[str, Any], network: str | None, *,
                 allow_private: bool = False) -> IntentRequest:
    target = body.get("target")
    if not isinstance(target, str):
        raise invalid_field("target", TARGET_DESCRIPTION)
    node = classify_id(target)
    invoice = None
    url = None
    if node is None:
        text = target.strip()
        if text.lower().startswith("lightning:"):  # a payment URI, as wallets copy it
            text = text[len("lightning:"):]
        if text.lower().startswith(("https://", "http://")):
            url = _url_target(target, allow_private=allow_private)
        elif not text.lower().startswith("ln"):
            raise invalid_field("target", TARGET_DESCRIPTION)
        else:
            invoice = _invoice(text, network)
    caller = None
    if body.get("caller") is not None:
        raw = body["caller"]
        caller = classify_id(raw) if isinstance(raw, str) else None
        if caller is None:
            raise invalid_field("caller", ID_DESCRIPTION)
    peers = _caller_peers(body.get("caller_peers"))
    amount = _amount(body, invoice)
    max_fee = int_in(body, "max_fee_sat", 0, MAX_FEE_SAT)
    fresh = body.get("fresh", False)
    if not isinstance(fresh, bool):
        raise invalid_field("fresh", "true or false")
    if fresh and url is not None:
        raise invalid_field("fresh", "false for an endpoint URL (probe its payee node instead)")
    return IntentRequest(node, invoice, caller, amount,
                         normal_fee_budget_sat(amount) if max_fee is None else max_fee, fresh,
                         url, max_fee is not None, peers)


def _caller_peers(raw: Any) -> tuple[tuple[IdKind, str], ...]:
    """The node ids of `caller_peers`, de-duplicated in the order given."""
    if raw is None:
        return ()
    expected = f"a list of 1 to {MAX_CALLER_PEERS} node ids ({ID_DESCRIPTION})"
    if not isinstance(raw, list) or not 1 <= len(raw) <= MAX_CALLER_PEERS:
        raise invalid_field("caller_peers", expected)
    peers = [classify_id(v) if isinstance(v, str) else None for v in raw]
    if any(p is None for p in peers):
        raise invalid_field("caller_peers", expected)
    return tuple(dict.fromkeys(p for p in peers if p is not None))


async def read_intent(request: Request) -> IntentRequest:
    body = await json_object(request, FIELDS)
    state = api_state(request)
    return parse_intent(body, network_of(state.paywall.deployment),
                        allow_private=state.registry_allow_private)
