-- Rate limits that hold across several chatd instances on one database: one row a counted
-- attempt (login, sign-up, card redemption, question), `at` in milliseconds. Used on
-- PostgreSQL; a single SQLite instance keeps these counts in memory and leaves this empty.
CREATE TABLE rate_hits (
    bucket TEXT NOT NULL,
    at     INTEGER NOT NULL
);
CREATE INDEX rate_hits_bucket ON rate_hits(bucket, at);
CREATE INDEX rate_hits_at ON rate_hits(at);
