-- The L402 service registry (issue 17): the catalogue of paid HTTP endpoints, what each
-- check of them found stage by stage, and the ledger of what the registry paid them.

-- One row per (method, URL). `source`: registered through POST /api/services, or found in
-- a registered host's /.well-known/l402.json. The score columns are the latest summary the
-- registry job wrote (NULL until the first check), so the free listing filters and sorts
-- without reading observations.
CREATE TABLE registry_services (
    id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    url                 text NOT NULL CHECK (length(url) <= 2048),
    method              text NOT NULL CHECK (method IN ('GET', 'POST', 'PUT', 'PATCH', 'DELETE')),
    host                text NOT NULL,  -- lower case, the politeness and manifest key
    name                text CHECK (length(name) <= 100),
    category            text NOT NULL,
    description         text CHECK (length(description) <= 1000),
    source              text NOT NULL DEFAULT 'registered'
                        CHECK (source IN ('registered', 'manifest')),
    -- the provider key the host's manifest names; claimed_at once a check read it there
    owner_pubkey        text CHECK (owner_pubkey ~ '^[0-9a-f]{66}$'),
    owner_claimed_at    timestamptz,
    advertised_price_sat bigint CHECK (advertised_price_sat >= 0),
    registered_at       timestamptz NOT NULL DEFAULT now(),
    next_check_at       timestamptz NOT NULL DEFAULT now(),
    checked_at          timestamptz,
    price_sat           bigint,
    payee_pubkey        text,
    p_success           double precision,  -- end to end: challenge -> delivery
    uptime              double precision,
    median_latency_ms   integer,
    verdict             text,
    reasons             text[] NOT NULL DEFAULT '{}',
    UNIQUE (method, url)
);
CREATE INDEX registry_services_due ON registry_services (next_check_at);
CREATE INDEX registry_services_host ON registry_services (host);
CREATE INDEX registry_services_category ON registry_services (category);
-- keyset orders of GET /api/services (db/registry.py _KEYS): unscored rows last
CREATE INDEX registry_services_by_p
    ON registry_services ((-coalesce(p_success, -1)), id);
CREATE INDEX registry_services_by_latency
    ON registry_services ((coalesce(median_latency_ms, 2147483647)), id);
CREATE INDEX registry_services_by_price
    ON registry_services ((coalesce(price_sat, 9223372036854775807)), id);

-- One row per stage of one check. `reason`: OK or why the stage failed (an UPPER_SNAKE
-- code from satrank/registry/). A stage not reached is not recorded.
CREATE TABLE registry_observations (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    service_id   bigint NOT NULL REFERENCES registry_services (id) ON DELETE CASCADE,
    observed_at  timestamptz NOT NULL DEFAULT now(),
    stage        text NOT NULL
                 CHECK (stage IN ('challenge', 'invoice', 'payment', 'delivery', 'quality')),
    ok           boolean NOT NULL,
    reason       text NOT NULL,
    latency_ms   integer NOT NULL CHECK (latency_ms >= 0),
    price_sat    bigint,
    payee_pubkey text
);
CREATE INDEX registry_observations_service
    ON registry_observations (service_id, observed_at DESC);
CREATE INDEX registry_observations_age ON registry_observations (observed_at);  -- the prune

-- Every payment the registry makes, written BEFORE it is sent. The day's total lives in
-- registry_spend_days and grows by one conditional upsert, so the budget holds across
-- processes and restarts; a payment that failed gives its amount back.
CREATE TABLE registry_spend_days (
    day        date PRIMARY KEY,
    spent_sat  bigint NOT NULL CHECK (spent_sat >= 0)
);

CREATE TABLE registry_payments (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    service_id    bigint REFERENCES registry_services (id) ON DELETE SET NULL,
    day           date NOT NULL,
    payment_hash  bytea NOT NULL UNIQUE CHECK (length(payment_hash) = 32),
    amount_sat    bigint NOT NULL CHECK (amount_sat > 0),
    status        text NOT NULL DEFAULT 'pending'
                  CHECK (status IN ('pending', 'succeeded', 'failed')),
    created_at    timestamptz NOT NULL DEFAULT now(),
    settled_at    timestamptz
);
