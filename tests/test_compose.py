"""Integration: docker-compose validates the committed compose file (no engine needed).

Debian's docker-compose 1.29 (installed by .ci/run) parses, interpolates and checks the
schema and the references between services, exactly as `docker-compose up` would first.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

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
