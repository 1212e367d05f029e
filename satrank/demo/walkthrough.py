"""What the demo asks the running api before it hands over, and what it prints.

`prepare_walkthrough` takes the best-ranked node from /api/agents/top and asks for its
paid profile without a credential, exactly as a new client would: the 402 challenge it gets
back (a macaroon and a BOLT11 invoice from simnet's oracle) is printed with the commands
that pay it from simnet's customer node and present the credential, for the profile and
for an intent (POST /api/intent: should a payment to that node be sent).
"""

from __future__ import annotations

import json
import re
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass

HEALTH_TIMEOUT_S = 180.0
REQUEST_TIMEOUT_S = 10.0
_CHALLENGE = re.compile(r'L402 macaroon="([^"]+)", invoice="([^"]+)"')


class DemoApiError(RuntimeError):
    """The api answered something the walkthrough cannot use."""


@dataclass(frozen=True)
class Walkthrough:
    base_url: str
    node: str  # public key of the best-ranked node
    alias: str
    scored_nodes: int
    macaroon: str
    invoice: str


def _get(url: str) -> tuple[int, dict[str, list[str]], bytes]:
    request = urllib.request.Request(url, headers={"Accept": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=REQUEST_TIMEOUT_S) as response:  # noqa: S310
            headers = {k.lower(): response.headers.get_all(k) or [] for k in response.headers}
            return response.status, headers, response.read()
    except urllib.error.HTTPError as exc:
        headers = {k.lower(): exc.headers.get_all(k) or [] for k in exc.headers}
        return exc.code, headers, exc.read()


def wait_for_health(base_url: str, check_alive: Callable[[], None],
                    timeout_s: float = HEALTH_TIMEOUT_S) -> None:
    """Until /api/health answers 200; `check_alive` raises if a child died meanwhile."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        check_alive()
        try:
            status, _, _ = _get(f"{base_url}/api/health")
        except (urllib.error.URLError, OSError):
            status = 0
        if status == 200:
            return
        time.sleep(0.3)
    raise DemoApiError(f"{base_url}/api/health did not answer 200 within {timeout_s:.0f} s")


def prepare_walkthrough(base_url: str) -> Walkthrough:
    status, _, body = _get(f"{base_url}/api/agents/top?limit=1")
    top = json.loads(body) if status == 200 else {}
    if not top.get("data"):
        raise DemoApiError(f"/api/agents/top answered {status} with no node")
    first = top["data"][0]
    node = str(first["publicKey"])
    status, headers, _ = _get(f"{base_url}/api/profile/{node}")
    challenges = [m for v in headers.get("www-authenticate", []) if (m := _CHALLENGE.search(v))]
    if status != 402 or not challenges:
        raise DemoApiError(f"/api/profile answered {status} without an L402 challenge")
    return Walkthrough(base_url=base_url, node=node, alias=str(first.get("alias") or ""),
                       scored_nodes=int(top["meta"]["total"]),
                       macaroon=challenges[0].group(1), invoice=challenges[0].group(2))


def format_walkthrough(w: Walkthrough, summary: list[str], pay_command: str) -> str:
    profile = f"{w.base_url}/api/profile/{w.node}"
    lines = [
        "",
        f"SatRank demo is running: {w.scored_nodes} nodes scored. Ctrl-C stops everything.",
        f"api        {w.base_url}",
        *summary,
        "",
        "Try:",
        "",
        "  # health of the api, its database, LND and the crawler",
        f"  curl -s {w.base_url}/api/health",
        "",
        "  # the best-ranked nodes (free)",
        f"  curl -s '{w.base_url}/api/agents/top?limit=5'",
        "",
        "  # a paid answer: 402 Payment Required, with a macaroon and an invoice in the",
        f"  # WWW-Authenticate header (profile of {w.alias or w.node[:16]})",
        f"  curl -i {profile}",
        "",
        "  # pay the invoice of one such challenge (this one was minted for you) from",
        "  # simnet's customer node; the preimage is the proof of payment",
        f"  PREIMAGE=$({pay_command})",
        "",
        "  # present macaroon and preimage: the paid answer (each request spends a credit)",
        f"  curl -s -H \"Authorization: L402 {w.macaroon}:$PREIMAGE\" {profile}",
        "",
        "  # before paying: will 50,000 sat reach this node, and should you send them?",
        "  # (2 credits; add \"caller\": YOUR_NODE_PUBKEY to ask for your own node)",
        f"  curl -s -X POST {w.base_url}/api/intent -H 'Content-Type: application/json' \\",
        f"       -H \"Authorization: L402 {w.macaroon}:$PREIMAGE\" \\",
        f"       -d '{{\"target\":\"{w.node}\",\"amount_sat\":50000}}'",
        "",
    ]
    return "\n".join(lines)
