-- hookd's PostgreSQL schema. Times are timestamptz (UTC in, UTC out).
--
-- The queue is split from the log: delivery_queue holds one small row per
-- pending delivery (claims and retries churn only it), deliveries holds
-- the log row that changes once per attempt. High-volume tables have no
-- foreign keys: the store keeps them consistent in its transactions, and
-- per-row RI checks and locks would cost more than the rows.

CREATE TABLE webhooks (
    id                         BIGSERIAL PRIMARY KEY,
    tenant                     text        NOT NULL,
    user_id                    text        NOT NULL,
    name                       text        NOT NULL,
    description                text        NOT NULL DEFAULT '',
    url                        text        NOT NULL,
    events                     text[]      NOT NULL,            -- patterns
    headers                    text        NOT NULL,            -- sealed JSON object
    secret                     text        NOT NULL,            -- sealed
    previous_secret            text,                            -- sealed
    previous_secret_expires_at timestamptz,
    is_active                  boolean     NOT NULL,
    disabled_reason            text        NOT NULL DEFAULT '',
    retry_config               jsonb       NOT NULL,
    filters                    json        NOT NULL,            -- as the user sent it
    rate_limit                 integer,
    created_at                 timestamptz NOT NULL,
    updated_at                 timestamptz NOT NULL,
    kind                       text        NOT NULL DEFAULT '', -- '' for users' webhooks, else an integration's
    config                     text,                            -- sealed JSON: an integration's settings
    lookup_key                 text        NOT NULL DEFAULT ''  -- e.g. a hash of an integration's API key
);
CREATE INDEX webhooks_owner ON webhooks (tenant, user_id, kind, id);
CREATE INDEX webhooks_active ON webhooks (tenant, id) WHERE is_active;
-- The claim leaves out deliveries of these; usually a handful.
CREATE INDEX webhooks_inactive ON webhooks (id) WHERE NOT is_active;
CREATE INDEX webhooks_lookup ON webhooks (kind, lookup_key) WHERE lookup_key <> '';

-- Delivery counters of a webhook, kept up to date by every write that
-- changes a delivery's state (pruning included), so they always equal a
-- count over its kept deliveries. Test sends are not counted. Updated by
-- every completed batch: HOT updates (no indexed column changes) in pages
-- kept half empty.
CREATE TABLE webhook_counters (
    webhook_id             bigint PRIMARY KEY REFERENCES webhooks (id) ON DELETE CASCADE,
    success_count          bigint NOT NULL DEFAULT 0,
    failure_count          bigint NOT NULL DEFAULT 0,
    pending_count          bigint NOT NULL DEFAULT 0,
    response_time_total_ms bigint NOT NULL DEFAULT 0,
    response_samples       bigint NOT NULL DEFAULT 0,
    last_response_ms       bigint,
    last_attempt_at        timestamptz,
    consecutive_failures   bigint NOT NULL DEFAULT 0
) WITH (fillfactor = 50, autovacuum_vacuum_scale_factor = 0.0, autovacuum_vacuum_threshold = 1000);

CREATE TABLE event_types (
    tenant          text        NOT NULL,
    name            text        NOT NULL,
    description     text        NOT NULL DEFAULT '',
    category        text        NOT NULL DEFAULT '',
    version         text        NOT NULL DEFAULT '',
    deprecated      boolean     NOT NULL DEFAULT false,
    payload_schema  json        NOT NULL,
    example_payload json,
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL,
    PRIMARY KEY (tenant, name)
);

-- seq comes from a sequence and never goes back, even after pruning:
-- streams resume by it. Publishing takes a per-tenant advisory lock until
-- commit, so within a tenant seq also increases in commit order.
CREATE TABLE events (
    seq                  BIGSERIAL PRIMARY KEY,
    id                   text        NOT NULL UNIQUE,
    tenant               text        NOT NULL,
    publisher            text        NOT NULL DEFAULT '',
    type                 text        NOT NULL,
    version              text        NOT NULL DEFAULT '',
    payload              json        NOT NULL,              -- as published
    idempotency_key      text        NOT NULL DEFAULT '',
    webhooks_matched     integer     NOT NULL DEFAULT 0,
    integrations_matched integer     NOT NULL DEFAULT 0,
    test                 boolean     NOT NULL DEFAULT false,
    created_at           timestamptz NOT NULL
) WITH (autovacuum_vacuum_scale_factor = 0.02, autovacuum_analyze_scale_factor = 0.02);
CREATE INDEX events_last_published ON events (tenant, type, created_at) WHERE NOT test;
CREATE INDEX events_stream ON events (tenant, seq) WHERE NOT test;

-- An idempotency key answers with its event for hookd.IdempotencyWindow
-- after created_at; the primary key makes it hold across nodes.
CREATE TABLE idempotency_keys (
    tenant     text        NOT NULL,
    key        text        NOT NULL,
    event_seq  bigint      NOT NULL,
    created_at timestamptz NOT NULL,
    PRIMARY KEY (tenant, key)
);
CREATE INDEX idempotency_keys_event ON idempotency_keys (event_seq);
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);

