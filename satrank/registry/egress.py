"""Fetching third-party URLs without becoming a proxy into our own network.

Every request the registry sends to a URL someone registered goes through `fetch`:
- https only, unless the policy allows plain http (tests, private deployments);
- the host is resolved here, every address it resolves to is checked, and the connection
  goes to the checked address (the URL's host is replaced by the IP; `Host` and TLS SNI
  keep the name, so certificates are still verified against it): a second resolution
  cannot swap in an internal address (DNS rebinding);
- loopback, private, CGNAT, link-local, multicast, unspecified, reserved and the cloud
  metadata addresses are refused; `allow_private` admits loopback, private and CGNAT only,
  never metadata, link-local, multicast or unspecified;
- redirects are followed by hand, at most `max_redirects`, each one checked like the first;
- the headers' size, the body's size and the whole exchange's time are capped: one overall
  deadline covers resolution, connection, redirects and every read, so a server that drips
  a byte a second cannot hold a worker past it.

Refusals and failures are `EgressError`s with a reason code the crawler records as is.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import ssl
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

import httpx

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
# (host, port) -> the addresses the name resolves to, as text
Resolver = Callable[[str, int], Awaitable[list[str]]]

METADATA_ADDRESSES = frozenset({ipaddress.ip_address("169.254.169.254"),
                                ipaddress.ip_address("fd00:ec2::254")})
_CGNAT = ipaddress.ip_network("100.64.0.0/10")
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})


class EgressError(Exception):
    """A fetch that was refused or failed; `reason` is an UPPER_SNAKE code."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason


@dataclass(frozen=True)
class EgressPolicy:
    allow_private: bool = False
    allow_http: bool = False
    max_redirects: int = 3
    max_body_bytes: int = 1 << 20
    max_header_bytes: int = 16 << 10
    deadline_s: float = 10.0


@dataclass(frozen=True)
class EgressResponse:
    status: int
    headers: httpx.Headers
    body: bytes
    url: str  # the URL that answered, after redirects (host as registered, not the IP)
    elapsed_s: float


def address_refusal(address: IpAddress, *, allow_private: bool) -> str | None:
    """Why `address` may not be connected to, or None when it may."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped  # ::ffff:127.0.0.1 is 127.0.0.1
    if address in METADATA_ADDRESSES:
        return "metadata"
    if address.is_unspecified:
        return "unspecified"
    if address.is_multicast:
        return "multicast"
    if address.is_link_local:
        return "link-local"
    if address.is_global:
        return None
    if address.is_loopback:
        return None if allow_private else "loopback"
    if address.is_reserved:  # 240/4 counts as private in ipaddress: test it first
        return "reserved"
    if address.is_private or (isinstance(address, ipaddress.IPv4Address) and address in _CGNAT):
        return None if allow_private else "private"
    return "reserved"  # documentation, benchmarking and other special-purpose ranges


async def system_resolver(host: str, port: int) -> list[str]:
    infos = await asyncio.get_running_loop().getaddrinfo(
        host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
    return [str(info[4][0]) for info in infos]


async def checked_address(host: str, port: int, policy: EgressPolicy,
                          resolver: Resolver) -> str:
    """The address to connect to for `host`: every address it resolves to must pass,
    so a name that also points inside cannot be used to reach in on a later try."""
    try:
        literal: IpAddress | None = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    if literal is not None:
        resolved = [literal]
    else:
        try:
            resolved = [ipaddress.ip_address(a.split("%", 1)[0])
                        for a in await resolver(host, port)]
        except (OSError, UnicodeError) as exc:
            raise EgressError("DNS_FAILED", type(exc).__name__) from None
        if not resolved:
            raise EgressError("DNS_FAILED", "no address")
    for address in resolved:
        refusal = address_refusal(address, allow_private=policy.allow_private)
        if refusal is not None:
            raise EgressError("ADDRESS_FORBIDDEN", refusal)
    return str(resolved[0])


def check_url(url: httpx.URL, policy: EgressPolicy) -> None:
    allowed = ("https", "http") if policy.allow_http else ("https",)
    if url.scheme not in allowed:
        raise EgressError("SCHEME_NOT_ALLOWED", url.scheme or "none")
    if not url.host:
        raise EgressError("INVALID_URL", "no host")
    if url.userinfo:
        raise EgressError("INVALID_URL", "credentials in the URL")


def new_client(verify: ssl.SSLContext | bool = True) -> httpx.AsyncClient:
    """The client `fetch` needs: no proxies or netrc from the environment, no redirects of
    its own, and no kept-alive connections (a pooled connection is keyed by IP, and a TLS
    session verified for one name must not carry a request for another). `verify`: the
    system's CAs, or a context trusting a private CA (tests, private deployments)."""
    return httpx.AsyncClient(trust_env=False, follow_redirects=False, verify=verify,
                             limits=httpx.Limits(max_keepalive_connections=0),
                             timeout=httpx.Timeout(None))


