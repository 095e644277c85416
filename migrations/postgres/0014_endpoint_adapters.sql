-- Ingest adapters: an endpoint may turn webhook requests into messages
-- through an adapter plugin (NULL: the native ingest body). The config is
-- encrypted like a channel's (associated data "endpoint:<id>").
ALTER TABLE ingest_endpoints ADD COLUMN adapter_plugin TEXT;
ALTER TABLE ingest_endpoints ADD COLUMN adapter_version TEXT;
ALTER TABLE ingest_endpoints ADD COLUMN adapter_config TEXT;
