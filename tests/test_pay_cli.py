"""CLI: `satrank pay` fails with a message and exit 1, never a traceback."""

from __future__ import annotations

from pathlib import Path

from tests.cli import run_satrank, satrank_env


def test_pay_without_lnd_files_explains_and_exits_1(tmp_path: Path) -> None:
    result = run_satrank("pay", "lnbcrt1x", "--lnd-dir", str(tmp_path / "nowhere"),
                         "--lnd-host", "127.0.0.1:1", env=satrank_env(tmp_path))
    assert result.returncode == 1
    assert "satrank pay: cannot read" in result.stderr
    assert "tls.cert" in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""
