-- Integrations' rows (webhooks.kind != '') take ids from a range of their
-- own, from hookd.FirstIntegrationRowID (2^40) up, so users' webhooks
-- number 1, 2, 3… whatever integrations were configured. The insert path
-- takes the next id of the row's range from webhook_id_ranges (rows are
-- inserted with their id; sqlite_sequence is no longer read).
--
-- Existing integration rows move into their range, with everything that
-- names them (counters, deliveries and their hourly rollup; attempts
-- follow their delivery), in this one transaction. The counters' foreign key is checked at commit.
PRAGMA defer_foreign_keys = ON;

-- The last id handed out in each range: 'webhook' (kind '') and
-- 'integration'.
CREATE TABLE webhook_id_ranges (
    name    TEXT    PRIMARY KEY,
    last_id INTEGER NOT NULL
) WITHOUT ROWID;

-- Which id each moved integration row had before, kept for reference
-- (e.g. a Zapier subscription id known by its old number).
CREATE TABLE webhook_id_moves (
    old_id INTEGER PRIMARY KEY,
    new_id INTEGER NOT NULL UNIQUE
);

INSERT INTO webhook_id_moves (old_id, new_id)
SELECT id, 1099511627775 + ROW_NUMBER() OVER (ORDER BY id)
FROM webhooks WHERE kind != '' AND id < 1099511627776;

UPDATE webhooks SET id = (SELECT new_id FROM webhook_id_moves WHERE old_id = webhooks.id)
WHERE id IN (SELECT old_id FROM webhook_id_moves);
UPDATE webhook_counters SET webhook_id = (SELECT new_id FROM webhook_id_moves WHERE old_id = webhook_counters.webhook_id)
WHERE webhook_id IN (SELECT old_id FROM webhook_id_moves);
UPDATE deliveries SET webhook_id = (SELECT new_id FROM webhook_id_moves WHERE old_id = deliveries.webhook_id)
WHERE webhook_id IN (SELECT old_id FROM webhook_id_moves);
UPDATE delivery_stats SET webhook_id = (SELECT new_id FROM webhook_id_moves WHERE old_id = delivery_stats.webhook_id)
WHERE webhook_id IN (SELECT old_id FROM webhook_id_moves);

-- The next webhook id follows the highest user webhook, or the highest id
-- that kept deliveries of a deleted row still name if that is higher: an
-- id taken before by an integration row is given again, but never one
-- whose history is still there to be mistaken for the new webhook's.
INSERT INTO webhook_id_ranges (name, last_id)
SELECT 'webhook', MAX(
    COALESCE((SELECT MAX(id) FROM webhooks WHERE kind = '' AND id < 1099511627776), 0),
    COALESCE((SELECT MAX(d.webhook_id) FROM deliveries d
              WHERE d.webhook_id < 1099511627776
                AND d.webhook_id > COALESCE((SELECT MAX(id) FROM webhooks WHERE kind = '' AND id < 1099511627776), 0)
                AND NOT EXISTS (SELECT 1 FROM webhooks w WHERE w.id = d.webhook_id)), 0));
INSERT INTO webhook_id_ranges (name, last_id)
SELECT 'integration', MAX(1099511627775, COALESCE((SELECT MAX(id) FROM webhooks WHERE id >= 1099511627776), 0));
