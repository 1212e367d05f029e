"""Integration: `satrank backup` then `satrank restore` reproduce a database exactly.

Runs the real commands (pg_dump/pg_restore against the session's Postgres) in
subprocesses: a populated database is backed up, restored into a fresh empty one, and
every table's row count and content checksum (md5 over rows in primary-key order) must
match. A non-empty target is refused; secrets enter the archive only when asked. Encrypted
backups (age, to a key or a passphrase) round-trip the same way and hold no plaintext;
versioned backups never replace one another, are pruned, shipped offsite and recorded.
"""

from __future__ import annotations

import asyncio
import json
import re
import stat
import tarfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import pytest
from pyrage import x25519

from satrank.backup import read_manifest
from satrank.backup_files import prune
from satrank.db.dump import table_checksums, table_row_counts
from tests.cli import run_satrank, satrank_env

_POPULATE = """
INSERT INTO nodes (pubkey, agent_hash, alias, addresses)
SELECT '02' || lpad(to_hex(i), 64, '0'),
       encode(sha256(('02' || lpad(to_hex(i), 64, '0'))::bytea), 'hex'),
       'node ' || i || ' ✓', jsonb_build_array('10.0.0.' || i % 250 || ':9735')
  FROM generate_series(1, 120) i;
INSERT INTO channels (channel_id, node1_pub, node2_pub, capacity_sat)
SELECT (800000::bigint << 40) + i, '02' || lpad(to_hex(i), 64, '0'),
       '02' || lpad(to_hex(i % 120 + 1), 64, '0'), 1000000 + i
  FROM generate_series(1, 119) i;
INSERT INTO channel_policies (channel_id, direction, time_lock_delta, min_htlc_msat,
                              fee_base_msat, fee_rate_milli_msat, disabled)
SELECT (800000::bigint << 40) + i, d, 40, 1000, 1000, 4294967295, d = 1
  FROM generate_series(1, 119) i, generate_series(0, 1) d;
INSERT INTO probes (target_pubkey, amount_sat, sent_at, duration_ms, outcome, route)
SELECT '02' || lpad(to_hex(i % 120 + 1), 64, '0'), 100000, now() - i * interval '1 minute',
       i, (ARRAY['reached','failed_in_route','no_route'])[i % 3 + 1], '[{"hop": 1}]'::jsonb
  FROM generate_series(1, 300) i;
INSERT INTO scores (pubkey, rank, verdict, p_success, ci95_low, ci95_high, n_eff, pagerank,
                    pagerank_pct, features, reasons, computed_at)
SELECT '02' || lpad(to_hex(i), 64, '0'), i % 101, 'SAFE', 0.9, 0.8, 0.95, 10, 1.0 / i, 0.5,
       '{"channels": 3}'::jsonb, '["ok"]'::jsonb, now()
  FROM generate_series(1, 120) i;
INSERT INTO l402_tokens (token_id, payment_hash, credits_total, valid_until)
SELECT sha256(('t' || i)::bytea), sha256(('p' || i)::bytea), 21, now() + interval '30 days'
  FROM generate_series(1, 50) i;
"""


async def _populate(dsn: str) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(_POPULATE)
    finally:
        await conn.close()


def _facts(dsn: str) -> tuple[dict[str, int], dict[str, str]]:
    return asyncio.run(table_row_counts(dsn)), asyncio.run(table_checksums(dsn))


def test_backup_restores_every_row_into_an_empty_database(
    tmp_path: Path, db_dsn: str, empty_db_dsn: str
) -> None:
    asyncio.run(_populate(db_dsn))
    archive = tmp_path / "satrank.backup"
    env = satrank_env(tmp_path / "data", DATABASE_URL=db_dsn)
    made = run_satrank("backup", "--out", str(archive), env=env)
    assert made.returncode == 0, made.stderr
    assert stat.S_IMODE(archive.stat().st_mode) == 0o600

    manifest = read_manifest(archive)
    with tarfile.open(archive) as tar:
        assert sorted(tar.getnames()) == ["database.dump", "manifest.json"]
    assert manifest["schemaVersion"] >= 1 and manifest["includesSecrets"] is False
    assert manifest["tables"]["public.nodes"] == 120
    assert manifest["tables"]["public.probes"] == 300

    restored = run_satrank(
        "restore", "--in", str(archive), env=satrank_env(tmp_path / "data",
                                                          DATABASE_URL=empty_db_dsn)
    )
    assert restored.returncode == 0, restored.stderr
    assert "row counts match the manifest" in restored.stdout

    before_counts, before_sums = _facts(db_dsn)
    after_counts, after_sums = _facts(empty_db_dsn)
    assert after_counts == before_counts
    assert after_sums == before_sums
    assert len(before_sums) >= 14


