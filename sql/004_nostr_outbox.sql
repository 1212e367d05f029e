-- Nostr outbox additions (issue 7).
-- last_created_at: created_at of the newest event signed for this (kind, subject), so the next
-- version gets a strictly greater one and addressable replacement picks it on every relay.
ALTER TABLE nostr_publish_state ADD COLUMN last_created_at bigint NOT NULL DEFAULT 0;

-- superseded_by: a newer outbox row for the same subject made this one unnecessary
-- (done_at is set at the same time; the row was never, or only partly, published).
ALTER TABLE nostr_outbox ADD COLUMN superseded_by bigint;

CREATE INDEX nostr_outbox_pending_subject_idx
    ON nostr_outbox (kind, subject) WHERE done_at IS NULL;
CREATE INDEX nostr_outbox_done_at_idx ON nostr_outbox (done_at) WHERE done_at IS NOT NULL;
CREATE INDEX nostr_relay_status_relay_idx ON nostr_relay_status (relay, outbox_id);
