-- Channel knowledge (issue 15 item 2): per channel direction, what probes showed of its
-- liquidity, in the shape of lnd's mission-control pair results: the largest amount seen to
-- cross and when, the amount seen to fail there for lack of liquidity and when. direction 0
-- is node1 -> node2 (channels' ordering). No foreign key: a closed channel's rows are
-- ignored by readers and leave with retention, and graph syncs never wait on this table.
CREATE TABLE channel_knowledge (
    channel_id    bigint      NOT NULL,
    direction     smallint    NOT NULL CHECK (direction IN (0, 1)),
    carried_sat   bigint      NOT NULL DEFAULT 0,  -- 0: nothing seen to cross
    carried_at    timestamptz,
    failed_sat    bigint,                          -- NULL: no liquidity failure seen
    failed_at     timestamptz,
    carried_count integer     NOT NULL DEFAULT 0,  -- observations ever merged, for diagnosis
    failed_count  integer     NOT NULL DEFAULT 0,
    PRIMARY KEY (channel_id, direction)
);
