"""Unit: open_lnd reads the role's files and names the variable when one is missing."""

from __future__ import annotations

from pathlib import Path

import pytest

from satrank.config import LndSettings
from satrank.lightning.backend import LightningBackend
from satrank.lightning.errors import LightningError
from satrank.lightning.lnd import LndClient, open_lnd

PEM = b"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"


def _settings(tmp_path: Path, **overrides: Path | None) -> LndSettings:
    (tmp_path / "tls.cert").write_bytes(PEM)
    for role in ("invoice", "readonly", "pay"):
        (tmp_path / f"{role}.macaroon").write_bytes(role.encode())
    fields: dict[str, Path | None] = {
        "tls_cert_path": tmp_path / "tls.cert",
        "invoice_macaroon_path": tmp_path / "invoice.macaroon",
        "readonly_macaroon_path": tmp_path / "readonly.macaroon",
        "pay_macaroon_path": tmp_path / "pay.macaroon",
    }
    fields.update(overrides)
    return LndSettings(grpc_host="127.0.0.1:10009", **fields)  # type: ignore[arg-type]


@pytest.mark.parametrize("role", ["invoice", "readonly", "pay"])
def test_open_lnd_sends_the_roles_macaroon_as_hex(tmp_path: Path, role: str) -> None:
    client = open_lnd(_settings(tmp_path), role)  # type: ignore[arg-type]
    assert client._metadata == (("macaroon", role.encode().hex()),)


@pytest.mark.parametrize(("field", "variable"), [
    ("tls_cert_path", "LND_TLS_CERT_PATH"),
    ("pay_macaroon_path", "LND_PAY_MACAROON_PATH"),
])
def test_open_lnd_names_the_missing_variable(tmp_path: Path, field: str, variable: str) -> None:
    with pytest.raises(LightningError, match=variable):
        open_lnd(_settings(tmp_path, **{field: None}), "pay")
    with pytest.raises(LightningError, match=f"{variable}: cannot read"):
        open_lnd(_settings(tmp_path, **{field: tmp_path / "absent"}), "pay")


def test_a_non_pem_certificate_is_refused() -> None:
    with pytest.raises(LightningError, match="not PEM"):
        LndClient.connect("127.0.0.1:10009", b"\x30\x82binary-der", b"mac")


def test_lnd_client_fulfils_the_backend_protocol() -> None:
    _: LightningBackend = LndClient.connect("127.0.0.1:10009", PEM, b"mac")
