-- Expired leases are found by status and lease time (a worker died mid-send).
CREATE INDEX deliveries_lease ON deliveries (status, lease_expires_at);
