"""Node keys derived from the seed, so a simnet run is reproducible down to its pubkeys."""

from __future__ import annotations

import hashlib

import coincurve


def node_key(seed: int, label: str) -> coincurve.PrivateKey:
    """A valid secp256k1 key from sha256(seed, label); re-hashes in the ~2^-128 invalid case."""
    material = f"satrank-simnet/{seed}/{label}".encode()
    while True:
        material = hashlib.sha256(material).digest()
        try:
            return coincurve.PrivateKey(material)
        except ValueError:
            continue


def pubkey_hex(key: coincurve.PrivateKey) -> str:
    return key.public_key.format(compressed=True).hex()
