-- A webhook's max_concurrency (docs/api.md §4): the most requests in
-- flight to its endpoint at once, NULL when only the fair share bounds it.
ALTER TABLE webhooks ADD COLUMN max_concurrency integer;
