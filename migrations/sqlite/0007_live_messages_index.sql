-- Every query that walks a user's messages by id (the list, the home chart,
-- batch delete and its count) asks for live rows only. With the full index,
-- batch delete in steps re-read every row an earlier step had soft-deleted
-- (oldest first, so they sit at the front of the range): each step cost more
-- than the last. The partial index holds live rows only.
DROP INDEX messages_user;
CREATE INDEX messages_user_live ON messages (user_id, id) WHERE deleted_at IS NULL;
