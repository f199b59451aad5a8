-- PostgreSQL twin of migrations/017_instances.sql.
-- The chatd instances sharing the database and when each was last seen (unix seconds, by the
-- database's clock, so that no instance's clock decides another's death), and since when it
-- has beaten without a gap: only an instance that has may take another for dead.
CREATE TABLE instances (
    name TEXT PRIMARY KEY,
    started_at BIGINT NOT NULL,
    beating_since BIGINT NOT NULL,
    seen_at BIGINT NOT NULL
);
-- The dead-instance sweep finds an instance's answers still being written.
CREATE INDEX messages_streaming_instance ON messages (instance) WHERE status = 'streaming';
