-- A webhook's queue rows in due order: a claim that leaves some webhooks
-- out (their lanes are full) finds the others' due rows here instead of
-- reading past the excluded webhooks' backlog in delivery_queue_due.
CREATE INDEX delivery_queue_webhook ON delivery_queue (webhook_id, next_attempt_at, delivery_id);
