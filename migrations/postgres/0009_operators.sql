-- Operators: users who may install, upgrade, restrict and remove plugins
-- for everyone (`beacon user create --admin`, `beacon user promote`).
-- A 0/1 flag like every other.
ALTER TABLE users ADD COLUMN is_admin BIGINT NOT NULL DEFAULT 0;
