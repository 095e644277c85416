-- Ingest spent about a third of PostgreSQL's CPU in foreign-key triggers: one
-- RI check per message for its user, one for its endpoint and one per tag row
-- for its message, each a separate query plus a row lock on a row that every
-- concurrent batch locks too (multixacts). Messages and their tags are only
-- ever removed with their account, and the storage layer's delete_user
-- removes them explicitly in the same transaction as the user, so these
-- constraints guarded nothing that code does not already do. Measured with
-- bench/ingest.sh; the SQLite schema keeps its foreign keys (they are cheap
-- there, and dropping one means rebuilding the table).
ALTER TABLE messages DROP CONSTRAINT messages_user_id_fkey;
ALTER TABLE messages DROP CONSTRAINT messages_endpoint_id_fkey;
ALTER TABLE message_tags DROP CONSTRAINT message_tags_message_id_fkey;
-- Only the cascade from messages used it; tag rows now go by user_id (the
-- primary key's first column).
DROP INDEX message_tags_message;
