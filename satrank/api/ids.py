"""Node identifiers on the wire: 66-hex compressed pubkey, or the 64-hex agent hash.

The agent hash is the earlier SatRank's id: sha256 of the pubkey's lower-case hex text.
Hex is accepted in any case and normalised to lower case. Messages never echo the input.
"""

from __future__ import annotations

import re

from satrank.api.errors import ApiError
from satrank.db.nodes import IdKind

_PUBKEY = re.compile(r"^0[23][0-9a-f]{64}$")
_HASH = re.compile(r"^[0-9a-f]{64}$")
ID_DESCRIPTION = "a 66-hex compressed node pubkey or a 64-hex agent hash"


def classify_id(text: str) -> tuple[IdKind, str] | None:
    """(kind, normalised value), or None when `text` is neither form."""
    value = text.strip().lower()
    if len(value) == 66 and _PUBKEY.match(value):
        return "pubkey", value
    if len(value) == 64 and _HASH.match(value):
        return "agent_hash", value
    return None


def parse_node_id(text: str, field: str = "id") -> tuple[IdKind, str]:
    """Like `classify_id`, raising 400 INVALID_ID (naming the field) on anything else."""
    parsed = classify_id(text)
    if parsed is None:
        raise ApiError(400, "INVALID_ID", f"{field} must be {ID_DESCRIPTION}",
                       details={"field": field})
    return parsed


def node_not_found() -> ApiError:
    return ApiError(404, "NOT_FOUND", "no node with this id in the graph",
                    details={"resource": "agent"})  # the public name of a node
