-- Nodes agents recently asked about through the API: the crawler probes them first.
-- One row per node, refreshed on each ask; rows older than the crawler's window are pruned.
CREATE TABLE probe_requests (
    pubkey        text PRIMARY KEY,
    requested_at  timestamptz NOT NULL,
    asks          integer NOT NULL DEFAULT 1
);
CREATE INDEX probe_requests_recent_idx ON probe_requests (requested_at DESC);
