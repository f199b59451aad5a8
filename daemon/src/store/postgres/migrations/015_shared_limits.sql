-- PostgreSQL twin of migrations/015_shared_limits.sql.
-- Rate limits that hold across several chatd instances on one database: one row a counted
-- attempt, `at` in milliseconds. UNLOGGED: a crash may forget recent attempts, which only
-- lets a few more through; in exchange no hit costs a WAL write.
CREATE UNLOGGED TABLE rate_hits (
    bucket TEXT NOT NULL,
    at     BIGINT NOT NULL
);
CREATE INDEX rate_hits_bucket ON rate_hits(bucket, at);
CREATE INDEX rate_hits_at ON rate_hits(at);