-- One event's delivery to one webhook: the log row. It changes once per
-- attempt; scheduling lives in delivery_queue. webhook_id has no foreign
-- key: a deleted webhook's history stays (cancelled or finished) until
-- pruned. The last attempt's body and error message live in attempts.
CREATE TABLE deliveries (
    id                   BIGSERIAL PRIMARY KEY,
    webhook_id           bigint      NOT NULL,
    event_seq            bigint      NOT NULL,
    event_type           text        NOT NULL,
    state                text        NOT NULL CHECK (state IN ('pending', 'success', 'failed', 'cancelled')),
    attempts             integer     NOT NULL DEFAULT 0,
    test                 boolean     NOT NULL DEFAULT false,
    response_code        integer,
    response_time_ms     bigint,
    response_time_sum_ms bigint      NOT NULL DEFAULT 0, -- over all attempts, for averages
    error_type           text        NOT NULL DEFAULT '',
    created_at           timestamptz NOT NULL,
    updated_at           timestamptz NOT NULL,
    completed_at         timestamptz
) WITH (
    fillfactor = 90,
    autovacuum_vacuum_scale_factor = 0.01,
    autovacuum_vacuum_threshold = 10000,
    autovacuum_vacuum_insert_scale_factor = 0.01,
    autovacuum_vacuum_insert_threshold = 10000,
    autovacuum_analyze_scale_factor = 0.01,
    autovacuum_vacuum_cost_delay = 1
);
-- No index holds a column an attempt changes, so recording an attempt is
-- a HOT update (fillfactor leaves room on the page): no index grows.
-- A webhook's logs, newest first, within a time window.
CREATE INDEX deliveries_webhook ON deliveries (webhook_id, created_at, id);
-- Test sends, counted apart in the logs (they are not in delivery_stats).
CREATE INDEX deliveries_tests ON deliveries (webhook_id, created_at) WHERE test;
CREATE INDEX deliveries_event ON deliveries (event_seq);
-- Retention walks old rows by creation time; BRIN costs next to nothing
-- to keep up on an append-mostly table.
CREATE INDEX deliveries_created ON deliveries USING brin (created_at) WITH (pages_per_range = 32);

-- Hourly rollup of a webhook's non-test deliveries by creation hour, event
-- type, state and error type (the last attempt's), kept up to date in the
-- transaction of every write that changes a delivery (like
-- webhook_counters, whose row lock every such writer takes first). Stats
-- and the logs summary read it instead of counting deliveries; only the
-- partial hours at a window's edges are counted from deliveries. Rows of a
-- deleted webhook go with it; rows left at zero are pruned.
CREATE TABLE delivery_stats (
    webhook_id           bigint      NOT NULL,
    hour                 timestamptz NOT NULL,
    event_type           text        NOT NULL,
    state                text        NOT NULL,
    error_type           text        NOT NULL,
    deliveries           bigint      NOT NULL,
    attempts             bigint      NOT NULL,
    attempted            bigint      NOT NULL, -- deliveries with at least one attempt
    response_time_sum_ms bigint      NOT NULL,
    PRIMARY KEY (webhook_id, hour, event_type, state, error_type)
) WITH (fillfactor = 70, autovacuum_vacuum_scale_factor = 0.0, autovacuum_vacuum_threshold = 1000);

-- The hot queue: one row per pending delivery, deleted when it finishes.
-- While leased, next_attempt_at is the lease's end, so an abandoned lease
-- makes the delivery due again by itself. Rows are small and short-lived;
-- autovacuum visits as soon as a few hundred are dead.
CREATE TABLE delivery_queue (
    delivery_id     bigint      PRIMARY KEY,
    webhook_id      bigint      NOT NULL,
    next_attempt_at timestamptz NOT NULL,
    lease_token     uuid
) WITH (
    fillfactor = 70,
    autovacuum_vacuum_scale_factor = 0.0,
    autovacuum_vacuum_threshold = 500,
    autovacuum_vacuum_insert_scale_factor = 0.0,
    autovacuum_vacuum_insert_threshold = 1000,
    autovacuum_analyze_scale_factor = 0.05,
    autovacuum_vacuum_cost_delay = 0
);
CREATE INDEX delivery_queue_due ON delivery_queue (next_attempt_at, delivery_id);

CREATE TABLE attempts (
    delivery_id      bigint      NOT NULL,
    number           integer     NOT NULL,
    id               BIGSERIAL   NOT NULL,
    started_at       timestamptz NOT NULL,
    request_headers  jsonb       NOT NULL DEFAULT '{}',
    response_code    integer,
    response_body    text        NOT NULL DEFAULT '',
    response_time_ms bigint      NOT NULL DEFAULT 0,
    error_type       text        NOT NULL DEFAULT '',
    error_message    text        NOT NULL DEFAULT '',
    PRIMARY KEY (delivery_id, number)
) WITH (
    autovacuum_vacuum_scale_factor = 0.01,
    autovacuum_vacuum_threshold = 10000,
    autovacuum_vacuum_insert_scale_factor = 0.01,
    autovacuum_vacuum_insert_threshold = 10000
);
