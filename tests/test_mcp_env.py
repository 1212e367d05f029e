"""Unit: what `satrank mcp` accepts from its environment (client/mcp_env.py): a cap, a URL,
at most one wallet, and no secret echoed in any refusal."""

from __future__ import annotations

from pathlib import Path

import pytest

from satrank.client import LndWallet, NwcWallet
from satrank.client.mcp_env import McpConfigError, load_mcp_env

NWC = "nostr+walletconnect://" + "ab" * 32 + "?relay=wss://relay.example&secret=" + "cd" * 32
BASE = {"SATRANK_URL": "http://127.0.0.1:3000", "SATRANK_MAX_SAT_PER_DAY": "100"}


def _lnd(tmp_path: Path) -> dict[str, str]:
    (tmp_path / "tls.cert").write_text("cert")
    (tmp_path / "pay.macaroon").write_bytes(b"\x02mac")
    return {"SATRANK_LND_HOST": "127.0.0.1:10009",
            "SATRANK_LND_TLS_CERT": str(tmp_path / "tls.cert"),
            "SATRANK_LND_MACAROON": str(tmp_path / "pay.macaroon")}


def test_one_wallet_or_none(tmp_path: Path) -> None:
    assert load_mcp_env(BASE).wallet is None
    nwc = load_mcp_env({**BASE, "SATRANK_NWC_URI": NWC, "SATRANK_MAX_FEE_SAT": "3"})
    assert isinstance(nwc.wallet, NwcWallet) and nwc.wallet.max_fee_sat == 3
    assert "cd" * 32 not in repr(nwc)
    lnd = load_mcp_env({**BASE, **_lnd(tmp_path)})
    assert isinstance(lnd.wallet, LndWallet) and lnd.wallet_kind == "LndWallet"
    assert lnd.caps.per_day_sat == 100


@pytest.mark.parametrize(("change", "message"), [
    ({"SATRANK_MAX_SAT_PER_DAY": ""}, "refusing to start without a spending cap"),
    ({"SATRANK_MAX_SAT_PER_HOUR": "lots"}, "SATRANK_MAX_SAT_PER_HOUR"),
    ({"SATRANK_URL": ""}, "SATRANK_URL"),
    ({"SATRANK_URL": "ftp://x"}, "SATRANK_URL"),
    ({"SATRANK_NWC_URI": "nostr+walletconnect:/" + "cd" * 32}, "SATRANK_NWC_URI"),
    ({"SATRANK_LND_HOST": "127.0.0.1:10009"}, "needs all of"),
    ({"SATRANK_MAX_FEE_SAT": "-1"}, "SATRANK_MAX_FEE_SAT"),
])
def test_refusals_name_the_variable(change: dict[str, str], message: str) -> None:
    with pytest.raises(McpConfigError, match=message) as refused:
        load_mcp_env({**BASE, **change})
    assert "cd" * 32 not in str(refused.value)


def test_both_wallets_is_refused(tmp_path: Path) -> None:
    with pytest.raises(McpConfigError, match="not both"):
        load_mcp_env({**BASE, **_lnd(tmp_path), "SATRANK_NWC_URI": NWC})


def test_an_unreadable_macaroon_is_refused(tmp_path: Path) -> None:
    env = {**BASE, **_lnd(tmp_path), "SATRANK_LND_MACAROON": str(tmp_path / "missing")}
    with pytest.raises(McpConfigError, match="cannot read"):
        load_mcp_env(env)
