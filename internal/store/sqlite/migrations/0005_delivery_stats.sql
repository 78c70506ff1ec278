-- Hourly rollup of a webhook's non-test deliveries by creation hour
-- (created_at / 3600000), event type, state and error type (the last
-- attempt's). The log page's total and summary and the stats read it
-- instead of counting deliveries; only the partial hours at a window's
-- edges are counted from deliveries. Cancelled deliveries are counted here
-- (the log total includes them); stats leave them out.
--
-- Triggers keep it up to date, so every write that changes a delivery
-- (publishing, completions, retries, recovery, cancelling, pruning,
-- erasure) updates it in its own transaction without knowing of it. Rows
-- left at zero are removed by pruning.
CREATE TABLE delivery_stats (
    webhook_id           INTEGER NOT NULL,
    hour                 INTEGER NOT NULL, -- created_at / 3600000
    event_type           TEXT    NOT NULL,
    state                TEXT    NOT NULL,
    error_type           TEXT    NOT NULL,
    deliveries           INTEGER NOT NULL,
    attempts             INTEGER NOT NULL,
    attempted            INTEGER NOT NULL, -- deliveries with at least one attempt
    response_time_sum_ms INTEGER NOT NULL,
    PRIMARY KEY (webhook_id, hour, event_type, state, error_type)
) WITHOUT ROWID;

INSERT INTO delivery_stats
SELECT webhook_id, created_at / 3600000, event_type, state, error_type,
    COUNT(*), SUM(attempts), SUM(attempts > 0), SUM(response_time_sum_ms)
FROM deliveries WHERE test = 0
GROUP BY webhook_id, created_at / 3600000, event_type, state, error_type;

CREATE TRIGGER delivery_stats_insert AFTER INSERT ON deliveries
WHEN NEW.test = 0
BEGIN
    INSERT INTO delivery_stats VALUES (NEW.webhook_id, NEW.created_at / 3600000, NEW.event_type,
        NEW.state, NEW.error_type, 1, NEW.attempts, NEW.attempts > 0, NEW.response_time_sum_ms)
    ON CONFLICT DO UPDATE SET deliveries = deliveries + 1, attempts = attempts + excluded.attempts,
        attempted = attempted + excluded.attempted,
        response_time_sum_ms = response_time_sum_ms + excluded.response_time_sum_ms;
END;

-- Only the columns the rollup groups or sums by; a lease or due time
-- changing fires nothing.
CREATE TRIGGER delivery_stats_update AFTER UPDATE OF state, attempts, error_type, response_time_sum_ms
ON deliveries
WHEN NEW.test = 0 AND (OLD.state <> NEW.state OR OLD.attempts <> NEW.attempts
    OR OLD.error_type <> NEW.error_type OR OLD.response_time_sum_ms <> NEW.response_time_sum_ms)
BEGIN
    UPDATE delivery_stats SET deliveries = deliveries - 1, attempts = attempts - OLD.attempts,
        attempted = attempted - (OLD.attempts > 0),
        response_time_sum_ms = response_time_sum_ms - OLD.response_time_sum_ms
    WHERE webhook_id = OLD.webhook_id AND hour = OLD.created_at / 3600000
        AND event_type = OLD.event_type AND state = OLD.state AND error_type = OLD.error_type;
    INSERT INTO delivery_stats VALUES (NEW.webhook_id, NEW.created_at / 3600000, NEW.event_type,
        NEW.state, NEW.error_type, 1, NEW.attempts, NEW.attempts > 0, NEW.response_time_sum_ms)
    ON CONFLICT DO UPDATE SET deliveries = deliveries + 1, attempts = attempts + excluded.attempts,
        attempted = attempted + excluded.attempted,
        response_time_sum_ms = response_time_sum_ms + excluded.response_time_sum_ms;
END;

CREATE TRIGGER delivery_stats_delete AFTER DELETE ON deliveries
WHEN OLD.test = 0
BEGIN
    UPDATE delivery_stats SET deliveries = deliveries - 1, attempts = attempts - OLD.attempts,
        attempted = attempted - (OLD.attempts > 0),
        response_time_sum_ms = response_time_sum_ms - OLD.response_time_sum_ms
    WHERE webhook_id = OLD.webhook_id AND hour = OLD.created_at / 3600000
        AND event_type = OLD.event_type AND state = OLD.state AND error_type = OLD.error_type;
END;

-- The log total counts test sends apart (they are not in delivery_stats).
CREATE INDEX deliveries_tests ON deliveries (webhook_id, created_at) WHERE test = 1;

-- Stats and the log summary no longer count over deliveries: the widest
-- index on the table goes, and every insert and completion writes one
-- index fewer.
DROP INDEX deliveries_stats;
