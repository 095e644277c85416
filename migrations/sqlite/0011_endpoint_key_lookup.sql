-- Compatible ingest (Bark, Gotify) names only the key, not the endpoint:
-- find the endpoint by its key's hash.
CREATE INDEX ingest_endpoints_by_key_hash ON ingest_endpoints (key_hash);
