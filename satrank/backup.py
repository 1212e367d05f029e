"""`satrank backup` / `satrank restore`: one file holding a pg_dump and its manifest.

The archive is a plain tar (the custom-format dump inside is already compressed):

    manifest.json   format, SatRank and schema versions, time, PostgreSQL versions,
                    row count per table, sha256 of the dump
    database.dump   pg_dump --format=custom
    secrets.env     only with --include-secrets: the secret settings, as env lines

With an `Encryption` the tar is then encrypted in the age format (`backup_crypto`), and
the file is named `*.satrank.age`; restore detects it and needs the identity or passphrase.

Contracts: a backup file is written under a temporary name with mode 0600 and linked to
its final name when complete, so a crash never leaves a half file under the final name and
a backup never replaces an existing file (`backup_files.place_new`). A restore goes
only into an EMPTY database (it never merges into or overwrites live data), runs in one
transaction, and afterwards checks every table's row count against the manifest.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
import os
import tarfile
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from satrank import __version__
from satrank.backup_crypto import (
    SUFFIX,
    BackupCryptoError,
    Decryption,
    Encryption,
    decrypt_file,
    encrypt_file,
    is_encrypted,
)
from satrank.backup_files import BackupFileError, place_new, place_versioned
from satrank.config import Secret, Settings
from satrank.db import dump
from satrank.db.migrations import latest_version, load_migrations

FORMAT = "satrank-backup/1"
BACKUP_PREFIX = "satrank"  # versioned files: satrank-YYYYmmddTHHMMSSZ.satrank[.age]
BACKUP_SUFFIX = ".satrank"
MANIFEST = "manifest.json"
DATABASE = "database.dump"
SECRETS = "secrets.env"
_CHUNK = 1 << 20


class BackupError(Exception):
    """The backup or restore was refused or failed; the message tells the operator why."""


@dataclass(frozen=True)
class RestoreReport:
    manifest: dict[str, Any]
    tables: dict[str, int]
    has_secrets: bool


def secret_inventory(settings: Settings) -> dict[str, str]:
    """Secret settings by environment variable name; what a new host needs to take over."""
    named: dict[str, Secret | None] = {
        "L402_MACAROON_SECRET": settings.l402.macaroon_secret,
        "L402_PREVIOUS_MACAROON_SECRET": settings.l402.previous_macaroon_secret,
        "OPERATOR_BYPASS_SECRET": settings.l402.operator_bypass_secret,
        "API_KEY": settings.l402.api_key,
        "NOSTR_PRIVATE_KEY": settings.nostr.private_key,
        "DATABASE_URL": settings.database.url,
    }
    return {k: v.reveal() for k, v in named.items() if v is not None and v.reveal()}


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes, now: datetime) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = 0o600
    info.mtime = int(now.timestamp())
    tar.addfile(info, io.BytesIO(data))


def create_backup(
    dsn: str, out: Path, *, now: datetime, secrets: dict[str, str] | None = None,
    encryption: Encryption | None = None, versioned: bool = False,
) -> tuple[Path, dict[str, Any]]:
    """Dump `dsn` into the new archive `out` (with `versioned`: a new time-named file in
    the directory `out`); return the file written and its manifest."""
    if not versioned and out.exists():
        raise BackupError(f"{out} exists: a backup never replaces another; choose a new name")
    directory = out if versioned else out.parent
    server_major = asyncio.run(dump.server_major_version(dsn))
    tool = dump.find_pg_tool("pg_dump", server_major)
    directory.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="satrank-backup-", dir=directory) as tmp:
        dump_path = Path(tmp) / DATABASE
        # Counted before the dump: rows written meanwhile may be in the dump, not the count.
        tables = asyncio.run(dump.table_row_counts(dsn))
        dump.run_pg_dump(tool, dsn, dump_path)
        manifest: dict[str, Any] = {
            "format": FORMAT,
            "satrankVersion": __version__,
            "schemaVersion": asyncio.run(dump.schema_version_of(dsn)),
            "createdAt": now.isoformat(),
            "postgresServerMajor": server_major,
            "pgDumpMajor": dump.tool_major_version(tool),
            "database": {"file": DATABASE, "sha256": _sha256(dump_path),
                         "bytes": dump_path.stat().st_size},
            "tables": tables,
            "includesSecrets": secrets is not None,
        }
        partial = Path(tmp) / "archive.tar"
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as raw, tarfile.open(fileobj=raw, mode="w") as tar:
            _add_bytes(tar, MANIFEST, json.dumps(manifest, indent=2).encode(), now)
            tar.add(dump_path, arcname=DATABASE)
            if secrets is not None:
                text = "".join(f"{k}={v}\n" for k, v in sorted(secrets.items()))
                _add_bytes(tar, SECRETS, text.encode(), now)
        if encryption is not None:
            sealed = Path(tmp) / "archive.tar.age"
            os.close(os.open(sealed, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
            try:
                encrypt_file(partial, sealed, encryption)
            except BackupCryptoError as exc:
                raise BackupError(str(exc)) from exc
            partial = sealed
        try:
            if versioned:
                out = place_versioned(partial, directory, BACKUP_PREFIX,
                                      BACKUP_SUFFIX + (SUFFIX if encryption else ""), now)
            else:
                place_new(partial, out)
        except BackupFileError as exc:
            raise BackupError(str(exc)) from exc
    return out, manifest


def read_manifest(archive: Path) -> dict[str, Any]:
    with tarfile.open(archive, mode="r") as tar:
        member = tar.extractfile(MANIFEST)
        if member is None:
            raise BackupError(f"{archive} has no {MANIFEST}: not a SatRank backup")
        manifest: dict[str, Any] = json.loads(member.read())
    if manifest.get("format") != FORMAT:
        raise BackupError(f"{archive}: unknown backup format {manifest.get('format')!r}")
    return manifest


def restore_backup(
    dsn: str, archive: Path, *, secrets_out: Path | None = None,
    decryption: Decryption | None = None,
) -> RestoreReport:
    """Restore `archive` (decrypting it first if it is encrypted) into the empty database
    `dsn` and verify the row counts."""
    try:
        encrypted = is_encrypted(archive)
    except OSError as exc:
        raise BackupError(f"cannot read {archive}: {exc.strerror}") from exc
    if not encrypted:
        return _restore_plain(dsn, archive, secrets_out)
    with tempfile.TemporaryDirectory(prefix="satrank-decrypt-") as tmp:
        plain = Path(tmp) / "archive.tar"
        os.close(os.open(plain, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        try:
            decrypt_file(archive, plain, decryption or Decryption())
        except BackupCryptoError as exc:
            raise BackupError(str(exc)) from exc
        return _restore_plain(dsn, plain, secrets_out)


def _restore_plain(dsn: str, archive: Path, secrets_out: Path | None) -> RestoreReport:
    try:
        manifest = read_manifest(archive)
    except (OSError, tarfile.TarError, ValueError) as exc:
        raise BackupError(f"cannot read {archive}: {exc}") from exc
    known = latest_version(load_migrations())
    if (manifest.get("schemaVersion") or 0) > known:
        raise BackupError(
            f"the backup has schema version {manifest['schemaVersion']} but this SatRank "
            f"knows only up to {known}: restore with the SatRank release that made it"
        )
    existing = asyncio.run(dump.user_tables(dsn))
    if existing:
        shown = ", ".join(existing[:5]) + (", ..." if len(existing) > 5 else "")
        raise BackupError(
            f"refusing to restore into a database that is not empty ({len(existing)} tables: "
            f"{shown}). Restore into a new empty database (createdb, or a fresh "
            "SATRANK_DATA_DIR for the embedded server) and point DATABASE_URL at it."
        )
    need = max(asyncio.run(dump.server_major_version(dsn)), int(manifest["pgDumpMajor"]))
    tool = dump.find_pg_tool("pg_restore", need)
    with tempfile.TemporaryDirectory(prefix="satrank-restore-") as tmp, \
            tarfile.open(archive, mode="r") as tar:
        names = set(tar.getnames())
        dump_path = Path(tmp) / DATABASE
        member = tar.extractfile(DATABASE)
        if member is None:
            raise BackupError(f"{archive} has no {DATABASE}")
        with dump_path.open("wb") as f:
            while chunk := member.read(_CHUNK):
                f.write(chunk)
        if _sha256(dump_path) != manifest["database"]["sha256"]:
            raise BackupError(f"{archive}: the dump does not match its manifest checksum")
        dump.run_pg_restore(tool, dsn, dump_path)
        if secrets_out is not None and SECRETS in names:
            _write_private(secrets_out, tar.extractfile(SECRETS))
    tables = asyncio.run(dump.table_row_counts(dsn))
    expected = {k: int(v) for k, v in manifest["tables"].items()}
    if tables != expected:
        differing = sorted(k for k in expected.keys() | tables.keys()
                           if expected.get(k) != tables.get(k))
        raise BackupError(f"restored row counts differ from the manifest: {differing}")
    return RestoreReport(manifest, tables, SECRETS in names)


def _write_private(path: Path, member: IO[bytes] | None) -> None:
    if member is None:
        return
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(member.read())
