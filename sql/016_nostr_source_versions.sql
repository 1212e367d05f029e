-- The row versions (xmin) of the `scores` and `nodes` rows a kind 30382 fingerprint was
-- last computed from. Every rewrite of a row gives it a new xmin, so a scoring pass renders
-- and hashes the tags only of subjects whose rows were rewritten since (issue 20: rendering
-- all 12.8k tag sets took 0.3-0.4 s of every pass, changed or not). NULL: not known yet
-- (the subject is compared in full once). A restore changes every xmin: all are compared
-- once, as the fingerprints still decide what is queued.
ALTER TABLE nostr_publish_state
    ADD COLUMN scores_xmin xid,
    ADD COLUMN nodes_xmin  xid;
