"""Unit: reads retry while lnd is UNAVAILABLE; writes and deadlines never retry."""

from __future__ import annotations

import grpc
import pytest

from satrank.lightning import lnd
from satrank.lightning.errors import LightningTimeout, LightningUnavailable
from satrank.lightning.lnd import LndClient

PEM = b"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"


def _rpc_error(code: grpc.StatusCode) -> grpc.aio.AioRpcError:
    return grpc.aio.AioRpcError(code, grpc.aio.Metadata(), grpc.aio.Metadata(), details="x")


class Flaky:
    """An RPC that fails with `code` `failures` times, then answers "ok"."""

    def __init__(self, code: grpc.StatusCode, failures: int) -> None:
        self.code, self.failures, self.calls = code, failures, 0
        self.timeouts: list[float] = []

    async def __call__(self, timeout: float) -> str:
        self.calls += 1
        self.timeouts.append(timeout)
        if self.calls <= self.failures:
            raise _rpc_error(self.code)
        return "ok"


@pytest.fixture(autouse=True)
def _no_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(lnd, "RETRY_BACKOFF_S", 0.0)


async def test_a_read_is_retried_until_the_node_is_back() -> None:
    c = LndClient.connect("127.0.0.1:1", PEM, b"m", rpc_timeout_s=3)
    rpc = Flaky(grpc.StatusCode.UNAVAILABLE, lnd.RETRY_ATTEMPTS - 1)
    assert await c._call("GetInfo", rpc) == "ok"
    assert rpc.calls == lnd.RETRY_ATTEMPTS and set(rpc.timeouts) == {3}


async def test_a_read_gives_up_after_the_last_attempt() -> None:
    c = LndClient.connect("127.0.0.1:1", PEM, b"m")
    rpc = Flaky(grpc.StatusCode.UNAVAILABLE, lnd.RETRY_ATTEMPTS)
    with pytest.raises(LightningUnavailable) as raised:
        await c._call("GetInfo", rpc)
    assert isinstance(raised.value.__cause__, grpc.aio.AioRpcError)
    assert rpc.calls == lnd.RETRY_ATTEMPTS


@pytest.mark.parametrize(("code", "idempotent", "error"), [
    (grpc.StatusCode.UNAVAILABLE, False, LightningUnavailable),  # AddInvoice: no double mint
    (grpc.StatusCode.DEADLINE_EXCEEDED, True, LightningTimeout),  # the deadline is final
])
async def test_no_retry(code: grpc.StatusCode, idempotent: bool,
                        error: type[Exception]) -> None:
    c = LndClient.connect("127.0.0.1:1", PEM, b"m")
    rpc = Flaky(code, 1)
    with pytest.raises(error):
        await c._call("AddInvoice", rpc, idempotent=idempotent, timeout_s=7)
    assert rpc.calls == 1 and rpc.timeouts == [7]