def test_restore_refuses_a_database_that_is_not_empty(
    tmp_path: Path, db_dsn: str
) -> None:
    archive = tmp_path / "b.tar"
    env = satrank_env(tmp_path / "data", DATABASE_URL=db_dsn)
    assert run_satrank("backup", "--out", str(archive), env=env).returncode == 0
    again = run_satrank("backup", "--out", str(archive), env=env)
    assert again.returncode == 1 and "exists" in again.stderr

    refused = run_satrank("restore", "--in", str(archive), env=env)
    assert refused.returncode == 1
    assert "not empty" in refused.stderr and "Traceback" not in refused.stderr


def test_secrets_go_into_the_archive_only_when_asked(
    tmp_path: Path, db_dsn: str, empty_db_dsn: str
) -> None:
    secret = "m" * 40
    env = satrank_env(tmp_path / "data", DATABASE_URL=db_dsn, L402_MACAROON_SECRET=secret)
    plain, with_secrets = tmp_path / "plain.tar", tmp_path / "secrets.tar"
    assert run_satrank("backup", "--out", str(plain), env=env).returncode == 0
    assert secret.encode() not in plain.read_bytes()

    made = run_satrank("backup", "--out", str(with_secrets), "--include-secrets", env=env)
    assert made.returncode == 0 and "WITH SECRETS" in made.stdout
    assert json.loads(
        tarfile.open(with_secrets).extractfile("manifest.json").read()  # type: ignore[union-attr]
    )["includesSecrets"] is True

    out = tmp_path / "restored-secrets.env"
    restored = run_satrank(
        "restore", "--in", str(with_secrets), "--secrets-out", str(out),
        env=satrank_env(tmp_path / "data", DATABASE_URL=empty_db_dsn),
    )
    assert restored.returncode == 0, restored.stderr
    assert f"L402_MACAROON_SECRET={secret}" in out.read_text().splitlines()
    assert stat.S_IMODE(out.stat().st_mode) == 0o600


@pytest.mark.parametrize("content", [b"", b"not a tar at all"], ids=["empty", "garbage"])
def test_restore_of_a_file_that_is_not_a_backup_fails_cleanly(
    tmp_path: Path, empty_db_dsn: str, content: bytes
) -> None:
    bogus = tmp_path / "bogus.tar"
    bogus.write_bytes(content)
    result = run_satrank("restore", "--in", str(bogus),
                         env=satrank_env(tmp_path / "data", DATABASE_URL=empty_db_dsn))
    assert result.returncode == 1
    assert "cannot read" in result.stderr and "Traceback" not in result.stderr


def _identity_files(tmp_path: Path) -> tuple[str, Path]:
    """A fresh age key pair: the public key, and the identity file (the secret half)."""
    identity = x25519.Identity.generate()
    path = tmp_path / "backup-identity.txt"
    path.write_text(f"# created for this test\n{identity}\n")
    return str(identity.to_public()), path


