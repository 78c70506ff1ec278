-- hookd's embedded schema. Times are INTEGER unix milliseconds, UTC.

CREATE TABLE webhooks (
    id                         INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant                     TEXT    NOT NULL,
    user_id                    TEXT    NOT NULL,
    name                       TEXT    NOT NULL,
    description                TEXT    NOT NULL DEFAULT '',
    url                        TEXT    NOT NULL,
    events                     TEXT    NOT NULL,            -- JSON array of patterns
    headers                    TEXT    NOT NULL,            -- sealed JSON object
    secret                     TEXT    NOT NULL,            -- sealed
    previous_secret            TEXT,                        -- sealed
    previous_secret_expires_at INTEGER,
    is_active                  INTEGER NOT NULL,
    disabled_reason            TEXT    NOT NULL DEFAULT '',
    retry_config               TEXT    NOT NULL,            -- JSON
    filters                    TEXT    NOT NULL,            -- JSON
    rate_limit                 INTEGER,
    created_at                 INTEGER NOT NULL,
    updated_at                 INTEGER NOT NULL,
    kind                       TEXT    NOT NULL DEFAULT '', -- '' for users' webhooks, else an integration's
    config                     TEXT,                        -- sealed JSON: an integration's settings
    lookup_key                 TEXT    NOT NULL DEFAULT ''  -- e.g. a hash of an integration's API key
);
CREATE INDEX webhooks_owner ON webhooks (tenant, user_id, kind);
CREATE INDEX webhooks_lookup ON webhooks (kind, lookup_key) WHERE lookup_key != '';

-- Delivery counters of a webhook, kept up to date by every write that
-- changes a delivery's state (pruning included), so they always equal a
-- count over its kept deliveries and lists never count over deliveries.
-- response_samples is the number of attempts. Test sends are not counted.
CREATE TABLE webhook_counters (
    webhook_id             INTEGER PRIMARY KEY REFERENCES webhooks (id) ON DELETE CASCADE,
    success_count          INTEGER NOT NULL DEFAULT 0,
    failure_count          INTEGER NOT NULL DEFAULT 0,
    pending_count          INTEGER NOT NULL DEFAULT 0,
    response_time_total_ms INTEGER NOT NULL DEFAULT 0,
    response_samples       INTEGER NOT NULL DEFAULT 0,
    last_response_ms       INTEGER,
    last_attempt_at        INTEGER,
    consecutive_failures   INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE event_types (
    tenant          TEXT    NOT NULL,
    name            TEXT    NOT NULL,
    description     TEXT    NOT NULL DEFAULT '',
    category        TEXT    NOT NULL DEFAULT '',
    version         TEXT    NOT NULL DEFAULT '',
    deprecated      INTEGER NOT NULL DEFAULT 0,
    payload_schema  TEXT    NOT NULL,
    example_payload TEXT,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    PRIMARY KEY (tenant, name)
) WITHOUT ROWID;

-- seq never goes back (AUTOINCREMENT), even after pruning: streams resume by it.
CREATE TABLE events (
    seq                  INTEGER PRIMARY KEY AUTOINCREMENT,
    id                   TEXT    NOT NULL UNIQUE,
    tenant               TEXT    NOT NULL,
    publisher            TEXT    NOT NULL DEFAULT '',
    type                 TEXT    NOT NULL,
    version              TEXT    NOT NULL DEFAULT '',
    payload              TEXT    NOT NULL,
    idempotency_key      TEXT    NOT NULL DEFAULT '',
    webhooks_matched     INTEGER NOT NULL DEFAULT 0,
    integrations_matched INTEGER NOT NULL DEFAULT 0,
    test                 INTEGER NOT NULL DEFAULT 0,
    created_at           INTEGER NOT NULL
);
CREATE INDEX events_tenant_type ON events (tenant, type, test, created_at);
CREATE INDEX events_tenant_seq ON events (tenant, seq);

CREATE TABLE idempotency_keys (
    tenant     TEXT    NOT NULL,
    key        TEXT    NOT NULL,
    event_seq  INTEGER NOT NULL REFERENCES events (seq) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (tenant, key)
) WITHOUT ROWID;
CREATE INDEX idempotency_keys_event ON idempotency_keys (event_seq);

-- One event's delivery to one webhook. webhook_id has no foreign key: the
-- history of a deleted webhook stays (cancelled or finished) until pruned.
-- The last attempt's body and error message live in attempts (joined on
-- number = attempts) to keep these rows small.
CREATE TABLE deliveries (
    id                   INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant               TEXT    NOT NULL,
    webhook_id           INTEGER NOT NULL,
    event_seq            INTEGER NOT NULL REFERENCES events (seq),
    event_type           TEXT    NOT NULL,
    state                TEXT    NOT NULL,
    attempts             INTEGER NOT NULL DEFAULT 0,
    next_attempt_at      INTEGER,
    lease_token          TEXT,
    lease_until          INTEGER,
    test                 INTEGER NOT NULL DEFAULT 0,
    response_code        INTEGER,
    response_time_ms     INTEGER,
    response_time_sum_ms INTEGER NOT NULL DEFAULT 0, -- over all attempts, for averages
    error_type           TEXT    NOT NULL DEFAULT '',
    created_at           INTEGER NOT NULL,
    updated_at           INTEGER NOT NULL,
    completed_at         INTEGER
);
-- The queue: only pending rows, by due time.
-- webhook_id is in the index so a claim can skip held and excluded rows
-- without reading them.
CREATE INDEX deliveries_queue ON deliveries (next_attempt_at, webhook_id) WHERE state = 'pending';
-- A webhook's logs, newest first, within a time window.
CREATE INDEX deliveries_logs ON deliveries (webhook_id, created_at);
-- A webhook's stats, answered from this index alone and in its order (no
-- sort): grouped by hour of created_at, event type, state and error type.
-- Queries must spell the hour as "created_at / 3600000" to use it.
CREATE INDEX deliveries_stats ON deliveries
    (webhook_id, (created_at / 3600000), event_type, state, error_type, created_at, test, attempts,
     response_time_sum_ms);
CREATE INDEX deliveries_event ON deliveries (event_seq);

CREATE TABLE attempts (
    id               INTEGER PRIMARY KEY,
    delivery_id      INTEGER NOT NULL REFERENCES deliveries (id) ON DELETE CASCADE,
    number           INTEGER NOT NULL,
    started_at       INTEGER NOT NULL,
    request_headers  TEXT    NOT NULL DEFAULT '{}',
    response_code    INTEGER,
    response_body    TEXT    NOT NULL DEFAULT '',
    response_time_ms INTEGER NOT NULL DEFAULT 0,
    error_type       TEXT    NOT NULL DEFAULT '',
    error_message    TEXT    NOT NULL DEFAULT '',
    UNIQUE (delivery_id, number)
);
