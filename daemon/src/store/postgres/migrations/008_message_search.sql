-- The operator's log search uses this trigram index over messages directly (no separate index table, no back-fill).
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX messages_search ON messages USING gin (content gin_trgm_ops);
