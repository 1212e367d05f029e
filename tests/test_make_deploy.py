"""Integration: `make deploy` as DEPLOY.md runs it, with real rsync over a stand-in for ssh
that runs the remote rsync on this machine, into a local directory.

A source tree holding the real Makefile and .rsync-exclude plus every kind of secret and
local state is deployed: code arrives, no secret does, the target's own .env survives
--delete, and without .rsync-exclude the target is not touched. A dry run of this
checkout shows every tracked file the hosts need would be copied.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CODE = ["Makefile", "pyproject.toml", "satrank/cli.py", "sql/001_init.sql",
        "infra/env.example", "infra/systemd/satrank-api.service", "docs/lightning.md"]
SECRETS = [".env", ".env.production", "satrank.env", "lnd/admin.macaroon",
           "infra/readonly.macaroon", "lnd-creds/tls.key", "certs/privkey.pem",
           ".satrank/postgres/PG_VERSION", ".git/config", ".venv/bin/python",
           "backups/satrank-20260101.satrank", "backups/satrank-20260101.satrank.age",
           "channel-backups/channel-20260101T000000Z.backup", "nostr.nsec",
           "data/graph.json"]


def _tool(name: str) -> str:
    found = shutil.which(name)
    assert found, f"{name} is missing: scripts/install-system-deps.sh installs it"
    return found


@pytest.fixture
def fake_ssh(tmp_path: Path) -> Path:
    """`ssh [-l USER] HOST rsync ...` that runs the remote rsync here, locally."""
    script = tmp_path / "fake-ssh"
    script.write_text('#!/bin/sh\nwhile [ "$1" != rsync ]; do shift; done\nexec "$@"\n')
    script.chmod(0o755)
    return script


def _source_tree(base: Path, *, with_excludes: bool = True) -> Path:
    src = base / "src"
    for name in CODE + SECRETS:
        path = src / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"contents of {name}\n")
    shutil.copy(ROOT / "Makefile", src / "Makefile")
    if with_excludes:
        shutil.copy(ROOT / ".rsync-exclude", src / ".rsync-exclude")
    return src


def _make_deploy(src: Path, remote: Path, fake_ssh: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [_tool("make"), "-C", str(src), "deploy", "SATRANK_HOST=satrank@host",
         f"REMOTE_DIR={remote}"],
        capture_output=True, text=True, timeout=120, check=False,
        env={"PATH": f"{Path(_tool('rsync')).parent}:/usr/bin:/bin",
             "RSYNC_RSH": str(fake_ssh)},
    )


def _files_under(directory: Path) -> set[str]:
    return {str(p.relative_to(directory)) for p in directory.rglob("*") if p.is_file()}


def test_deploy_copies_code_and_no_secret(tmp_path: Path, fake_ssh: Path) -> None:
    src = _source_tree(tmp_path)
    remote = tmp_path / "remote"
    (remote / "satrank").mkdir(parents=True)
    (remote / ".env").write_text("POSTGRES_PASSWORD=the-host-s-own\n")
    (remote / "lnd").mkdir()
    (remote / "lnd" / "invoice.macaroon").write_bytes(b"host macaroon")
    (remote / "satrank" / "removed_module.py").write_text("stale\n")

    result = _make_deploy(src, remote, fake_ssh)
    assert result.returncode == 0, result.stdout + result.stderr

    arrived = _files_under(remote)
    assert set(CODE) <= arrived
    assert arrived & set(SECRETS) == {".env"}  # the host's own, untouched:
    assert (remote / ".env").read_text() == "POSTGRES_PASSWORD=the-host-s-own\n"
    assert (remote / "lnd" / "invoice.macaroon").read_bytes() == b"host macaroon"
    assert not (remote / "satrank" / "removed_module.py").exists()  # --delete for code


def test_deploy_refuses_without_rsync_exclude(tmp_path: Path, fake_ssh: Path) -> None:
    src = _source_tree(tmp_path, with_excludes=False)
    remote = tmp_path / "remote"
    remote.mkdir()
    (remote / ".env").write_text("keep\n")

    result = _make_deploy(src, remote, fake_ssh)
    assert result.returncode != 0
    assert ".rsync-exclude is missing" in result.stderr
    assert _files_under(remote) == {".env"}


def test_deploy_refuses_without_a_remote_directory(tmp_path: Path, fake_ssh: Path) -> None:
    src = _source_tree(tmp_path)
    result = subprocess.run(
        [_tool("make"), "-C", str(src), "deploy", "SATRANK_HOST=satrank@host", "REMOTE_DIR=/"],
        capture_output=True, text=True, timeout=60, check=False,
        env={"PATH": "/usr/bin:/bin", "RSYNC_RSH": str(fake_ssh)},
    )
    assert result.returncode != 0 and "REMOTE_DIR" in result.stderr


def test_every_tracked_file_but_secrets_would_be_deployed() -> None:
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True,
                             check=True).stdout.split()
    dry = subprocess.run(
        [_tool("rsync"), "-rlptn", "--exclude-from=.rsync-exclude", "--out-format=%n",
         "./", "/nonexistent-satrank-deploy-target/"],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=False,
    )
    assert dry.returncode == 0, dry.stderr
    would_copy = set(dry.stdout.split())
    skipped = [f for f in tracked if f not in would_copy and Path(ROOT / f).is_file()]
    assert skipped == []
