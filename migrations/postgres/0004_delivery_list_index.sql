-- The dashboard's delivery list without a status filter: newest change first.
CREATE INDEX deliveries_user_updated ON deliveries (user_id, updated_at, id);
