-- Queueing deliveries (publishing) and recording their first attempts
-- write the rollup themselves, once per group of a batch (webhook, hour,
-- event type, state, error type) instead of a statement or two per
-- delivery from the triggers. While delivery_stats_by_writer holds a row,
-- which it does only between statements of one such transaction, the
-- insert trigger leaves new deliveries to the writer, and the update
-- trigger first attempts (OLD.attempts = 0, hence no error type and no
-- response time yet). Every other change still goes through the triggers.
CREATE TABLE delivery_stats_by_writer (flag INTEGER NOT NULL);

DROP TRIGGER delivery_stats_insert;
CREATE TRIGGER delivery_stats_insert AFTER INSERT ON deliveries
WHEN NEW.test = 0 AND NOT EXISTS (SELECT 1 FROM delivery_stats_by_writer)
BEGIN
    INSERT INTO delivery_stats VALUES (NEW.webhook_id, NEW.created_at / 3600000, NEW.event_type,
        NEW.state, NEW.error_type, 1, NEW.attempts, NEW.attempts > 0, NEW.response_time_sum_ms)
    ON CONFLICT DO UPDATE SET deliveries = deliveries + 1, attempts = attempts + excluded.attempts,
        attempted = attempted + excluded.attempted,
        response_time_sum_ms = response_time_sum_ms + excluded.response_time_sum_ms;
END;

DROP TRIGGER delivery_stats_update;
CREATE TRIGGER delivery_stats_update AFTER UPDATE OF state, attempts, error_type, response_time_sum_ms
ON deliveries
WHEN NEW.test = 0 AND (OLD.state <> NEW.state OR OLD.attempts <> NEW.attempts
    OR OLD.error_type <> NEW.error_type OR OLD.response_time_sum_ms <> NEW.response_time_sum_ms)
    AND NOT (OLD.attempts = 0 AND EXISTS (SELECT 1 FROM delivery_stats_by_writer))
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
