-- Beacon Spear initial schema (PostgreSQL). Keep in step with ../sqlite/0001_initial.sql.
-- Ids are time-ordered UUIDv7 in 32-hex form; times are Unix milliseconds;
-- JSON is stored as text; flags are 0/1 integers. These choices keep the two
-- databases' rows identical so one storage layer serves both.

CREATE TABLE users (
    id                TEXT PRIMARY KEY,
    email             TEXT NOT NULL,
    email_lower       TEXT NOT NULL UNIQUE,
    password_hash     TEXT NOT NULL,
    email_verified_at BIGINT,
    disabled_at       BIGINT,
    created_at        BIGINT NOT NULL,
    updated_at        BIGINT NOT NULL
);

-- One-time tokens mailed to users: e-mail verification, e-mail change, password reset.
CREATE TABLE user_tokens (
    id         TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    purpose    TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    new_email  TEXT,
    expires_at BIGINT NOT NULL,
    used_at    BIGINT,
    created_at BIGINT NOT NULL
);
CREATE INDEX user_tokens_user ON user_tokens (user_id, purpose);

CREATE TABLE refresh_tokens (
    id         TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    family_id  TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    expires_at BIGINT NOT NULL,
    rotated_at BIGINT,
    revoked_at BIGINT,
    created_at BIGINT NOT NULL
);
CREATE INDEX refresh_tokens_family ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_user ON refresh_tokens (user_id);

CREATE TABLE ingest_endpoints (
    id           TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    key_hash     TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    revoked_at   BIGINT,
    archived_at  BIGINT,
    last_used_at BIGINT
);
CREATE INDEX ingest_endpoints_user ON ingest_endpoints (user_id, id);

CREATE TABLE messages (
    id            TEXT PRIMARY KEY,
    user_id       TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    endpoint_id   TEXT NOT NULL REFERENCES ingest_endpoints(id) ON DELETE CASCADE,
    received_at   BIGINT NOT NULL,
    title         TEXT,
    body          TEXT NOT NULL,
    group_name    TEXT,
    priority      BIGINT NOT NULL,
    tags          TEXT NOT NULL,
    url           TEXT,
    extras        TEXT NOT NULL,
    content_type  TEXT NOT NULL,
    remote_ip     TEXT,
    user_agent    TEXT,
    headers       TEXT NOT NULL,
    query         TEXT NOT NULL,
    size_bytes    BIGINT NOT NULL,
    filter_errors TEXT,
    deleted_at    BIGINT
);
-- Newest-first listing per user and per endpoint; ids are time-ordered.
CREATE INDEX messages_user ON messages (user_id, id);
CREATE INDEX messages_endpoint ON messages (endpoint_id, id);
CREATE INDEX messages_user_group ON messages (user_id, group_name, id);
CREATE INDEX messages_user_priority ON messages (user_id, priority, id);

-- Lower-cased tags, one row each, so the tag filter is an index lookup.
CREATE TABLE message_tags (
    message_id TEXT NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
    user_id    TEXT NOT NULL,
    tag        TEXT NOT NULL,
    PRIMARY KEY (message_id, tag)
);
CREATE INDEX message_tags_user_tag ON message_tags (user_id, tag, message_id);

CREATE TABLE channels (
    id         TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name       TEXT NOT NULL,
    plugin     TEXT NOT NULL,
    config     TEXT NOT NULL,
    enabled    BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX channels_user ON channels (user_id, id);

CREATE TABLE rules (
    id               TEXT PRIMARY KEY,
    user_id          TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name             TEXT NOT NULL,
    enabled          BIGINT NOT NULL,
    channel_id       TEXT NOT NULL REFERENCES channels(id) ON DELETE CASCADE,
    filter           TEXT NOT NULL,
    extra_filters    TEXT NOT NULL,
    payload_template TEXT NOT NULL,
    created_at       BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL
);
CREATE INDEX rules_user ON rules (user_id, id);
CREATE INDEX rules_channel ON rules (channel_id);

-- The delivery table is the queue: one row per (message, rule).
CREATE TABLE deliveries (
    id               TEXT PRIMARY KEY,
    user_id          TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    message_id       TEXT NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
    rule_id          TEXT REFERENCES rules(id) ON DELETE SET NULL,
    channel_id       TEXT REFERENCES channels(id) ON DELETE SET NULL,
    status           TEXT NOT NULL,
    attempt_count    BIGINT NOT NULL,
    next_attempt_at  BIGINT NOT NULL,
    lease_expires_at BIGINT,
    leased_by        TEXT,
    last_error       TEXT,
    created_at       BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL,
    sent_at          BIGINT
);
CREATE INDEX deliveries_due ON deliveries (status, next_attempt_at);
CREATE INDEX deliveries_message ON deliveries (message_id);
CREATE INDEX deliveries_user_status ON deliveries (user_id, status, updated_at);
CREATE INDEX deliveries_rule ON deliveries (rule_id);
CREATE INDEX deliveries_channel ON deliveries (channel_id);

CREATE TABLE delivery_attempts (
    id               TEXT PRIMARY KEY,
    delivery_id      TEXT NOT NULL REFERENCES deliveries(id) ON DELETE CASCADE,
    attempt_no       BIGINT NOT NULL,
    started_at       BIGINT NOT NULL,
    duration_ms      BIGINT NOT NULL,
    outcome          TEXT NOT NULL,
    http_status      BIGINT,
    error            TEXT,
    response_snippet TEXT,
    response_json    TEXT
);
CREATE INDEX delivery_attempts_delivery ON delivery_attempts (delivery_id, attempt_no);

CREATE TABLE worker_heartbeats (
    worker_id    TEXT PRIMARY KEY,
    last_seen_at BIGINT NOT NULL
);
