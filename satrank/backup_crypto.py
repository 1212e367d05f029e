"""Backup encryption in the age format (pyrage: the Rust `rage` implementation).

age, rather than a construction of our own: an operator can decrypt a backup with the
stock `age`/`rage` tools on a machine without SatRank, to public keys (`age1...`, or an
`ssh-ed25519`/`ssh-rsa` key) whose secret half never sits on the backed-up host, or to a
passphrase (scrypt). Public-key mode streams the file; passphrase mode holds it in memory
(pyrage offers no streaming passphrase API), so prefer keys for large databases.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyrage
from pyrage import passphrase as age_passphrase
from pyrage import ssh, x25519

AGE_MAGIC = b"age-encryption.org/v1\n"
SUFFIX = ".age"


class BackupCryptoError(Exception):
    """A key, passphrase or encrypted file was unusable; the message says which."""


@dataclass(frozen=True)
class Encryption:
    """To whom a backup is encrypted: public keys, or one passphrase (not both)."""

    recipients: tuple[str, ...] = ()
    passphrase: str | None = None

    def __post_init__(self) -> None:
        if bool(self.recipients) == (self.passphrase is not None):
            raise BackupCryptoError("encrypt to recipients or to a passphrase, not both")


@dataclass(frozen=True)
class Decryption:
    """What opens a backup: age identity files' contents, or the passphrase."""

    identities: tuple[str, ...] = ()
    passphrase: str | None = None


def is_encrypted(path: Path) -> bool:
    with path.open("rb") as f:
        return f.read(len(AGE_MAGIC)) == AGE_MAGIC


def read_key_lines(path: Path) -> tuple[str, ...]:
    """Keys from an age recipients or identity file: one per line, `#` comments."""
    try:
        text = path.read_text()
    except OSError as exc:
        raise BackupCryptoError(f"cannot read {path}: {exc.strerror}") from exc
    keys = tuple(line.strip() for line in text.splitlines()
                 if line.strip() and not line.lstrip().startswith("#"))
    if not keys:
        raise BackupCryptoError(f"{path} holds no key")
    return keys


def read_identities(path: Path) -> tuple[str, ...]:
    """An age identity file (AGE-SECRET-KEY lines) or one ssh private key (PEM block)."""
    try:
        text = path.read_text()
    except OSError as exc:
        raise BackupCryptoError(f"cannot read {path}: {exc.strerror}") from exc
    if "-----BEGIN" in text:
        return (text,)
    return read_key_lines(path)


def read_passphrase(path: Path) -> str:
    """The first line of a passphrase file (a file, so it never appears in `ps`)."""
    try:
        value = path.read_text().splitlines()[0] if path.stat().st_size else ""
    except OSError as exc:
        raise BackupCryptoError(f"cannot read {path}: {exc.strerror}") from exc
    if len(value) < 12:
        raise BackupCryptoError(f"the passphrase in {path} is shorter than 12 characters")
    return value


def _recipient(text: str) -> Any:
    try:
        if text.startswith("age1"):
            return x25519.Recipient.from_str(text)
        return ssh.Recipient.from_str(text)
    except pyrage.RecipientError as exc:
        raise BackupCryptoError(f"not an age or ssh public key: {text[:24]}...") from exc


def _identity(text: str) -> Any:
    try:
        if text.startswith("AGE-SECRET-KEY-"):
            return x25519.Identity.from_str(text)
        return ssh.Identity.from_buffer(text.encode())
    except pyrage.IdentityError as exc:
        raise BackupCryptoError("an identity is neither an age secret key nor an ssh "
                                "private key") from exc


def encrypt_file(plain: Path, out: Path, encryption: Encryption) -> None:
    try:
        if encryption.passphrase is not None:
            out.write_bytes(age_passphrase.encrypt(plain.read_bytes(), encryption.passphrase))
        else:
            pyrage.encrypt_file(str(plain), str(out),
                                [_recipient(r) for r in encryption.recipients])
    except pyrage.EncryptError as exc:
        raise BackupCryptoError(f"encryption failed: {exc}") from exc


def decrypt_file(encrypted: Path, out: Path, decryption: Decryption) -> None:
    try:
        if decryption.passphrase is not None:
            out.write_bytes(age_passphrase.decrypt(encrypted.read_bytes(),
                                                   decryption.passphrase))
        elif decryption.identities:
            pyrage.decrypt_file(str(encrypted), str(out),
                                [_identity(i) for i in decryption.identities])
        else:
            raise BackupCryptoError(f"{encrypted} is encrypted: pass --identity FILE or "
                                    "--passphrase-file FILE")
    except pyrage.DecryptError as exc:
        raise BackupCryptoError(f"cannot decrypt {encrypted}: {exc} (wrong key or "
                                "passphrase?)") from exc