async def fetch(
    client: httpx.AsyncClient,
    method: str,
    url: str,
    *,
    policy: EgressPolicy,
    headers: Mapping[str, str] | None = None,
    resolver: Resolver = system_resolver,
) -> EgressResponse:
    """One request under `policy`, redirects followed and checked; EgressError otherwise."""
    started = time.monotonic()
    try:
        async with asyncio.timeout(policy.deadline_s):
            return await _fetch(client, method, url, policy, dict(headers or {}), resolver,
                                started)
    except TimeoutError:
        raise EgressError("TIMEOUT", f"over {policy.deadline_s:g} s") from None
    except (httpx.HTTPError, httpx.InvalidURL) as exc:  # whatever a hostile server provokes
        reason = "CONNECT_FAILED" if isinstance(exc, httpx.ConnectError) else "PROTOCOL_ERROR"
        raise EgressError(reason, type(exc).__name__) from None


async def _fetch(client: httpx.AsyncClient, method: str, url: str, policy: EgressPolicy,
                 headers: dict[str, str], resolver: Resolver, started: float) -> EgressResponse:
    try:
        target = httpx.URL(url)
    except httpx.InvalidURL:
        raise EgressError("INVALID_URL", "unparseable") from None
    for _hop in range(policy.max_redirects + 1):
        check_url(target, policy)
        address = await checked_address(_ascii_host(target),
                                        target.port or _default_port(target), policy, resolver)
        response = await _send_pinned(client, method, target, address, headers)
        try:
            _check_headers(response, policy)
            location = response.headers.get("location")
            if response.status_code in REDIRECT_STATUSES and location:
                try:
                    target = target.join(location)
                except httpx.InvalidURL:
                    raise EgressError("INVALID_REDIRECT", "unparseable location") from None
                if response.status_code == 303:
                    method = "GET"
                continue
            body = await _read_capped(response, policy.max_body_bytes)
        finally:
            await response.aclose()
        return EgressResponse(response.status_code, response.headers, body, str(target),
                              time.monotonic() - started)
    raise EgressError("TOO_MANY_REDIRECTS", f"more than {policy.max_redirects}")


def _ascii_host(url: httpx.URL) -> str:
    """The host as sent on the wire: an IDN in its punycode form."""
    return url.raw_host.decode("ascii")


def _default_port(url: httpx.URL) -> int:
    return 443 if url.scheme == "https" else 80


async def _send_pinned(client: httpx.AsyncClient, method: str, target: httpx.URL,
                       address: str, headers: dict[str, str]) -> httpx.Response:
    host = _ascii_host(target)
    name = f"[{host}]" if ":" in host else host  # IPv6 literal
    host_header = name if target.port is None else f"{name}:{target.port}"
    request = client.build_request(
        method, target.copy_with(host=address),
        # identity: the body cap counts what the server sends, with no inflating after it
        headers={**headers, "Host": host_header, "Connection": "close",
                 "Accept-Encoding": "identity"},
        extensions={"sni_hostname": host} if target.scheme == "https" else {})
    return await client.send(request, stream=True, follow_redirects=False)


def _check_headers(response: httpx.Response, policy: EgressPolicy) -> None:
    size = sum(len(name) + len(value) + 4 for name, value in response.headers.raw)
    if size > policy.max_header_bytes:
        raise EgressError("HEADERS_TOO_LARGE", f"{size} bytes")


async def _read_capped(response: httpx.Response, cap: int) -> bytes:
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > cap:
        raise EgressError("BODY_TOO_LARGE", f"declared {declared} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():
        size += len(chunk)
        if size > cap:
            raise EgressError("BODY_TOO_LARGE", f"over {cap} bytes")
        chunks.append(chunk)
    return b"".join(chunks)
