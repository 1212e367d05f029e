"""The gate's cache of verified credentials, so a token's next request skips decoding,
HMACs and caveat parsing (together most of the paywall's CPU per request).

Two maps, both bounded whatever a client sends:

- verified tokens, keyed by the PARSED credential (a digest of the token macaroon's
  text, the preimage) and the scope (the route's capability, our deployment): at most
  `size` small entries. Junk beside a valid credential (other Authorization values,
  spaces, discharge macaroons that grant nothing) maps to the same entry.
- a fast path from the request's exact Authorization values to that key, so a steady
  client skips even the header parsing; bounded by the BYTES of the values it holds
  (`raw_budget_bytes`), so junk headers beside a valid token evict older fast-path
  entries (those clients then parse again) instead of growing memory by header size.

Only credentials that passed every check (signature, preimage, caveats) get in, so
forged input cannot fill either map. The one check that depends on time, expiry, is
redone on every hit.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Sequence

from satrank.l402.caveats import Refusal
from satrank.l402.headers import Credential
from satrank.l402.verify import VerifiedToken

DEFAULT_SIZE = 4096
DEFAULT_RAW_BUDGET_BYTES = 512 * 1024
_ENTRY_OVERHEAD_BYTES = 200  # dict slot, tuple and str headers of one fast-path entry

# (sha256 of the token macaroon's text, preimage)
CredentialKey = tuple[bytes, bytes]
RawHeaders = tuple[str, ...]
# (the route's capability, the deployment the gate knows): a token verified under one
# scope is checked again under another (the deployment is learnt at the first mint)
Scope = tuple[str | None, str | None]


def credential_key(credential: Credential) -> CredentialKey:
    return (hashlib.sha256(credential.macaroons[0].encode("latin-1")).digest(),
            credential.preimage)


class VerifiedCache:
    def __init__(self, *, size: int = DEFAULT_SIZE,
                 raw_budget_bytes: int = DEFAULT_RAW_BUDGET_BYTES) -> None:
        self._size = size
        self._raw_budget = raw_budget_bytes
        self._verified: OrderedDict[tuple[CredentialKey, Scope], VerifiedToken] = (
            OrderedDict())
        self._raw: OrderedDict[RawHeaders, tuple[CredentialKey, int]] = OrderedDict()
        self._raw_bytes = 0

    def key_of_headers(self, authorizations: RawHeaders) -> CredentialKey | None:
        """The key of values seen before with a verified credential, else None."""
        entry = self._raw.get(authorizations)
        if entry is None:
            return None
        self._raw.move_to_end(authorizations)
        return entry[0]

    def get(self, key: CredentialKey, scope: Scope,
            now_unix: int) -> VerifiedToken | Refusal | None:
        """The verified token, Refusal.EXPIRED once it expired, None when not cached."""
        slot = (key, scope)
        token = self._verified.get(slot)
        if token is None:
            return None
        if now_unix >= token.terms.valid_until_unix:  # as ValidUntilSatisfier
            del self._verified[slot]
            return Refusal.EXPIRED
        self._verified.move_to_end(slot)
        return token

    def put(self, authorizations: Sequence[str], key: CredentialKey,
            scope: Scope, token: VerifiedToken) -> None:
        self._verified[(key, scope)] = token
        if len(self._verified) > self._size:
            self._verified.popitem(last=False)
        self.remember_headers(tuple(authorizations), key)

    def remember_headers(self, raw: RawHeaders, key: CredentialKey) -> None:
        """Let these exact values skip parsing next time (within the byte budget)."""
        cost = sum(map(len, raw)) + _ENTRY_OVERHEAD_BYTES
        if raw in self._raw or cost > self._raw_budget:
            return
        self._raw[raw] = (key, cost)
        self._raw_bytes += cost
        while self._raw_bytes > self._raw_budget:
            _, (_, freed) = self._raw.popitem(last=False)
            self._raw_bytes -= freed
