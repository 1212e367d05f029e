"""Unit: the committed stubs match protos/, and the subset keeps lnd's wire numbers."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

from satrank.lightning import invoices_pb2, lightning_pb2, router_pb2

ROOT = Path(__file__).resolve().parents[1]


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gen_protos", ROOT / "scripts/gen_protos.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_committed_stubs_match_a_fresh_generation(tmp_path: Path) -> None:
    gen = _generator()
    fresh = {p.name: p.read_text() for p in gen.generate(tmp_path)}
    committed = {p.name: p.read_text() for p in gen.generated_files(gen.DEFAULT_OUT)}
    assert sorted(fresh) == sorted(committed), "run `make protos` and commit the stubs"
    stale = [name for name in fresh if fresh[name] != committed[name]]
    assert stale == [], f"stubs differ from protos/ ({stale}): run `make protos`"


def test_generated_imports_resolve_inside_the_package(tmp_path: Path) -> None:
    gen = _generator()
    for path in gen.generate(tmp_path):
        for line in path.read_text().splitlines():
            assert not line.startswith(("import lightning_pb2", "import router_pb2")), line


# Numbers a hand-written subset easily gets wrong (facts sheet, pitfalls §3).
SURPRISING_NUMBERS = [
    (lightning_pb2.ListChannelsResponse, "channels", 11),
    (lightning_pb2.AddInvoiceResponse, "add_index", 16),
    (lightning_pb2.AddInvoiceResponse, "payment_addr", 17),
    (lightning_pb2.MPPRecord, "payment_addr", 11),
    (lightning_pb2.MPPRecord, "total_amt_msat", 10),
    (lightning_pb2.HTLCAttempt, "attempt_id", 7),
    (router_pb2.QueryMissionControlResponse, "pairs", 2),
    (router_pb2.PairHistory, "history", 7),
    (invoices_pb2.SubscribeSingleInvoiceRequest, "r_hash", 2),
    (router_pb2.RouteFeeResponse, "failure_reason", 5),
    (lightning_pb2.GetInfoResponse, "version", 14),
    (lightning_pb2.ChannelUpdate, "message_flags", 10),
    (lightning_pb2.Invoice, "value_msat", 23),
    (lightning_pb2.PaymentHash, "r_hash", 2),
    (lightning_pb2.Failure, "failure_source_index", 8),
    (router_pb2.SendPaymentRequest, "no_inflight_updates", 18),
]


@pytest.mark.parametrize(("message", "field", "number"), SURPRISING_NUMBERS)
def test_field_numbers_are_lnds(message: type, field: str, number: int) -> None:
    assert message.DESCRIPTOR.fields_by_name[field].number == number  # type: ignore[attr-defined]


def test_wire_names_and_enum_values_are_lnds() -> None:
    lightning = lightning_pb2.DESCRIPTOR.services_by_name["Lightning"]
    assert lightning.full_name == "lnrpc.Lightning"
    assert router_pb2.DESCRIPTOR.services_by_name["Router"].full_name == "routerrpc.Router"
    assert invoices_pb2.DESCRIPTOR.services_by_name["Invoices"].full_name == (
        "invoicesrpc.Invoices")
    code = lightning_pb2.Failure.FailureCode
    assert code.Value("TEMPORARY_CHANNEL_FAILURE") == 15
    assert code.Value("UNKNOWN_NEXT_PEER") == 18
    assert code.Value("UNREADABLE_FAILURE") == 999
    assert lightning_pb2.PaymentFailureReason.Value(
        "FAILURE_REASON_INCORRECT_PAYMENT_DETAILS") == 4
    assert lightning_pb2.Payment.PaymentStatus.Value("INITIATED") == 4
    assert lightning_pb2.HTLCAttempt.HTLCStatus.Value("IN_FLIGHT") == 0
    pair = lightning_pb2.NodePair(**{"from": b"\x02" * 33, "to": b"\x03" * 33})
    assert getattr(pair, "from") == b"\x02" * 33
