-- Reports that cannot be forged (issue 13 item 2).
-- Until now `verified` meant "sha256(preimage) = payment_hash", a pair anyone can make up:
-- none of the rows stored so far proves a payment, so none stays verified. From now on
-- `verified` means the report carried the target's signed invoice and its preimage.
UPDATE reports SET verified = false WHERE verified;

-- One report per payment, for verified reports only: an unverified report naming a
-- payment hash it cannot prove (a payer shares its invoice, so its hash is no secret)
-- must not take the slot of the payer's proven report.
DROP INDEX reports_payment_hash_uq;
CREATE UNIQUE INDEX reports_verified_payment_hash_uq ON reports (payment_hash) WHERE verified;

-- reporter_client: HMAC of the client key (api/clients.py) under the deployment's
-- macaroon secret: per-client limits and "one client counts once per target" in scoring,
-- without storing an address.
ALTER TABLE reports
    ADD COLUMN reporter_client bytea CHECK (octet_length(reporter_client) = 32);
CREATE INDEX reports_client_idx ON reports (reporter_client, created_at DESC)
    WHERE reporter_client IS NOT NULL;
-- Retention (db/reports.py, REPORT_RETENTION): the daily prune deletes by age.
CREATE INDEX reports_created_idx ON reports (created_at);
