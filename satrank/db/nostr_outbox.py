"""PLACEHOLDER owned by the nostr branch (BRIEF_INTERFACES.md): the real module computes the
kind 30382 tags per score and queues changed ones. This stand-in exists only so the
scoring branch's single call site in `db/scores.store_scores` works before that merge;
the nostr branch's file replaces it entirely."""

from __future__ import annotations

import asyncpg


async def enqueue_changed_score_events(conn: asyncpg.Connection) -> int:
    """Queue kind 30382 events for changed scores; this placeholder queues none."""
    return 0
