-- Fewer B-trees per ingested message. A priority range cannot serve the
-- newest-first order, so the filter runs on messages_user instead; tags live
-- in one clustered tree keyed the way the tag filter looks them up.
DROP INDEX messages_user_priority;

CREATE TABLE message_tags_new (
    user_id    TEXT NOT NULL,
    tag        TEXT NOT NULL,
    message_id TEXT NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
    PRIMARY KEY (user_id, tag, message_id)
) WITHOUT ROWID;
INSERT INTO message_tags_new (user_id, tag, message_id) SELECT user_id, tag, message_id FROM message_tags;
DROP TABLE message_tags;
ALTER TABLE message_tags_new RENAME TO message_tags;
CREATE INDEX message_tags_message ON message_tags (message_id);
