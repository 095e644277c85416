-- Fewer index updates per ingested message (see the SQLite twin): no
-- priority index; tags keyed the way the tag filter looks them up.
DROP INDEX messages_user_priority;
ALTER TABLE message_tags DROP CONSTRAINT message_tags_pkey;
DROP INDEX message_tags_user_tag;
ALTER TABLE message_tags ADD PRIMARY KEY (user_id, tag, message_id);
CREATE INDEX message_tags_message ON message_tags (message_id);
