-- Credit leases (satrank/l402/leases.py): an api process reserves a token's credits in
-- one statement and serves requests from memory. Reserved credits count as used at once
-- (credits_used), so nothing is ever served twice; unused ones are given back later.
-- credits_leased: credits handed to processes and not yet accounted for by them;
-- leased_until: after it, a lease holder is presumed dead and credits_leased means nothing.
-- last_grant: what the latest lease statement granted, so that statement can compute the
-- grant from the row it updates and still RETURN it.
ALTER TABLE l402_tokens
    ADD COLUMN credits_leased integer NOT NULL DEFAULT 0 CHECK (credits_leased >= 0),
    ADD COLUMN leased_until   timestamptz,
    ADD COLUMN last_grant     integer NOT NULL DEFAULT 0;
