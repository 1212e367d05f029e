-- SatRank initial schema.
-- Amounts and fees are bigint: mainnet gossip carries fee_rate_milli_msat = 4294967295
-- (uint32 max), which overflowed the earlier SatRank's integer columns.
-- Times are timestamptz; "unix seconds" only appear at the wire edges.

-- ---------------------------------------------------------------- graph
CREATE TABLE nodes (
    pubkey        text PRIMARY KEY CHECK (pubkey ~ '^0[23][0-9a-f]{64}$'),
    -- sha256 of the pubkey's hex text: the earlier SatRank's agent id, still accepted.
    agent_hash    text NOT NULL UNIQUE CHECK (agent_hash ~ '^[0-9a-f]{64}$'),
    alias         text NOT NULL DEFAULT '',
    color         text,
    addresses     jsonb NOT NULL DEFAULT '[]'::jsonb,
    features      jsonb,
    last_update   timestamptz,                 -- node_announcement time, when gossip has it
    first_seen    timestamptz NOT NULL DEFAULT now(),
    last_seen     timestamptz NOT NULL DEFAULT now(),
    is_active     boolean NOT NULL DEFAULT true -- false once the node left the graph
);
CREATE INDEX nodes_alias_lower_idx ON nodes (lower(alias) text_pattern_ops);

CREATE TABLE channels (
    channel_id    bigint PRIMARY KEY,          -- short channel id (uint64 fits until block 8.3M)
    chan_point    text,
    node1_pub     text NOT NULL REFERENCES nodes (pubkey),
    node2_pub     text NOT NULL REFERENCES nodes (pubkey),
    capacity_sat  bigint NOT NULL CHECK (capacity_sat >= 0),
    block_height  integer NOT NULL GENERATED ALWAYS AS ((channel_id >> 40)::integer) STORED,
    last_update   timestamptz,
    first_seen    timestamptz NOT NULL DEFAULT now(),
    last_seen     timestamptz NOT NULL DEFAULT now(),
    is_open       boolean NOT NULL DEFAULT true,
    closed_at     timestamptz,
    CHECK (node1_pub < node2_pub)
);
CREATE INDEX channels_node1_idx ON channels (node1_pub) WHERE is_open;
CREATE INDEX channels_node2_idx ON channels (node2_pub) WHERE is_open;

-- One row per channel direction: direction 0 is node1's policy (node1 -> node2),
-- direction 1 is node2's policy (node2 -> node1), as in lnd's describegraph.
CREATE TABLE channel_policies (
    channel_id                   bigint NOT NULL REFERENCES channels (channel_id),
    direction                    smallint NOT NULL CHECK (direction IN (0, 1)),
    time_lock_delta              integer NOT NULL,
    min_htlc_msat                bigint NOT NULL,
    max_htlc_msat                bigint,
    fee_base_msat                bigint NOT NULL,
    fee_rate_milli_msat          bigint NOT NULL,
    inbound_fee_base_msat        bigint NOT NULL DEFAULT 0,
    inbound_fee_rate_milli_msat  bigint NOT NULL DEFAULT 0,
    disabled                     boolean NOT NULL,
    last_update                  timestamptz,
    recorded_at                  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (channel_id, direction)
);

