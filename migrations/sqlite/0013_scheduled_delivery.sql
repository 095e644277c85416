-- Scheduled delivery: when a message's deliveries may leave (NULL: at once).
ALTER TABLE messages ADD COLUMN deliver_at INTEGER;
-- The dashboard's list of a user's scheduled messages.
CREATE INDEX messages_scheduled ON messages (user_id, deliver_at) WHERE deliver_at IS NOT NULL;
