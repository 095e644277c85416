-- Job health: when each worker last finished a database round, and how many
-- rounds in a row failed (readiness and `beacon status` report both).
ALTER TABLE worker_heartbeats ADD COLUMN last_round_at BIGINT;
ALTER TABLE worker_heartbeats ADD COLUMN consecutive_failures INTEGER NOT NULL DEFAULT 0;
