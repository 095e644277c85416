-- Idempotency keys of ingest requests: the same key on the same endpoint
-- within 24 h answers the first message again instead of storing another.
CREATE TABLE ingest_idempotency (
    endpoint_id     TEXT NOT NULL REFERENCES ingest_endpoints(id) ON DELETE CASCADE,
    idempotency_key TEXT NOT NULL,
    body_sha256     TEXT NOT NULL,
    message_id      TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    PRIMARY KEY (endpoint_id, idempotency_key)
);
-- The periodic purge of keys past their window.
CREATE INDEX ingest_idempotency_by_age ON ingest_idempotency (created_at);
