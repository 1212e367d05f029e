"""Integration: docker-compose validates the committed compose file (no engine needed).

Debian's docker-compose 1.29 (installed by .ci/run) parses, interpolates and checks the
schema and the references between services, exactly as `docker-compose up` would first.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]


def _project(tmp_path: Path, env_text: str, compose_text: str | None = None) -> Path:
    shutil.copy(ROOT / "Dockerfile", tmp_path / "Dockerfile")
    (tmp_path / "docker-compose.yml").write_text(
        compose_text if compose_text is not None else (ROOT / "docker-compose.yml").read_text()
    )
    (tmp_path / ".env").write_text(env_text)
    return tmp_path


def _compose(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    binary = shutil.which("docker-compose")
    assert binary, "docker-compose is missing: .ci/run installs it (apt: docker-compose)"
    return subprocess.run(
        [binary, "--project-directory", str(project), "-f",
         str(project / "docker-compose.yml"), *args],
        capture_output=True, text=True, timeout=60, check=False, cwd=project,
    )


def _example_env(**values: str) -> str:
    lines = []
    for line in (ROOT / "infra" / "env.example").read_text().splitlines():
        key = line.split("=", 1)[0]
        lines.append(f"{key}={values[key]}" if key in values else line)
    return "\n".join(lines) + "\n"


def test_the_compose_file_is_valid_with_the_documented_env(tmp_path: Path) -> None:
    project = _project(tmp_path, _example_env(POSTGRES_PASSWORD="pw-" + "x" * 20))
    checked = _compose(project, "config", "-q")
    assert checked.returncode == 0, checked.stderr
    services = _compose(project, "--profile", "lnd", "config", "--services").stdout.split()
    assert sorted(services) == ["api", "bitcoind", "crawler", "lnd", "postgres"]
    rendered = _compose(project, "config").stdout
    assert "image: postgres:16" in rendered
    assert "condition: service_healthy" in rendered
    assert "127.0.0.1:3000" in rendered or "host_ip: 127.0.0.1" in rendered


def test_a_missing_database_password_stops_compose(tmp_path: Path) -> None:
    project = _project(tmp_path, _example_env(POSTGRES_PASSWORD=""))
    checked = _compose(project, "config", "-q")
    assert checked.returncode != 0
    assert "POSTGRES_PASSWORD" in checked.stderr


@pytest.mark.parametrize(
    ("old", "new", "complaint"),
    [
        ("    command: [\"crawl\"]", "    commandz: [\"crawl\"]", "commandz"),
        ("    postgres:\n      condition", "    nope:\n      condition", "nope"),
    ],
    ids=["unknown-key", "undefined-dependency"],
)
def test_the_validation_catches_mistakes(
    tmp_path: Path, old: str, new: str, complaint: str
) -> None:
    text = (ROOT / "docker-compose.yml").read_text()
    assert old in text
    project = _project(tmp_path, _example_env(POSTGRES_PASSWORD="pw"), text.replace(old, new, 1))
    checked = _compose(project, "config", "-q")
    assert checked.returncode != 0 and complaint in checked.stderr


def test_containers_reach_lnd_beyond_their_own_loopback(tmp_path: Path) -> None:
    project = _project(tmp_path, _example_env(POSTGRES_PASSWORD="pw-" + "x" * 20))
    rendered = yaml.safe_load(_compose(project, "config").stdout)
    for name in ("api", "crawler"):
        service = rendered["services"][name]
        assert service["environment"]["LND_GRPC_HOST"] == "host.docker.internal:10009"
        assert "host.docker.internal:host-gateway" in service["extra_hosts"]
        assert service["volumes"][0] == "/etc/satrank/lnd:/lnd:ro"  # outside the checkout
    with_lnd = _project(tmp_path, _example_env(POSTGRES_PASSWORD="pw-" + "x" * 20)
                        + "LND_GRPC_HOST=lnd:10009\n")
    rendered = yaml.safe_load(_compose(with_lnd, "--profile", "lnd", "config").stdout)
    assert rendered["services"]["api"]["environment"]["LND_GRPC_HOST"] == "lnd:10009"
    assert "--tlsextradomain=lnd" in rendered["services"]["lnd"]["command"]


@pytest.mark.parametrize(("exit_code", "healthy"), [(0, True), (1, True), (2, False)],
                         ids=["ok", "degraded", "down"])
def test_the_api_healthcheck_fails_only_when_down(
    tmp_path: Path, exit_code: int, healthy: bool
) -> None:
    """The rendered healthcheck, run by a shell as docker runs CMD-SHELL, with a stand-in
    `satrank healthcheck` exiting as the real one does for ok, degraded and down."""
    project = _project(tmp_path, _example_env(POSTGRES_PASSWORD="pw-" + "x" * 20))
    test = yaml.safe_load(_compose(project, "config").stdout)["services"]["api"][
        "healthcheck"]["test"]
    assert test[0] == "CMD-SHELL" and test[1].startswith("satrank healthcheck ")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "satrank").write_text(f"#!/bin/sh\nexit {exit_code}\n")
    (bin_dir / "satrank").chmod(0o755)
    # `config` prints compose-escaped text ($$); the engine hands the shell a single $
    result = subprocess.run(["/bin/sh", "-c", test[1].replace("$$", "$")],
                            env={"PATH": f"{bin_dir}:/usr/bin:/bin"},
                            capture_output=True, text=True, timeout=30, check=False)
    assert (result.returncode == 0) is healthy
