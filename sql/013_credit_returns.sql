-- Credit returns already applied (db/tokens.py: return_credits). A process whose return
-- failed with an unknown outcome (timeout, dropped connection after the commit) retries
-- it with the same return id; the id found here means it was applied, so the credits are
-- never given back twice. Rows are pruned by the return statement after RETURN_ID_KEEP.
CREATE TABLE l402_credit_returns (
    return_id    bytea PRIMARY KEY CHECK (octet_length(return_id) = 16),
    returned_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX l402_credit_returns_age_idx ON l402_credit_returns (returned_at);
