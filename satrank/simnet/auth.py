"""Macaroons as lnd bakes and checks them, and lnd's per-RPC permission table.

A macaroon is a V2 binary macaroon whose identifier is lnd's: version byte 3 followed by
a protobuf `MacaroonId{nonce=1, storageId=2, ops=3 [Op{entity=1, actions=2}]}`; the
permissions live in the identifier, so the signature covers them. Failures are returned
the way lnd returns them: gRPC UNKNOWN with lnd's message.
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, NoReturn

import grpc
from pymacaroons import MACAROON_V2, Macaroon, Verifier
from pymacaroons.serializers import BinarySerializer

MACAROON_LOCATION = "lnd"
_ID_VERSION = 3
_VERIFIED_MAX = 1024  # distinct verified macaroons remembered per server

# lnd v0.20.3 MainRPCServerPermissions / routerrpc / invoicesrpc macPermissions
RPC_PERMISSIONS: dict[str, str] = {
    "/lnrpc.Lightning/GetInfo": "info:read",
    "/lnrpc.Lightning/DescribeGraph": "info:read",
    "/lnrpc.Lightning/GetNodeInfo": "info:read",
    "/lnrpc.Lightning/GetChanInfo": "info:read",
    "/lnrpc.Lightning/QueryRoutes": "info:read",
    "/lnrpc.Lightning/GetNetworkInfo": "info:read",
    "/lnrpc.Lightning/AddInvoice": "invoices:write",
    "/lnrpc.Lightning/LookupInvoice": "invoices:read",
    "/lnrpc.Lightning/SubscribeInvoices": "invoices:read",
    "/lnrpc.Lightning/DecodePayReq": "offchain:read",
    "/lnrpc.Lightning/ListChannels": "offchain:read",
    "/lnrpc.Lightning/ChannelBalance": "offchain:read",
    "/lnrpc.Lightning/ExportAllChannelBackups": "offchain:read",
    "/lnrpc.Lightning/SubscribeChannelBackups": "offchain:read",
    "/routerrpc.Router/SendPaymentV2": "offchain:write",
    "/routerrpc.Router/TrackPaymentV2": "offchain:read",
    "/routerrpc.Router/SendToRouteV2": "offchain:write",
    "/routerrpc.Router/EstimateRouteFee": "offchain:read",
    "/routerrpc.Router/QueryMissionControl": "offchain:read",
    "/routerrpc.Router/ResetMissionControl": "offchain:write",
    "/invoicesrpc.Invoices/LookupInvoiceV2": "invoices:write",
    "/invoicesrpc.Invoices/SubscribeSingleInvoice": "invoices:read",
}

_ENTITIES = ("address", "info", "invoices", "macaroon", "message", "offchain", "onchain",
             "peers", "signer", "uri")
# the files lnd writes (docs/macaroons.md), plus the probe role `lncli bakemacaroon
# offchain:read offchain:write info:read` would make
MACAROON_FILES: dict[str, tuple[str, ...]] = {
    "admin.macaroon": tuple(f"{e}:{a}" for e in _ENTITIES for a in ("read", "write")
                            if e != "uri") + ("macaroon:generate",),
    "readonly.macaroon": tuple(f"{e}:read" for e in _ENTITIES if e != "uri"),
    "invoice.macaroon": ("invoices:read", "invoices:write", "address:read", "address:write",
                         "onchain:read"),
    "pay.macaroon": ("offchain:read", "offchain:write", "info:read"),
}


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _field(number: int, payload: bytes) -> bytes:
    return _varint(number << 3 | 2) + _varint(len(payload)) + payload


def _read_fields(data: bytes) -> list[tuple[int, bytes]]:
    out: list[tuple[int, bytes]] = []
    pos = 0
    while pos < len(data):
        key, pos = _read_varint(data, pos)
        if key & 7 != 2:
            raise ValueError("unexpected wire type")
        length, pos = _read_varint(data, pos)
        out.append((key >> 3, data[pos:pos + length]))
        pos += length
    return out


def _read_varint(data: bytes, pos: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        b = data[pos]
        pos += 1
        value |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            return value, pos


def encode_identifier(permissions: tuple[str, ...], nonce: bytes) -> bytes:
    by_entity: dict[str, list[str]] = {}
    for perm in permissions:
        entity, action = perm.split(":")
        by_entity.setdefault(entity, []).append(action)
    ops = b"".join(_field(3, _field(1, e.encode()) + b"".join(_field(2, a.encode())
                                                               for a in acts))
                   for e, acts in by_entity.items())
    return bytes([_ID_VERSION]) + _field(1, nonce) + _field(2, b"0") + ops


def decode_permissions(identifier: bytes) -> set[str]:
    if not identifier or identifier[0] != _ID_VERSION:
        raise ValueError("unknown macaroon identifier version")
    perms: set[str] = set()
    for number, payload in _read_fields(identifier[1:]):
        if number == 3:
            fields = _read_fields(payload)
            entity = next((p.decode() for n, p in fields if n == 1), "")
            perms.update(f"{entity}:{p.decode()}" for n, p in fields if n == 2)
    return perms


def bake(root_key: bytes, permissions: tuple[str, ...]) -> bytes:
    mac = Macaroon(location=MACAROON_LOCATION, identifier=encode_identifier(
        permissions, os.urandom(16)), key=root_key, version=MACAROON_V2)
    raw: bytes = BinarySerializer().serialize_raw(mac)
    return raw


def write_macaroons(directory: Path, root_key: bytes) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    for name, perms in MACAROON_FILES.items():
        path = directory / name
        path.write_bytes(bake(root_key, perms))
        path.chmod(0o600)


async def abort(context: Any, code: grpc.StatusCode, message: str) -> NoReturn:
    """`context.abort` (which raises) typed as never returning."""
    await context.abort(code, message)
    raise AssertionError("context.abort returned")


class AuthError(Exception):
    pass


def check_macaroon(metadata: tuple[tuple[str, str | bytes], ...], root_key: bytes,
                   permission: str, verified: dict[str | bytes, set[str]] | None = None,
                   ) -> None:
    """Raise AuthError with lnd's message unless the one `macaroon` grants `permission`.

    `verified` remembers the permissions of macaroons that verified: with no caveat
    satisfiable, verification depends only on the macaroon and the root key, so a client
    sending the same macaroon on every call pays the HMAC chain and decoding once."""
    values = [v for k, v in metadata if k == "macaroon"]
    if len(values) != 1:
        raise AuthError(f"expected 1 macaroon, got {len(values)}")
    value = values[0]
    perms = verified.get(value) if verified is not None else None
    if perms is None:
        perms = _verified_permissions(value, root_key)
        if verified is not None:
            if len(verified) >= _VERIFIED_MAX:
                verified.pop(next(iter(verified)))  # oldest first: dicts keep insertion order
            verified[value] = perms
    if permission not in perms:
        raise AuthError("permission denied")


def _verified_permissions(value: str | bytes, root_key: bytes) -> set[str]:
    try:
        raw = bytes.fromhex(value.decode() if isinstance(value, bytes) else value)
        mac = BinarySerializer().deserialize_raw(raw)
    except Exception as exc:  # any undecodable input is the caller's error
        raise AuthError(f"unable to decode macaroon: {exc}") from None
    verifier = Verifier()
    verifier.satisfy_general(lambda caveat: False)  # lnd's custom caveats are not served
    try:
        verifier.verify(mac, root_key)
        return decode_permissions(mac.identifier_bytes)
    except Exception:
        raise AuthError("verification failed: signature mismatch after caveat verification"
                        ) from None


class MacaroonInterceptor(grpc.aio.ServerInterceptor):  # type: ignore[misc]
    """Checks every call against RPC_PERMISSIONS before the servicer runs."""

    def __init__(self, root_key: bytes) -> None:
        self._root_key = root_key
        self._verified: dict[str | bytes, set[str]] = {}

    async def intercept_service(
        self, continuation: Callable[[Any], Awaitable[Any]], details: Any,
    ) -> Any:
        handler = await continuation(details)
        permission = RPC_PERMISSIONS.get(details.method)
        if handler is None or permission is None:
            return handler
        try:
            check_macaroon(tuple(details.invocation_metadata or ()), self._root_key, permission,
                           self._verified)
        except AuthError as exc:
            return _rejecting(handler, str(exc))
        return handler


def _rejecting(handler: Any, message: str) -> Any:
    async def unary(request: Any, context: grpc.aio.ServicerContext) -> Any:
        await context.abort(grpc.StatusCode.UNKNOWN, message)

    async def stream(request: Any, context: grpc.aio.ServicerContext) -> Any:
        await context.abort(grpc.StatusCode.UNKNOWN, message)
        yield  # pragma: no cover - makes this an async generator

    kwargs = {"request_deserializer": handler.request_deserializer,
              "response_serializer": handler.response_serializer}
    if handler.unary_stream:
        return grpc.unary_stream_rpc_method_handler(stream, **kwargs)
    return grpc.unary_unary_rpc_method_handler(unary, **kwargs)
