-- A webhook's health between batches of results (hookd.WebhookHealth):
-- attempts in a row that failed, and when webhook.failing was announced
-- (NULL while the webhook is not failing).
ALTER TABLE webhook_counters ADD COLUMN failed_attempts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE webhook_counters ADD COLUMN failing_since INTEGER;
