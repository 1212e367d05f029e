"""`satrank healthcheck --challenge`: prove the 402 path works without paying.

/api/health can be green while nobody can pay (AddInvoice refused, the wrong node's
macaroon, a price misconfigured). This asks a paid route through the running api, like a
new customer, and checks the challenge it gets: 402 with an L402 `WWW-Authenticate`
header, an invoice that decodes with a valid signature (bolt11 verifies or recovers the
signing key), signed by OUR node, for the amount the settings advertise, not expired, and
the same invoice and payment hash the 402 body shows. Nothing is paid; the unpaid invoice
expires in lnd like any other.
"""

from __future__ import annotations

import json
import re
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry, Gauge, write_to_textfile

from satrank.lightning import bolt11

# A priced route that needs no data: the paywall answers before the route runs.
CHALLENGE_PATH = "/api/profile/02" + "00" * 32
_INVOICE = re.compile(r'L402 macaroon="[^"]+", invoice="([^"]+)"')


@dataclass(frozen=True)
class ChallengeVerdict:
    ok: bool
    url: str
    reasons: list[str] = field(default_factory=list)
    amount_sat: int | None = None

    def lines(self) -> list[str]:
        if self.ok:
            return [f"challenge: ok ({self.amount_sat} sat invoice from {self.url}, "
                    "signed by our node)"]
        return [f"challenge: FAILED ({self.url})"] + [f"reason: challenge: {r}"
                                                      for r in self.reasons]


def challenge_url(health_url: str) -> str:
    """The paid route on the same api as the health URL."""
    base = health_url.split("/api/", 1)[0] if "/api/" in health_url else health_url
    return base.rstrip("/") + CHALLENGE_PATH


def _fetch(url: str, timeout_s: float) -> tuple[int, dict[str, list[str]], bytes]:
    request = urllib.request.Request(url, headers={"Accept": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:  # noqa: S310
            return response.status, _headers(response.headers), response.read()
    except urllib.error.HTTPError as exc:  # the 402 we want arrives as an HTTPError
        return exc.code, _headers(exc.headers), exc.read()


def _headers(message: Any) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for name, value in message.items():
        found.setdefault(name.lower(), []).append(value)
    return found


def _body_details(body: bytes) -> dict[str, Any]:
    try:
        details = json.loads(body)["error"]["details"]
    except (ValueError, KeyError, TypeError):
        return {}
    return details if isinstance(details, dict) else {}


def check_challenge(url: str, *, node_pubkey: str, amount_sat: int,
                    timeout_s: float) -> ChallengeVerdict:
    """Mint one challenge at `url` and check it; never raises for a failed check."""
    try:
        status, headers, body = _fetch(url, timeout_s)
    except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
        return ChallengeVerdict(False, url, [f"the api did not answer ({exc})"])
    if status != 402:
        return ChallengeVerdict(False, url, [f"expected 402, got {status}: "
                                             f"{body[:200].decode(errors='replace')}"])
    invoices = [m.group(1) for v in headers.get("www-authenticate", [])
                if (m := _INVOICE.match(v))]
    if not invoices:
        return ChallengeVerdict(False, url, ["no L402 WWW-Authenticate challenge"])
    try:
        invoice = bolt11.decode(invoices[0])
    except ValueError as exc:
        return ChallengeVerdict(False, url, [f"the invoice does not decode: {exc}"])
    reasons = []
    if invoice.payee.hex() != node_pubkey.lower():
        reasons.append(f"the invoice is signed by {invoice.payee.hex()}, not by our node "
                       f"{node_pubkey}")
    if invoice.amount_msat != amount_sat * 1000:
        reasons.append(f"the invoice asks {invoice.amount_msat} msat, the settings advertise "
                       f"{amount_sat} sat")
    if invoice.timestamp + invoice.expiry_s <= time.time():
        reasons.append("the invoice has already expired (clock or expiry misconfigured)")
    details = _body_details(body)
    if details.get("invoice") not in (None, invoices[0]):
        reasons.append("the 402 body shows another invoice than WWW-Authenticate")
    if details.get("amountSat") not in (None, amount_sat):
        reasons.append(f"the 402 body advertises {details['amountSat']} sat")
    if details.get("paymentHash") not in (None, invoice.payment_hash.hex()):
        reasons.append("the 402 body's paymentHash is not the invoice's")
    return ChallengeVerdict(not reasons, url, reasons, invoice.amount_msat // 1000)


def record_challenge(metrics_file: Path, verdict: ChallengeVerdict, now: datetime) -> None:
    """The node-exporter textfile the SatRankChallengeCheck* alerts read (atomic)."""
    registry = CollectorRegistry()
    Gauge("satrank_healthcheck_challenge_ok", "1 when the last challenge check passed",
          registry=registry).set(1 if verdict.ok else 0)
    Gauge("satrank_healthcheck_challenge_last_run_timestamp_seconds",
          "time of the last challenge check", registry=registry).set(
        now.astimezone(UTC).timestamp())
    write_to_textfile(str(metrics_file), registry)
