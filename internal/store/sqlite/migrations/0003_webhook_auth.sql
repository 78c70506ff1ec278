-- A webhook's endpoint authentication (docs/api.md §12): sealed JSON,
-- NULL when the webhook has none.
ALTER TABLE webhooks ADD COLUMN auth TEXT;
