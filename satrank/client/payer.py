"""Turns a 402 into a token: reads the challenge, picks the cheapest purchase the caps
allow (the challenge's own invoice, or a deposit bundle), reserves its cost under the caps,
pays through the wallet and checks the preimage.

Deposits (DESIGN §3): `POST /api/deposit {amount}` sells credits at a tiered price (1 sat per
credit at 21 sat down to 0.05 at 1,000,000). The client buys one instead of the challenge
when this client's own pace makes it worth it: the largest tier whose price per credit beats
the challenge's, whose amount is no more than what the caps let this client spend in one
payment, and no more than it spent here over the last day plus this purchase (its usage
says it will use them). A fixed `deposit_sat` overrides the estimate (still under the caps).
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from satrank.client.caps import DAY_S, SpendingCaps
from satrank.client.errors import ProtocolError, WalletError
from satrank.client.tokens import Token
from satrank.client.wallets import Wallet
from satrank.l402.headers import Credential, MalformedCredential, parse_challenge
from satrank.lightning.bolt11 import InvalidPaymentRequest, decode

# POST /api/deposit {"amount": sat} -> the deposit's `data` (invoice, macaroon, credits)
DepositBuyer = Callable[[int], Awaitable[dict[str, Any]]]


@dataclass(frozen=True)
class Offer:
    """What the server offers for a payment: a macaroon, its invoice, the credits it buys."""

    macaroon: str
    invoice: str
    credits: int


@dataclass(frozen=True)
class Tier:
    min_sat: int
    sat_per_credit: float


def offer_from_402(headers: list[str], body: Any) -> Offer:
    """The L402 offer of a 402 answer (its first readable L402/LSAT challenge)."""
    for value in headers:
        try:
            challenge = parse_challenge(value)
        except MalformedCredential:
            continue
        details = body.get("error", {}).get("details", {}) if isinstance(body, dict) else {}
        credits = details.get("credits") if isinstance(details, dict) else None
        return Offer(challenge.macaroon, challenge.invoice,
                     credits if isinstance(credits, int) else 0)
    raise ProtocolError("402 without a readable L402 challenge")


def offer_from_deposit(data: dict[str, Any]) -> Offer:
    """The offer in a `POST /api/deposit` answer's data."""
    try:
        return Offer(str(data["macaroon"]), str(data["invoice"]), int(data["credits"]))
    except (KeyError, TypeError, ValueError):
        raise ProtocolError("the deposit answer lacks macaroon, invoice or credits") from None


def invoice_amount_sat(invoice: str) -> tuple[int, bytes]:
    """(amount in sat rounded up, payment hash) of a BOLT 11 invoice we are asked to pay."""
    try:
        decoded = decode(invoice)
    except InvalidPaymentRequest as exc:
        raise ProtocolError(f"the server's invoice does not decode: {exc}") from None
    if decoded.amount_msat <= 0:
        raise ProtocolError("the server's invoice has no amount; refusing to pay it")
    return -(-decoded.amount_msat // 1000), decoded.payment_hash


def parse_tiers(data: Any) -> list[Tier]:
    tiers = data.get("tiers") if isinstance(data, dict) else None
    if not isinstance(tiers, list):
        return []
    return [Tier(int(t["minSat"]), float(t["satPerCredit"])) for t in tiers
            if isinstance(t, dict) and "minSat" in t and "satPerCredit" in t]


def deposit_amount(tiers: list[Tier], *, challenge_sat: int, challenge_credits: int,
                   room_sat: int | None, spent_day_sat: int,
                   fixed_sat: int | None = None) -> int | None:
    """How much to deposit instead of paying the challenge (None: pay the challenge)."""
    if challenge_credits <= 0 or not tiers:
        return None
    limit = room_sat if room_sat is not None else fixed_sat
    if limit is None:
        return None  # no cap and no fixed amount: never guess an unbounded deposit
    if fixed_sat is not None:
        return fixed_sat if fixed_sat <= limit else None
    challenge_price = challenge_sat / challenge_credits
    appetite = min(limit, spent_day_sat + challenge_sat)
    cheaper = [t.min_sat for t in tiers
               if t.sat_per_credit < challenge_price and challenge_sat < t.min_sat <= appetite]
    return max(cheaper, default=None)


class Payer:
    def __init__(self, wallet: Wallet, caps: SpendingCaps, *,
                 deposit_sat: int | None = None, deposits: bool = True) -> None:
        self.wallet = wallet
        self.caps = caps
        self.deposit_sat = deposit_sat
        self.deposits = deposits
        self.payments = 0  # invoices paid by this client (tests and the MCP server read it)

    async def pay(self, invoice: str) -> bytes:
        """Pay `invoice` under the caps; its preimage. Raises SpendingCapExceeded before
        paying anything when the invoice (plus the fee budget) does not fit."""
        amount_sat, payment_hash = invoice_amount_sat(invoice)
        reservation = self.caps.reserve(amount_sat + self.wallet.max_fee_sat)
        try:
            payment = await self.wallet.pay(invoice)
        except WalletError as exc:
            if exc.maybe_paid:
                self.caps.settle(reservation, reservation.amount_sat)
            else:
                self.caps.release(reservation)
            raise
        self.caps.settle(reservation, amount_sat + payment.fee_sat)
        self.payments += 1
        if hashlib.sha256(payment.preimage).digest() != payment_hash:
            raise ProtocolError("the wallet's preimage does not match the invoice")
        return payment.preimage

    def plan_deposit(self, tiers: list[Tier], offer: Offer) -> int | None:
        if not self.deposits:
            return None
        challenge_sat, _ = invoice_amount_sat(offer.invoice)
        room = self.caps.room_sat()
        return deposit_amount(
            tiers, challenge_sat=challenge_sat, challenge_credits=offer.credits,
            room_sat=None if room is None else room - self.wallet.max_fee_sat,
            spent_day_sat=self.caps.spent(DAY_S), fixed_sat=self.deposit_sat)

    async def buy(self, offer: Offer, tiers: list[Tier], buy_deposit: DepositBuyer) -> Token:
        """A token for `offer`, or for a deposit when `plan_deposit` says so."""
        amount = self.plan_deposit(tiers, offer)
        if amount is not None:
            offer = offer_from_deposit(await buy_deposit(amount))
        return await self.redeem(offer)

    async def redeem(self, offer: Offer) -> Token:
        """Pay the offer's invoice: its macaroon with the preimage is the token."""
        preimage = await self.pay(offer.invoice)
        return Token(Credential((offer.macaroon,), preimage).to_header(), offer.credits)
