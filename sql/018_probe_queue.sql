-- Several vantage points (issue 15 item 4): the leader plans probes into probe_queue and
-- one probe worker per vantage node (an LND the crawler probes from, possibly on another
-- machine against this same Postgres) claims rows with FOR UPDATE SKIP LOCKED, sends them
-- through its own LND, stores the result in probes with its vantage and marks the row
-- done. A claim older than the claim TTL is taken again (its worker died).
CREATE TABLE probe_queue (
    id             bigserial PRIMARY KEY,
    target         text NOT NULL,
    amount_sat     bigint NOT NULL CHECK (amount_sat > 0),
    fee_limit_sat  bigint NOT NULL CHECK (fee_limit_sat >= 0),
    vantage        text,              -- pubkey of the node to send it (any after the claim TTL); NULL = any
    reason         text NOT NULL,
    priority       double precision NOT NULL DEFAULT 0,
    planned_at     timestamptz NOT NULL,
    claimed_by     text,
    claimed_at     timestamptz,
    done_at        timestamptz
);
-- the claim's scan: open rows, best first
CREATE INDEX probe_queue_open_idx ON probe_queue (priority DESC, id) WHERE done_at IS NULL;
CREATE INDEX probe_queue_done_idx ON probe_queue (done_at) WHERE done_at IS NOT NULL;

-- The vantage nodes seen by their workers: name (LND_VANTAGE_<NAME>_*, "oracle" for LND_*)
-- and pubkey, so readers can name the pubkey behind probes.vantage IS NULL (the oracle).
CREATE TABLE vantages (
    name       text PRIMARY KEY,
    pubkey     text NOT NULL,
    last_seen  timestamptz NOT NULL
);

-- Who sent each probe (pubkey of the sending node) and at what fee limit. Rows from before
-- this migration, and POST /api/probe, are the oracle's: vantage NULL.
ALTER TABLE probes
    ADD COLUMN vantage        text,
    ADD COLUMN fee_limit_sat  bigint;
