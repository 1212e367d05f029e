"""Egress policy against real loopback servers: raw asyncio sockets that misbehave on purpose
(slow drip, huge headers, endless body, redirects into forbidden space)."""

from __future__ import annotations

import asyncio
import datetime
import ipaddress
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from satrank.registry.egress import (
    EgressError,
    EgressPolicy,
    address_refusal,
    fetch,
    new_client,
)

LOOPBACK_OK = EgressPolicy(allow_private=True, allow_http=True, deadline_s=5.0)
Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


@asynccontextmanager
async def raw_server(handler: Handler, heads: list[bytes] | None = None) -> AsyncIterator[str]:
    """A TCP server on 127.0.0.1, port chosen by the kernel; yields its http base URL.
    Each request's head goes into `heads`."""
    seen = heads if heads is not None else []

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            seen.append(await reader.readuntil(b"\r\n\r\n"))
            await handler(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.close()


def answer(status: str, headers: dict[str, str], body: bytes = b"") -> Handler:
    async def handler(_r: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        lines = [f"HTTP/1.1 {status}", f"Content-Length: {len(body)}",
                 *(f"{k}: {v}" for k, v in headers.items())]
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
        await writer.drain()
    return handler


async def refusal(handler: Handler, policy: EgressPolicy = LOOPBACK_OK) -> str:
    """The reason `fetch` gives up on the server `handler` runs."""
    async with raw_server(handler) as base, new_client() as client:
        with pytest.raises(EgressError) as refused:
            await fetch(client, "GET", base, policy=policy)
    return refused.value.reason


async def test_a_loopback_server_answers_when_private_addresses_are_allowed() -> None:
    async with raw_server(answer("200 OK", {"Content-Type": "text/plain"}, b"hi")) as base:
        async with new_client() as client:
            response = await fetch(client, "GET", base + "/x", policy=LOOPBACK_OK)
    assert (response.status, response.body) == (200, b"hi")
    assert response.url == base + "/x"


async def test_loopback_is_refused_by_default_even_through_a_name() -> None:
    policy = EgressPolicy(allow_http=True)
    async with raw_server(answer("200 OK", {})) as base:
        port = base.rsplit(":", 1)[1]
        async with new_client() as client:
            for url in (base, f"http://localhost:{port}/", f"http://[::ffff:127.0.0.1]:{port}/"):
                with pytest.raises(EgressError) as refused:
                    await fetch(client, "GET", url, policy=policy)
                assert refused.value.reason == "ADDRESS_FORBIDDEN", url


async def test_plain_http_is_refused_unless_allowed() -> None:
    async with new_client() as client:
        with pytest.raises(EgressError) as refused:
            await fetch(client, "GET", "http://example.com/", policy=EgressPolicy())
    assert refused.value.reason == "SCHEME_NOT_ALLOWED"


async def test_a_name_resolving_to_any_internal_address_is_refused() -> None:
    async def rebinding(_host: str, _port: int) -> list[str]:
        return ["93.184.216.34", "10.0.0.7"]  # one public, one internal: refuse the name

    async with new_client() as client:
        with pytest.raises(EgressError) as refused:
            await fetch(client, "GET", "https://api.example/", policy=EgressPolicy(),
                        resolver=rebinding)
    assert refused.value.reason == "ADDRESS_FORBIDDEN"


async def test_the_connection_goes_to_the_checked_address_with_the_name_as_host() -> None:
    calls: list[str] = []
    heads: list[bytes] = []

    async def once(host: str, _port: int) -> list[str]:
        calls.append(host)
        return ["127.0.0.1"]

    async with raw_server(answer("200 OK", {}), heads) as base:
        port = base.rsplit(":", 1)[1]
        async with new_client() as client:
            response = await fetch(client, "GET", f"http://service.example:{port}/p",
                                   policy=LOOPBACK_OK, resolver=once)
    assert response.status == 200
    assert calls == ["service.example"]  # resolved once, by us, not again by the client
    assert f"host: service.example:{port}".encode() in heads[0].lower()


@pytest.mark.parametrize("forbidden", ["169.254.169.254", "[fd00:ec2::254]", "0.0.0.0",
                                       "[fe80::1]", "224.0.0.1"])
async def test_a_redirect_into_forbidden_space_is_refused(forbidden: str) -> None:
    location = f"http://{forbidden}/latest/meta-data/"
    assert await refusal(answer("302 Found", {"Location": location})) == "ADDRESS_FORBIDDEN"


async def test_redirects_are_followed_up_to_the_bound() -> None:
    hop = answer("307 Temporary Redirect", {"Location": "/again"})
    assert await refusal(hop) == "TOO_MANY_REDIRECTS"


async def test_a_slow_drip_server_cannot_hold_the_fetch_past_the_deadline() -> None:
    async def drip(_r: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n")
        for _ in range(1000):  # each byte well inside any per-read timeout
            writer.write(b"x")
            await writer.drain()
            await asyncio.sleep(0.05)

    policy = EgressPolicy(allow_private=True, allow_http=True, deadline_s=0.5)
    assert await refusal(drip, policy) == "TIMEOUT"


async def test_a_body_over_the_cap_is_refused_declared_or_not() -> None:
    policy = EgressPolicy(allow_private=True, allow_http=True, max_body_bytes=1000)

    async def chunked(_r: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
        for _ in range(50):
            writer.write(b"64\r\n" + b"y" * 100 + b"\r\n")
            await writer.drain()
        writer.write(b"0\r\n\r\n")

    assert await refusal(answer("200 OK", {}, b"z" * 5000), policy) == "BODY_TOO_LARGE"
    assert await refusal(chunked, policy) == "BODY_TOO_LARGE"


async def test_headers_over_the_cap_are_refused() -> None:
    policy = EgressPolicy(allow_private=True, allow_http=True, max_header_bytes=2000)
    big = {f"X-Pad-{i}": "p" * 100 for i in range(40)}
    assert await refusal(answer("200 OK", big), policy) == "HEADERS_TOO_LARGE"


async def test_a_closed_port_is_a_connect_failure() -> None:
    async with raw_server(answer("200 OK", {})) as base:
        pass  # closed again: nothing listens there now
    async with new_client() as client:
        with pytest.raises(EgressError) as failed:
            await fetch(client, "GET", base, policy=LOOPBACK_OK)
    assert failed.value.reason == "CONNECT_FAILED"


@pytest.mark.parametrize(("address", "private_ok", "reason"), [
    ("8.8.8.8", False, None),
    ("2606:4700::1111", False, None),
    ("127.0.0.1", False, "loopback"),
    ("127.0.0.1", True, None),
    ("10.1.2.3", False, "private"),
    ("192.168.1.1", True, None),
    ("100.64.0.1", False, "private"),
    ("::1", False, "loopback"),
    ("fd12::1", False, "private"),
    ("169.254.169.254", True, "metadata"),
    ("fd00:ec2::254", True, "metadata"),
    ("169.254.1.1", True, "link-local"),
    ("0.0.0.0", True, "unspecified"),
    ("::", True, "unspecified"),
    ("ff02::1", True, "multicast"),
    ("::ffff:10.0.0.1", False, "private"),
    ("240.0.0.1", True, "reserved"),
])
def test_address_refusals(address: str, private_ok: bool, reason: str | None) -> None:
    assert address_refusal(ipaddress.ip_address(address), allow_private=private_ok) == reason


def _self_signed(name: str, directory: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(hours=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


async def test_https_to_the_pinned_address_keeps_sni_and_verifies_the_name(
        tmp_path: Path) -> None:
    cert, key = _self_signed("service.test", tmp_path)
    server_side = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_side.load_cert_chain(cert, key)
    names: list[str | None] = []
    server_side.sni_callback = lambda _sock, name, _ctx: names.append(name)
    heads: list[bytes] = []

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            heads.append(await reader.readuntil(b"\r\n\r\n"))
            await answer("200 OK", {})(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError, ssl.SSLError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0, ssl=server_side)
    port = server.sockets[0].getsockname()[1]

    async def to_loopback(_host: str, _port: int) -> list[str]:
        return ["127.0.0.1"]

    trusting = ssl.create_default_context(cafile=str(cert))
    policy = EgressPolicy(allow_private=True)  # https only
    try:
        async with new_client(verify=trusting) as client:
            ok = await fetch(client, "GET", f"https://service.test:{port}/x", policy=policy,
                             resolver=to_loopback)
            with pytest.raises(EgressError) as wrong_name:  # the cert is not for this name
                await fetch(client, "GET", f"https://other.test:{port}/x", policy=policy,
                            resolver=to_loopback)
    finally:
        server.close()
    assert ok.status == 200
    assert names[0] == "service.test"
    assert f"host: service.test:{port}".encode() in heads[0].lower()
    assert wrong_name.value.reason in ("CONNECT_FAILED", "PROTOCOL_ERROR")


async def test_an_international_name_is_resolved_and_sent_in_its_ascii_form() -> None:
    asked: list[str] = []
    heads: list[bytes] = []

    async def record(host: str, _port: int) -> list[str]:
        asked.append(host)
        return ["127.0.0.1"]

    async with raw_server(answer("200 OK", {}), heads) as base:
        port = base.rsplit(":", 1)[1]
        async with new_client() as client:
            await fetch(client, "GET", f"http://bücher.example:{port}/", policy=LOOPBACK_OK,
                        resolver=record)
    assert asked == ["xn--bcher-kva.example"]
    assert f"host: xn--bcher-kva.example:{port}".encode() in heads[0].lower()