-- Written only when a policy changes (the graph sync compares before inserting).
CREATE TABLE channel_policy_history (
    id                           bigserial PRIMARY KEY,
    channel_id                   bigint NOT NULL,
    direction                    smallint NOT NULL CHECK (direction IN (0, 1)),
    time_lock_delta              integer NOT NULL,
    min_htlc_msat                bigint NOT NULL,
    max_htlc_msat                bigint,
    fee_base_msat                bigint NOT NULL,
    fee_rate_milli_msat          bigint NOT NULL,
    inbound_fee_base_msat        bigint NOT NULL DEFAULT 0,
    inbound_fee_rate_milli_msat  bigint NOT NULL DEFAULT 0,
    disabled                     boolean NOT NULL,
    last_update                  timestamptz,
    recorded_at                  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX channel_policy_history_chan_idx
    ON channel_policy_history (channel_id, direction, recorded_at DESC);

CREATE TABLE graph_syncs (
    id            bigserial PRIMARY KEY,
    started_at    timestamptz NOT NULL,
    finished_at   timestamptz NOT NULL,
    block_height  integer,
    nodes         integer NOT NULL,
    channels      integer NOT NULL,
    nodes_added   integer NOT NULL DEFAULT 0,
    nodes_gone    integer NOT NULL DEFAULT 0,
    channels_added integer NOT NULL DEFAULT 0,
    channels_closed integer NOT NULL DEFAULT 0,
    policies_changed integer NOT NULL DEFAULT 0
);

-- ---------------------------------------------------------------- probes
CREATE TABLE probes (
    id                  bigserial PRIMARY KEY,
    target_pubkey       text NOT NULL,
    amount_sat          bigint NOT NULL CHECK (amount_sat > 0),
    sent_at             timestamptz NOT NULL,
    duration_ms         integer NOT NULL,
    -- reached: the destination answered INCORRECT_PAYMENT_DETAILS (it could have been paid)
    outcome             text NOT NULL CHECK (outcome IN
                            ('reached', 'failed_at_target', 'failed_in_route',
                             'no_route', 'timeout', 'error')),
    failure_code        text,
    failing_hop_index   integer,
    failing_channel_id  bigint,
    hop_count           integer,
    route               jsonb,
    fee_msat            bigint,
    source              text NOT NULL DEFAULT 'crawler' CHECK (source IN ('crawler', 'api'))
);
CREATE INDEX probes_target_idx ON probes (target_pubkey, sent_at DESC);
CREATE INDEX probes_sent_at_idx ON probes (sent_at);

-- ---------------------------------------------------------------- scores
-- Beta posterior per node and amount tier ("a payment of this size reaches the node").
CREATE TABLE posteriors (
    pubkey        text NOT NULL,
    amount_sat    bigint NOT NULL,
    prior_alpha   double precision NOT NULL,
    prior_beta    double precision NOT NULL,
    alpha         double precision NOT NULL,
    beta          double precision NOT NULL,
    n_eff         double precision NOT NULL,
    p_success     double precision NOT NULL,
    ci95_low      double precision NOT NULL,
    ci95_high     double precision NOT NULL,
    updated_at    timestamptz NOT NULL,
    PRIMARY KEY (pubkey, amount_sat)
);

CREATE TABLE scores (
    pubkey          text PRIMARY KEY,
    rank            smallint NOT NULL CHECK (rank BETWEEN 0 AND 100),
    verdict         text NOT NULL CHECK (verdict IN ('SAFE', 'RISKY', 'UNKNOWN', 'INSUFFICIENT')),
    p_success       double precision NOT NULL,   -- at the default amount tier
    ci95_low        double precision NOT NULL,
    ci95_high       double precision NOT NULL,
    n_eff           double precision NOT NULL,
    pagerank        double precision NOT NULL,
    pagerank_pct    double precision NOT NULL,
    features        jsonb NOT NULL DEFAULT '{}'::jsonb,
    reasons         jsonb NOT NULL DEFAULT '[]'::jsonb,
    computed_at     timestamptz NOT NULL
);
CREATE INDEX scores_rank_idx ON scores (rank DESC, pubkey);

CREATE TABLE score_history (
    pubkey        text NOT NULL,
    computed_at   timestamptz NOT NULL,
    rank          smallint NOT NULL,
    verdict       text NOT NULL,
    p_success     double precision NOT NULL,
    ci95_low      double precision NOT NULL,
    ci95_high     double precision NOT NULL,
    pagerank      double precision NOT NULL,
    PRIMARY KEY (pubkey, computed_at)
);

-- ---------------------------------------------------------------- L402
-- Created lazily on a token's first paid use; debited by one conditional UPDATE.
CREATE TABLE l402_tokens (
    token_id        bytea PRIMARY KEY CHECK (octet_length(token_id) = 32),
    payment_hash    bytea NOT NULL UNIQUE CHECK (octet_length(payment_hash) = 32),
    credits_total   integer NOT NULL CHECK (credits_total > 0),
    credits_used    integer NOT NULL DEFAULT 0,
    valid_until     timestamptz NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    last_used_at    timestamptz,
    CHECK (credits_used BETWEEN 0 AND credits_total)
);

-- ---------------------------------------------------------------- reports
CREATE TABLE reports (
    id                  bigserial PRIMARY KEY,
    target_pubkey       text NOT NULL,
    outcome             text NOT NULL CHECK (outcome IN ('success', 'failure', 'timeout')),
    amount_sat          bigint CHECK (amount_sat > 0),
    payment_hash        bytea CHECK (octet_length(payment_hash) = 32),
    verified            boolean NOT NULL DEFAULT false,  -- sha256(preimage) = payment_hash
    reporter_token_id   bytea,
    created_at          timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX reports_payment_hash_uq ON reports (payment_hash) WHERE payment_hash IS NOT NULL;
CREATE INDEX reports_target_idx ON reports (target_pubkey, created_at DESC);

-- ---------------------------------------------------------------- nostr
-- What was last published per (kind, subject): republish only when the fingerprint changes.
CREATE TABLE nostr_publish_state (
    kind          integer NOT NULL,
    subject       text NOT NULL,              -- the event's d tag
    fingerprint   text NOT NULL,
    updated_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (kind, subject)
);

-- Written in the same transaction as the change that caused it; drained by the publisher.
CREATE TABLE nostr_outbox (
    id            bigserial PRIMARY KEY,
    kind          integer NOT NULL,
    subject       text NOT NULL,
    fingerprint   text NOT NULL,
    content       jsonb NOT NULL,             -- what to sign: tags and content
    created_at    timestamptz NOT NULL DEFAULT now(),
    event_id      text,                       -- set once signed
    event         jsonb,                      -- the signed event
    done_at       timestamptz                 -- every relay accepted it (or it was superseded)
);
CREATE INDEX nostr_outbox_pending_idx ON nostr_outbox (id) WHERE done_at IS NULL;

CREATE TABLE nostr_relay_status (
    outbox_id       bigint NOT NULL REFERENCES nostr_outbox (id) ON DELETE CASCADE,
    relay           text NOT NULL,
    status          text NOT NULL CHECK (status IN ('pending', 'ok', 'rejected', 'failed')),
    attempts        integer NOT NULL DEFAULT 0,
    last_error      text,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (outbox_id, relay)
);
