-- Token buckets shared by every node: the API's per-user rate limit and
-- each webhook's rate_limit (see ratelimit.go). One row per user or
-- webhook that was limited lately. UNLOGGED: no WAL for a row updated on
-- every API request; a crash empties the table, which only refills the
-- buckets. fillfactor leaves room for HOT updates.

CREATE UNLOGGED TABLE rate_buckets (
    key     text             PRIMARY KEY,
    tokens  double precision NOT NULL,  -- tokens left at "at"
    at      timestamptz      NOT NULL,  -- the latest clock reading the bucket saw
    granted boolean          NOT NULL,  -- whether the last take got a token
    full_at timestamptz      NOT NULL   -- when the bucket is full again: a row past it may go
) WITH (fillfactor = 50, autovacuum_vacuum_scale_factor = 0.0, autovacuum_vacuum_threshold = 1000);
