-- Key-value state of plugins (the `kv` capability): scoped by the host to one
-- filter plugin on one rule (`rule:<id>:<plugin>`) or to one channel
-- (`channel:<id>`); `owner` names the rule or channel, whose deletion drops
-- every bucket it owns. A value is either
-- bytes (`value`) or a counter (`counter`); `expires_at` (ms) is NULL for keys
-- that never expire. Expired rows read as absent and are purged in the
-- background (the partial index finds them).
CREATE TABLE plugin_kv (
    scope      TEXT NOT NULL,
    key        TEXT NOT NULL,
    owner      TEXT NOT NULL,
    user_id    TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    value      BLOB,
    counter    BIGINT NOT NULL DEFAULT 0,
    expires_at BIGINT,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (scope, key)
);
CREATE INDEX plugin_kv_expiry ON plugin_kv (expires_at) WHERE expires_at IS NOT NULL;
CREATE INDEX plugin_kv_user ON plugin_kv (user_id);
CREATE INDEX plugin_kv_owner ON plugin_kv (owner);
