-- Claiming due work reads the oldest pending deliveries in time order, and
-- the sending ones whose lease ran out. The (status, …) indexes could not give
-- time order for two statuses at once, so every claim sorted the whole queue.
-- Partial indexes hold exactly the rows each claim looks at, in order (and
-- sent or failed rows leave them, which keeps them small).
DROP INDEX deliveries_due;
DROP INDEX deliveries_lease;
CREATE INDEX deliveries_pending ON deliveries (next_attempt_at) WHERE status IN ('queued', 'retry');
CREATE INDEX deliveries_leased ON deliveries (lease_expires_at) WHERE status = 'sending';
