"""L402 tokens this client paid for, one per origin, reused until the server refuses them.

A token is dropped only when the server answers 402 to it (exhausted, expired, revoked):
`X-L402-Credits-Left` is informative, since another process may share the token. Tokens
are secrets (the preimage is the proof of payment): nothing here prints them.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field


@dataclass
class Token:
    authorization: str  # "L402 <macaroon>:<preimage hex>"
    credits: int  # bought with it
    credits_left: int | None = None  # as the server last said

    def __repr__(self) -> str:
        return f"Token(credits={self.credits}, credits_left={self.credits_left})"


@dataclass
class _Slot:
    token: Token | None = None
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)  # one purchase at a time


class TokenCache:
    def __init__(self) -> None:
        self._slots: dict[str, _Slot] = {}

    def _slot(self, origin: str) -> _Slot:
        return self._slots.setdefault(origin, _Slot())

    def get(self, origin: str) -> Token | None:
        return self._slot(origin).token

    def put(self, origin: str, token: Token) -> None:
        self._slot(origin).token = token

    def drop(self, origin: str, token: Token) -> None:
        """Forget `token` if it is still the one cached (a newer one stays)."""
        slot = self._slot(origin)
        if slot.token is token:
            slot.token = None

    def purchase_lock(self, origin: str) -> asyncio.Lock:
        """Held while buying a token, so concurrent 402s pay once and share the result."""
        return self._slot(origin).lock