def test_encrypted_versioned_backup_round_trip(
    tmp_path: Path, db_dsn: str, empty_db_dsn: str
) -> None:
    asyncio.run(_populate(db_dsn))
    secret = "k" * 40
    public_key, identity_file = _identity_files(tmp_path)
    backups, offsite = tmp_path / "backups", tmp_path / "offsite"
    offsite.mkdir()
    metrics = tmp_path / "satrank-backup-database.prom"
    env = satrank_env(tmp_path / "data", DATABASE_URL=db_dsn, L402_MACAROON_SECRET=secret)
    made = [run_satrank("backup", "--dir", str(backups), "--encrypt-to", public_key,
                        "--include-secrets", "--retention-days", "14",
                        "--offsite-command", f"cp {{file}} {offsite}/",
                        "--metrics-file", str(metrics), env=env) for _ in range(2)]
    assert all(m.returncode == 0 for m in made), [m.stderr for m in made]
    files = sorted(backups.iterdir())
    # two backups, two files: a backup never replaces another, even within one second
    assert len(files) == 2 and all(re.fullmatch(r"satrank-\d{8}T\d{6}Z(-1)?\.satrank\.age",
                                                f.name) for f in files), files
    assert sorted(p.name for p in offsite.iterdir()) == [f.name for f in files]
    assert "satrank_backup_last_success_timestamp_seconds{kind=\"database\"}" \
        in metrics.read_text()
    archive = files[-1]
    raw = archive.read_bytes()
    assert raw.startswith(b"age-encryption.org/v1\n") and stat.S_IMODE(
        archive.stat().st_mode) == 0o600
    assert secret.encode() not in raw and b"ustar" not in raw and b"manifest" not in raw

    restore_env = satrank_env(tmp_path / "data", DATABASE_URL=empty_db_dsn)
    no_key = run_satrank("restore", "--in", str(archive), env=restore_env)
    assert no_key.returncode == 1 and "--identity" in no_key.stderr
    (tmp_path / "other").mkdir()
    _, wrong = _identity_files(tmp_path / "other")
    wrong_key = run_satrank("restore", "--in", str(archive), "--identity", str(wrong),
                            env=restore_env)
    assert wrong_key.returncode == 1 and "cannot decrypt" in wrong_key.stderr
    assert "Traceback" not in no_key.stderr + wrong_key.stderr

    secrets_out = tmp_path / "restored.env"
    restored = run_satrank("restore", "--in", str(archive), "--identity", str(identity_file),
                           "--secrets-out", str(secrets_out), env=restore_env)
    assert restored.returncode == 0, restored.stderr
    assert _facts(empty_db_dsn) == _facts(db_dsn)
    assert f"L402_MACAROON_SECRET={secret}" in secrets_out.read_text().splitlines()


def test_passphrase_encrypted_backup_round_trip(
    tmp_path: Path, db_dsn: str, empty_db_dsn: str
) -> None:
    passphrase = tmp_path / "passphrase"
    passphrase.write_text("correct horse battery staple\n")
    archive = tmp_path / "b.satrank.age"
    env = satrank_env(tmp_path / "data", DATABASE_URL=db_dsn)
    made = run_satrank("backup", "--out", str(archive), "--passphrase-file", str(passphrase),
                       env=env)
    assert made.returncode == 0 and "encrypted (age)" in made.stdout, made.stderr
    assert b"ustar" not in archive.read_bytes()
    again = run_satrank("backup", "--out", str(archive), "--passphrase-file", str(passphrase),
                        env=env)
    assert again.returncode == 1 and "never replaces" in again.stderr

    restore_env = satrank_env(tmp_path / "data", DATABASE_URL=empty_db_dsn)
    wrong = tmp_path / "wrong"
    wrong.write_text("not the passphrase at all\n")
    refused = run_satrank("restore", "--in", str(archive), "--passphrase-file", str(wrong),
                          env=restore_env)
    assert refused.returncode == 1 and "cannot decrypt" in refused.stderr
    restored = run_satrank("restore", "--in", str(archive), "--passphrase-file",
                           str(passphrase), env=restore_env)
    assert restored.returncode == 0, restored.stderr
    assert _facts(empty_db_dsn) == _facts(db_dsn)


def test_retention_prunes_old_backups_but_never_the_newest(tmp_path: Path) -> None:
    now = datetime(2026, 6, 1, tzinfo=UTC)
    names = ["satrank-20260101T031500Z.satrank", "satrank-20260520T031500Z.satrank.age",
             "satrank-20260531T031500Z.satrank", "notes.txt"]
    for name in names:
        (tmp_path / name).write_text(name)
    assert [p.name for p in prune(tmp_path, "satrank", 14, now)] == [names[0]]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(names[1:])
    # everything is old: the newest stays, whatever the retention says
    prune(tmp_path, "satrank", 1, now + timedelta(days=365))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt", names[2]]
