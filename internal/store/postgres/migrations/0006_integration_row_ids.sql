-- Integrations' rows (webhooks.kind != '') take ids from a sequence of
-- their own, from hookd.FirstIntegrationRowID (2^40) up, so users'
-- webhooks (webhooks_id_seq) number 1, 2, 3… whatever integrations were
-- configured. The insert path picks the sequence by kind.
--
-- Existing integration rows move into their range, with everything that
-- names them (counters, deliveries, the queue, stats, rate buckets), in
-- this one transaction.
CREATE SEQUENCE webhooks_integration_id_seq AS bigint MINVALUE 1099511627776 START 1099511627776;

-- Which id each moved integration row had before, kept for reference
-- (e.g. a Zapier subscription id known by its old number).
CREATE TABLE webhook_id_moves (
    old_id bigint PRIMARY KEY,
    new_id bigint NOT NULL UNIQUE
);

INSERT INTO webhook_id_moves (old_id, new_id)
SELECT id, 1099511627775 + row_number() OVER (ORDER BY id)
FROM webhooks WHERE kind <> '' AND id < 1099511627776;

-- The counters' foreign key has no ON UPDATE action: it comes off while
-- both sides move and goes back as it was.
ALTER TABLE webhook_counters DROP CONSTRAINT webhook_counters_webhook_id_fkey;
UPDATE webhooks w SET id = m.new_id FROM webhook_id_moves m WHERE w.id = m.old_id;
UPDATE webhook_counters c SET webhook_id = m.new_id FROM webhook_id_moves m WHERE c.webhook_id = m.old_id;
UPDATE deliveries d SET webhook_id = m.new_id FROM webhook_id_moves m WHERE d.webhook_id = m.old_id;
UPDATE delivery_queue q SET webhook_id = m.new_id FROM webhook_id_moves m WHERE q.webhook_id = m.old_id;
UPDATE delivery_stats s SET webhook_id = m.new_id FROM webhook_id_moves m WHERE s.webhook_id = m.old_id;
UPDATE rate_buckets b SET key = 'webhook:' || m.new_id FROM webhook_id_moves m WHERE b.key = 'webhook:' || m.old_id;
ALTER TABLE webhook_counters ADD CONSTRAINT webhook_counters_webhook_id_fkey
    FOREIGN KEY (webhook_id) REFERENCES webhooks (id) ON DELETE CASCADE;

SELECT setval('webhooks_integration_id_seq', max(id)) FROM webhooks WHERE id >= 1099511627776;

-- The next webhook id follows the highest user webhook, or the highest id
-- that kept deliveries of a deleted row still name if that is higher: an
-- id taken before by an integration row is given again, but never one
-- whose history is still there to be mistaken for the new webhook's.
WITH u AS (
    SELECT COALESCE(max(id), 0) AS top FROM webhooks WHERE kind = '' AND id < 1099511627776
), o AS (
    SELECT COALESCE(max(d.webhook_id), 0) AS top FROM deliveries d, u
    WHERE d.webhook_id > u.top AND d.webhook_id < 1099511627776
      AND NOT EXISTS (SELECT 1 FROM webhooks w WHERE w.id = d.webhook_id)
)
SELECT setval('webhooks_id_seq', GREATEST(u.top, o.top, 1), GREATEST(u.top, o.top) > 0) FROM u, o;
