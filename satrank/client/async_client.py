"""`AsyncSatRankClient`: SatRank's public routes as typed methods, with L402 paid by itself.

A paid route answered 402 is paid through the wallet (under the caps, payer.py) and asked
again with `Authorization: L402 <macaroon>:<preimage>`; the token is kept per origin and
sent with every later paid request until the server answers 402 to it. `503 CREDITS_BUSY`
(the token's last credits are in another api process for a moment) is retried after its
Retry-After, never paid. Every error answer becomes a typed `ApiError` with the server's
code (errors.py). Methods return the answer's `data` member.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any, Literal, cast
from urllib.parse import quote, urlsplit

import httpx

from satrank.client.answers import (
    AgentSummary,
    BatchVerdict,
    DepositTiers,
    Json,
    ProbeAnswer,
    ReportReceipt,
    Verdict,
)
from satrank.client.caps import SpendingCaps
from satrank.client.errors import (
    ApiError,
    PaymentRequired,
    ProtocolError,
    TransportError,
    api_error,
)
from satrank.client.payer import (
    Offer,
    Payer,
    Tier,
    offer_from_402,
    offer_from_deposit,
    parse_tiers,
)
from satrank.client.tokens import Token, TokenCache
from satrank.client.wallets import Wallet

DEFAULT_TIMEOUT_S = 30.0  # above /api/probe's 20 s budget
BUSY_RETRIES = 3
MAX_RETRY_AFTER_S = 10.0  # a longer Retry-After is the caller's decision, not a silent wait
# A token refused as run out is replaced (concurrent calls may have spent a fresh one
# first); a token this call just bought and the server refuses for any other reason
# (invalid, unknown, wrong preimage) is an error: paying again would pay in vain.
RUN_OUT = frozenset({"TOKEN_EXHAUSTED", "TOKEN_EXPIRED"})
PAYMENTS_PER_CALL = 3
MAX_ROUNDS = 8  # requests per call, purchases by other calls included


def _retry_after(response: httpx.Response) -> float | None:
    raw = response.headers.get("retry-after", "")
    return float(raw) if raw.strip().isdigit() else None


def _body(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


class AsyncSatRankClient:
    """`wallet` pays 402s; it needs `caps` (no wallet spends without a cap). Without a
    wallet, paid routes raise PaymentRequired (with the offer in `details`)."""

    def __init__(self, base_url: str, *, wallet: Wallet | None = None,
                 caps: SpendingCaps | None = None, deposit_sat: int | None = None,
                 deposits: bool = True, timeout_s: float = DEFAULT_TIMEOUT_S,
                 transport: httpx.AsyncBaseTransport | None = None,
                 tokens: TokenCache | None = None) -> None:
        if wallet is not None and caps is None:
            raise ValueError("a wallet needs SpendingCaps: refusing to pay without a cap")
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError("base_url must be an http(s) URL")
        self.origin = f"{parts.scheme}://{parts.netloc}"
        self._http = httpx.AsyncClient(base_url=base_url.rstrip("/"), timeout=timeout_s,
                                       transport=transport, follow_redirects=False)
        self.payer = (Payer(wallet, caps, deposit_sat=deposit_sat, deposits=deposits)
                      if wallet is not None and caps is not None else None)
        self.tokens = tokens or TokenCache()
        self._tiers: list[Tier] | None = None

    async def __aenter__(self) -> AsyncSatRankClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()
        if self.payer is not None:
            await self.payer.wallet.close()

    # ------------------------------------------------------------------ plumbing

    async def _send(self, method: str, path: str, *, json: Any = None,
                    params: Mapping[str, Any] | None = None,
                    token: Token | None = None) -> httpx.Response:
        headers = {"Authorization": token.authorization} if token is not None else None
        try:
            return await self._http.request(method, path, json=json, headers=headers,
                                            params=params)
        except httpx.HTTPError as exc:
            raise TransportError(f"{method} {path}: {type(exc).__name__}") from None

    async def _call(self, method: str, path: str, *, json: Any = None,
                    params: Mapping[str, Any] | None = None, paid: bool = False,
                    send_token: bool = False) -> Any:
        """The parsed body of a successful answer; pays 402s on `paid` routes."""
        payments = busy = rounds = 0
        while True:
            rounds += 1
            token = self.tokens.get(self.origin) if paid or send_token else None
            response = await self._send(method, path, json=json, params=params, token=token)
            body = _body(response)
            status = response.status_code
            error = body.get("error") if isinstance(body, dict) else None
            code = error.get("code") if isinstance(error, dict) else None
            if status == 402 and paid:
                if token is not None:
                    self.tokens.drop(self.origin, token)
                if (self.payer is None or payments >= PAYMENTS_PER_CALL or rounds > MAX_ROUNDS
                        or (payments and code not in RUN_OUT)):
                    raise api_error(402, body)
                offer = offer_from_402(response.headers.get_list("www-authenticate"), body)
                payments += await self._buy(offer, stale=token)
                continue
            if status == 503 and code == "CREDITS_BUSY" and busy < BUSY_RETRIES:
                busy += 1
                await asyncio.sleep(min(_retry_after(response) or 1.0, MAX_RETRY_AFTER_S))
                continue
            left = response.headers.get("x-l402-credits-left", "")  # refunds included
            if token is not None and left.isdigit():
                token.credits_left = int(left)
            if status >= 400:
                raise api_error(status, body, retry_after_s=_retry_after(response))
            return body

    async def _data(self, method: str, path: str, **kwargs: Any) -> Json:
        body = await self._call(method, path, **kwargs)
        if not isinstance(body, dict) or not isinstance(body.get("data"), dict | list):
            raise ProtocolError(f"{method} {path}: the answer has no data member")
        data: Json = body["data"] if isinstance(body["data"], dict) else {"items": body["data"]}
        return data

    async def _buy(self, offer: Offer, *, stale: Token | None) -> bool:
        """Buy a token unless another request did while this one waited; whether it paid."""
        assert self.payer is not None
        async with self.tokens.purchase_lock(self.origin):
            current = self.tokens.get(self.origin)
            if current is not None and current is not stale:
                return False
            tiers = await self.deposit_tier_list() if self.payer.deposits else []
            token = await self.payer.buy(offer, tiers, self._open_deposit)
            self.tokens.put(self.origin, token)
            return True

    async def _open_deposit(self, amount_sat: int) -> Json:
        return await self._data("POST", "/api/deposit", json={"amount": amount_sat})

    async def deposit_tier_list(self) -> list[Tier]:
        if self._tiers is None:
            try:
                self._tiers = parse_tiers(await self.deposit_tiers())
            except ApiError:
                self._tiers = []  # no deposits on this server: pay challenges
        return self._tiers

    # ------------------------------------------------------------------ free routes

    async def health(self) -> Json:
        """The health document, also when it says degraded or down (503)."""
        response = await self._send("GET", "/api/health")
        body = _body(response)
        if response.status_code not in (200, 503) or not isinstance(body, dict):
            raise api_error(response.status_code, body)
        return body

    async def stats(self) -> Json:
        return await self._data("GET", "/api/stats")

    async def agent(self, node_id: str) -> AgentSummary:
        """Summary of a node (66-hex pubkey or 64-hex agent hash): alias, rank, verdict,
        p_success with its 95 % interval."""
        return cast(AgentSummary, await self._data("GET", f"/api/agent/{quote(node_id, safe='')}"))

    async def verdict(self, node_id: str) -> Verdict:
        """The verdict block (SAFE / RISKY / UNKNOWN / INSUFFICIENT) with reasons and flags."""
        return cast(Verdict, await self._data(
            "GET", f"/api/agent/{quote(node_id, safe='')}/verdict"))

    async def leaderboard(self, *, sort_by: str = "rank", limit: int = 20,
                          cursor: str | None = None) -> Json:
        """One page: `data` (nodes) and `meta` (with the next cursor)."""
        params: dict[str, Any] = {"sort_by": sort_by, "limit": limit}
        if cursor is not None:
            params["cursor"] = cursor
        body = await self._call("GET", "/api/agents/top", params=params)
        return body if isinstance(body, dict) else {}

    async def search(self, alias: str, *, limit: int = 20) -> Json:
        body = await self._call("GET", "/api/agents/search",
                                params={"alias": alias, "limit": limit})
        return body if isinstance(body, dict) else {}

    async def services(self, *, q: str | None = None, category: str | None = None,
                       max_price_sat: int | None = None,
                       sort_by: Literal["p", "latency", "price"] | None = None,
                       limit: int | None = None, cursor: str | None = None) -> Json:
        """The L402 service registry (`GET /api/services`, free): one page of endpoints
        (`data`: end-to-end p, uptime, latency, price, payee node, verdict, reasons) and
        `meta.next_cursor`, to pass as `cursor` for the next page in the same `sort_by`
        (p: best first, the default; latency or price: lowest first). `q` searches name,
        description and URL; `category` is one of GET /api/services/categories."""
        params = {k: v for k, v in {"q": q, "category": category, "max_price_sat": max_price_sat,
                                    "sort_by": sort_by, "limit": limit,
                                    "cursor": cursor}.items() if v is not None}
        body = await self._call("GET", "/api/services", params=params)
        return body if isinstance(body, dict) else {}

    async def deposit_tiers(self) -> DepositTiers:
        return cast(DepositTiers, await self._data("GET", "/api/deposit/tiers"))

    async def report(self, target: str, outcome: str, *, amount_sat: int | None = None,
                     invoice: str | None = None, payment_hash: str | None = None,
                     preimage: str | None = None) -> ReportReceipt:
        """Report how a payment to `target` went (success, failure, timeout). Verified only
        with the target's invoice and its preimage; otherwise this client's SatRank token
        (never debited) is its standing."""
        body: Json = {"target": target, "outcome": outcome}
        for key, value in (("amount_sat", amount_sat), ("invoice", invoice),
                           ("payment_hash", payment_hash), ("preimage", preimage)):
            if value is not None:
                body[key] = value
        return cast(ReportReceipt, await self._data("POST", "/api/report", json=body,
                                                    send_token=True))

    # ------------------------------------------------------------------ paid routes

    async def profile(self, node_id: str) -> Json:
        """Full evidence behind a node's score (1 credit)."""
        return await self._data("GET", f"/api/profile/{quote(node_id, safe='')}", paid=True)

    async def verdicts(self, node_ids: list[str]) -> list[BatchVerdict]:
        """Verdicts of up to 100 nodes, in order (1 credit)."""
        data = await self._data("POST", "/api/verdicts", json={"ids": node_ids}, paid=True)
        return cast(list[BatchVerdict], data["items"])

    async def probe(self, target: str, *,
                    amounts_sat: list[int] | None = None) -> ProbeAnswer:
        """Fresh probe payments from SatRank's node to `target` (5 credits)."""
        body: Json = {"target": target}
        if amounts_sat is not None:
            body["amounts_sat"] = amounts_sat
        return cast(ProbeAnswer, await self._data("POST", "/api/probe", json=body, paid=True))

    async def intent(self, target: str, *, caller: str | None = None,
                     amount_sat: int | None = None, max_fee_sat: int | None = None,
                     fresh: bool = False, caller_peers: list[str] | None = None) -> Json:
        """The pre-payment decision (`POST /api/intent`, 2 credits, 5 when `fresh`): will a
        payment of `amount_sat` from `caller` to `target` (node id, BOLT 11 invoice or L402
        URL) succeed, with `p_success`, its interval and proceed / caution / avoid.
        `caller_peers`: a private wallet's channel peers (its LSP), where `caller` is not
        in the public graph."""
        body: Json = {"target": target}
        for key, value in (("caller", caller), ("caller_peers", caller_peers),
                           ("amount_sat", amount_sat), ("max_fee_sat", max_fee_sat)):
            if value is not None:
                body[key] = value
        if fresh:
            body["fresh"] = True
        return await self._data("POST", "/api/intent", json=body, paid=True)

    async def deposit(self, amount_sat: int) -> Token:
        """Buy `amount_sat` of credits at the deposit tier's price and keep the token for
        this origin (replacing the current one)."""
        if self.payer is None:
            raise PaymentRequired(402, "NO_WALLET", "deposits need a wallet on this client")
        offer = offer_from_deposit(await self._open_deposit(amount_sat))
        async with self.tokens.purchase_lock(self.origin):
            token = await self.payer.redeem(offer)
            self.tokens.put(self.origin, token)
        return token
