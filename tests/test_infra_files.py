"""Integration: the shipped systemd units and Prometheus files pass their own tools.

`systemd-analyze verify` (units rendered with this checkout's paths; an unknown key in a
hardening option would be silently ignored by systemd, so its warnings fail the test) and
`promtool check config` / `check rules` / `test rules` (each alert provably fires).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PROMETHEUS = ROOT / "infra" / "prometheus"
UNITS = sorted((ROOT / "infra" / "systemd").glob("*.service"))


def _tool(name: str) -> str:
    found = shutil.which(name)
    assert found, f"{name} is missing: .ci/run installs it"
    return found


def _run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, capture_output=True, text=True, timeout=60, check=False,
                          cwd=cwd)


@pytest.mark.parametrize("unit", UNITS, ids=[u.name for u in UNITS])
def test_systemd_unit_verifies(tmp_path: Path, unit: Path) -> None:
    satrank = Path(sys.executable).with_name("satrank")
    text = unit.read_text()
    assert "/opt/satrank/.venv/bin/satrank" in text and "Restart=on-failure" in text
    assert "EnvironmentFile=/etc/satrank/satrank.env" in text
    rendered = tmp_path / unit.name
    # The service user does not exist on a CI machine; root does.
    rendered.write_text(text.replace("/opt/satrank/.venv/bin/satrank", str(satrank))
                        .replace("User=satrank", "User=root")
                        .replace("Group=satrank", "Group=root"))
    result = _run(_tool("systemd-analyze"), "verify", str(rendered))
    assert result.returncode == 0, result.stderr
    assert "Unknown" not in result.stderr and "ignoring" not in result.stderr, result.stderr


def test_units_are_hardened() -> None:
    for unit in UNITS:
        text = unit.read_text()
        for option in ("NoNewPrivileges=yes", "ProtectSystem=strict", "ProtectHome=yes",
                       "PrivateTmp=yes", "CapabilityBoundingSet=", "UMask=0077"):
            assert option in text.splitlines(), f"{unit.name} lacks {option}"


def test_prometheus_config_and_rules_check() -> None:
    promtool = _tool("promtool")
    config = _run(promtool, "check", "config", str(PROMETHEUS / "prometheus.yml"))
    assert config.returncode == 0, config.stdout + config.stderr
    rules = _run(promtool, "check", "rules", str(PROMETHEUS / "satrank-rules.yml"))
    assert rules.returncode == 0, rules.stdout + rules.stderr
    assert "SUCCESS: 14 rules found" in rules.stdout


def test_every_alert_fires_in_promtool_unit_tests() -> None:
    promtool = _tool("promtool")
    result = _run(promtool, "test", "rules", "tests/satrank-rules.test.yml", cwd=PROMETHEUS)
    assert result.returncode == 0, result.stdout + result.stderr
    tested = (PROMETHEUS / "tests" / "satrank-rules.test.yml").read_text()
    alerts = [line.split(":", 1)[1].strip()
              for line in (PROMETHEUS / "satrank-rules.yml").read_text().splitlines()
              if line.strip().startswith("- alert:")]
    untested = [a for a in alerts if f"alertname: {a}" not in tested]
    assert untested == []


def test_a_broken_rule_is_caught(tmp_path: Path) -> None:
    broken = tmp_path / "rules.yml"
    broken.write_text((PROMETHEUS / "satrank-rules.yml").read_text()
                      .replace("up{job=\"satrank-api\"} == 0", "up{job=\"satrank-api\" == 0", 1))
    result = _run(_tool("promtool"), "check", "rules", str(broken))
    assert result.returncode != 0
